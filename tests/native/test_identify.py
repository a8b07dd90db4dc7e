"""Native code identified, not just located: what real binaries say of the libraries
they are or carry, checked against what the libraries themselves report at run time
(Python's ssl, sqlite3 and zlib modules, lxml, cryptography) or their Debian packages
(dpkg-query); a library bundled without an RPATH found through the RPATH of the object
that loads it, as ``ldd`` finds it; Debian ``copyright`` files as SPDX expressions."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import ssl
import subprocess
import zlib
from pathlib import Path

import pytest

import depchain
from depchain.model import Component
from depchain.native import cache as native_cache
from depchain.native import identify, marks
from depchain.native.cache import NativeCache
from depchain.native.debian import copyright_license, expression, spdx_id
from depchain.native.elf import read_binary
from depchain.native.libraries import by_file, by_name, cpe, file_parts, release_from_file
from depchain.native.loader import host_loader, loader_folders
from tests.native.conftest import compile_c, record_line


def _marks(path: Path) -> dict[str, set[str | None]]:
    with open(path, "rb") as handle:
        info = read_binary(handle).info
    assert info is not None, path
    found: dict[str, set[str | None]] = {}
    for mark in info.marks:
        found.setdefault(mark.library, set()).add(mark.version)
    return found


def _system(name: str) -> Path:
    found = host_loader().find(name, "EM_X86_64", 64)
    if found is None:
        pytest.skip(f"{name} is not on this system")
    return found


def _dpkg_version(package: str) -> str:
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a dpkg-based system")
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"{package} is not installed")
    return identify.distro_release(done.stdout) or "?"


# -- what real binaries say --------------------------------------------------------


def test_system_libraries_say_the_versions_python_reports() -> None:
    # Python's own modules load these very files: their run-time version is the truth
    assert _marks(_system("libz.so.1"))["zlib"] == {zlib.ZLIB_RUNTIME_VERSION}
    openssl = ssl.OPENSSL_VERSION.split()[1]  # "OpenSSL 3.0.19 27 Jan 2026"
    assert _marks(_system("libcrypto.so.3"))["openssl"] == {openssl}
    assert _marks(_system("libsqlite3.so.0"))["sqlite"] == {sqlite3.sqlite_version}


def test_system_libraries_say_the_versions_their_packages_have() -> None:
    assert _marks(_system("libxml2.so.2"))["libxml2"] == {None, _dpkg_version("libxml2")}
    assert _marks(_system("libxslt.so.1"))["libxslt"] == {_dpkg_version("libxslt1.1")}
    assert _marks(_system("libcurl.so.4"))["curl"] == {_dpkg_version("libcurl4")}
    # PQlibVersion() returns PG_VERSION_NUM: read from its machine code, not run
    assert _marks(_system("libpq.so.5"))["postgresql"] == {_dpkg_version("libpq5")}


def test_a_library_that_says_nothing_is_not_given_a_version() -> None:
    # Debian's libffi 3.4.4 holds no version string and no ffi_get_version()
    assert "libffi" not in _marks(_system("libffi.so.8"))
    assert not _marks(_system("libssl.so.3"))  # libssl: its version is libcrypto's


def test_lxml_carries_the_libxml2_and_libxslt_it_reports() -> None:
    etree = pytest.importorskip("lxml.etree")
    found = _marks(Path(etree.__file__))
    dotted = ".".join(map(str, etree.LIBXML_COMPILED_VERSION))
    assert dotted in found["libxml2"]  # xmlParserVersion, a pointer to "21406"
    assert found["libxslt"] == {".".join(map(str, etree.LIBXSLT_COMPILED_VERSION))}
    assert len(found["zlib"]) == 1 and None not in found["zlib"]


def test_cryptography_carries_the_openssl_it_reports() -> None:
    backend = pytest.importorskip("cryptography.hazmat.backends.openssl").backend
    rust = Path(pytest.importorskip("cryptography.hazmat.bindings._rust").__file__)
    version = backend.openssl_version_text().split()[1]
    assert _marks(rust)["openssl"] == {version}


def test_marks_are_cached_with_the_file(tmp_path: Path) -> None:
    source = _system("libcrypto.so.3")
    with open(source, "rb") as handle:
        reading = read_binary(handle)
    assert reading.info is not None and reading.info.marks
    cache = NativeCache(tmp_path)
    st = source.stat()
    native_cache.RACY_SECONDS, racy = 0.0, native_cache.RACY_SECONDS
    try:
        cache.store("/root", str(source), st, reading)
        cache.save()
    finally:
        native_cache.RACY_SECONDS = racy
    again = NativeCache(tmp_path).reading("/root", str(source))
    assert again == reading
    row = json.loads(native_cache.shard_path(tmp_path, "files", "/root").read_text())
    assert row["format"] == "depchain-native-cache/2"


def test_bounded_scans_and_anchors() -> None:
    # a version string past the read bound is not seen; one at the start of a window is
    data = b"\0" * 100 + b"OpenSSL 3.1.4 24 Oct 2023\0" + b"\0" * 100
    assert [(m.library, m.version) for m in marks.scan_strings(data)] == [("openssl", "3.1.4")]
    assert marks.scan_strings(b"OpenSSL 3's legacy provider failed to load\0") == []
    repeated = b"OpenSSL error\0" * 10_000 + b"OpenSSL 3.0.1 14 Dec 2021\0"
    assert marks.scan_strings(repeated) == []  # past MAX_HITS places of one anchor


# -- names, files and identifiers ----------------------------------------------------


def test_file_names_and_library_names() -> None:
    assert file_parts("libgfortran-040039e1-0352e75f.so.5.0.0") == ("gfortran", "5.0.0")
    assert file_parts("libscipy_openblas64_-32a4b2a6.so") == ("scipy_openblas64_", None)
    assert by_file("libscipy_openblas64_-32a4b2a6.so").key == "openblas"  # type: ignore[union-attr]
    # krb5's own com_err is .so.3; e2fsprogs' .so.2
    assert by_file("libcom_err-55c5739a.so.3.0").key == "krb5"  # type: ignore[union-attr]
    assert by_file("libcom_err-2abe824b.so.2.1").key == "e2fsprogs"  # type: ignore[union-attr]
    assert by_name("libjpeg / libjpeg-turbo").key == "libjpeg-turbo"  # type: ignore[union-attr]
    assert by_name("krb5-libs").key == "krb5"  # type: ignore[union-attr]
    assert by_name("cyrus-sasl-lib").key == "cyrus-sasl"  # type: ignore[union-attr]
    png = by_name("libpng")
    assert png is not None and release_from_file(png, "libpng16-1d1ba958.so.16.58.0") == "1.6.58"
    openssl = by_name("OpenSSL")
    assert openssl is not None and cpe(openssl, "3.2.1") == (
        "cpe:2.3:a:openssl:openssl:3.2.1:*:*:*:*:*:*:*"
    )
    assert release_from_file(openssl, "libcrypto.so.3") is None  # no release in its name
    assert identify.distro_release("1:1.2.13.dfsg-1") == "1.2.13"
    assert identify.distro_release("1.15.1-55.el7_9") == "1.15.1"


def test_a_rust_crate_named_like_a_library_is_not_that_library() -> None:
    from depchain.native.sbom770 import Declared

    crate = Declared("openssl", "0.10.81", "pkg:cargo/openssl@0.10.81", None)
    assert identify.library_of(crate) is None
    upstream = Declared(
        "FreeType", "2.14.3", "pkg:generic/freetype2@2.14.3", "pkg:generic/freetype2"
    )
    assert identify.library_of(upstream).key == "freetype"  # type: ignore[union-attr]


# -- Debian copyright files ----------------------------------------------------------


def test_debian_copyright_files_as_spdx() -> None:
    if not Path("/usr/share/doc/zlib1g/copyright").is_file():
        pytest.skip("no Debian copyright files here")
    assert copyright_license(Path("/"), "zlib1g") == "Zlib"
    assert copyright_license(Path("/"), "libssl3") == "Apache-2.0"
    # glibc's is free text, not the machine-readable format: nothing is claimed
    assert copyright_license(Path("/"), "libc6") is None
    assert copyright_license(Path("/"), "../../etc") is None


@pytest.mark.parametrize(
    ("written", "spdx"),
    [
        ("GPL-2+", "GPL-2.0-or-later"),
        ("LGPL-2.1", "LGPL-2.1-only"),
        ("Expat", "MIT"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("public-domain", "LicenseRef-public-domain"),
        ("Artistic or GPL-1+", "Artistic-1.0 OR GPL-1.0-or-later"),
        ("PostgreSQL and Custom-regex and Tcl", "PostgreSQL AND LicenseRef-Custom-regex AND TCL"),
        (
            "GPL-2+ or Artistic, and BSD-3-clause",
            "(GPL-2.0-or-later OR Artistic-1.0) AND BSD-3-Clause",
        ),
    ],
)
def test_debian_license_lines(written: str, spdx: str) -> None:
    # the lines as Debian's copyright files write them (libssl3, libpq5, the DEP-5 text)
    assert expression(written) == spdx
    assert spdx_id("GPL-3") == "GPL-3.0-only"


# -- the loader's RPATH chain --------------------------------------------------------


def _ldd(path: Path) -> dict[str, str]:
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
    return {
        line.split("=>")[0].strip(): line.split("=>")[1].split("(")[0].strip()
        for line in out.splitlines()
        if "=>" in line
    }


def _chain(tmp_path: Path, tag: str) -> Path:
    """mypkg: _ext.so (``-Wl,{tag}`` $ORIGIN/../mypkg.libs) needs libouter.so.1, which
    has no RPATH or RUNPATH of its own and needs libinner.so.1 beside it."""
    work = tmp_path / "build"
    work.mkdir()
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "mypkg").mkdir(parents=True)
    libs = site / "mypkg.libs"
    libs.mkdir()
    inner = compile_c(
        work,
        "libinner.so.1",
        "int inner(void) { return 1; }\n",
        "-shared",
        "-Wl,-soname,libinner.so.1",
    )
    outer = compile_c(
        work,
        "libouter.so.1",
        "int inner(void); int outer(void) { return inner(); }\n",
        "-shared",
        "-Wl,-soname,libouter.so.1",
        str(inner),
    )
    ext = compile_c(
        work,
        "_ext.so",
        "int outer(void); int f(void) { return outer(); }\n",
        "-shared",
        str(outer),
        f"-Wl,{tag},-rpath,$ORIGIN/../mypkg.libs",
    )
    shutil.copy(inner, libs / "libinner.so.1")
    shutil.copy(outer, libs / "libouter.so.1")
    shutil.copy(ext, site / "mypkg" / "_ext.so")
    info = site / "mypkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 1.0\n")
    files = [
        "mypkg/_ext.so",
        "mypkg.libs/libouter.so.1",
        "mypkg.libs/libinner.so.1",
        "mypkg-1.0.dist-info/METADATA",
    ]
    lines = [record_line(site, f) for f in files] + ["mypkg-1.0.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    (site.parents[2] / "pyvenv.cfg").write_text("version = 3.11.7\n")
    return site


def test_a_library_without_rpath_finds_its_neighbour_through_its_loaders_rpath(
    tmp_path: Path,
) -> None:
    site = _chain(tmp_path, "--disable-new-dtags")  # DT_RPATH: searched for what it loads
    assert Path(_ldd(site / "mypkg" / "_ext.so")["libinner.so.1"]).samefile(
        site / "mypkg.libs" / "libinner.so.1"
    )
    result = depchain.scan(site.parents[2])
    unresolved = [
        c.name for c in result.graph.components() if "depchain:unresolved" in dict(c.properties)
    ]
    assert unresolved == []
    bundled = {
        dict(result.graph.node(d.target).properties).get(
            "depchain:file", result.graph.node(d.target).name
        )
        for d in result.graph.dependencies_of("pkg:pypi/mypkg@1.0")
        if d.mechanism == "bundled"
    }
    assert bundled == {"libouter.so.1", "libinner.so.1"}


def test_a_runpath_is_not_searched_for_what_the_library_loads(tmp_path: Path) -> None:
    site = _chain(tmp_path, "--enable-new-dtags")  # DT_RUNPATH: the object's own only
    assert _ldd(site / "mypkg" / "_ext.so")["libinner.so.1"] == "not found"
    result = depchain.scan(site.parents[2])
    unresolved = {
        c.name for c in result.graph.components() if "depchain:unresolved" in dict(c.properties)
    }
    assert unresolved == {"libinner.so.1"}


def test_loader_folders_in_glibcs_order() -> None:
    chain = ((("$ORIGIN/../a.libs",), (), "pkg/sub"), (("/opt/x",), ("/ignored",), "pkg"))
    assert loader_folders((), (), "pkg.libs", chain) == ["pkg/a.libs"]
    assert loader_folders(("$ORIGIN",), (), "pkg.libs", chain) == ["pkg.libs", "pkg/a.libs"]
    assert loader_folders(("$ORIGIN",), ("r",), "x", chain) == ["r"]  # RUNPATH: own only


# -- the benchmark environment (188 real distributions), where it is built -----------

BENCH = Path(__file__).resolve().parents[3] / "bench-env"


@pytest.fixture(scope="module")
def bench() -> depchain.ScanResult:
    if not (BENCH / "pyvenv.cfg").is_file():
        pytest.skip(f"the benchmark environment is not built at {BENCH}")
    from depchain.scanner import VulnOptions

    return depchain.scan(BENCH, vulns=VulnOptions(enabled=False))


def _bundled_in(result: depchain.ScanResult, dist: str) -> dict[str, Component]:
    g = result.graph
    node = next(c.id for c in g.components() if c.ecosystem == "pypi" and c.name == dist)
    return {
        dict(g.node(d.target).properties).get("depchain:file", g.node(d.target).name): g.node(
            d.target
        )
        for d in g.dependencies_of(node)
        if d.mechanism == "bundled"
    }


def test_bench_every_bundled_library_is_versioned(bench: depchain.ScanResult) -> None:
    g = bench.graph
    bundled = {d.target for d in g.dependencies() if d.mechanism == "bundled"}
    props = {t: dict(g.node(t).properties) for t in bundled}
    # by a release, or (numpy's libquadmath, which says none) by its ABI version alone
    assert bundled and all(g.node(t).version or "depchain:abi-version" in props[t] for t in bundled)
    assert all(
        props[t]["depchain:version-source"] != "abi-version" or g.node(t).version is None
        for t in bundled
    )
    unresolved = [c.name for c in g.components() if "depchain:unresolved" in dict(c.properties)]
    assert unresolved == []  # scipy's libquadmath: through __odrpack's RPATH


def test_bench_auditwheel_packages_on_the_files_they_produced(bench: depchain.ScanResult) -> None:
    pillow = _bundled_in(bench, "pillow")
    xau = next(c for f, c in pillow.items() if f.startswith("libXau-"))
    sbom = json.loads(
        next(
            BENCH.glob("lib/python*/site-packages/pillow-*.dist-info/sboms/auditwheel.cdx.json")
        ).read_text()
    )
    assert xau.purl == next(c["purl"] for c in sbom["components"] if c["name"] == "libXau")
    psycopg2 = _bundled_in(bench, "psycopg2-binary")
    purls = {f.split("-")[0]: c.purl for f, c in psycopg2.items()}
    assert (purls["libk5crypto"] or "").startswith("pkg:rpm/centos/krb5-libs@")
    assert (purls["libsasl2"] or "").startswith("pkg:rpm/centos/cyrus-sasl-lib@")
    psycopg = _bundled_in(bench, "psycopg-binary")
    krb5_com_err = next(
        c for f, c in psycopg.items() if f.startswith("libcom_err-") and ".so.3" in f
    )
    assert not (krb5_com_err.purl or "").startswith("pkg:rpm/")  # not e2fsprogs' libcom_err
    krb5 = next(c for f, c in psycopg.items() if f.startswith("libkrb5-"))
    assert (
        dict(krb5_com_err.properties)["depchain:upstream"]
        == dict(krb5.properties)["depchain:upstream"]
    )


def test_bench_several_tls_stacks(bench: depchain.ScanResult) -> None:
    tls = [f for f in bench.findings if f.id == "DC026" and "TLS libraries" in f.message]
    assert any(f.message.startswith("BoringSSL (version not recorded) (grpcio ") for f in tls)
    openssl = {f.message.split(" (")[0] for f in tls if f.message.startswith("OpenSSL ")}
    assert len(openssl) >= 3  # cryptography's, psycopg's, psycopg2's, pyarrow's
    assert all(f.severity == "medium" for f in tls)


# -- DC026 on real binaries laid out as distributions -------------------------------


def _dist(site: Path, name: str, files: dict[str, Path]) -> None:
    """Distribution ``name`` 1.0 in ``site`` with ``files`` (path in site → real file)."""
    for rel, source in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, site / rel)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = [record_line(site, f) for f in [*files, f"{name}-1.0.dist-info/METADATA"]]
    (info / "RECORD").write_text("\n".join([*lines, f"{name}-1.0.dist-info/RECORD,,"]) + "\n")


def test_two_tls_stacks_in_one_environment_are_dc026(tmp_path: Path) -> None:
    rust = Path(pytest.importorskip("cryptography.hazmat.bindings._rust").__file__)
    crypto = _system("libcrypto.so.3")
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    # alpha bundles the system's libcrypto (auditwheel's way); beta links OpenSSL in
    _dist(site, "alpha", {"alpha.libs/libcrypto-0123abcd.so.3": crypto})
    _dist(site, "beta", {"beta/_rust.abi3.so": rust})
    _dist(site, "gamma", {"gamma.libs/libcrypto-4567cdef.so.3": crypto})
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    result = depchain.scan(tmp_path / "venv")
    found = [f for f in result.findings if f.id == "DC026"]
    assert {f.severity for f in found} == {"medium"}
    assert len(found) == 2  # one per version: alpha's and gamma's copies are one OpenSSL
    by_version = {ssl.OPENSSL_VERSION.split()[1]: "alpha 1.0, gamma 1.0"}
    for finding in found:
        assert "is one of 2 TLS libraries" in finding.message and finding.evidence
    assert any(by_version[ssl.OPENSSL_VERSION.split()[1]] in f.message for f in found)
    # the same version in several wheels alone is no finding
    (site / "beta-1.0.dist-info" / "RECORD").unlink()
    shutil.rmtree(site / "beta-1.0.dist-info")
    assert not [f for f in depchain.scan(tmp_path / "venv").findings if f.id == "DC026"]


def test_an_abi_version_is_no_release(tmp_path: Path) -> None:
    # numpy 2.4.6's libquadmath-96973f99-934c22de.so.0.0.0 and libgfortran-...so.5.0.0
    # say no GCC release (no .comment, a bare .gnu_debuglink): 0.0.0 and 5.0.0 are ABI
    # versions, not libquadmath 0.0.0 or GCC 5.0.0; likewise an unknown library's
    work = tmp_path / "build"
    work.mkdir()
    quad = compile_c(
        work,
        "libquadmath.so.0.0.0",
        "int quad(void) { return 1; }\n",
        "-shared",
        "-Wl,-soname,libquadmath-0123abcd.so.0.0.0",
    )
    other = compile_c(work, "libthing.so.5.2.5", "int thing(void) { return 2; }\n", "-shared")
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy (binutils) is not installed")
    for built in (quad, other):  # as numpy's: no .comment naming the compiler
        subprocess.run(["objcopy", "--remove-section", ".comment", str(built)], check=True)
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    _dist(
        site,
        "alpha",
        {
            "alpha.libs/libquadmath-0123abcd.so.0.0.0": quad,
            "alpha.libs/libthing-4567cdef.so.5.2.5": other,
        },
    )
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    found = _bundled_in(depchain.scan(tmp_path / "venv"), "alpha")
    quadmath = found["libquadmath-0123abcd.so.0.0.0"]
    props = dict(quadmath.properties)
    assert quadmath.version is None and quadmath.name == "libquadmath (GCC)"
    assert props["depchain:abi-version"] == "0.0.0"
    assert props["depchain:version-source"] == "abi-version"
    assert "depchain:cpe" not in props and props["depchain:upstream"] == "pkg:generic/libquadmath"
    thing = found["libthing-4567cdef.so.5.2.5"]
    assert thing.version is None
    assert dict(thing.properties)["depchain:abi-version"] == "5.2.5"


def test_different_files_of_one_name_are_different_components(tmp_path: Path) -> None:
    # psycopg2-binary's and psycopg-binary's libsasl2-84219a89.so.3.0.0: one origin,
    # patched apart by auditwheel; they were one component with two SHA-256 digests
    work = tmp_path / "build"
    work.mkdir()
    one = compile_c(work, "one.so", "int sasl(void) { return 1; }\n", "-shared")
    two = compile_c(work, "two.so", "int sasl(void) { return 2; }\n", "-shared")
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    name = "libsasl2-84219a89.so.3.0.0"
    _dist(site, "alpha", {f"alpha.libs/{name}": one})
    _dist(site, "beta", {f"beta.libs/{name}": two})
    _dist(site, "gamma", {f"gamma.libs/{name}": one})  # the same file as alpha's
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    result = depchain.scan(tmp_path / "venv")
    found = {d: _bundled_in(result, d)[name] for d in ("alpha", "beta", "gamma")}
    for dist, source in (("alpha", one), ("beta", two), ("gamma", one)):
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        assert [(h.algorithm, h.value) for h in found[dist].hashes] == [("sha256", digest)]
    assert found["alpha"].id == found["gamma"].id != found["beta"].id
    assert {e.path.split("/")[-2] for e in found["alpha"].evidence} == {"alpha.libs", "gamma.libs"}


def test_a_version_string_of_a_library_linked_dynamically_is_no_static_copy(
    tmp_path: Path,
) -> None:
    # Debian's python3-cryptography 38.0.4: _openssl.abi3.so holds the headers'
    # "OpenSSL 3.0.14 4 Jun 2024" and needs libcrypto.so.3 (libssl3 3.0.19); it was a
    # static OpenSSL 3.0.14 with that version's CPE
    crypto = _system("libcrypto.so.3")
    work = tmp_path / "build"
    work.mkdir()
    text = 'const char *v(void) { return "OpenSSL 3.0.14 4 Jun 2024"; }\n'
    linked = compile_c(work, "_linked.so", text, "-shared", "-Wl,--no-as-needed", str(crypto))
    alone = compile_c(work, "_alone.so", text, "-shared")
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    _dist(site, "alpha", {"alpha/_linked.so": linked})
    _dist(site, "beta", {"beta/_alone.so": alone})
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    g = depchain.scan(tmp_path / "venv").graph
    static = {(d.source, d.target) for d in g.dependencies() if d.mechanism == "version-string"}
    assert static == {("pkg:pypi/beta@1.0", "pkg:generic/openssl@3.0.14")}
    assert any(d.mechanism == "elf" for d in g.dependencies_of("pkg:pypi/alpha@1.0"))
