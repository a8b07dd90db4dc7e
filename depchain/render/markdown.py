"""Markdown for pull-request comments: the four kinds and the trust surface in one
table, the trust gaps ranked, a Mermaid diagram of the direct dependencies and the
services, what could not be read."""

from __future__ import annotations

import re

from depchain import __version__
from depchain.model import DependencyKind
from depchain.picture import Node, Picture
from depchain.render import printable
from depchain.scanner import ScanResult
from depchain.trust.surface import trust_surface

SHOWN = 50


_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#~!])")


def _cell(text: str) -> str:
    """Text for a table cell: no HTML, no Markdown, no line breaks (messages carry what
    files and package indexes said, which nobody here wrote)."""
    text = printable(text.replace("\n", " "))
    return _MARKDOWN.sub(r"\\\1", text.replace("&", "&amp;"))


def _code(text: str, in_table: bool = True) -> str:
    """A code span, fenced with more backticks than the text holds (``|`` escaped in a
    table cell, where it would end the cell, and only there)."""
    text = printable(text.replace("\n", " "))
    if in_table:
        text = text.replace("|", "\\|")
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or run else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(result: ScanResult) -> str:
    graph = result.graph
    surface = trust_surface(graph, result.policy, result.ledger)
    out = [f"### depchain {__version__}: {_code(result.target.as_posix(), in_table=False)}", ""]
    out += _vulnerabilities(result)
    out += [
        "| kind | edges | components | owners known | owner unknown | trusted explicitly |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    deps = graph.dependencies()
    for kind, tally in surface["kinds"].items():
        edges = sum(1 for d in deps if d.kind.value == kind)
        out.append(
            f"| {kind} | {edges} | {tally['components']} | {tally['owners']} | "
            f"{tally['unknown_owner']} | {tally['explicit']} |"
        )
    services = surface["services"]
    edges = sum(1 for d in deps if d.kind.value == "service")
    out.append(f"| service | {edges} | {services['total']} services | | | |")
    out += [
        "",
        f"Services: {services['total']} reached at run time; "
        f"{services['across_trust_boundary']} across a trust boundary, "
        f"{services['boundary_unknown']} where the boundary is not known.",
        "",
    ]
    if result.findings:
        counts: dict[str, int] = {}
        for f in result.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        out += [
            f"#### Trust gaps: {len(result.findings)} ({summary})",
            "",
            "| severity | gap | what | where |",
            "| --- | --- | --- | --- |",
        ]
        for f in result.findings[:SHOWN]:
            where = f.evidence[0]
            place = f"{where.path}:{where.line}" if where.line else where.path
            out.append(f"| {f.severity} | {f.id} | {_cell(f.message)} | {_code(place)} |")
        if len(result.findings) > SHOWN:
            out.append(
                f"\n…and {len(result.findings) - SHOWN} more; `depchain explain ID` "
                "says what each gap means."
            )
    else:
        out.append("No trust gaps found.")
    out += diagram(result)
    if result.errors:
        out += [
            "",
            f"<details><summary>{len(result.errors)} input(s) could not be read</summary>",
            "",
        ]
        out += [f"- {_code(e.path, in_table=False)}: {_cell(e.message)}" for e in result.errors]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _vulnerabilities(result: ScanResult) -> list[str]:
    """The audit's verdict first, then the advisories, most severe first."""
    from depchain.vulns.summary import headline, rows_of

    out = [f"> {_cell(line.strip())}  " for line in headline(result)] + [""]
    rows = rows_of(result)
    if not rows:
        return out
    out += [
        f"#### Known vulnerabilities: {len(rows)}",
        "",
        "| severity | advisory | component | summary | fixed in |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows[:SHOWN]:
        a = row.advisory
        note = f" (ignored: {row.ignored})" if row.ignored else ""
        out.append(
            f"| {row.severity} | {_cell(a.id)} | {_cell(row.component)} | "
            f"{_cell(a.summary)}{_cell(note)} | {_cell(', '.join(a.fixed_in[:3]) or '-')} |"
        )
    if len(rows) > SHOWN:
        out.append(f"\n…and {len(rows) - SHOWN} more; `--format json` lists them all.")
    return [*out, ""]


DIAGRAM_NODES = 60
"""Nodes past which the diagram is collapsed by owner, then cut (a comment must stay
readable, and Mermaid refuses very large charts)."""

_COLOUR_NAMES = {"project": "blue", "gap": "red", "trusted": "green", "unknown": "orange"}


def diagram(result: ScanResult) -> list[str]:
    """A Mermaid diagram of what the project depends on directly and of the services it
    reaches, coloured by provenance, with a line saying what the arrows and colours mean
    and what was left out."""
    from depchain.picture import PROVENANCE_TITLES, Provenance
    from depchain.render import mermaid

    drawn, whole = _pictures(result)
    if not drawn.nodes:
        return []
    shown = [
        str(n) if n == everything else f"{n} of {everything} drawn"
        for n, everything in zip(_counts(drawn), _counts(whole), strict=True)
    ]
    direct, services = shown
    colours = "; ".join(
        f"{_COLOUR_NAMES.get(p.value, 'grey')}: {PROVENANCE_TITLES[p]}" for p in Provenance
    )
    out = [
        "",
        f"#### Direct dependencies ({direct}) and services ({services})",
        "",
        mermaid.fenced(drawn).rstrip("\n"),
        "",
        f"{mermaid.legend()} Colours: {colours}.",
    ]
    if drawn.notes:
        out += ["", "_" + _cell("; ".join(drawn.notes)) + "_"]
    return out


def direct_picture(result: ScanResult, limit: int = DIAGRAM_NODES) -> Picture:
    """The picture of the roots (the project), what they depend on directly, and every
    service; a service reached only through deeper components is linked from the direct
    dependencies it is reached through (scope ``indirect``). Past ``limit`` nodes, the
    components are collapsed by owner; past it still, the roots, the services and the
    components with a trust gap are kept first and the rest is counted in a note."""
    return _pictures(result, limit)[0]


def _pictures(result: ScanResult, limit: int = DIAGRAM_NODES) -> tuple[Picture, Picture]:
    """The picture drawn (see :func:`direct_picture`), and the one it was cut from."""
    from depchain import picture

    drawn = _direct(picture.build(result, collapse="none"))
    if len(drawn.nodes) > limit:
        collapsed = _direct(picture.build(result, collapse="owner"))
        if len(collapsed.nodes) < len(drawn.nodes):
            drawn = collapsed
    whole = drawn
    if len(drawn.nodes) > limit:
        drawn = _cap(drawn, limit)
    return drawn, whole


def _counts(drawn: Picture) -> tuple[int, int]:
    """Direct dependencies (what a root depends on) and services in a picture."""
    services = sum(1 for n in drawn.nodes if n.shape.value == "service")
    direct = sum(1 for n in drawn.nodes if n.depth != 0 and n.shape.value != "service")
    return direct, services


def _direct(full: Picture) -> Picture:
    from depchain.picture import Edge, Shape

    def kept(n: Node) -> bool:
        return n.shape is Shape.SERVICE or (n.depth is not None and n.depth <= 1)

    nodes = [n for n in full.nodes if kept(n)]
    ids = {n.id for n in nodes}
    roots = {n.id for n in nodes if n.depth == 0}
    services = {n.id for n in nodes if n.shape is Shape.SERVICE}
    edges = [
        e
        for e in full.edges
        if e.target in ids and (e.source in roots or (e.source in ids and e.target in services))
    ]
    # a service reached only through deeper components: linked from the direct
    # dependencies (or roots) it is reached through
    reached = {e.target for e in edges}
    into: dict[str, list[str]] = {}
    for e in full.edges:
        into.setdefault(e.target, []).append(e.source)
    for service in sorted(services):
        if service in reached:
            continue
        through: set[str] = set()
        seen = {service}
        todo = list(into.get(service, ()))
        while todo:
            source = todo.pop()
            if source in seen:
                continue
            seen.add(source)
            if source in ids:
                through.add(source)
            else:
                todo += into.get(source, ())
        edges += [
            Edge(
                source=source,
                target=service,
                kind=DependencyKind.SERVICE,
                scope="indirect",
                mechanism="through its dependencies",
            )
            for source in sorted(through)
        ]
    left_out = len(full.nodes) - len(nodes)
    notes = list(full.notes)
    if left_out:
        notes.append(f"{left_out} components deeper than the direct dependencies left out")
    return Picture(full.subject, full.title, nodes=nodes, edges=edges, notes=notes)


def _cap(drawn: Picture, limit: int) -> Picture:
    from depchain.picture import Provenance, Shape

    def rank(n: Node) -> tuple[int, str]:
        # the subject and the projects; the services; the gaps; what the subject
        # depends on directly; then what other roots (nothing depends on) do, and them
        if n.id == drawn.subject or (n.depth == 0 and n.shape is Shape.PROJECT):
            return (0, n.id)
        if n.shape is Shape.SERVICE:
            return (1, n.id)
        if n.provenance is Provenance.GAP:
            return (2, n.id)
        return (3 if n.id in direct else 4 if n.depth != 0 else 5, n.id)

    direct = {e.target for e in drawn.edges if e.source == drawn.subject}
    kept = sorted(drawn.nodes, key=rank)[:limit]
    ids = {n.id for n in kept}
    left_out = [n for n in drawn.nodes if n.id not in ids]
    roots = sum(1 for n in left_out if n.depth == 0 and n.shape is not Shape.SERVICE)
    services = sum(1 for n in left_out if n.shape is Shape.SERVICE)
    said = [f"{len(left_out) - roots - services} more direct dependencies"]
    if roots:
        said.append(f"{roots} other roots (nothing depends on them)")
    if services:
        said.append(f"{services} services")
    return Picture(
        drawn.subject,
        drawn.title,
        nodes=[n for n in drawn.nodes if n.id in ids],
        edges=[e for e in drawn.edges if e.source in ids and e.target in ids],
        notes=[
            *drawn.notes,
            f"{', '.join(said)} not drawn (over {limit} nodes); depchain graph draws them all",
        ],
    )
