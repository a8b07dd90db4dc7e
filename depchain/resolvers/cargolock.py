"""``Cargo.lock``: the Rust crates compiled into a Python extension (maturin,
setuptools-rust) or any Rust artifact the project ships. Registry and git crates are
``static`` dependencies of the project that owns the lock (mechanism ``cargo-lock``),
with their versions and checksums; workspace members and path crates (no ``source``)
are the project's own code and are marked so. Edges between crates follow the lock's
``dependencies`` lists.

Not everything in the lock ships. The lock merges each crate's normal, build and dev
dependencies for every target, so what each edge is for comes from the manifests: the
``Cargo.toml`` beside the lock, its workspace members and path crates (within the
scanned tree) say ``[build-dependencies]``, ``[dev-dependencies]``,
``[target.'cfg(...)'.dependencies]`` and ``[lib] proc-macro = true``. Registry crates'
manifests are not in the repository: a registry crate is taken as a proc-macro, a
build-script helper (``cc``, ``pkg-config``, ``pyo3-build-config``...) or a platform
crate (``windows-sys``, ``wasi``, ``r-efi``, ``js-sys``...) only by its well-known name,
and the component's ``depchain:cargo-role`` property says so ("inferred from its
name"). From the local crates no other crate depends on:

- crates reached through normal dependencies are ``static`` and ``required``;
- crates reached only through target-specific ones (a ``cfg`` table, a platform crate)
  are ``static`` and ``optional``: they are compiled in for some targets only;
- crates reached only through build dependencies or proc-macros (and everything only
  those use: ``syn``, ``quote``...) are ``build`` edges, not shipped;
- crates reached only through dev-dependencies are ``build`` edges in ``dev`` scope.

The ``depchain:cargo-role`` property gives the reason for each crate that is not
plainly shipped. What the lock alone cannot tell (a registry crate's own
target-specific or build dependencies under an unknown name) stays ``static``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from depchain.errors import InputFileError
from depchain.ids import purl, vcs_uri
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
)
from depchain.redaction import quote
from depchain.resolvers._lock import package_lines
from depchain.resolvers.base import ResolveContext, is_full_commit

NAME = "cargo-lock"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


_CRATE_NAME = re.compile(r"\w[\w-]{0,199}")
"""A package name as Cargo takes one: Unicode letters and digits, ``_`` and ``-``
(crates.io narrows it to ASCII and 64 characters; a path or git crate need not)."""


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    data = ctx.load_toml(path)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise InputFileError(display, "'package' is not an array of tables")
    subject = ctx.subject_for(path)
    linked_into = _extension_module(path, ctx)
    components: dict[tuple[str, str], Component] = {}
    errors: list[InputError] = []
    notes: list[tuple[str, str]] = []
    entries: list[tuple[dict[str, Any], Component, int | None]] = []
    numbered = enumerate(zip(packages, package_lines(text, len(packages)), strict=True), 1)
    for number, (entry, line) in numbered:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("version"), str)
            or not entry["name"].strip()
        ):
            where = f"line {line}" if line is not None else f"package {number}"
            errors.append(InputError(display, f"{where}: [[package]] without a name and version"))
            continue
        where = f"line {line}" if line is not None else f"package {number}"
        if not _CRATE_NAME.fullmatch(entry["name"]):
            errors.append(
                InputError(display, f"{where}: {quote(entry['name'])} is not a crate name")
            )
            continue
        checksum = entry.get("checksum")
        if checksum is not None and not (
            isinstance(checksum, str) and Hash("sha256", checksum).well_formed
        ):  # the package stays; a checksum that is none is not carried as a hash
            errors.append(
                InputError(display, f"{where}: checksum {quote(checksum)} is not a SHA-256")
            )
            entry = {k: v for k, v in entry.items() if k != "checksum"}
        component = _crate(entry, Evidence(display, line, NAME))
        components[(entry["name"], entry["version"])] = component
        entries.append((entry, component, line))
    by_name: dict[str, list[Component]] = {}
    for (name, _), component in components.items():
        by_name.setdefault(name, []).append(component)
    local = {c.id for entry, c, _ in entries if entry.get("source") is None}
    manifests, unreadable = _manifests(path, ctx)
    errors.extend(InputError(e.path, e.message) for e in unreadable)
    if local and not {c.name for _, c, _ in entries if c.id in local} & manifests.keys():
        notes.append(
            (
                display,
                "no Cargo.toml of its crates in the scanned tree: build-only and "
                "target-specific crates are told from well-known crate names only",
            )
        )
    edges: dict[str, list[tuple[str, _Edge]]] = {}
    lines: dict[str, int | None] = {}
    for entry, component, line in entries:
        lines[component.id] = line
        for spec in (
            entry.get("dependencies", []) if isinstance(entry.get("dependencies"), list) else []
        ):
            target = _target(spec, components, by_name)
            if target is None:
                where = f"line {line}" if line is not None else f"crate {quote(entry['name'])}"
                errors.append(
                    InputError(
                        display,
                        f"{where}: crate {quote(entry['name'])} "
                        f"depends on {quote(spec)}, not in the lock",
                    )
                )
                continue
            edges.setdefault(component.id, []).append(
                (target.id, _edge(component, target, manifests, local))
            )
    roles = _roles(local, edges)
    subject, own = _owner(path, ctx, subject, components, local)
    deps: list[Dependency] = []
    shipped = components.values()
    final: list[Component] = []
    for component in shipped:
        kind, scope, why = roles.get(component.id, (DependencyKind.STATIC, Scope.REQUIRED, None))
        added = {("depchain:cargo-role", why)} if why else set()
        if linked_into and kind is DependencyKind.STATIC:  # build-only crates are not linked
            added.add(("depchain:linked-into", linked_into))
        if added:
            component = replace(
                component, properties=tuple(sorted({*component.properties, *added}))
            )
        final.append(component)
        evidence = Evidence(display, lines[component.id], NAME)
        deps.append(Dependency(subject.id, component.id, kind, scope, "cargo-lock", (evidence,)))
        shipped_source = kind is DependencyKind.STATIC
        for target_id, edge in edges.get(component.id, ()):
            edge_scope = Scope.OPTIONAL if edge.target else Scope.REQUIRED
            if edge.section == "dev":
                edge_scope = Scope.DEV
            edge_kind = (
                DependencyKind.STATIC
                if shipped_source and edge.section == "normal"
                else DependencyKind.BUILD
            )
            deps.append(
                Dependency(
                    component.id, target_id, edge_kind, edge_scope, "cargo-lock", (evidence,)
                )
            )
    return Fragment(
        components=(subject, *final),
        dependencies=tuple(deps),
        errors=tuple(errors),
        notes=tuple(notes),
        subjects=(subject.id,) if own else (),
    )


def _owner(
    lock: Path,
    ctx: ResolveContext,
    project: Component,
    components: dict[tuple[str, str], Component],
    local: set[str],
) -> tuple[Component, bool]:
    """Whose crates these are: the Python project the lock is in (a Rust extension
    built into it, as maturin and setuptools-rust build them), else the crate that the
    ``Cargo.toml`` beside the lock declares, a project of its own (``True``)."""
    if any(e.resolver != "scan" for e in project.evidence):
        return project, False
    try:
        manifest = ctx.load_toml(lock.parent / "Cargo.toml")
    except InputFileError:
        return project, False
    package = manifest.get("package")
    name = package.get("name") if isinstance(package, dict) else None
    mine = [c for (n, _), c in components.items() if n == name and c.id in local]
    if len(mine) != 1:
        return project, False  # a virtual workspace: its members ship, no one crate
    return replace(mine[0], type=ComponentType.APPLICATION), True


def _roles(
    local: set[str], edges: dict[str, list[tuple[str, _Edge]]]
) -> dict[str, tuple[DependencyKind, Scope, str | None]]:
    """Each crate's edge from the project: ``static`` when the shipped crates (the local
    crates no other crate depends on) reach it through normal dependencies, ``optional``
    when only through target-specific ones; ``build`` when only build dependencies and
    proc-macros lead to it, ``dev`` scope when only dev-dependencies do. The reason is
    the edge that first left the shipped graph (or ``used only by ...``)."""
    incoming = {t for targets in edges.values() for t, _ in targets}
    roots = {c for c in local if c not in incoming} or set(local)
    if not roots:
        return {}
    levels = [
        _reach(roots, edges, lambda e: e.section == "normal" and e.target is None),
        _reach(roots, edges, lambda e: e.section == "normal"),
        _reach(roots, edges, lambda e: e.section != "dev" and e.target is None),
        _reach(roots, edges, lambda e: e.section != "dev"),
        _reach(roots, edges, lambda e: True),
    ]
    outcome = [
        (DependencyKind.STATIC, Scope.REQUIRED, ""),
        (DependencyKind.STATIC, Scope.OPTIONAL, "target-specific: "),
        (DependencyKind.BUILD, Scope.REQUIRED, "build-only: "),
        (DependencyKind.BUILD, Scope.OPTIONAL, "build-only, target-specific: "),
        (DependencyKind.BUILD, Scope.DEV, "dev-only: "),
    ]
    fallback = [
        "",
        "only through crates compiled for some targets",
        "used only by proc-macros and build dependencies",
        "used only by proc-macros and build dependencies of target-specific crates",
        "used only by [dev-dependencies] (tests, examples, benchmarks)",
    ]
    level_of: dict[str, int] = {}
    for index, reached in enumerate(levels):
        for crate in reached:
            level_of.setdefault(crate, index)
    out: dict[str, tuple[DependencyKind, Scope, str | None]] = {}
    for crate, level in level_of.items():
        kind, scope, prefix = outcome[level]
        if level == 0:
            out[crate] = (kind, scope, None)
            continue
        reasons = sorted(
            edge.why
            for source, targets in edges.items()
            if level_of.get(source, len(levels)) < level
            for target, edge in targets
            if target == crate and edge.why
        )
        out[crate] = (kind, scope, prefix + (reasons[0] if reasons else fallback[level]))
    return out


def _extension_module(path: Path, ctx: ResolveContext) -> str | None:
    """The Python extension module these crates are compiled into, from the enclosing
    project's maturin or setuptools-rust configuration (``None`` when there is none)."""
    folder = path.parent
    while True:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                tool = ctx.load_toml(candidate).get("tool", {})
            except InputFileError:
                return None  # the pyproject's own scan reports it
            maturin = tool.get("maturin", {}) if isinstance(tool, dict) else {}
            if isinstance(maturin, dict) and maturin:
                name = maturin.get("module-name")
                return str(name) if name else "maturin extension"
            rust = tool.get("setuptools-rust", {}) if isinstance(tool, dict) else {}
            modules = rust.get("ext-modules") if isinstance(rust, dict) else None
            if isinstance(modules, list) and modules and isinstance(modules[0], dict):
                return str(modules[0].get("target", "setuptools-rust extension"))
            return None
        if folder == ctx.root or folder.parent == folder:
            return None
        folder = folder.parent


