"""CycloneDX ``dependencies`` say exactly what the graph says: every edge of the graph
(component to component, component to service, service to service) is a ``dependsOn``
of its source, in JSON and in XML, and no ``dependsOn`` is anything but an edge.

Compared with the graph itself, over real trees, not with a golden file depchain wrote."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

import depchain
from depchain.export import cyclonedx
from depchain.graph import DependencyGraph
from depchain.model import Dependency, Service
from depchain.scanner import ScanResult
from tests.conftest import REPO, real

Edges = set[tuple[str, str]]

TREES = [
    "examples/webapp",  # components, compose-style services
    "pypi__warehouse",  # services that depend on services
    "pdm-project__pdm",
    "apache__airflow",
    "pydantic__pydantic",
]


@pytest.fixture(autouse=True)
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _tree(name: str) -> Path:
    return REPO / name if name.startswith("examples/") else real(name)


_scanned: dict[str, ScanResult] = {}


def _scan(name: str) -> ScanResult:
    if name not in _scanned:
        _scanned[name] = depchain.scan(_tree(name))
    return _scanned[name]


def graph_edges(graph: DependencyGraph) -> Edges:
    """Every (source, target) of the graph, whatever the kind or scope."""
    return {(d.source, d.target) for d in graph.dependencies()}


def json_edges(text: str) -> tuple[Edges, set[str]]:
    """The ``dependsOn`` pairs of a CycloneDX JSON document, and every ref it describes."""
    doc = json.loads(text)
    edges = {(d["ref"], t) for d in doc["dependencies"] for t in d.get("dependsOn", [])}
    refs = {c["bom-ref"] for c in doc.get("components", [])}
    refs |= {s["bom-ref"] for s in doc.get("services", [])}
    refs.add(doc["metadata"]["component"]["bom-ref"])
    return edges, refs


def xml_edges(text: str) -> tuple[Edges, set[str]]:
    """The same for CycloneDX XML: ``<dependency ref>`` holding ``<dependency ref>``."""
    root = ET.fromstring(text)
    ns = root.tag.partition("}")[0] + "}"
    [deps] = root.findall(f"{ns}dependencies")
    edges: Edges = set()
    for entry in deps.findall(f"{ns}dependency"):
        for target in entry.findall(f"{ns}dependency"):
            edges.add((entry.attrib["ref"], target.attrib["ref"]))
    described = (f"{ns}component", f"{ns}service")  # not evidence occurrences' refs
    # (metadata.tools.components describe the tool, with no bom-ref: not the graph's)
    refs = {
        e.attrib["bom-ref"] for e in root.iter() if e.tag in described and "bom-ref" in e.attrib
    }
    return edges, refs


def _exported(result: ScanResult, fmt: cyclonedx.Format) -> tuple[Edges, set[str]]:
    text = cyclonedx.render(result, fmt)  # schema-validated inside
    return json_edges(text) if fmt is cyclonedx.Format.JSON else xml_edges(text)


def _differences(result: ScanResult, fmt: cyclonedx.Format) -> tuple[Edges, Edges]:
    """(graph edges missing from the export, exported edges that are no graph edge)."""
    exported, _ = _exported(result, fmt)
    expected = graph_edges(result.graph)
    return expected - exported, exported - expected


@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
@pytest.mark.parametrize("tree", TREES)
def test_dependson_is_the_graph(tree: str, fmt: cyclonedx.Format) -> None:
    result = _scan(tree)
    expected = graph_edges(result.graph)
    assert expected, "a real tree has edges"
    exported, refs = _exported(result, fmt)
    missing, extra = expected - exported, exported - expected
    assert not missing, f"graph edges missing from {fmt.value}: {sorted(missing)[:10]}"
    assert not extra, f"{fmt.value} dependsOn that no graph edge gives: {sorted(extra)[:10]}"
    # every node is described once, and every edge joins two described nodes
    nodes = {c.id for c in result.graph.components()} | {s.id for s in result.graph.services()}
    assert refs == nodes
    assert all(a in refs and b in refs for a, b in exported)


def test_the_trees_cover_both_kinds_of_edge() -> None:
    """The comparison above means something for services: the corpus has edges from a
    component to a service and from a service to a service."""
    seen = set()
    for tree in TREES[:2]:
        graph = _scan(tree).graph
        for d in graph.dependencies():
            seen.add(
                (
                    type(graph.node(d.source)).__name__,
                    type(graph.node(d.target)).__name__,
                )
            )
    assert {("Component", "Component"), ("Component", "Service"), ("Service", "Service")} <= seen


def test_every_edge_of_the_subject_is_exported() -> None:
    result = _scan("examples/webapp")
    subject_edges = {(d.source, d.target) for d in result.graph.dependencies_of(result.subject)}
    assert len(subject_edges) > 1
    for fmt in cyclonedx.Format:
        exported, _ = _exported(result, fmt)
        assert subject_edges <= exported
        assert {e for e in exported if e[0] == result.subject} == subject_edges


@pytest.fixture
def without_first_subject_edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """The exporter made to drop the subject's first edge (the mutation this file
    exists to catch); the dropped edge."""
    result = _scan("examples/webapp")
    real_dependencies_of = DependencyGraph.dependencies_of
    first = sorted(result.graph.dependencies_of(result.subject), key=lambda d: d.target)[0]

    def dropping(self: DependencyGraph, node_id: str) -> list[Dependency]:
        deps = real_dependencies_of(self, node_id)
        if node_id != result.subject:
            return deps
        return [d for d in deps if d.target != first.target]  # every edge of that pair

    monkeypatch.setattr(DependencyGraph, "dependencies_of", dropping)
    yield first.source, first.target


@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_dropping_the_subjects_first_edge_is_caught(
    fmt: cyclonedx.Format, without_first_subject_edge: tuple[str, str]
) -> None:
    result = _scan("examples/webapp")
    # the graph's own edge list is untouched; the exporter's view of the subject is not
    assert without_first_subject_edge in graph_edges(result.graph)
    missing, extra = _differences(result, fmt)
    assert missing == {without_first_subject_edge}
    assert extra == set()


@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_an_edge_the_graph_does_not_have_is_caught(
    fmt: cyclonedx.Format, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _scan("examples/webapp")
    services = [s.id for s in result.graph.services()]
    assert services
    subject = result.subject
    reached = {t for s, t in graph_edges(result.graph) if s == subject}
    stranger = next(s for s in sorted(services) if s not in reached)
    real_dependencies_of = DependencyGraph.dependencies_of

    def adding(self: DependencyGraph, node_id: str) -> list[Dependency]:
        deps = list(real_dependencies_of(self, node_id))
        if node_id == subject and deps:
            deps.append(Dependency(subject, stranger, deps[0].kind, deps[0].scope, "invented", ()))
        return deps

    monkeypatch.setattr(DependencyGraph, "dependencies_of", adding)
    missing, extra = _differences(result, fmt)
    assert missing == set() and extra == {(subject, stranger)}
    assert isinstance(result.graph.node(stranger), Service)
