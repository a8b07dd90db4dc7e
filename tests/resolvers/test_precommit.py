from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.version import Version

import depchain
from depchain.model import Component, Dependency, DependencyKind, Scope, SourceKind
from depchain.resolvers._refs import ref_type
from tests.conftest import real

REPO = re.compile(r"^\s*-\s+repo:\s*(?P<url>\S+)\s*$", re.M)
REV = re.compile(r"^\s*rev:\s*['\"]?(?P<rev>[^\s'\"]+)['\"]?(?:\s+#\s*(?P<comment>.*))?$")


def _remote_repos(path: Path) -> list[tuple[str, str, int, str | None]]:
    """(owner/repo, rev, rev line, comment) of each remote repository, from the raw text."""
    lines = path.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        m = REPO.match(line)
        if not m or m.group("url") in {"local", "meta"}:
            continue
        for j in range(i + 1, min(i + 4, len(lines))):
            rev = REV.match(lines[j])
            if rev:
                owner_repo = "/".join(m.group("url").rstrip("/").split("/")[-2:]).lower()
                out.append((owner_repo, rev.group("rev"), j + 1, rev.group("comment")))
                break
    return out


def _edges(result: depchain.ScanResult, mechanism: str) -> list[tuple[Dependency, Component]]:
    g = result.graph
    out = []
    for d in g.dependencies():
        node = g.node(d.target)
        if d.mechanism == mechanism and isinstance(node, Component):
            out.append((d, node))
    return out


def test_pip_remote_hook_repos_are_build_dependencies_with_their_revs() -> None:
    path = real("pypa__pip/.pre-commit-config.yaml")
    expected = _remote_repos(path)
    assert len(expected) >= 7
    result = depchain.scan(path)
    assert not result.errors
    found = {
        (c.name, c.version, d.evidence[0].line, dict(c.properties)["depchain:ref-type"])
        for d, c in _edges(result, "pre-commit")
    }
    assert found == {(name, rev, line, "tag") for name, rev, line, _ in expected}
    for d, c in _edges(result, "pre-commit"):
        assert (d.kind, d.scope) == (DependencyKind.BUILD, Scope.DEV)
        assert c.id == f"pkg:github/{c.name}@{c.version}"
        assert c.sources[0].kind is SourceKind.VCS and c.sources[0].commit is None
    # mypy's additional_dependencies, a flow list over several lines
    text = path.read_text()
    start = text.index("additional_dependencies: [")
    block = text[start : text.index("]", start)]
    items = re.findall(r"'([^']+)'", block)
    assert items
    deps = {c.name: (d, c) for d, c in _edges(result, "pre-commit-dependency")}
    assert {re.split(r"[=<>]", i)[0] for i in items} == set(deps)
    for item in items:
        name, _, version = item.partition("==")
        d, c = deps[name]
        assert c.ecosystem == "pypi"
        assert c.version == (str(Version(version)) if version else None)
        assert (d.kind, d.scope) == (DependencyKind.BUILD, Scope.DEV)
        line = next(i + 1 for i, raw in enumerate(text.splitlines()) if f"'{item}'" in raw)
        assert d.evidence[0].line == line
    # the local hook repository is no component
    assert not any("local" in c.name for c in result.graph.components())


def test_flask_sha_revs_with_frozen_comments() -> None:
    path = real("pallets__flask/.pre-commit-config.yaml")
    expected = _remote_repos(path)
    assert expected and all(re.fullmatch(r"[0-9a-f]{40}", rev) for _, rev, _, _ in expected)
    result = depchain.scan(path)
    assert not result.errors
    found = {
        (c.name, c.version, d.evidence[0].line): dict(c.properties)
        for d, c in _edges(result, "pre-commit")
    }
    assert set(found) == {(n, r, line) for n, r, line, _ in expected}
    for name, rev, line, comment in expected:
        assert comment and comment.startswith("frozen:")
        properties = found[(name, rev, line)]
        assert properties["depchain:ref-type"] == "sha"
        assert properties["depchain:claimed-version"] == comment.split(":", 1)[1].strip()
    for _, c in _edges(result, "pre-commit"):
        assert c.sources[0].commit == c.version


def test_every_real_world_pre_commit_config_reads_cleanly(real_world: Path) -> None:
    """Each .pre-commit-config.yaml of the data set: no error, each remote hook
    repository of its raw text one dev build-time component with its rev, at its line;
    each additional dependency a PyPI package named on its line."""
    files = sorted(real_world.rglob(".pre-commit-config.yaml"))
    assert len(files) >= 8
    repos = hooks_deps = 0
    for path in files:
        result = depchain.scan(path)
        assert not result.errors, (path, result.errors)
        expected = _remote_repos(path)
        found = {
            (c.name.lower(), c.version, e.line)
            for d, c in _edges(result, "pre-commit")
            for e in d.evidence
        }
        assert found == {(name, rev, line) for name, rev, line, _ in expected}, path
        for d, c in _edges(result, "pre-commit"):
            assert c.version is not None
            assert (d.kind, d.scope, c.ecosystem) == (DependencyKind.BUILD, Scope.DEV, "github")
            assert c.id == f"pkg:github/{c.name}@{c.version}"
            assert dict(c.properties)["depchain:ref-type"] == ref_type(c.version), c.id
            (source,) = c.sources
            assert source.kind is SourceKind.VCS
            assert source.commit == (c.version if ref_type(c.version) == "sha" else None)
        lines = path.read_text().splitlines()
        for d, c in _edges(result, "pre-commit-dependency"):
            assert (d.kind, d.scope, c.ecosystem) == (DependencyKind.BUILD, Scope.DEV, "pypi")
            [e] = d.evidence
            assert e.line is not None
            assert c.name in lines[e.line - 1].lower().replace("_", "-"), (path, c.name, e)
        repos += len(expected)
        hooks_deps += len(_edges(result, "pre-commit-dependency"))
    assert repos >= 30 and hooks_deps >= 10, (repos, hooks_deps)


