"""A distribution as a component, and its ``Requires-Dist`` as edges, evaluated against
an environment's own markers (never the interpreter that runs depchain).

In an installed environment an extra is a dependency only where the installer activated
it (:func:`active_extras`): because an active requirement of a dependent asks for it
(``jupyter-events`` requires ``jsonschema[format-nongpl]``), or because the user evidently
asked for it (``pip install uvicorn[standard]``), which is inferred, and said so in the
edge's evidence. The requirements of an active extra are required edges; those of an
inactive extra are no edges at all.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

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
from depchain.redaction import quote

_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]|['"]([^'"]+)['"]\s*==\s*extra\b""")
INFERRED = "environment:inferred-extra"
"""The resolver named by the evidence of an extra inferred from the environment (the
distribution's ``REQUESTED`` file): nothing recorded which extras the user asked for."""
_DEVELOPMENT = re.compile(
    r"^(test|tests|testing|dev|devel|develop|development|doc|docs|documentation|lint|"
    r"linting|typing|mypy|coverage|cov|bench|benchmark|benchmarks|perf|qa|style|check)"
    r"(-.*)?$"
)
"""Extras that set up a checkout for development, not a deployment."""


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


def _canon(name: str) -> str:
    return str(canonicalize_name(name))


def marker_extras(req: Requirement, normalise: bool = True) -> list[str]:
    """The extras a requirement's marker names (``extra == "x"``)."""
    if req.marker is None:
        return []
    found = (a or b for a, b in _EXTRA.findall(str(req.marker)))
    return list(dict.fromkeys(_canon(e) if normalise else e for e in found if e))


def applies(req: Requirement, markers: Mapping[str, str], extra: str = "") -> bool:
    """Whether ``req`` holds in an environment with these markers, for ``extra`` (the
    empty string: the distribution's own requirements, no extra)."""
    if req.marker is None:
        return True
    try:
        return bool(req.marker.evaluate({**markers, "extra": extra}))
    except (UndefinedEnvironmentName, UndefinedComparison, InvalidMarker, ValueError):
        return False


class MarkerCheck:
    """:func:`applies` for one environment's markers, each answer kept: resolving an
    environment asks the same requirement the same question many times, for each extra
    of its distribution in turn."""

    _OTHER = "\0other"
    """The key of the answer for every extra the marker does not name."""

    def __init__(self, markers: Mapping[str, str]) -> None:
        self.markers = markers
        self._answers: dict[tuple[int, str], tuple[Requirement, bool]] = {}
        self._named: dict[int, tuple[Requirement, frozenset[str] | None]] = {}
        self._canon: dict[str, str] = {}
        self.parsed: dict[str, Requirement | str] = {}
        """Each ``Requires-Dist`` text read so far, parsed (see :func:`parse_requires`)."""

    def __call__(self, req: Requirement, extra: str = "") -> bool:
        if req.marker is None:
            return True
        key = (id(req), extra)
        known = self._answers.get(key)
        if known is not None and known[0] is req:  # (the requirement is kept: its id too)
            return known[1]
        other = None
        if extra:
            named = self._named.get(id(req))
            if named is None or named[0] is not req:
                named = (req, _extra_names(req.marker._markers))
                self._named[id(req)] = named
            canonical = self._canon.get(extra)
            if canonical is None:
                canonical = self._canon[extra] = _canon(extra)
            if named[1] is not None and canonical not in named[1]:
                # a marker that tests ``extra`` only for equality with names: every
                # extra it does not name gives the same answer
                other = (id(req), self._OTHER)
                known = self._answers.get(other)
        if known is None or known[0] is not req:
            known = (req, applies(req, self.markers, extra))
            if other is not None:
                self._answers[other] = known
        self._answers[key] = known
        return known[1]


