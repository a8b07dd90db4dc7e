"""What the lock resolvers share: locked packages of a lock without a root, the edges
from the project to them, hashes, local paths and the lines of ``[[package]]`` tables."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from depchain.errors import InputFileError
from depchain.ids import parse_hash
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    Hash,
    InputError,
    Scope,
    merge_component,
)
from depchain.resolvers.base import LineIndex, ResolveContext

# -- --------------------------------------------------


@dataclass(frozen=True)
class Locked:
    """One locked package of a lock that records groups but no root."""

    component: Component
    line: int | None
    groups: tuple[str, ...]
    """Its groups as written; empty when the lock does not say (then: the main group)."""
    optional: bool = False
    """Installed only for an extra of the project (Poetry's ``optional = true``)."""
    markers: tuple[tuple[str, str], ...] = ()
    """(group, marker); group ``""`` for a marker that holds for every group."""

    def marker(self, group: str) -> str | None:
        """The marker under which this group needs the package, if any."""
        every = None
        for name, marker in self.markers:
            if name == group:
                return marker
            if not name:
                every = marker
        return every


class LockReport:
    """Evidence and error lines for one lock file; mixed into each lock's own state,
    which provides ``display``, ``resolver`` and ``errors``."""

    display: str
    resolver: str
    errors: list[InputError]
    table = "package"
    """The array of tables the lock's entries live in (``[[package]]``)."""

    def evidence(self, line: int | None) -> Evidence:
        return Evidence(self.display, line, self.resolver)

    def error(self, line: int | None, message: str) -> None:
        where = f"line {line}" if line else f"[[{self.table}]]"
        self.errors.append(InputError(self.display, f"{where}: {message}"))

    def named_entry(
        self, entry: Any, line: int | None, version_required: bool = False
    ) -> tuple[dict[str, Any], str, str | None] | None:
        """An entry of the lock's array of tables, with its name and version; None (and
        an error) when it is not a table or has no name. A missing required version, or
        one that is not a string, is an error too, and the entry is kept without it."""
        if not isinstance(entry, dict):
            self.error(line, f"[[{self.table}]] is not a table")
            return None
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not name.strip():
            self.error(line, f"[[{self.table}]] has no name")
            return None
        if version is None and version_required:
            self.error(line, f"package {name!r} has no version")
        elif version is not None and not isinstance(version, str):
            self.error(line, f"package {name!r}: version is not a string: {version!r}")
            version = None
        return entry, name, version

    def dependency_entries(
        self, line: int | None, owner: str, value: Any, where: str
    ) -> list[dict[str, Any]]:
        """The ``{name = ...}`` tables of a dependency array; errors for the rest."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(line, f"package {owner!r}: {where} is not an array")
            return []
        good = []
        for dep in value:
            if isinstance(dep, dict) and isinstance(dep.get("name"), str):
                good.append(dep)
            else:
                self.error(line, f"package {owner!r}: {where} entry without a name: {dep!r}")
        return good


@dataclass
class LockBuilder(LockReport):
    """Components, edges and errors of one lock, and the packages by name."""

    display: str
    resolver: str
    locked: list[Locked] = field(default_factory=list)
    by_name: dict[str, list[Locked]] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    roots: frozenset[str] = frozenset()
    """Normalised names of the project the lock is for (never locked in it)."""
    extras: frozenset[str] = frozenset()
    """Normalised names of the lock's groups that are extras of the project (its
    ``[project.optional-dependencies]``), not development groups."""

    def missing(self, item: Locked, name: str, conditional: bool) -> None:
        """A dependency on a package that is not locked: an error unless it names the
        project itself, or holds only under a marker or an extra (the locker leaves out
        what no environment it locks for, and no extra asked for, needs)."""
        if not conditional and canonicalize_name(name) not in self.roots:
            self.error(
                item.line,
                f"package {item.component.name!r} depends on {name!r}, which is not in the lock",
            )

    def add(self, item: Locked) -> None:
        self.locked.append(item)
        self.by_name.setdefault(canonicalize_name(item.component.name), []).append(item)

    def edge(
        self,
        source: Locked,
        target: Locked,
        *,
        optional: bool,
        marker: str | None = None,
        extras: tuple[str, ...] = (),
        groups: tuple[str, ...] = (),
    ) -> None:
        """A package-to-package edge (a self-reference, as pdm writes for extras, is none)."""
        if source.component.id == target.component.id:
            return
        self.dependencies.append(
            Dependency(
                source=source.component.id,
                target=target.component.id,
                kind=DependencyKind.DYNAMIC,
                scope=Scope.OPTIONAL if optional else Scope.REQUIRED,
                mechanism="extra" if optional else "lock",
                evidence=source.component.evidence,
                marker=marker,
                extras=extras,
                groups=groups,
            )
        )

    def fragment(self, subject: Component, main: str) -> Fragment:
        """The subject's edges added; the components merged by id."""
        self.dependencies.extend(subject_edges(self, subject.id, main))
        components: dict[str, Component] = {subject.id: subject}
        for item in self.locked:
            merge_component(components, item.component)
        return Fragment(
            components=tuple(components.values()),
            dependencies=self._merged_edges(len(components) <= len(self.locked)),
            errors=tuple(self.errors),
        )

    def _merged_edges(self, twice_locked: bool) -> tuple[Dependency, ...]:
        """The edges, those that say the same thing merged: pdm locks ``pkg`` and
        ``pkg[extra]`` as two entries of one component."""
        if not twice_locked:
            return tuple(self.dependencies)
        edges: dict[tuple[object, ...], Dependency] = {}
        for d in self.dependencies:
            k = (d.source, d.target, d.kind, d.scope, d.mechanism, d.marker, d.extras, d.groups)
            edges[k] = edges[k].merged(d) if k in edges else d
        return tuple(edges.values())


