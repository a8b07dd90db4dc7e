"""CVSS base scores and their qualitative ratings.

CVSS v3.0 and v3.1 base scores are computed from the vector (the v3.1 specification,
section 7.1, with its ``Roundup``; v3.0 vectors use the same equations). CVSS v4 scoring
needs the specification's table of macro-vectors and is not done here: a v4 vector
gets no score, and the advisory's own severity word decides.
"""

from __future__ import annotations

import math

from depchain.vulns.interface import Severity

_V3_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "PR": {"N": 0.85, "L": 0.62, "H": 0.27},
    "UI": {"N": 0.85, "R": 0.62},
    "S": {"U": 0.0, "C": 0.0},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_V3_OPTIONAL = {
    "E", "RL", "RC", "CR", "IR", "AR",
    "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
}  # fmt: skip


def _roundup(value: float) -> float:
    """CVSS v3.1's Roundup: the smallest number with one decimal that is >= value, free
    of floating-point noise (Appendix A)."""
    integer = round(value * 100_000)
    if integer % 10_000 == 0:
        return integer / 100_000.0
    return (math.floor(integer / 10_000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a ``CVSS:3.0/...`` or ``CVSS:3.1/...`` vector, or None when the
    vector is not one (a metric missing, repeated or with an unknown value)."""
    parts = vector.strip().split("/")
    if len(parts) < 2 or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            return None
        if name in _V3_WEIGHTS:
            if value not in _V3_WEIGHTS[name]:
                return None
        elif name not in _V3_OPTIONAL:
            return None
        metrics[name] = value
    if any(name not in metrics for name in _V3_WEIGHTS):
        return None
    changed = metrics["S"] == "C"
    iss = 1 - (
        (1 - _V3_WEIGHTS["C"][metrics["C"]])
        * (1 - _V3_WEIGHTS["I"][metrics["I"]])
        * (1 - _V3_WEIGHTS["A"][metrics["A"]])
    )
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    privileges = (_PR_CHANGED if changed else _V3_WEIGHTS["PR"])[metrics["PR"]]
    exploitability = (
        8.22
        * _V3_WEIGHTS["AV"][metrics["AV"]]
        * _V3_WEIGHTS["AC"][metrics["AC"]]
        * privileges
        * _V3_WEIGHTS["UI"][metrics["UI"]]
    )
    if impact <= 0:
        return 0.0
    if changed:
        return _roundup(min(1.08 * (impact + exploitability), 10))
    return _roundup(min(impact + exploitability, 10))


def base_score(kind: str, vector: str) -> float | None:
    """The base score of an OSV ``severity`` entry (``CVSS_V3`` computed; others None)."""
    if kind == "CVSS_V3" or vector.startswith("CVSS:3."):
        return cvss3_base_score(vector)
    return None


def rating(score: float) -> Severity:
    """The CVSS qualitative rating of a base score (the same bands in v3 and v4)."""
    if score <= 0:
        return Severity.NONE
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    if score < 9.0:
        return Severity.HIGH
    return Severity.CRITICAL


_WORDS: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
    "none": Severity.NONE,
}


def severity_word(word: object) -> Severity | None:
    """An advisory's own severity word (GitHub's LOW/MODERATE/HIGH/CRITICAL, and the
    usual synonyms), or None for anything else."""
    if not isinstance(word, str):
        return None
    return _WORDS.get(word.strip().lower())