def _extra_names(parsed: object) -> frozenset[str] | None:
    """The extras (normalised) a parsed marker compares ``extra`` with, where it tests
    ``extra`` only with ``==`` and ``!=`` against names (an empty set where it never
    names ``extra``); None for any other use of ``extra``, or a parsed form this does
    not know (packaging's own, ``Marker._markers``: lists of ``(Variable, Op, Value)``
    and ``"and"``/``"or"``)."""
    names: set[str] = set()
    stack = [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item not in {"and", "or"}:
                return None
            continue
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, tuple) or len(item) != 3:
            return None
        lhs, op, rhs = item
        kinds = (type(lhs).__name__, type(op).__name__, type(rhs).__name__)
        values = tuple(getattr(x, "value", None) for x in item)
        if kinds[1] != "Op" or not all(isinstance(v, str) for v in values):
            return None
        for side, other in ((0, 2), (2, 0)):
            if kinds[side] == "Variable" and values[side] == "extra":
                if kinds[other] != "Value" or values[1] not in {"==", "!="}:
                    return None
                names.add(_canon(str(values[other])))
            elif kinds[side] not in {"Variable", "Value"}:
                return None
    return frozenset(names)


def _requirement(text: str) -> Requirement | str:
    """The requirement ``text`` says, or why it is not one (one line)."""
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        return str(exc).splitlines()[0]


def parse_requires(
    dist: Distribution, evidence: Evidence | None = None, check: MarkerCheck | None = None
) -> tuple[list[tuple[str, Requirement]], list[InputError]]:
    """The distribution's ``Requires-Dist``, parsed (with ``check``: each text once for
    all the steps and distributions that share it; the objects are shared, and nothing
    here changes a requirement once made), and an error for each that is not one."""
    reqs: list[tuple[str, Requirement]] = []
    errors: list[InputError] = []
    parsed = check.parsed if check is not None else {}
    for text in dist.requires:
        req = parsed.get(text)
        if req is None:
            req = parsed[text] = _requirement(text)
        if not isinstance(req, str):
            reqs.append((text, req))
        elif evidence is not None:
            errors.append(InputError(evidence.path, f"Requires-Dist {quote(text)}: {req}"))
    return reqs, errors


@dataclass(frozen=True)
class Installed:
    """An installed distribution, as :func:`active_extras` needs it."""

    dist: Distribution
    evidence: Evidence
    """Its ``METADATA``."""
    requested: Evidence | None = None
    """Its ``REQUESTED`` file, where the installer wrote one (the user named it)."""
    lines: Mapping[str, int] = field(default_factory=dict)
    """The ``METADATA`` line of each ``Requires-Dist`` (its text as read)."""

    def at(self, text: str) -> Evidence:
        """The evidence of one of its ``Requires-Dist``: the ``METADATA`` line."""
        line = self.lines.get(text)
        return self.evidence if line is None else replace(self.evidence, line=line)


Active = dict[str, dict[str, tuple[Evidence, ...]]]
"""Per distribution (normalised name): its active extras (normalised), each with the
evidence that activated it."""


