"""``setup.cfg`` static metadata: parsed as INI, never executed.

Reads ``[metadata] name/version``, ``[options] install_requires`` (runtime),
``setup_requires`` (build), ``tests_require`` (dev) and ``[options.extras_require]``
(optional), and the PEP 345-style ``requires-dist`` some projects keep in
``[metadata]``.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from depchain.ids import pypi_component
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
    Source,
    SourceKind,
)
from depchain.resolvers.base import (
    LineIndex,
    ResolveContext,
    ini_problem,
    refuse_long_ini_lines,
    requirement,
)

NAME = "setup-cfg"


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    refuse_long_ini_lines(text, display)
    try:
        parser.read_string(text, source=display)
    except configparser.Error as exc:
        from depchain.errors import InputFileError

        raise InputFileError(display, f"invalid setup.cfg: {ini_problem(exc)}") from None
    lines = LineIndex(text)
    name = parser.get("metadata", "name", fallback=None)
    version = parser.get("metadata", "version", fallback=None)
    if version and version.startswith(("attr:", "file:")):
        version = None  # computed by setuptools at build time: not read statically
    is_project = bool(name)
    if name:
        folder = ctx.display(path.parent) if path.parent != ctx.root else "."
        subject: Component = pypi_component(
            name,
            version,
            Evidence(display, lines.find(tables=("metadata",), key="name"), NAME),
            sources=(Source(SourceKind.PATH, url=folder),),
            ctype=ComponentType.APPLICATION,
        )
    else:
        subject = ctx.subject_for(path)
    components: list[Component] = [subject]
    deps: list[Dependency] = []
    errors: list[InputError] = []

    def add(
        section: str,
        key: str,
        kind: DependencyKind,
        scope: Scope,
        mechanism: str,
        group: str | None = None,
    ) -> None:
        raw = parser.get(section, key, fallback="")
        for item in raw.splitlines():
            item = item.split(" #")[0].strip()
            if not item or item.startswith("#"):
                continue
            line = lines.find(tables=(section,), key=key)
            line = next(
                (i + 1 for i in range((line or 1) - 1, len(lines.lines)) if item in lines.lines[i]),
                line,
            )
            try:
                comp, dep = requirement(
                    item,
                    subject.id,
                    Evidence(display, line, NAME),
                    kind=kind,
                    scope=scope,
                    mechanism=mechanism,
                    group=group,
                )
            except ValueError as exc:
                errors.append(
                    InputError(display, f"line {line}: invalid requirement {item!r}: {exc}")
                )
                continue
            components.append(comp)
            deps.append(dep)

    add("options", "install_requires", DependencyKind.DYNAMIC, Scope.REQUIRED, "requirement")
    add("metadata", "requires-dist", DependencyKind.DYNAMIC, Scope.REQUIRED, "requirement")
    add("options", "setup_requires", DependencyKind.BUILD, Scope.REQUIRED, "setup-requires")
    add("options", "tests_require", DependencyKind.BUILD, Scope.DEV, "tests-require", "tests")
    if parser.has_section("options.extras_require"):
        for extra in sorted(parser.options("options.extras_require")):
            add(
                "options.extras_require",
                extra,
                DependencyKind.DYNAMIC,
                Scope.OPTIONAL,
                "extra",
                extra,
            )
    return Fragment(
        components=tuple(components),
        dependencies=tuple(deps),
        errors=tuple(errors),
        subjects=(subject.id,) if is_project else (),
    )
