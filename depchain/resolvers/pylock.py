"""PEP 751 ``pylock.toml`` and ``pylock.<name>.toml``: every package, where it comes from
(index, VCS commit, directory, archive), its hashes, and the group or extra its marker
ties it to.

The project that owns the file depends on each package: a package whose marker needs a
dependency group that is not a default group is a dev (BUILD) dependency, one that needs
an extra is optional. ``packages.dependencies``, when recorded, add package edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from depchain.errors import InputFileError
from depchain.fileio import parse_toml
from depchain.ids import pypi_component, vcs_uri
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
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

NAME = "pylock"

_GROUP = re.compile(r"""(['"])([^'"]+)\1\s+in\s+dependency_groups\b""")
_EXTRA = re.compile(r"""(['"])([^'"]+)\1\s+in\s+extras\b""")


@dataclass(frozen=True)
class _Locked:
    entry: dict[str, Any]
    component: Component
    line: int | None


@dataclass
class _Lock(LockReport):
    display: str
    folder: str
    default_groups: frozenset[str]
    locked: list[_Locked] = field(default_factory=list)
    by_name: dict[str, list[_Locked]] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    resolver: str = NAME
    table = "packages"


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    data = parse_toml(text, display)
    packages = _packages(data, display)
    defaults = data.get("default-groups")
    lock = _Lock(
        display,
        ctx.display(path.parent),
        frozenset(g for g in defaults if isinstance(g, str))
        if isinstance(defaults, list)
        else frozenset(),
    )
    for entry, line in zip(packages, package_lines(text, len(packages), "packages"), strict=True):
        _read_package(lock, entry, line)
    subject = ctx.subject_for(path)
    components: dict[str, Component] = {subject.id: subject}
    for item in lock.locked:
        _subject_edge(lock, subject.id, item)
        _package_edges(lock, item)
        merge_component(components, item.component)
    return Fragment(
        components=tuple(components.values()),
        dependencies=tuple(lock.dependencies),
        errors=tuple(lock.errors),
    )


def _packages(data: dict[str, Any], display: str) -> list[Any]:
    version = data.get("lock-version")
    packages = data.get("packages")
    if version is None or packages is None:
        raise InputFileError(display, "no lock-version or no [[packages]]: not a pylock.toml")
    if not str(version).startswith("1."):
        raise InputFileError(display, f"unsupported lock-version {version!r} (reads 1.x)")
    if not isinstance(packages, list):
        raise InputFileError(display, "'packages' is not an array of tables")
    return packages


def _read_package(lock: _Lock, raw: Any, line: int | None) -> None:
    named = lock.named_entry(raw, line)
    if named is None:
        return
    entry, name, version = named
    source = _source(entry, lock.folder)
    component = pypi_component(
        name,
        version,
        lock.evidence(line),
        sources=(source,) if source else (),
        hashes=_hashes(entry),
    )
    item = _Locked(entry, component, line)
    lock.locked.append(item)
    lock.by_name.setdefault(canonicalize_name(name), []).append(item)


def _source(entry: dict[str, Any], folder: str) -> Source | None:
    """``vcs``, ``directory``, ``archive`` or ``index``, in that order."""
    vcs, directory, archive = entry.get("vcs"), entry.get("directory"), entry.get("archive")
    if isinstance(vcs, dict):
        return _vcs(vcs, folder)
    if isinstance(directory, dict) and isinstance(directory.get("path"), str):
        return Source(
            SourceKind.PATH,
            url=local_path(folder, directory["path"]),
            editable=directory.get("editable") is True,
            subdirectory=_str(directory.get("subdirectory")),
        )
    if isinstance(archive, dict):
        if isinstance(archive.get("url"), str):
            return Source(
                SourceKind.URL, url=archive["url"], subdirectory=_str(archive.get("subdirectory"))
            )
        if isinstance(archive.get("path"), str):
            return Source(
                SourceKind.PATH,
                url=local_path(folder, archive["path"]),
                subdirectory=_str(archive.get("subdirectory")),
            )
    index = entry.get("index")
    return Source(SourceKind.REGISTRY, url=index) if isinstance(index, str) else None


def _vcs(vcs: dict[str, Any], folder: str) -> Source:
    kind = _str(vcs.get("type")) or "git"
    url = _str(vcs.get("url"))
    path = _str(vcs.get("path"))
    where = (
        vcs_uri(url if url.startswith(f"{kind}+") else f"{kind}+{url}")
        if url
        else (local_path(folder, path) if path else None)
    )
    commit = _str(vcs.get("commit-id"))
    full = commit is not None and is_full_commit(commit.lower())
    return Source(
        SourceKind.VCS,
        url=where,
        ref=_str(vcs.get("requested-revision")),
        commit=commit.lower() if full and commit else None,
        subdirectory=_str(vcs.get("subdirectory")),
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _hashes(entry: dict[str, Any]) -> tuple[Hash, ...]:
    """The hashes of the archive, the sdist and every wheel (``{sha256 = "..."}``)."""
    files: list[Any] = [entry.get("archive"), entry.get("sdist")]
    wheels = entry.get("wheels")
    if isinstance(wheels, list):
        files.extend(wheels)
    texts: list[str] = []
    for f in files:
        table = f.get("hashes") if isinstance(f, dict) else None
        if isinstance(table, dict):
            texts.extend(
                f"{algo}:{value}" for algo, value in table.items() if isinstance(value, str)
            )
    return hashes(texts)


def _subject_edge(lock: _Lock, subject: str, item: _Locked) -> None:
    marker = _str(item.entry.get("marker"))
    groups = list(dict.fromkeys(m.group(2) for m in _GROUP.finditer(marker or "")))
    extras = list(dict.fromkeys(m.group(2) for m in _EXTRA.finditer(marker or "")))
    if groups and not lock.default_groups.intersection(groups):
        kind, scope, named = DependencyKind.BUILD, Scope.DEV, groups
    elif extras:
        kind, scope, named = DependencyKind.DYNAMIC, Scope.OPTIONAL, extras
    else:
        kind, scope, named = DependencyKind.DYNAMIC, Scope.REQUIRED, []
    lock.dependencies.append(
        Dependency(
            source=subject,
            target=item.component.id,
            kind=kind,
            scope=scope,
            mechanism="lock",
            evidence=item.component.evidence,
            marker=marker,
            groups=tuple(named),
        )
    )


def _package_edges(lock: _Lock, item: _Locked) -> None:
    name = item.component.name
    deps = item.entry.get("dependencies")
    for dep in lock.dependency_entries(item.line, name, deps, "dependencies"):
        targets = _targets(lock, dep)
        if not targets:
            lock.error(
                item.line, f"package {name!r} depends on {dep['name']!r}, which is not in the lock"
            )
        for target in targets:
            if target.component.id != item.component.id:
                lock.dependencies.append(
                    Dependency(
                        source=item.component.id,
                        target=target.component.id,
                        kind=DependencyKind.DYNAMIC,
                        scope=Scope.REQUIRED,
                        mechanism="lock",
                        evidence=item.component.evidence,
                    )
                )


def _targets(lock: _Lock, dep: dict[str, Any]) -> list[_Locked]:
    """The packages a ``dependencies`` entry identifies: by name, then by every other
    key it gives (``version``, ``vcs``, ...) when the name is locked more than once."""
    candidates = lock.by_name.get(canonicalize_name(dep["name"]), [])
    for key, value in dep.items():
        if len(candidates) <= 1:
            break
        if key != "name":
            candidates = [c for c in candidates if c.entry.get(key) == value]
    return candidates