def pick(candidates: list[Locked], specifier: str | None) -> list[Locked]:
    """The candidates (one name locked at several versions) that a PEP 440 specifier
    allows; all of them when it allows none or cannot be read."""
    if len(candidates) <= 1 or not specifier:
        return candidates
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        allowed = SpecifierSet(specifier)
    except InvalidSpecifier:
        return candidates
    chosen = [
        c
        for c in candidates
        if c.component.version and allowed.contains(c.component.version, prereleases=True)
    ]
    return chosen or candidates


def subject_edges(lock: LockBuilder, subject: str, main: str) -> list[Dependency]:
    """subject -> each package that no other package of its main group depends on
    (DYNAMIC), subject -> each package of an extra that no other package of the extra
    or the main group depends on (DYNAMIC, optional), and subject -> each package of any
    other group (BUILD/DEV)."""
    depended = _depended_on_in_main(lock, main)
    in_extra = _depended_on_in_extras(lock, main)
    edges: list[Dependency] = []
    for item in lock.locked:
        evidence = item.component.evidence
        groups = item.groups or (main,)
        extras: dict[str | None, list[str]] = {}
        for group in groups:
            extra = canonicalize_name(group)
            if (
                group != main
                and extra in lock.extras
                and main not in groups
                and item.component.id not in in_extra.get(extra, set())
            ):
                extras.setdefault(item.marker(group), []).append(group)
        for marker, names in extras.items():
            edges.append(
                Dependency(
                    source=subject,
                    target=item.component.id,
                    kind=DependencyKind.DYNAMIC,
                    scope=Scope.OPTIONAL,
                    mechanism="extra",
                    evidence=evidence,
                    marker=marker,
                    groups=tuple(names),
                )
            )
        groups = tuple(g for g in groups if canonicalize_name(g) not in lock.extras)
        if main in groups and item.component.id not in depended:
            edges.append(
                Dependency(
                    source=subject,
                    target=item.component.id,
                    kind=DependencyKind.DYNAMIC,
                    scope=Scope.OPTIONAL if item.optional else Scope.REQUIRED,
                    mechanism="lock",
                    evidence=evidence,
                    marker=item.marker(main),
                )
            )
        by_marker: dict[str | None, list[str]] = {}
        for group in groups:
            if group != main:
                by_marker.setdefault(item.marker(group), []).append(group)
        for marker, names in by_marker.items():
            edges.append(
                Dependency(
                    source=subject,
                    target=item.component.id,
                    kind=DependencyKind.BUILD,
                    scope=Scope.DEV,
                    mechanism="lock",
                    evidence=evidence,
                    marker=marker,
                    groups=tuple(names),
                )
            )
    return edges


