"""Requirements files in pip's full format.

Handled: ``-r``/``--requirement`` and ``-c``/``--constraint`` includes (relative to the
including file, cycles detected), ``-e``/``--editable``, ``--index-url``,
``--extra-index-url``, ``--no-index``, ``--find-links``, ``--trusted-host``, per-line
``--hash`` (several, over continuation lines), environment markers, extras, URLs and VCS
references, ``name @ url``, name-less URLs and paths, and comments.

A file's kind follows its name: ``dev``, ``test``, ``lint``, ``docs``, ``typing`` and
similar files are build-time tools with scope ``dev``; ``build`` files are build-time;
anything else is a runtime environment (``dynamic``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from depchain.errors import InputFileError
from depchain.ids import parse_hash, pypi_component
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    Hash,
    IndexRef,
    InputError,
    Scope,
    Source,
    SourceKind,
)
from depchain.redaction import quote
from depchain.resolvers.base import (
    ResolveContext,
    name_from_url,
    pinned_version,
    requirement,
    source_from_url,
)

NAME = "requirements"

DEV_WORDS = frozenset(
    {
        "dev",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "lint",
        "linter",
        "linting",
        "doc",
        "docs",
        "documentation",
        "typing",
        "types",
        "mypy",
        "ci",
        "coverage",
        "bench",
        "benchmark",
        "benchmarks",
        "hypothesis",
        "release",
        "style",
        "format",
        "check",
        "checks",
        "tox",
        "qa",
        "debug",
        "profiling",
        "precommit",
        "pre-commit",
        "stubs",
        "ipython",
        "notebook",
        "examples",
    }
)
_SCHEME = r"^(?:[a-z]{1,16}\+)?[a-z][a-z0-9.+-]{0,31}://"
"""A URL's scheme, bounded so that a long word is not searched for one at every length."""
_URLISH = re.compile(_SCHEME + r"|^\.{1,2}(?:/|$|\[)|^/|^[A-Za-z]:[\\/]")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz")


def kind_of(display: str) -> tuple[DependencyKind, Scope]:
    """What a requirements file is for, from the words in its path (``ci32`` is ``ci``)."""
    words = {w.rstrip("0123456789") for w in re.split(r"[/\\_.\-]+", display.lower()) if w}
    words -= {"requirements", "requirement", "reqs", "txt", "in", "constraints", ""}
    if words & DEV_WORDS:
        return DependencyKind.BUILD, Scope.DEV
    if "build" in words:
        return DependencyKind.BUILD, Scope.REQUIRED
    return DependencyKind.DYNAMIC, Scope.REQUIRED


@dataclass
class _Line:
    number: int
    text: str


@dataclass
class _State:
    ctx: ResolveContext
    subject: Component
    components: list[Component] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    indexes: list[IndexRef] = field(default_factory=list)
    constraints: dict[str, tuple[str, Evidence]] = field(default_factory=dict)
    read: set[tuple[Path, bool]] = field(default_factory=set)
    """Files already read (as requirements or as constraints): each is read once, so a
    diamond of ``-r`` includes costs what its files do, not two to the depth."""


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    subject = ctx.subject_for(path)
    state = _State(ctx, subject, components=[subject])
    # a constraints file pins versions; on its own it installs nothing
    _read_file(state, path, stack=(), constraint="constraints" in path.name.lower())
    components = [_pin_from_constraints(state, c) for c in state.components]
    deps = [_with_index(state, d) for d in state.dependencies]
    return Fragment(
        components=tuple(components),
        dependencies=tuple(deps),
        errors=tuple(state.errors),
    )


def logical_lines(text: str) -> list[_Line]:
    """Join continuation lines and drop comments, keeping each line's first number."""
    return list(iter_logical_lines(text))


_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION_START = re.compile(r"(?<=\s)--?[A-Za-z]")


