"""``Cargo.lock``: the Rust crates compiled into a Python extension (maturin,
setuptools-rust) or any Rust artifact the project ships. Registry and git crates are
``static`` dependencies of the project that owns the lock (mechanism ``cargo-lock``),
with their versions and checksums; workspace members and path crates (no ``source``)
are the project's own code and are marked so. Edges between crates follow the lock's
``dependencies`` lists."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from depchain.errors import InputFileError
from depchain.ids import purl, vcs_uri
from depchain.model import (
    Component,
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
from depchain.resolvers._lock import package_lines
from depchain.resolvers.base import ResolveContext, is_full_commit

NAME = "cargo-lock"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


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
    entries: list[tuple[dict[str, Any], Component, int | None]] = []
    for entry, line in zip(packages, package_lines(text, len(packages)), strict=True):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("version"), str)
        ):
            errors.append(
                InputError(display, f"line {line}: [[package]] without a name and version")
            )
            continue
        component = _crate(entry, Evidence(display, line, NAME))
        if linked_into:
            component = replace(
                component,
                properties=tuple(
                    sorted({*component.properties, ("depchain:linked-into", linked_into)})
                ),
            )
        components[(entry["name"], entry["version"])] = component
        entries.append((entry, component, line))
    deps: list[Dependency] = []
    by_name: dict[str, list[Component]] = {}
    for (name, _), component in components.items():
        by_name.setdefault(name, []).append(component)
    for entry, component, line in entries:
        evidence = Evidence(display, line, NAME)
        deps.append(
            Dependency(
                subject.id,
                component.id,
                DependencyKind.STATIC,
                Scope.REQUIRED,
                "cargo-lock",
                (evidence,),
            )
        )
        for spec in (
            entry.get("dependencies", []) if isinstance(entry.get("dependencies"), list) else []
        ):
            target = _target(spec, components, by_name)
            if target is None:
                errors.append(
                    InputError(
                        display,
                        f"line {line}: crate {entry['name']!r} "
                        f"depends on {spec!r}, not in the lock",
                    )
                )
                continue
            deps.append(
                Dependency(
                    component.id,
                    target.id,
                    DependencyKind.STATIC,
                    Scope.REQUIRED,
                    "cargo-lock",
                    (evidence,),
                )
            )
    return Fragment(
        components=(subject, *components.values()), dependencies=tuple(deps), errors=tuple(errors)
    )


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
