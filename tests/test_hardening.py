"""Regressions from review: secrets, misread requirements, crashes, identity, serials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import depchain
from depchain.cli import main
from depchain.export import cyclonedx, json_report
from depchain.ids import pypi_component
from depchain.model import Evidence

TOKEN = "ghp_s3cr3tT0k3n"


def test_credentials_in_urls_never_reach_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text(
        f"--extra-index-url https://deploy:{TOKEN}@pkgs.example.com/simple\n"
        f"bar @ git+https://x-access-token:{TOKEN}@github.com/org/bar.git@v1\n"
        f"-e git+https://{TOKEN}@github.com/org/baz.git@main#egg=baz\n"
        f"https://user:{TOKEN}@files.example.com/qux-1.0.tar.gz\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["torch"]\n'
        f'[[tool.uv.index]]\nname = "private"\nurl = "https://me:{TOKEN}@idx.example.com/simple"\n'
    )
    for args in (["scan", "-f", "json"], ["scan"], ["sbom"], ["sbom", "-f", "cyclonedx-xml"]):
        assert (
            main([*args, str(tmp_path), *(["--fail-on", "never"] if "scan" in args else [])]) == 0
        )
        out = capsys.readouterr().out
        assert TOKEN not in out
        assert args == ["scan"] or "***@" in out  # the table shows no URLs
    result = depchain.scan(tmp_path)
    bar = next(c for c in result.graph.components() if c.name == "bar")
    assert bar.sources[0].url == "git+https://***@github.com/org/bar.git"


def test_named_archive_url_and_local_archives(tmp_path: Path) -> None:
    digest = "a" * 64
    (tmp_path / "requirements.txt").write_text(
        f"foo @ https://example.com/dl/foo-1.0-py3-none-any.whl --hash=sha256:{digest}\n"
        "./dist/spam-2.1.tar.gz\n"
        "-e src/pkg\n"
    )
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    result = depchain.scan(tmp_path / "requirements.txt")
    assert not result.errors, result.errors
    by_name = {c.name: c for c in result.graph.components()}
    foo = by_name["foo"]
    assert foo.sources[0].kind.value == "url" and foo.hashes[0].value == digest
    spam = by_name["spam"]
    assert (spam.version, spam.sources[0].kind.value) == ("2.1", "path")
    pkg = by_name["pkg"]
    assert pkg.sources[0].editable and pkg.sources[0].url == "src/pkg"


def test_environment_variables_are_named_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("${PRIVATE_URL}/pkg.tar.gz\nsix==1.16.0\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert "environment variable" in error.message and error.message.startswith("line 1")


def test_a_constraints_file_found_on_its_own_installs_nothing(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-c constraints.txt\nrequests\n")
    (tmp_path / "constraints.txt").write_text("requests==2.32.3\nurllib3==2.2.2\ndjango==4.2\n")
    result = depchain.scan(tmp_path)
    names = {c.name for c in result.graph.components()}
    assert "django" not in names and "urllib3" not in names
    (requests,) = [c for c in result.graph.components() if c.name == "requests"]
    assert requests.version == "2.32.3"


def test_includes_may_not_leave_the_tree(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    (tmp_path / "outside.txt").write_text("evil==1\n")
    (project / "requirements.txt").write_text("-r ../outside.txt\n-r /etc/hostname\nsix==1\n")
    result = depchain.scan(project)
    messages = sorted(e.message for e in result.errors)
    assert len(messages) == 2 and all("outside the scanned tree" in m for m in messages)
    assert "evil" not in {c.name for c in result.graph.components()}


def test_an_unforeseen_failure_is_one_error_and_the_scan_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depchain.resolvers import pdmlock

    def boom(path: object, ctx: object) -> object:
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(pdmlock, "resolve", boom)
    (tmp_path / "pdm.lock").write_text("")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    out = tmp_path / "r.json"
    assert main(["scan", str(tmp_path), "-f", "json", "-o", str(out)]) == 3
    report = json.loads(out.read_text())
    (error,) = report["errors"]
    assert error["path"] == "pdm.lock" and error["message"].startswith(
        "could not be read (TypeError"
    )
    assert "six" in {c["name"] for c in report["components"]}


def test_deeply_nested_toml_and_json(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "Pipfile.lock").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    assert {e.path for e in result.errors} == {"uv.lock", "Pipfile.lock"}
    assert "six" in {c.name for c in result.graph.components()}


def test_versions_and_names_are_normalised_into_one_node(tmp_path: Path) -> None:
    ev = Evidence("x", 1, "t")
    assert (
        pypi_component("Flask", "3.2.0.dev", ev).id == pypi_component("flask", "3.2.0.dev0", ev).id
    )
    (tmp_path / "requirements.in").write_text("zope.sqlalchemy\n")
    (tmp_path / "requirements.txt").write_text("zope-sqlalchemy==4.1\n")
    result = depchain.scan(tmp_path)
    assert [c.id for c in result.graph.components() if "sqlalchemy" in c.name] == [
        "pkg:pypi/zope-sqlalchemy@4.1"
    ]


def test_build_backend_is_the_exact_provider(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64", "setuptools-scm>=8"]\n'
        'build-backend = "setuptools.build_meta"\n[project]\nname = "p"\nversion = "1"\n'
    )
    result = depchain.scan(tmp_path)
    mechanisms = {
        result.graph.node(d.target).name: d.mechanism for d in result.graph.dependencies()
    }
    assert mechanisms == {"setuptools": "build-backend", "setuptools-scm": "build-system"}


def test_poetry_text_that_is_no_constraint_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "p"\nversion = "1"\n'
        '[tool.poetry.dependencies]\nfoo = "v1.2"\nbaz = "latest"\nok = "^1.2"\n'
    )
    result = depchain.scan(tmp_path)
    assert {c.name for c in result.graph.components()} >= {"ok"}
    assert not {"foov1-2", "bazlatest"} & {c.name for c in result.graph.components()}
    assert len(result.errors) == 2


def test_escaped_quotes_still_find_their_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\ndependencies = [\n'
        '  "tomli>=1.1.0; python_version < \\"3.11\\"",\n]\n'
    )
    result = depchain.scan(tmp_path)
    (tomli,) = [d for d in result.graph.dependencies() if "tomli" in d.target]
    assert tomli.evidence[0].line == 5


def test_serial_number_follows_the_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.16.0 --hash=sha256:" + "a" * 64 + "\n")
    first = json.loads(cyclonedx.render(depchain.scan(tmp_path)))["serialNumber"]
    again = json.loads(cyclonedx.render(depchain.scan(tmp_path)))["serialNumber"]
    req.write_text("six==1.16.0 --hash=sha256:" + "b" * 64 + "\n")
    changed = json.loads(cyclonedx.render(depchain.scan(tmp_path)))["serialNumber"]
    assert first == again != changed


def test_other_projects_in_the_tree_do_not_make_the_subjects_scope(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["six==1.16.0"]\n'
    )
    (tmp_path / "examples" / "demo").mkdir(parents=True)
    (tmp_path / "examples" / "demo" / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["flask==2.3.2"]\n'
    )
    result = depchain.scan(tmp_path)
    scopes = cyclonedx.scopes(result)
    assert scopes["pkg:pypi/six@1.16.0"] == "required"
    assert scopes["pkg:pypi/flask@2.3.2"] == "excluded"
    report = json_report.build(result)
    assert report["subject"] == "pkg:pypi/app@1"


def test_include_diamonds_are_linear(tmp_path: Path) -> None:
    """Each file of a -r diamond (every file includes the next twice) and each group of
    an include-group diamond is read once: depth 30 would be 2**30 reads otherwise."""
    depth = 30
    for i in range(depth):
        (tmp_path / f"requirements-{i}.txt").write_text(
            f"-r requirements-{i + 1}.txt\n-r requirements-{i + 1}.txt\npkg{i}==1.0\n"
        )
    (tmp_path / f"requirements-{depth}.txt").write_text("six==1.16.0\n")
    groups = "\n".join(
        f'g{i} = [{{include-group = "g{i + 1}"}}, {{include-group = "g{i + 1}"}}, "p{i}==1"]'
        for i in range(depth)
    )
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\nversion = "1"\n\n[dependency-groups]\n{groups}\n'
        f'g{depth} = ["six==1.16.0"]\n'
    )
    result = depchain.scan(tmp_path / "requirements-0.txt")
    assert not result.errors and len(result.graph.components()) == depth + 2
    result = depchain.scan(tmp_path / "pyproject.toml")
    assert not result.errors
    names = {c.name for c in result.graph.components()}
    assert {f"p{i}" for i in range(depth)} | {"six"} <= names


def test_include_depth_is_bounded(tmp_path: Path) -> None:
    for i in range(80):
        (tmp_path / f"r{i}-requirements.txt").write_text(f"-r r{i + 1}-requirements.txt\n")
    (tmp_path / "r80-requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path / "r0-requirements.txt")
    assert any("nested deeper than 64" in e.message for e in result.errors)


def test_integers_of_any_size_are_read(tmp_path: Path) -> None:
    big = "1" * 5000
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\nversion = "1"\ndependencies = ["six==1.16.0"]\n\n'
        f"[tool.other]\nn = {big}\n"
    )
    (tmp_path / "depchain.toml").write_text('fail-on = "high"\n\n[trusted.pypi]\nowners = []\n')
    (tmp_path / "vcpkg.json").write_text(
        '{"name": "x", "version-semver": "1.0.0", "dependencies": ["zlib"], "n": ' + big + "}"
    )
    (tmp_path / "compose.yml").write_text(
        f"services:\n  db:\n    image: postgres:16\n    x: {big}\n"
    )
    (tmp_path / "Pipfile.lock").write_text(
        '{"_meta": {"n": ' + big + '}, "default": {"six": {"version": "==1.16.0"}}, "develop": {}}'
    )
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    ids = {c.id for c in result.graph.components()}
    assert {"pkg:pypi/six@1.16.0", "pkg:docker/library/postgres@16"} <= ids
    assert any(c.name == "zlib" for c in result.graph.components())


def test_max_file_size_covers_policy_and_ledger(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "depchain.toml").write_text('fail-on = "high"\n# ' + "x" * 3_000_000 + "\n")
    (tmp_path / "depchain-ledger.json").write_text('{"pad": "' + "x" * 3_000_000 + '"}')
    result = depchain.scan(tmp_path, max_file_size=1024 * 1024)
    where = {e.path for e in result.errors if "larger than" in e.message or "MiB" in e.message}
    assert where == {"depchain.toml", "depchain-ledger.json"}, result.errors
