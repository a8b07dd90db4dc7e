"""RPM ownership from a real SQLite rpmdb, built here with rpmbuild and rpm
(Debian's ``rpm`` package); skipped where those tools are absent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from depchain.native.ospkg import PackageDatabases, RpmDatabase, parse_rpm_header

SPEC = """Name: libdemo
Version: 1.2.3
Release: 4
Epoch: 1
Summary: demo library
License: MIT
Packager: Demo Maintainer <demo@example.org>
Vendor: Example
BuildArch: noarch
%description
A library file, registered in an RPM database.
%install
mkdir -p %{buildroot}/usr/lib64
printf 'x' > %{buildroot}/usr/lib64/libdemo.so.1
%files
/usr/lib64/libdemo.so.1
"""


@pytest.fixture(scope="module")
def rpm_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("rpmbuild") is None or shutil.which("rpm") is None:
        pytest.skip("rpm and rpmbuild (Debian package rpm) are not installed")
    work = tmp_path_factory.mktemp("rpm")
    (work / "demo.spec").write_text(SPEC)
    built = subprocess.run(
        [
            "rpmbuild",
            "-bb",
            "--define",
            f"_topdir {work / 'build'}",
            "--define",
            "__os_install_post %{nil}",
            "--define",
            "_build_id_links none",
            str(work / "demo.spec"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        pytest.skip(f"rpmbuild failed here: {built.stderr.strip()[-200:]}")
    package = next((work / "build" / "RPMS").rglob("*.rpm"))
    root = work / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('ID="fedora"\nVERSION_ID=40\n')
    subprocess.run(
        ["rpm", "--initdb", "--root", str(root), "--dbpath", "/var/lib/rpm"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "rpm",
            "-i",
            "--nodeps",
            "--justdb",
            "--root",
            str(root),
            "--dbpath",
            "/var/lib/rpm",
            str(package),
        ],
        check=True,
        capture_output=True,
    )
    return root


def test_owner_matches_rpm_qf(rpm_root: Path) -> None:
    asked = subprocess.run(
        [
            "rpm",
            "-qf",
            "--root",
            str(rpm_root),
            "--dbpath",
            "/var/lib/rpm",
            "--qf",
            "%{NAME} %{EPOCH} %{VERSION}-%{RELEASE} %{ARCH}",
            "/usr/lib64/libdemo.so.1",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    package = RpmDatabase(rpm_root).owner("/usr/lib64/libdemo.so.1")
    assert package is not None
    assert [package.name, package.epoch, package.version, package.architecture] == asked
    assert package.purl == "pkg:rpm/fedora/libdemo@1.2.3-4?arch=noarch&epoch=1"
    assert package.maintainer == "Demo Maintainer <demo@example.org>"
    assert RpmDatabase(rpm_root).owner("/usr/lib64/libnothere.so") is None


def test_databases_fall_back_to_rpm_where_there_is_no_dpkg(rpm_root: Path) -> None:
    databases = PackageDatabases(rpm_root)
    assert databases.available and not databases.dpkg.available
    found = databases.owner("/usr/lib64/libdemo.so.1")
    assert found is not None and found.ptype == "rpm"


def test_old_and_broken_rpm_databases(tmp_path: Path) -> None:
    old = tmp_path / "old"
    (old / "var" / "lib" / "rpm").mkdir(parents=True)
    (old / "var" / "lib" / "rpm" / "Packages").write_bytes(b"\0" * 64)
    database = RpmDatabase(old)
    assert not database.available and "Berkeley DB or ndb format: not read" in str(database.problem)
    assert PackageDatabases(old).unread() == database.problem
    broken = tmp_path / "broken"
    (broken / "var" / "lib" / "rpm").mkdir(parents=True)
    (broken / "var" / "lib" / "rpm" / "rpmdb.sqlite").write_bytes(b"not sqlite at all" * 10)
    database = RpmDatabase(broken)
    assert not database.available and "cannot read the RPM database" in str(database.problem)
    with pytest.raises(ValueError, match="sizes do not fit"):
        parse_rpm_header(b"\0\0\0\x05\0\0\0\x10")
