"""``vendor.txt``: the packages a project copies into its own source tree
(``pip/_vendor/vendor.txt``, ``pipenv/vendor/vendor.txt``): pinned names, indented
transitive pins under their parent, ``# via`` comments.

Each is a ``static`` dependency (mechanism ``vendored``) of the package that vendors
it: the project itself for ``<project>/_vendor``, or, for vendoring inside vendoring
(``pipenv/patched/pip/_vendor``), the vendored package whose folder holds it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name

from depchain.ids import pypi_component
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
)
from depchain.resolvers.base import ResolveContext, requirement

NAME = "vendor-txt"
_VENDOR_DIRS = {"_vendor", "vendor", "vendored", "_vendored", "third_party"}


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    subject = ctx.subject_for(path)
    owner, components, deps = _vendoring_package(path, subject, ctx)
    errors: list[InputError] = []
    parents: list[str] = []
    for number, raw in enumerate(ctx.read_text(path).splitlines(), start=1):
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        evidence = Evidence(display, number, NAME)
        try:
            component, dep = requirement(
                text.strip(),
                owner.id,
                evidence,
                kind=DependencyKind.STATIC,
                scope=Scope.REQUIRED,
                mechanism="vendored",
            )
        except ValueError as exc:
            errors.append(InputError(display, f"line {number}: {exc}"))
            continue
        if component.version is None:
            errors.append(
                InputError(
                    display, f"line {number}: {text.strip()!r} is vendored without an exact version"
                )
            )
        if text[:1].isspace() and parents:  # an indented pin: brought in by the one above
            component = replace(component, properties=(("depchain:vendored-for", parents[-1]),))
        else:
            parents.append(component.name)
        components.append(component)
        deps.append(dep)
    return Fragment(components=tuple(components), dependencies=tuple(deps), errors=tuple(errors))


def _vendoring_package(
    path: Path, subject: Component, ctx: ResolveContext
) -> tuple[Component, list[Component], list[Dependency]]:
    """Who vendors: the folder above the vendor folder names the package. When that is
    not the project itself, it is a package the project carries (vendoring inside
    vendoring), a component of its own with no recorded version."""
    folder = path.parent
    package = folder.parent.name if folder.name in _VENDOR_DIRS else folder.name
    if canonicalize_name(package) == canonicalize_name(subject.name) or not re.match(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*$", package
    ):
        return subject, [subject], []
    where = Evidence(ctx.display(path), None, NAME)
    inner = pypi_component(package, None, where)
    ident = f"{inner.id}?vendored_in={canonicalize_name(subject.name)}"
    inner = replace(
        inner,
        id=ident,
        properties=(
            ("depchain:vendored-in", subject.name),
            ("depchain:version-unknown", "no record of the version vendored"),
        ),
    )
    edge = Dependency(
        subject.id, inner.id, DependencyKind.STATIC, Scope.REQUIRED, "vendored", (where,)
    )
    return inner, [subject, inner], [edge]
