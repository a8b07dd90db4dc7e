"""``depchain sbom check`` for people and programs: a terminal table, Markdown for a
pull-request comment, JSON (``depchain-sbom-check/1``, see :mod:`depchain.sbomcheck`),
and the short summary ``depchain sbom --check`` prints on stderr."""

from __future__ import annotations

import json
import textwrap

from depchain import __version__
from depchain.render import printable
from depchain.render.markdown import _cell, _code
from depchain.sbomcheck import CISA_2025, ElementResult, Report

WIDTH = 80
SHOWN = 50
"""Components shown in the table and in Markdown (JSON lists them all)."""
_FORMATS = {
    "cyclonedx-json": "CycloneDX {v}, JSON",
    "cyclonedx-xml": "CycloneDX {v}, XML",
    "spdx-json": "{v}, JSON",
}


def render_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def percent(satisfied: int, total: int) -> str:
    """``83.9%``: rounded down, so that only a complete document shows 100.0%."""
    tenths = satisfied * 1000 // total if total else 0
    return f"{tenths // 10}.{tenths % 10}%"


def _plural(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word + 's'}"


def standard_text(report: Report) -> str:
    if CISA_2025 in report.standards:
        return "NTIA minimum elements and the CISA 2025 additions"
    return "NTIA minimum elements"


def kind_text(report: Report) -> str:
    pattern = _FORMATS.get(report.format)
    what = pattern.format(v=report.spec_version) if pattern else report.spec_version
    return f"{what}; {_plural(report.components, 'component')}"


def verdict(report: Report, min_completeness: float | None = None) -> str:
    """The overall figure, and what it means for the gate."""
    overall = (
        f"{percent(report.satisfied, report.total)} of the {standard_text(report)} "
        f"({report.satisfied} of {report.total} checks)"
    )
    said = ("conformant: " if report.conformant else "not conformant: ") + overall
    if min_completeness is not None:
        gate = f"--min-completeness {min_completeness:g}"
        said += (
            f"; passes {gate}" if report.passes(min_completeness) else f"; below {gate} (exit 1)"
        )
    return said


def _detail(r: ElementResult) -> str:
    if r.element.level == "component":
        return f"{r.satisfied} of {r.total}"
    said = ", ".join(r.found) if r.found else "none"
    return said if len(said) <= 200 else said[:199] + "…"


def _cut(text: str, width: int) -> str:
    text = printable(text.replace("\n", " "))
    return text if len(text) <= width else text[: max(width - 1, 0)] + "~"


def _name(name: str, version: str | None) -> str:
    return f"{name or '(no name)'} {version}" if version else name or "(no name)"


def _element_lines(report: Report, width: int) -> list[str]:
    title_w = max(len(r.element.title) for r in report.elements)
    out = [f"  {'element':<{title_w}}  {'level':<9}  {'complete':>8}"]
    for r in report.elements:
        share = percent(r.satisfied, r.total)
        left = f"  {r.element.title:<{title_w}}  {r.element.level:<9}  {share:>8}  "
        out.append(left + _cut(_detail(r), max(width - len(left), 12)))
    return out


def render_summary(
    report: Report, min_completeness: float | None = None, width: int = WIDTH
) -> str:
    """A few lines: what was checked, the verdict, each element (for stderr)."""
    out = [
        printable(f"depchain sbom check: {report.path} ({kind_text(report)})"),
        *textwrap.wrap(printable(verdict(report, min_completeness)), width),
        *_element_lines(report, width),
    ]
    if report.gaps:
        out.append(
            f"{_plural(len(report.gaps), 'component')} miss an element "
            "('depchain sbom check FILE' lists them)"
        )
    return "\n".join(out) + "\n"


def render_table(report: Report, min_completeness: float | None = None, width: int = WIDTH) -> str:
    width = max(width, 60)
    out = [
        f"depchain {__version__} sbom check",
        printable(f"  {report.path} ({kind_text(report)})"),
        "",
        *textwrap.wrap(printable(verdict(report, min_completeness)), width),
        "",
        *_element_lines(report, width),
    ]
    doc = report.document
    out += ["", "document"]
    rows = [
        ("describes", ", ".join(doc.describes) or "nothing named"),
        ("authors", ", ".join(doc.authors) or "none"),
        ("tools", ", ".join(doc.tools) or "none"),
        ("timestamp", doc.timestamp or "none"),
        ("generation context", ", ".join(doc.contexts) or "none"),
    ]
    out += [_cut(f"  {label:<19} {value}", width) for label, value in rows]
    out.append("")
    if report.gaps:
        out.append(f"components missing elements ({len(report.gaps)} of {report.components})")
        name_w = 30 + max(0, width - WIDTH) // 2
        for gap in report.gaps[:SHOWN]:
            out.append(
                _cut(f"  {_cut(_name(gap.name, gap.version), name_w):<{name_w}}  ", width)
                + _cut(", ".join(gap.missing), max(width - name_w - 4, 12))
            )
        if len(report.gaps) > SHOWN:
            out.append(f"  ... and {len(report.gaps) - SHOWN} more (--format json lists them all)")
    elif report.components:
        out.append("components missing elements: none")
    if report.notes:
        out += ["", "notes"]
        out += [_cut(f"  {note}", width * 2) for note in report.notes]
    return "\n".join(out) + "\n"


def render_markdown(report: Report, min_completeness: float | None = None) -> str:
    said = verdict(report, min_completeness)
    out = [
        f"### depchain sbom check: {_code(report.path, in_table=False)}",
        "",
        f"**{_cell(said[:1].upper() + said[1:])}**. {_cell(kind_text(report))}.",
        "",
        "| element | level | complete | detail |",
        "| --- | --- | --- | --- |",
    ]
    out += [
        f"| {r.element.title} | {r.element.level} | {percent(r.satisfied, r.total)} | "
        f"{_cell(_detail(r))} |"
        for r in report.elements
    ]
    out.append("")
    if report.gaps:
        out += [
            f"<details><summary>Components missing elements: {len(report.gaps)} of "
            f"{report.components}</summary>",
            "",
            "| component | version | missing |",
            "| --- | --- | --- |",
        ]
        out += [
            f"| {_cell(g.name or '(no name)')} | {_cell(g.version or '-')} | "
            f"{', '.join(g.missing)} |"
            for g in report.gaps[:SHOWN]
        ]
        if len(report.gaps) > SHOWN:
            out += ["", f"…and {len(report.gaps) - SHOWN} more; `--format json` lists them all."]
        out += ["", "</details>", ""]
    if report.notes:
        out += ["<sub>" + "<br>".join(_cell(n) for n in report.notes) + "</sub>", ""]
    return "\n".join(out).rstrip("\n") + "\n"
