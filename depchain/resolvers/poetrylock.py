"""``poetry.lock``: lock-version 1.x (``category``, hashes in ``[metadata.files]`` or
``[metadata.hashes]``) and 2.x (``files`` per package, ``groups``, ``markers``).

A poetry.lock names no root package: the project that owns the file is the subject. It
depends on every locked package that no other package of the same group depends on, and
on every package of a non-main group. ``pdm.lock`` shares these rules (see pdmlock).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from depchain.errors import InputFileError
from depchain.fileio import parse_toml
from depchain.ids import pypi_component, vcs_uri
from depchain.model import (
    Fragment,
    Source,
    SourceKind,
)
from depchain.resolvers import poetry_constraints
from depchain.resolvers._lock import (
    LockBuilder,
    Locked,
    grouped_lock,
    hashes,
    local_path,
    pick,
)
from depchain.resolvers.base import ResolveContext, is_full_commit

NAME = "poetry-lock"

_MAIN = "main"
_DEFAULT_INDEX = Source(SourceKind.REGISTRY)
"""A package that names no source comes from the default index (PyPI unless the project
configures another)."""

# -- poetry.lock ------------------------------------------------------------------------


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    data = parse_toml(text, display)
    packages, metadata = _entries(data, display)
    files = _metadata_files(metadata)
    packages = _with_inferred_groups(path, ctx, packages)
    return grouped_lock(
        path, ctx, text, packages, NAME, files, _MAIN, _read_package, _package_edges
    )


_MAX_STEPS = 1_000_000


def _with_inferred_groups(path: Path, ctx: ResolveContext, packages: list[Any]) -> list[Any]:
    """Lock-version 2.0 files of Poetry 1.5-1.8 say neither ``category`` nor ``groups``:
    a dev-only package looks like a runtime one. Its groups are then worked out from the
    ``pyproject.toml`` beside the lock, as Poetry does: what the main dependencies reach
    through the locked packages' own dependencies is ``main``; what only a group's
    reaches is that group's."""
    entries = [e for e in packages if isinstance(e, dict)]
    if not entries or any("category" in e or "groups" in e for e in entries):
        return packages
    try:
        project = ctx.load_toml(path.parent / "pyproject.toml")
    except InputFileError:
        return packages
    roots = _declared_groups(project)
    if not roots:
        return packages
    needs: dict[str, list[str]] = {}
    for e in entries:
        name = e.get("name")
        deps = e.get("dependencies")
        if isinstance(name, str):
            found = needs.setdefault(canonicalize_name(name), [])
            if isinstance(deps, dict):
                found.extend(canonicalize_name(str(d)) for d in deps)
    reached: dict[str, set[str]] = {}
    steps = 0
    for group, names in roots.items():
        stack = [n for n in names if n in needs]
        while stack and steps < _MAX_STEPS:
            steps += 1
            name = stack.pop()
            groups = reached.setdefault(name, set())
            if group in groups:
                continue
            groups.add(group)
            stack.extend(n for n in needs.get(name, ()) if n in needs)
    out: list[Any] = []
    for e in packages:
        name = e.get("name") if isinstance(e, dict) else None
        hits = reached.get(canonicalize_name(name)) if isinstance(name, str) else None
        if hits:
            kept = [_MAIN] if _MAIN in hits else sorted(hits)
            e = {**e, "groups": kept}
        out.append(e)
    return out


def _declared_groups(project: dict[str, Any]) -> dict[str, list[str]]:
    """The names each group of a Poetry project declares (``main`` for its runtime
    dependencies, PEP 621 or ``[tool.poetry.dependencies]``)."""
    tool = project.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    poetry = poetry if isinstance(poetry, dict) else {}
    groups: dict[str, list[str]] = {}

    def add(group: str, names: Any) -> None:
        if isinstance(names, dict):
            names = list(names)
        if isinstance(names, list):
            for n in names:
                if isinstance(n, str) and n.lower() != "python":
                    name = re.split(r"[\s\[<>=!~;@(]", n.strip(), maxsplit=1)[0]
                    if name:
                        groups.setdefault(group, []).append(canonicalize_name(name))

    pep621 = project.get("project")
    if isinstance(pep621, dict):
        add(_MAIN, pep621.get("dependencies"))
    add(_MAIN, poetry.get("dependencies"))
    add("dev", poetry.get("dev-dependencies"))
    table = poetry.get("group")
    for group, body in table.items() if isinstance(table, dict) else ():
        if isinstance(body, dict):
            add(str(group), body.get("dependencies"))
    return groups


def _entries(data: dict[str, Any], display: str) -> tuple[list[Any], dict[str, Any]]:
    packages = data.get("package")
    metadata = data.get("metadata")
    if packages is None and not isinstance(metadata, dict):
        raise InputFileError(display, "no [[package]] and no [metadata]: not a poetry.lock")
    if not isinstance(packages, (list, type(None))):
        raise InputFileError(display, "'package' is not an array of tables")
    version = metadata.get("lock-version") if isinstance(metadata, dict) else None
    if isinstance(version, str) and not version.startswith(("1.", "2.")):
        raise InputFileError(display, f"unsupported poetry.lock lock-version {version!r}")
    return packages or [], metadata if isinstance(metadata, dict) else {}


