"""Small real ELF libraries, built with the C compiler, laid out as an installed
distribution (``site-packages/mypkg``, ``mypkg.libs``, ``mypkg-1.0.dist-info``)."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

CC = shutil.which("cc") or shutil.which("gcc")


def readelf_dynamic(path: Path) -> dict[str, list[str]]:
    """``readelf -d``: the ground truth the analysis is compared with."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    out = subprocess.run(
        ["readelf", "-d", str(path)], capture_output=True, text=True, check=False
    ).stdout
    tags: dict[str, list[str]] = {}
    for line in out.splitlines():
        if "(" in line and "[" in line:
            tag = line.split("(", 1)[1].split(")", 1)[0]
            tags.setdefault(tag, []).append(line.split("[", 1)[1].rsplit("]", 1)[0])
    return tags


def compile_c(workdir: Path, name: str, source: str, *args: str) -> Path:
    if CC is None:
        pytest.skip("no C compiler (cc/gcc) on this machine")
    src = workdir / f"{name}.c"
    src.write_text(source)
    out = workdir / name
    subprocess.run(
        [CC, "-fPIC", "-O1", "-o", str(out), str(src), *args], check=True, capture_output=True
    )
    return out


def record_line(root: Path, rel: str) -> str:
    data = (root / rel).read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{rel},sha256={digest},{len(data)}"


@dataclass
class BuiltDist:
    site: Path
    """The site-packages folder."""
    ext_dyn: str
    ext_static: str
    ext_bundled: str
    bundled: str


@pytest.fixture
def built_dist(tmp_path: Path) -> BuiltDist:
    """mypkg 1.0 with three extension modules:
    - _static.so: linked with libhelper.a (static archive), needs only libc;
    - _dyn.so: linked dynamically against libz;
    - _bundled.so: needs libbundled.so.1, shipped in mypkg.libs/ and found through an
      ``$ORIGIN/../mypkg.libs`` RPATH (what auditwheel does)."""
    work = tmp_path / "build"
    work.mkdir()
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "mypkg").mkdir(parents=True)
    (site / "mypkg.libs").mkdir()
    # a static archive linked into _static.so
    compile_c(work, "helper.o", "int helper(int x) { return x * 2; }\n", "-c")
    subprocess.run(["ar", "rcs", str(work / "libhelper.a"), str(work / "helper.o")], check=True)
    compile_c(
        work,
        "_static.so",
        "int helper(int); int twice(int x) { return helper(x); }\n",
        "-shared",
        str(work / "libhelper.a"),
    )
    # dynamically linked against zlib (the runtime library name; no -dev package needed)
    zlib = next(
        (
            p
            for p in (
                "/lib/x86_64-linux-gnu/libz.so.1",
                "/usr/lib/x86_64-linux-gnu/libz.so.1",
                "/lib/aarch64-linux-gnu/libz.so.1",
                "/usr/lib/libz.so.1",
                "/lib64/libz.so.1",
            )
            if os.path.exists(p)
        ),
        None,
    )
    if zlib is None:
        pytest.skip("libz.so.1 is not installed")
    compile_c(
        work,
        "_dyn.so",
        "const char *zlibVersion(void); const char *v(void) { return zlibVersion(); }\n",
        "-shared",
        zlib,
    )
    # a bundled copy found through $ORIGIN
    compile_c(
        work,
        "libbundled.so.1",
        "int bundled(void) { return 7; }\n",
        "-shared",
        "-Wl,-soname,libbundled.so.1",
    )
    compile_c(
        work,
        "_bundled.so",
        "int bundled(void); int use(void) { return bundled(); }\n",
        "-shared",
        str(work / "libbundled.so.1"),
        "-Wl,-rpath,$ORIGIN/../mypkg.libs",
    )
    for name in ("_static.so", "_dyn.so", "_bundled.so"):
        shutil.copy(work / name, site / "mypkg" / name)
    shutil.copy(work / "libbundled.so.1", site / "mypkg.libs" / "libbundled.so.1")
    (site / "mypkg" / "__init__.py").write_text("")
    info = site / "mypkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mypkg\nVersion: 1.0\n"
        'Requires-Dist: tomli; python_version < "3.11"\n'
    )
    (info / "WHEEL").write_text(
        "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"
    )
    (info / "INSTALLER").write_text("pip\n")
    files = [
        "mypkg/__init__.py",
        "mypkg/_static.so",
        "mypkg/_dyn.so",
        "mypkg/_bundled.so",
        "mypkg.libs/libbundled.so.1",
        "mypkg-1.0.dist-info/METADATA",
        "mypkg-1.0.dist-info/WHEEL",
        "mypkg-1.0.dist-info/INSTALLER",
    ]
    lines = [record_line(site, f) for f in files] + ["mypkg-1.0.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    (site.parents[2] / "pyvenv.cfg").write_text("home = /nonexistent/bin\nversion = 3.11.7\n")
    return BuiltDist(
        site, "mypkg/_dyn.so", "mypkg/_static.so", "mypkg/_bundled.so", "mypkg.libs/libbundled.so.1"
    )


@lru_cache(maxsize=1)
def ldconfig_paths() -> dict[str, str]:
    """``ldconfig -p``: library name → path, for the machine's architecture."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    if not os.path.exists(ldconfig):
        pytest.skip("ldconfig is not installed")
    out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        if "=>" in line and ("x86-64" in line or "AArch64" in line or "64bit" in line):
            name = line.strip().split(" ", 1)[0]
            found.setdefault(name, line.rsplit("=>", 1)[1].strip())
    return found


@lru_cache(maxsize=4096)
def dpkg_owner(path: str) -> str | None:
    """``dpkg -S`` for the path, its real path, and its merged-/usr spelling."""
    if shutil.which("dpkg") is None:
        return None
    real = os.path.realpath(path)
    for candidate in dict.fromkeys(
        (path, real, real.removeprefix("/usr"), path.removeprefix("/usr"))
    ):
        done = subprocess.run(
            ["dpkg", "-S", candidate], capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            return done.stdout.split(":")[0].split(",")[0].strip()
    return None


def system_owners(elf_files: list[Path], bundled_names: set[str]) -> set[str]:
    """The Debian packages that own what ``elf_files`` need from the system, by
    readelf, ldconfig and dpkg: the ground truth for the dynamic edges."""
    paths = ldconfig_paths()
    owners: set[str] = set()
    for elf in elf_files:
        for needed in readelf_dynamic(elf).get("NEEDED", []):
            if needed in bundled_names or needed not in paths:
                continue
            owner = dpkg_owner(paths[needed])
            if owner:
                owners.add(owner)
    return owners
