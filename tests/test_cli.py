from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from depchain import __version__
from depchain.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"depchain {__version__}"


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    done = subprocess.run(
        [sys.executable, "-m", "depchain", "scan", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "six" in done.stdout and "runtime: what it ships and runs with" in done.stdout


def test_clean_scan_exits_0_and_writes_nothing_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    assert main(["scan", str(tmp_path), "-f", "json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and '"schema": "depchain-report/1"' in captured.out


def test_bad_option_is_usage_error(tmp_path: Path) -> None:
    assert main(["scan", str(tmp_path), "--fail-on", "sometimes"]) == 2
    assert main(["nonsense"]) == 2


def test_progress_goes_to_a_terminal_only(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"requirements-{i}.txt").write_text(f"pkg{i}==1.0\n")
    command = [sys.executable, "-m", "depchain", "scan", str(tmp_path), "-o", os.devnull]
    piped = subprocess.run(command, capture_output=True, text=True, check=False)
    assert piped.returncode == 0 and piped.stderr == ""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(command, stderr=follower, stdout=subprocess.DEVNULL, check=False)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    # a rich progress bar, drawn then cleared (transient)
    assert b"scanning" in shown and b"/12" in shown, shown


def test_a_broken_stdout_is_one_line_and_exit_3() -> None:
    from tests.conftest import REPO

    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full on this machine")
    with full.open("w") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "depchain", "scan", str(REPO / "examples" / "webapp")],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        "depchain: standard output: cannot write (No space left on device)"
    ]
    closed = subprocess.Popen(
        [sys.executable, "-m", "depchain", "sbom", str(REPO / "examples" / "webapp")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert closed.stdout is not None and closed.stderr is not None
    closed.stdout.close()
    assert closed.wait(timeout=60) == 3
    with closed.stderr:
        assert closed.stderr.read().decode().count("\n") == 1
