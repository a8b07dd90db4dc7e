"""Per-case severities are written in the catalogue (and the README), and the rules
use them: DC009 is high for a branch, medium for a tag."""

from __future__ import annotations

from pathlib import Path

import pytest

import depchain
from depchain.trust.catalogue import BY_ID, CATALOGUE, Severity
from tests.conftest import REPO


def test_readme_lists_every_per_case_severity() -> None:
    readme = (REPO / "README.md").read_text()
    cases = [(gap, case) for gap in CATALOGUE for case in gap.cases]
    assert {gap.id for gap, _ in cases} >= {"DC001", "DC009", "DC019"}
    for gap, case in cases:
        assert f"- `{gap.id}`: {case.severity.value} for {case.when}\n" in readme


def test_catalogue_cases() -> None:
    dc009 = BY_ID["DC009"]
    assert dc009.severity_for() is Severity.MEDIUM
    assert dc009.severity_for("branch") is Severity.HIGH
    assert dc009.severity_text == "medium; high for a branch (it moves with every push)"
    with pytest.raises(KeyError):
        dc009.severity_for("tag")


def test_dc009_is_high_for_a_branch_and_medium_for_a_tag(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: actions/setup-python@main\n"
    )
    result = depchain.scan(tmp_path)
    found = {(f.component.split("@")[0], f.severity) for f in result.findings if f.id == "DC009"}
    assert found == {
        ("pkg:githubactions/actions/checkout", "medium"),
        ("pkg:githubactions/actions/setup-python", "high"),
    }
