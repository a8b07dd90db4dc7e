"""A real virtual environment built from the package index: requests, cryptography,
psycopg[binary], lxml, pillow and numpy (issue 13's), with scipy, psycopg2-binary,
grpcio, orjson and pydantic. What depchain says of their native code is checked
against the wheels' own SBOMs, auditwheel's record, readelf, dpkg, and what the
libraries report of themselves when the environment's interpreter imports them (the
test runs them; depchain never does). Marked ``online``: skipped, with the reason,
when the index cannot be reached."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from email.parser import BytesParser
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

import depchain
from depchain.model import Component
from tests.native.conftest import system_owners

PACKAGES = [
    "requests",
    "cryptography",
    "psycopg[binary]",
    "lxml",
    "pillow",
    "numpy",
    "scipy",
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


def _run(venv: Path, code: str) -> str:
    """What the environment's own interpreter prints (the ground truth of a test)."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _file(component: Component) -> str:
    """The file a bundled library is (its name, until it is identified)."""
    return dict(component.properties).get("depchain:file", component.name)


def _bundled(result: depchain.ScanResult, node: str) -> dict[str, Component]:
    g = result.graph
    return {
        _file(g.node(d.target)): g.node(d.target)
        for d in g.dependencies_of(node)
        if d.mechanism == "bundled"
    }


def _sbom(info: Path, name: str) -> dict[str, object] | None:
    path = info / "sboms" / name
    return json.loads(path.read_text()) if path.is_file() else None


def test_every_distribution_is_a_component(venv: Path, scanned: depchain.ScanResult) -> None:
    dists = _dists(venv)
    wanted = {str(canonicalize_name(p.split("[")[0])) for p in PACKAGES}
    assert wanted | {"psycopg-binary"} <= set(dists)
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
        # every library in <name>.libs/ is carried inside the distribution
        needed_libs = {f.name for f in libs}
        assert needed_libs <= set(_bundled(scanned, node)), name
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


