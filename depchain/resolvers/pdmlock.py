"""``pdm.lock`` (lock_version 4.x; 3.x hashes in ``[metadata.files]`` are read too):
every locked package, its groups, sources, hashes and PEP 508 dependencies.

The edges to the project follow the poetry.lock rules (see poetrylock), group
``default`` being the main one. A group that is an extra of the project (a key of
``[project.optional-dependencies]`` in the pyproject.toml beside the lock) gives optional
``dynamic`` edges (mechanism ``extra``); the other groups are development groups. An
entry with ``extras`` (pdm locks ``pkg[extra]`` as a second entry of the same version)
adds that extra's dependencies as optional edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from depchain.errors import InputFileError
from depchain.fileio import parse_toml
from depchain.ids import pypi_component, vcs_uri
from depchain.model import Fragment, Source, SourceKind
from depchain.redaction import quote
from depchain.resolvers._lock import (
    LockBuilder,
    Locked,
    grouped_lock,
    hashes,
    local_path,
    pick,
)
from depchain.resolvers.base import ResolveContext, is_full_commit

NAME = "pdm-lock"

_MAIN = "default"
_VCS = ("git", "hg", "svn", "bzr")
_SIMPLE = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[(?P<extras>[A-Za-z0-9._,\s-]*)\])?\s*"
    r"(?P<spec>(?:(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*,?\s*)*)"
    r"(?:;\s*(?P<marker>\S.*?))?\s*"
)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    packages, metadata = _entries(parse_toml(text, display), display)
    files = metadata.get("files")
    old_files: dict[str, Any] = files if isinstance(files, dict) else {}
    return grouped_lock(
        path,
        ctx,
        text,
        packages,
        NAME,
        old_files,
        _MAIN,
        _read_package,
        _package_edges,
        _extras(path, ctx),
    )


def _extras(path: Path, ctx: ResolveContext) -> frozenset[str]:
    """The extras of the project the lock is for (``[project.optional-dependencies]`` of
    the pyproject.toml beside it): pdm locks them as groups, next to the development
    groups (``[dependency-groups]``, ``[tool.pdm.dev-dependencies]``); without that file
    every non-default group is taken as a development group."""
    try:
        data = ctx.load_toml(path.parent / "pyproject.toml")
    except InputFileError:
        return frozenset()  # absent, or unreadable: the pyproject's own scan reports it
    project = data.get("project")
    extras = project.get("optional-dependencies") if isinstance(project, dict) else None
    if not isinstance(extras, dict):
        return frozenset()
    return frozenset(str(canonicalize_name(str(name))) for name in extras)


def _entries(data: dict[str, Any], display: str) -> tuple[list[Any], dict[str, Any]]:
    packages = data.get("package")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise InputFileError(display, "no [metadata] table: not a pdm.lock")
    if not isinstance(packages, (list, type(None))):
        raise InputFileError(display, "'package' is not an array of tables")
    version = metadata.get("lock_version")
    if isinstance(version, str) and not version.startswith(("3.", "4.")):
        raise InputFileError(display, f"unsupported pdm.lock lock_version {version!r}")
    return packages or [], metadata


def _read_package(
    lock: LockBuilder,
    raw: Any,
    line: int | None,
    old_files: dict[str, Any],
    folder: str,
) -> Locked | None:
    named = lock.named_entry(raw, line, version_required=True)
    if named is None:
        return None
    entry, name, version = named
    files = entry.get("files")
    if not isinstance(files, list):
        files = old_files.get(f"{name} {version}", [])
    component = pypi_component(
        name,
        version,
        lock.evidence(line),
        sources=(_source(entry, folder),),
        hashes=hashes(f.get("hash") for f in files if isinstance(f, dict)),
    )
    groups = entry.get("groups", entry.get("sections"))
    marker = entry.get("marker")
    return Locked(
        component,
        line,
        tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
        markers=(("", marker),) if isinstance(marker, str) else (),
    )


def _source(entry: dict[str, Any], folder: str) -> Source:
    for vcs in _VCS:
        url = entry.get(vcs)
        if isinstance(url, str):
            ref, revision = entry.get("ref"), entry.get("revision")
            subdirectory = entry.get("subdirectory")
            full = isinstance(revision, str) and is_full_commit(revision.lower())
            return Source(
                SourceKind.VCS,
                url=vcs_uri(url if url.startswith(f"{vcs}+") else f"{vcs}+{url}"),
                ref=ref if isinstance(ref, str) else None,
                commit=revision.lower() if full and isinstance(revision, str) else None,
                subdirectory=subdirectory if isinstance(subdirectory, str) else None,
            )
    if isinstance(entry.get("path"), str):
        return Source(
            SourceKind.PATH,
            url=local_path(folder, entry["path"]),
            editable=entry.get("editable") is True,
        )
    if isinstance(entry.get("url"), str):
        return Source(SourceKind.URL, url=entry["url"])
    return Source(SourceKind.REGISTRY)  # the project's index, which the lock does not name


def _package_edges(lock: LockBuilder, item: Locked, entry: dict[str, Any]) -> None:
    deps = entry.get("dependencies")
    if deps is None:
        return
    if not isinstance(deps, list):
        lock.error(item.line, f"package {item.component.name!r}: dependencies is not an array")
        return
    extras = entry.get("extras")
    of_extras = tuple(str(e) for e in extras) if isinstance(extras, list) else ()
    for text in deps:
        _package_edge(lock, item, text, of_extras)


@dataclass(frozen=True)
class _Requirement:
    name: str
    specifier: str
    extras: tuple[str, ...]
    marker: str | None


def _requirement(text: str) -> _Requirement:
    """A PEP 508 dependency string. The usual ``name[x]>=1; marker`` shape is split by a
    regular expression (parsing 100k strings with packaging takes seconds); anything
    else, a URL or a parenthesised specifier, goes to packaging, which raises
    ``ValueError`` with its own message when the string is not PEP 508."""
    m = _SIMPLE.fullmatch(text)
    if m:
        extras = m.group("extras")
        return _Requirement(
            m.group("name"),
            m.group("spec").strip().rstrip(","),
            tuple(sorted(e.strip() for e in extras.split(",") if e.strip())) if extras else (),
            m.group("marker"),
        )
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    return _Requirement(
        req.name,
        str(req.specifier),
        tuple(sorted(req.extras)),
        str(req.marker) if req.marker else None,
    )


def _package_edge(lock: LockBuilder, item: Locked, text: Any, of_extras: tuple[str, ...]) -> None:
    name = item.component.name
    if not isinstance(text, str):
        lock.error(item.line, f"package {quote(name)}: dependency is not a string: {quote(text)}")
        return
    try:
        req = _requirement(text)
    except ValueError as exc:
        lock.error(item.line, f"package {quote(name)}: invalid dependency {quote(text)}: {exc}")
        return
    targets = pick(lock.by_name.get(canonicalize_name(req.name), []), req.specifier)
    if not targets:
        lock.missing(item, req.name, conditional=req.marker is not None)
        return
    for target in targets:
        lock.edge(
            item,
            target,
            optional=bool(of_extras),
            marker=req.marker,
            extras=req.extras,
            groups=of_extras,
        )
