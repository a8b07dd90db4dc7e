"""The native layer on real ELF files built here: static archive, dynamic link,
$ORIGIN-bundled copy; the same as a wheel; and every way such files can be broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import depchain
from depchain.model import DependencyKind
from depchain.native.ospkg import PackageDatabases
from tests.native.conftest import (
    BuiltDist,
    dpkg_owner,
    ldconfig_paths,
    readelf_dynamic,
    record_line,
    system_owners,
)


def edges(result: depchain.ScanResult, source_name: str) -> dict[str, tuple[str, str, str]]:
    g = result.graph
    source = next(c for c in g.components() if c.name == source_name)
    return {
        g.node(d.target).name: (d.kind.value, d.mechanism, " ".join(e.path for e in d.evidence))
        for d in g.dependencies_of(source.id)
    }


def test_three_kinds_of_link_agree_with_readelf(built_dist: BuiltDist) -> None:
    site = built_dist.site
    static_tags = readelf_dynamic(site / built_dist.ext_static)
    assert not [n for n in static_tags.get("NEEDED", []) if "helper" in n]
    symbols = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(site / built_dist.ext_static)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    helper = [line for line in symbols.splitlines() if line.endswith(" helper")]
    assert helper and " UND " not in helper[0]  # its code is inside: linked statically
    assert "libz.so.1" in readelf_dynamic(site / built_dist.ext_dyn)["NEEDED"]
    bundled_tags = readelf_dynamic(site / built_dist.ext_bundled)
    assert "libbundled.so.1" in bundled_tags["NEEDED"]
    assert bundled_tags.get("RUNPATH", bundled_tags.get("RPATH")) == ["$ORIGIN/../mypkg.libs"]

    result = depchain.scan(site.parents[2])  # the virtual environment folder
    assert not result.errors, result.errors
    mine = edges(result, "mypkg")
    # $ORIGIN copy inside the distribution: statically carried, named by its file
    assert mine["libbundled.so.1"][:2] == ("static", "bundled")
    # evidence: the object that needs it, and the file itself in mypkg.libs/
    assert mine["libbundled.so.1"][2].split() == [
        "lib/python3.11/site-packages/mypkg.libs/libbundled.so.1",
        "lib/python3.11/site-packages/mypkg/_bundled.so",
    ]
    bundled = next(c for c in result.graph.components() if c.name == "libbundled.so.1")
    assert ("depchain:bundled-in", "mypkg 1.0") in bundled.properties
    assert bundled.hashes and bundled.hashes[0].algorithm == "sha256"
    # the static archive leaves no run-time dependency: nothing named helper anywhere
    assert not [c for c in result.graph.components() if "helper" in c.name]
    # libz is the OS's: a dynamic edge to the package that owns the file, exactly the
    # packages readelf + ldconfig + dpkg name
    truth = system_owners(
        [
            site / built_dist.ext_dyn,
            site / built_dist.ext_static,
            site / built_dist.ext_bundled,
            site / built_dist.bundled,
        ],
        {"libbundled.so.1"},
    )
    if not truth:
        pytest.skip("no dpkg database owns the system libraries here")
    found = {name for name, (kind, mech, _) in mine.items() if (kind, mech) == ("dynamic", "elf")}
    assert found == truth
    zlib_owner = dpkg_owner(ldconfig_paths()["libz.so.1"])
    assert zlib_owner in found
    deb = next(c for c in result.graph.components() if c.name == zlib_owner)
    assert deb.purl and deb.purl.startswith(f"pkg:deb/debian/{zlib_owner}@")
    assert any(k == "depchain:maintainer" for k, _ in deb.properties)


def test_environment_markers_come_from_the_environment(built_dist: BuiltDist) -> None:
    venv = built_dist.site.parents[2]
    result = depchain.scan(venv)
    assert "tomli" not in edges(result, "mypkg")  # python_version < 3.11 is false in 3.11.7
    (venv / "pyvenv.cfg").write_text("home = /nonexistent/bin\nversion = 3.9.18\n")
    result = depchain.scan(venv)
    tomli = edges(result, "mypkg")["tomli"]
    assert tomli[:2] == ("dynamic", "import")
    missing = next(c for c in result.graph.components() if c.name == "tomli")
    assert dict(missing.properties)["depchain:not-installed"]


def test_the_same_distribution_as_a_wheel(built_dist: BuiltDist, tmp_path: Path) -> None:
    wheel = tmp_path / "mypkg-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in sorted(built_dist.site.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(built_dist.site).as_posix())
    result = depchain.scan(wheel)
    assert not result.errors, result.errors
    assert result.subject == "pkg:pypi/mypkg@1.0"
    mine = edges(result, "mypkg")
    assert mine["libbundled.so.1"][:2] == ("static", "bundled")
    assert f"{wheel.name}!/mypkg/_bundled.so" in mine["libbundled.so.1"][2].split()
    assert mine["tomli"][:2] == ("dynamic", "requires-dist")  # as declared: no environment


def test_corrupt_truncated_and_misnamed_files(built_dist: BuiltDist) -> None:
    site = built_dist.site
    full = (site / built_dist.ext_dyn).read_bytes()
    (site / built_dist.ext_dyn).write_bytes(full[:80])  # truncated inside the headers
    (site / "mypkg" / "_fake.so").write_bytes(b"this is not a shared object\n")
    (site / "mypkg" / "_mac.so").write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 64)
    (site / "mypkg" / "_win.pyd").write_bytes(b"MZ" + b"\0" * 64)
    record = site / "mypkg-1.0.dist-info" / "RECORD"
    record.write_text(
        record.read_text()
        + "\n".join(
            record_line(site, f) for f in ("mypkg/_fake.so", "mypkg/_mac.so", "mypkg/_win.pyd")
        )
        + "\n"
    )
    result = depchain.scan(site)
    messages = {e.path.split("/")[-1]: e.message for e in result.errors}
    assert messages["_dyn.so"].startswith("corrupt or truncated ELF")
    assert messages["_fake.so"] == "named like a shared object but not an ELF file"
    notes = {p.split("/")[-1]: m for p, m in result.notes}
    assert notes["_mac.so"].startswith("mach-o binary: recognised, not analysed")
    assert notes["_win.pyd"].startswith("pe binary: recognised, not analysed")
    # the rest of the scan went on
    assert edges(result, "mypkg")["libbundled.so.1"][:2] == ("static", "bundled")


def test_dangling_rpath_symlinked_library_and_unresolved_name(
    built_dist: BuiltDist, tmp_path: Path
) -> None:
    site = built_dist.site
    libs = site / "mypkg.libs"
    (libs / "libbundled.so.1").rename(libs / "libbundled.so.1.0")
    os.symlink("libbundled.so.1.0", libs / "libbundled.so.1")  # found through a link
    from tests.native.conftest import compile_c

    compile_c(
        tmp_path,
        "_lost.so",
        "int nowhere(void); int f(void) { return nowhere(); }\n",
        "-shared",
        "-Wl,-rpath,$ORIGIN/../gone.libs",
        "-L" + str(tmp_path),
        "-Wl,--allow-shlib-undefined",
        "-Wl,--no-as-needed",
        str(_tiny_library(tmp_path, "libnowhere.so.3")),
    )
    shutil.copy(tmp_path / "_lost.so", site / "mypkg" / "_lost.so")
    record = site / "mypkg-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + record_line(site, "mypkg/_lost.so") + "\n")
    result = depchain.scan(site)
    assert not result.errors, result.errors
    mine = edges(result, "mypkg")
    assert mine["libbundled.so.1"][:2] == ("static", "bundled")
    assert mine["libnowhere.so.3"][:2] == ("dynamic", "elf")
    lost = next(c for c in result.graph.components() if c.name == "libnowhere.so.3")
    assert "depchain:unresolved" in dict(lost.properties)
    assert any("gone.libs does not exist" in m for _, m in result.notes)


def _tiny_library(folder: Path, soname: str) -> Path:
    from tests.native.conftest import compile_c

    return compile_c(
        folder, soname, "int nowhere(void) { return 1; }\n", "-shared", f"-Wl,-soname,{soname}"
    )


def test_missing_dpkg_database_means_owner_unknown(
    built_dist: BuiltDist, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depchain.resolvers import environment

    empty = tmp_path / "no-root"
    empty.mkdir()
    original = environment.resolve_environment

    def without_dpkg(env, ctx, packages=None, **options):  # type: ignore[no-untyped-def]
        return original(env, ctx, PackageDatabases(root=empty), **options)

    monkeypatch.setattr(environment, "resolve_environment", without_dpkg)
    result = depchain.scan(built_dist.site)
    assert not result.errors
    assert any("no dpkg database" in m and "unknown" in m for _, m in result.notes)
    zlib = next(c for c in result.graph.components() if c.name.startswith("libz.so"))
    assert dict(zlib.properties)["depchain:owner"].startswith("unknown")
    assert not [c for c in result.graph.components() if c.ecosystem == "deb"]


def test_bad_wheels(tmp_path: Path) -> None:
    (tmp_path / "broken-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 not really a zip")
    with zipfile.ZipFile(tmp_path / "empty-1.0-py3-none-any.whl", "w") as archive:
        archive.writestr("empty/__init__.py", "")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    messages = {e.path: e.message for e in result.errors}
    assert messages["broken-1.0-py3-none-any.whl"].startswith("not a wheel: not a zip archive")
    assert messages["empty-1.0-py3-none-any.whl"] == "not a wheel: 0 .dist-info folders"
    assert "six" in {c.name for c in result.graph.components()}


def test_kinds_reach_the_sbom(built_dist: BuiltDist) -> None:
    import json

    from depchain.export import cyclonedx

    result = depchain.scan(built_dist.site)
    doc = json.loads(cyclonedx.render(result))
    bundled = next(c for c in doc["components"] if c["name"] == "libbundled.so.1")
    props = {p["name"]: p["value"] for p in bundled["properties"]}
    assert props["depchain:kinds"] == "static"
    assert "mechanism=bundled" in props["depchain:dependency"]
    assert bundled["evidence"]["occurrences"][0]["location"].endswith("mypkg.libs/libbundled.so.1")
    kinds = {d.kind for d in result.graph.dependencies()}
    assert {DependencyKind.STATIC, DependencyKind.DYNAMIC} <= kinds


def test_python_option_names_an_interpreters_environment(
    built_dist: BuiltDist, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from depchain.cli import main

    venv = built_dist.site.parents[2]
    (venv / "bin").mkdir()
    marker = tmp_path / "ran"
    interpreter = venv / "bin" / "python3.11"
    interpreter.write_text(f"#!/bin/sh\ntouch {marker}\n")  # would betray being run
    interpreter.chmod(0o755)
    result = depchain.scan(python=interpreter)
    assert not marker.exists()
    assert "libbundled.so.1" in edges(result, "mypkg")
    assert main(["scan", "--python", str(interpreter), "-f", "json"]) == 0
    assert '"libbundled.so.1"' in capsys.readouterr().out
    assert main(["scan", "--python", str(tmp_path / "nope")]) == 2


def test_legacy_egg_info_distributions_are_said_to_be_missing(built_dist: BuiltDist) -> None:
    # Debian's /usr/lib/python3/dist-packages: 24 of its 31 distributions are .egg-info
    # (PyJWT-2.6.0.egg-info/PKG-INFO, six-1.16.0.egg-info); they were left out silently
    site = built_dist.site
    (site / "six-1.16.0.egg-info").mkdir()
    (site / "six-1.16.0.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n"
    )
    (site / "perf-0.1.egg-info").write_text("Metadata-Version: 1.0\nName: perf\nVersion: 0.1\n")
    result = depchain.scan(site.parents[2])
    notes = [text for _, text in result.notes if ".egg-info" in text]
    assert notes == [
        "2 legacy .egg-info distributions are not read, so they are missing from the graph: "
        "perf-0.1, six-1.16.0"
    ]
