"""``depchain sbom check``: the NTIA minimum elements (and CISA 2025's additions) of any
SBOM, against ntia-conformance-checker on SPDX, on real cyclonedx-py output, on
depchain's own SBOM, and on hostile input."""

from __future__ import annotations

import copy
import datetime
import json
import random
from pathlib import Path
from typing import Any

import pytest

from depchain import sbomcheck
from depchain.cli import main
from depchain.errors import InputFileError
from depchain.render import sbomcheck as render_check
from tests.conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures" / "sbomcheck"
CDX_PY = {
    "1.6": FIXTURES / "cyclonedx-py-environment-1.6.cdx.json",
    "1.5-xml": FIXTURES / "cyclonedx-py-environment-1.5.cdx.xml",
    "1.4": FIXTURES / "cyclonedx-py-environment-1.4.cdx.json",
}
SPDX_CONFORMANT = FIXTURES / "spdx-conformant.spdx.json"
SPDX_INCOMPLETE = FIXTURES / "spdx-missing-suppliers-versions.spdx.json"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _missing(report: sbomcheck.Report, element: str) -> set[str]:
    return {g.name for g in report.gaps if element in g.missing}


def _percent(report: sbomcheck.Report) -> dict[str, float]:
    return {r.element.id: r.percent for r in report.elements}


# -- the same verdict as ntia-conformance-checker on SPDX ------------------------------


def _ntia_checker(path: Path) -> Any:
    checker = pytest.importorskip("ntia_conformance_checker")
    return checker.SbomChecker(str(path))


@pytest.mark.parametrize("path", [SPDX_CONFORMANT, SPDX_INCOMPLETE], ids=lambda p: p.name)
def test_hand_written_spdx_verdict_is_the_ntia_checkers(path: Path) -> None:
    theirs = _ntia_checker(path)
    ours = sbomcheck.check_file(path)
    assert not theirs.parsing_errors and not theirs.validation_messages
    assert ours.conformant is theirs.compliant
    assert _missing(ours, "supplier") == {n for n, _ in theirs.components_without_suppliers}
    assert _missing(ours, "version") == {n for n, _ in theirs.components_without_versions}
    assert _missing(ours, "name") == {n for n, _ in theirs.components_without_names}


def test_hand_written_spdx_reports() -> None:
    good = sbomcheck.check_file(SPDX_CONFORMANT, cisa_2025=True)
    assert good.conformant and good.percent == 100.0 and good.components == 3
    assert good.document.authors == ("Organization: Acme Corp",)
    assert good.document.tools == ("hand-written",)
    assert good.document.describes == ("acme-app",)
    bad = sbomcheck.check_file(SPDX_INCOMPLETE)
    assert not bad.conformant
    assert {g.name: g.missing for g in bad.gaps} == {
        "requests": ("supplier", "version"),
        "urllib3": ("supplier", "version"),
    }
    # 7 elements x 3 packages = 21 checks; 4 fail
    assert (bad.satisfied, bad.total) == (17, 21)
    assert _percent(bad)["supplier"] == 33.33


