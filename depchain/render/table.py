"""The terminal table: dependencies grouped by kind, readable in 80 columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import PurePosixPath

from depchain import __version__
from depchain.model import Dependency, DependencyKind, Role, Service
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


@dataclass(frozen=True)
class _Columns:
    """Column widths for a terminal ``width`` wide (80 when not a terminal): the name
    and version columns grow with it, the evidence takes the rest."""

    width: int = WIDTH

    @property
    def name(self) -> int:
        return 24 + max(0, self.width - WIDTH) // 3

    @property
    def version(self) -> int:
        return 12 + max(0, self.width - WIDTH) // 6


def service_label(service: Service) -> str:
    """A service's name and where it is declared, so that two ``db`` services are told
    apart: ``db (compose backend/)``, ``orders (k8s shop)``."""
    props = dict(service.properties)
    deployment = props.get("depchain:deployment")
    if deployment == "kubernetes":
        return f"{service.name} (k8s {props.get('depchain:k8s-namespace', 'default')})"
    if deployment == "compose" and service.evidence:
        folder = PurePosixPath(sorted(service.evidence)[0].path).parent.as_posix()
        return f"{service.name} (compose {'./' if folder == '.' else folder + '/'})"
    return service.name


def _row(
    deps: list[Dependency], result: ScanResult, cols: _Columns, owner: str | None = None
) -> str:
    """One row for every edge between one pair in one kind (a manifest and a lockfile
    may both say that the project needs flask)."""
    dep = deps[0]
    node = result.graph.node(dep.target)
    name = service_label(node) if isinstance(node, Service) else node.name
    if dep.source != (owner or result.subject):  # not the project's own: say whose it is
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
    left = (
        f"  {_cut(name, cols.name):<{cols.name}} {_cut(version, cols.version):<{cols.version}} "
        f"{_cut(scope, 12):<12} "
    )
    return left + _cut_left(place, max(cols.width - len(left), 12))


def _header(cols: _Columns, first: str = "name") -> str:
    return f"  {first:<{cols.name}} {'version':<{cols.version}} {'scope/group':<12} evidence"


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


def _findings(result: ScanResult, width: int = WIDTH) -> list[str]:
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
        lines.append(_cut(f"  {finding.id} {finding.severity:<6} {finding.message}", width))
        lines.append(f"               {_cut_left(place, width - 15)}")
    if len(result.findings) > FINDINGS_SHOWN:
        lines.append(
            f"  ... and {len(result.findings) - FINDINGS_SHOWN} more "
            "(--format json or sarif lists them all)"
        )
    lines.append("  depchain explain ID says what each gap means and how to close it")
    return lines


VULNERABILITIES_SHOWN = 30


def _vulnerabilities(result: ScanResult, cols: _Columns) -> list[str]:
    """The audit's verdict in the first lines, then the advisories, most severe first."""
    from depchain.vulns.summary import headline, rows_of

    lines = [_cut(line, cols.width) for line in headline(result)]
    rows = rows_of(result)
    if not rows:
        return lines
    lines.append("")
    lines.append(f"KNOWN VULNERABILITIES ({len(rows)})")
    for row in rows[:VULNERABILITIES_SHOWN]:
        a = row.advisory
        fixed = f"fixed in {', '.join(a.fixed_in[:3])}" if a.fixed_in else "no fix known"
        head = f"  {row.severity:<8} {a.id:<20} {row.component}"
        lines.append(_cut(head + ("  (ignored)" if row.ignored else ""), cols.width))
        lines.append(_cut(f"           {a.summary}", cols.width))
        lines.append(
            _cut(f"           {fixed}" + (f"; {row.ignored}" if row.ignored else ""), cols.width)
        )
    if len(rows) > VULNERABILITIES_SHOWN:
        lines.append(
            f"  ... and {len(rows) - VULNERABILITIES_SHOWN} more (--format json lists them)"
        )
    return lines


