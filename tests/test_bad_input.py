"""Bad input: a clear one-line error naming the file, the scan goes on, exit code 3."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

import depchain
from depchain.cli import main

GOOD = "six==1.16.0\nattrs==23.2.0\n"


def _scan_with_good_neighbour(folder: Path) -> depchain.ScanResult:
    (folder / "requirements.txt").write_text(GOOD)
    result = depchain.scan(folder)
    names = {c.name for c in result.graph.components()}
    assert {"six", "attrs"} <= names, "the good file must still be read"
    return result


def _one_error(result: depchain.ScanResult, path: str) -> str:
    errors = [e for e in result.errors if e.path == path]
    assert len(errors) == 1, result.errors
    assert "\n" not in errors[0].message
    return errors[0].message


def test_broken_pyproject_and_good_requirements_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n")
    result = _scan_with_good_neighbour(tmp_path)
    message = _one_error(result, "pyproject.toml")
    assert "invalid TOML" in message and "line 1" in message
    out = tmp_path / "report.json"
    assert main(["scan", str(tmp_path), "--format", "json", "-o", str(out)]) == 3
    import json

    report = json.loads(out.read_text())
    assert [e["path"] for e in report["errors"]] == ["pyproject.toml"]
    assert {"six", "attrs"} <= {c["name"] for c in report["components"]}
    assert "pyproject.toml: invalid TOML" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("uv.lock", "version = 1\n[[package]\nname = 'a'\n", "invalid TOML"),
        ("poetry.lock", "[[package]]\nname = \n", "invalid TOML"),
        ("pdm.lock", "[metadata\n", "invalid TOML"),
        ("Pipfile.lock", '{"default": {', "invalid JSON"),
        ("pylock.toml", "lock-version = '1.0'\n[[packages]\nname='x'\n", "invalid TOML"),
        ("setup.cfg", "[metadata]\nname = x\n  [broken\n[options\n", "invalid setup.cfg"),
    ],
)
def test_malformed_lockfiles_and_manifests(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    (tmp_path / name).write_text(content)
    result = _scan_with_good_neighbour(tmp_path)
    assert expected in _one_error(result, name)


def test_invalid_utf8_names_line_and_offset(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    result = _scan_with_good_neighbour(tmp_path)
    message = _one_error(result, "pyproject.toml")
    assert message == "not valid UTF-8 (line 2, byte offset 21)"


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "uv.lock"
    with open(huge, "wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    result = _scan_with_good_neighbour(tmp_path)
    assert "too large (100.0 MiB; the limit is 32.0 MiB)" in _one_error(result, "uv.lock")


def test_symlink_loop_and_links_out_of_the_tree(tmp_path: Path) -> None:
    os.symlink("poetry.lock", tmp_path / "pdm.lock")
    os.symlink("pdm.lock", tmp_path / "poetry.lock")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("evil==1.0\n")
    os.symlink(outside, tmp_path / "dev-requirements.txt")
    os.symlink(".", tmp_path / "loop")  # a folder loop: never followed
    result = _scan_with_good_neighbour(tmp_path)
    assert _one_error(result, "pdm.lock") == "symbolic link loop"
    assert _one_error(result, "poetry.lock") == "symbolic link loop"
    assert "outside the scanned tree" in _one_error(result, "dev-requirements.txt")
    assert "evil" not in {c.name for c in result.graph.components()}


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    bad = tmp_path / "uv.lock"
    bad.write_text("version = 1\n")
    bad.chmod(0)
    result = _scan_with_good_neighbour(tmp_path)
    assert "Permission denied" in _one_error(result, "uv.lock")


@pytest.mark.parametrize("code", [errno.EACCES, errno.EIO])
def test_unreadable_file_as_root_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """The test above as root, who reads files whatever their mode: the refusal
    injected where the file is opened."""
    bad = tmp_path / "uv.lock"
    bad.write_text("version = 1\n")
    real_open = os.open

    def refusing(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if Path(path) == bad:
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", refusing)
    result = _scan_with_good_neighbour(tmp_path)
    assert os.strerror(code) in _one_error(result, "uv.lock")
    out = tmp_path / "report.json"
    assert main(["scan", str(tmp_path), "--format", "json", "-o", str(out)]) == 3


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["scan", str(tmp_path / "nope")]) == 2


def test_unknown_single_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hi")
    assert main(["scan", str(tmp_path / "notes.md")]) == 2


def test_runs_of_blank_lines_and_repeated_lines_cost_linear_time(tmp_path: Path) -> None:
    """Found by the fuzzer: ``^\\s*`` under re.M crossed every blank line from every
    line start (a go.mod with 90k blank lines: 14 s), and a line repeated 5,000 times
    sorted its evidence at every merge."""
    import time

    (tmp_path / "go.mod").write_text("\n" * 90_000 + "module example.com/m\n")
    (tmp_path / ".readthedocs.yaml").write_text("version: 2\n" + "\n" * 90_000 + "x: 1\n")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n" * 5000)
    start = time.process_time()
    result = depchain.scan(tmp_path)
    assert time.process_time() - start < 3
    assert {c.name for c in result.graph.components()} >= {"example.com/m", "six"}
