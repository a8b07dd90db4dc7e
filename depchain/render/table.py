"""The terminal table: dependencies grouped by kind, readable in 80 columns."""

from __future__ import annotations

from collections import Counter

from depchain import __version__
from depchain.model import Dependency, DependencyKind, Service
from depchain.render import printable
from depchain.scanner import ScanResult
from depchain.trust.surface import trust_surface

WIDTH = 80
INDIRECT_SHOWN = 30
"""Rows shown for a kind that only other components have, without --all."""
_TITLES = {
    DependencyKind.BUILD: "build-time (needed to build, test or package; not shipped)",
    DependencyKind.STATIC: "statically linked (carried inside the artifact)",
    DependencyKind.DYNAMIC: "dynamically linked (resolved from the environment at run time)",
    DependencyKind.SERVICE: "service (contacted over an API at run time)",
}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _cut_left(text: str, width: int) -> str:
    """Keep the end of a path, where the file name and line are."""
    return text if len(text) <= width else "~" + text[len(text) - width + 1 :]


def _row(deps: list[Dependency], result: ScanResult) -> str:
    """One row for every edge between one pair in one kind (a manifest and a lockfile
    may both say that the project needs flask)."""
    dep = deps[0]
    node = result.graph.node(dep.target)
    name = node.name
    if dep.source != result.subject:  # not the subject's own: say whose it is
        name = f"{result.graph.node(dep.source).name} > {name}"
    version = getattr(node, "version", None) or dep.specifier or "*"
    if isinstance(node, Service):  # where it runs or is reached, and across what
        version = node.image or (node.endpoints[0].split("://")[-1] if node.endpoints else "?")
    groups = sorted({g for d in deps for g in d.groups})
    scopes = sorted({d.scope.value for d in deps})
    scope = (
        "/".join(scopes)
        if not groups
        else groups[0] + (f"+{len(groups) - 1}" if len(groups) > 1 else "")
    )
    evidence = sorted({e for d in deps for e in d.evidence}, key=lambda e: (e.path, e.line or 0))
    where = evidence[0] if evidence else None
    place = f"{where.path}:{where.line}" if where and where.line else (where.path if where else "?")
    if len(evidence) > 1:
        place += f" +{len(evidence) - 1}"
    left = f"  {_cut(name, 24):<24} {_cut(version, 12):<12} {_cut(scope, 12):<12} "
    return left + _cut_left(place, WIDTH - len(left))


def _by_dependent(deps: list[Dependency], result: ScanResult) -> list[str]:
    """One line per component that has edges of this kind: how many, and how."""
    counts: dict[str, Counter[str]] = {}
    for dep in deps:
        counts.setdefault(dep.source, Counter())[dep.mechanism] += 1
    order = sorted(counts, key=lambda s: (-sum(counts[s].values()), result.graph.node(s).name))
    lines = [f"  {'dependent':<32} {'edges':>5}  how"]
    for source in order[:INDIRECT_SHOWN]:
        how = ", ".join(f"{m} {n}" for m, n in sorted(counts[source].items()))
        lines.append(
            _cut(
                f"  {_cut(result.graph.node(source).name, 32):<32} "
                f"{sum(counts[source].values()):>5}  {how}",
                WIDTH,
            )
        )
    if len(order) > INDIRECT_SHOWN:
        lines.append(f"  ... and {len(order) - INDIRECT_SHOWN} more (--all lists every edge)")
    return lines


FINDINGS_SHOWN = 25


def _findings(result: ScanResult) -> list[str]:
    """Trust gaps, most severe first, grouped by gap; ``depchain explain ID`` says more."""
    by_severity = Counter(f.severity for f in result.findings)
    order = ["critical", "high", "medium", "low", "info"]
    lines = [
        f"TRUST GAPS ({len(result.findings)}): "
        + ", ".join(f"{s} {by_severity[s]}" for s in order if by_severity[s])
    ]
    for finding in result.findings[:FINDINGS_SHOWN]:
        where = finding.evidence[0]
        place = f"{where.path}:{where.line}" if where.line else where.path
        lines.append(_cut(f"  {finding.id} {finding.severity:<6} {finding.message}", WIDTH))
        lines.append(f"               {_cut_left(place, WIDTH - 15)}")
    if len(result.findings) > FINDINGS_SHOWN:
        lines.append(
            f"  ... and {len(result.findings) - FINDINGS_SHOWN} more "
            "(--format json or sarif lists them all)"
        )
    lines.append("  depchain explain ID says what each gap means and how to close it")
    return lines


def render(result: ScanResult, show_all: bool = False) -> str:
    graph = result.graph
    deps = graph.dependencies()
    out: list[str] = []
    out.append(
        f"depchain {__version__}: {result.target.as_posix()} ({len(result.inputs)} inputs read)"
    )
    out.append(f"subject: {result.subject}")
    tally = {k: sum(1 for d in deps if d.kind is k) for k in DependencyKind}
    out.append("edges:  " + "   ".join(f"{k.value} {n}" for k, n in tally.items()))
    surface = trust_surface(graph, result.policy, result.ledger)["total"]
    out.append(
        _cut(
            f"trust:  {surface['components']} components, {surface['owners']} known "
            f"owners ({surface['unknown_owner']} unknown); explicit "
            f"{surface['explicit']}, implicit {surface['implicit']}",
            WIDTH,
        )
    )
    for kind in DependencyKind:
        of_kind = [d for d in deps if d.kind is kind]
        direct = [d for d in of_kind if show_all or d.source == result.subject]
        out.append("")
        out.append(_cut(f"{kind.value.upper()} ({len(of_kind)}) {_TITLES[kind]}", WIDTH))
        if not of_kind:
            out.append("  none found")
            continue
        if not direct:  # an environment: its distributions, not the subject, link things
            out.extend(_by_dependent(of_kind, result))
            continue
        out.append(f"  {'name':<24} {'version':<12} {'scope/group':<12} evidence")
        rows: dict[tuple[str, str], list[Dependency]] = {}
        for dep in direct:
            rows.setdefault((dep.source, dep.target), []).append(dep)
        for pair in sorted(rows, key=lambda p: (result.graph.node(p[1]).name.lower(), p)):
            out.append(_row(rows[pair], result))
        hidden = len(of_kind) - len(direct)
        if hidden:
            out.append(f"  ... and {hidden} between other components (--all shows them)")
    if result.findings:
        out.append("")
        out.extend(_findings(result))
    if result.notes:
        out.append("")
        out.append("notes:")
        out.extend(f"  {_cut(f'{p}: {m}', WIDTH - 2)}" for p, m in sorted(set(result.notes)))
    if result.errors:
        out.append("")
        out.append(f"could not read ({len(result.errors)}):")
        out.extend(f"  {e}" for e in result.errors)
    counts = {k: sum(1 for d in deps if d.kind is k) for k in DependencyKind}
    out.append("")
    out.append(
        f"{len(graph.components())} components, {len(graph.services())} services, "
        f"{len(result.findings)} trust gaps, {len(result.errors)} unreadable inputs"
    )
    out.append("edges: " + ", ".join(f"{k.value} {n}" for k, n in counts.items()))
    return printable("\n".join(out)) + "\n"
