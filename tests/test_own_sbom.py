"""sboms/depchain.cdx.json is depchain's own SBOM, made by depchain from its own
pyproject.toml. This test fails when it is stale; the README says how to regenerate."""

from __future__ import annotations

import json

import pytest

import depchain
from depchain.export import cyclonedx
from tests.conftest import REPO

SBOM = REPO / "sboms" / "depchain.cdx.json"
REGENERATE = (
    "SOURCE_DATE_EPOCH=0 depchain sbom pyproject.toml --no-enrich -o sboms/depchain.cdx.json"
)


def test_own_sbom_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.chdir(REPO)
    fresh = cyclonedx.render(depchain.scan("pyproject.toml"))
    assert SBOM.exists(), f"missing; run: {REGENERATE}"
    assert SBOM.read_text() == fresh, f"sboms/depchain.cdx.json is stale; run: {REGENERATE}"


def test_own_sbom_names_every_declared_dependency() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from depchain.fileio import load_toml

    project = load_toml(REPO / "pyproject.toml", "pyproject.toml")
    declared = {
        canonicalize_name(Requirement(r).name)
        for r in project["project"]["dependencies"]
        + project["build-system"]["requires"]
        + project["project"]["optional-dependencies"]["test"]
    }
    doc = json.loads(SBOM.read_text())
    assert doc["metadata"]["component"]["name"] == "depchain"
    assert {canonicalize_name(c["name"]) for c in doc["components"]} == declared
