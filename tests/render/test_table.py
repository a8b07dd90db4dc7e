from __future__ import annotations

from pathlib import Path

import depchain
from depchain.render import table
from tests.conftest import REPO


def test_table_fits_80_columns_and_shows_the_project_first() -> None:
    text = table.render(depchain.scan(REPO / "examples" / "webapp"))
    assert max(len(line) for line in text.splitlines()) <= 80
    headers = [line.split(" ")[0] for line in text.splitlines() if line[:1].isupper()]
    assert headers == ["PROJECT", "DYNAMIC", "SERVICE", "TRUST"]
    project = text.split("PROJECT ")[1].split("\n\n")[0]
    sections = [
        line.split(":")[0].strip()
        for line in project.splitlines()
        if line[:2] == " r" or line[:2] == " s" or line[:2] == " b"
    ]
    # its direct runtime dependencies first, then services, then build and dev
    assert sections == ["runtime", "services", "build/dev"]
    runtime = project.split(" services:")[0]
    assert "flask" in runtime and "pytest" not in runtime
    assert "pytest" in project.split(" build/dev:")[1]


def test_wide_terminals_get_wide_columns_and_whole_messages(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "a-package-with-a-rather-long-distribution-name>=1\n"
    )
    result = depchain.scan(tmp_path)
    narrow = table.render(result)
    wide = table.render(result, width=200)
    message = result.findings[0].message
    assert message not in narrow and message in wide
    assert "a-package-with-a-rather-long-distribution-name " in wide
    assert max(len(line) for line in wide.splitlines()) <= 200


def test_two_db_services_are_told_apart(tmp_path: Path) -> None:
    for folder in ("shop", "billing"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "compose.yml").write_text("services:\n  db:\n    image: postgres:16\n")
    text = table.render(depchain.scan(tmp_path))
    assert "db (compose shop/)" in text and "db (compose billing/)" in text


def test_one_row_per_pair_with_all_its_evidence_counted() -> None:
    text = table.render(depchain.scan(REPO / "examples" / "webapp"))
    flask = [line for line in text.splitlines() if line.split()[:1] == ["flask"]]
    assert flask
    # pyproject.toml, uv.lock and requirements/prod.txt all say the project needs flask
    assert len(flask) == 1 and flask[0].rstrip().endswith("pyproject.toml:11 +2")


def test_editable_dot_in_a_subfolder_means_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "prod.txt").write_text("-e .\nsix==1.16.0\n")
    result = depchain.scan(tmp_path)
    assert {c.name for c in result.graph.components()} == {"app", "six", "setuptools"}
    assert not result.errors


def test_kinds_only_other_components_have_are_summed_up_per_dependent(tmp_path: Path) -> None:
    from depchain.graph import DependencyGraph
    from depchain.ids import generic_component, pypi_component
    from depchain.model import Dependency, DependencyKind, Evidence, Scope
    from depchain.scanner import ScanResult

    ev = Evidence("x", None, "t")
    g = DependencyGraph()
    env, numpy = generic_component("env", ev), pypi_component("numpy", "2.0", ev)
    libs = [pypi_component(f"lib{i}", "1", ev) for i in range(3)]
    for c in (env, numpy, *libs):
        g.add_node(c)
    g.add_dependency(
        Dependency(env.id, numpy.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "installed", (ev,))
    )
    for i, lib in enumerate(libs):
        g.add_dependency(
            Dependency(
                numpy.id,
                lib.id,
                DependencyKind.STATIC,
                Scope.REQUIRED,
                "bundled" if i else "pep770",
                (ev,),
            )
        )
    text = table.render(ScanResult(root=tmp_path, target=tmp_path, graph=g, subject=env.id))
    static = text.split("STATIC (3)")[1].split("\n\n")[0].splitlines()
    assert static[1].split() == ["dependent", "edges", "how"]
    assert static[2].split() == ["numpy", "3", "bundled", "2,", "pep770", "1"]


def test_a_project_is_shown_at_its_own_manifest(tmp_path: Path) -> None:
    """pallets/flask: the heading said 'PROJECT Flask 3.2.0.dev0 (runtime;
    examples/celery/pyproject.toml)', the first of its evidence by path: an example
    that requires it (and that the project's node took in)."""
    from depchain.graph import DependencyGraph
    from depchain.ids import pypi_component
    from depchain.model import Dependency, DependencyKind, Evidence, Role, Scope
    from depchain.scanner import ScanResult

    example = Evidence("examples/celery/pyproject.toml", 7, "pyproject", Role.EXAMPLE)
    g = DependencyGraph()
    app = pypi_component("app", "1.0", Evidence("uv.lock", 9, "uv-lock"))
    g.add_node(app)
    g.add_node(pypi_component("app", "1.0", Evidence("pyproject.toml", 2, "pyproject")))
    g.add_node(pypi_component("app", "1.0", example))
    six = pypi_component("six", "1", Evidence("uv.lock", 20, "uv-lock"))
    g.add_node(six)
    g.add_dependency(
        Dependency(app.id, six.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "lock", six.evidence)
    )
    text = table.render(ScanResult(root=tmp_path, target=tmp_path, graph=g, subject=app.id))
    assert "PROJECT app 1.0 (runtime; pyproject.toml)" in text
