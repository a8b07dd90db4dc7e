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
