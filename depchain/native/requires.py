"""A distribution as a component, and its ``Requires-Dist`` as edges, evaluated against
an environment's own markers (never the interpreter that runs depchain)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from packaging.utils import canonicalize_name

from depchain.ids import pypi_component
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    InputError,
    Scope,
)
from depchain.native.distribution import Distribution

_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def dist_component(dist: Distribution, evidence: Evidence) -> Component:
    sources = (dist.direct_url,) if dist.direct_url is not None else ()
    component = pypi_component(dist.name, dist.version, evidence, sources=sources)
    props: list[tuple[str, str]] = [(f"depchain:metadata:{k.lower()}", v) for k, v in dist.metadata]
    if dist.installer:
        props.append(("depchain:installer", dist.installer))
    if dist.wheel_tags:
        props.append(("depchain:wheel-tags", " ".join(dist.wheel_tags)))
    if dist.entry_points:
        props.append(("depchain:entry-points", " ".join(dist.entry_points)))
    return replace(component, properties=tuple(sorted(set(props))))


def requires_edges(
    dist: Distribution,
    source_id: str,
    evidence: Evidence,
    markers: dict[str, str] | None,
    installed: Callable[[str], Component | None],
    mechanism: str,
) -> tuple[list[Component], list[Dependency], list[InputError]]:
    """Edges for each ``Requires-Dist``.

    With ``markers`` (an installed environment): a requirement whose marker is false is
    skipped; an extra's requirement counts only where its target is installed; a
    required target that is missing becomes a versionless component marked not
    installed. Without markers (a wheel): every requirement, as declared.
    """
    from packaging.markers import UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    components: list[Component] = []
    deps: list[Dependency] = []
    errors: list[InputError] = []
    for text in dist.requires:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            errors.append(
                InputError(evidence.path, f"Requires-Dist {text!r}: {str(exc).splitlines()[0]}")
            )
            continue
        marker = str(req.marker) if req.marker else None
        extras_for: list[str | None] = [None]
        if marker is not None and "extra" in marker:
            # installed: try every extra the distribution provides; a wheel: the extras
            # its marker names (the target environment is not known)
            extras_for = (
                list(dist.extras)
                if markers is not None
                else list(dict.fromkeys(_EXTRA.findall(marker)))
            )
        for extra in extras_for:
            if markers is not None and req.marker is not None:
                try:
                    if not req.marker.evaluate({**markers, "extra": extra or ""}):
                        continue
                except UndefinedEnvironmentName:
                    continue
            target = installed(str(canonicalize_name(req.name))) if markers is not None else None
            if target is None:
                if markers is not None and extra is not None:
                    continue  # an extra nobody installed
                target = pypi_component(req.name, None, evidence)
                if markers is not None:
                    target = replace(
                        target,
                        properties=(
                            ("depchain:not-installed", "required but not in this environment"),
                        ),
                    )
            components.append(target)
            deps.append(
                Dependency(
                    source=source_id,
                    target=target.id,
                    kind=DependencyKind.DYNAMIC,
                    scope=Scope.OPTIONAL if extra else Scope.REQUIRED,
                    mechanism=mechanism,
                    evidence=(evidence,),
                    specifier=str(req.specifier) or None,
                    marker=marker,
                    extras=tuple(sorted(req.extras)),
                    groups=(extra,) if extra else (),
                )
            )
    return components, deps, errors