def _project_sections(
    result: ScanResult, deps: list[Dependency], cols: _Columns, shown: set[int]
) -> Iterator[str]:
    """Each project of the tree (the subject first, then the other runtime projects,
    then examples and tools): its direct runtime dependencies, then the services it and
    its client libraries reach, then its build and dev dependencies. The edges listed
    are added to ``shown`` (by object identity: ``deps`` outlives it)."""
    graph = result.graph
    projects = [p for p in result.projects if p in graph]
    if result.subject in graph and result.subject not in projects:
        projects.append(result.subject)
    order = sorted(
        projects,
        key=lambda p: (
            p != result.subject,
            result.projects.get(p, Role.RUNTIME) is not Role.RUNTIME,
            graph.node(p).name.lower(),
        ),
    )
    for project in order:
        node = graph.node(project)
        own = [d for d in deps if d.source == project]
        runtime = [d for d in own if d.kind in {DependencyKind.DYNAMIC, DependencyKind.STATIC}]
        build = [d for d in own if d.kind is DependencyKind.BUILD]
        services = [d for d in own if d.kind is DependencyKind.SERVICE]
        reached = {d.target for d in runtime}
        services += [
            d
            for d in deps
            if d.kind is DependencyKind.SERVICE
            and d.source in reached
            and d.mechanism == "client-library"
        ]
        if not (own or project == result.subject):
            continue
        role = result.projects.get(project, Role.RUNTIME)
        version = getattr(node, "version", None)
        where = sorted(node.evidence)[0].path if node.evidence else "?"
        yield ""
        yield (
            _cut(
                f"PROJECT {node.name}{' ' + version if version else ''} ({role.value}; {where})",
                cols.width,
            )
        )
        for title, chosen in (
            ("runtime: what it ships and runs with (static and dynamic)", runtime),
            ("services: what it and its client libraries talk to", services),
            ("build/dev: to build, test, lint or document it; not shipped", build),
        ):
            yield _cut(f" {title} ({len({(d.source, d.target) for d in chosen})})", cols.width)
            if not chosen:
                continue
            shown.update(id(d) for d in chosen)
            yield _header(cols)
            # rows by name, one per pair (``deps`` is in source, target order)
            chosen.sort(key=lambda d: (graph.node(d.target).name.lower(), d.source, d.target))
            for _, row in groupby(chosen, key=lambda d: (d.source, d.target)):
                yield _row(list(row), result, cols, owner=project)


def render(result: ScanResult, show_all: bool = False, width: int = WIDTH) -> str:
    """The table, ``width`` columns wide (80 when the output is not a terminal)."""
    return "".join(render_lines(result, show_all, width))


def render_lines(result: ScanResult, show_all: bool = False, width: int = WIDTH) -> Iterator[str]:
    """The table's lines, each ending in a newline: written one by one, a table of
    290k rows never exists as one string (nor as the three copies escaping, redacting
    and encoding it would make)."""
    cols = _Columns(max(width, WIDTH))
    graph = result.graph
    deps = graph.dependencies()
    out: list[str] = []
    read = sum(1 for i in result.inputs if i.read)
    listed = len(result.inputs) - read
    out.append(
        f"depchain {__version__}: {result.target.as_posix()} ({read} inputs read"
        + (f", {listed} fixtures listed, not read" if listed else "")
        + ")"
    )
    out.append(_cut(f"subject: {result.subject}", cols.width))
    tally = {k: sum(1 for d in deps if d.kind is k) for k in DependencyKind}
    out.append("edges:  " + "   ".join(f"{k.value} {n}" for k, n in tally.items()))
    surface = trust_surface(graph, result.policy, result.ledger)["total"]
    out.append(
        _cut(
            f"trust:  {surface['components']} components, {surface['owners']} known "
            f"owners ({surface['unknown_owner']} unknown); explicit "
            f"{surface['explicit']}, implicit {surface['implicit']}",
            cols.width,
        )
    )
    out.extend(_vulnerabilities(result, cols))
    yield from (printable(line) + "\n" for line in out)
    out.clear()
    shown: set[int] = set()
    yield from (printable(line) + "\n" for line in _project_sections(result, deps, cols, shown))
    for kind in DependencyKind:
        of_kind = [d for d in deps if d.kind is kind]
        rest = [d for d in of_kind if id(d) not in shown]
        if not rest:
            continue
        out.append("")
        every = len(rest) == len(of_kind)
        out.append(
            _cut(
                f"{kind.value.upper()} ({len(of_kind)}) "
                + (
                    _TITLES[kind]
                    if every
                    else f"{len(rest)} between other components"
                    + ("" if show_all else " (--all lists them)")
                ),
                cols.width,
            )
        )
        if every and not show_all:
            # an environment: its distributions, not the project, link things
            out.extend(_by_dependent(rest, result))
            continue
        if not show_all:
            continue
        out.append(_header(cols))
        rows: dict[tuple[str, str], list[Dependency]] = {}
        for dep in rest:
            rows.setdefault((dep.source, dep.target), []).append(dep)
        for pair in sorted(rows, key=lambda p: (graph.node(p[1]).name.lower(), p)):
            out.append(_row(rows[pair], result, cols, owner=pair[0]))
    if result.findings:
        out.append("")
        out.extend(_findings(result, cols.width))
    if result.notes:
        out.append("")
        out.append("notes:")
        out.extend(f"  {_cut(f'{p}: {m}', cols.width - 2)}" for p, m in sorted(set(result.notes)))
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
    for line in out:
        yield printable(line) + "\n"