def _spdx_tools_document(path: Path, suppliers: bool, versions: bool) -> Path:
    """An SPDX 2.3 document made with spdx-tools' own model, validated and written by
    its own JSON writer."""
    pytest.importorskip("spdx_tools")
    from spdx_tools.common.spdx_licensing import spdx_licensing
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        Checksum,
        ChecksumAlgorithm,
        CreationInfo,
        Document,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        Relationship,
        RelationshipType,
        SpdxNoAssertion,
    )
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_file

    creation = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name="made-by-spdx-tools",
        document_namespace="https://acme.example/spdx/made-by-spdx-tools-5d2e",
        creators=[Actor(ActorType.TOOL, "spdx-tools"), Actor(ActorType.ORGANIZATION, "Acme")],
        created=datetime.datetime(2025, 3, 1, 9, 30),
        creator_comment="build",
    )
    packages = []
    for i, (name, version) in enumerate(
        [("acme-service", "3.1"), ("flask", "3.1.0"), ("click", "8.1.8")]
    ):
        packages.append(
            Package(
                spdx_id=f"SPDXRef-{name}",
                name=name,
                download_location=SpdxNoAssertion(),
                version=version if versions or i == 0 else None,
                supplier=Actor(ActorType.ORGANIZATION, "Pallets")
                if suppliers or i == 0
                else SpdxNoAssertion(),
                files_analyzed=False,
                checksums=[Checksum(ChecksumAlgorithm.SHA256, f"{i:064x}")],
                license_concluded=spdx_licensing.parse("BSD-3-Clause"),
                external_references=[
                    ExternalPackageRef(
                        ExternalPackageRefCategory.PACKAGE_MANAGER,
                        "purl",
                        f"pkg:pypi/{name}@{version}",
                    )
                ],
            )
        )
    relationships = [
        Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-acme-service"),
        Relationship("SPDXRef-acme-service", RelationshipType.DEPENDS_ON, "SPDXRef-flask"),
        Relationship("SPDXRef-flask", RelationshipType.DEPENDS_ON, "SPDXRef-click"),
    ]
    document = Document(creation, packages=packages, relationships=relationships)
    write_document_to_file(document, str(path), validate=True)
    return path


@pytest.mark.parametrize(
    ("suppliers", "versions"), [(True, True), (False, True), (True, False), (False, False)]
)
def test_spdx_tools_document_verdict_is_the_ntia_checkers(
    tmp_path: Path, suppliers: bool, versions: bool
) -> None:
    path = _spdx_tools_document(tmp_path / "doc.spdx.json", suppliers, versions)
    theirs = _ntia_checker(path)
    ours = sbomcheck.check_file(path)
    assert not theirs.parsing_errors and not theirs.validation_messages
    assert ours.conformant is theirs.compliant is (suppliers and versions)
    assert _missing(ours, "supplier") == {n for n, _ in theirs.components_without_suppliers}
    assert _missing(ours, "version") == {n for n, _ in theirs.components_without_versions}
    assert _missing(ours, "supplier") == (set() if suppliers else {"flask", "click"})
    # CISA 2025: spdx-tools wrote the checksums, licence, Tool: creator and comment
    cisa = sbomcheck.check_file(path, cisa_2025=True)
    assert cisa.conformant is (suppliers and versions)
    assert cisa.document.contexts == ("build",)


def _spdx(packages: list[dict[str, Any]], relationships: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "divergence",
        "documentNamespace": "https://acme.example/spdx/divergence-1",
        "creationInfo": {"created": "2025-01-01T00:00:00Z", "creators": ["Tool: by-hand"]},
        "packages": [
            {
                "name": p,
                "SPDXID": f"SPDXRef-{p}",
                "versionInfo": "1.0",
                "supplier": "Organization: Acme",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                **extra,
            }
            for p, extra in ((x.pop("name"), x) for x in copy.deepcopy(packages))
        ],
        "relationships": [
            {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}
            for a, kind, b in ((r["a"], r["kind"], r["b"]) for r in relationships)
        ],
    }


_PURL = {
    "externalRefs": [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:pypi/x@1.0",
        }
    ]
}


def test_documented_divergences_from_the_ntia_checker(tmp_path: Path) -> None:
    """Where the verdicts differ on purpose (the module's docstring says why)."""
    describes = {"a": "SPDXRef-DOCUMENT", "kind": "DESCRIBES", "b": "SPDXRef-app"}
    # an SPDXID is the checker's identifier; this check asks for one outside the document
    local = _write(tmp_path / "local.spdx.json", _spdx([{"name": "app"}], [describes]))
    assert _ntia_checker(local).compliant is True
    report = sbomcheck.check_file(local)
    assert not report.conformant and _missing(report, "identifier") == {"app"}
    # a package outside every relationship: the checker leaves it out, this check reports it
    floating = _write(
        tmp_path / "floating.spdx.json",
        _spdx([{"name": "app", **_PURL}, {"name": "stray", **_PURL}], [describes]),
    )
    assert _ntia_checker(floating).compliant is True
    report = sbomcheck.check_file(floating)
    assert not report.conformant and _missing(report, "dependency") == {"stray"}


