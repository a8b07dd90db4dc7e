from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import depchain
from depchain.model import Component, Dependency, DependencyKind, Scope
from tests.conftest import real


def _raw_deps(path: Path) -> list[tuple[str, int, str]]:
    """(environment, line, text) of each `deps` line, read from the raw text: the value
    after `deps =` and the indented lines that continue it, factor prefixes removed."""
    out: list[tuple[str, int, str]] = []
    env: str | None = None
    in_deps = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        header = re.match(r"^\[(testenv)(?::(.+))?\]\s*$", line)
        if line.startswith("["):
            env = (header.group(2) or "testenv") if header else None
            in_deps = False
            continue
        if env is None:
            continue
        key = re.match(r"^deps\s*=\s*(.*)$", line)
        if key:
            in_deps, value = True, key.group(1)
        elif in_deps and line[:1] in {" ", "\t"}:
            value = line
        else:
            in_deps = False
            continue
        value = re.sub(r"^[\w{}.!,-]+:\s+", "", value.strip())
        if value:
            out.append((env, number, value))
    return out


def _edges(result: depchain.ScanResult) -> list[tuple[Dependency, Component]]:
    g = result.graph
    out = []
    for d in g.dependencies():
        node = g.node(d.target)
        assert isinstance(node, Component)
        out.append((d, node))
    return out


def test_flask_pre_uv_tox_deps() -> None:
    path = real("pallets__flask__pre-uv/tox.ini")
    raw = _raw_deps(path)
    names = [(env, line, text) for env, line, text in raw if not text.startswith("-")]
    files = [(line, text) for _, line, text in raw if text.startswith("-")]
    assert names and files
    result = depchain.scan(path)
    assert not result.errors
    found = {
        (group, e.line, c.name)
        for d, c in _edges(result)
        for group, e in zip(d.groups, d.evidence, strict=True)
    }
    assert found == set(names)
    for d, c in _edges(result):
        assert (d.kind, d.scope, d.mechanism) == (DependencyKind.BUILD, Scope.DEV, "tox")
        assert c.id == f"pkg:pypi/{c.name}"
    # -r files are not read here (the requirements resolver reads them); each is noted
    notes = {message for _, message in result.notes}
    for line, text in files:
        file = text.split()[-1]
        assert any(n.startswith(f"line {line}:") and file in n for n in notes), (line, notes)


def test_requests_tox_names_only_a_requirements_file() -> None:
    path = real("psf__requests/tox.ini")
    raw = _raw_deps(path)
    assert raw and all(text.startswith("-r") for _, _, text in raw)
    result = depchain.scan(path)
    assert not result.errors
    assert not result.graph.dependencies()
    assert [m for _, m in result.notes] == [
        f"line {line}: -r {text[2:].strip()}: the file is not read here" for _, line, text in raw
    ]


def test_factors_substitutions_indexes_and_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(
        "[tox]\n"
        "requires =\n"
        "    tox-uv>=1\n"
        "[testenv]\n"
        "deps =\n"
        "    pytest>=8  # the runner\n"
        "    py38,min: attrs==21.3.0\n"
        "    !dev: coverage[toml]\n"
        "    # a comment line\n"
        "    -c constraints.txt\n"
        "    --index-url https://pypi.example.org/simple\n"
        "    requests ===\n"
        "    {env:EXTRA_DEP:six}\n"
        "    -e .\n"
        "    .[tests]\n"
        "[testenv:lint]\n"
        "deps =\n"
        "    {[testenv]deps}\n"
        "    ruff\n"
        "[flake8]\n"
        "deps = not-a-tox-section\n"
    )
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == "tox.ini" and error.message.startswith("line 12: [testenv] ")
    found = {
        (c.name, c.version, d.mechanism, d.groups, d.evidence[0].line, d.specifier)
        for d, c in _edges(result)
        if d.evidence[0].path == "tox.ini"
    }
    assert found == {
        ("tox-uv", None, "tox-requires", ("tox",), 3, ">=1"),
        ("pytest", None, "tox", ("testenv",), 6, ">=8"),
        ("attrs", "21.3.0", "tox", ("testenv",), 7, "==21.3.0"),
        ("coverage", None, "tox", ("testenv",), 8, None),
        ("ruff", None, "tox", ("lint",), 19, None),
    }
    pytest_dep = next(d for d, c in _edges(result) if c.name == "pytest")
    assert [i.url for i in pytest_dep.indexes] == ["https://pypi.example.org/simple"]
    notes = [m for p, m in result.notes if p == "tox.ini"]
    assert [n.split(":")[0] for n in notes] == ["line 10", "line 13", "line 14", "line 15"]
    # the good file beside it is read
    assert "six" in {c.name for c in result.graph.components()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deps = x\n", "line 1: text before the first [section] header"),
        ("[testenv]\ndeps = a\ndeps = b\n", "line 3: option 'deps' repeated in section [testenv]"),
        ("[testenv]\n[testenv]\n", "line 2: section [testenv] repeated"),
        ("[testenv]\n=x\n", "line 2: neither a [section], a key = value nor a continuation"),
    ],
)
def test_malformed_tox_ini_is_one_line_error_and_the_scan_goes_on(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "tox.ini").write_text(text)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == "tox.ini"
    assert error.message == expected
    assert "six" in {c.name for c in result.graph.components()}


def test_every_real_world_tox_ini_reads_cleanly(real_world: Path) -> None:
    """Each tox.ini of the data set: no error, each `deps` requirement of its raw text
    one dev build-time edge at its line in its environment, each -r a note; and what the
    data set holds, named."""
    files = sorted(real_world.rglob("tox.ini"))
    assert files
    every: set[tuple[str, str, str]] = set()
    for path in files:
        result = depchain.scan(path)
        assert not result.errors, (path, result.errors)
        raw = _raw_deps(path)
        expected = {
            (env, line, canonicalize_name(Requirement(text).name))
            for env, line, text in raw
            if not text.startswith("-")
        }
        found = {
            (group, e.line, c.name)
            for d, c in _edges(result)
            for group, e in zip(d.groups, d.evidence, strict=True)
        }
        assert found == expected, (path, found ^ expected)
        for d, c in _edges(result):
            assert (d.kind, d.scope, d.mechanism) == (DependencyKind.BUILD, Scope.DEV, "tox")
            assert c.id == f"pkg:pypi/{c.name}" and c.ecosystem == "pypi"
        notes = [m for _, m in result.notes]
        files_named = [text for _, _, text in raw if text.startswith("-r")]
        assert len(notes) == len(files_named), (path, notes)
        every |= {(path.parent.name, env, name) for env, _, name in found}
    assert {
        ("pallets__flask__pre-uv", "style", "pre-commit"),
        ("pallets__flask__pre-uv", "update-actions", "gha-update"),
        ("pallets__flask__pre-uv", "update-pre_commit", "pre-commit"),
        ("pallets__flask__pre-uv", "update-requirements", "pip-tools"),
    } <= every


def test_a_bare_url_in_deps_is_read_as_pip_reads_it(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(
        "[testenv]\ndeps =\n    pytest\n"
        "    pipmain: https://github.com/pypa/pip/archive/main.zip\n"
        "    https://example.org/nothing-here\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    pip = next(c for c in result.graph.components() if c.name == "pip")
    assert pip.sources and pip.sources[0].url == "https://github.com/pypa/pip/archive/main.zip"
    assert any("names no project" in m for _, m in result.notes)