def active_extras(
    installed: Mapping[str, Installed],
    markers: Mapping[str, str],
    check: MarkerCheck | None = None,
) -> Active:
    """The extras the installer activated in an environment.

    1. An active requirement that asks for extras activates them, and the requirements
       of an active extra are active in turn, to a fixed point. Each (distribution,
       extra) pair is expanded once, so the iteration ends after at most as many steps
       as there are such pairs in the metadata (and a hard bound guards it anyway). A
       requirement whose marker is false here, or that only an inactive extra brings in,
       activates nothing.
    2. Then the extras the user evidently asked for (``pip install uvicorn[standard]``)
       are inferred (:func:`_inferred`), and step 1 continues from them.
    """
    holds = check if check is not None else MarkerCheck(markers)
    parsed = {name: parse_requires(i.dist, None, holds)[0] for name, i in installed.items()}
    active: dict[str, dict[str, list[Evidence]]] = {name: {} for name in installed}
    queue: deque[tuple[str, str]] = deque((name, "") for name in installed)
    expanded: set[tuple[str, str]] = set()
    bound = len(installed) + sum(len(r.extras) + 1 for reqs in parsed.values() for _, r in reqs)

    def run() -> None:
        steps = 0
        while queue and steps <= bound:
            name, extra = queue.popleft()
            if (name, extra) in expanded:
                continue
            expanded.add((name, extra))
            steps += 1
            for text, req in parsed[name]:
                if not holds(req, extra) or (extra and holds(req)):
                    continue
                target = _canon(req.name)
                if target not in installed:
                    continue
                for wanted in sorted({_canon(e) for e in req.extras}):
                    why = active[target].setdefault(wanted, [])
                    evidence = installed[name].at(text)
                    if evidence not in why:
                        why.append(evidence)
                    if (target, wanted) not in expanded:
                        queue.append((target, wanted))

    run()
    for name, extra in _inferred(installed, parsed, active, holds):
        requested = installed[name].requested
        assert requested is not None
        active[name].setdefault(extra, []).insert(0, replace(requested, resolver=INFERRED))
        queue.append((name, extra))
    run()
    return {name: {e: tuple(w) for e, w in extras.items()} for name, extras in active.items()}


def _inferred(
    installed: Mapping[str, Installed],
    parsed: Mapping[str, list[tuple[str, Requirement]]],
    active: Mapping[str, Mapping[str, object]],
    holds: MarkerCheck,
) -> list[tuple[str, str]]:
    """Extras the user evidently asked for. Installers record which distributions the
    user named (``REQUESTED``), not the extras; an extra ``E`` of ``D`` is inferred when

    - ``D`` is ``REQUESTED``, and every requirement ``E`` adds here is installed at a
      version it allows, recursively through the extras those requirements ask for;
    - ``E`` accounts for an installed distribution ``T`` that nothing else accounts for:
      no active requirement reaches ``T``, no other extra whose requirements are all
      installed would bring ``T`` in, and ``T`` is not ``REQUESTED`` itself (the user did
      not name it);
    - where every distribution is ``REQUESTED`` (a ``pip install -r`` of a frozen list),
      ``REQUESTED`` tells nothing about ``T``: then ``E`` is not a development extra
      (``test``, ``dev``, ``docs``...) nor named after ``T`` (``sentry-sdk[celery]``,
      ``celery[gevent]``: the integration a user gets by installing ``T``). Such an
      extra is no evidence, but it still stands for the user installing ``T`` directly,
      so ``T`` is ambiguous (``pandas[xml]`` does not explain ``lxml`` beside
      ``beautifulsoup4[lxml]``).

    One round: what an inferred extra activates does not feed further inference.
    """
    reached = {
        _canon(req.name)
        for name, reqs in parsed.items()
        for extra in ("", *active[name])
        for _, req in reqs
        if holds(req, extra) and (not extra or not holds(req))
    }
    informative = any(installed[name].requested is None for name in reached if name in installed)

    def adds(name: str, extra: str) -> list[Requirement]:
        return [req for _, req in parsed[name] if holds(req, extra) and not holds(req)]

    def satisfied(req: Requirement, seen: set[tuple[str, str]]) -> bool:
        target = installed.get(_canon(req.name))
        if target is None:
            return False
        try:
            version = Version(target.dist.version)
        except InvalidVersion:
            return False
        if not req.specifier.contains(version, prereleases=True):
            return False
        for extra in {_canon(e) for e in req.extras}:
            key = (_canon(req.name), extra)
            if key in seen:
                continue
            seen.add(key)
            if not all(satisfied(r, seen) for r in adds(key[0], extra)):
                return False
        return True

    # who could account for each distribution nothing else reaches; an extra that is
    # no evidence (a development extra, or one named after the distribution, in a
    # frozen install) still competes: it stands for the user installing that target
    explains: dict[str, list[tuple[str, str, bool]]] = {}
    for name, inst in sorted(installed.items()):
        if inst.requested is None:
            continue
        candidates = {e for _, req in parsed[name] for e in marker_extras(req)}
        candidates |= {_canon(e) for e in inst.dist.extras}
        for extra in sorted(candidates - set(active[name])):
            reqs = adds(name, extra)
            if not reqs or not all(satisfied(r, {(name, extra)}) for r in reqs):
                continue
            for req in reqs:
                target = _canon(req.name)
                if target in reached or target == name:
                    continue
                if informative and installed[target].requested is not None:
                    continue
                evidence = informative or not (
                    _DEVELOPMENT.match(extra) or target.replace("-", "") in extra.replace("-", "")
                )
                explains.setdefault(target, []).append((name, extra, evidence))
    return sorted({(c[0][0], c[0][1]) for c in explains.values() if len(c) == 1 and c[0][2]})