def _crate(entry: dict[str, Any], evidence: Evidence) -> Component:
    name, version = entry["name"], entry["version"]
    source = entry.get("source")
    props: list[tuple[str, str]] = []
    sources: tuple[Source, ...] = ()
    qualifiers: tuple[tuple[str, str], ...] = ()
    if source is None:
        props.append(("depchain:cargo-source", "local: a workspace member or path crate"))
    elif isinstance(source, str) and source.startswith("git+"):
        url, _, commit = source.partition("#")
        repo, _, query = vcs_uri(url).partition("?")
        ref = query.split("=", 1)[1] if "=" in query else None
        sources = (
            Source(
                SourceKind.VCS, url=repo, ref=ref, commit=commit if is_full_commit(commit) else None
            ),
        )
        qualifiers = (("vcs_url", f"{repo}@{commit}" if commit else repo),)
    elif isinstance(source, str) and source.startswith(("registry+", "sparse+")):
        index = source.split("+", 1)[1]
        sources = (Source(SourceKind.REGISTRY, url=index),)
        if source != CRATES_IO and index.rstrip("/") != "https://index.crates.io":
            qualifiers = (("repository_url", index),)
    checksum = entry.get("checksum")
    hashes = (Hash("sha256", checksum.lower()),) if isinstance(checksum, str) else ()
    ident = purl("cargo", name, version, qualifiers=qualifiers)
    return Component(
        id=ident,
        name=name,
        ecosystem="cargo",
        version=version,
        purl=ident,
        hashes=hashes,
        sources=sources,
        evidence=(evidence,),
        properties=tuple(props),
    )


