"""``depchain check``, the pre-commit hook: silent when everything is accepted, exit 1
naming file:line, what is new, why and the command that accepts it; only what the
changed files need is read; an unchanged repository is answered from the stamp."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from depchain import hook
from depchain.entry import main


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / "requirements.txt").write_text("requests==2.32.3\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _age(*paths: Path) -> None:
    """Back-date files and folders past the stamp's racy window."""
    old = time.time() - 60
    for p in paths:
        os.utime(p, (old, old))


def test_without_a_ledger_it_says_how_to_make_one_and_judges_by_the_policy(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    err = capsys.readouterr().err
    assert "no trust ledger" in err and "depchain accept" in err
    # the policy's threshold (high by default): an unpinned requirement passes ...
    (repo / "requirements.txt").write_text("requests==2.32.3\nflask>=3\n")
    assert main(["check", "requirements.txt"]) == 0
    # ... unless the policy asks for more
    (repo / "depchain.toml").write_text('fail-on = "medium"\n')
    assert main(["check", "requirements.txt"]) == 1
    assert "requirements.txt:2: flask >=3 is not pinned" in capsys.readouterr().err


def test_accepted_is_silent_new_fails_at_its_line_with_the_accept_command(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accept"]) == 0
    capsys.readouterr()
    assert main(["check"]) == 0
    assert main(["check", "requirements.txt"]) == 0
    assert capsys.readouterr() == ("", "")  # nothing at all

    (repo / "requirements.txt").write_text("requests==2.32.3\nflask>=3\n")
    assert main(["check", "requirements.txt"]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == (
        "requirements.txt:2: new dynamic dependency on flask (>=3) is not in the trust "
        "ledger [DC025 medium: New trust relationship]"
    )
    assert any(line.startswith("requirements.txt:2: flask >=3 is not pinned") for line in lines)
    assert "  or accept it: depchain accept --why '<your reason>'" in lines
    assert "why:" in err and "fix:" in err
    assert main(["check"]) == 1  # the whole repository says the same

    assert main(["accept", "--why", "web front end"]) == 0
    capsys.readouterr()
    assert main(["check", "requirements.txt"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_build_time_dependency_is_new_too_and_several_files_at_once(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "requirements-dev.txt").write_text("pytest==8.3.3\n")
    assert main(["accept"]) == 0
    (repo / "requirements.txt").write_text("requests==2.32.3\nattrs==24.2.0\n")
    (repo / "requirements-dev.txt").write_text("pytest==8.3.3\nruff==0.6.9\n")
    assert main(["check", "requirements.txt", "requirements-dev.txt"]) == 1
    err = capsys.readouterr().err
    assert "requirements.txt:2: new dynamic dependency on attrs" in err
    assert "requirements-dev.txt:2: new build dependency on ruff" in err
    assert "[DC025 low: New trust relationship]" in err  # build-time: low, still failing
    # --fail-on raises the bar: a new pinned runtime dependency is medium
    assert main(["check", "--fail-on", "high", "requirements.txt"]) == 0


def test_only_what_the_changed_files_need_is_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:16\n")
    assert main(["accept"]) == 0
    (repo / "docker-compose.yml").write_text("services: [unclosed\n")  # broken, unrelated
    capsys.readouterr()
    assert main(["check", "requirements.txt"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["check"]) == 3  # the whole repository reads it, and says so
    assert "docker-compose.yml" in capsys.readouterr().err


def test_a_lock_beside_the_project_pins_what_the_changed_manifest_asks(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "requirements.txt").unlink()
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["six>=1"]\n'
    )
    (repo / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "app"\n'
        'version = "1.0"\nsource = { editable = "." }\ndependencies = [{ name = "six" }]\n\n'
        '[[package]]\nname = "six"\nversion = "1.16.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    assert main(["accept"]) == 0
    capsys.readouterr()
    with (repo / "pyproject.toml").open("a") as f:
        f.write("# touched\n")
    assert main(["check", "pyproject.toml"]) == 0  # the lock is read: six stays pinned
    assert capsys.readouterr().err == ""


def test_an_unchanged_repository_is_answered_from_the_stamp(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accept"]) == 0
    _age(repo / "requirements.txt", repo / "depchain-ledger.json", repo)
    assert main(["check"]) == 0  # a pass: the stamp is written

    def no_scan(*args: object, **kwargs: object) -> object:
        raise AssertionError("scanned although nothing changed")

    import depchain.check

    monkeypatch.setattr(depchain.check, "check", no_scan)
    assert main(["check"]) == 0
    # a changed file, or a file added to a folder, and the check runs again
    (repo / "requirements.txt").write_text("requests==2.32.3\nflask>=3\n")
    with pytest.raises(AssertionError, match="scanned"):
        hook.main([])
    (repo / "requirements.txt").write_text("requests==2.32.3\n")
    _age(repo / "requirements.txt")
    monkeypatch.undo()
    monkeypatch.chdir(repo)
    assert main(["check"]) == 0
    monkeypatch.setattr(depchain.check, "check", no_scan)
    assert main(["check"]) == 0
    (repo / "sub").mkdir()
    (repo / "sub" / "requirements.txt").write_text("flask>=3\n")
    with pytest.raises(AssertionError, match="scanned"):
        hook.main([])
    # and a stamp that is not one is no pass
    monkeypatch.undo()
    monkeypatch.chdir(repo)
    stamp = next((repo.parent / "cache" / "check").glob("*.json"))
    stamp.write_text(json.dumps({"schema": 1, "key": "x", "written": 0, "watched": []}))
    assert main(["check"]) == 1  # sub/requirements.txt: flask is new


def test_usage_errors_and_help_never_crash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    assert "trust ledger" in capsys.readouterr().out
    assert main(["check", "--fail-on", "nonsense"]) == 2


def test_the_hook_imports_nothing_heavy_when_nothing_changed(repo: Path) -> None:
    import subprocess
    import sys

    assert main(["accept"]) == 0
    _age(repo / "requirements.txt", repo / "depchain-ledger.json", repo)
    assert main(["check"]) == 0
    probe = (
        "import sys; from depchain.entry import main; code = main(['check']); "
        "heavy = sorted(m for m in ('typer', 'networkx', 'depchain.scanner', 'packaging', "
        "'rich', 'pydantic', 'yaml') if m in sys.modules); print(code, heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, env=os.environ
    )
    assert out.stdout.strip() == "0 []", out.stderr


def test_a_file_depchain_does_not_read_checks_nothing_and_the_ledger_checks_everything(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    assert main(["accept"]) == 0
    (repo / "requirements.txt").write_text("requests==2.32.3\nflask>=3\n")  # not staged
    (repo / "mkdocs.yml").write_text("site_name: x\n")
    capsys.readouterr()
    assert main(["check", "mkdocs.yml"]) == 0  # no input of depchain's changed
    assert capsys.readouterr().err == ""
    # an entry removed from the ledger by hand: the whole repository is compared again
    ledger = json.loads((repo / "depchain-ledger.json").read_text())
    ledger["edges"] = []
    (repo / "depchain-ledger.json").write_text(json.dumps(ledger))
    assert main(["check", "depchain-ledger.json"]) == 1
    err = capsys.readouterr().err
    assert "requirements.txt:1: new dynamic dependency on requests" in err
    assert "requirements.txt:2: new dynamic dependency on flask" in err


# -- what a review on 17 real repositories found: each false failure, in a few lines ------


def _accepted(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    assert main(["accept"]) == 0


def _silent(capsys: pytest.CaptureFixture[str], *argv: str) -> None:
    capsys.readouterr()
    code = main(["check", "--no-stamp", *argv])
    err = capsys.readouterr().err
    assert (code, err) == (0, ""), err


def test_a_client_library_reaches_the_compose_service_read_in_another_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "requirements.txt").unlink()
    _accepted(
        repo,
        {
            "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n'
            'dependencies = ["psycopg==3.2.0"]\n',
            "compose.yml": "services:\n  db:\n    image: postgres:16\n",
            ".env": "DATABASE_URL=postgresql://app:pw@db:5432/app\n",
        },
    )
    _silent(capsys, "pyproject.toml")
    _silent(capsys, ".env")
    _silent(capsys, "compose.yml")


def test_a_requirement_pinned_by_its_compiled_file_is_pinned_in_a_check_of_it_alone(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _accepted(repo, {"requirements.in": "flask\n", "requirements.txt": "flask==3.0.0\n"})
    _silent(capsys, "requirements.in")


def test_the_repository_itself_is_the_same_node_whatever_file_and_folder(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "requirements.txt").unlink()
    workflow = (
        "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n"
    )
    _accepted(repo, {".github/workflows/ci.yml": workflow, "tox.ini": "[testenv]\ndeps = pytest\n"})
    data = json.loads((repo / "depchain-ledger.json").read_text())
    assert {e["from"] for e in data["edges"]} == {"."}
    _silent(capsys, ".github/workflows/ci.yml")
    _silent(capsys, "tox.ini")
    import shutil

    clone = tmp_path / "a-clone-named-otherwise"
    shutil.copytree(repo, clone)
    monkeypatch.chdir(clone)
    _silent(capsys)


def test_one_package_pinned_twice_from_two_indexes_settles_in_one_accept(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _accepted(
        repo,
        {
            "requirements.txt": "-i https://corp.example.com/simple\nflask==3.0.0\n",
            "tools/requirements.txt": "flask==2.0.0\n",
        },
    )
    _silent(capsys)
    assert main(["accept", "--who", "bob"]) == 0
    assert "0 accepted" in capsys.readouterr().err
    data = json.loads((repo / "depchain-ledger.json").read_text())
    [gap] = [g for g in data["gaps"] if g["gap"] == "DC002"]
    assert len(gap["facts"]) == 2 and "who" not in gap


def test_facts_seen_through_other_files_do_not_fail_a_check_of_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = "a" * 64
    _accepted(
        repo,
        {
            "requirements.txt": f"flask==3.0.0 --hash=sha256:{digest}\n",
            "requirements-dev.txt": "flask==3.0.0\npytest==8.3.3\n",
        },
    )
    _silent(capsys, "requirements-dev.txt")


def test_an_index_written_another_way_is_the_same_index(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _accepted(repo, {"requirements.txt": "-i https://Corp.Example.com/simple/\nflask==3.0.0\n"})
    (repo / "requirements.txt").write_text("-i https://corp.example.com/simple\nflask==3.0.0\n")
    _silent(capsys, "requirements.txt")


def test_a_pin_for_the_docs_does_not_pin_what_ships(tmp_path: Path) -> None:
    import depchain

    (tmp_path / "requirements.in").write_text("flask\n")
    (tmp_path / "tox.ini").write_text("[testenv]\ndeps = flask\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "requirements.txt").write_text("flask==3.0.0\n")
    result = depchain.scan(tmp_path)
    assert any(f.id == "DC001" and f.evidence[0].path == "requirements.in" for f in result.findings)
