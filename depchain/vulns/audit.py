"""The audit: every component of a graph, asked of every source that covers it.

``pip_audit/_audit.py`` in spirit: a short pipeline over small interfaces. A component
is either audited (by the names of the sources that checked it) or listed as not
audited with the reason; advisories that several sources (or several records of one
source) report under different ids are merged by their aliases into one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from depchain.graph import DependencyGraph
from depchain.model import Component, ComponentType, Evidence, Finding
from depchain.vulns.interface import (
    ECOSYSTEMS,
    Advisory,
    AuditReport,
    NotAudited,
    Query,
    Severity,
    SourceError,
    VulnerabilitySource,
)

if TYPE_CHECKING:
    from depchain.trust.policy import Ignore

SEVERITY_ORDER = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.UNKNOWN: 3.5,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.NONE: 1,
}
"""Most severe first; an advisory of unknown severity counts as high (``--fail-on``)."""


def queries_of(
    components: Iterable[Component], projects: Iterable[str] = ()
) -> tuple[list[Query], dict[str, str]]:
    """What to ask about each component, and why the others cannot be asked: no exact
    version, or an ecosystem OSV has no name for. The scanned projects themselves are
    not dependencies and are left out."""
    skip = set(projects)
    queries: list[Query] = []
    not_audited: dict[str, str] = {}
    for c in components:
        if c.id in skip or (c.type is ComponentType.APPLICATION and c.ecosystem == "generic"):
            continue
        ecosystem = ECOSYSTEMS.get(c.ecosystem)
        if ecosystem is None:
            not_audited[c.id] = f"no advisory database covers {c.ecosystem} components"
            continue
        if not c.version:
            not_audited[c.id] = "no exact version (pin or lock it to audit it)"
            continue
        if _not_from_a_registry(c):
            not_audited[c.id] = (
                "built from a local path or repository, not a registry release: advisories "
                "name registry releases"
            )
            continue
        queries.append(Query(c.id, ecosystem, c.name, c.version))
    return queries, not_audited


def _not_from_a_registry(component: Component) -> bool:
    from depchain.model import SourceKind

    props = dict(component.properties)
    if props.get("depchain:cargo-source", "").startswith("local"):
        return True
    if "download_url=file" in component.id:
        return True  # a crate of the wheel's own workspace (PEP 770 SBOM)
    kinds = {s.kind for s in component.sources}
    return bool(kinds) and kinds <= {SourceKind.PATH, SourceKind.VCS}


def audit(
    graph: DependencyGraph,
    sources: Sequence[VulnerabilitySource],
    projects: Iterable[str] = (),
) -> AuditReport:
    """Ask every source about every component it covers. A source that fails as a whole
    (:class:`SourceError`) is an error of the report and audits nothing."""
    queries, not_audited = queries_of(graph.components(), projects)
    report = AuditReport()
    found: dict[str, list[Advisory]] = {}
    checked: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    for source in sources:
        report.sources.append(source.info)
        asked = [q for q in queries if source.covers(q)]
        if not asked:
            continue
        try:
            answers = source.query_all(asked)
        except SourceError as exc:
            report.errors.append(str(exc))
            for query in asked:
                reasons.setdefault(query.component, []).append(f"{source.info.name} failed")
            continue
        for query in asked:
            answer = answers.get(query)
            if answer is None:
                reasons.setdefault(query.component, []).append(f"{source.info.name} gave no answer")
            elif isinstance(answer, NotAudited):
                reasons.setdefault(query.component, []).append(
                    f"{source.info.name}: {answer.reason}"
                )
            else:
                checked.setdefault(query.component, []).append(source.info.name)
                found.setdefault(query.component, []).extend(answer)
    for query in queries:
        if query.component in checked:
            report.audited[query.component] = tuple(sorted(set(checked[query.component])))
        elif query.component in reasons:
            not_audited[query.component] = "; ".join(reasons[query.component])
        elif report.sources:
            not_audited[query.component] = f"no advisory data for {query.ecosystem} was used"
        else:
            not_audited[query.component] = "no advisory data (depchain db update, --vuln-db)"
    report.not_audited = dict(sorted(not_audited.items()))
    report.found = {
        component: merge_aliases(advisories)
        for component, advisories in sorted(found.items())
        if advisories
    }
    return report


def merge_aliases(advisories: Iterable[Advisory]) -> list[Advisory]:
    """One advisory per vulnerability: those whose ids (own and aliases) overlap are
    merged (ids and aliases united, fixed versions united, the most severe rating and
    the longer summary kept), most severe first, then by id."""
    groups: list[list[Advisory]] = []
    for advisory in advisories:
        ids = set(advisory.ids)
        joined = [g for g in groups if ids & {i for a in g for i in a.ids}]
        merged_group = [advisory, *(a for g in joined for a in g)]
        groups = [g for g in groups if g not in joined] + [merged_group]
    merged = [_merge(group) for group in groups]
    return sorted(merged, key=lambda a: (-SEVERITY_ORDER[a.severity], a.id))


_ID_PREFERENCE = ("PYSEC-", "RUSTSEC-", "GO-", "GHSA-", "CVE-")


def _merge(group: list[Advisory]) -> Advisory:
    ids = {i for a in group for i in a.ids}

    def rank(identifier: str) -> tuple[int, str]:
        prefix = next((i for i, p in enumerate(_ID_PREFERENCE) if identifier.startswith(p)), 9)
        return prefix, identifier

    primary = min(ids, key=rank)
    worst = max(group, key=lambda a: SEVERITY_ORDER[a.severity])
    rated = [a for a in group if a.severity is not Severity.UNKNOWN]
    severity = (
        max(rated, key=lambda a: SEVERITY_ORDER[a.severity]).severity if rated else worst.severity
    )
    return replace(
        max(group, key=lambda a: (len(a.summary), a.id)),
        id=primary,
        aliases=tuple(sorted(ids - {primary})),
        severity=severity,
        cvss=tuple(sorted({c for a in group for c in a.cvss}, key=lambda c: c.vector)),
        fixed_in=tuple(dict.fromkeys(v for a in group for v in a.fixed_in)),
        references=tuple(dict.fromkeys(r for a in group for r in a.references))[:5],
        published=min((a.published for a in group if a.published), default=None),
        source=", ".join(sorted({a.source for a in group if a.source})),
    )


def findings_of(
    report: AuditReport,
    graph: DependencyGraph,
    ignores: Sequence[Ignore],
    evidence_of: Callable[[str], tuple[Evidence, ...]],
    today: dt.date | None = None,
) -> tuple[list[Finding], dict[tuple[str, str], Ignore]]:
    """DC024 for each advisory of each component, at the advisory's severity, with the
    evidence of the line that brought the component in; what a live ignore covers is
    left out (and returned, so that reports can say it was ignored); an expired ignore
    hides nothing and is itself a finding (DC020)."""
    from depchain.trust.catalogue import BY_ID

    today = today or dt.datetime.now(dt.timezone.utc).date()
    gap = BY_ID["DC024"]
    findings: list[Finding] = []
    ignored: dict[tuple[str, str], Ignore] = {}
    for component, advisories in report.found.items():
        node = graph.node(component) if component in graph else None
        name = node.name if isinstance(node, Component) else None
        own = tuple(node.evidence[:3]) if node is not None else ()
        evidence = own or evidence_of(component)  # its own entry: the line a fix changes
        for advisory in advisories:
            live = next(
                (
                    i
                    for i in ignores
                    if i.expires >= today and i.matches(advisory.ids, component, name)
                ),
                None,
            )
            if live is not None:
                ignored[(component, advisory.id)] = live
                continue
            case = advisory.severity.value if advisory.severity.value in _CASES else None
            fixed = f"; fixed in {', '.join(advisory.fixed_in[:3])}" if advisory.fixed_in else ""
            also = f" ({', '.join(advisory.aliases[:3])})" if advisory.aliases else ""
            findings.append(
                Finding(
                    "DC024",
                    gap.severity_for(case).value,
                    f"{name or component} {node.version if isinstance(node, Component) else ''}"
                    f" is affected by {advisory.id}{also}: {advisory.summary[:120]}{fixed}",
                    component,
                    tuple(evidence),
                )
            )
    dc020 = BY_ID["DC020"].severity.value
    for ignore in ignores:
        if ignore.expires < today:
            findings.append(
                Finding(
                    "DC020",
                    dc020,
                    f"the ignore of {ignore.advisory} expired on {ignore.expires.isoformat()} "
                    f"(reason given: {ignore.reason})",
                    ignore.component or ignore.advisory,
                    (ignore.evidence,),
                )
            )
    return findings, ignored


_CASES = {"critical", "medium", "low", "none"}
