"""SARIF 2.1.0 for code-scanning UIs: one rule per catalogue entry, one result per
finding, located at the file and line of the entry that brought the dependency in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from depchain import __version__
from depchain.model import Finding
from depchain.scanner import ScanResult
from depchain.trust.catalogue import CATALOGUE

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
        results.append(
            {
                "ruleId": finding.id,
                "ruleIndex": index[finding.id],
                "level": _LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": locations,
                "partialFingerprints": {"depchain/v2": _fingerprint(finding)},
                "properties": {"component": finding.component, "severity": finding.severity},
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