def requires_edges(
    dist: Distribution,
    source_id: str,
    evidence: Evidence,
    markers: dict[str, str] | None,
    installed: Callable[[str], Component | None],
    mechanism: str,
    active: Mapping[str, Iterable[Evidence]] | None = None,
    lines: Mapping[str, int] | None = None,
    check: MarkerCheck | None = None,
) -> tuple[list[Component], list[Dependency], list[InputError]]:
    """Edges for each ``Requires-Dist``.

    With ``markers`` (an installed environment): a requirement holds where its marker is
    true without an extra, or with one of the ``active`` extras (the extras the installer
    activated, each with the evidence that activated it; see :func:`active_extras`);
    either way it is a required edge, and a target that is missing becomes a versionless
    component marked not installed. The requirements of other extras are no edges.
    ``lines`` gives the ``METADATA`` line of a requirement's text, for its evidence;
    ``check``: a :class:`MarkerCheck` of the same ``markers``, to share its answers.
    Without markers (a wheel): every requirement, as declared, an extra's as optional.
    """
    components: list[Component] = []
    deps: list[Dependency] = []
    holds = check if check is not None or markers is None else MarkerCheck(markers)
    reqs, errors = parse_requires(dist, evidence, holds)
    on = {_canon(e): tuple(w) for e, w in (active or {}).items()}
    for text, req in reqs:
        marker = str(req.marker) if req.marker else None
        line = (lines or {}).get(text)
        seen = evidence if line is None else replace(evidence, line=line)
        if markers is None:
            extras_for = marker_extras(req, normalise=False) or [""]
            for extra in extras_for:
                target = pypi_component(req.name, None, seen)
                components.append(target)
                deps.append(_edge(source_id, target, req, mechanism, marker, extra, (seen,)))
            continue
        assert holds is not None
        if holds(req):
            groups: list[str] = []
        else:
            groups = [e for e in sorted(on) if holds(req, e)]
            if not groups:
                continue  # false here, or only an inactive extra brings it in
        target_or_none = installed(_canon(req.name))
        if target_or_none is None:
            target = replace(
                pypi_component(req.name, None, seen),
                properties=(("depchain:not-installed", "required but not in this environment"),),
            )
        else:
            target = target_or_none
        why = tuple(dict.fromkeys([seen, *(w for e in groups for w in on[e])]))
        components.append(target)
        deps.append(
            replace(
                _edge(source_id, target, req, mechanism, marker, "", why),
                groups=tuple(groups),
            )
        )
    return components, deps, errors


def _edge(
    source: str,
    target: Component,
    req: Requirement,
    mechanism: str,
    marker: str | None,
    extra: str,
    evidence: tuple[Evidence, ...],
) -> Dependency:
    return Dependency(
        source=source,
        target=target.id,
        kind=DependencyKind.DYNAMIC,
        scope=Scope.OPTIONAL if extra else Scope.REQUIRED,
        mechanism=mechanism,
        evidence=evidence,
        specifier=str(req.specifier) or None,
        marker=marker,
        extras=tuple(sorted(req.extras)),
        groups=(extra,) if extra else (),
    )