def _depended_on_in_extras(lock: LockBuilder, main: str) -> dict[str, set[str]]:
    """For each extra, the packages that another package of it (or of the main group)
    depends on: reached through that package, not from the project."""
    sources: dict[str, set[str]] = {}
    for item in lock.locked:
        for group in item.groups or (main,):
            name = canonicalize_name(group)
            if group == main or name in lock.extras:
                sources.setdefault(main if group == main else name, set()).add(item.component.id)
    main_ids = sources.get(main, set())
    return {
        extra: {d.target for d in lock.dependencies if d.source in ids | main_ids}
        for extra, ids in sources.items()
        if extra != main
    }


def _depended_on_in_main(lock: LockBuilder, main: str) -> set[str]:
    main_ids = {i.component.id for i in lock.locked if main in (i.groups or (main,))}
    return {d.target for d in lock.dependencies if d.source in main_ids}


def hashes(texts: Iterable[Any]) -> tuple[Hash, ...]:
    """``sha256:...`` strings as de-duplicated hashes (what is not one is skipped)."""
    found: dict[Hash, None] = {}
    for text in texts:
        parsed = parse_hash(text) if isinstance(text, str) else None
        if parsed is not None:
            found[parsed] = None
    return tuple(found)


def local_path(folder: str, value: str) -> str:
    """A path written relative to the lock's folder, relative to the scan root."""
    if posixpath.isabs(value) or re.match(r"^[A-Za-z]:[\\/]", value):
        return value
    return posixpath.normpath(posixpath.join(folder, value))


def root_names(path: Path, ctx: ResolveContext, subject: Component) -> frozenset[str]:
    """The project's own name(s): the subject's, and the one ``pyproject.toml`` beside
    the lock declares. Locks leave the project out, though a package may depend on it
    (a plugin on its host), so a dependency on it is no error."""
    names = {canonicalize_name(subject.name)}
    try:
        data = ctx.load_toml(path.parent / "pyproject.toml")
    except InputFileError:
        return frozenset(names)
    tool = data.get("tool")
    for table in (data.get("project"), tool.get("poetry") if isinstance(tool, dict) else None):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            names.add(canonicalize_name(table["name"]))
    return frozenset(names)


def package_lines(text: str, count: int, table: str = "package") -> list[int | None]:
    """1-based line of each ``[[table]]`` header, in order; Nones when the headers do not
    match the parsed entries one to one (an inline array of tables)."""
    headers = LineIndex(text).headers.get(table, [])
    if len(headers) != count:
        return [None] * count
    return [h + 1 for h in headers]


ReadPackage = Callable[["LockBuilder", Any, "int | None", dict[str, Any], str], "Locked | None"]
PackageEdges = Callable[["LockBuilder", "Locked", dict[str, Any]], None]


def grouped_lock(
    path: Path,
    ctx: ResolveContext,
    text: str,
    packages: list[Any],
    resolver: str,
    files: dict[str, Any],
    main: str,
    read_package: ReadPackage,
    package_edges: PackageEdges,
    extras: frozenset[str] = frozenset(),
) -> Fragment:
    """The pipeline poetry.lock and pdm.lock share: read each ``[[package]]`` at its
    line, index them, then their edges, then the project's edges to them. ``extras``:
    the groups that are extras of the project (normalised names)."""
    lock = LockBuilder(ctx.display(path), resolver, extras=extras)
    folder = ctx.display(path.parent)
    entries: list[tuple[Locked, dict[str, Any]]] = []
    for entry, line in zip(packages, package_lines(text, len(packages)), strict=True):
        item = read_package(lock, entry, line, files, folder)
        if item is not None:
            lock.add(item)
            entries.append((item, entry))
    subject = ctx.subject_for(path)
    lock.roots = root_names(path, ctx, subject)
    for item, entry in entries:
        package_edges(lock, item, entry)
    return lock.fragment(subject, main)