def test_urls_languages_and_local_hooks(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "- repo: https://gitlab.com/pycqa/flake8.git\n"
        "  rev: 7.0.0\n"
        "  hooks:\n"
        "  - id: flake8\n"
        "    additional_dependencies: [flake8-bugbear==24.2.6]\n"
        "- repo: git@github.com:Owner/Repo.git\n"
        "  rev: main\n"
        "  hooks:\n"
        "  - id: prettier\n"
        "    language: node\n"
        "    additional_dependencies:\n"
        "    - prettier@3.3.3\n"
        "    - '@prettier/plugin-xml@3.4.1'\n"
        "- repo: local\n"
        "  hooks:\n"
        "  - id: mypy\n"
        "    name: mypy\n"
        "    entry: mypy\n"
        "    language: python\n"
        "    additional_dependencies: ['types-requests>=2', 'attrs[tests]']\n"
        "- repo: meta\n"
        "  hooks:\n"
        "  - id: check-hooks-apply\n"
    )
    result = depchain.scan(tmp_path / ".pre-commit-config.yaml")
    assert not result.errors, result.errors
    repos = {c.name: c for _, c in _edges(result, "pre-commit")}
    assert set(repos) == {"flake8", "owner/repo"}
    assert repos["flake8"].id == (
        "pkg:generic/flake8@7.0.0?vcs_url=https://gitlab.com/pycqa/flake8.git%407.0.0"
    )
    assert dict(repos["owner/repo"].properties)["depchain:ref-type"] == "branch"
    assert repos["owner/repo"].id == "pkg:github/owner/repo@main"
    deps = {c.name: c for _, c in _edges(result, "pre-commit-dependency")}
    assert set(deps) == {
        "flake8-bugbear",
        "prettier",
        "@prettier/plugin-xml",
        "types-requests",
        "attrs",
    }
    assert deps["flake8-bugbear"].id == "pkg:pypi/flake8-bugbear@24.2.6"
    assert deps["prettier"].id == "pkg:generic/prettier@3.3.3"
    assert deps["@prettier/plugin-xml"].version == "3.4.1"
    lines = {c.name: d.evidence[0].line for d, c in _edges(result, "pre-commit-dependency")}
    assert lines == {
        "flake8-bugbear": 6,
        "prettier": 13,
        "@prettier/plugin-xml": 14,
        "types-requests": 21,
        "attrs": 21,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repos: {a: 1}\n", "line 1: repos is a mapping, expected a list"),
        ("repos:\n- 7\n", "line 2: repos[0] is a number"),
        ("repos:\n- repo: https://github.com/a/b\n  hooks: []\n", "line 2: repos[0].repo"),
        (
            "repos:\n- repo: https://github.com/a/b\n  rev: 1.0\n",
            "line 3: repos[0].rev is a number",
        ),
        (
            "repos:\n- repo: https://github.com/a/b\n  rev: v1\n  hooks: {}\n",
            "line 4: repos[0].hooks",
        ),
        (
            "repos:\n- repo: local\n  hooks:\n  - id: x\n    additional_dependencies: six\n",
            "line 5: repos[0].hooks[0].additional_dependencies is a string",
        ),
        ("repos:\n- repo: [1]\n", "line 2: repos[0].repo needs a repository URL"),
    ],
)
def test_wrong_types_are_errors_naming_the_line(tmp_path: Path, text: str, expected: str) -> None:
    good = "- repo: https://github.com/psf/black\n  rev: 24.4.2\n"
    (tmp_path / ".pre-commit-config.yaml").write_text(text + (good if "- " in text else ""))
    result = depchain.scan(tmp_path / ".pre-commit-config.yaml")
    (error,) = result.errors
    assert error.path == ".pre-commit-config.yaml"
    assert error.message.startswith(expected), error.message
    if "- " in text:  # the other entries are still read
        assert "psf/black" in {c.name for c in result.graph.components()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repos:\n  - repo: [\n", "invalid YAML"),
        ("repos: []\nrepos: []\n", "duplicate key 'repos'"),
        ("just a string\n", "found a string"),
        ("ci: {}\n", "no repos:"),
    ],
)
def test_malformed_configs_are_one_line_errors_and_the_scan_goes_on(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text(text)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == ".pre-commit-config.yaml"
    assert expected in error.message and "\n" not in error.message
    assert "six" in {c.name for c in result.graph.components()}
