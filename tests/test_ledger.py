"""The trust ledger: written by ``depchain accept``, one entry per line, stable; it makes
accepted trusts explicit and turns an owner change into a finding (DC017) at the line
that brought the component in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import depchain
from depchain.cli import main
from depchain.trust import ledger
from depchain.trust.surface import trust_surface

WORKFLOW = (
    "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@0b93645e9fea7318ecaed2b359559ac225c90a2b # v4\n"
)


def _repo(tmp_path: Path, requirements: str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text(requirements)
    return tmp_path


def test_accept_writes_one_sorted_entry_per_line_and_again_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(
        tmp_path,
        "--extra-index-url https://u:s3cr3t@mirror.example/simple?token=t0k3n\n"
        "six==1.16.0\nattrs==24.2.0\n",
    )
    assert main(["accept", str(repo), "--who", "alice", "--why", "first review"]) == 0
    text = (repo / "depchain-ledger.json").read_text()
    assert "accepted" in capsys.readouterr().err
    data = json.loads(text)
    assert data["schema"] == "depchain-ledger/3"
    assert [e["to"] for e in data["edges"]] == ["pkg:pypi/attrs", "pkg:pypi/six"]
    assert all(e["from"] == "." for e in data["edges"])  # the folder, whatever its name
    assert data["edges"][0]["who"] == "alice" and data["edges"][0]["why"] == "first review"
    # every entry on a line of its own: a diff shows each trust added or removed
    lines = text.splitlines()
    for entry in data["edges"] + data["gaps"] + data["indexes"]:
        assert any(
            json.loads(line.strip().rstrip(",")) == entry
            for line in lines[2:-1]
            if line.strip().startswith("{")
        )
    assert "s3cr3t" not in text and "t0k3n" not in text
    assert [(i["component"], i["index"]) for i in data["indexes"]] == [
        ("pkg:pypi/attrs", "https://mirror.example/simple"),
        ("pkg:pypi/six", "https://mirror.example/simple"),
    ]
    # a second run adds nothing and writes the same bytes, whoever runs it
    assert main(["accept", str(repo), "--who", "bob"]) == 0
    assert (repo / "depchain-ledger.json").read_text() == text


def test_new_entries_get_who_and_why_old_ones_keep_theirs_and_prune_drops_what_is_gone(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, "six==1.16.0\n")
    assert main(["accept", str(repo), "--who", "alice"]) == 0
    (repo / "requirements.txt").write_text("attrs==24.2.0\n")
    assert main(["accept", str(repo), "--who", "bob", "--why", "needed for x"]) == 0
    data = json.loads((repo / "depchain-ledger.json").read_text())
    by_target = {e["to"]: e for e in data["edges"]}
    assert by_target["pkg:pypi/six"]["who"] == "alice"  # kept: no --prune
    assert by_target["pkg:pypi/attrs"] == {
        "from": ".",
        "to": "pkg:pypi/attrs",
        "kind": "dynamic",
        "who": "bob",
        "why": "needed for x",
    }
    assert main(["accept", str(repo), "--prune"]) == 0
    data = json.loads((repo / "depchain-ledger.json").read_text())
    assert [e["to"] for e in data["edges"]] == ["pkg:pypi/attrs"]
    assert {g["component"] for g in data["gaps"]} == {"pkg:pypi/attrs"}


def test_ledger_owner_change_is_dc017_and_accepted_components_are_explicit(
    tmp_path: Path,
) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    assert main(["accept", str(tmp_path)]) == 0
    path = tmp_path / "depchain-ledger.json"
    data = json.loads(path.read_text())
    [owned] = [o for o in data["owners"] if o["component"].startswith("pkg:githubactions/")]
    assert owned["owner"] == "actions"

    result = depchain.scan(tmp_path)
    assert not [f for f in result.findings if f.id in {"DC017", "DC025"}]
    assert trust_surface(result.graph, result.policy, result.ledger)["total"]["explicit"] == 1

    # the same action, now from a fork: a new owner of the "same" trust
    owned["owner"] = "someone-else"
    path.write_text(json.dumps(data))
    result = depchain.scan(tmp_path)
    (changed,) = [f for f in result.findings if f.id == "DC017"]
    assert "were someone-else, now actions" in changed.message
    assert (changed.evidence[0].path, changed.evidence[0].line) == (".github/workflows/ci.yml", 6)
    assert trust_surface(result.graph, result.policy, result.ledger)["total"]["explicit"] == 0


def test_an_edge_not_in_the_ledger_is_dc025_at_its_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "six==1.16.0\n")
    assert main(["accept", str(repo)]) == 0
    (repo / "requirements.txt").write_text("six==1.16.0\n# a comment\nflask>=3\n")
    result = depchain.scan(repo)
    [new] = [f for f in result.findings if f.id == "DC025"]
    assert new.message == "new dynamic dependency on flask (>=3) is not in the trust ledger"
    assert (new.evidence[0].path, new.evidence[0].line) == ("requirements.txt", 3)
    assert new.severity == "medium"


def test_a_gap_accepted_under_other_facts_is_new_again(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "flask>=3\n")
    assert main(["accept", str(repo)]) == 0
    result = depchain.scan(repo)
    [gap] = [f for f in result.findings if f.id == "DC001"]
    assert result.ledger is not None
    assert ledger.held_gap(result.ledger, result.graph, gap, result.subject)
    # the same unpinned requirement, now from another index: the facts changed
    (repo / "requirements.txt").write_text("--index-url https://mirror.example/simple\nflask>=3\n")
    result = depchain.scan(repo)
    [gap] = [f for f in result.findings if f.id == "DC001"]
    assert result.ledger is not None
    assert not ledger.held_gap(result.ledger, result.graph, gap, result.subject)
    assert any(f.id == "DC025" and "mirror.example" in f.message for f in result.findings)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"schema": "depchain-ledger/3", "edges": [', "invalid JSON"),
        ('{"schema": "depchain-ledger/3", "edges": {}}', "edges: expected a list"),
        ('{"schema": "depchain-ledger/3", "edges": [{"from": "."}]}', "edges entry 1"),
        ('{"schema": "depchain-ledger/2", "entries": {}}', "depchain accept"),
        ("[]", "not a depchain-ledger/3 ledger"),
    ],
)
def test_a_broken_ledger_is_a_one_line_error_and_the_scan_goes_on(
    tmp_path: Path, text: str, said: str
) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "depchain-ledger.json").write_text(text)
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == "depchain-ledger.json" and said in error.message
    assert "six" in {c.name for c in result.graph.components()}
