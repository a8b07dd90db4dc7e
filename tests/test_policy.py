"""The explicit-trust policy: severities, trusted indexes, suppressions with a reason
and an expiry (an expired one is a finding), the default --fail-on, bad policies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import depchain
from depchain.cli import main

REQS = "--extra-index-url https://pypi.internal.example.com/simple\nrequests\nsix==1.16.0\n"


def _ids(result: depchain.ScanResult) -> dict[str, str]:
    return {f.id: f.severity for f in result.findings}


def test_without_policy_every_gap_counts(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(REQS)
    assert _ids(depchain.scan(tmp_path)) == {"DC001": "medium", "DC002": "low", "DC003": "high"}


def test_policy_changes_severity_trusts_an_index_and_suppresses(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(REQS)
    future = dt.date.today() + dt.timedelta(days=30)
    (tmp_path / "depchain.toml").write_text(
        'fail-on = "medium"\n'
        '[trusted.pypi]\nindexes = ["https://pypi.internal.example.com/simple"]\n'
        '[severity]\nDC002 = "off"\nDC001 = "high"\n'
        f'[[suppress]]\nid = "DC001"\ncomponent = "requests"\nreason = "pinned next '
        f'sprint"\nexpires = {future.isoformat()}\n'
    )
    result = depchain.scan(tmp_path)
    assert not result.errors and _ids(result) == {}
    assert result.policy is not None and result.policy.fail_on == "medium"


def test_an_expired_suppression_is_a_finding_and_no_longer_hides(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.depchain]\n\n[[tool.depchain.suppress]]\nid = "DC001"\n'
        'component = "requests"\nreason = "temporary"\nexpires = 2020-01-01\n'
    )
    result = depchain.scan(tmp_path)
    found = {f.id: f for f in result.findings}
    assert set(found) == {"DC001", "DC020"}
    expired = found["DC020"]
    assert "expired on 2020-01-01" in expired.message
    assert (expired.evidence[0].path, expired.evidence[0].line) == ("pyproject.toml", 3)
    # a catalogue entry like every other finding: explained, and a rule in SARIF
    from depchain.export.sarif import render
    from depchain.trust.catalogue import BY_ID

    assert expired.severity == BY_ID["DC020"].severity.value
    assert main(["explain", "DC020"]) == 0
    sarif = json.loads(render(result))
    rules = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    [dc020] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "DC020"]
    assert rules[dc020["ruleIndex"]] == "DC020"


def test_policy_fail_on_is_the_default(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")  # one low gap: no hash
    assert main(["scan", str(tmp_path), "-o", "/dev/null"]) == 0  # default: high
    (tmp_path / "depchain.toml").write_text('fail-on = "low"\n')
    assert main(["scan", str(tmp_path), "-o", "/dev/null"]) == 1
    assert main(["scan", str(tmp_path), "--fail-on", "high", "-o", "/dev/null"]) == 0


def test_a_bad_policy_is_an_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n")
    (tmp_path / "depchain.toml").write_text(
        'fail-on = "sometimes"\n[severity]\nDC999 = "low"\nDC001 = "loud"\n'
        '[[suppress]]\nid = "DC001"\ncomponent = "requests"\nexpires = 2030-01-01\n'
    )
    result = depchain.scan(tmp_path)
    messages = sorted(e.message for e in result.errors if e.path == "depchain.toml")
    assert len(messages) == 4, messages
    assert any("line 3" in m and "DC999" in m for m in messages)
    assert any("line 5" in m and "needs a reason" in m for m in messages)
    assert "DC001" in _ids(result)  # a suppression without a reason suppresses nothing


# -- the expiry boundary: a suppression holds through its expiry day, not one day more --

EXPIRES = dt.date(2031, 3, 15)


def _suppressed_scan(tmp_path: Path, expires: dt.date) -> depchain.ScanResult:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "requirements.txt").write_text("requests\n")
    (tmp_path / "depchain.toml").write_text(
        '[[suppress]]\nid = "DC001"\ncomponent = "requests"\nreason = "pinned next sprint"\n'
        f"expires = {expires.isoformat()}\n"
    )
    return depchain.scan(tmp_path)


def _applied(result: depchain.ScanResult, today: dt.date) -> dict[str, list[str]]:
    """The scan's own gaps, before any suppression, with its policy applied as on
    ``today``: finding id → messages."""
    from depchain.trust.policy import Policy, apply
    from depchain.trust.rules import find_gaps

    assert result.policy is not None
    gaps = find_gaps(result.graph, Policy().trusted_indexes())
    names = {c.id: c.name for c in result.graph.components()}
    out: dict[str, list[str]] = {}
    for f in apply(gaps, result.policy, today=today, names=names):
        out.setdefault(f.id, []).append(f.message)
    return out


def test_a_suppression_holds_on_its_expiry_day(tmp_path: Path) -> None:
    result = _suppressed_scan(tmp_path, EXPIRES)
    assert not result.errors
    for today in (EXPIRES - dt.timedelta(days=1), EXPIRES):
        found = _applied(result, today)
        assert "DC001" not in found and "DC020" not in found, (today, found)


def test_one_day_past_its_expiry_the_gap_shows_again(tmp_path: Path) -> None:
    result = _suppressed_scan(tmp_path, EXPIRES)
    for today in (EXPIRES + dt.timedelta(days=1), EXPIRES + dt.timedelta(days=365)):
        found = _applied(result, today)
        assert len(found.get("DC001", [])) == 1, (today, found)
        [expired] = found["DC020"]
        assert f"expired on {EXPIRES.isoformat()}" in expired, today


def test_the_boundary_on_the_real_clock(tmp_path: Path) -> None:
    """The same through scan(), whose 'today' is the UTC date: a suppression expiring
    today hides its gap, one that expired yesterday does not."""
    for attempt in range(2):  # the UTC date may turn while the test runs: try again
        today = dt.datetime.now(dt.timezone.utc).date()
        on_the_day = _suppressed_scan(tmp_path / f"today{attempt}", today)
        past = _suppressed_scan(tmp_path / f"past{attempt}", today - dt.timedelta(days=1))
        if dt.datetime.now(dt.timezone.utc).date() == today:
            break
    assert "DC001" not in _ids(on_the_day) and "DC020" not in _ids(on_the_day)
    assert {"DC001", "DC020"} <= set(_ids(past))
