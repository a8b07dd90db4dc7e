"""The explicit-trust policy: ``[tool.depchain]`` in ``pyproject.toml``, or a
``depchain.toml`` beside it (where the same keys stand at the top level, or under
``[tool.depchain]``).

.. code-block:: toml

    [tool.depchain]
    fail-on = "high"

    [tool.depchain.trusted.pypi]          # per ecosystem: owners, organizations, indexes
    organizations = ["psf", "pypa"]
    owners = ["nateprewitt"]
    indexes = ["https://pypi.internal.example.com/simple"]

    [tool.depchain.trusted.githubactions]
    owners = ["actions", "pypa"]

    [tool.depchain.severity]              # per gap: a severity, or "off"
    DC002 = "off"

    [[tool.depchain.suppress]]            # each with a reason and an expiry date
    id = "DC009"
    component = "actions/checkout"        # a component id, or its name
    reason = "pinned by dependabot within a week"
    expires = 2027-01-31

Unknown is never trusted: an owner that is not known is not in any trusted set. An
expired suppression no longer hides its gap and is itself a finding (DC020).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from depchain.errors import InputFileError
from depchain.fileio import load_toml
from depchain.model import Evidence, Finding, InputError
from depchain.resolvers.base import LineIndex
from depchain.trust.catalogue import BY_ID, Severity

_SEVERITIES = {s.value for s in Severity}


@dataclass(frozen=True)
class Suppression:
    gap: str
    component: str
    reason: str
    expires: dt.date
    evidence: Evidence


@dataclass(frozen=True)
class Trusted:
    owners: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    indexes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    trusted: dict[str, Trusted] = field(default_factory=dict)
    """Per ecosystem (``pypi``, ``githubactions``, ``docker``, ``deb``, ...)."""
    severities: dict[str, str] = field(default_factory=dict)
    fail_on: str | None = None
    suppressions: tuple[Suppression, ...] = ()
    source: str | None = None
    """The file the policy came from; None: no policy (nothing is trusted)."""

    def trusts_owner(self, ecosystem: str, owner: str | None) -> bool:
        if owner is None:
            return False  # unknown is never trusted
        trusted = self.trusted.get(ecosystem, Trusted())
        names = {o.lower() for o in trusted.owners | trusted.organizations}
        # several owners (a project without an organization): each must be trusted
        return all(o.strip().lower() in names for o in owner.split(","))

    def trusted_indexes(self) -> set[str]:
        return {i.rstrip("/") for t in self.trusted.values() for i in t.indexes}


def load_policy(root: Path) -> tuple[Policy, list[InputError]]:
    """The policy of the tree at ``root`` (``depchain.toml`` first), and its problems."""
    for name in ("depchain.toml", "pyproject.toml"):
        path = root / name
        if not path.is_file():
            continue
        try:
            data = load_toml(path, name)
        except InputFileError:
            return Policy(), []  # the file's own scan reports it
        table = data.get("tool", {}).get("depchain") if isinstance(data.get("tool"), dict) else None
        if table is None and name == "depchain.toml":
            table = data
        if isinstance(table, dict) and table:
            return _parse(table, name, LineIndex(path.read_text("utf-8", "replace")))
    return Policy(), []


def _parse(
    table: dict[str, Any], display: str, lines: LineIndex
) -> tuple[Policy, list[InputError]]:
    errors: list[InputError] = []

    def error(message: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        errors.append(InputError(display, f"{where}[tool.depchain] {message}"))

    trusted: dict[str, Trusted] = {}
    for ecosystem, entry in (table.get("trusted") or {}).items():
        if not isinstance(entry, dict):
            error(f"trusted.{ecosystem} is not a table")
            continue
        values = {k: entry.get(k, []) for k in ("owners", "organizations", "indexes")}
        if any(
            not isinstance(v, list) or not all(isinstance(x, str) for x in v)
            for v in values.values()
        ):
            error(f"trusted.{ecosystem}: owners, organizations and indexes are lists of strings")
            continue
        trusted[ecosystem] = Trusted(
            frozenset(values["owners"]),
            frozenset(values["organizations"]),
            frozenset(values["indexes"]),
        )
    severities: dict[str, str] = {}
    for gap, value in (table.get("severity") or {}).items():
        line = lines.find(tables=("tool.depchain.severity", "severity"), key=gap)
        if gap not in BY_ID:
            error(f"severity: no gap {gap!r} (depchain explain lists them)", line)
        elif value not in _SEVERITIES | {"off"}:
            error(
                f"severity.{gap}: {value!r} is not off, info, low, medium, high or critical", line
            )
        else:
            severities[gap] = value
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in _SEVERITIES | {"never"}:
        error(f"fail-on: {fail_on!r} is not info, low, medium, high, critical or never")
        fail_on = None
    suppressions: list[Suppression] = []
    entries = table.get("suppress") or []
    for number, entry in enumerate(entries if isinstance(entries, list) else []):
        line = _nth_header(lines, number)
        if not isinstance(entry, dict):
            error("suppress: an entry that is not a table", line)
            continue
        gap, component = entry.get("id"), entry.get("component")
        reason, expires = entry.get("reason"), entry.get("expires")
        if gap not in BY_ID:
            error(f"suppress: no gap {gap!r}", line)
        elif not isinstance(component, str) or not component:
            error(f"suppress {gap}: names no component", line)
        elif not isinstance(reason, str) or not reason.strip():
            error(f"suppress {gap} {component}: a suppression needs a reason", line)
        elif not isinstance(expires, dt.date):
            error(
                f"suppress {gap} {component}: a suppression needs an expiry date "
                "(expires = 2027-01-31)",
                line,
            )
        else:
            suppressions.append(
                Suppression(
                    gap, component, reason.strip(), expires, Evidence(display, line, "policy")
                )
            )
    return Policy(trusted, severities, fail_on, tuple(suppressions), display), errors


def _nth_header(lines: LineIndex, n: int) -> int | None:
    found = lines.table("tool.depchain.suppress", "suppress", nth=n)
    return None if found is None else found + 1


def apply(
    findings: list[Finding],
    policy: Policy,
    today: dt.date | None = None,
    names: dict[str, str] | None = None,
) -> list[Finding]:
    """Findings as the policy wants them: severities changed or turned off, trusted
    indexes forgiven, unexpired suppressions applied, expired ones reported."""
    today = today or dt.date.today()
    names = names or {}
    trusted_indexes = policy.trusted_indexes()
    out: list[Finding] = []
    for finding in findings:
        severity = policy.severities.get(finding.id, finding.severity)
        if severity == "off":
            continue
        if finding.id == "DC003" and any(i in finding.message for i in trusted_indexes):
            continue
        active = [
            s
            for s in policy.suppressions
            if s.gap == finding.id
            and s.component in {finding.component, names.get(finding.component)}
        ]
        if any(s.expires >= today for s in active):
            continue
        out.append(replace(finding, severity=severity))
    for s in policy.suppressions:
        if s.expires < today:
            out.append(
                Finding(
                    "DC020",
                    policy.severities.get("DC020", "medium"),
                    f"the suppression of {s.gap} for {s.component} expired on "
                    f"{s.expires.isoformat()} (reason given: {s.reason})",
                    s.component,
                    (s.evidence,),
                )
            )
    return out
