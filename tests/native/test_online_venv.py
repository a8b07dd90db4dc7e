"""A real virtual environment built from the package index: numpy, scipy, pillow,
lxml, cryptography, psycopg2-binary, grpcio, orjson and pydantic. Marked ``online``:
skipped, with the reason, when the index cannot be reached."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from email.parser import BytesParser
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

import depchain
from tests.native.conftest import system_owners

PACKAGES = [
    "numpy",
    "scipy",
    "pillow",
    "lxml",
    "cryptography",
    "psycopg2-binary",
    "grpcio",
    "orjson",
    "pydantic",
]

pytestmark = pytest.mark.online


def _index_reachable() -> str | None:
    import requests

    try:
        requests.get("https://pypi.org/pypi/pip/json", timeout=10).raise_for_status()
    except requests.RequestException as exc:
        return f"the package index is unreachable ({type(exc).__name__})"
    return None


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _index_reachable()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("native") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    done = subprocess.run(
        [
            str(folder / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--only-binary",
            ":all:",
            *PACKAGES,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        pytest.skip(f"pip install from the index failed: {done.stderr.strip()[-300:]}")
    return folder


@pytest.fixture(scope="module")
def scanned(venv: Path) -> depchain.ScanResult:
    return depchain.scan(venv)


def _dists(venv: Path) -> dict[str, tuple[str, Path]]:
    """name → (version, dist-info folder), read straight from the files."""
    out = {}
    for info in venv.glob("lib/python*/site-packages/*.dist-info"):
        meta = BytesParser().parsebytes((info / "METADATA").read_bytes(), headersonly=True)
        out[str(canonicalize_name(meta["Name"]))] = (meta["Version"], info)
    return out


def _node(result: depchain.ScanResult, name: str, version: str) -> str:
    return next(
        c.id
        for c in result.graph.components()
        if c.ecosystem == "pypi" and canonicalize_name(c.name) == name and c.version == version
    )


def test_every_distribution_is_a_component(venv: Path, scanned: depchain.ScanResult) -> None:
    dists = _dists(venv)
    assert set(PACKAGES) <= set(dists)
    for name, (version, _) in dists.items():
        _node(scanned, name, version)
    assert not scanned.errors, scanned.errors


def test_bundled_libraries_are_static_and_system_ones_dynamic(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    if shutil.which("dpkg") is None:
        pytest.skip("not a dpkg-based system")
    g = scanned.graph
    site = next(venv.glob("lib/python*/site-packages"))
    checked = 0
    for name, (version, info) in sorted(_dists(venv).items()):
        with open(info / "RECORD", newline="") as handle:
            files = [site / row[0] for row in csv.reader(handle) if row]
        libs = [f for f in files if f.parent.name.endswith(".libs") and ".so" in f.name]
        elf = [
            f for f in files if f.is_file() and ".so" in f.name and f.read_bytes()[:4] == b"\x7fELF"
        ]
        if not elf:
            continue
        node = _node(scanned, name, version)
        static = {
            g.node(d.target).name
            for d in g.dependencies_of(node)
            if (d.kind.value, d.mechanism) == ("static", "bundled")
        }
        # every library in <name>.libs/ is carried inside the distribution
        needed_libs = {f.name for f in libs}
        assert needed_libs <= static, name
        reached = {node} | {d.target for d in g.dependencies_of(node) if d.mechanism == "bundled"}
        found = {
            g.node(d.target).name
            for r in reached
            for d in g.dependencies_of(r)
            if d.mechanism == "elf" and d.target.startswith("pkg:deb/")
        }
        assert found == system_owners(elf, needed_libs), name
        checked += 1
    assert checked >= 8


def test_cryptography_pep770_crates_and_openssl(venv: Path, scanned: depchain.ScanResult) -> None:
    version, info = _dists(venv)["cryptography"]
    sboms = sorted((info / "sboms").glob("*.json"))
    if not sboms:
        pytest.skip(f"cryptography {version} carries no PEP 770 SBOM")
    declared = set()
    for sbom in sboms:
        stack = list(json.loads(sbom.read_text()).get("components", []))
        while stack:
            item = stack.pop()
            if item.get("purl"):
                declared.add(item["purl"].split("#")[0])
            stack.extend(item.get("components", []))
    node = _node(scanned, "cryptography", version)
    static = {
        d.target
        for d in scanned.graph.dependencies_of(node)
        if (d.kind.value, d.mechanism) == ("static", "pep770")
    }
    assert declared <= static
    assert any(t.startswith("pkg:cargo/openssl-sys@") for t in static)
    assert any(
        t.startswith("pkg:generic/openssl@") or t.startswith("pkg:cargo/openssl@") for t in static
    )


def test_auditwheel_sbom_packages_land_on_the_bundled_files(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    version, info = _dists(venv)["psycopg2-binary"]
    sbom = info / "sboms" / "auditwheel.cdx.json"
    if not sbom.exists():
        pytest.skip(f"psycopg2-binary {version} carries no auditwheel SBOM")
    declared = {
        c["purl"]
        for c in json.loads(sbom.read_text())["components"]
        if not c["purl"].startswith("pkg:pypi/")
    }
    g = scanned.graph
    node = _node(scanned, "psycopg2-binary", version)
    attached: set[str] = set()
    for d in g.dependencies_of(node):
        if d.mechanism == "bundled":
            attached |= {v for k, v in g.node(d.target).properties if k == "depchain:provided-by"}
    as_edges = {d.target for d in g.dependencies_of(node) if d.mechanism == "pep770"}
    assert declared == attached | as_edges  # each declared package, once, nothing invented
    assert not attached & as_edges
    krb5 = next(p for p in declared if "/krb5-libs@" in p)
    providers = [
        g.node(d.target).name
        for d in g.dependencies_of(node)
        if d.mechanism == "bundled"
        and ("depchain:provided-by", krb5) in g.node(d.target).properties
    ]
    assert any(name.startswith("libkrb5-") for name in providers)