def test_every_bundled_library_is_versioned_and_none_is_unresolved(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    for name, (version, _) in sorted(_dists(venv).items()):
        for file_name, component in _bundled(scanned, _node(scanned, name, version)).items():
            props = dict(component.properties)
            # a release, or (numpy's libgfortran, which says none) its ABI version alone
            assert component.version or props.get("depchain:abi-version"), (name, file_name)
            assert props.get("depchain:version-source"), file_name
    # scipy's libquadmath is found through the RPATH of the module that loads libgfortran
    unresolved = [
        c.name for c in scanned.graph.components() if "depchain:unresolved" in dict(c.properties)
    ]
    assert unresolved == []


def test_pillow_libraries_as_its_sbom_and_its_features_say(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    version, info = _dists(venv)["pillow"]
    own = (
        next((p for p in (info / "sboms").glob("pillow*.json")), None)
        if (info / "sboms").is_dir()
        else None
    )
    if own is None:
        pytest.skip(f"pillow {version} carries no SBOM of its own")
    declared = {c["name"]: c for c in json.loads(own.read_text())["components"]}
    bundled = _bundled(scanned, _node(scanned, "pillow", version))
    # Pillow reports the versions of the libraries it was built with
    features = json.loads(
        _run(
            venv,
            "import json; from PIL import features as f; print(json.dumps({k: f.version(k) "
            "for k in ('freetype2', 'libjpeg_turbo', 'libtiff', 'webp')}))",
        )
    )
    expected = {
        "libfreetype-": ("FreeType", features["freetype2"]),
        "libjpeg-": (None, features["libjpeg_turbo"]),
        "libtiff-": ("libtiff", features["libtiff"]),
        "libwebp-": ("libwebp", features["webp"]),
    }
    for prefix, (sbom_name, runtime) in expected.items():
        component = next(c for f, c in bundled.items() if f.startswith(prefix))
        entry = declared.get(sbom_name or component.name)
        assert entry is not None, (prefix, component.name)
        assert (component.name, component.version) == (entry["name"], entry["version"])
        assert component.version == runtime, prefix
        assert dict(component.properties)["depchain:sbom-bom-ref"] == entry["bom-ref"]
        assert component.purl and component.purl.startswith(entry["bom-ref"])
        ids = {
            x["license"]["id"] for x in entry.get("licenses", []) if "id" in x.get("license", {})
        }
        assert (
            component.license is not None
            and (
                {component.license.expression}
                if component.license.expression
                else set(component.license.ids)
            )
            == ids
        )
        assert dict(component.properties).get("depchain:cpe", "").startswith("cpe:2.3:a:")


def test_auditwheels_os_packages_are_the_files_they_produced(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    checked = 0
    for name in ("pillow", "psycopg2-binary", "psycopg-binary"):
        version, info = _dists(venv)[name]
        sbom = _sbom(info, "auditwheel.cdx.json")
        if sbom is None:
            continue
        bundled = _bundled(scanned, _node(scanned, name, version))
        for entry in sbom["components"][1:]:  # type: ignore[index]
            # auditwheel's bom-ref: the package's purl, '#', sha256 of the copied path
            digest = entry["bom-ref"].split("#")[1]
            tied = [
                f
                for f in bundled
                for folder in ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
                if hashlib.sha256(
                    f"{folder}/{f.split('-')[0]}.{f.split('.', 1)[1]}".encode()
                ).hexdigest()
                == digest
            ]
            for file_name in tied:
                assert bundled[file_name].purl == entry["purl"], (name, file_name)
                assert bundled[file_name].version == entry["version"]
                checked += 1
    if not checked:
        pytest.skip("no auditwheel SBOM ties a package to a bundled file here")
    pillow = _bundled(scanned, _node(scanned, "pillow", _dists(venv)["pillow"][0]))
    xau = next((c for f, c in pillow.items() if f.startswith("libXau-")), None)
    if xau is not None:
        assert xau.purl and xau.purl.startswith("pkg:rpm/")


def test_psycopg_binary_krb5_com_err_is_krb5s_own(venv: Path, scanned: depchain.ScanResult) -> None:
    version, _ = _dists(venv)["psycopg-binary"]
    bundled = _bundled(scanned, _node(scanned, "psycopg-binary", version))
    com_err = [c for f, c in bundled.items() if f.startswith("libcom_err-") and ".so.3" in f]
    if not com_err:
        pytest.skip(f"psycopg-binary {version} bundles no libcom_err.so.3")
    for component in com_err:
        props = dict(component.properties)
        assert props["depchain:upstream"].startswith("pkg:generic/krb5")
        assert not (component.purl or "").startswith("pkg:rpm/")  # not e2fsprogs' package
    krb5 = {
        dict(c.properties).get("depchain:upstream")
        for f, c in bundled.items()
        if f.startswith(("libkrb5-", "libk5crypto-", "libgssapi_krb5-", "libkrb5support-"))
    }
    assert len(krb5) == 1 and "@" in next(iter(krb5))  # one krb5 build, with its release


def test_libpq_openssl_and_openblas_as_they_report(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    dists = _dists(venv)
    number = int(_run(venv, "import psycopg; print(psycopg.pq.version())"))
    expected = f"{number // 10000}.{number % 10000}"
    libpq = next(
        c
        for f, c in _bundled(
            scanned, _node(scanned, "psycopg-binary", dists["psycopg-binary"][0])
        ).items()
        if f.startswith("libpq-")
    )
    assert libpq.version == expected
    numpy = _run(
        venv,
        "import numpy, json; c = numpy.show_config(mode='dicts'); "
        "print(c['Build Dependencies']['blas']['version'])",
    )
    blas = next(
        c
        for f, c in _bundled(scanned, _node(scanned, "numpy", dists["numpy"][0])).items()
        if "openblas" in f
    )
    assert blas.version and numpy.startswith(blas.version)


def test_statically_linked_libraries_found_by_their_version_strings(
    venv: Path, scanned: depchain.ScanResult
) -> None:
    dists = _dists(venv)
    g = scanned.graph
    # cryptography: OpenSSL, as cryptography reports it, in its own SBOM and its module
    text = _run(
        venv,
        "from cryptography.hazmat.backends.openssl import backend; "
        "print(backend.openssl_version_text())",
    )
    node = _node(scanned, "cryptography", dists["cryptography"][0])
    openssl = [
        g.node(d.target)
        for d in g.dependencies_of(node)
        if dict(g.node(d.target).properties)
        .get("depchain:upstream", "")
        .startswith("pkg:generic/openssl@")
    ]
    assert openssl and all(c.version == text.split()[1] for c in openssl)
    assert any(
        text in dict(c.properties).get("depchain:version-string", "") for c in openssl
    ) or any(dict(c.properties).get("depchain:version-evidence") == text for c in openssl)
    # lxml: libxml2 and libxslt, static components of their own
    versions = _run(
        venv,
        "import lxml.etree as e; print('.'.join(map(str, e.LIBXML_COMPILED_VERSION)), "
        "'.'.join(map(str, e.LIBXSLT_COMPILED_VERSION)))",
    ).split()
    lxml = _node(scanned, "lxml", dists["lxml"][0])
    static = {
        g.node(d.target).name: g.node(d.target).version
        for d in g.dependencies_of(lxml)
        if (d.kind.value, d.mechanism) == ("static", "version-string")
    }
    assert static["libxml2"] == versions[0] and static["libxslt"] == versions[1]
    # grpcio: BoringSSL, which has no releases
    grpc = _node(scanned, "grpcio", dists["grpcio"][0])
    assert "pkg:generic/boringssl" in {d.target for d in g.dependencies_of(grpc)}


def test_several_tls_stacks_are_a_finding(venv: Path, scanned: depchain.ScanResult) -> None:
    tls = [f for f in scanned.findings if f.id == "DC026" and "TLS libraries" in f.message]
    assert tls and all(f.severity == "medium" and f.evidence for f in tls)
    assert any("BoringSSL" in f.message for f in tls)


def test_cryptography_pep770_crates_and_openssl(venv: Path, scanned: depchain.ScanResult) -> None:
    version, info = _dists(venv)["cryptography"]
    sboms = sorted((info / "sboms").glob("*.json"))
    if not sboms:
        pytest.skip(f"cryptography {version} carries no PEP 770 SBOM")
    declared, excluded = set(), set()
    for sbom in sboms:
        stack = list(json.loads(sbom.read_text()).get("components", []))
        while stack:
            item = stack.pop()
            if item.get("purl"):
                declared.add(item["purl"].split("#")[0])
                if item.get("scope") == "excluded":  # build-dependencies: not shipped
                    excluded.add(item["purl"].split("#")[0])
            stack.extend(item.get("components", []))
    node = _node(scanned, "cryptography", version)
    edges = {
        d.target: d.kind.value
        for d in scanned.graph.dependencies_of(node)
        if d.mechanism == "pep770"
    }
    assert declared <= set(edges)
    assert all(edges[p] == ("build" if p in excluded else "static") for p in declared)
    assert any(t.startswith("pkg:cargo/openssl-sys@") for t in edges)
    crate = scanned.graph.node(next(t for t in edges if t.startswith("pkg:cargo/openssl@")))
    assert "depchain:cpe" not in dict(crate.properties)  # a Rust crate, not OpenSSL
