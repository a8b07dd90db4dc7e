from __future__ import annotations

from pathlib import Path

import depchain
from depchain.model import DependencyKind, Scope
from tests.conftest import real


def edges_from(result: depchain.ScanResult, subject: str) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for d in result.graph.dependencies_of(subject):
        out.setdefault(result.graph.node(d.target).name, []).append(d)
    return out


def test_build_system_requirements_are_build_edges_from_the_project() -> None:
    result = depchain.scan(real("pydantic__pydantic/pyproject.toml"))
    assert result.subject == "pkg:pypi/pydantic"
    edges = edges_from(result, result.subject)
    (hatchling,) = edges["hatchling"]
    assert hatchling.kind is DependencyKind.BUILD and hatchling.scope is Scope.REQUIRED
    assert hatchling.mechanism == "build-backend"  # it provides hatchling.build
    assert hatchling.evidence[0].path == "pyproject.toml" and hatchling.evidence[0].line == 2
    (readme,) = edges["hatch-fancy-pypi-readme"]
    assert readme.kind is DependencyKind.BUILD and readme.mechanism == "build-system"
    subject = result.graph.node(result.subject)
    assert ("depchain:build-backend", "hatchling.build") in subject.properties  # type: ignore[union-attr]


def test_extras_are_optional_dynamic_and_groups_are_dev_build() -> None:
    result = depchain.scan(real("pydantic__pydantic/pyproject.toml"))
    edges = edges_from(result, result.subject)
    (email,) = edges["email-validator"]
    assert (email.kind, email.scope, email.mechanism) == (
        DependencyKind.DYNAMIC,
        Scope.OPTIONAL,
        "extra",
    )
    assert email.groups == ("email",)
    (core,) = edges["pydantic-core"]
    assert (core.kind, core.scope) == (DependencyKind.DYNAMIC, Scope.REQUIRED)
    assert result.graph.node(core.target).version == "2.48.0"  # type: ignore[union-attr]
    (pytest_edge,) = edges["pytest"]
    assert (pytest_edge.kind, pytest_edge.scope) == (DependencyKind.BUILD, Scope.DEV)
    assert "dev" in pytest_edge.groups


def test_include_group_is_expanded_and_a_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1.0"\n'
        "[dependency-groups]\n"
        'test = ["pytest>=8", {include-group = "lint"}]\n'
        'lint = ["ruff==0.6.0"]\n'
        'a = [{include-group = "b"}]\n'
        'b = [{include-group = "a"}]\n'
    )
    result = depchain.scan(tmp_path)
    edges = edges_from(result, "pkg:pypi/demo@1.0")
    assert sorted(edges["ruff"][0].groups) == ["lint", "test"]
    assert edges["pytest"][0].groups == ("test",)
    messages = [e.message for e in result.errors]
    assert any("dependency group cycle: a -> b -> a" in m for m in messages), messages


def test_direct_vcs_reference_keeps_repository_and_ref() -> None:
    result = depchain.scan(real("python-poetry__poetry/pyproject.toml"))
    core = next(c for c in result.graph.components() if c.name == "poetry-core" and c.sources)
    (source,) = core.sources
    assert "vcs_url=" in core.id  # a VCS build is not the registry release of that name
    assert source.kind.value == "vcs"
    assert source.url and source.url.startswith("git+https://github.com/python-poetry/poetry-core")


def test_poetry_tables_pre_pep621() -> None:
    result = depchain.scan(real("python-poetry__poetry__lock-v1.1/pyproject.toml"))
    edges = edges_from(result, result.subject)
    assert result.subject.startswith("pkg:pypi/poetry@")
    assert "python" not in edges  # the interpreter constraint is no distribution
    kinds = {(d.kind, d.mechanism) for d in edges["poetry-core"]}
    assert kinds == {
        (DependencyKind.DYNAMIC, "requirement"),
        (DependencyKind.BUILD, "build-backend"),
    }
    dev = [d for ds in edges.values() for d in ds if d.scope is Scope.DEV]
    assert dev and all(d.kind is DependencyKind.BUILD for d in dev)
    # caret constraints become PEP 440 ranges
    cachecontrol = edges["cachecontrol"][0]
    assert cachecontrol.specifier is not None and "<" in cachecontrol.specifier


def test_setup_cfg_is_parsed_statically() -> None:
    result = depchain.scan(real("psf__requests__pre-pep517"))
    names = {result.graph.node(d.target).name for d in result.graph.dependencies()}
    assert names == {"certifi", "charset_normalizer", "idna", "urllib3"}
    assert not result.errors


def test_setup_py_is_noted_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "setup.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    result = depchain.scan(tmp_path)
    assert not marker.exists()
    assert result.notes and "not executed" in result.notes[0][1]
    assert not result.errors


def test_malformed_pyproject_names_the_position(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = [\n  "a",\n  b\n]\n'
    )
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == "pyproject.toml"
    assert "invalid TOML" in error.message and "line 5" in error.message
    assert "\n" not in error.message


def test_invalid_requirement_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["good>=1", "bad ==="]\n'
    )
    result = depchain.scan(tmp_path)
    assert [c.name for c in result.graph.components() if c.name == "good"] == ["good"]
    (error,) = result.errors
    assert error.message.startswith("line 4: invalid requirement 'bad ==='")
