"""Second review of the Python side, on repositories not tried before (pipenv, httpx,
scrapy, black, fastapi, django-debug-toolbar, uv): each test is the smallest file that
showed the mistake."""

from __future__ import annotations

from pathlib import Path

import depchain
from depchain.model import DependencyKind, Scope


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_submodule_under_tests_is_the_tests_not_shipped(tmp_path: Path) -> None:
    # pipenv's .gitmodules checks flask, requests, six... out under tests/test_artifacts/:
    # they were static runtime components of pipenv (and DC012 gaps each)
    _write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n',
            ".gitmodules": (
                '[submodule "tests/artifacts/flask"]\n'
                "\tpath = tests/artifacts/flask\n"
                "\turl = https://github.com/pallets/flask.git\n"
                '[submodule "docs/theme"]\n'
                "\tpath = docs/theme\n"
                "\turl = https://github.com/example/theme.git\n"
                '[submodule "third_party/zlib"]\n'
                "\tpath = third_party/zlib\n"
                "\turl = https://github.com/madler/zlib.git\n"
            ),
        },
    )
    result = depchain.scan(tmp_path)
    subs = {
        result.graph.node(d.target).name: d
        for d in result.graph.dependencies()
        if d.mechanism == "git-submodule"
    }
    assert (subs["zlib"].kind, subs["zlib"].scope) == (DependencyKind.STATIC, Scope.REQUIRED)
    for name in ("flask", "theme"):
        assert (subs[name].kind, subs[name].scope) == (DependencyKind.BUILD, Scope.DEV)
    flask = result.graph.node(subs["flask"].target)
    assert ("depchain:submodule-role", "test (under tests/)") in flask.properties
    gaps = {f.id for f in result.findings if f.component == subs["flask"].target}
    assert "DC012" not in gaps  # not carried in what ships: no vendored-code gap


def test_a_requirements_file_that_installs_its_project_editable_is_for_development(
    tmp_path: Path,
) -> None:
    # httpx's requirements.txt: '-e .[brotli,cli,http2,socks,zstd]', then the pinned
    # docs, packaging and test tools: mkdocs, twine, pytest, mypy, ruff... were all
    # required runtime dependencies of httpx
    _write(
        tmp_path,
        {
            "pyproject.toml": ('[project]\nname = "app"\nversion = "1"\ndependencies = ["idna"]\n'),
            "requirements.txt": "-e .[cli]\n\nmkdocs==1.6.1\npytest==8.4.1\n",
        },
    )
    result = depchain.scan(tmp_path)
    role = {i.path: (i.role.value, i.reason) for i in result.inputs}
    assert role["requirements.txt"] == (
        "dev",
        "installs its own project editable (line 1): a development environment",
    )
    kinds = {
        result.graph.node(d.target).name: (d.kind, d.scope)
        for d in result.graph.dependencies_of(result.subject)
    }
    assert kinds["mkdocs"] == kinds["pytest"] == (DependencyKind.BUILD, Scope.DEV)
    assert kinds["idna"] == (DependencyKind.DYNAMIC, Scope.REQUIRED)


def test_an_application_requirements_file_without_its_own_project_stays_runtime(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "requirements.txt": "-e ./libs/shared\nflask==3.1.0\n",
            "requirements/prod.txt": "-e .\nsix==1.16.0\n",  # named for production
            "libs/shared/pyproject.toml": '[project]\nname = "shared"\nversion = "1"\n',
        },
    )
    result = depchain.scan(tmp_path)
    role = {i.path: i.role.value for i in result.inputs}
    assert role["requirements.txt"] == role["requirements/prod.txt"] == "runtime"


def test_the_table_says_required_before_the_extra_that_asks_again(tmp_path: Path) -> None:
    # scrapy: "Twisted>=21.7.0" in dependencies and "Twisted[http2]>=21.7.0" in the
    # twisted-http2 extra; the row read 'twisted-http2', as if Twisted were optional
    from depchain.render import table

    _write(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "app"\nversion = "1"\ndependencies = ["twisted>=21"]\n'
                '[project.optional-dependencies]\nhttp2 = ["twisted[http2]>=21"]\n'
                'extra = ["attrs"]\n'
            ),
        },
    )
    rows = {
        line.split()[0]: line.split()[2]
        for line in table.render(depchain.scan(tmp_path)).splitlines()
        if line.startswith("  ") and line.split()[0] in {"twisted", "attrs"}
    }
    assert rows == {"twisted": "required+1", "attrs": "extra"}


def test_the_trust_line_counts_owners_in_words_that_hold(tmp_path: Path) -> None:
    """'1 known owners (29 unknown)' read as 29 unknown owners; it counts components."""
    from depchain.render import table

    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
    )
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    text = "".join(table.render_lines(depchain.scan(tmp_path)))
    assert "2 components, 1 known owner (1 with owner unknown); explicit 0" in text
