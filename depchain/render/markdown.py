"""Markdown for pull-request comments: the four kinds and the trust surface in one
table, the trust gaps ranked, what could not be read."""

from __future__ import annotations

import re

from depchain import __version__
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
    out.append(
        f"| service | {edges} | {services['total']} services | | "
        f"{services['boundary_unknown']} boundary unknown | "
        f"{services['across_trust_boundary']} across the boundary |"
    )
    out.append("")
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