def _target(
    spec: Any, components: dict[tuple[str, str], Component], by_name: dict[str, list[Component]]
) -> Component | None:
    """``"name"``, ``"name version"`` or ``"name version (source)"``."""
    if not isinstance(spec, str):
        return None
    parts = spec.split(" ")
    if len(parts) >= 2:
        return components.get((parts[0], parts[1]))
    found = by_name.get(parts[0], [])
    return found[0] if len(found) == 1 else None


# -- what each crate is for: shipped, build-only, target-specific ----------------------
#
# Cargo.lock lists every crate any build of the workspace may compile, with each crate's
# dependencies merged: normal, build and dev dependencies alike, for every target. What
# each edge is for is written in the manifests: the Cargo.toml of each local crate
# (``[dependencies]``, ``[build-dependencies]``, ``[dev-dependencies]``, the same under
# ``[target.'cfg(...)']``, and ``[lib] proc-macro = true``) is read when it is in the
# scanned tree. Registry crates' manifests are not in the repository, so for them only
# well-known names are used, and the component says the role was inferred.

_PROC_MACROS = frozenset(
    {
        "async-trait",
        "clap_derive",
        "darling_macro",
        "derive_more-impl",
        "displaydoc",
        "enum_dispatch",
        "futures-macro",
        "icu_provider_macros",
        "indoc",
        "num-derive",
        "paste",
        "pin-project-internal",
        "prost-derive",
        "pyo3-macros",
        "rustversion",
        "serde_derive",
        "serde_repr",
        "strum_macros",
        "thiserror-impl",
        "tokio-macros",
        "tracing-attributes",
        "wasm-bindgen-macro",
    }
)
"""Registry crates that are procedural macros (``proc-macro = true`` in their own
manifest, which Cargo.lock does not carry); names ending in ``-derive``/``_derive``,
``-macros``/``_macros`` or ``-macro``/``_macro`` are taken as proc-macros too."""
_PROC_MACRO_SUFFIXES = ("-derive", "_derive", "-macros", "_macros", "-macro", "_macro")
_BUILD_HELPERS = frozenset(
    {
        "autocfg",
        "bindgen",
        "cbindgen",
        "cc",
        "cmake",
        "cxx-build",
        "pkg-config",
        "prost-build",
        "pyo3-build-config",
        "rustc_version",
        "tonic-build",
        "vcpkg",
        "version_check",
    }
)
"""Registry crates that exist to be used by build scripts (``build.rs``): a crate that
depends on one does so in its ``[build-dependencies]``."""
_PLATFORM_PREFIXES = ("windows-", "windows_", "winapi", "wasm-bindgen", "wit-bindgen")
_PLATFORM_CRATES = frozenset(
    {"hermit-abi", "js-sys", "libredox", "r-efi", "redox_syscall", "wasi", "wasip2", "web-sys"}
)
"""Registry crates compiled only for some targets (Windows, WebAssembly/WASI, UEFI,
Hermit, Redox): their dependents declare them under ``[target.'cfg(...)'.dependencies]``."""

