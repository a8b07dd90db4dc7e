"""``go.mod`` (and the ``go.sum`` beside it): the Go modules linked into a Go binary
the project ships: ``require`` entries as ``static`` dependencies (mechanism
``go-mod``), ``// indirect`` marked, ``replace`` directives applied, and the module
hashes from ``go.sum``."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from depchain.errors import InputFileError
from depchain.ids import purl
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
)
from depchain.resolvers.base import ResolveContext

NAME = "go-mod"
_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)\s*(//.*)?$")
_MODULE_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~+-]*(?:/[A-Za-z0-9._~+-]+)*")
"""What Go accepts in a module path (no scheme, no ``@``, no ``:``, no empty element)."""
_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+(v\S+))?\s+=>\s+(\S+)(?:\s+(v\S+))?\s*$")


def _golang(path: str, version: str | None) -> str:
    namespace, _, name = path.rpartition("/")
    return purl("golang", name, version, namespace=namespace or None)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    errors: list[InputError] = []
    requires: list[tuple[str, str, bool, int]] = []
    replaces: dict[str, tuple[str, str | None]] = {}
    block = None
    declared = re.search(r"^[ \t]*module[ \t]+\"?([^\s\"]+)", text, re.M)
    if not declared:
        raise InputFileError(display, "no module directive: not a go.mod file")
    subject, own = _owner(path, ctx, declared.group(1), display, text)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line.endswith("(") and line.split()[0] in {"require", "replace", "exclude", "retract"}:
            block = line.split()[0]
            continue
        if line == ")":
            block = None
            continue
        kind = block or line.split()[0]
        if kind == "require":
            m = _REQUIRE.match(line)
            if not m or not _MODULE_PATH.fullmatch(m.group(1)):
                errors.append(InputError(display, f"line {number}: not a require of a module path"))
                continue
            requires.append((m.group(1), m.group(2), "indirect" in (m.group(3) or ""), number))
        elif kind == "replace":
            m = _REPLACE.match(line)
            if not m:
                errors.append(InputError(display, f"line {number}: cannot read this replace"))
                continue
            target = m.group(3)
            local = target.startswith((".", "/"))
            if not local and not _MODULE_PATH.fullmatch(target):
                # a module path has no scheme, credentials or spaces: never echoed
                errors.append(
                    InputError(
                        display,
                        f"line {number}: replace target is neither a module path nor a "
                        "local folder; that replace is ignored",
                    )
                )
                continue
            replaces[m.group(1)] = (target, m.group(4))
    sums = _go_sum(path.parent / "go.sum", ctx)
    components: list[Component] = [subject]
    deps: list[Dependency] = []
    for module, version, indirect, number in requires:
        evidence = Evidence(display, number, NAME)
        props: list[tuple[str, str]] = []
        if indirect:
            props.append(("depchain:go-indirect", "true"))
        linked, linked_version = module, version
        if module in replaces:
            target, target_version = replaces[module]
            props.append(("depchain:replaced-by", f"{target} {target_version or ''}".strip()))
            if not target.startswith((".", "/")):
                linked, linked_version = target, target_version or version
        ident = _golang(linked, linked_version)
        hashes = tuple(sums.get((linked, linked_version), ()))
        components.append(
            Component(
                id=ident,
                name=linked,
                ecosystem="golang",
                version=linked_version,
                purl=ident,
                hashes=hashes,
                evidence=(evidence,),
                properties=tuple(props),
            )
        )
        deps.append(
            Dependency(
                subject.id, ident, DependencyKind.STATIC, Scope.REQUIRED, "go-mod", (evidence,)
            )
        )
    return Fragment(
        components=tuple(components),
        dependencies=tuple(deps),
        errors=tuple(errors),
        subjects=(subject.id,) if own else (),
    )


def _owner(
    path: Path, ctx: ResolveContext, module: str, display: str, text: str
) -> tuple[Component, bool]:
    """Whose requirements these are: the Python project the file is in (a Go extension
    built into it), else the Go module the file declares, a project of its own
    (``True``)."""
    project = ctx.subject_for(path)
    if any(e.resolver != "scan" for e in project.evidence):
        return project, False
    if not _MODULE_PATH.fullmatch(module):
        return project, False
    line = next(
        (n for n, raw in enumerate(text.splitlines(), 1) if raw.strip().startswith("module")), None
    )
    ident = _golang(module, None)
    return (
        Component(
            id=ident,
            name=module,
            ecosystem="golang",
            type=ComponentType.APPLICATION,
            purl=ident,
            evidence=(Evidence(display, line, NAME),),
        ),
        True,
    )


def _go_sum(path: Path, ctx: ResolveContext) -> dict[tuple[str, str], list[Hash]]:
    """The ``h1:`` hashes of modules (not of their go.mod files), as hex, named ``go-h1``:
    Go's "hash 1" is the SHA-256 of a dirhash summary (one line per file of the module
    zip: the file's SHA-256 and its name), not a digest of any file one downloads, so
    it is not reported as ``sha256`` and not exported to CycloneDX as a SHA-256."""
    if not path.is_file():
        return {}
    found: dict[tuple[str, str], list[Hash]] = {}
    for line in ctx.read_text(path).splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1].endswith("/go.mod") or not parts[2].startswith("h1:"):
            continue
        try:
            digest = base64.b64decode(parts[2][3:], validate=True).hex()
        except ValueError:
            continue
        found.setdefault((parts[0], parts[1]), []).append(Hash("go-h1", digest))
    return found
