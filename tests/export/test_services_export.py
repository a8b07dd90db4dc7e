"""Services reach the JSON report and CycloneDX with endpoints, image and trust
boundary, and never a credential."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from depchain.export import cyclonedx, json_report
from depchain.graph import DependencyGraph
from depchain.ids import pypi_component
from depchain.model import Dependency, DependencyKind, Evidence, Scope, Service
from depchain.scanner import ScanResult
from tests.export.test_json_report import schema


def _result(tmp_path: Path) -> ScanResult:
    ev = Evidence("docker-compose.yml", 3, "compose")
    g = DependencyGraph()
    app = pypi_component("app", "1.0", ev)
    client = pypi_component("psycopg2-binary", "2.9.9", ev)
    db = Service(
        "service:postgresql:db.example.com:5432",
        "PostgreSQL at db.example.com:5432",
        endpoints=("postgresql://alice:hunter2@db.example.com:5432/app",),
        evidence=(ev,),
        trust_boundary=True,
        properties=(
            ("depchain:credentials", "present"),
            ("depchain:tls", "false"),
            ("depchain:authentication", "password"),
        ),
    )
    cache = Service(
        "service:compose:redis",
        "redis",
        endpoints=("tcp://redis:6379",),
        image="redis:7.2-bookworm",
        trust_boundary=False,
        evidence=(ev,),
    )
    for node in (app, client, db, cache):
        g.add_node(node)
    g.add_dependency(
        Dependency(app.id, client.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "requirement", (ev,))
    )
    g.add_dependency(
        Dependency(
            client.id, db.id, DependencyKind.SERVICE, Scope.REQUIRED, "client-library", (ev,)
        )
    )
    g.add_dependency(
        Dependency(app.id, cache.id, DependencyKind.SERVICE, Scope.REQUIRED, "compose", (ev,))
    )
    return ScanResult(root=tmp_path, target=tmp_path, graph=g, subject=app.id)


def test_json_report_services(tmp_path: Path) -> None:
    report = json_report.build(_result(tmp_path))
    jsonschema.Draft202012Validator(schema()).validate(report)
    by_id = {s["id"]: s for s in report["services"]}
    db = by_id["service:postgresql:db.example.com:5432"]
    assert db["endpoints"] == ["postgresql://***@db.example.com:5432/app"]
    assert db["x_trust_boundary"] is True and db["properties"]["depchain:credentials"] == "present"
    assert by_id["service:compose:redis"]["image"] == "redis:7.2-bookworm"
    assert "hunter2" not in json.dumps(report)


@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_cyclonedx_services(
    tmp_path: Path, fmt: cyclonedx.Format, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    text = cyclonedx.render(_result(tmp_path), fmt)  # validated against the schema inside
    assert "hunter2" not in text
    if fmt is cyclonedx.Format.JSON:
        doc = json.loads(text)
        services = {s["bom-ref"]: s for s in doc["services"]}
        db = services["service:postgresql:db.example.com:5432"]
        assert db["x-trust-boundary"] is True and db["authenticated"] is True
        assert db["endpoints"] == ["postgresql://***@db.example.com:5432/app"]
        deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
        assert deps["pkg:pypi/psycopg2-binary@2.9.9"] == ["service:postgresql:db.example.com:5432"]
        assert "service:compose:redis" in deps["pkg:pypi/app@1.0"]
