"""What components declare, in CycloneDX's standard fields: licences, supplier,
authors, description, external references and hashes; and the document's own
metadata (tools as components, authors, manufacturer, lifecycle, the root component).

The environment is made of real distributions copied from the one running the tests
(their METADATA as their authors wrote it); the package index's answers for them were
recorded (tests/enrich/recorded/, see its README)."""

from __future__ import annotations

import json
import shutil
import sysconfig
from pathlib import Path
from typing import Any

import pytest

import depchain
from depchain.cli import main
from depchain.export import cyclonedx
from depchain.scanner import EnrichOptions
from tests.enrich.fakeindex import INDEX, FakeIndex, session_for

PURELIB = Path(sysconfig.get_paths()["purelib"])
SMALL = (
    "six",
    "idna",
    "urllib3",
    "certifi",
    "packaging",
    "typing_extensions",
    "pluggy",
    "iniconfig",
    "mdurl",
    "markdown_it_py",
)
"""Distributions without a dependency outside the set, each answered for in
tests/enrich/recorded/pypi/ at the version installed here."""


def copy_distributions(site: Path, names: tuple[str, ...]) -> None:
    """Each distribution's ``.dist-info`` and the files its RECORD lists under
    site-packages, copied from the environment running the tests."""
    import csv

    site.mkdir(parents=True, exist_ok=True)
    for name in names:
        found = sorted(PURELIB.glob(f"{name}-*.dist-info"))
        if not found:
            pytest.skip(f"{name} is not installed in the environment running the tests")
        info = found[0]
        for row in csv.reader((info / "RECORD").read_text().splitlines()):
            if not row or row[0].startswith("..") or "__pycache__" in row[0]:
                continue
            source = PURELIB / row[0]
            if source.is_file():
                target = site / row[0]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("env") / "small-venv"
    copy_distributions(root / "lib" / "python3.11" / "site-packages", SMALL)
    (root / "pyvenv.cfg").write_text("version = 3.11.7\n")
    return root


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(tmp_path / "cache"))


def enriched_scan(venv: Path, cache: Path) -> depchain.ScanResult:
    with session_for(FakeIndex()) as session:
        return depchain.scan(
            venv, enrich=EnrichOptions(cache_dir=cache, session=session, index_url=INDEX)
        )


def python_components(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in doc["components"] if c.get("purl", "").startswith("pkg:pypi/")]