_Key = tuple[str, str]


@dataclass(frozen=True)
class _Declared:
    package: str
    section: str
    """``normal``, ``build`` or ``dev``."""
    target: str | None
    """The ``cfg(...)`` or target triple it is declared under, if any."""


@dataclass
class _Manifest:
    display: str
    name: str
    proc_macro: bool
    declared: list[_Declared]


_SECTIONS = {
    "dependencies": "normal",
    "build-dependencies": "build",
    "build_dependencies": "build",
    "dev-dependencies": "dev",
    "dev_dependencies": "dev",
}
_MAX_MANIFESTS = 500


def _manifests(
    lock: Path, ctx: ResolveContext
) -> tuple[dict[str, _Manifest], list[InputFileError]]:
    """The manifests of the workspace's local crates, by package name: the Cargo.toml
    beside the lock, its ``[workspace] members`` and the ``path`` dependencies of every
    manifest read, within the scanned tree. Also the manifests that could not be read."""
    found: dict[str, _Manifest] = {}
    unreadable: list[InputFileError] = []
    root = ctx.root.resolve()
    queue = [lock.parent / "Cargo.toml"]
    seen: set[Path] = set()
    while queue and len(seen) < _MAX_MANIFESTS:
        path = queue.pop(0)
        try:
            real = path.resolve()
        except OSError:
            continue
        if real in seen or not real.is_file() or not real.is_relative_to(root):
            continue
        seen.add(real)
        try:
            data = ctx.load_toml(path)
        except InputFileError as exc:
            unreadable.append(exc)
            continue
        workspace = data.get("workspace") if isinstance(data.get("workspace"), dict) else {}
        assert isinstance(workspace, dict)
        excluded = {
            (path.parent / e).resolve()
            for e in workspace.get("exclude", [])
            if isinstance(e, str) and ".." not in PurePosixPath(e).parts
        }
        for pattern in (
            workspace.get("members", []) if isinstance(workspace.get("members"), list) else []
        ):
            if (
                not isinstance(pattern, str)
                or pattern.startswith("/")
                or ".." in PurePosixPath(pattern).parts
            ):
                continue
            for member in _members(path.parent, pattern):
                if member.resolve() not in excluded:
                    queue.append(member / "Cargo.toml")
        shared = (
            workspace.get("dependencies") if isinstance(workspace.get("dependencies"), dict) else {}
        )
        assert isinstance(shared, dict)
        for table in (shared, *_dependency_tables(data)):
            for spec in table.values():
                if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                    queue.append(path.parent / spec["path"] / "Cargo.toml")
        package = data.get("package")
        if isinstance(package, dict) and isinstance(package.get("name"), str):
            lib = data.get("lib") if isinstance(data.get("lib"), dict) else {}
            assert isinstance(lib, dict)
            proc_macro = lib.get("proc-macro") is True or lib.get("proc_macro") is True
            found.setdefault(
                package["name"],
                _Manifest(ctx.display(path), package["name"], proc_macro, _declared(data, shared)),
            )
    return found, unreadable