def test_spdx_dependency_relationships(tmp_path: Path) -> None:
    doc = _spdx(
        [{"name": n, **_PURL} for n in ("app", "lib", "leaf", "unknown", "dev")],
        [
            {"a": "SPDXRef-app", "kind": "DEPENDS_ON", "b": "SPDXRef-lib"},
            {"a": "SPDXRef-leaf", "kind": "DEPENDS_ON", "b": "NONE"},
            {"a": "SPDXRef-unknown", "kind": "DEPENDS_ON", "b": "NOASSERTION"},
            {"a": "SPDXRef-dev", "kind": "DEV_DEPENDENCY_OF", "b": "SPDXRef-app"},
        ],
    )
    report = sbomcheck.check_file(_write(tmp_path / "rel.spdx.json", doc))
    assert _missing(report, "dependency") == {"unknown"}
    assert "does not say which package it describes" in " ".join(report.notes)


# -- cyclonedx-py's real output ------------------------------------------------------


@pytest.mark.parametrize("key", sorted(CDX_PY))
def test_cyclonedx_py_missing_suppliers_are_reported(key: str) -> None:
    report = sbomcheck.check_file(CDX_PY[key])
    names = {
        "certifi",
        "charset-normalizer",
        "demo-app",
        "idna",
        "pip",
        "requests",
        "setuptools",
        "urllib3",
    }
    assert report.components == 8
    assert _missing(report, "supplier") == names  # cyclonedx-py names no supplier
    assert _missing(report, "identifier") == {"demo-app"}  # the root has no purl
    assert _missing(report, "dependency") == set()
    assert _percent(report) == {
        "supplier": 0.0,
        "name": 100.0,
        "version": 100.0,
        "identifier": 87.5,
        "dependency": 100.0,
        "author": 100.0,  # NTIA: the tool is an author of the data
        "timestamp": 100.0,
    }
    assert (report.satisfied, report.total) == (47, 56)
    assert not report.conformant
    assert report.passes(83.9) and not report.passes(84)
    assert report.document.tools == ("cyclonedx-py 7.5.0", "cyclonedx-python-lib 11.12.0")
    assert report.document.timestamp == "2025-01-01T00:00:00+00:00"
    cisa = sbomcheck.check_file(CDX_PY[key], cisa_2025=True)
    assert _percent(cisa) | {} == _percent(report) | {
        "author": 0.0,  # no person or organisation: CISA 2025's SBOM author
        "hash": 0.0,
        "license": 100.0,
        "tool": 100.0,
        "context": 0.0,  # no metadata.lifecycles
    }
    assert {g.name: g.missing for g in cisa.gaps}["demo-app"] == ("supplier", "identifier", "hash")


def test_cyclonedx_json_and_xml_say_the_same() -> None:
    def same(report: sbomcheck.Report) -> dict[str, Any]:
        out = report.as_dict()
        for key in ("path", "format", "spec_version"):
            out.pop(key)
        return out

    reports = [sbomcheck.check_file(p, cisa_2025=True) for p in CDX_PY.values()]
    assert {r.format for r in reports} == {"cyclonedx-json", "cyclonedx-xml"}
    assert {r.spec_version for r in reports} == {"1.4", "1.5", "1.6"}
    assert all(same(r) == same(reports[0]) for r in reports)


