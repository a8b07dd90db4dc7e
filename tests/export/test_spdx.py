"""SPDX 2.3 JSON export: valid by spdx-tools (read back with its own parser and checked
with its own full validator), every edge a relationship of the type and direction the
SPDX 2.3 specification gives its kind (clause 11.1, table 68) and every relationship an
edge, the same packages and root as the CycloneDX export, the NTIA minimum elements as
far as the model knows them (checked with the SPDX project's ntia-conformance-checker),
the same bytes for the same scan, and never a credential."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("spdx_tools", reason="the spdx extra (spdx-tools) is not installed")

import depchain
from depchain.cli import main
from depchain.export import cyclonedx, spdx
from depchain.graph import DependencyGraph
from depchain.ids import pypi_component
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Hash,
    License,
    Role,
    Scope,
    Service,
    Source,
    SourceKind,
)
from depchain.scanner import ScanResult
from tests.conftest import real

TOKEN = "ghp_s3cr3tT0k3nSPDX"
PASSWORD = "hunter2-spdx-secret"
SPDXID = re.compile(r"^SPDXRef-[A-Za-z0-9.-]+$")

# SPDX 2.3, clause 11.1, table 68: "A DEPENDS_ON B: A depends on B"; "A STATIC_LINK B:
# A statically links to B"; "A DYNAMIC_LINK B: A dynamically links to B"; "A
# BUILD_DEPENDENCY_OF B: A is a build dependency of B" (and DEV_, TEST_, OPTIONAL_,
# RUNTIME_DEPENDENCY_OF likewise). True: the relationship reads from the dependent.
FROM_THE_DEPENDENT = {
    "DEPENDS_ON": True,
    "STATIC_LINK": True,
    "DYNAMIC_LINK": True,
    "BUILD_DEPENDENCY_OF": False,
    "DEV_DEPENDENCY_OF": False,
    "TEST_DEPENDENCY_OF": False,
    "OPTIONAL_DEPENDENCY_OF": False,
    "RUNTIME_DEPENDENCY_OF": False,
}
BUILD_TYPES = {"BUILD_DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "TEST_DEPENDENCY_OF"}


def allowed_types(dep: Dependency) -> set[str]:
    """What the issue asks each edge to become, written out independently of the code."""
    if dep.kind is DependencyKind.SERVICE:
        return {"DEPENDS_ON"}
    if dep.kind is DependencyKind.STATIC:
        return {"STATIC_LINK"}
    if dep.kind is DependencyKind.DYNAMIC and dep.mechanism == "elf":
        return {"DYNAMIC_LINK"}
    if dep.kind is DependencyKind.BUILD or dep.scope is Scope.DEV:
        return BUILD_TYPES
    if dep.scope is Scope.OPTIONAL:
        return {"OPTIONAL_DEPENDENCY_OF"}
    return {"RUNTIME_DEPENDENCY_OF"}


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture(scope="module")
def pydantic() -> ScanResult:
    return depchain.scan(real("pydantic__pydantic"))


@pytest.fixture(scope="module")
def environment() -> ScanResult:
    """This test environment: real native wheels, ELF libraries owned by OS packages,
    Rust crates inside binaries (the native tests' subject)."""
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests are not running in a virtual environment")
    result = depchain.scan(Path(sys.prefix))
    if not any(d.mechanism == "elf" for d in result.graph.dependencies(DependencyKind.DYNAMIC)):
        pytest.skip("no extension module of this environment links an OS library")
    return result


def render(result: ScanResult, **kwargs: Any) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        return spdx.render(result, **kwargs)


def depchain_ids(doc: dict[str, Any]) -> dict[str, str]:
    """SPDXID -> the depchain id each package's comment names."""
    out = {}
    for package in doc["packages"]:
        (line,) = [x for x in package["comment"].splitlines() if x.startswith("depchain:id=")]
        out[package["SPDXID"]] = line.removeprefix("depchain:id=")
    return out


def read_back(text: str, tmp_path: Path) -> Any:
    """The document as spdx-tools' own JSON parser reads it."""
    from spdx_tools.spdx.parser.json.json_parser import parse_from_file

    path = tmp_path / "doc.spdx.json"
    path.write_text(text)
    return parse_from_file(str(path))


# -- validity -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["pydantic", "environment"])
def test_valid_spdx_23_as_spdx_tools_reads_it(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    result: ScanResult = request.getfixturevalue(which)
    text = render(result)
    parsed = read_back(text, tmp_path)
    assert validate_full_spdx_document(parsed, "SPDX-2.3") == []  # the stock, full validator
    doc = json.loads(text)
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["dataLicense"] == "CC0-1.0"
    assert doc["SPDXID"] == "SPDXRef-DOCUMENT"
    assert doc["creationInfo"] == {
        "created": "2023-11-14T22:13:20Z",
        "creators": [f"Tool: depchain-{depchain.__version__}"],
    }
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids)) and all(SPDXID.match(i) for i in ids)
    assert all(p["filesAnalyzed"] is False for p in doc["packages"])


