"""What a report says of the audit, in words: the same for the table and Markdown.

"No known vulnerabilities" is said only when every component was audited and no source
failed; otherwise the first lines say what is missing and how to get it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from depchain.scanner import ScanResult
from depchain.vulns.audit import SEVERITY_ORDER
from depchain.vulns.interface import Advisory

HOW_TO_GET = "run `depchain db update`, or give --vuln-db PATH (OSV records)"


@dataclass(frozen=True)
class Row:
    severity: str
    advisory: Advisory
    component: str
    """The component's name and version."""
    ignored: str | None
    """The ignore's reason and expiry, when the policy ignores it."""


def headline(result: ScanResult) -> list[str]:
    """One to three lines: the verdict, and what was not audited or failed."""
    report = result.audit
    if report is None:
        return ["vulnerabilities: not audited (the audit was turned off)"]
    lines: list[str] = []
    for error in report.errors:
        lines.append(f"vulnerabilities: a source failed: {error}")
    if not report.sources:
        lines.append("vulnerabilities: NOT AUDITED: no advisory data at hand")
        lines.append(f"  ({HOW_TO_GET})")
        return lines
    if not report.audited and report.errors:
        lines.append("vulnerabilities: NOT AUDITED: every source asked failed")
        return lines
    used = ", ".join(f"{s.name} ({_when(s.updated, s.name)})" for s in report.sources)
    rows = rows_of(result)
    live = [r for r in rows if r.ignored is None]
    if live:
        counts = Counter(r.severity for r in live)
        order = ["critical", "high", "unknown", "medium", "low", "none"]
        lines.append(
            f"vulnerabilities: {len(live)} known ("
            + ", ".join(f"{counts[s]} {s}" for s in order if counts[s])
            + f") in {len({r.component for r in live})} components"
            + (f"; {len(rows) - len(live)} ignored by the policy" if len(rows) > len(live) else "")
        )
    elif report.complete:
        lines.append(
            f"vulnerabilities: no known vulnerabilities ({len(report.audited)} components audited)"
        )
    else:
        lines.append(f"vulnerabilities: none found in the {len(report.audited)} components audited")
    lines.append(f"  advisory data: {used}")
    if report.not_audited:
        lines.append(
            f"  {len(report.not_audited)} components NOT audited (--format json says why for each)"
        )
    return lines


def _when(updated: str | None, name: str) -> str:
    if updated:
        return updated[:10]
    return "live" if "pip-audit" in name else "undated"


def rows_of(result: ScanResult) -> list[Row]:
    """Every advisory of every component, most severe first."""
    report = result.audit
    if report is None:
        return []
    rows = []
    for component, advisories in report.found.items():
        node = result.graph.node(component) if component in result.graph else None
        name = f"{node.name} {getattr(node, 'version', '') or ''}".strip() if node else component
        for a in advisories:
            ignore = result.ignored.get((component, a.id))
            rows.append(
                Row(
                    a.severity.value,
                    a,
                    name,
                    f"ignored until {ignore.expires.isoformat()}: {ignore.reason}"
                    if ignore
                    else None,
                )
            )
    return sorted(
        rows,
        key=lambda r: (r.ignored is not None, -SEVERITY_ORDER[r.advisory.severity], r.advisory.id),
    )