def props(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def library_validates(text: str, fmt: cyclonedx.Format, spec: str) -> None:
    """cyclonedx-python-lib's own validators, as they ship (render validated already,
    with depchain's faster JSON one)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator

    version = SchemaVersion.from_version(spec)
    validator = (
        JsonStrictValidator(version) if fmt is cyclonedx.Format.JSON else XmlValidator(version)
    )
    assert validator.validate_str(text) is None


@pytest.mark.parametrize("spec", cyclonedx.SPEC_VERSIONS)
@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_declared_metadata_in_the_standard_fields(
    venv: Path, spec: str, fmt: cyclonedx.Format
) -> None:
    text = cyclonedx.render(depchain.scan(venv), fmt, spec)
    library_validates(text, fmt, spec)
    doc = _as_json(text, fmt)
    by_name = {c["name"]: c for c in doc["components"]}
    assert set(by_name) >= {"six", "idna", "urllib3", "certifi", "packaging"}

    def declared(name: str) -> list[Any]:
        return [
            (lic["license"].get("id") or lic["license"].get("name"))
            if "license" in lic
            else lic["expression"]
            for lic in by_name[name]["licenses"]
        ]

    assert declared("six") == ["MIT"]  # License: MIT
    assert declared("certifi") == ["MPL-2.0"]
    assert declared("packaging") == ["Apache-2.0 OR BSD-2-Clause"]  # License-Expression
    assert declared("mdurl") == ["MIT"]  # the classifier alone
    six = by_name["six"]
    assert six["description"] == "Python 2 and 3 compatibility utilities"
    assert {"name": "Benjamin Peterson", "email": "benjamin@python.org"} in six.get(
        "authors", [{"name": "Benjamin Peterson", "email": "benjamin@python.org"}]
    )  # (1.5 has no component authors: its ``author`` is a free text field)
    if spec != "1.5":
        assert six["licenses"][0]["license"]["acknowledgement"] == "declared"
        assert six["authors"] == [{"name": "Benjamin Peterson", "email": "benjamin@python.org"}]
    refs = {(r["type"], r["url"]) for r in by_name["urllib3"]["externalReferences"]}
    assert ("vcs", "https://github.com/urllib3/urllib3") in refs
    assert any(kind == "issue-tracker" for kind, _ in refs)
    assert any(kind == "documentation" for kind, _ in refs)
    # without the index, nobody is known to own them: no supplier, never a guess
    assert not any("supplier" in c for c in python_components(doc))
    meta = doc["metadata"]
    assert meta["tools"]["components"][0]["name"] == "depchain"
    assert meta["lifecycles"] == [{"phase": "post-build"}]


def _as_json(text: str, fmt: cyclonedx.Format) -> dict[str, Any]:
    """The document as JSON: XML read back into the same shape for what is checked."""
    if fmt is cyclonedx.Format.JSON:
        return dict(json.loads(text))
    from defusedxml import ElementTree

    root = ElementTree.fromstring(text)
    ns = root.tag.split("}")[0] + "}"

    def party(node: Any) -> dict[str, str]:
        return {k: v for k in ("name", "email") if (v := node.findtext(ns + k))}

    components = []
    for node in root.find(ns + "components"):
        licenses = []
        for choice in node.find(ns + "licenses") or []:
            if choice.tag == ns + "expression":
                licenses.append({"expression": choice.text})
            else:
                entry = {k: v for k in ("id", "name") if (v := choice.findtext(ns + k))}
                if choice.get("acknowledgement"):
                    entry["acknowledgement"] = choice.get("acknowledgement")
                licenses.append({"license": entry})
        component: dict[str, Any] = {
            "name": node.findtext(ns + "name"),
            "purl": node.findtext(ns + "purl") or "",
            "licenses": licenses,
            "externalReferences": [
                {"type": r.get("type"), "url": r.findtext(ns + "url")}
                for r in node.findall(f"{ns}externalReferences/{ns}reference")
            ],
        }
        if node.findtext(ns + "description"):
            component["description"] = node.findtext(ns + "description")
        authors = node.findall(f"{ns}authors/{ns}author")
        if authors:
            component["authors"] = [party(a) for a in authors]
        if node.find(ns + "supplier") is not None:
            component["supplier"] = party(node.find(ns + "supplier"))
        components.append(component)
    meta = root.find(ns + "metadata")
    return {
        "components": components,
        "metadata": {
            "tools": {
                "components": [
                    {"name": t.findtext(ns + "name")}
                    for t in meta.findall(f"{ns}tools/{ns}components/{ns}component")
                ]
            },
            "lifecycles": [
                {"phase": p.text} for p in meta.findall(f"{ns}lifecycles/{ns}lifecycle/{ns}phase")
            ],
        },
    }


def test_licence_and_supplier_coverage_with_the_index(venv: Path, tmp_path: Path) -> None:
    """At least 95% of the Python components carry a licence and a supplier when the
    index's ownership is known (here: all of them)."""
    result = enriched_scan(venv, tmp_path / "index-cache")
    doc = json.loads(cyclonedx.render(result))
    python = python_components(doc)
    assert len(python) == len(SMALL)
    licensed = [c for c in python if c.get("licenses")]
    supplied = [c for c in python if c.get("supplier", {}).get("name")]
    assert len(licensed) / len(python) >= 0.95
    assert len(supplied) / len(python) >= 0.95
    by_name = {c["name"]: c for c in python}
    # an organization owns certifi; users own six: they are its supplier's contacts
    assert by_name["certifi"]["supplier"] == {"name": "certifi"}
    assert props(by_name["certifi"])["depchain:supplier-source"] == "index-organization"
    assert by_name["six"]["supplier"] == {"name": "gutworth", "contact": [{"name": "gutworth"}]}
    assert props(by_name["six"])["depchain:supplier-source"] == "index-roles"


def test_what_is_unknown_says_so(tmp_path: Path) -> None:
    """A licence text where an identifier belongs: no licence field, and a property
    saying why; a name SPDX has no id for (``BSD``): a named licence, as declared."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    _dist(site, "textlicensed", "1.0", "License: Copyright (c) 2020 Someone\n Permission is...\n")
    bsd = "License: BSD\nClassifier: License :: OSI Approved :: BSD License\n"
    _dist(site, "bsdish", "2.0", bsd)
    _dist(site, "nolicence", "3.0", "")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    doc = json.loads(cyclonedx.render(depchain.scan(tmp_path / "venv")))
    by_name = {c["name"]: c for c in doc["components"]}
    text = by_name["textlicensed"]
    assert "licenses" not in text
    assert "licence text" in props(text)["depchain:license-unknown"]
    assert by_name["bsdish"]["licenses"] == [
        {"license": {"name": "BSD", "acknowledgement": "declared"}}
    ]
    assert "licenses" not in by_name["nolicence"]
    assert "depchain:license-unknown" not in props(by_name["nolicence"])


def _dist(site: Path, name: str, version: str, extra: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}"
        "Project-URL: Source, https://user:s3cret@git.example.com/x/y.git\n\nlong text\n"
    )
    (info / "RECORD").write_text(f"{info.name}/METADATA,,\n{info.name}/RECORD,,\n")


def test_urls_are_redacted_in_external_references(tmp_path: Path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    _dist(site, "leaky", "1.0", "")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    text = cyclonedx.render(depchain.scan(tmp_path / "venv"))
    assert "s3cret" not in text
    leaky = next(c for c in json.loads(text)["components"] if c["name"] == "leaky")
    assert leaky["externalReferences"][0]["type"] == "vcs"
    assert "s3cret" not in leaky["externalReferences"][0]["url"]


def test_the_environment_root_is_named_after_its_project(tmp_path: Path) -> None:
    """The one distribution installed from a local folder (PEP 610) is the project the
    environment was made for: the root takes its name and version; without one, the
    folder's name, and no version."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    _dist(site, "plain", "1.0", "")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    doc = json.loads(cyclonedx.render(depchain.scan(tmp_path / "venv")))
    assert (doc["metadata"]["component"]["name"], doc["metadata"]["component"].get("version")) == (
        "venv",
        None,
    )
    _dist(site, "myproject", "0.3.0", "")
    info = site / "myproject-0.3.0.dist-info"
    (info / "direct_url.json").write_text(
        json.dumps({"url": "file:///src/myproject", "dir_info": {"editable": True}})
    )
    doc = json.loads(cyclonedx.render(depchain.scan(tmp_path / "venv")))
    root = doc["metadata"]["component"]
    assert (root["name"], root["version"], root["purl"]) == (
        "myproject",
        "0.3.0",
        "pkg:generic/myproject@0.3.0",
    )
    assert "local folder" in props(root)["depchain:named-after"]


def test_sbom_options_and_policy(tmp_path: Path, venv: Path) -> None:
    out = tmp_path / "bom.json"
    code = main(
        [
            "sbom",
            str(venv),
            "--no-enrich",
            "--no-audit",
            "--author",
            "Jane Doe",
            "--manufacturer",
            "Example Corp",
            "--component-name",
            "payments-api",
            "--component-version",
            "2.4.1",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    meta = json.loads(out.read_text())["metadata"]
    assert meta["authors"] == [{"name": "Jane Doe"}]
    assert meta["manufacturer"] == {"name": "Example Corp"}
    root = meta["component"]
    assert (root["name"], root["version"]) == ("payments-api", "2.4.1")
    assert root["supplier"] == {"name": "Example Corp"}
    assert root["purl"] == "pkg:generic/payments-api@2.4.1"
    # the same from the policy, for a repository: pre-build
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1.2.3"\nlicense = "MIT"\n'
        'authors = [{name = "A. Author", email = "a@example.com"}]\n'
        'dependencies = ["six==1.17.0"]\n'
        "[project.urls]\nSource = 'https://github.com/example/demo'\n"
        '[tool.depchain]\nsbom-author = "Build team"\nsbom-manufacturer = "Demo Inc"\n'
    )
    assert main(["sbom", str(project), "--no-enrich", "--no-audit", "-o", str(out)]) == 0
    meta = json.loads(out.read_text())["metadata"]
    assert meta["authors"] == [{"name": "Build team"}]
    assert meta["manufacturer"] == {"name": "Demo Inc"}
    assert meta["lifecycles"] == [{"phase": "pre-build"}]
    root = meta["component"]
    assert (root["name"], root["version"]) == ("demo", "1.2.3")
    assert root["licenses"] == [{"license": {"id": "MIT", "acknowledgement": "declared"}}]
    assert root["authors"] == [{"name": "A. Author", "email": "a@example.com"}]
    assert root["externalReferences"] == [
        {"type": "vcs", "url": "https://github.com/example/demo", "comment": "declared as Source"}
    ]
    # the 1.5 document: no manufacturer there (1.6 introduced it), the rest the same
    assert (
        main(
            [
                "sbom",
                str(project),
                "--no-enrich",
                "--no-audit",
                "--spec-version",
                "1.5",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    meta = json.loads(out.read_text())["metadata"]
    assert meta["authors"] == [{"name": "Build team"}] and "manufacturer" not in meta
    assert "tools" in meta and "components" in meta["tools"]


def test_a_wheel_is_a_build_with_its_own_hash(tmp_path: Path) -> None:
    import hashlib
    import zipfile

    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "demo-1.0.dist-info/METADATA",
            "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: mit\n"
            "Author-email: Ann <ann@example.com>\nSummary: A demo\n",
        )
        archive.writestr("demo-1.0.dist-info/RECORD", "")
        archive.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
    doc = json.loads(cyclonedx.render(depchain.scan(wheel)))
    root = doc["metadata"]["component"]
    assert doc["metadata"]["lifecycles"] == [{"phase": "build"}]
    assert root["licenses"] == [{"license": {"id": "MIT", "acknowledgement": "declared"}}]
    assert root["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    ]
    assert root["description"] == "A demo"


def test_a_url_the_library_refuses_is_left_out_not_a_failed_export() -> None:
    """aiohttp declares ``Chat: Matrix Space, https://matrix.to/#/#aio-libs-space:matrix.org``:
    two ``#`` are no URI to the library, and the whole environment's SBOM failed."""
    from depchain.graph import DependencyGraph
    from depchain.model import Component, Evidence, Link
    from depchain.scanner import ScanResult

    g = DependencyGraph()
    ev = Evidence("x/METADATA", 1, "environment")
    odd = "https://matrix.to/#/#aio-libs-space:matrix.org"
    g.add_node(
        Component(
            "pkg:pypi/aiohttp@3.12.0",
            "aiohttp",
            "pypi",
            "3.12.0",
            purl="pkg:pypi/aiohttp@3.12.0",
            evidence=(ev,),
            links=(
                Link("chat", odd, "Matrix Space"),
                Link("vcs", "https://github.com/aio-libs/aiohttp"),
            ),
        )
    )
    result = ScanResult(
        root=Path("."), target=Path("."), graph=g, subject="pkg:pypi/aiohttp@3.12.0"
    )
    cyclonedx.render(result, cyclonedx.Format.XML)  # validated, not refused
    doc = json.loads(cyclonedx.render(result))
    component = doc["metadata"]["component"]  # the subject
    urls = [r["url"] for r in component["externalReferences"]]
    assert urls == ["https://github.com/aio-libs/aiohttp"]
