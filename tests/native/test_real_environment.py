"""The environment these tests run in is a real one, full of real native wheels (lxml,
mypy's compiled modules, rpds-py, uv's binary with cargo-auditable data...). Each
fact depchain reports about it is checked against readelf, ldconfig, dpkg and objcopy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zlib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

import depchain
from depchain.native.analysis import is_binary_candidate
from tests.native.conftest import system_owners


@pytest.fixture(scope="module")
def environment() -> depchain.ScanResult:
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests are not running in a virtual environment")
    return depchain.scan(Path(sys.prefix))


def _dist_files(dist: metadata.Distribution) -> list[Path]:
    return [Path(str(dist.locate_file(f))) for f in dist.files or []]


def test_every_installed_distribution_is_a_component(environment: depchain.ScanResult) -> None:
    installed = {
        (str(canonicalize_name(d.metadata["Name"])), d.version)
        for d in metadata.distributions(path=[p for p in sys.path if "site-packages" in p])
    }
    found = {
        (str(canonicalize_name(c.name)), c.version)
        for c in environment.graph.components()
        if c.ecosystem == "pypi" and c.version
    }
    assert installed <= found
    assert not environment.errors, environment.errors[:5]


def test_system_libraries_agree_with_readelf_and_dpkg(environment: depchain.ScanResult) -> None:
    if shutil.which("dpkg") is None:
        pytest.skip("not a dpkg-based system")
    g = environment.graph
    checked = 0
    for dist in metadata.distributions(path=[p for p in sys.path if "site-packages" in p]):
        files = [
            p
            for p in _dist_files(dist)
            if is_binary_candidate(str(p)) and p.is_file() and p.read_bytes()[:4] == b"\x7fELF"
        ]
        if not files:
            continue
        bundled = {p.name for p in files if p.parent.name.endswith(".libs")}
        truth = system_owners(files, bundled)
        node = next(
            c
            for c in g.components()
            if c.ecosystem == "pypi"
            and c.version == dist.version
            and canonicalize_name(c.name) == canonicalize_name(dist.metadata["Name"])
        )
        reached = {node.id} | {
            d.target for d in g.dependencies_of(node.id) if d.mechanism == "bundled"
        }
        found = {
            g.node(d.target).name
            for r in reached
            for d in g.dependencies_of(r)
            if d.mechanism == "elf" and g.node(d.target).id.startswith("pkg:deb/")
        }
        assert found == truth, dist.metadata["Name"]
        checked += 1
    assert checked >= 3  # lxml, mypy, rpds-py, charset-normalizer, ... at least


def test_cargo_auditable_data_matches_the_section(
    environment: depchain.ScanResult, tmp_path: Path
) -> None:
    uv = shutil.which("uv", path=str(Path(sys.prefix) / "bin"))
    if uv is None or shutil.which("objcopy") is None:
        pytest.skip("uv (a test dependency) or objcopy is not installed")
    section = tmp_path / "dep-v0"
    out = subprocess.run(
        ["objcopy", "--dump-section", f".dep-v0={section}", uv, str(tmp_path / "copy")],
        capture_output=True,
        check=False,
    )
    if out.returncode != 0 or not section.exists():
        pytest.skip("this uv binary has no .dep-v0 section")
    packages = json.loads(zlib.decompress(section.read_bytes()))["packages"]
    truth = {(p["name"], p["version"]) for p in packages if p.get("kind") != "build"}
    build = {(p["name"], p["version"]) for p in packages if p.get("kind") == "build"}
    g = environment.graph
    uv_node = next(c for c in g.components() if c.ecosystem == "pypi" and c.name == "uv")
    static = {
        (g.node(d.target).name, g.node(d.target).version)
        for d in g.dependencies_of(uv_node.id)
        if d.mechanism == "auditable"
    }  # type: ignore[union-attr]
    build_edges = {
        (g.node(d.target).name, g.node(d.target).version)
        for d in g.dependencies_of(uv_node.id)
        if d.mechanism == "auditable" and d.kind.value == "build"
    }  # type: ignore[union-attr]
    assert truth <= static and build == build_edges
    assert all(
        g.node(d.target).id.startswith("pkg:cargo/")
        for d in g.dependencies_of(uv_node.id)
        if d.mechanism == "auditable"
    )


def test_pep770_sbom_components_are_static_dependencies(environment: depchain.ScanResult) -> None:
    dist = next(
        (
            d
            for d in metadata.distributions(path=[p for p in sys.path if "site-packages" in p])
            if any("/sboms/" in str(f) for f in d.files or [])
        ),
        None,
    )
    if dist is None:
        pytest.skip("no installed distribution carries a PEP 770 SBOM")
    declared: set[str] = set()
    excluded: set[str] = set()  # not shipped (cargo-cyclonedx: build-dependencies)
    for f in dist.files or []:
        if "/sboms/" in str(f) and str(f).endswith(".json"):
            doc = json.loads(Path(str(dist.locate_file(f))).read_text())
            stack = list(doc.get("components", []))
            while stack:
                item = stack.pop()
                if item.get("purl"):
                    declared.add(item["purl"].split("#")[0])
                    if item.get("scope") == "excluded":
                        excluded.add(item["purl"].split("#")[0])
                stack.extend(item.get("components", []))
    g = environment.graph
    node = next(
        c
        for c in g.components()
        if c.ecosystem == "pypi"
        and c.version == dist.version
        and canonicalize_name(c.name) == canonicalize_name(dist.metadata["Name"])
    )
    found = {d.target for d in g.dependencies_of(node.id) if d.mechanism == "pep770"}
    assert declared and declared <= found
    assert all(
        d.kind.value == ("build" if d.target in excluded else "static")
        for d in g.dependencies_of(node.id)
        if d.mechanism == "pep770"
    )