def _metadata_files(metadata: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Lock-version 1.x: (file name, hash) by normalised package name."""
    out: dict[str, list[tuple[str, str]]] = {}
    files = metadata.get("files")
    for name, entries in files.items() if isinstance(files, dict) else ():
        out[canonicalize_name(name)] = (
            [
                (str(e.get("file", "")), e["hash"])
                for e in entries
                if isinstance(e, dict) and isinstance(e.get("hash"), str)
            ]
            if isinstance(entries, list)
            else []
        )
    old = metadata.get("hashes")  # lock-version 1.0: bare sha256 digests
    for name, digests in old.items() if isinstance(old, dict) else ():
        listed = out.setdefault(canonicalize_name(name), [])
        for digest in digests if isinstance(digests, list) else []:
            if isinstance(digest, str):
                listed.append(("", f"sha256:{digest}"))
    return out


def _read_package(
    lock: LockBuilder,
    raw: Any,
    line: int | None,
    files: dict[str, list[tuple[str, str]]],
    folder: str,
) -> Locked | None:
    named = lock.named_entry(raw, line, version_required=True)
    if named is None:
        return None
    entry, name, version = named
    source = _source(entry.get("source"), folder)
    if source is None:
        lock.error(line, f"package {name!r}: cannot read [package.source]")
    component = pypi_component(
        name,
        version,
        lock.evidence(line),
        sources=(source,) if source else (),
        hashes=hashes(_file_hashes(entry, files, name, version)),
    )
    category = entry.get("category")
    groups = entry.get("groups")
    if isinstance(groups, list):
        names = tuple(g for g in groups if isinstance(g, str))
    else:
        names = (category,) if isinstance(category, str) else ()
    return Locked(component, line, names, entry.get("optional") is True, _markers(entry))


def _file_hashes(
    entry: dict[str, Any],
    files: dict[str, list[tuple[str, str]]],
    name: str,
    version: str | None,
) -> list[Any]:
    own = entry.get("files")
    if isinstance(own, list):
        return [f.get("hash") for f in own if isinstance(f, dict)]
    listed = files.get(canonicalize_name(name), [])
    if version:
        # Lock-version 1.x keys files by name only: keep this version's when it can tell.
        of_version = re.compile(rf"-{re.escape(version)}(-|\.tar|\.zip|\.whl|\.egg)")
        mine = [h for f, h in listed if of_version.search(f)]
        return mine or [h for _, h in listed]
    return [h for _, h in listed]


def _markers(entry: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    markers = entry.get("markers")
    if isinstance(markers, str):
        return (("", markers),)
    if isinstance(markers, dict):
        return tuple((str(g), m) for g, m in markers.items() if isinstance(m, str))
    return ()


def _source(raw: Any, folder: str) -> Source | None:
    """``[package.source]`` (git, url, directory, file, legacy index); no table means
    the default index. None when the table cannot be read."""
    if raw is None:
        return _DEFAULT_INDEX
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        return None
    kind, url = raw.get("type"), raw["url"]
    subdirectory = raw.get("subdirectory") if isinstance(raw.get("subdirectory"), str) else None
    if kind == "git":
        resolved = raw.get("resolved_reference")
        reference = raw.get("reference")
        commit = (
            resolved.lower()
            if isinstance(resolved, str) and is_full_commit(resolved.lower())
            else None
        )
        return Source(
            SourceKind.VCS,
            url=vcs_uri(url if url.startswith("git+") else f"git+{url}"),
            ref=reference if isinstance(reference, str) else None,
            commit=commit,
            subdirectory=subdirectory,
        )
    if kind == "url":
        return Source(SourceKind.URL, url=url, subdirectory=subdirectory)
    if kind in ("directory", "file"):
        return Source(
            SourceKind.PATH,
            url=local_path(folder, url),
            editable=raw.get("develop") is True,
            subdirectory=subdirectory,
        )
    return Source(SourceKind.REGISTRY, url=url)  # legacy / primary / supplemental / explicit


def _package_edges(lock: LockBuilder, item: Locked, entry: dict[str, Any]) -> None:
    deps = entry.get("dependencies")
    if deps is None:
        return
    name = item.component.name
    if not isinstance(deps, dict):
        lock.error(item.line, f"package {name!r}: [package.dependencies] is not a table")
        return
    extra_of = _extras_by_dependency(entry.get("extras"))
    for dep_name, specs in deps.items():
        for spec in specs if isinstance(specs, list) else [specs]:
            _package_edge(lock, item, str(dep_name), spec, extra_of)


def _package_edge(
    lock: LockBuilder,
    item: Locked,
    dep_name: str,
    spec: Any,
    extra_of: dict[str, list[str]],
) -> None:
    if isinstance(spec, str):
        spec = {"version": spec}
    if not isinstance(spec, dict):
        lock.error(
            item.line,
            f"package {item.component.name!r}: dependency {dep_name!r}: cannot read {spec!r}",
        )
        return
    optional = spec.get("optional") is True
    version = spec.get("version")
    try:
        constraint = poetry_constraints.constraint(version) if isinstance(version, str) else None
    except ValueError as exc:
        lock.error(item.line, f"package {item.component.name!r}: dependency {dep_name!r}: {exc}")
        return
    targets = pick(lock.by_name.get(canonicalize_name(dep_name), []), constraint)
    markers = spec.get("markers")
    if not targets:
        lock.missing(item, dep_name, conditional=optional or isinstance(markers, str))
        return
    extras = spec.get("extras")
    for target in targets:
        lock.edge(
            item,
            target,
            optional=optional,
            marker=markers if isinstance(markers, str) else None,
            extras=tuple(str(e) for e in extras) if isinstance(extras, list) else (),
            groups=tuple(extra_of.get(canonicalize_name(dep_name), [])) if optional else (),
        )


def _extras_by_dependency(extras: Any) -> dict[str, list[str]]:
    """``[package.extras]`` turned round: the extras that name each dependency."""
    out: dict[str, list[str]] = {}
    for extra, requirements in extras.items() if isinstance(extras, dict) else ():
        for text in requirements if isinstance(requirements, list) else []:
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(text))
            if m:
                out.setdefault(canonicalize_name(m.group(1)), []).append(str(extra))
    return out
