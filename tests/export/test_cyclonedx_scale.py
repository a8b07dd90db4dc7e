"""CycloneDX export at scale (depchain/export/cyclonedx_fast.py): the same text as
cyclonedx-python-lib's outputters, byte for byte, on depchain's documents and on a model
that uses what depchain does not (nested components and dependencies, vulnerabilities,
licence expressions, characters XML escapes); work that grows linearly; validation with
the verdicts the schema gives; no patched library object."""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import time
import types
import uuid
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import depchain
from depchain.export import cyclonedx, cyclonedx_fast

REPO = Path(__file__).resolve().parents[2]
WEBAPP = REPO / "examples" / "webapp"
HOSTILE = "a & b <c> \"d\" 'e' \r\nline\ttab\rcr  ünï €"


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def stock(bom: Any, fmt: cyclonedx.Format, spec: str) -> str:
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    output = OutputFormat.JSON if fmt is cyclonedx.Format.JSON else OutputFormat.XML
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(
            make_outputter(bom, output, SchemaVersion.from_version(spec)).output_as_string(indent=2)
        )


def fast(bom: Any, fmt: cyclonedx.Format, spec: str) -> str:
    from cyclonedx.schema import SchemaVersion

    version = SchemaVersion.from_version(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt is cyclonedx.Format.JSON:
            return cyclonedx_fast.to_json(bom, version)
        return cyclonedx_fast.to_xml(bom, version)


def rich_bom() -> Any:
    """A model with what depchain's own documents do not hold."""
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        Property,
        XsUri,
    )
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
    from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
    from cyclonedx.model.dependency import Dependency
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
    from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
    from cyclonedx.model.service import Service
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.model.vulnerability import (
        BomTarget,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )
    from packageurl import PackageURL

    def component(i: int, **extra: Any) -> Component:
        extra.setdefault("bom_ref", f"pkg:pypi/c{i}@1.{i}")
        return Component(
            name=f"c{i}",
            version=f"1.{i}",
            type=ComponentType.LIBRARY,
            purl=PackageURL("pypi", None, f"c{i}", f"1.{i}"),
            scope=ComponentScope.REQUIRED if i % 2 else ComponentScope.OPTIONAL,
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f"{i:064x}")],
            properties=[Property(name="depchain:test", value=f"{i} {HOSTILE}")],
            **extra,
        )

    nested = component(100, description=HOSTILE)
    parts = [
        component(
            1,
            licenses=[LicenseExpression("MIT OR Apache-2.0")],
            components=[nested],
            supplier=OrganizationalEntity(name=HOSTILE, urls=[XsUri("https://example.org/")]),
        ),
        component(
            2,
            licenses=[DisjunctiveLicense(id="MIT"), DisjunctiveLicense(name="Custom & co")],
            authors=[OrganizationalContact(name="Jane", email="jane@example.org")],
            external_references=[
                ExternalReference(
                    type=ExternalReferenceType.VCS, url=XsUri("ssh://git@host/org/repo.git")
                )
            ],
        ),
        component(
            3,
            bom_ref='pkg:generic/odd&"name"@1',
            evidence=ComponentEvidence(
                occurrences=[Occurrence(bom_ref="occ-3", location="uv.lock", line=3)]
            ),
        ),
        *(component(i) for i in range(4, 12)),
    ]
    root = Component(bom_ref="root", name="root", version="1.0", type=ComponentType.APPLICATION)
    service = Service(bom_ref="svc", name="db", endpoints=[XsUri("postgres://db:5432")])
    tool = Component(name="depchain", version="0", type=ComponentType.APPLICATION)
    bom = Bom(
        serial_number=uuid.UUID("d4a7e1f0-0000-4000-8000-000000000001"),
        components=parts,
        services=[service],
        metadata=BomMetaData(
            component=root,
            timestamp=dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc),
            tools=ToolRepository(components=[tool]),
            lifecycles=[PredefinedLifecycle(LifecyclePhase.BUILD)],
        ),
        vulnerabilities=[
            Vulnerability(
                bom_ref="GHSA-1|pkg:pypi/c2@1.2",
                id="GHSA-1",
                source=VulnerabilitySource(name="GHSA"),
                ratings=[
                    VulnerabilityRating(
                        score=Decimal("7.5"),
                        severity=VulnerabilitySeverity.HIGH,
                        method=VulnerabilityScoreSource.CVSS_V3_1,
                        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                    )
                ],
                description=HOSTILE,
                published=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
                affects=[BomTarget(ref="pkg:pypi/c2@1.2")],
            )
        ],
    )
    # a nested entry (the JSON outputter flattens it) and one named twice (merged)
    bom.dependencies.update(
        [
            Dependency(
                ref=root.bom_ref,
                dependencies=[
                    Dependency(ref=parts[0].bom_ref, dependencies=[Dependency(ref=nested.bom_ref)]),
                    Dependency(ref=parts[1].bom_ref),
                    Dependency(ref=service.bom_ref),
                ],
            ),
            Dependency(ref=parts[1].bom_ref, dependencies=[Dependency(ref=parts[2].bom_ref)]),
        ]
    )
    return bom


