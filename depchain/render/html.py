"""The HTML report: one self-contained page (no network, no CDN, no font) that says what
was scanned, how big the trust surface is, the trust gaps ranked with their evidence,
the vulnerabilities or why there are none to show, what could not be read, and the
graph, drawn by the page's own small script from positions computed here
(:mod:`depchain.render.layout`).

Everything in it came from files and package indexes nobody here wrote, and the page is
meant to be shared: every text is redacted (:func:`~depchain.redaction.redact_text`),
shown with its control characters escaped (:func:`~depchain.render.printable`), and
either HTML-escaped into the page or carried as JSON in a ``<script
type="application/json">`` with ``<``, ``>``, ``&`` and the Unicode line separators
written as ``\\u`` escapes, so that nothing in it can end the element. The script only
ever sets text and attributes. The Content-Security-Policy forbids every fetch and
runs only the page's own script and style, named by their SHA-256.

Same input, same bytes: nothing depends on the clock but the date it says it was made,
which honours ``SOURCE_DATE_EPOCH`` (:mod:`depchain.timestamps`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter, defaultdict
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from depchain import __version__
from depchain.model import Component, DependencyKind
from depchain.picture import (
    KIND_TITLES,
    PROVENANCE_COLOURS,
    PROVENANCE_TITLES,
    SHAPE_TITLES,
    Picture,
    Provenance,
    Shape,
)
from depchain.redaction import redact_text
from depchain.render import printable
from depchain.render.layout import layout
from depchain.scanner import ScanResult
from depchain.timestamps import iso, now
from depchain.trust.surface import trust_surface

SEVERITIES = ("critical", "high", "medium", "low", "info")
FINDINGS_SHOWN = 2000
"""Rows of the findings table (the JSON and SARIF reports list them all)."""
VULNERABILITIES_SHOWN = 1000
KIND_STYLES = {
    DependencyKind.BUILD: "dashed",
    DependencyKind.STATIC: "solid, bold",
    DependencyKind.DYNAMIC: "solid",
    DependencyKind.SERVICE: "dotted",
}


def _text(value: object) -> str:
    """Any text that came from the input, safe to show: redacted, controls escaped."""
    return printable(redact_text(str(value)))


def _h(value: object) -> str:
    """The same, escaped for HTML text and attribute values."""
    return escape(_text(value), quote=True)


def _json_for_script(data: object) -> str:
    """JSON that no HTML parser can end early: ``<``, ``>`` and ``&`` only ever stand
    inside JSON strings, where their ``\\u`` escapes mean the same."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


