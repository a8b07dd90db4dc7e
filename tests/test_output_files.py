"""Output files: the mode of the file replaced is kept, the umask decides a new file's,
temporary files sit beside the target under a name of depchain's own and never stay."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from depchain import fileio
from depchain.cli import main
from depchain.errors import OutputError

REQUIREMENTS = "six==1.16.0\nattrs==23.2.0\n"
HOUR_AGO = time.time() - 3600


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "requirements.txt").write_text(REQUIREMENTS)
    return folder


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process's umask, whatever a test set."""
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(fileio.TEMP_PREFIX))


def _stale(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("half a report")
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


# -- modes ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o664, 0o700])
def test_a_replaced_file_keeps_its_mode(out: Path, mode: int, umask: None) -> None:
    os.umask(0o022)  # a 0664 file is not narrowed by the umask, a 0600 one not widened
    target = out / "report.json"
    target.write_text("previous")
    target.chmod(mode)
    fileio.write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert _mode(target) == mode


def test_the_cli_keeps_a_private_report_private(project: Path, out: Path, umask: None) -> None:
    os.umask(0o022)
    target = out / "bom.json"
    target.write_text("previous")
    target.chmod(0o600)
    assert main(["sbom", str(project), "-o", str(target)]) == 0
    assert '"bomFormat"' in target.read_text()
    assert _mode(target) == 0o600
    assert list(out.iterdir()) == [target]


def test_set_id_bits_are_not_carried(out: Path) -> None:
    target = out / "report.json"
    target.write_text("previous")
    target.chmod(0o4755)
    fileio.write_text_atomic(target, "new\n")
    assert _mode(target) == 0o755


@pytest.mark.parametrize(("mask", "expected"), [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)])
def test_a_new_file_honours_the_umask(out: Path, mask: int, expected: int, umask: None) -> None:
    os.umask(mask)
    target = out / "report.json"
    fileio.write_text_atomic(target, "new\n")
    assert _mode(target) == expected


def test_the_cli_honours_the_umask_for_a_new_file(project: Path, out: Path, umask: None) -> None:
    os.umask(0o077)
    target = out / "report.json"
    assert main(["scan", str(project), "--format", "json", "-o", str(target)]) == 0
    assert _mode(target) == 0o600