def test_cli_table_json_markdown_and_the_gate(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CDX_PY["1.6"])
    code, out, err = _run(capsys, "sbom", "check", path)
    assert code == 0 and err == ""
    assert "not conformant: 83.9% of the NTIA minimum elements (47 of 56 checks)" in out
    assert "demo-app 1.0.0" in out and "supplier, identifier" in out
    code, out, _ = _run(capsys, "sbom", "check", path, "--format", "json")
    data = json.loads(out)
    assert data["schema"] == "depchain-sbom-check/1"
    assert data["summary"] == {
        "components": 8,
        "checks": 56,
        "satisfied": 47,
        "percent": 83.92,
        "conformant": False,
    }
    assert len(data["components"]) == 8
    code, out, _ = _run(capsys, "sbom", "check", path, "-f", "markdown", "--min-completeness", "90")
    assert code == 1
    assert out.startswith("### depchain sbom check: ")
    assert "| supplier name | component | 0.0% | 0 of 8 |" in out
    assert "below --min-completeness 90 (exit 1)" in out
    assert _run(capsys, "sbom", "check", path, "--min-completeness", "83.9")[0] == 0
    assert _run(capsys, "sbom", "check", path, "--min-completeness", "84")[0] == 1
    code, out, _ = _run(capsys, "sbom", "check", path, "--cisa-2025", "--min-completeness", "60")
    assert code == 0 and "62.5% of the NTIA minimum elements and the CISA 2025 additions" in out
    assert _run(capsys, "sbom", "check", path, "--cisa-2025", "--min-completeness", "63")[0] == 1
    assert _run(capsys, "sbom", "check", str(SPDX_CONFORMANT), "--min-completeness", "100")[0] == 0
    code, _, err = _run(capsys, "sbom", "check", path, "--format", "sarif")
    assert code == 2 and "--format 'sarif'" in err


def test_output_is_deterministic_whatever_the_order(tmp_path: Path) -> None:
    doc = json.loads(CDX_PY["1.6"].read_text())
    shuffled = copy.deepcopy(doc)
    random.Random(7).shuffle(shuffled["components"])
    random.Random(7).shuffle(shuffled["dependencies"])
    a = sbomcheck.check_file(_write(tmp_path / "a.json", doc), display="x")
    b = sbomcheck.check_file(_write(tmp_path / "b.json", shuffled), display="x")
    assert render_check.render_table(a) == render_check.render_table(b)
    assert render_check.render_markdown(a) == render_check.render_markdown(b)
    assert render_check.render_json(a) == render_check.render_json(a)


# -- depchain's own SBOM ---------------------------------------------------------------