@cache
def _asset(name: str) -> str:
    return (files("depchain.render") / "html_assets" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def render(result: ScanResult, picture: Picture) -> str:
    """The whole page, for ``result`` and the drawing of it ``picture``."""
    script, style = _asset("report.js"), _asset("report.css")
    csp = (
        "default-src 'none'; "
        f"script-src '{_sha256(script)}'; "
        f"style-src '{_sha256(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = f"depchain report: {_text(picture.title)}"
    body = [
        _header(result, picture),
        _surface(result),
        _graph(picture),
        _findings(result),
        _vulnerabilities(result),
        _unread(result),
        _inputs(result),
        _footer(),
    ]
    return "".join(
        [
            "<!DOCTYPE html>\n",
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n',
            '<meta name="referrer" content="no-referrer">\n',
            '<link rel="icon" href="data:,">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{escape(title)}</title>\n",
            f"<style>{style}</style>\n",
            "</head>\n<body>\n",
            *body,
            '<script type="application/json" id="depchain-data">',
            _json_for_script(_data(result, picture)),
            "</script>\n",
            f"<script>{script}</script>\n",
            "</body>\n</html>\n",
        ]
    )


# -- the sections -------------------------------------------------------------------


def _header(result: ScanResult, picture: Picture) -> str:
    graph = result.graph
    deps = graph.dependencies()
    kinds = Counter(d.kind for d in deps)
    read = sum(1 for i in result.inputs if i.read)
    listed = len(result.inputs) - read
    severities = Counter(f.severity for f in result.findings)
    gaps = ", ".join(f"{severities[s]} {s}" for s in SEVERITIES if severities[s])
    from depchain.vulns.summary import headline

    verdict = headline(result)
    stats = [
        ("components", str(len(graph.components()))),
        ("services", str(len(graph.services()))),
        ("edges", str(len(deps))),
        ("trust gaps", str(len(result.findings))),
        ("inputs read", str(read)),
        ("unreadable", str(len(result.errors))),
    ]
    out = [
        '<header class="top">\n<div class="wrap">\n',
        f'<p class="tool">depchain {escape(__version__)} &middot; generated '
        f"{escape(iso(now()))}</p>\n",
        f"<h1>{_h(picture.title)}</h1>\n",
        '<dl class="facts">',
        f"<dt>scanned</dt><dd><code>{_h(result.target.as_posix())}</code></dd>",
        f"<dt>subject</dt><dd><code>{_h(result.subject)}</code></dd>",
        "<dt>inputs</dt><dd>"
        + f"{read} read"
        + (f", {listed} fixtures listed, not read" if listed else "")
        + (f", {len(result.errors)} could not be read" if result.errors else "")
        + "</dd>",
        "<dt>edges</dt><dd>"
        + ", ".join(f"{k.value} {kinds.get(k, 0)}" for k in DependencyKind)
        + "</dd>",
        "<dt>trust gaps</dt><dd>"
        + (f"{len(result.findings)} ({escape(gaps)})" if result.findings else "none found")
        + "</dd>",
        f"<dt>vulnerabilities</dt><dd>{_h(verdict[0].removeprefix('vulnerabilities: '))}</dd>",
        "</dl>\n",
        '<ul class="stats">',
        *(
            f'<li><span class="n">{n}</span><span class="l">{escape(label)}</span></li>'
            for label, n in stats
        ),
        "</ul>\n",
        '<nav class="toc"><a href="#surface">trust surface</a> <a href="#graph">graph</a> '
        '<a href="#findings">trust gaps</a> <a href="#vulnerabilities">vulnerabilities</a> '
        '<a href="#unread">not read</a> <a href="#inputs">inputs</a></nav>\n',
        "</div>\n</header>\n<main>\n",
    ]
    return "".join(out)


def _bar(explicit: int, known: int, unknown: int) -> str:
    """Explicit, implicit with a known owner, and unknown owner, as one stacked bar."""
    total = explicit + known + unknown
    if not total:
        return ""
    width = 160
    parts = []
    x = 0.0
    for count, provenance in (
        (explicit, Provenance.TRUSTED),
        (known, Provenance.IMPLICIT),
        (unknown, Provenance.UNKNOWN),
    ):
        if count:
            w = width * count / total
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="10" '
                f'fill="{PROVENANCE_COLOURS[provenance]}"/>'
            )
            x += w
    return (
        f'<svg class="bar" width="{width}" height="10" viewBox="0 0 {width} 10" '
        f'role="img" aria-label="{explicit} explicit, {known} implicit, {unknown} unknown">'
        + "".join(parts)
        + "</svg>"
    )


def _surface(result: ScanResult) -> str:
    surface = trust_surface(result.graph, result.policy, result.ledger)
    rows = []
    for kind, tally in [*surface["kinds"].items(), ("total", surface["total"])]:
        known = tally["implicit"] - tally["unknown_owner"]
        title = KIND_TITLES[DependencyKind(kind)] if kind != "total" else "all kinds"
        cls = ' class="total"' if kind == "total" else ""
        rows.append(
            f'<tr{cls}><th scope="row">{escape(kind)}<small>{escape(title)}</small></th>'
            f'<td class="num">{tally["components"]}</td>'
            f'<td class="num">{tally["owners"]}</td>'
            f'<td class="num">{tally["explicit"]}</td>'
            f'<td class="num">{known}</td>'
            f'<td class="num">{tally["unknown_owner"]}</td>'
            f"<td>{_bar(tally['explicit'], known, tally['unknown_owner'])}</td></tr>"
        )
    services = surface["services"]
    total = surface["total"]
    return "".join(
        [
            '<section id="surface" class="wrap">\n<h2>Trust surface</h2>\n',
            '<p class="lede">How big the trusted base is: ',
            f"<strong>{total['components']}</strong> components from ",
            f"<strong>{total['owners']}</strong> distinct known owners, and ",
            f"<strong>{total['unknown_owner']}</strong> whose owner nobody knows. ",
            f"<strong>{total['explicit']}</strong> of these trusts are explicit (named by the ",
            "policy or accepted in the ledger); the rest are implicit: trusted only because ",
            "they are used.</p>\n",
            '<table class="surface"><thead><tr><th>kind</th><th class="num">components</th>',
            '<th class="num">owners</th><th class="num">explicit</th>',
            '<th class="num">implicit, owner known</th><th class="num">owner unknown</th>',
            "<th>share</th></tr></thead><tbody>",
            *rows,
            "</tbody></table>\n",
            '<p class="services">Services: ',
            f"<strong>{services['total']}</strong> reached at run time; ",
            f"<strong>{services['across_trust_boundary']}</strong> across a trust boundary, ",
            f"<strong>{services['boundary_unknown']}</strong> where the boundary is not known.",
            "</p>\n</section>\n",
        ]
    )


def _swatch(provenance: Provenance) -> str:
    return (
        '<svg class="sw" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
        f'<rect x="1" y="1" width="12" height="12" rx="3" fill="{PROVENANCE_COLOURS[provenance]}"'
        f' fill-opacity="0.18" stroke="{PROVENANCE_COLOURS[provenance]}" stroke-width="2"/></svg>'
    )


def _line(kind: DependencyKind, width: int) -> str:
    """A sample of the line an edge of ``kind`` is drawn with."""
    return (
        f'<svg class="ln" width="{width}" height="10" aria-hidden="true"><line class="edge '
        f'k-{kind.value}" x1="1" y1="5" x2="{width - 1}" y2="5"/></svg>'
    )


def _graph(picture: Picture) -> str:
    kinds = "".join(
        f'<label><input type="checkbox" name="kind" value="{k.value}" checked> '
        f"{_line(k, 26)}{escape(k.value)}</label>"
        for k in DependencyKind
    )
    provenances = "".join(
        f'<label title="{escape(PROVENANCE_TITLES[p])}"><input type="checkbox" name="prov" '
        f'value="{p.value}" checked> {_swatch(p)}{escape(p.value)}</label>'
        for p in Provenance
    )
    legend_colours = "".join(
        f"<li>{_swatch(p)}<b>{escape(p.value)}</b> {escape(PROVENANCE_TITLES[p])}</li>"
        for p in Provenance
    )
    legend_shapes = "".join(
        f'<li><svg class="shp" width="30" height="16" aria-hidden="true" data-shape="{s.value}">'
        f"</svg>{escape(SHAPE_TITLES[s])}</li>"
        for s in Shape
    )
    legend_edges = "".join(
        f"<li>{_line(k, 30)}<b>{escape(k.value)}</b> "
        f"{escape(KIND_TITLES[k])} ({KIND_STYLES[k]})</li>"
        for k in DependencyKind
    )
    notes = "; ".join(_h(n) for n in picture.notes)
    return "".join(
        [
            '<section id="graph">\n<div class="wrap"><h2>Dependency graph</h2>\n',
            f'<p class="lede">{len(picture.nodes)} nodes, {len(picture.edges)} edges, ',
            "layered by distance from the project (left) with the services it reaches ",
            "on the right. Drag to pan, wheel or the buttons to zoom, click a node for ",
            "its evidence." + (f' <span class="notes">Shown: {notes}.</span>' if notes else ""),
            "</p></div>\n",
            '<div class="toolbar" role="toolbar" aria-label="graph controls">',
            '<input type="search" id="q" placeholder="find a component, owner or purl" '
            'aria-label="find" autocomplete="off"> <span id="hits" class="hits"></span>',
            '<span class="grp">',
            '<button type="button" id="zin" title="zoom in">+</button>',
            '<button type="button" id="zout" title="zoom out">&minus;</button>',
            '<button type="button" id="fit" title="fit the graph">fit</button></span>',
            f'<fieldset class="grp"><legend>kinds</legend>{kinds}</fieldset>',
            f'<fieldset class="grp"><legend>provenance</legend>{provenances}</fieldset>',
            "</div>\n",
            '<div class="stage"><div id="canvas" class="canvas" tabindex="0" '
            'aria-label="dependency graph"><noscript>The graph needs the page\'s script; '
            "the tables below say the same in words.</noscript></div>",
            '<aside id="details" class="details" aria-live="polite"><p class="hint">',
            "Click a node to see its version, owner, evidence and edges.</p></aside></div>\n",
            '<div class="wrap legend"><div><h3>Colour: provenance</h3><ul>',
            legend_colours,
            "</ul></div><div><h3>Shape: what it is</h3><ul>",
            legend_shapes,
            "</ul></div><div><h3>Line: kind of dependency</h3><ul>",
            legend_edges,
            "<li>fainter: optional or dev scope</li></ul></div></div>\n</section>\n",
        ]
    )


def _place(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _findings(result: ScanResult) -> str:
    graph = result.graph
    out = ['<section id="findings" class="wrap">\n']
    if not result.findings:
        out.append("<h2>Trust gaps</h2>\n<p>No trust gaps found.</p>\n</section>\n")
        return "".join(out)
    counts = Counter(f.severity for f in result.findings)
    out.append(
        f"<h2>Trust gaps <small>{len(result.findings)}: "
        + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
        + "</small></h2>\n"
        + '<p class="lede">Most severe first. <code>depchain explain ID</code> says what '
        "each gap means and how to close it.</p>\n"
    )
    out.append(
        '<table class="findings"><thead><tr><th>severity</th><th>gap</th><th>what</th>'
        "<th>component</th><th>evidence</th></tr></thead><tbody>"
    )
    for f in result.findings[:FINDINGS_SHOWN]:
        node_id = graph.canonical(f.component) if f.component in graph else f.component
        node = graph.node(node_id) if node_id in graph else None
        name = node.name if node is not None else f.component
        version = getattr(node, "version", None)
        places = [_place(e.path, e.line) for e in f.evidence]
        evidence = "<br>".join(f"<code>{_h(p)}</code>" for p in places[:3]) + (
            f" <small>+{len(places) - 3} more</small>" if len(places) > 3 else ""
        )
        out.append(
            f'<tr><td><span class="sev sev-{_h(f.severity)}">{_h(f.severity)}</span></td>'
            f"<td><code>{_h(f.id)}</code></td><td>{_h(f.message)}</td>"
            f'<td><a class="node-link" href="#graph" data-node="{_h(node_id)}" '
            f'data-name="{_h(name)}">{_h(name)}'
            + (f" <small>{_h(version)}</small>" if version else "")
            + f"</a></td><td>{evidence}</td></tr>"
        )
    out.append("</tbody></table>\n")
    if len(result.findings) > FINDINGS_SHOWN:
        out.append(
            f"<p>…and {len(result.findings) - FINDINGS_SHOWN} more; the JSON and SARIF "
            "reports list them all.</p>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def _vulnerabilities(result: ScanResult) -> str:
    from depchain.vulns.summary import headline, rows_of

    out = ['<section id="vulnerabilities" class="wrap">\n<h2>Vulnerabilities</h2>\n']
    out.append(
        '<div class="verdict">'
        + "".join(f"<p>{_h(line.strip())}</p>" for line in headline(result))
        + "</div>\n"
    )
    rows = rows_of(result)
    if rows:
        out.append(
            '<table class="vulns"><thead><tr><th>severity</th><th>advisory</th>'
            "<th>component</th><th>summary</th><th>fixed in</th></tr></thead><tbody>"
        )
        for row in rows[:VULNERABILITIES_SHOWN]:
            a = row.advisory
            aliases = ", ".join(a.aliases[:4])
            out.append(
                f"<tr{' class=ignored' if row.ignored else ''}>"
                f'<td><span class="sev sev-{_h(row.severity)}">{_h(row.severity)}</span></td>'
                f"<td><code>{_h(a.id)}</code>"
                + (f"<br><small>{_h(aliases)}</small>" if aliases else "")
                + f"</td><td>{_h(row.component)}</td><td>{_h(a.summary)}"
                + (f"<br><small>{_h(row.ignored)}</small>" if row.ignored else "")
                + f"</td><td>{_h(', '.join(a.fixed_in[:3]) or 'no fix known')}</td></tr>"
            )
        out.append("</tbody></table>\n")
        if len(rows) > VULNERABILITIES_SHOWN:
            out.append(
                f"<p>…and {len(rows) - VULNERABILITIES_SHOWN} more; the JSON report lists "
                "them all.</p>\n"
            )
    report = result.audit
    if report is not None and report.not_audited:
        by_reason: dict[str, list[str]] = defaultdict(list)
        for component, reason in sorted(report.not_audited.items()):
            node = result.graph.node(component) if component in result.graph else None
            name = (
                f"{node.name} {getattr(node, 'version', '') or ''}".strip() if node else component
            )
            by_reason[reason].append(name)
        out.append(
            f"<details><summary>{len(report.not_audited)} components not audited, and why"
            '</summary><dl class="reasons">'
        )
        for reason in sorted(by_reason):
            names = by_reason[reason]
            out.append(
                f"<dt>{_h(reason)} <small>({len(names)})</small></dt>"
                f"<dd>{_h(', '.join(names))}</dd>"
            )
        out.append("</dl></details>\n")
    if report is not None and report.notes:
        out.append(
            "<details><summary>what the advisory sources said</summary><ul>"
            + "".join(f"<li>{_h(n)}</li>" for n in report.notes)
            + "</ul></details>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def _unread(result: ScanResult) -> str:
    out = ['<section id="unread" class="wrap">\n<h2>What could not be read</h2>\n']
    if result.errors:
        out.append(
            '<table class="errors"><thead><tr><th>input</th><th>what is wrong</th></tr>'
            "</thead><tbody>"
            + "".join(
                f"<tr><td><code>{_h(e.path)}</code></td><td>{_h(e.message)}</td></tr>"
                for e in result.errors
            )
            + "</tbody></table>\n"
        )
    else:
        out.append("<p>Every input found was read.</p>\n")
    notes = sorted(set(result.notes))
    if notes:
        out.append(
            f"<h3>Seen and deliberately not read <small>({len(notes)})</small></h3>"
            '<table class="notes"><tbody>'
            + "".join(
                f"<tr><td><code>{_h(path)}</code></td><td>{_h(message)}</td></tr>"
                for path, message in notes
            )
            + "</tbody></table>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def _inputs(result: ScanResult) -> str:
    inputs = sorted(result.inputs)
    read = sum(1 for i in inputs if i.read)
    return "".join(
        [
            '<section id="inputs" class="wrap">\n<h2>Inputs</h2>\n',
            f"<details><summary>{len(inputs)} files found, {read} read</summary>",
            '<table class="inputs"><thead><tr><th>file</th><th>read by</th><th>role</th>',
            "<th>why that role</th><th>read</th></tr></thead><tbody>",
            *(
                f"<tr><td><code>{_h(i.path)}</code></td><td>{_h(i.resolver)}</td>"
                f"<td>{_h(i.role.value)}</td><td>{_h(i.reason)}</td>"
                f"<td>{'yes' if i.read else 'listed only'}</td></tr>"
                for i in inputs
            ),
            "</tbody></table></details>\n</section>\n",
        ]
    )


def _footer() -> str:
    return (
        '</main>\n<footer class="wrap">'
        f"<p>Made by depchain {escape(__version__)}. This page is self-contained: it "
        "loads nothing from the network, and its Content-Security-Policy forbids it to. "
        "Its script and style are depchain's own, under the Apache License 2.0.</p>"
        "</footer>\n"
    )


# -- the graph's data -------------------------------------------------------------


def _facts(result: ScanResult, node_id: str) -> list[list[str]]:
    """Where a component's bytes come from and who can publish them, as pairs of words
    (the JSON report's ``provenance`` and ``ownership``, for the details panel)."""
    from depchain.trust.facts import ownership, provenance

    graph = result.graph
    if node_id not in graph:
        return []
    component = graph.node(node_id)
    if not isinstance(component, Component):
        return []
    facts = provenance(component, graph)
    owners = ownership(component)
    pairs = [
        ("index", ", ".join(facts["index"])),
        ("pinned by", facts["pin"]),
        ("hashes", str(facts["hashes"]) if facts["hashes"] else "none"),
        ("artifact", facts["artifact"]),
        ("attestation", facts["attestation"]),
        ("attestation verified", facts["attestation_verified"]),
        ("publisher", facts["publisher"]),
        ("ref", facts["ref_type"]),
        ("digest", facts["digest"]),
        ("organization", owners["organization"]),
        ("roles", ", ".join(f"{r['user']} ({r['role']})" for r in owners["roles"])),
        ("owner known from", owners["source"]),
        ("source", ", ".join(s.url for s in component.sources if s.url)),
        ("licence (declared)", _licence(component)),
    ]
    return [[name, _text(value)] for name, value in pairs if value not in (None, "", "unknown")]


def _licence(component: Component) -> str | None:
    declared = component.license
    if declared is None or not declared.known:
        return None
    said = declared.expression or ", ".join((*declared.ids, *declared.names))
    return f"{said} ({declared.source})"


def _data(result: ScanResult, picture: Picture) -> dict[str, Any]:
    """What the script draws: the nodes with their boxes, the edges by node index, the
    framed regions, and the palette and words of the legend."""
    placed = layout(picture)
    index = {n.id: i for i, n in enumerate(picture.nodes)}
    nodes = []
    for n in picture.nodes:
        box = placed.boxes[n.id]
        item: dict[str, Any] = {
            "id": _text(n.id),
            "label": _text(n.label),
            "name": _text(placed.names[n.id]),
            "sub": _text(placed.subs[n.id]),
            "shape": n.shape.value,
            "prov": n.provenance.value,
            "x": box.x,
            "y": box.y,
            "w": box.w,
            "h": box.h,
        }
        optional: dict[str, Any] = {
            "version": n.version,
            "ecosystem": n.ecosystem,
            "purl": n.purl,
            "owner": n.owner,
            "depth": n.depth,
            "boundary": n.boundary,
        }
        item.update(
            {
                k: (_text(v) if isinstance(v, str) else v)
                for k, v in optional.items()
                if v is not None
            }
        )
        facts = _facts(result, n.id)
        if facts:
            item["facts"] = facts
        if n.findings:
            item["findings"] = [
                [_text(f.id), _text(f.severity), _text(f.message)] for f in n.findings
            ]
        for key, values in (
            ("evidence", n.evidence),
            ("members", n.members),
            ("endpoints", n.endpoints),
        ):
            if values:
                item[key] = [_text(v) for v in values]
        nodes.append(item)
    edges = [
        [
            index[e.source],
            index[e.target],
            e.kind.value,
            _text(e.scope),
            _text(e.mechanism),
            [_text(p) for p in e.evidence],
            e.count,
        ]
        for e in picture.edges
        if e.source in index and e.target in index
    ]
    return {
        "title": _text(picture.title),
        "width": placed.width,
        "height": placed.height,
        "nodes": nodes,
        "edges": edges,
        "regions": [
            {"x": r.x, "y": r.y, "w": r.w, "h": r.h, "label": r.label, "boundary": r.boundary}
            for r in placed.regions
        ],
        "colours": {p.value: PROVENANCE_COLOURS[p] for p in Provenance},
        "provenance": {p.value: PROVENANCE_TITLES[p] for p in Provenance},
        "shapes": {s.value: SHAPE_TITLES[s] for s in Shape},
        "kinds": {k.value: KIND_TITLES[k] for k in DependencyKind},
    }