def test_the_fast_validation_agrees_with_spdx_tools(pydantic: ScanResult) -> None:
    """spdx.validate runs spdx-tools' validators on documents shaped for them (the stock
    entry point is quadratic); on a valid document and on broken ones it says what
    validate_full_spdx_document says."""
    from spdx_tools.spdx.model import (
        Checksum,
        ChecksumAlgorithm,
        Relationship,
        RelationshipType,
    )
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    def agree(document: Any) -> bool:
        stock = validate_full_spdx_document(document, "SPDX-2.3")
        try:
            spdx.validate(document)
        except spdx.SpdxExportError:
            return bool(stock)
        return not stock

    def fresh() -> Any:
        return spdx.build_document(pydantic)

    document = fresh()
    assert agree(document) and not validate_full_spdx_document(document, "SPDX-2.3")

    dangling = fresh()
    first = dangling.packages[0].spdx_id
    dangling.relationships.append(
        Relationship(first, RelationshipType.DEPENDS_ON, "SPDXRef-Package-not-in-the-document")
    )
    assert agree(dangling)

    dangling_left = fresh()
    dangling_left.relationships.append(
        Relationship("SPDXRef-nowhere", RelationshipType.STATIC_LINK, first)
    )
    assert agree(dangling_left)

    bad_checksum = fresh()
    bad_checksum.packages[3].checksums = [Checksum(ChecksumAlgorithm.SHA256, "abc")]
    assert agree(bad_checksum)

    bad_id = fresh()
    bad_id.packages[5].spdx_id = "SPDXRef-has space"
    assert agree(bad_id)

    undescribed = fresh()
    undescribed.relationships = undescribed.relationships[1:]
    assert agree(undescribed)

    twice = fresh()
    twice.packages.append(twice.packages[0])
    with pytest.raises(spdx.SpdxExportError, match="twice"):  # spdx-tools does not look
        spdx.validate(twice)


# -- relationships --------------------------------------------------------------------