def _members(folder: Path, pattern: str) -> list[Path]:
    """The folders a ``workspace.members`` entry names: ``"."`` (ripgrep's fuzz
    crate: the workspace is the package itself) and ``./crates/*`` included, which
    ``Path.glob`` refuses (an empty pattern raises)."""
    relative = PurePosixPath(pattern).as_posix()
    if relative in {"", "."}:
        return [folder]
    return sorted(folder.glob(relative))


def _dependency_tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    tables = [data.get(s) for s in _SECTIONS]
    targets = data.get("target")
    if isinstance(targets, dict):
        for per_target in targets.values():
            if isinstance(per_target, dict):
                tables.extend(per_target.get(s) for s in _SECTIONS)
    return [t for t in tables if isinstance(t, dict)]


def _declared(data: dict[str, Any], shared: dict[str, Any]) -> list[_Declared]:
    """Every dependency a manifest declares, by the package name it names."""
    where: list[tuple[Any, str, str | None]] = [
        (data.get(key), section, None) for key, section in _SECTIONS.items()
    ]
    targets = data.get("target")
    if isinstance(targets, dict):
        for cfg, per_target in targets.items():
            if isinstance(per_target, dict):
                where.extend((per_target.get(k), s, str(cfg)) for k, s in _SECTIONS.items())
    out: list[_Declared] = []
    for table, section, target in where:
        if not isinstance(table, dict):
            continue
        for key, spec in table.items():
            package = str(key)
            if isinstance(spec, dict):
                if spec.get("workspace") is True and isinstance(shared.get(key), dict):
                    spec = shared[key]
                if isinstance(spec.get("package"), str):
                    package = spec["package"]
            out.append(_Declared(package, section, target))
    return out


@dataclass(frozen=True)
class _Edge:
    section: str
    """``normal``, ``build`` or ``dev``."""
    target: str | None
    why: str | None
    """Why the edge is not a plain shipped one, for the component that it brings in."""


def _proc_macro(name: str, manifests: dict[str, _Manifest], local: bool) -> str | None:
    """Why the crate ``name`` is a procedural macro, or None."""
    manifest = manifests.get(name) if local else None
    if manifest is not None:
        return (
            f"a proc-macro ({manifest.display}: [lib] proc-macro = true)"
            if manifest.proc_macro
            else None
        )
    if not local and (name in _PROC_MACROS or name.endswith(_PROC_MACRO_SUFFIXES)):
        return "a proc-macro (inferred from its name: Cargo.lock does not record it)"
    return None


def _edge(
    source: Component, target: Component, manifests: dict[str, _Manifest], local: set[str]
) -> _Edge:
    macro = _proc_macro(target.name, manifests, target.id in local)
    manifest = manifests.get(source.name) if source.id in local else None
    declared = [d for d in manifest.declared if d.package == target.name] if manifest else []
    if declared:
        sections = {d.section for d in declared}
        section = next(s for s in ("normal", "build", "dev") if s in sections)
        targets = [d.target for d in declared if d.section == section]
        cfg = None if None in targets else targets[0]
        assert manifest is not None
        if macro and section == "normal":
            return _Edge("build", cfg, macro)
        why = {
            "normal": None,
            "build": f"a [build-dependencies] entry of {source.name} ({manifest.display})",
            "dev": f"a [dev-dependencies] entry of {source.name} ({manifest.display})",
        }[section]
        if cfg is not None:
            why = why or f"declared for {cfg} only ({manifest.display})"
        return _Edge(section, cfg, why)
    if macro:
        return _Edge("build", None, macro)
    if target.id not in local and target.name in _BUILD_HELPERS:
        return _Edge("build", None, "a build-script helper (inferred from its name)")
    if target.id not in local and (
        target.name in _PLATFORM_CRATES or target.name.startswith(_PLATFORM_PREFIXES)
    ):
        why = "a platform crate (inferred from its name)"
        return _Edge("normal", "inferred", why)
    return _Edge("normal", None, None)


def _reach(
    starts: set[str], edges: dict[str, list[tuple[str, _Edge]]], follow: Callable[[_Edge], bool]
) -> set[str]:
    seen = set(starts)
    queue = list(starts)
    while queue:
        current = queue.pop()
        for target, edge in edges.get(current, ()):
            if target not in seen and follow(edge):
                seen.add(target)
                queue.append(target)
    return seen