def test_own_sbom_of_the_example_webapp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``depchain sbom --check`` on examples/webapp, and ``depchain sbom check`` on what
    it wrote: the report says exactly what the document holds (whatever the exporter
    learns to fill in later)."""
    out = tmp_path / "webapp.cdx.json"
    webapp = str(REPO / "examples" / "webapp")
    code, stdout, err = _run(
        capsys, "sbom", webapp, "--no-enrich", "--offline", "-o", str(out), "--check"
    )
    assert code == 0 and stdout == ""
    assert err.startswith(f"depchain sbom check: {out} (CycloneDX 1.6, JSON; ")
    assert "of the NTIA minimum elements" in err
    code, text, _ = _run(capsys, "sbom", "check", str(out), "-f", "json")
    assert code == 0
    report = json.loads(text)
    doc = json.loads(out.read_text())
    components = [doc["metadata"]["component"], *doc["components"]]
    assert report["summary"]["components"] == len(components)
    percent = {e["id"]: e["percent"] for e in report["elements"]}
    assert percent["name"] == percent["identifier"] == percent["dependency"] == 100.0
    assert percent["timestamp"] == percent["author"] == 100.0  # depchain is named as its tool
    missing = {c["ref"]: set(c["missing"]) for c in report["components"]}
    for c in components:
        supplied = any((c.get(k) or {}).get("name") for k in ("supplier", "manufacturer"))
        assert ("supplier" in missing.get(c["bom-ref"], set())) is not supplied
        assert ("version" in missing.get(c["bom-ref"], set())) is not c.get("version")
    # the gate: exit 1 below the threshold, with the summary on stderr
    full = sbomcheck.check_file(out).passes(100)
    code, _, err = _run(
        capsys,
        "sbom",
        webapp,
        "--no-enrich",
        "--offline",
        "-o",
        str(out),
        "--min-completeness",
        "100",
    )
    assert code == (0 if full else 1)
    assert ("below --min-completeness 100 (exit 1)" in " ".join(err.split())) is not full


# -- document-level elements -----------------------------------------------------------


def _cdx(**metadata: Any) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": metadata,
        "components": [
            {
                "bom-ref": "a",
                "name": "a",
                "version": "1",
                "purl": "pkg:pypi/a@1",
                "supplier": {"name": "A"},
                "hashes": [{"alg": "SHA-256", "content": "00" * 32}],
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
            }
        ],
        "dependencies": [{"ref": "a", "dependsOn": []}],
    }


def test_author_tool_timestamp_and_context(tmp_path: Path) -> None:
    tools = {"components": [{"type": "application", "name": "syft", "version": "1.0"}]}
    doc = _cdx(timestamp="2025-05-05T10:00:00.123456789Z", tools=tools)
    report = sbomcheck.check_file(_write(tmp_path / "a.json", doc))
    # an entry without dependsOn states nothing: "a" is in no relationship
    assert _missing(report, "dependency") == {"a"}
    assert _percent(report)["author"] == 100.0  # NTIA: the tool
    cisa = sbomcheck.check_file(tmp_path / "a.json", cisa_2025=True)
    assert _percent(cisa)["author"] == 0.0 and _percent(cisa)["context"] == 0.0
    doc = _cdx(
        timestamp="2025-05-05",  # a date, not a date and time
        tools=tools,
        authors=[{"email": "sbom@acme.example"}],
        lifecycles=[{"phase": "build"}],
    )
    doc["metadata"]["component"] = {"bom-ref": "root", "name": "root", "version": "2"}
    cisa = sbomcheck.check_file(_write(tmp_path / "b.json", doc), cisa_2025=True)
    assert cisa.document.authors == ("author: sbom@acme.example",)
    assert cisa.document.contexts == ("build",)
    assert _percent(cisa)["timestamp"] == 0.0
    assert "is not ISO 8601" in " ".join(cisa.notes)
    assert _missing(cisa, "dependency") == {"a"}  # the root is what the document describes
    assert _missing(cisa, "identifier") == {"root"}


def test_an_xml_document_without_timestamp_lacks_one(tmp_path: Path) -> None:
    """cyclonedx-python-lib's reader would give it the time of reading."""
    path = tmp_path / "bom.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.3" version="1">'
        "<metadata><tools><tool><vendor>x</vendor><name>legacy</name></tool></tools></metadata>"
        '<components><component type="library" bom-ref="a"><name>a</name>'
        '<version>1</version><swid tagId="acme-a-1" name="a"/>'
        '<components><component type="file"><name>inner</name></component></components>'
        "</component></components>"
        '<dependencies><dependency ref="a"/></dependencies></bom>'
    )
    report = sbomcheck.check_file(path)
    assert report.format == "cyclonedx-xml" and report.spec_version == "1.3"
    assert _percent(report)["timestamp"] == 0.0
    assert report.document.tools == ("legacy",)
    assert _missing(report, "identifier") == {"inner"}  # a's SWID tag identifies it
    assert _missing(report, "dependency") == set()  # nested: inner is included in a


def test_no_component_is_not_conformant(tmp_path: Path) -> None:
    doc = _cdx(timestamp="2025-01-01T00:00:00Z", authors=[{"name": "Acme"}])
    doc["components"] = []
    report = sbomcheck.check_file(_write(tmp_path / "empty.json", doc))
    assert report.components == 0 and not report.conformant
    assert (report.satisfied, report.total) == (2, 7)
    assert "lists no component" in " ".join(report.notes)


def test_nothing_secret_in_any_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "https://deploy:hunter2@git.acme.example/x.git?token=s3cr3t"
    doc = _cdx(timestamp="2025-01-01T00:00:00Z", authors=[{"name": secret}])
    doc["components"][0]["name"] = secret
    doc["components"][0].pop("supplier")
    path = _write(tmp_path / "secret.json", doc)
    for fmt in ("table", "json", "markdown"):
        code, out, err = _run(capsys, "sbom", "check", str(path), "-f", fmt)
        assert code == 0
        assert "hunter2" not in out + err and "s3cr3t" not in out + err
        assert "git.acme.example" in out
    report = sbomcheck.check_file(path)
    assert "hunter2" not in repr(report) and "s3cr3t" not in repr(report)