def test_a_symlinked_target_keeps_its_destinations_mode(out: Path) -> None:
    real = out / "real.json"
    real.write_text("previous")
    real.chmod(0o600)
    link = out / "link.json"
    link.symlink_to(real.name)
    fileio.write_text_atomic(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    assert _mode(real) == 0o600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_replacing_a_users_file_keeps_its_owner(out: Path) -> None:
    target = out / "report.json"
    target.write_text("previous")
    os.chown(target, 4321, 4322)
    target.chmod(0o640)
    fileio.write_text_atomic(target, "new\n")
    info = target.stat()
    assert (info.st_uid, info.st_gid, _mode(target)) == (4321, 4322, 0o640)


# -- temporary files -------------------------------------------------------------------


def test_the_temporary_file_sits_beside_the_target_under_depchains_name(out: Path) -> None:
    target = out / "bom.json"
    with fileio.atomic_writer(target) as handle:
        handle.write("partial")
        [name] = _temps(out)
        assert fileio.is_temp_name(name)
        assert name.startswith(".depchain-tmp-bom.json.") and name.endswith(".tmp")
        assert not target.exists()  # nothing half-written under the real name
    assert target.read_text() == "partial"
    assert _temps(out) == []


def test_a_long_target_name_still_gives_a_legal_temporary_name(out: Path) -> None:
    target = out / ("r" * 250)
    fileio.write_text_atomic(target, "x")
    assert target.read_text() == "x"
    assert _temps(out) == []


def test_an_error_while_writing_leaves_no_temporary_file(out: Path) -> None:
    target = out / "report.json"
    target.write_text("previous")
    with pytest.raises(RuntimeError), fileio.atomic_writer(target) as handle:
        handle.write("half")
        raise RuntimeError("the renderer failed")
    with pytest.raises(KeyboardInterrupt), fileio.atomic_writer(target) as handle:
        raise KeyboardInterrupt
    assert target.read_text() == "previous"
    assert list(out.iterdir()) == [target]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_a_failed_rename_is_an_output_error_and_leaves_nothing(
    out: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    target = out / "report.json"
    target.write_text("previous")

    def refuse(src: object, dst: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match=os.strerror(code)):
        fileio.write_text_atomic(target, "new")
    assert target.read_text() == "previous"
    assert list(out.iterdir()) == [target]


def test_a_full_disk_while_writing_leaves_nothing(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = out / "report.json"
    target.write_text("previous")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"):
        fileio.write_text_atomic(target, "new")
    assert target.read_text() == "previous"
    assert list(out.iterdir()) == [target]


def test_a_stale_temporary_file_from_a_killed_run_is_removed(project: Path, out: Path) -> None:
    stale = _stale(out, ".depchain-tmp-bom.json.0badc0de.tmp")
    other_target = _stale(out, ".depchain-tmp-report.md.12345678.tmp")
    target = out / "bom.json"
    assert main(["sbom", str(project), "-o", str(target)]) == 0
    assert not stale.exists() and not other_target.exists()
    assert sorted(p.name for p in out.iterdir()) == ["bom.json"]


def test_only_depchains_own_old_regular_files_are_removed(out: Path, tmp_path: Path) -> None:
    fresh = out / ".depchain-tmp-bom.json.0badc0de.tmp"  # a run writing right now
    fresh.write_text("being written")
    keep = [
        fresh,
        _stale(out, ".bom.json.abcdefgh.tmp"),  # the old naming, or another program's
        _stale(out, ".depchain-tmp-notes"),
        _stale(out, ".depchain-tmp-bom.json.0BADC0DE.tmp"),
        _stale(out, "depchain-tmp-bom.json.0badc0de.tmp"),
        _stale(out, ".depchain-tmp-bom.json.0badc0de.tmp.bak"),
    ]
    elsewhere = tmp_path / "precious.txt"
    elsewhere.write_text("precious")
    link = out / ".depchain-tmp-link.json.0badc0de.tmp"
    link.symlink_to(elsewhere)
    os.utime(link, (HOUR_AGO, HOUR_AGO), follow_symlinks=False)
    folder = out / ".depchain-tmp-dir.json.0badc0de.tmp"
    folder.mkdir()
    os.utime(folder, (HOUR_AGO, HOUR_AGO))
    stale = _stale(out, ".depchain-tmp-x.json.0badc0de.tmp")

    assert fileio.remove_stale_temps(out) == [stale.name]
    assert all(p.exists() for p in keep)
    assert link.is_symlink() and elsewhere.read_text() == "precious"
    assert folder.is_dir()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_another_users_stale_file_is_left_alone(out: Path) -> None:
    theirs = _stale(out, ".depchain-tmp-bom.json.0badc0de.tmp")
    os.chown(theirs, 4321, 4321)
    os.utime(theirs, (HOUR_AGO, HOUR_AGO))
    assert fileio.remove_stale_temps(out) == []
    assert theirs.exists()


def test_an_unreadable_folder_is_no_error(tmp_path: Path) -> None:
    assert fileio.remove_stale_temps(tmp_path / "missing") == []
    (tmp_path / "file").write_text("x")
    assert fileio.remove_stale_temps(tmp_path / "file") == []


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from depchain.fileio import atomic_writer
with atomic_writer(Path(sys.argv[1])) as handle:
    handle.write("half a report")
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_run_killed_mid_write_is_cleaned_up_by_the_next(project: Path, out: Path) -> None:
    target = out / "bom.json"
    target.write_text("previous")
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], check=False)
    assert killed.returncode == -9
    [left] = _temps(out)
    assert fileio.is_temp_name(left)
    assert target.read_text() == "previous"  # never half-written under the real name
    assert main(["sbom", str(project), "-o", str(target)]) == 0
    assert _temps(out) == [left]  # too young: it may be another run's, still writing
    os.utime(out / left, (HOUR_AGO, HOUR_AGO))
    assert main(["sbom", str(project), "-o", str(target)]) == 0
    assert _temps(out) == []
    assert '"bomFormat"' in target.read_text()
