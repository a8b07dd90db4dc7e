"""SARIF 2.1.0 for code-scanning UIs: one rule per catalogue entry and one per known
advisory, one result per finding (a known vulnerability under its advisory's rule),
located at the file and line of the entry that brought the dependency in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from depchain import __version__
from depchain.model import Finding
from depchain.scanner import ScanResult
from depchain.trust.catalogue import CATALOGUE
from depchain.vulns.interface import Advisory

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def build(result: ScanResult) -> dict[str, Any]:
    rules = [
        {
            "id": gap.id,
            "name": "".join(
                w.capitalize()
                for w in gap.title.replace("(", " ").replace(")", " ").split()
                if w.isalnum()
            ),
            "shortDescription": {"text": gap.title},
            "fullDescription": {"text": gap.explanation},
            "help": {"text": gap.fix, "markdown": f"**Fix:** {gap.fix}"},
            "defaultConfiguration": {"level": _LEVEL[gap.severity.value]},
            "properties": {
                "security-severity": _SCORE[gap.severity.value],
                "tags": ["security", "supply-chain"],
            },
        }
        for gap in CATALOGUE
    ]
    index = {gap.id: i for i, gap in enumerate(CATALOGUE)}
    advisory_of = _advisories(result)
    for one in sorted({a.id: a for a in advisory_of.values()}.values(), key=lambda a: a.id):
        index[one.id] = len(rules)
        rules.append(_advisory_rule(one))
    results = []
    for finding in result.findings:
        locations = []
        for evidence in finding.evidence[:5]:
            location: dict[str, Any] = {
                "artifactLocation": {"uri": quote(evidence.path), "uriBaseId": "SRCROOT"}
            }
            if evidence.line:
                location["region"] = {"startLine": evidence.line}
            locations.append({"physicalLocation": location})
        advisory = advisory_of.get((finding.component, finding.message))
        rule = advisory.id if advisory is not None else finding.id
        results.append(
            {
                "ruleId": rule,
                "ruleIndex": index[rule],
                "level": _LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": locations,
                "partialFingerprints": {
                    "depchain/v2": _fingerprint(finding)
                    if advisory is None
                    else f"{advisory.id}:{finding.component}"
                },
                "properties": {
                    "component": finding.component,
                    "severity": finding.severity,
                    "gap": finding.id,
                    **({"aliases": list(advisory.aliases)} if advisory is not None else {}),
                },
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "depchain",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/depchain/",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": result.root.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }


def _advisories(result: ScanResult) -> dict[tuple[str, str], Advisory]:
    """(component, message) of each DC024 finding -> its advisory: a known
    vulnerability is a result of the advisory's own rule."""
    if result.audit is None:
        return {}
    found: dict[tuple[str, str], Advisory] = {}
    for finding in result.findings:
        if finding.id != "DC024":
            continue
        for advisory in result.audit.found.get(finding.component, []):
            if f" {advisory.id}" in finding.message:
                found[(finding.component, finding.message)] = advisory
                break
    return found


def _advisory_rule(advisory: Advisory) -> dict[str, Any]:
    score = max((c.score for c in advisory.cvss if c.score is not None), default=None)
    severity = advisory.severity.value
    level = _LEVEL.get(severity, "error")  # unknown counts as high
    help_text = (
        f"Upgrade to {', '.join(advisory.fixed_in)}." if advisory.fixed_in else "No fix is known."
    )
    rule: dict[str, Any] = {
        "id": advisory.id,
        "name": "KnownVulnerability",
        "shortDescription": {"text": advisory.summary or advisory.id},
        "fullDescription": {
            "text": f"{advisory.id} ({', '.join(advisory.aliases) or 'no other ids'}): "
            f"{advisory.summary}"
        },
        "help": {"text": help_text, "markdown": f"**Fix:** {help_text}"},
        "defaultConfiguration": {"level": level},
        "properties": {
            "security-severity": f"{score:.1f}"
            if score is not None
            else _SCORE.get(severity, "8.0"),
            "tags": ["security", "vulnerability", "supply-chain"],
        },
    }
    if advisory.references:
        rule["helpUri"] = advisory.references[0]
    return rule


def _fingerprint(finding: Finding) -> str:
    """Gap, component, file and message without its numbers: two problems of one
    component in one file (two extra indexes, say) stay two alerts in a code-scanning
    UI, and a count in a message ("3 requirement(s)") changing does not make a new
    one."""
    import hashlib
    import re

    path = finding.evidence[0].path if finding.evidence else ""
    stable = re.sub(r"\d+", "#", finding.message)
    digest = hashlib.sha256(stable.encode()).hexdigest()[:16]
    return f"{finding.id}:{finding.component}:{path}:{digest}"


def render(result: ScanResult) -> str:
    return json.dumps(build(result), indent=2, ensure_ascii=False) + "\n"
