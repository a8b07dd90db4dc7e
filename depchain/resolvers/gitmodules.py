"""``.gitmodules``: git submodules, source trees compiled into (or shipped with) the
project: each a component with its URL and path, joined by a ``static`` edge
(mechanism ``git-submodule``); the pinned commit comes from the git index when the
repository is there (``.git/index``, read as a file).

A submodule checked out where the folders give a role other than ``runtime``
(``tests/test_artifacts/git/flask``, ``docs/theme``, ``benchmarks/data``) is not
carried into what the project ships: its edge is ``build`` (scope ``dev``, or
``required`` under a ``build`` folder), whatever the role of the ``.gitmodules`` file
that lists it, which sits at the top of the repository."""

from __future__ import annotations

import configparser
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from depchain.errors import InputFileError
from depchain.ids import purl, vcs_uri
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Role,
    Scope,
    Source,
    SourceKind,
)
from depchain.native.gitindex import GitIndexError, git_dir, gitlinks
from depchain.redaction import quote
from depchain.resolvers.base import LineIndex, ResolveContext, ini_problem, refuse_long_ini_lines
from depchain.roles import role_from_place

NAME = "gitmodules"


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    refuse_long_ini_lines(text, display)
    try:
        parser.read_string(text, source=display)
    except configparser.Error as exc:
        raise InputFileError(display, f"invalid .gitmodules: {ini_problem(exc)}") from None
    subject = ctx.subject_for(path)
    lines = LineIndex(text)
    errors: list[InputError] = []
    wanted = {parser.get(s, "path", fallback="").strip("/") for s in parser.sections()} - {""}
    pins, note = _pins(path.parent, wanted, ctx.max_file_size)
    if note:
        errors.append(InputError(display, note))
    components: list[Component] = [subject]
    deps: list[Dependency] = []
    for section in parser.sections():
        m = re.match(r'^submodule\s+"(.+)"$', section)
        if not m:
            continue
        name = m.group(1)
        header = next(
            (
                i + 1
                for i, line in enumerate(lines.lines)
                if line.strip().startswith("[submodule") and f'"{name}"' in line
            ),
            None,
        )
        url = parser.get(section, "url", fallback=None)
        sub_path = parser.get(section, "path", fallback=None)
        if url is not None and len(url.split()) > 1:
            errors.append(
                InputError(
                    display, f"line {header}: submodule {quote(name)}: its url is not one value"
                )
            )
            continue
        if not url or not sub_path:
            where = f"line {header}: " if header else ""
            missing = "url" if not url else "path"
            errors.append(InputError(display, f"{where}submodule {quote(name)} has no {missing}"))
            continue
        commit = pins.get(sub_path.strip("/"))
        branch = parser.get(section, "branch", fallback=None)
        placed = _role(ctx.display(path.parent), sub_path)
        component = _component(url, sub_path, commit, branch, Evidence(display, header, NAME))
        if placed is not None:
            role, why = placed
            component = replace(
                component,
                properties=(
                    *component.properties,
                    ("depchain:submodule-role", f"{role.value} ({why})"),
                ),
            )
        components.append(component)
        kind, scope = DependencyKind.STATIC, Scope.REQUIRED
        if placed is not None:
            kind = DependencyKind.BUILD
            scope = Scope.REQUIRED if placed[0] is Role.BUILD else Scope.DEV
        deps.append(
            Dependency(
                subject.id,
                component.id,
                kind,
                scope,
                "git-submodule",
                (Evidence(display, header, NAME),),
            )
        )
    return Fragment(components=tuple(components), dependencies=tuple(deps), errors=tuple(errors))


def _role(folder: str, sub_path: str) -> tuple[Role, str] | None:
    """The role the folders of a submodule's checkout give it (relative to the scanned
    folder), None for a runtime one: ``tests/pypi`` is the tests'."""
    rel = PurePosixPath(folder if folder not in {"", "."} else ".") / sub_path.strip("/")
    placed = role_from_place(rel / "-")  # the checkout's folders, itself among them
    if placed is None or placed[0] is Role.RUNTIME:
        return None
    return placed


def _pins(worktree: Path, wanted: set[str], max_bytes: int) -> tuple[dict[str, str], str | None]:
    """The commits the git index pins for ``wanted``, read entry by entry and no
    further than they are found (or ``max_bytes``)."""
    repo = git_dir(worktree)
    if repo is None or not (repo / "index").is_file():
        return {}, None  # no repository here (an exported tree): commits unknown
    try:
        with (repo / "index").open("rb") as handle:
            return gitlinks(handle, wanted, max_bytes), None
    except (GitIndexError, OSError) as exc:
        return {}, f"pinned commits unknown: {exc}"


def _component(
    url: str, sub_path: str, commit: str | None, branch: str | None, evidence: Evidence
) -> Component:
    url = vcs_uri(url)
    parts = urlsplit(url if "://" in url else f"ssh://{url.replace(':', '/', 1)}")
    segments = [s for s in parts.path.split("/") if s]
    repo = segments[-1].removesuffix(".git") if segments else sub_path.rsplit("/", 1)[-1]
    if parts.hostname == "github.com" and len(segments) >= 2:
        ident = purl("github", repo, commit, namespace=segments[-2])
    else:
        ident = purl("generic", repo, commit, qualifiers=(("vcs_url", f"git+{url}"),))
    props = [("depchain:submodule-path", sub_path)]
    if commit is None:
        props.append(("depchain:commit", "unknown: no git index to read"))
    return Component(
        id=ident,
        name=repo,
        ecosystem=ident[4:].split("/", 1)[0],
        version=commit,
        purl=ident,
        sources=(Source(SourceKind.VCS, url=f"git+{url}", ref=branch, commit=commit),),
        evidence=(evidence,),
        properties=tuple(props),
    )