def exported_edges(doc: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(dependent, dependency, type, edge line) for each edge each relationship names."""
    by_spdx_id = depchain_ids(doc)
    for r in doc["relationships"]:
        if r["relationshipType"] == "DESCRIBES":
            continue
        a, b = by_spdx_id[r["spdxElementId"]], by_spdx_id[r["relatedSpdxElement"]]
        kind = r["relationshipType"]
        dependent, dependency = (a, b) if FROM_THE_DEPENDENT[kind] else (b, a)
        lines = r["comment"].splitlines()
        assert lines, r
        for line in lines:
            yield dependent, dependency, kind, line


def edge_key(dep: Dependency) -> tuple[str, str, str, str, str]:
    return (dep.source, dep.target, dep.kind.value, dep.scope.value, dep.mechanism)


def line_key(dependent: str, dependency: str, line: str) -> tuple[str, str, str, str, str]:
    fields = dict(part.split("=", 1) for part in line.split("; "))
    return (dependent, dependency, fields["kind"], fields["scope"], fields["mechanism"])


@pytest.mark.parametrize("which", ["pydantic", "environment"])
def test_every_edge_is_a_relationship_and_every_relationship_an_edge(
    which: str, request: pytest.FixtureRequest
) -> None:
    result: ScanResult = request.getfixturevalue(which)
    doc = json.loads(render(result))
    graph_edges = {edge_key(d): d for d in result.graph.dependencies()}
    exported: dict[tuple[str, str, str, str, str], str] = {}
    for dependent, dependency, kind, line in exported_edges(doc):
        key = line_key(dependent, dependency, line)
        assert key not in exported, f"{key} exported twice"
        exported[key] = kind
    # both ways: an edge dropped, or a relationship the graph does not hold, fails here
    assert set(exported) == set(graph_edges)
    for key, kind in exported.items():
        assert kind in allowed_types(graph_edges[key]), (key, kind)
    kinds = Counter(d.kind for d in result.graph.dependencies())
    types = Counter(exported.values())
    assert types["STATIC_LINK"] == kinds[DependencyKind.STATIC]
    assert types["DEPENDS_ON"] == kinds[DependencyKind.SERVICE]
    assert types["DYNAMIC_LINK"] == sum(
        1 for d in result.graph.dependencies(DependencyKind.DYNAMIC) if d.mechanism == "elf"
    )
    built = types["BUILD_DEPENDENCY_OF"] + types["DEV_DEPENDENCY_OF"] + types["TEST_DEPENDENCY_OF"]
    assert built == sum(1 for d in result.graph.dependencies() if allowed_types(d) == BUILD_TYPES)
    if which == "pydantic":  # hatchling, Cargo build crates, CI actions; pydantic-core's crates
        assert types["BUILD_DEPENDENCY_OF"] and types["STATIC_LINK"]
        assert types["TEST_DEPENDENCY_OF"] and types["DEV_DEPENDENCY_OF"]
        assert types["RUNTIME_DEPENDENCY_OF"] and types["OPTIONAL_DEPENDENCY_OF"]
    else:  # extension modules linking OS libraries; crates inside binaries
        assert types["DYNAMIC_LINK"] and types["STATIC_LINK"]
    (describes,) = [r for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
    assert describes["spdxElementId"] == "SPDXRef-DOCUMENT"
    assert depchain_ids(doc)[describes["relatedSpdxElement"]] == result.subject


def test_direction_and_type_of_each_kind(tmp_path: Path, epoch: None) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["hatchling==1.27.0"]\n'
        'build-backend = "hatchling.build"\n'
        "[project]\n"
        'name = "app"\n'
        'version = "1.0"\n'
        'dependencies = ["requests==2.32.3"]\n'
        "[project.optional-dependencies]\n"
        'socks = ["pysocks==1.7.1"]\n'
        "[dependency-groups]\n"
        'test = ["pytest==8.3.3"]\n'
        'lint = ["ruff==0.6.9"]\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "requirements.txt").write_text("hypothesis==6.112.0\n")
    result = depchain.scan(tmp_path)
    doc = json.loads(spdx.render(result))
    by_spdx_id = depchain_ids(doc)
    said = {
        (by_spdx_id[r["spdxElementId"]], r["relationshipType"], by_spdx_id[r["relatedSpdxElement"]])
        for r in doc["relationships"]
        if r["relationshipType"] != "DESCRIBES"
    }
    app = result.subject
    assert app == "pkg:pypi/app@1.0"
    assert ("pkg:pypi/hatchling@1.27.0", "BUILD_DEPENDENCY_OF", app) in said
    assert ("pkg:pypi/requests@2.32.3", "RUNTIME_DEPENDENCY_OF", app) in said
    assert ("pkg:pypi/pysocks@1.7.1", "OPTIONAL_DEPENDENCY_OF", app) in said
    assert ("pkg:pypi/pytest@8.3.3", "TEST_DEPENDENCY_OF", app) in said
    assert ("pkg:pypi/ruff@0.6.9", "DEV_DEPENDENCY_OF", app) in said
    hypothesis = {(a, t) for a, t, _ in said if a == "pkg:pypi/hypothesis@6.112.0"}
    assert hypothesis == {("pkg:pypi/hypothesis@6.112.0", "TEST_DEPENDENCY_OF")}


def _dep(
    kind: DependencyKind,
    scope: Scope = Scope.REQUIRED,
    mechanism: str = "requirement",
    groups: tuple[str, ...] = (),
    role: Role = Role.RUNTIME,
) -> Dependency:
    ev = (Evidence("x", 1, "r", role),)
    return Dependency("a", "b", kind, scope, mechanism, ev, groups=groups)


@pytest.mark.parametrize(
    ("dep", "expected"),
    [
        (_dep(DependencyKind.BUILD, mechanism="build-system"), ("BUILD_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.BUILD, mechanism="github-action"), ("BUILD_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.BUILD, mechanism="cargo-lock"), ("BUILD_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.BUILD, Scope.DEV, "pre-commit"), ("DEV_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.BUILD, Scope.DEV, "lock"), ("DEV_DEPENDENCY_OF", False)),
        (
            _dep(DependencyKind.BUILD, Scope.DEV, "dependency-group", ("all", "testing")),
            ("TEST_DEPENDENCY_OF", False),
        ),
        (
            _dep(DependencyKind.BUILD, Scope.DEV, "dependency-group", ("tests",)),
            ("TEST_DEPENDENCY_OF", False),
        ),
        (
            _dep(DependencyKind.BUILD, Scope.DEV, "dependency-group", ("testing", "linting")),
            ("DEV_DEPENDENCY_OF", False),
        ),
        (
            _dep(DependencyKind.BUILD, Scope.DEV, "dependency-group", ("all", "docs")),
            ("DEV_DEPENDENCY_OF", False),
        ),
        (
            _dep(DependencyKind.BUILD, Scope.DEV, "dependency-group", ("contest",)),
            ("DEV_DEPENDENCY_OF", False),
        ),
        (_dep(DependencyKind.BUILD, role=Role.TEST), ("TEST_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.DYNAMIC, Scope.DEV, "requirement"), ("DEV_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.DYNAMIC), ("RUNTIME_DEPENDENCY_OF", False)),
        (_dep(DependencyKind.DYNAMIC, mechanism="import"), ("RUNTIME_DEPENDENCY_OF", False)),
        (
            _dep(DependencyKind.DYNAMIC, Scope.OPTIONAL, "extra"),
            ("OPTIONAL_DEPENDENCY_OF", False),
        ),
        (_dep(DependencyKind.DYNAMIC, mechanism="elf"), ("DYNAMIC_LINK", True)),
        (_dep(DependencyKind.STATIC, mechanism="vendored"), ("STATIC_LINK", True)),
        (_dep(DependencyKind.STATIC, Scope.OPTIONAL, "cargo-lock"), ("STATIC_LINK", True)),
        (_dep(DependencyKind.SERVICE, mechanism="config-url"), ("DEPENDS_ON", True)),
    ],
)
def test_relationship_type(dep: Dependency, expected: tuple[str, bool]) -> None:
    assert spdx.relationship_type(dep) == expected
    assert expected[0] in allowed_types(dep)
    assert FROM_THE_DEPENDENT[expected[0]] is expected[1]


# -- the same document as the CycloneDX export ----------------------------------------


def test_same_root_and_components_as_cyclonedx(pydantic: ScanResult) -> None:
    cdx = json.loads(cyclonedx.render(pydantic))
    doc = json.loads(render(pydantic))
    ids = depchain_ids(doc)
    cdx_refs = {c["bom-ref"] for c in cdx["components"]} | {cdx["metadata"]["component"]["bom-ref"]}
    cdx_refs |= {s["bom-ref"] for s in cdx.get("services", [])}
    assert set(ids.values()) == cdx_refs
    (describes,) = [r for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
    assert ids[describes["relatedSpdxElement"]] == cdx["metadata"]["component"]["bom-ref"]
    # the same kinds reach each component
    by_ref = {c["bom-ref"]: c for c in cdx["components"]}
    for package in doc["packages"]:
        ref = ids[package["SPDXID"]]
        if ref not in by_ref:
            continue
        cdx_kinds = {
            p["value"] for p in by_ref[ref].get("properties", []) if p["name"] == "depchain:kinds"
        }
        spdx_kinds = {
            line.removeprefix("depchain:kinds=")
            for line in package["comment"].splitlines()
            if line.startswith("depchain:kinds=")
        }
        assert cdx_kinds == spdx_kinds, ref


# -- package fields -------------------------------------------------------------------


def _fields_result() -> ScanResult:
    ev = Evidence("requirements.txt", 1, "requirements")
    g = DependencyGraph()
    root = pypi_component("app", "1.0", ev)
    org = pypi_component("sampleproject", "4.0.0", ev)
    org = Component(
        org.id,
        org.name,
        "pypi",
        org.version,
        purl=org.purl,
        evidence=(ev,),
        hashes=(
            Hash("sha256", "A" * 64),
            Hash("sha256", "a" * 64),  # the same, in lower case: once
            Hash("md5", "b" * 32),
            Hash("sha1", "c" * 40),
            Hash("sha512", "d" * 128),
            Hash("blake2b_256", "e" * 64),
            Hash("whirlpool", "f" * 128),  # SPDX has no such algorithm: not carried
            Hash("sha256", "not hex at all"),  # not carried either
        ),
        properties=(("depchain:owner-organization", "pypa"),),
        license=License(expression="MIT OR Apache-2.0", source="License-Expression"),
    )
    users = Component(
        "pkg:pypi/six@1.16.0",
        "six",
        "pypi",
        "1.16.0",
        purl="pkg:pypi/six@1.16.0",
        evidence=(ev,),
        properties=(("depchain:owner-roles", "gutworth:Owner"),),
        license=License(names=("a licence of our own",), source="License"),
    )
    vcs = Component(
        "pkg:pypi/tool?vcs_url=git%2Bhttps://github.com/org/tool",
        "tool",
        "pypi",
        None,
        purl="pkg:pypi/tool?vcs_url=git%2Bhttps://github.com/org/tool",
        sources=(Source(SourceKind.VCS, "https://github.com/org/tool", "main", "a" * 40),),
        evidence=(ev,),
    )
    archive = Component(
        "pkg:pypi/arch@2.0",
        "arch",
        "pypi",
        "2.0",
        purl="pkg:pypi/arch@2.0",
        sources=(Source(SourceKind.URL, f"https://deploy:{TOKEN}@files.example.com/arch-2.0.tgz"),),
        evidence=(ev,),
        license=License(expression="BSD-3-Clause", source="License-Expression"),
    )
    deb = Component(
        "pkg:deb/debian/libssl3@3.0.15-1",
        "libssl3",
        "deb",
        "3.0.15-1",
        purl="pkg:deb/debian/libssl3@3.0.15-1",
        evidence=(ev,),
        properties=(
            (
                "depchain:maintainer",
                "Debian OpenSSL Team <pkg-openssl-devel@lists.alioth.debian.org>",
            ),
        ),
    )
    action = Component(
        "pkg:githubactions/actions/checkout@v4",
        "actions/checkout",
        "githubactions",
        "v4",
        purl="pkg:githubactions/actions/checkout@v4",
        evidence=(ev,),
    )
    for c in (root, org, users, vcs, archive, deb, action):
        g.add_node(c)
    for c in (org, users, vcs, archive):
        g.add_dependency(
            Dependency(root.id, c.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "requirement", (ev,))
        )
    g.add_dependency(
        Dependency(org.id, deb.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "elf", (ev,))
    )
    g.add_dependency(
        Dependency(root.id, action.id, DependencyKind.BUILD, Scope.REQUIRED, "github-action", (ev,))
    )
    return ScanResult(root=Path("."), target=Path("."), graph=g, subject=root.id)


def test_package_fields(epoch: None) -> None:
    doc = json.loads(spdx.render(_fields_result()))
    by_id = {depchain_ids(doc)[p["SPDXID"]]: p for p in doc["packages"]}

    sample = by_id["pkg:pypi/sampleproject@4.0.0"]
    assert (sample["name"], sample["versionInfo"]) == ("sampleproject", "4.0.0")
    assert sample["supplier"] == "Organization: pypa"
    assert sample["licenseDeclared"] == "MIT OR Apache-2.0"
    assert sample["licenseConcluded"] == "NOASSERTION"  # depchain reads no files
    assert sorted((c["algorithm"], c["checksumValue"]) for c in sample["checksums"]) == [
        ("BLAKE2b-256", "e" * 64),
        ("MD5", "b" * 32),
        ("SHA1", "c" * 40),
        ("SHA256", "a" * 64),
        ("SHA512", "d" * 128),
    ]
    assert sample["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE_MANAGER",  # the JSON schema's spelling
            "referenceLocator": "pkg:pypi/sampleproject@4.0.0",
            "referenceType": "purl",
        }
    ]
    assert sample["downloadLocation"] == "NOASSERTION"  # from the index: no URL known
    assert sample["filesAnalyzed"] is False and sample["primaryPackagePurpose"] == "LIBRARY"

    six = by_id["pkg:pypi/six@1.16.0"]
    assert six["supplier"] == "Person: gutworth"  # index users, no organization
    assert six["licenseDeclared"] == "NOASSERTION"  # not an SPDX expression: said, not lost
    assert "a licence of our own" in six["licenseComments"]

    tool = by_id["pkg:pypi/tool?vcs_url=git%2Bhttps://github.com/org/tool"]
    assert tool["downloadLocation"] == f"git+https://github.com/org/tool@{'a' * 40}"
    assert "versionInfo" not in tool and tool["supplier"] == "NOASSERTION"

    arch = by_id["pkg:pypi/arch@2.0"]
    assert arch["downloadLocation"] == "https://***@files.example.com/arch-2.0.tgz"
    assert arch["licenseDeclared"] == "BSD-3-Clause"  # PEP 639 metadata

    ssl = by_id["pkg:deb/debian/libssl3@3.0.15-1"]
    assert ssl["supplier"] == (
        "Organization: Debian OpenSSL Team (pkg-openssl-devel@lists.alioth.debian.org)"
    )
    assert by_id["pkg:githubactions/actions/checkout@v4"]["supplier"] == "Organization: actions"
    assert doc["name"] == "app-1.0"


def test_spdx_ids_are_valid_unique_and_stable() -> None:
    ev = Evidence("x", 1, "r")
    g = DependencyGraph()
    nodes = [
        Component("pkg:generic/a_b@1", "a_b", "generic", "1", evidence=(ev,)),
        Component("pkg:generic/a-b@1", "a-b", "generic", "1", evidence=(ev,)),
        Component("pkg:generic/" + "x" * 400, "x", "generic", None, evidence=(ev,)),
        Component("pkg:generic/ünïcode@1", "u", "generic", "1", evidence=(ev,)),
        Component("pkg:generic/@@@", "at", "generic", None, evidence=(ev,)),
    ]
    for c in nodes:
        g.add_node(c)
    g.add_node(Service("service:redis:cache:6379", "Redis", evidence=(ev,)))
    result = ScanResult(root=Path("."), target=Path("."), graph=g, subject=nodes[0].id)
    ids = spdx.spdx_ids(result)
    assert len(set(ids.values())) == len(ids) == 6
    assert all(SPDXID.match(i) and len(i) < 160 for i in ids.values())
    assert ids["service:redis:cache:6379"] == "SPDXRef-Service-service-redis-cache-6379"
    assert ids["pkg:generic/a_b@1"] != ids["pkg:generic/a-b@1"]  # both carry a digest
    assert ids == spdx.spdx_ids(result)
    spdx.validate(spdx.build_document(result))


# -- NTIA minimum elements ------------------------------------------------------------


def ntia(text: str, tmp_path: Path) -> Any:
    from ntia_conformance_checker.ntia_checker import NTIAChecker

    path = tmp_path / "doc.spdx.json"
    path.write_text(text)
    return NTIAChecker(str(path))


@pytest.mark.parametrize("which", ["pydantic", "environment"])
def test_ntia_minimum_elements_as_far_as_the_model_knows_them(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The SPDX project's checker finds the document valid, with its author, timestamp,
    dependency relationships, and every package's name and identifier. It evaluates only
    packages it reaches from the root through DEPENDS_ON/CONTAINS/*_LINK (a
    *_DEPENDENCY_OF reads the other way and it leaves those packages out), so versions
    and suppliers are checked here over every package: missing exactly where the model
    does not know them (an unpinned requirement; an owner nobody told it), never
    invented, never lost."""
    from depchain.trust.surface import owner_of

    result: ScanResult = request.getfixturevalue(which)
    checker = ntia(render(result), tmp_path)
    assert checker.parsing_errors == [] and checker.validation_messages == []
    assert checker.doc_author and checker.doc_timestamp and checker.dependency_relationships
    assert not checker.has_unknown_pointers
    every = {p.spdx_id for p in checker.doc.packages}
    assert checker.adapter.get_components_without_names(every) == []
    assert checker.adapter.get_components_without_identifiers(every) == []
    ids = depchain_ids(json.loads(render(result)))
    no_version = {ids[i] for _, i in checker.adapter.get_components_without_versions(every)}
    no_supplier = {ids[i] for _, i in checker.adapter.get_components_without_suppliers(every)}
    graph = result.graph
    assert no_version == {c.id for c in graph.components() if not c.version} | {
        s.id for s in graph.services()
    }
    assert no_supplier == {c.id for c in graph.components() if owner_of(c) is None} | {
        s.id for s in graph.services()
    }


def test_ntia_passes_when_the_model_knows_every_element(tmp_path: Path) -> None:
    from depchain.trust.surface import owner_of

    result = _fields_result()
    graph = result.graph
    # what the model lacks in this little scan is given to it: an owner for the root,
    # the archive and the VCS requirement, a version for the latter
    for c in graph.components():
        extra = (("depchain:owner-organization", "acme"),)
        if owner_of(c) is None or c.version is None:
            graph.replace_node(
                Component(
                    c.id,
                    c.name,
                    c.ecosystem,
                    c.version or "0.1",
                    purl=c.purl,
                    sources=c.sources,
                    evidence=c.evidence,
                    properties=c.properties + extra,
                )
            )
    checker = ntia(render(result, organization="Acme Inc."), tmp_path)
    assert checker.check_compliance(), checker.output_json()
    every = {p.spdx_id for p in checker.doc.packages}
    assert checker.adapter.get_components_without_versions(every) == []
    assert checker.adapter.get_components_without_suppliers(every) == []
    doc = json.loads(render(result, organization="Acme Inc."))
    assert doc["creationInfo"]["creators"] == [
        f"Tool: depchain-{depchain.__version__}",
        "Organization: Acme Inc.",
    ]


# -- determinism ----------------------------------------------------------------------


def test_same_scan_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = real("pydantic__pydantic")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["sbom", str(target), "--format", "spdx-json", "-o", str(a)]) == 0
    assert main(["sbom", str(target), "--format", "spdx-json", "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    first = json.loads(a.read_text())
    assert first["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
    # another time: only the creation time changes
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    later = json.loads(spdx.render(depchain.scan(target)))
    assert later["creationInfo"]["created"] == "1970-01-01T00:00:00Z"
    later["creationInfo"]["created"] = first["creationInfo"]["created"]
    assert later == first


def test_namespace_follows_the_content(tmp_path: Path, epoch: None) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\n")
    one = json.loads(spdx.render(depchain.scan(tmp_path)))["documentNamespace"]
    assert one == json.loads(spdx.render(depchain.scan(tmp_path)))["documentNamespace"]
    assert one.startswith(spdx.NAMESPACE_BASE + "/") and "#" not in one
    (tmp_path / "requirements.txt").write_text("requests==2.32.4\n")
    two = json.loads(spdx.render(depchain.scan(tmp_path)))["documentNamespace"]
    assert two != one
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\n")
    with_org = json.loads(spdx.render(depchain.scan(tmp_path), organization="Acme"))
    assert with_org["documentNamespace"] not in (one, two)


# -- secrets and services -------------------------------------------------------------


def test_no_secret_and_a_service_is_a_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], epoch: None
) -> None:
    (tmp_path / "requirements.txt").write_text(
        f"--extra-index-url https://deploy:{TOKEN}@pkgs.example.com/simple\n"
        f"bar @ git+https://x-access-token:{TOKEN}@github.com/org/bar.git@v1\n"
        f"https://user:{TOKEN}@files.example.com/qux-1.0.tar.gz?sig={TOKEN}\n"
        "psycopg2-binary==2.9.9\n"
    )
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=postgresql://app:{PASSWORD}@db.example.com:5432/app\nAPI_TOKEN={TOKEN}\n"
    )
    result = depchain.scan(tmp_path)
    text = spdx.render(result)
    assert TOKEN not in text and PASSWORD not in text
    assert main(["sbom", str(tmp_path), "--format", "spdx-json"]) == 0
    out = capsys.readouterr().out
    assert TOKEN not in out and PASSWORD not in out and "***@" in out

    doc = json.loads(text)
    services = [p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Service-")]
    assert services and len(services) == len(result.graph.services())
    (db,) = [p for p in services if "db.example.com" in p["comment"]]
    assert db["primaryPackagePurpose"] == "OTHER"
    assert "depchain:endpoint=postgresql://***@db.example.com:5432/app" in db["comment"]
    assert "depchain:trust-boundary=true" in db["comment"]
    depends = [
        r
        for r in doc["relationships"]
        if r["relationshipType"] == "DEPENDS_ON" and r["relatedSpdxElement"] == db["SPDXID"]
    ]
    assert depends and all("kind=service" in r["comment"] for r in depends)


# -- the command line and its failures ------------------------------------------------


def test_without_the_extra_one_line_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    for name in [m for m in sys.modules if m == "spdx_tools" or m.startswith("spdx_tools.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "spdx_tools", None)  # import spdx_tools: ImportError
    out = tmp_path / "sbom.spdx.json"
    assert main(["sbom", str(tmp_path), "--format", "spdx-json", "-o", str(out)]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'depchain[spdx]'" in err
    assert not out.exists()
    with pytest.raises(spdx.SpdxUnavailable):
        spdx.render(depchain.scan(tmp_path))


def test_an_invalid_document_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from spdx_tools.spdx.model import Relationship, RelationshipType

    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    build = spdx.build_document

    def broken(result: ScanResult, organization: str | None = None) -> Any:
        document = build(result, organization)
        document.relationships.append(
            Relationship(
                document.packages[0].spdx_id,
                RelationshipType.DEPENDS_ON,
                "SPDXRef-Package-missing",
            )
        )
        return document

    monkeypatch.setattr(spdx, "build_document", broken)
    out = tmp_path / "sbom.spdx.json"
    out.write_text("the previous SBOM\n")
    code = main(["sbom", str(tmp_path), "--format", "spdx-json", "-o", str(out)])
    assert code in (3, 4)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "failed validation" in err
    assert out.read_text() == "the previous SBOM\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_manufacturer_supplies_the_subject_and_creates_the_document(epoch: None) -> None:
    from depchain.export import cyclonedx

    result = cyclonedx.with_options(_fields_result(), manufacturer="Acme Corp")
    doc = json.loads(spdx.render(result))
    by_id = {depchain_ids(doc)[p["SPDXID"]]: p for p in doc["packages"]}
    assert by_id[result.subject]["supplier"] == "Organization: Acme Corp"
    assert "Organization: Acme Corp" in doc["creationInfo"]["creators"]
    # the others keep their own
    assert by_id["pkg:pypi/sampleproject@4.0.0"]["supplier"] == "Organization: pypa"


@pytest.mark.parametrize("which", ["pydantic", "environment"])
def test_ntia_conformant_once_the_product_is_named(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """What procurement is given: the maker and the release named (``--manufacturer``,
    ``--component-name``/``--component-version``: pydantic's version is dynamic, an
    environment has none of its own), the document passes the SPDX project's checker
    as a whole. It evaluates the described package and what it reaches through
    DEPENDS_ON, CONTAINS and the link types; the packages reached by *_DEPENDENCY_OF
    are checked element by element in the test above."""
    from depchain.export import cyclonedx

    result: ScanResult = request.getfixturevalue(which)
    named = cyclonedx.with_options(
        result, manufacturer="Acme Corp", component_name="product", component_version="1.0"
    )
    checker = ntia(render(named), tmp_path)
    assert checker.compliant


def test_an_os_package_maintained_by_a_person_is_supplied_by_a_person() -> None:
    """Debian's Maintainer is a team (a list address, a team's name) or a person; every
    one was an organization. Real Maintainer fields of Debian 12's packages."""
    from depchain.supplier import maintainer_kind

    teams = [
        ("Debian X Strike Force", "debian-x@lists.debian.org"),
        ("Debian Python Team", "team+python@tracker.debian.org"),
        ("GNU Libc Maintainers", "debian-glibc@lists.debian.org"),
        ("util-linux packagers", "util-linux@packages.debian.org"),
        ("Debian Accessibility Team", "pkg-a11y-devel@alioth-lists.debian.net"),
        ("Debian OpenSSL Team", "pkg-openssl-devel@lists.alioth.debian.org"),
        ("Google Cloud CLI Authors <https://code.google.com/p/google-cloud-sdk/>", None),
    ]
    people = [
        ("Matthias Klose", "doko@debian.org"),
        ("Mark Brown", "broonie@debian.org"),
        ("Laszlo Boszormenyi (GCS)", "gcs@debian.org"),
    ]
    assert {maintainer_kind(n, e) for n, e in teams} == {"organization"}
    assert {maintainer_kind(n, e) for n, e in people} == {"person"}
    zlib = Component(
        id="pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1",
        name="zlib1g",
        ecosystem="deb",
        version="1:1.2.13.dfsg-1",
        purl="pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1",
        properties=(("depchain:maintainer", "Mark Brown <broonie@debian.org>"),),
    )
    graph = DependencyGraph()
    graph.add_node(zlib)
    result = ScanResult(root=Path("."), target=Path("."), graph=graph, subject=zlib.id)
    doc = json.loads(spdx.render(result))
    (package,) = [p for p in doc["packages"] if p["name"] == "zlib1g"]
    assert package["supplier"] == "Person: Mark Brown (broonie@debian.org)"
