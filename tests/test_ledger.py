"""The trust ledger: written from a scan, it makes accepted trusts explicit and turns
an owner change into a finding (DC017) at the line that brought the component in."""

from __future__ import annotations

import json
from pathlib import Path

import depchain
from depchain.cli import main
from depchain.trust.surface import trust_surface

WORKFLOW = (
    "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@0b93645e9fea7318ecaed2b359559ac225c90a2b # v4\n"
)


def test_ledger_round_trip_and_owner_change(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    workflow = tmp_path / ".github" / "workflows" / "ci.yml"
    workflow.write_text(WORKFLOW)
    ledger = tmp_path / "depchain-ledger.json"
    assert main(["ledger", str(tmp_path), "-o", str(ledger)]) == 0
    entries = json.loads(ledger.read_text())["entries"]
    (ident,) = [k for k in entries if k.startswith("pkg:githubactions/actions/checkout")]
    assert entries[ident] == {"kinds": ["build"], "owner": "actions"}

    result = depchain.scan(tmp_path)
    assert not [f for f in result.findings if f.id == "DC017"]
    assert trust_surface(result.graph, result.policy, result.ledger)["total"]["explicit"] == 1

    # the same action, now from a fork: a new owner of the "same" trust
    data = json.loads(ledger.read_text())
    data["entries"][ident]["owner"] = "someone-else"
    ledger.write_text(json.dumps(data))
    result = depchain.scan(tmp_path)
    (changed,) = [f for f in result.findings if f.id == "DC017"]
    assert "were someone-else, now actions" in changed.message
    assert (changed.evidence[0].path, changed.evidence[0].line) == (".github/workflows/ci.yml", 6)
    assert trust_surface(result.graph, result.policy, result.ledger)["total"]["explicit"] == 0


def test_a_broken_ledger_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "depchain-ledger.json").write_text('{"schema": "depchain-ledger/2", "entries": [')
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == "depchain-ledger.json" and "invalid JSON" in error.message
    assert "six" in {c.name for c in result.graph.components()}
