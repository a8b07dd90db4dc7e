"""The terminal, tried for real: the table on a pseudo-terminal of 200 columns and in an
80-column file, colour only where it belongs, -q, -v, -h, -V, progress bars, and help
texts that print every word written for them."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import depchain
from depchain.model import Evidence, Finding
from depchain.render import console, table
from tests.conftest import REPO

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

import fcntl
import struct
import termios

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LONG = "a-distribution-whose-name-alone-takes-more-than-a-hundred-columns-" + "x" * 40


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM"}
    }
    env.update({"TERM": "xterm-256color", "DEPCHAIN_ENRICH": "0"}, **extra)
    return env


def _depchain(args: list[str], columns: int | None = None, **env: str) -> tuple[int, str, str]:
    """``depchain ARGS`` with standard output on a pseudo-terminal ``columns`` wide (a
    pipe when None); (exit code, what the terminal showed, standard error)."""
    argv = [sys.executable, "-m", "depchain", *args]
    if columns is None:
        done = subprocess.run(argv, capture_output=True, text=True, env=_env(**env), check=False)
        return done.returncode, done.stdout, done.stderr
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, env=_env(**env)
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    _, stderr = child.communicate()
    return child.returncode, shown.decode().replace("\r\n", "\n"), stderr.decode()


@pytest.fixture
def long_finding(tmp_path: Path) -> tuple[Path, str]:
    """A folder whose one trust gap has a message of about 170 characters."""
    (tmp_path / "requirements.txt").write_text(f"{LONG}>=1\nsix==1.16.0\n")
    (message,) = [f.message for f in depchain.scan(tmp_path).findings if LONG in f.message]
    assert 150 < len(message) < 185
    return tmp_path, message


def _squeezed(text: str) -> str:
    return "".join(ANSI.sub("", text).split())


def test_a_200_column_terminal_shows_every_finding_message_whole(
    long_finding: tuple[Path, str],
) -> None:
    folder, message = long_finding
    code, shown, _ = _depchain(["scan", str(folder)], columns=200)
    assert code == 0, shown
    lines = ANSI.sub("", shown).splitlines()
    assert max(len(line) for line in lines) <= 200
    # the message on one line of the trust gaps
    gaps = "\n".join(lines[next(i for i, x in enumerate(lines) if x.startswith("TRUST")) :])
    assert message in gaps
    assert "\x1b[" in shown  # a terminal gets colour


def test_an_80_column_file_wraps_messages_and_names_and_cuts_nothing(
    long_finding: tuple[Path, str], tmp_path: Path
) -> None:
    folder, message = long_finding
    out = tmp_path / "table.txt"
    code, _, _ = _depchain(["scan", str(folder), "-o", str(out)], columns=200)
    assert code == 0
    text = out.read_text()
    assert "\x1b" not in text  # a file never gets escape codes, even from a terminal's run
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    start = next(i for i, x in enumerate(lines) if x.startswith("TRUST"))
    gaps = lines[start:]
    assert message not in "\n".join(gaps)  # it had to be wrapped...
    assert "".join(message.split()) in _squeezed("\n".join(gaps))  # ...and is whole
    assert all(line.startswith(" " * 15) for line in gaps[2:4])  # under its column
    # the name is folded within its column, every character kept
    header = next(i for i, x in enumerate(lines) if x.split()[:2] == ["name", "version"])
    name_col = slice(2, 2 + 24)
    pieces = []
    for line in lines[header + 1 :]:
        cell = line[name_col].strip()
        if pieces and not cell:
            break
        pieces.append(cell)
        if "".join(pieces) == LONG:
            break
    assert "".join(pieces) == LONG
    assert lines[header + 1][26:].split()[:1] == [">=1"]  # its version on its first line


def test_columns_sets_the_width_of_a_pipe_and_pipes_get_no_colour(
    long_finding: tuple[Path, str],
) -> None:
    folder, message = long_finding
    code, shown, _ = _depchain(["scan", str(folder)], COLUMNS="200")
    assert code == 0
    assert message in shown and "\x1b" not in shown
    assert max(len(line) for line in shown.splitlines()) <= 200
    code, narrow, _ = _depchain(["scan", str(folder)])
    assert max(len(line) for line in narrow.splitlines()) <= 80 and message not in narrow


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--no-color", "scan"], {}),
        (["scan", "--no-color"], {}),
        (["scan"], {"NO_COLOR": "1"}),
        (["scan"], {"TERM": "dumb"}),
    ],
)
def test_no_colour_when_asked_even_on_a_terminal(
    long_finding: tuple[Path, str], args: list[str], env: dict[str, str]
) -> None:
    folder, message = long_finding
    code, shown, _ = _depchain([*args, str(folder)], columns=200, **env)
    assert code == 0 and message in shown
    assert "\x1b" not in shown


def test_force_color_colours_a_pipe_but_never_a_file(
    long_finding: tuple[Path, str], tmp_path: Path
) -> None:
    folder, _ = long_finding
    _, piped, _ = _depchain(["scan", str(folder)], FORCE_COLOR="1")
    assert "\x1b[" in piped
    out = tmp_path / "t.txt"
    _depchain(["scan", str(folder), "-o", str(out)], FORCE_COLOR="1")
    assert "\x1b" not in out.read_text()
    with (tmp_path / "redirected.txt").open("w") as handle:  # `depchain scan > file`
        subprocess.run(
            [sys.executable, "-m", "depchain", "scan", str(folder)],
            stdout=handle,
            env=_env(FORCE_COLOR="1"),
            check=False,
        )
    assert "\x1b" not in (tmp_path / "redirected.txt").read_text()


def test_text_from_the_input_is_never_markup_nor_raw_escapes(tmp_path: Path) -> None:
    result = depchain.scan(REPO / "examples" / "webapp")
    where = (Evidence("requirements/[red]x[/red].txt", 3, "t"),)
    result.findings = [
        Finding("DC001", "high", "[bold]not bold[/bold] \x1b[31mred? :smile: " * 3, "c", where)
    ]
    for color in (False, True):
        text = table.render(result, color=color, width=100)
        plain = ANSI.sub("", text)
        assert "[bold]not bold[/bold]" in plain and ":smile:" in plain
        assert "requirements/[red]x[/red].txt:3" in plain
        assert "\\x1b[31mred?" in plain  # escaped, shown, never sent
        assert text.count("\x1b[31m") == (1 if color else 0)  # only the severity's own red


def test_quiet_is_the_findings_alone(long_finding: tuple[Path, str], tmp_path: Path) -> None:
    folder, message = long_finding
    for args in (["-q", "scan", str(folder)], ["scan", str(folder), "--quiet"]):
        code, shown, err = _depchain([*args, "--no-audit"], COLUMNS="200")
        assert code == 0
        assert shown.startswith("TRUST GAPS (") and message in shown, shown
        assert "PROJECT" not in shown and "components" not in shown and err == ""
    # what could not be audited is still said: never a silent all-clear
    _, shown, _ = _depchain(["-q", "scan", str(folder)], DEPCHAIN_CACHE_DIR=str(tmp_path))
    assert shown.startswith("vulnerabilities: NOT AUDITED") and "TRUST GAPS (" in shown
    (tmp_path / "clean").mkdir()
    code, shown, _ = _depchain(["-q", "scan", str(tmp_path / "clean"), "--no-audit"])
    assert (code, shown) == (0, "")


def test_verbose_says_what_was_read_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    fixture = tmp_path / "tests" / "fixtures" / "other"
    fixture.mkdir(parents=True)
    (fixture / "requirements.txt").write_text("flask\n")
    result = depchain.scan(tmp_path)
    assert result.notes and any(not i.read for i in result.inputs)
    for args in (["-v", "scan", str(tmp_path)], ["scan", "-v", str(tmp_path)]):
        code, out, err = _depchain(args)
        assert code == 0 and "PROJECT" in out
        said = err.splitlines()
        assert "depchain: read: requirements.txt (requirements; runtime: default)" in said, err
        assert any(
            line.startswith("depchain: listed, not read: tests/fixtures/other/requirements.txt")
            and "fixture" in line
            for line in said
        ), err
        for path, note in result.notes:
            assert f"depchain: note: {path}: {note}" in said
    _, _, quiet = _depchain(["scan", str(tmp_path)])
    assert quiet == ""


def test_short_help_and_version_everywhere() -> None:
    for args in (["-h"], ["scan", "-h"], ["sbom", "-h"], ["db", "update", "-h"], ["check", "-h"]):
        code, out, _ = _depchain(args)
        usage = "usage: depchain check" if "check" in args else "Usage:"
        assert code == 0 and out.startswith(usage), (args, out)
    for args in (["-V"], ["--version"], ["check", "-V"], ["check", "--version"]):
        code, out, _ = _depchain(args)
        assert (code, out) == (0, f"depchain {depchain.__version__}\n")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "DELAY", 0.0)
    screen = _Terminal()
    bars = console.Bars(screen)
    show = bars.counter("scanning")
    assert show is not None
    show(0, 40, "requirements/\x1b[31mprod.txt")
    show(17, 40, "requirements/dev.txt")
    bars.stop()
    shown = screen.getvalue()
    assert "scanning" in shown and "requirements/" in shown
    assert "\x1b[31mprod" not in shown  # a name from the input is escaped
    downloads = console.Bars(screen).downloads()
    assert downloads is not None
    assert console.Bars(io.StringIO()).counter("x") is None  # not a terminal: nothing
    monkeypatch.setattr(console.SETTINGS, "quiet", True)
    assert console.Bars(_Terminal()).counter("x") is None  # -q: nothing


def test_an_environment_scan_reports_progress(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name in ("alpha", "beta", "gamma"):
        info = site / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "RECORD").write_text("")
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    calls: list[tuple[int, int, str]] = []
    result = depchain.scan(tmp_path, progress=lambda *a: calls.append(a))
    assert {c.name for c in result.graph.components()} >= {"alpha", "beta", "gamma"}
    assert calls[-1] == (3, 3, "")
    assert sorted(c[2] for c in calls[:-1]) == ["alpha", "beta", "gamma"]
    assert [c[0] for c in calls] == [0, 1, 2, 3]


def _words(text: str) -> str:
    """Whitespace aside, and a word broken at its hyphen by the wrapping made whole."""
    return re.sub(r"(?<=\w)- (?=\w)", "-", " ".join(text.split()))


def _commands() -> list[tuple[list[str], object]]:
    import typer

    from depchain.cli import app

    found: list[tuple[list[str], object]] = []

    def walk(command: object, path: list[str]) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def test_every_help_text_is_printed_whole(capsys: pytest.CaptureFixture[str]) -> None:
    """Every option's and argument's help, and every command's, as written in the code,
    in what --help prints (whitespace aside): nothing read as markup and lost."""
    from depchain.cli import main

    commands = _commands()
    names = {" ".join(path) for path, _ in commands}
    assert {"scan", "sbom", "sbom-check", "db update", "diff", "accept", "explain"} <= names
    checked = 0
    for path, command in commands:
        if path == ["check"]:  # the hook's own argparse: below
            continue
        assert main([*path, "--help"]) == 0, path
        shown = _words(capsys.readouterr().out)
        texts = [getattr(p, "help", None) for p in command.params]  # type: ignore[attr-defined]
        if path:
            texts.append(command.help)  # type: ignore[attr-defined]
        for text in filter(None, texts):
            assert _words(text) in shown, (path, text)
            checked += 1
    assert checked > 60
    from depchain.hook import _parser

    parser = _parser()
    shown = _words(parser.format_help())
    for action in parser._actions:
        if action.help:
            assert _words(action.help % {"prog": parser.prog}) in shown
    assert _words(parser.description or "") in shown


def test_the_policy_help_keeps_its_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    from depchain.cli import main

    main(["scan", "--help"])
    assert "TOML file with [tool.depchain]" in _words(capsys.readouterr().out)


def test_json_output_is_untouched_by_the_terminal(long_finding: tuple[Path, str]) -> None:
    folder, message = long_finding
    code, shown, _ = _depchain(["scan", str(folder), "-f", "json"], columns=200)
    assert code == 0 and "\x1b" not in shown
    assert message in {f["message"] for f in json.loads(shown)["findings"]}
