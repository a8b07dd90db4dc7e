"""``uv.lock`` (version 1, any revision): every locked package, where it comes from, its
hashes, and the edges uv resolved between packages.

The workspace members (and the project at the lock's own folder) are the lock's subjects:
their ``dependencies``, ``optional-dependencies`` and ``dev-dependencies`` are what the
project asked for; every other package's ``dependencies`` are what it pulls in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from depchain.errors import InputFileError
from depchain.fileio import parse_toml
from depchain.ids import pypi_component, vcs_uri
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    Hash,
    InputError,
    Scope,
    Source,
    SourceKind,
    merge_component,
)
from depchain.resolvers._lock import LockReport, hashes, local_path, package_lines
from depchain.resolvers.base import ResolveContext, is_full_commit

NAME = "uv-lock"

_LOCAL_KINDS = ("editable", "virtual", "directory", "path")
_ROOT_KINDS = ("editable", "virtual", "directory")
_SOURCE_KINDS = ("registry", "git", "url", *_LOCAL_KINDS)


@dataclass(frozen=True)
class _How:
    """The kind, scope, mechanism and groups of the edges one dependency list makes."""

    kind: DependencyKind
    scope: Scope
    mechanism: str
    groups: tuple[str, ...] = ()


_LOCKED = _How(DependencyKind.DYNAMIC, Scope.REQUIRED, "lock")
_EDGE_TABLES: tuple[tuple[str, DependencyKind, Scope, str], ...] = (
    ("optional-dependencies", DependencyKind.DYNAMIC, Scope.OPTIONAL, "extra"),
    ("dev-dependencies", DependencyKind.BUILD, Scope.DEV, "dependency-group"),
)


@dataclass(frozen=True)
class _Locked:
    """One ``[[package]]`` entry, read."""

    entry: dict[str, Any]
    component: Component
    line: int | None
    source_kind: str | None
    """The key of its ``source`` table: ``registry``, ``git``, ``editable``, ..."""
    local_path: str | None
    """For a local source: the path as written (relative to the lock's folder)."""


@dataclass
class _Lock(LockReport):
    display: str
    folder: str
    """The lock's folder relative to the scan root (``.`` for the root)."""
    locked: list[_Locked] = field(default_factory=list)
    by_name: dict[str, list[_Locked]] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    resolver: str = NAME
    table = "package"


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    entries, members = _entries(parse_toml(text, display), display)
    lock = _Lock(display, ctx.display(path.parent))
    for entry, line in zip(entries, package_lines(text, len(entries)), strict=True):
        _read_package(lock, entry, line)
    roots = _roots(lock.locked, members)
    for i in roots:
        lock.locked[i] = _as_application(lock.locked[i])
    for item in lock.locked:
        lock.by_name.setdefault(canonicalize_name(item.component.name), []).append(item)
    for item in lock.locked:
        _edges(lock, item)
    components: dict[str, Component] = {}
    for item in lock.locked:
        merge_component(components, item.component)
    subjects = tuple(dict.fromkeys(lock.locked[i].component.id for i in sorted(roots)))
    return Fragment(
        components=tuple(components.values()),
        dependencies=tuple(lock.dependencies),
        errors=tuple(lock.errors),
        subjects=subjects,
    )


def _entries(data: dict[str, Any], display: str) -> tuple[list[Any], set[str]]:
    """The ``[[package]]`` array and the workspace members; raises when this is not a
    uv.lock of a version this reads."""
    version = data.get("version")
    packages = data.get("package", data.get("distribution"))
    if version is None and packages is None:
        raise InputFileError(display, "no 'version' and no [[package]]: not a uv.lock")
    if version is not None and version != 1:
        raise InputFileError(display, f"unsupported uv.lock version {version!r} (reads 1)")
    if packages is None:
        packages = []
    if not isinstance(packages, list):
        raise InputFileError(display, "'package' is not an array of tables")
    manifest = data.get("manifest")
    members = manifest.get("members") if isinstance(manifest, dict) else None
    if not isinstance(members, list):
        members = []  # absent, or not the array uv writes: no declared workspace members
    names = {str(canonicalize_name(m)) for m in members if isinstance(m, str)}
    return packages, names


def _read_package(lock: _Lock, raw: Any, line: int | None) -> None:
    named = lock.named_entry(raw, line)
    if named is None:
        return
    entry, name, version = named
    source, kind, local = _source(entry.get("source"), lock.folder)
    if entry.get("source") is not None and kind is None:
        lock.error(line, f"package {name!r}: unknown source {entry.get('source')!r}")
    component = pypi_component(
        name,
        version,
        lock.evidence(line),
        sources=(source,) if source else (),
        hashes=_hashes(entry),
    )
    lock.locked.append(_Locked(entry, component, line, kind, local))


def _source(raw: Any, folder: str) -> tuple[Source | None, str | None, str | None]:
    """(source, the kind of ``source`` table, the local path as written) of a package."""
    if not isinstance(raw, dict):
        return None, None, None
    for kind in _SOURCE_KINDS:
        value = raw.get(kind)
        if isinstance(value, str):
            sub = raw.get("subdirectory")
            source = _source_of(kind, value, sub if isinstance(sub, str) else None, folder)
            return source, kind, value if kind in _LOCAL_KINDS else None
    return None, None, None


@lru_cache(maxsize=4096)
def _source_of(kind: str, value: str, subdirectory: str | None, folder: str) -> Source:
    """Cached: most packages of a lock share one registry source."""
    if kind == "registry":
        return Source(SourceKind.REGISTRY, url=value)
    if kind == "git":
        return _git(value)
    if kind == "url":
        return Source(SourceKind.URL, url=value, subdirectory=subdirectory)
    return Source(SourceKind.PATH, url=local_path(folder, value), editable=kind == "editable")


def _git(value: str) -> Source:
    """``https://host/repo?rev=v1&subdirectory=x#<commit>`` as a VCS source."""
    url, _, commit = vcs_uri(value).partition("#")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    ref = next((query[k][0] for k in ("rev", "tag", "branch") if query.get(k)), None)
    subdirectory = query["subdirectory"][0] if query.get("subdirectory") else None
    repo = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    full = is_full_commit(commit.lower())
    return Source(
        SourceKind.VCS,
        url=f"git+{repo}",
        ref=ref if ref or full else (commit or None),
        commit=commit.lower() if full else None,
        subdirectory=subdirectory,
    )


def _hashes(entry: dict[str, Any]) -> tuple[Hash, ...]:
    """The hashes of the sdist and of every wheel."""
    files: list[Any] = [entry.get("sdist")]
    wheels = entry.get("wheels")
    if isinstance(wheels, list):
        files.extend(wheels)
    return hashes(f.get("hash") for f in files if isinstance(f, dict))


def _roots(locked: list[_Locked], members: set[str]) -> set[int]:
    """Indexes of the workspace members and of the project at the lock's own folder;
    when neither is recorded, of every editable or virtual package."""
    roots = {
        i
        for i, item in enumerate(locked)
        if item.source_kind in _ROOT_KINDS
        and (canonicalize_name(item.component.name) in members or item.local_path == ".")
    }
    if not roots:
        roots = {i for i, item in enumerate(locked) if item.source_kind in ("editable", "virtual")}
    return roots


def _as_application(item: _Locked) -> _Locked:
    """A root package: the application the lock is for."""
    return replace(item, component=replace(item.component, type=ComponentType.APPLICATION))


def _edges(lock: _Lock, item: _Locked) -> None:
    entry = item.entry
    evidence = item.component.evidence
    _edge_list(lock, item, evidence, entry.get("dependencies"), "dependencies", _LOCKED)
    for table, kind, scope, mechanism in _EDGE_TABLES:
        groups = entry.get(table)
        if groups is None:
            continue
        if not isinstance(groups, dict):
            lock.error(item.line, f"package {item.component.name!r}: {table} is not a table")
            continue
        for group, deps in groups.items():
            how = _How(kind, scope, mechanism, (group,))
            _edge_list(lock, item, evidence, deps, f"{table}.{group}", how)


def _edge_list(
    lock: _Lock,
    item: _Locked,
    evidence: tuple[Evidence, ...],
    deps: Any,
    where: str,
    how: _How,
) -> None:
    name = item.component.name
    for dep in lock.dependency_entries(item.line, name, deps, where):
        targets = _targets(lock, dep)
        if not targets:
            wanted = dep["name"] + (f" {dep['version']}" if "version" in dep else "")
            lock.error(
                item.line, f"package {name!r} depends on {wanted!r}, which is not in the lock"
            )
            continue
        marker = dep.get("marker")
        extras = dep.get("extra")
        for target in targets:
            lock.dependencies.append(
                Dependency(
                    source=item.component.id,
                    target=target.component.id,
                    kind=how.kind,
                    scope=how.scope,
                    mechanism=how.mechanism,
                    evidence=evidence,
                    marker=marker if isinstance(marker, str) else None,
                    extras=tuple(e for e in extras if isinstance(e, str))
                    if isinstance(extras, list)
                    else (),
                    groups=how.groups,
                )
            )


def _targets(lock: _Lock, dep: dict[str, Any]) -> list[_Locked]:
    """The locked package(s) a dependency entry names; ``version`` and ``source``
    pick one when the name is locked more than once."""
    name = dep["name"]
    candidates = lock.by_name.get(name) or lock.by_name.get(canonicalize_name(name), [])
    if len(candidates) > 1 and "version" in dep:
        candidates = [c for c in candidates if c.entry.get("version") == dep["version"]]
    if len(candidates) > 1 and "source" in dep:
        candidates = [c for c in candidates if c.entry.get("source") == dep["source"]]
    return candidates