def iter_logical_lines(text: str) -> Iterator[_Line]:
    """:func:`logical_lines` one at a time (a large file is not held twice)."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):  # as pip splits them
        line = _COMMENT.sub("", raw) if "#" in raw else raw
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(p.strip() for p in pending).strip()
        pending = []
        if joined:
            yield _Line(start, joined)
    if pending:
        joined = " ".join(p.strip() for p in pending).strip()
        if joined:
            yield _Line(start, joined)


def project_root(path: Path, limit: int = 12) -> Path:
    """The nearest folder above ``path`` that holds a project (``pyproject.toml``,
    ``setup.py``, ``setup.cfg``) or a repository (``.git``); only names are looked at."""
    return _project_root(path.resolve().parent, limit)


@lru_cache(maxsize=4096)
def _project_root(start: Path, limit: int) -> Path:
    folder = start
    for _ in range(limit):
        if any((folder / n).exists() for n in ("pyproject.toml", "setup.py", "setup.cfg", ".git")):
            return folder
        if folder.parent == folder:
            break
        folder = folder.parent
    return start


MAX_INCLUDE_DEPTH = 64
MAX_INCLUDED_FILES = 2_000


def _read_file(state: _State, path: Path, stack: tuple[Path, ...], constraint: bool) -> None:
    state.read.add((path.resolve(), constraint))
    text = state.ctx.read_text(path)
    display = state.ctx.display(path)
    lines = iter_logical_lines(text)
    # the words of its path inside its project say what the file is for
    kind, scope = kind_of(path.resolve().relative_to(project_root(path)).as_posix())
    for line in lines:
        evidence = Evidence(display, line.number, NAME)
        try:
            if line.text.startswith("-"):
                _option(state, path, line, evidence, stack, constraint, kind, scope)
            else:
                _requirement(state, path, line.text, evidence, constraint, kind, scope)
        except ValueError as exc:
            state.errors.append(InputError(display, f"line {line.number}: {exc}"))


def _split_option(text: str) -> tuple[str, str]:
    """``-r file``, ``-rfile``, ``--requirement=file``, ``--requirement file``."""
    m = re.match(r"^(--[a-z][a-z-]*)(?:=|\s+)?(.*)$", text) or re.match(
        r"^(-[a-zA-Z])\s*(.*)$", text
    )
    if not m:
        raise ValueError(f"cannot read option {quote(text)}")
    return m.group(1), m.group(2).strip()


_INDEX_ROLES = {
    "-i": "primary",
    "--index-url": "primary",
    "--extra-index-url": "extra",
    "-f": "find-links",
    "--find-links": "find-links",
}
_FLAGS = frozenset(
    {
        "--pre",
        "--prefer-binary",
        "--require-hashes",
        "--no-index",
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "--trusted-host",
        "--config-settings",
        "--global-option",
        "--install-option",
        "--no-deps",
        "--no-build-isolation",
    }
)


_VALUED = frozenset(
    {
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "--trusted-host",
        "--config-settings",
        "-C",
        "--global-option",
        "--install-option",
    }
)
"""Options that take a value in the next word when it is not given with ``=``."""


def _option(
    state: _State,
    path: Path,
    line: _Line,
    evidence: Evidence,
    stack: tuple[Path, ...],
    constraint: bool,
    kind: DependencyKind,
    scope: Scope,
) -> None:
    option, value = _split_option(line.text)
    if option in {"-r", "--requirement", "-c", "--constraint"}:
        if not value:
            raise ValueError(f"{option} needs a file name")
        _include(state, path, value, line, stack, constraint or option in {"-c", "--constraint"})
    elif option in {"-e", "--editable"}:
        if not value:
            raise ValueError("-e needs a path or URL")
        _requirement(state, path, value, evidence, constraint, kind, scope, editable=True)
    elif option in _INDEX_ROLES:
        if not value:
            raise ValueError(f"{option} needs a URL")
        state.indexes.append(IndexRef(_INDEX_ROLES[option], value.split()[0], evidence))
    elif option not in _FLAGS:
        raise ValueError(f"unknown option {option}")


def _include(
    state: _State,
    path: Path,
    value: str,
    line: _Line,
    stack: tuple[Path, ...],
    constraint: bool,
) -> None:
    if re.match(r"^[a-z]+://", value):
        raise ValueError(f"remote include {quote(value)} is not fetched (scans are offline)")
    try:
        target = (path.parent / value).resolve()
        target.is_file()
    except (OSError, ValueError, RuntimeError):  # a name too long, a NUL, a link loop
        raise ValueError("the included file's name is not a usable path") from None
    here = path.resolve()
    chain = (*stack, here)
    root = state.ctx.root.resolve()
    allowed = (root, project_root(path))
    if not any(target.is_relative_to(a) for a in allowed):
        raise ValueError(f"included file {quote(value)} is outside the scanned tree; not read")
    if target in chain:
        names = " -> ".join(_shown(state, p) for p in (*chain, target))
        raise ValueError(f"include cycle: {names}")
    if not target.is_file():
        raise ValueError(f"included file {quote(value)} does not exist")
    if (target, constraint) in state.read:
        return  # read once already: its requirements are in the graph with their lines
    if len(chain) > MAX_INCLUDE_DEPTH:
        raise ValueError(f"includes nested deeper than {MAX_INCLUDE_DEPTH} files; not read")
    if len(state.read) >= MAX_INCLUDED_FILES:
        raise ValueError(f"more than {MAX_INCLUDED_FILES} included files; the rest not read")
    try:
        shown = state.ctx.root / target.relative_to(root) if target.is_relative_to(root) else target
        _read_file(state, shown, chain, constraint)
    except InputFileError as exc:
        raise ValueError(f"included file {quote(value)}: {exc.message}") from None


def _shown(state: _State, path: Path) -> str:
    root = state.ctx.root.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BLANKS = re.compile(r"\s*")


class _Named:
    """``name[extras] @ url``: the name, then (from where it ends, never trying
    shorter names) the extras and the ``@``: linear on any line."""

    @staticmethod
    def match(text: str) -> bool:
        name = _NAME.match(text)
        if name is None:
            return False
        at = _BLANKS.match(text, name.end()).end()  # type: ignore[union-attr]
        if text.startswith("[", at):
            close = text.find("]", at)
            if close < 0:
                return False
            at = _BLANKS.match(text, close + 1).end()  # type: ignore[union-attr]
        return text.startswith("@", at)


_NAMED = _Named


def _requirement(
    state: _State,
    path: Path,
    text: str,
    evidence: Evidence,
    constraint: bool,
    kind: DependencyKind,
    scope: Scope,
    editable: bool = False,
) -> None:
    split = _OPTION_START.search(text)  # linear: no backtracking over runs of blanks
    req_text, options = (text[: split.start()], text[split.start() :]) if split else (text, "")
    req_text = req_text.strip()
    hashes = _hashes(options)
    if constraint:
        name, spec = _constraint(req_text)
        if name:
            state.constraints[name] = (spec, evidence)
        return
    group = Path(evidence.path).stem if kind is DependencyKind.BUILD else None
    if "${" in req_text:
        raise ValueError(
            f"{quote(req_text)} names an environment variable; scans do not read the "
            "environment, so it is not expanded"
        )
    location = req_text.split(";")[0].strip()
    direct = not _NAMED.match(req_text) and (
        _URLISH.match(req_text)
        or location.lower().endswith(_ARCHIVE)
        or (editable and "/" in location)
    )
    if direct:
        component, dep = _direct(state, path, req_text, evidence, kind, scope, editable, hashes)
    else:
        component, dep = requirement(
            req_text,
            state.subject.id,
            evidence,
            kind=kind,
            scope=scope,
            mechanism="requirement",
            group=group,
            hashes=hashes,
            editable=editable,
        )
        if editable and not component.sources:
            raise ValueError(f"-e needs a path or VCS URL, not {req_text!r}")
    state.components.append(component)
    state.dependencies.append(replace(dep, groups=(group,) if group else ()))


def _hashes(options: str) -> tuple[Hash, ...]:
    found: list[Hash] = []
    try:
        # no quote and no escape (the usual ``--hash=sha256:...``): words are words
        tokens = options.split() if not any(c in options for c in "\"'\\") else shlex.split(options)
    except ValueError as exc:
        raise ValueError(f"cannot read the options after the requirement: {exc}") from None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        value = None
        if token.startswith("--hash="):
            value = token[len("--hash=") :]
        elif token == "--hash" and i + 1 < len(tokens):
            i += 1
            value = tokens[i]
        elif token.split("=")[0] in _VALUED and "=" not in token:
            i += 1  # ``--no-binary lxml,xmlsec``: pip applies it to the whole file
        elif token.startswith("-") and token.split("=")[0] not in _FLAGS | {"-C"}:
            raise ValueError(f"unknown per-requirement option {token.split('=')[0][:40]}")
        if value is not None:
            parsed = parse_hash(value)
            if parsed is None:
                raise ValueError(f"malformed hash {quote(value)} (expected algorithm:hexdigest)")
            found.append(parsed)
        i += 1
    return tuple(sorted(set(found)))


def _constraint(text: str) -> tuple[str | None, str]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(f"invalid constraint {quote(text)}: {str(exc).splitlines()[0]}") from None
    return str(canonicalize_name(req.name)), str(req.specifier)


def _direct(
    state: _State,
    path: Path,
    text: str,
    evidence: Evidence,
    kind: DependencyKind,
    scope: Scope,
    editable: bool,
    hashes: tuple[Hash, ...],
) -> tuple[Component, Dependency]:
    """A name-less URL or local path (``./pkg[extra]``, ``https://.../main.tar.gz``)."""
    location, _, marker = text.partition(";")
    location = location.strip()
    extras: tuple[str, ...] = ()
    if location.endswith("]") and not re.match(_SCHEME, location):
        body = location[:-1]  # ``path[extra,extra]``: the brackets after the last ']'
        opening = body.find("[", body.rfind("]") + 1)
        if opening >= 0:
            location, extras = (
                body[:opening],
                tuple(sorted(e.strip() for e in body[opening + 1 :].split(",") if e.strip())),
            )
    if re.match(_SCHEME, location):
        source = source_from_url(location, editable=editable)
        name = name_from_url(location)
        if name is None:
            raise ValueError(f"cannot tell the project name of {location}; add #egg=<name>")
        component = pypi_component(
            name, archive_version(location), evidence, sources=(source,), hashes=hashes
        )
        if "egg=" not in location:
            component = replace(component, properties=(("depchain:name-inferred", "from URL"),))
    elif location.lower().endswith(_ARCHIVE):  # a local wheel or sdist: named by its file
        name = name_from_url(location) or Path(location).name
        source = Source(SourceKind.PATH, url=_relative_or(path.parent / location, state.ctx.root))
        component = pypi_component(
            name, archive_version(location), evidence, sources=(source,), hashes=hashes
        )
    else:
        component = _local(state, path, location, evidence, editable)
    dep = Dependency(
        source=state.subject.id,
        target=component.id,
        kind=kind,
        scope=scope,
        mechanism="requirement",
        evidence=(evidence,),
        specifier=location,
        marker=marker.strip() or None,
        extras=extras,
        hashes=hashes,
    )
    return component, dep


def _local(
    state: _State, path: Path, location: str, evidence: Evidence, editable: bool
) -> Component:
    # pip reads a local project path relative to where it runs, which tools that write
    # requirements files take to be the project root; try the file's folder first.
    folder = path.parent / location
    if not _is_project(folder) and _is_project(state.ctx.root / location):
        folder = state.ctx.root / location
    project = state.ctx.subject_for(folder / "pyproject.toml")
    display = _relative_or(folder, state.ctx.root)
    for source in project.sources:
        if source.kind is SourceKind.PATH and source.url == display:
            return project  # the project declared in that folder
    name = folder.resolve().name or location
    source = Source(SourceKind.PATH, url=display, editable=editable)
    component = pypi_component(name, None, evidence, sources=(source,))
    return replace(component, properties=(("depchain:name-inferred", "from folder name"),))


def archive_version(location: str) -> str | None:
    """The version in a wheel or sdist file name (``foo-1.0-py3-none-any.whl``)."""
    name = location.rstrip("/").rsplit("/", 1)[-1]
    if name.endswith(".whl"):
        parts = name[:-4].split("-")
        return parts[1] if len(parts) >= 5 else None
    for suffix in _ARCHIVE:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            dash = stem.rfind("-")  # the version is after the last '-'
            version = stem[dash + 1 :] if dash > 0 else ""
            return version if version[:1].isdigit() else None
    return None


def _is_project(folder: Path) -> bool:
    """A folder holding a Python project's manifest (False for a path the system cannot
    even look at: a name too long, a component that is no folder)."""
    try:
        return any(
            (folder / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg")
        )
    except OSError:
        return False


def _relative_or(folder: Path, root: Path) -> str:
    try:
        rel = folder.resolve().relative_to(root.resolve()).as_posix()
        return "." if rel in {"", "."} else rel
    except ValueError:
        return folder.resolve().as_posix()


def _with_index(state: _State, dep: Dependency) -> Dependency:
    if state.indexes:
        dep = replace(dep, indexes=tuple(dict.fromkeys(state.indexes)))
    return dep


def _pin_from_constraints(state: _State, component: Component) -> Component:
    """A requirement left open but pinned by a ``-c`` constraint installs that pin."""
    if component.version or component.ecosystem != "pypi" or component.sources:
        return component
    from packaging.utils import canonicalize_name

    found = state.constraints.get(str(canonicalize_name(component.name)))
    if not found:
        return component
    version = pinned_version(found[0])
    if version is None:
        return component
    pinned = pypi_component(component.name, version, found[1])
    state.dependencies[:] = [
        replace(
            d,
            target=pinned.id,
            evidence=tuple(sorted({*d.evidence, found[1]}, key=lambda e: (e.path, e.line or 0))),
        )
        if d.target == component.id
        else d
        for d in state.dependencies
    ]
    return replace(
        pinned,
        evidence=tuple(
            sorted({*component.evidence, found[1]}, key=lambda e: (e.path, e.line or 0))
        ),
    )
