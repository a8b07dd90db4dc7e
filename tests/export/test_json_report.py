from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import depchain
from depchain.cli import main
from depchain.export import json_report


def schema() -> dict[str, Any]:
    text = resources.files("depchain").joinpath("schemas/depchain-report-1.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text())
    return loaded


def test_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_every_real_world_project_validates(real_world: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for folder in sorted(p for p in real_world.iterdir() if p.is_dir()):
        report = json_report.build(depchain.scan(folder))
        errors = sorted(validator.iter_errors(report), key=str)
        assert not errors, (folder.name, errors[:3])
        ids = {c["id"] for c in report["components"]} | {s["id"] for s in report["services"]}
        for dep in report["dependencies"]:
            assert dep["from"] in ids and dep["to"] in ids
            assert dep["evidence"], dep


def test_schema_rejects_what_it_should(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    report = json_report.build(depchain.scan(tmp_path))
    validator = jsonschema.Draft202012Validator(schema())
    assert not list(validator.iter_errors(report))
    broken = json.loads(json.dumps(report))
    broken["dependencies"][0]["kind"] = "runtime"  # not one of the four kinds
    assert list(validator.iter_errors(broken))
    broken = json.loads(json.dumps(report))
    del broken["dependencies"][0]["evidence"]
    assert list(validator.iter_errors(broken))


def test_cli_json_report_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    out = tmp_path / "r.json"
    assert main(["scan", str(tmp_path), "-f", "json", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["schema"] == "depchain-report/1"
    assert report["generated"] == "1970-01-01T00:00:00Z"
    (dep,) = report["dependencies"]
    assert dep["to"] == "pkg:pypi/six@1.16.0"
    assert dep["kind"] == "dynamic" and dep["scope"] == "required"
    assert dep["evidence"] == [
        {"path": "requirements.txt", "line": 1, "resolver": "requirements", "role": "runtime"}
    ]
    assert report["services"] == [] and report["errors"] == []
    assert [f["id"] for f in report["findings"]] == ["DC002"]  # pinned, not hashed


def test_components_carry_licence_supplier_authors_and_links(tmp_path: Path) -> None:
    """What an installed distribution's metadata declares reaches the report (it reached
    the SBOMs only): the licence as declared, authors, summary and URLs; the supplier
    only where an owner is known (an action's owner here; never the metadata's author)."""
    import sys
    from importlib.metadata import distribution

    from depchain.scanner import VulnOptions

    result = depchain.scan(python=sys.executable, vulns=VulnOptions(enabled=False))
    report = json_report.build(result)
    jsonschema.Draft202012Validator(schema()).validate(report)
    meta = distribution("packaging").metadata
    (found,) = [
        c
        for c in report["components"]
        if c["name"] == "packaging" and c["version"] == meta["Version"]
    ]
    declared = meta.get("License-Expression") or meta.get("License")
    assert found["license"] is not None and found["license"]["source"] in {
        "License-Expression",
        "License",
        "Classifier",
    }
    if declared:
        assert found["license"]["expression"] == declared
    assert found["description"] == meta["Summary"]
    assert any(link["url"].startswith("https://") for link in found["links"])
    assert found["authors"] and all("name" in a or "email" in a for a in found["authors"])
    assert found["supplier"] is None  # nobody asked the index who can publish it
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
    )
    (action,) = [
        c
        for c in json_report.build(depchain.scan(tmp_path))["components"]
        if c["name"] == "actions/checkout"
    ]
    assert action["supplier"] == {
        "name": "actions",
        "kind": "organization",
        "source": "github-owner",
        "url": "https://github.com/actions",
    }
    assert action["license"] is None


def test_a_distribution_from_a_checkout_comes_from_no_index(tmp_path: Path) -> None:
    """provenance.index said 'default' for every Python distribution no index named,
    a VCS checkout's too: its bytes come from the repository, from no index."""
    (tmp_path / "requirements.txt").write_text(
        "mylib @ git+https://github.com/example/mylib@0123456789abcdef0123456789abcdef01234567\n"
        "six==1.16.0\n"
    )
    report = json_report.build(depchain.scan(tmp_path))
    by_name = {c["name"]: c["provenance"] for c in report["components"]}
    assert by_name["mylib"]["index"] == [] and by_name["mylib"]["pin"] == "commit"
    assert by_name["six"]["index"] == ["default"]