# -- unreadable and hostile input: exit 3, one line naming the file ------------------

_BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">'
    "<name>&c;</name></component></components></bom>"
)
_XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><metadata><timestamp>&x;</timestamp>'
    "</metadata></bom>"
)


def _nested(depth: int) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "library", "name": "leaf"}
    for i in range(depth):
        component = {"type": "library", "name": f"n{i}", "components": [component]}
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [component]}


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("laughs.xml", _BILLION_LAUGHS, "DTD, entities or external references (refused)"),
        ("xxe.xml", _XXE, "DTD, entities or external references (refused)"),
        (
            "broken.xml",
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.6">\n<components>',
            "invalid XML (line 2",
        ),
        ("other.xml", "<project><name>x</name></project>", "not a CycloneDX document"),
        ("broken.json", '{"bomFormat": "CycloneDX",\n "components": [}', "invalid JSON: "),
        ("list.json", "[1, 2]", "not a CycloneDX or SPDX document"),
        ("other.json", '{"name": "x"}', "no 'bomFormat' or 'spdxVersion'"),
        ("spdx3.json", '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}', "SPDX 3"),
        ("spdx1.json", '{"spdxVersion": "SPDX-1.2"}', "SPDX-1.2 is not supported"),
        ("report.json", '{"schema": "depchain-report/1"}', "is a depchain report, not an SBOM"),
        ("empty.json", "  \n", "is empty"),
        (
            "names.json",
            '{"bomFormat": "CycloneDX", "components": [{"name": {"x": 1}}]}',
            "components[0].name: is not a string",
        ),
        ("deep.json", json.dumps(_nested(40)), "nest more than 32 deep"),
        ("arrays.json", "[" * 100_000 + "]" * 100_000, "invalid JSON"),
        (
            "spdx.json",
            '{"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}]}',
            "packages[0].SPDXID: is missing",
        ),
    ],
)
def test_unreadable_input_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, said: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, err = _run(capsys, "sbom", "check", str(path))
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"depchain: {path}: "), err
    assert said in err
    assert "root:" not in err  # nothing of /etc/passwd


def test_deeply_nested_xml_components(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opening = '<component type="library"><name>x</name><components>'
    leaf = '<component type="library"><name>leaf</name></component>'
    inner = opening * 40 + leaf + "</components></component>" * 40
    path = tmp_path / "deep.xml"
    path.write_text(
        f'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>{inner}</components></bom>'
    )
    code, _, err = _run(capsys, "sbom", "check", str(path))
    assert code == 3 and "nest more than 32 deep" in err and err.count("\n") == 1


def test_size_bound_and_other_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.json"
    doc = _cdx()
    doc["components"] *= 12_000
    big.write_text(json.dumps(doc))
    assert big.stat().st_size > 1024 * 1024
    code, _, err = _run(capsys, "sbom", "check", str(big), "--max-file-size", "1")
    assert code == 3 and "file is too large" in err and err.count("\n") == 1
    for path, said in (
        (tmp_path / "absent.json", "No such file"),
        (tmp_path, "is a directory"),
    ):
        code, _, err = _run(capsys, "sbom", "check", str(path))
        assert code == 3 and said in err and err.count("\n") == 1
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"bomFormat": "CycloneDX", "components": [{"name": "caf\xe9"}]}')
    code, _, err = _run(capsys, "sbom", "check", str(latin))
    assert code == 3 and "not valid UTF-8 (line 1)" in err
    with pytest.raises(InputFileError):
        sbomcheck.check_bytes(b"\x00\x01", "bytes")


def test_percentages_round_down() -> None:
    assert render_check.percent(2, 3) == "66.6%"
    assert render_check.percent(9999, 10000) == "99.9%"
    assert render_check.percent(3, 3) == "100.0%"
    assert render_check.percent(0, 0) == "0.0%"
