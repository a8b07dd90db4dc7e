from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import depchain
from depchain.cli import main
from depchain.export import cyclonedx
from tests.conftest import real


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.mark.parametrize("spec", cyclonedx.SPEC_VERSIONS)
@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_pydantic_folder_validates(spec: str, fmt: cyclonedx.Format, epoch: None) -> None:
    result = depchain.scan(real("pydantic__pydantic"))
    text = cyclonedx.render(result, fmt, spec)
    cyclonedx.validate(text, fmt, spec)  # render validated already; say it again, loudly
    if fmt is cyclonedx.Format.JSON:
        doc = json.loads(text)
        assert doc["specVersion"] == spec
        assert doc["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")
        refs = {c["bom-ref"] for c in doc["components"]}
        assert len(refs) == len(result.graph.components()) - 1  # the subject is metadata
        assert doc["metadata"]["component"]["bom-ref"] == result.subject


def test_two_runs_give_identical_bytes(tmp_path: Path, epoch: None) -> None:
    target = real("pydantic__pydantic")
    for fmt in ("cyclonedx-json", "cyclonedx-xml"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        assert main(["sbom", str(target), "--format", fmt, "-o", str(a)]) == 0
        assert main(["sbom", str(target), "--format", fmt, "-o", str(b)]) == 0
        assert a.read_bytes() == b.read_bytes()


def test_kinds_scopes_and_evidence_are_carried(epoch: None) -> None:
    result = depchain.scan(real("pydantic__pydantic/pyproject.toml"))
    doc = json.loads(cyclonedx.render(result))
    by_name = {c["name"]: c for c in doc["components"]}
    hatchling = by_name["hatchling"]
    assert hatchling["scope"] == "excluded"  # build-time only
    props = {(p["name"], p["value"]) for p in hatchling["properties"]}
    assert ("depchain:kinds", "build") in props
    edge = next(v for n, v in props if n == "depchain:dependency")
    assert "kind=build" in edge and "mechanism=build-backend" in edge
    assert "evidence=pyproject.toml:2" in edge
    assert hatchling["evidence"]["occurrences"] == [
        {"bom-ref": "pkg:pypi/hatchling#pyproject.toml:2", "location": "pyproject.toml", "line": 2}
    ]
    assert by_name["email-validator"]["scope"] == "optional"
    assert by_name["typing-extensions"]["scope"] == "required"
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert "pkg:pypi/hatchling" in deps[result.subject]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, epoch: None) -> None:
    target = tmp_path / "out" / "bom.json"
    target.parent.mkdir()
    target.write_text("previous")
    os.chmod(target.parent, 0o500)
    try:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        code = main(["sbom", str(real("pydantic__pydantic")), "-o", str(target)])
    finally:
        os.chmod(target.parent, 0o700)
    assert code == 3
    assert target.read_text() == "previous"
    assert list(target.parent.iterdir()) == [target]


def test_invalid_document_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: None
) -> None:
    """If validation fails, the CLI exits 3 and the old file stays as it was."""
    target = tmp_path / "bom.json"
    target.write_text("previous")

    def refuse(text: str, fmt: cyclonedx.Format, spec: str) -> None:
        raise cyclonedx.ExportError("CycloneDX 1.6 output failed schema validation: test")

    monkeypatch.setattr(cyclonedx, "validate", refuse)
    assert main(["sbom", str(real("psf__requests")), "-o", str(target)]) == 3
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["bom.json"]


def test_spec_version_outside_the_choices_is_a_usage_error(tmp_path: Path) -> None:
    assert (
        main(
            [
                "sbom",
                str(real("psf__requests")),
                "--spec-version",
                "1.2",
                "-o",
                str(tmp_path / "x.json"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.json").exists()