@pytest.mark.parametrize("spec", cyclonedx.SPEC_VERSIONS)
@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_same_text_as_the_library_on_a_rich_model(spec: str, fmt: cyclonedx.Format) -> None:
    ours = fast(rich_bom(), fmt, spec)
    assert ours == stock(rich_bom(), fmt, spec)
    if fmt is cyclonedx.Format.JSON:
        doc = json.loads(ours)
        merged = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
        assert merged["root"] == ["pkg:pypi/c1@1.1", "pkg:pypi/c2@1.2", "svc"]
        assert merged["pkg:pypi/c1@1.1"] == ["pkg:pypi/c100@1.100"]  # lifted from nesting
        assert merged["pkg:pypi/c2@1.2"] == ['pkg:generic/odd&"name"@1']
        assert merged["pkg:pypi/c5@1.5"] == []  # registered as the library's check does
    cyclonedx.validate(ours, fmt, spec)


@pytest.mark.parametrize("spec", cyclonedx.SPEC_VERSIONS)
def test_xml_is_written_directly_not_through_the_library_fallback(spec: str) -> None:
    """The pretty-printer takes the whole tree (no _NotPlain): what the library's
    write-parse-write gives, escapes and line ends included."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema.schema import SCHEMA_VERSIONS

    bom = rich_bom()
    cyclonedx_fast.check(bom)
    xmlns = f"http://cyclonedx.org/schema/bom/{spec}"
    view = SCHEMA_VERSIONS[SchemaVersion.from_version(spec)]
    tree = bom.as_xml(view, as_string=False, xmlns=xmlns)
    direct = "".join(cyclonedx_fast._pretty(tree, xmlns, "  "))
    assert direct == stock(rich_bom(), cyclonedx.Format.XML, spec)
    assert "line\ttab" in direct and "&amp; b &lt;c&gt; &quot;d&quot;" in direct


def test_a_character_xml_cannot_hold_is_shown_escaped_where_the_library_fails() -> None:
    """The library's writer fails on a character XML 1.0 cannot hold (found by the
    fuzzer in go.mod, pylock and .gitmodules values: no SBOM at all); ours writes it as
    the terminal shows it."""
    from cyclonedx.model import Property

    def bom() -> Any:
        b = rich_bom()
        next(iter(b.components)).properties.add(Property(name="x", value="bell \x07"))
        return b

    text = fast(bom(), cyclonedx.Format.XML, "1.6")
    assert "bell \\x07" in text and "\x07" not in text
    with pytest.raises(Exception):  # noqa: B017 - whichever the library raises
        stock(bom(), cyclonedx.Format.XML, "1.6")


def uv_lock(folder: Path, packages: int) -> Path:
    """A uv.lock of ``packages`` registry packages, three dependencies each."""
    rng = random.Random(11)
    names = [f"pkg-{i:05d}" for i in range(packages)]
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "big"\nversion = "1.0"\ndependencies = ['
        + ", ".join(f'"{n}"' for n in names[:20])
        + "]\n"
    )
    parts = [
        'version = 1\nrevision = 2\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "big"\nversion = "1.0"\nsource = { editable = "." }\n'
        "dependencies = [" + ", ".join(f'{{ name = "{n}" }}' for n in names[:20]) + "]\n"
    ]
    for i, name in enumerate(names):
        later = range(i + 1, packages)
        deps = sorted({names[rng.choice(later)] for _ in range(3)}) if later else []
        listed = ", ".join(f'{{ name = "{d}" }}' for d in deps)
        parts.append(
            f'\n[[package]]\nname = "{name}"\nversion = "1.{i % 50}.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            + (f"dependencies = [{listed}]\n" if deps else "")
            + f'sdist = {{ url = "https://files.example/{name}-1.0.tar.gz", '
            f'hash = "sha256:{rng.getrandbits(256):064x}", size = 1 }}\n'
        )
    (folder / "uv.lock").write_text("".join(parts))
    return folder


@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_same_text_as_the_library_on_depchain_scans(fmt: cyclonedx.Format, tmp_path: Path) -> None:
    for target in (WEBAPP, uv_lock(tmp_path, 1000)):
        result = depchain.scan(target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = fast(cyclonedx.build_bom(result), fmt, "1.6")
            assert ours == stock(cyclonedx.build_bom(result), fmt, "1.6")
        assert cyclonedx.render(result, fmt) == ours + ("\n" if not ours.endswith("\n") else "")


def test_the_model_is_not_patched() -> None:
    result = depchain.scan(WEBAPP)
    bom = cyclonedx.build_bom(result)
    assert "register_dependency" not in vars(bom)  # the library's method, as it ships
    # nothing of its own refers back to it: freed when the export lets it go
    assert not any(isinstance(r, types.CellType) for r in gc.get_referrers(bom))


def test_render_leaves_the_collector_as_it_found_it() -> None:
    result = depchain.scan(WEBAPP)
    assert gc.isenabled()
    cyclonedx.render(result)
    assert gc.isenabled()
    gc.disable()
    try:
        cyclonedx.render(result)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_export_work_grows_linearly(tmp_path: Path) -> None:
    """Writing and validating 5x the packages takes about 5x the work (the library's
    outputters: 13x here, their model check and bom-ref bookkeeping being quadratic).
    CPU time, best of two, so that a busy machine slows both sizes alike."""
    from cyclonedx.schema import SchemaVersion

    def cost(packages: int) -> float:
        folder = tmp_path / str(packages)
        folder.mkdir()
        result = depchain.scan(uv_lock(folder, packages))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bom = cyclonedx.build_bom(result)
        best = float("inf")
        for _ in range(2):
            start = time.process_time()
            text = cyclonedx_fast.to_json(bom, SchemaVersion.V1_6)
            cyclonedx.validate(text, cyclonedx.Format.JSON, "1.6")
            best = min(best, time.process_time() - start)
        assert len(json.loads(text)["components"]) >= packages
        return best

    small, large = cost(800), cost(4000)
    assert large / small < 8, (small, large)


def _doc() -> dict[str, Any]:
    return dict(json.loads(fast(rich_bom(), cyclonedx.Format.JSON, "1.6")))


def _index(doc: dict[str, Any], name: str) -> int:
    return next(i for i, c in enumerate(doc["components"]) if c["name"] == name)


def _refused(doc: dict[str, Any], where: str) -> None:
    with pytest.raises(cyclonedx.ExportError, match=f"at /{where}"):
        cyclonedx.validate(json.dumps(doc), cyclonedx.Format.JSON, "1.6")


def test_validation_refuses_what_the_schema_refuses() -> None:
    doc = _doc()
    doc["components"].append(doc["components"][0])  # uniqueItems
    _refused(doc, "components")
    doc = _doc()
    doc["components"][0]["colour"] = "blue"  # the strict schema: no other property
    _refused(doc, "components/0")
    doc = _doc()
    doc["metadata"]["timestamp"] = "yesterday"
    _refused(doc, "metadata/timestamp")
    doc = _doc()
    c2 = _index(doc, "c2")
    doc["components"][c2]["externalReferences"][0]["url"] = "https://ex ample.org"
    _refused(doc, f"components/{c2}/externalReferences/0/url")
    doc = _doc()
    doc["components"][c2]["authors"][0]["email"] = "jane at example.org"
    _refused(doc, f"components/{c2}/authors/0/email")
    with pytest.raises(cyclonedx.ExportError, match="not JSON"):
        cyclonedx.validate("{", cyclonedx.Format.JSON, "1.6")
    with pytest.raises(cyclonedx.ExportError, match="XML failed"):
        cyclonedx.validate(
            fast(rich_bom(), cyclonedx.Format.XML, "1.6").replace("<name>c4</name>", "<nom/>"),
            cyclonedx.Format.XML,
            "1.6",
        )


def test_validation_takes_what_depchain_always_took() -> None:
    doc = _doc()
    # an scp-style VCS address (a full RFC 3986 parser refuses its "port"), an IRI, an
    # e-mail address with a display name: as jsonschema's checks took them
    c1, c2 = _index(doc, "c1"), _index(doc, "c2")
    doc["components"][c2]["externalReferences"][0]["url"] = "ssh://git@github.com:org/r.git"
    doc["components"][c1]["supplier"]["url"] = ["https://例え.jp/パス"]
    doc["components"][c2]["authors"][0]["email"] = "Jane <jane@example.org>"
    cyclonedx.validate(json.dumps(doc), cyclonedx.Format.JSON, "1.6")


def _evidenced(bom: Any) -> Any:
    """``bom`` with a component whose evidence names two identities (CycloneDX 1.5
    keeps the first: the library's helper drops the others)."""
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence, Identity, IdentityField

    bom.components.add(
        Component(
            bom_ref="pkg:pypi/evidenced@1",
            name="evidenced",
            version="1",
            type=ComponentType.LIBRARY,
            evidence=ComponentEvidence(
                identity=[
                    Identity(
                        field=IdentityField.PURL, confidence=Decimal("0.5"), concluded_value="a"
                    ),
                    Identity(
                        field=IdentityField.NAME, confidence=Decimal("1"), concluded_value="b"
                    ),
                ]
            ),
        )
    )
    return bom


def _no_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's element tree is neither pretty-printed nor reparsed: the XML is
    written from the model."""

    def refused(*_: Any, **__: Any) -> Any:
        raise AssertionError("the XML went through the element tree")

    monkeypatch.setattr(cyclonedx_fast, "_pretty", refused)
    monkeypatch.setattr("xml.dom.minidom.parseString", refused)


@pytest.mark.parametrize("spec", cyclonedx.SPEC_VERSIONS)
def test_xml_is_written_from_the_model_as_the_library_writes_it(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = stock(_evidenced(rich_bom()), cyclonedx.Format.XML, spec)
    _no_tree(monkeypatch)
    ours = fast(_evidenced(rich_bom()), cyclonedx.Format.XML, spec)
    assert ours == expected
    assert ours.count("<identity>") == (1 if spec == "1.5" else 2)
    cyclonedx.validate(ours, cyclonedx.Format.XML, spec)


def test_xml_of_a_2000_package_lock_is_the_library_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = depchain.scan(uv_lock(tmp_path, 2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = stock(cyclonedx.build_bom(result), cyclonedx.Format.XML, "1.6")
        _no_tree(monkeypatch)
        ours = fast(cyclonedx.build_bom(result), cyclonedx.Format.XML, "1.6")
    assert ours == expected
    assert ours.count("<component ") >= 2000
    assert cyclonedx.render(result, cyclonedx.Format.XML) == ours


@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_1_5_keeps_authors_and_manufacturer_where_1_5_has_them(
    fmt: cyclonedx.Format, tmp_path: Path
) -> None:
    """CycloneDX 1.5 has no component ``authors`` and no metadata ``manufacturer``: the
    1.5 document dropped both; they now go to ``author`` and ``manufacture``, and the
    fast writer still gives the library's own text. The input: a site-packages folder
    holding the real metadata of three installed distributions."""
    import dataclasses
    import shutil
    from importlib.metadata import distribution

    from depchain.scanner import VulnOptions
    from depchain.trust.policy import Policy

    site = tmp_path / "site-packages"
    site.mkdir()
    for name in ("rich", "packaging", "requests"):
        info = Path(str(distribution(name)._path))  # type: ignore[attr-defined]
        shutil.copytree(info, site / info.name)
    result = depchain.scan(site, vulns=VulnOptions(enabled=False))
    result.policy = dataclasses.replace(result.policy or Policy(), sbom_manufacturer="Example")
    with_authors = [c for c in result.graph.components() if c.authors]
    assert with_authors
    for spec in ("1.5", "1.6"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library's own: author is 1.5's field
            ours = fast(cyclonedx.build_bom(result, spec), fmt, spec)
            assert ours == stock(cyclonedx.build_bom(result, spec), fmt, spec)
        text = cyclonedx.render(result, fmt, spec)  # validated against the schema
        if spec == "1.5":
            assert "manufacturer" not in text and "Example" in text
            if fmt is cyclonedx.Format.JSON:
                document = json.loads(text)
                assert document["metadata"]["manufacture"] == {"name": "Example"}
                one = with_authors[0]
                (found,) = [c for c in document["components"] if c["bom-ref"] == one.id]
                first = one.authors[0]
                assert (first.name or first.email) in found["author"]
                assert "authors" not in found
        else:
            assert "<manufacture>" not in text and '"manufacture"' not in text


def test_a_malformed_hash_is_left_out_not_fatal() -> None:
    """A resolver that let a malformed digest through (Cargo.lock's checksum '[[[', found
    by the fuzzer) made every CycloneDX export fail its schema: no SBOM at all. The
    exporters now carry only well-formed digests; the rest of the component stays."""
    import dataclasses

    from depchain.model import Component, Hash

    result = depchain.scan(WEBAPP)
    (pinned,) = [c for c in result.graph.components() if c.name == "certifi"]  # hashed pins
    assert pinned.hashes and all(h.well_formed for h in pinned.hashes)
    bad = (Hash("sha256", "[[[[" + "0" * 60), Hash("sha512", "ab"), Hash("md5", "0" * 32))
    result.graph.replace_node(dataclasses.replace(pinned, hashes=pinned.hashes + bad))
    assert not any(h.well_formed for h in bad[:2]) and bad[2].well_formed
    for fmt in cyclonedx.Format:
        text = cyclonedx.render(result, fmt)  # validated against the schema
        assert "[[[[" not in text and pinned.hashes[0].value in text and "0" * 32 in text
    from depchain.export import spdx

    text = spdx.render(result)  # validated by spdx-tools
    assert "[[[[" not in text and pinned.hashes[0].value in text and "0" * 32 in text
    assert isinstance(pinned, Component)
