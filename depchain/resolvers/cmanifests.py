"""C and C++ manifests where they are declarative: ``vcpkg.json`` and
``conanfile.txt``. What they name is compiled into the shipped artifact: ``static``
edges (mechanisms ``vcpkg`` and ``conan``); Conan's tool requirements are ``build``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from depchain.errors import InputFileError
from depchain.fileio import parse_json
from depchain.ids import purl
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
)
from depchain.redaction import quote
from depchain.resolvers.base import LineIndex, ResolveContext

NAME = "c-manifests"

_VCPKG_PORT = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""A vcpkg port name, as vcpkg checks it (lowercase letters, digits, dashes)."""


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    if path.name == "vcpkg.json":
        return _vcpkg(path, ctx)
    return _conan(path, ctx)


def _vcpkg(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    data = parse_json(text, display)
    if not isinstance(data, dict):
        raise InputFileError(display, "not a vcpkg manifest (not an object)")
    subject = ctx.subject_for(path)
    lines = LineIndex(text)
    overrides = (
        {
            o["name"]: o.get("version")
            for o in data["overrides"]
            if isinstance(o, dict) and isinstance(o.get("name"), str)
        }
        if isinstance(data.get("overrides"), list)
        else {}
    )
    components: list[Component] = [subject]
    deps: list[Dependency] = []
    errors: list[InputError] = []
    entries: list[Any] = (
        data.get("dependencies", []) if isinstance(data.get("dependencies"), list) else []
    )
    for entry in entries:
        name = (
            entry
            if isinstance(entry, str)
            else entry.get("name")
            if isinstance(entry, dict)
            else None
        )
        if not isinstance(name, str):
            errors.append(InputError(display, f"a dependency without a name: {quote(entry)}"))
            continue
        if not _VCPKG_PORT.fullmatch(name):
            where = lines.find(name) if name else None
            at = f"line {where}: " if where else ""
            errors.append(InputError(display, f"{at}not a vcpkg port name: {quote(name)}"))
            continue
        version = overrides.get(name)
        if version is None and isinstance(entry, dict):
            version = entry.get("version>=")
        if not isinstance(version, (str, int, float)) or isinstance(version, bool):
            version = None
        evidence = Evidence(display, lines.find(name), NAME)
        ident = purl("generic", name, str(version) if version else None, namespace="vcpkg")
        props = (
            [("depchain:version-constraint", f">={entry['version>=']}")]
            if isinstance(entry, dict) and "version>=" in entry
            else []
        )
        components.append(
            Component(
                id=ident,
                name=name,
                ecosystem="vcpkg",
                version=str(version) if version else None,
                purl=ident,
                evidence=(evidence,),
                properties=tuple(props),
            )
        )
        deps.append(
            Dependency(
                subject.id, ident, DependencyKind.STATIC, Scope.REQUIRED, "vcpkg", (evidence,)
            )
        )
    return Fragment(components=tuple(components), dependencies=tuple(deps), errors=tuple(errors))


_CONAN_REF = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.+-]*)/([^@#\s]+)(?:@([^#\s]+))?(?:#(\S+))?$")


def _conan(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    subject = ctx.subject_for(path)
    components: list[Component] = [subject]
    deps: list[Dependency] = []
    errors: list[InputError] = []
    section = None
    for number, raw in enumerate(ctx.read_text(path).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.strip().startswith("[") else raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section not in {"requires", "tool_requires", "build_requires", "test_requires"}:
            continue
        m = _CONAN_REF.match(raw.strip().split()[0])
        if not m:
            errors.append(InputError(display, f"line {number}: not a Conan reference"))
            continue
        name, version, user_channel, revision = m.groups()
        qualifiers = (("channel", user_channel),) if user_channel else ()
        if revision:
            qualifiers = (*qualifiers, ("rrev", revision))
        ident = purl("conan", name, version, qualifiers=qualifiers)
        evidence = Evidence(display, number, NAME)
        components.append(
            Component(
                id=ident,
                name=name,
                ecosystem="conan",
                version=version,
                purl=ident,
                evidence=(evidence,),
            )
        )
        build = section != "requires"
        deps.append(
            Dependency(
                subject.id,
                ident,
                DependencyKind.BUILD if build else DependencyKind.STATIC,
                Scope.DEV if section == "test_requires" else Scope.REQUIRED,
                "conan",
                (evidence,),
            )
        )
    return Fragment(components=tuple(components), dependencies=tuple(deps), errors=tuple(errors))
