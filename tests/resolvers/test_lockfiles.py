"""The five lockfile resolvers against every real lockfile in ../shared/data/real-world,
each checked against the package list read straight from the parsed file, plus facts
about particular files and bad input written to a temporary folder."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import depchain
from depchain.errors import InputFileError
from depchain.ids import generic_component, normalize
from depchain.model import Component, Dependency, DependencyKind, Evidence, Fragment, Scope
from depchain.model import SourceKind as Kind
from depchain.resolvers import pdmlock, pipfilelock, poetrylock, pylock, uvlock
from depchain.resolvers.base import ResolveContext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REAL_WORLD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-world"

Resolve = Callable[[Path, ResolveContext], Fragment]
RESOLVERS: dict[str, tuple[str, Resolve]] = {
    "uv.lock": (uvlock.NAME, uvlock.resolve),
    "poetry.lock": (poetrylock.NAME, poetrylock.resolve),
    "pdm.lock": (pdmlock.NAME, pdmlock.resolve),
    "Pipfile.lock": (pipfilelock.NAME, pipfilelock.resolve),
    "pylock.toml": (pylock.NAME, pylock.resolve),
    "pylock.*.toml": (pylock.NAME, pylock.resolve),
}


def _pattern(path: Path) -> str | None:
    return next((p for p in RESOLVERS if fnmatch.fnmatchcase(path.name, p)), None)


def _lockfiles() -> list[Path]:
    if not REAL_WORLD.is_dir():
        return []
    return sorted(p for p in REAL_WORLD.rglob("*") if p.is_file() and _pattern(p))


LOCKFILES = _lockfiles()


def _real(relative: str) -> Path:
    path = REAL_WORLD / relative
    if not path.is_file():
        pytest.skip(f"real-world data not present at {path} (../shared/data is not checked out)")
    return path


def _subject(folder: Path) -> Component:
    return generic_component(folder.name, Evidence(".", None, "scan"))


def _resolve(path: Path, root: Path | None = None) -> tuple[Fragment, Component]:
    """Resolve one file directly, the project folder (or ``root``) as the scan root."""
    pattern = _pattern(path)
    assert pattern is not None, path
    folder = root or path.parent
    subject = _subject(folder)
    ctx = ResolveContext(root=folder, subject_for=lambda _: subject)
    return RESOLVERS[pattern][1](path, ctx), subject


def _project_root(path: Path) -> Path:
    """The real-world project folder that holds ``path`` (evidence paths are relative)."""
    return REAL_WORLD.resolve() / path.resolve().relative_to(REAL_WORLD.resolve()).parts[0]


# -- what the file says, read without depchain ----------------------------------------


def _expected(path: Path) -> set[tuple[str, str | None]]:
    """(normalised name, version) of every package the file locks."""
    text = path.read_text(encoding="utf-8")
    if path.name == "Pipfile.lock":
        data = json.loads(text)
        return {
            (normalize(name), _pin(spec.get("version")))
            for section, packages in data.items()
            if section != "_meta"
            for name, spec in packages.items()
        }
    data = tomllib.loads(text)
    key = "packages" if path.name.startswith("pylock") else "package"
    packages: list[dict[str, Any]] = data[key]
    return {(normalize(p["name"]), p.get("version")) for p in packages}


def _pin(version: str | None) -> str | None:
    return version[2:] if version and version.startswith("==") else version


def _produced(fragment: Fragment, subject: Component) -> set[tuple[str, str | None]]:
    return {(normalize(c.name), c.version) for c in fragment.components if c.id != subject.id}


# -- every real lockfile --------------------------------------------------------------


@pytest.mark.parametrize(
    "lockfile",
    LOCKFILES or [None],
    ids=lambda p: p.relative_to(REAL_WORLD).as_posix() if p else "no-data",
)
def test_every_real_lockfile_yields_exactly_its_locked_packages(lockfile: Path | None) -> None:
    if lockfile is None:
        pytest.skip(f"real-world data not present at {REAL_WORLD}")
    lockfile = lockfile.resolve()
    root = _project_root(lockfile)
    fragment, subject = _resolve(lockfile, root)
    assert fragment.errors == ()
    assert _produced(fragment, subject) == _expected(lockfile)

    display = lockfile.resolve().relative_to(root).as_posix()
    resolver = RESOLVERS[_pattern(lockfile) or ""][0]
    ids = {c.id for c in fragment.components}
    assert len(ids) == len(fragment.components), "components are merged by id"
    assert set(fragment.subjects) <= ids
    for c in fragment.components:
        if c.id != subject.id:
            assert c.evidence and all(
                e.path == display and e.resolver == resolver for e in c.evidence
            ), c
            assert all(e.line is not None and e.line > 0 for e in c.evidence), c
    for d in fragment.dependencies:
        assert d.source in ids and d.target in ids, d
        assert d.evidence and all(e.path == display for e in d.evidence), d


def test_the_data_set_has_every_kind_of_lockfile() -> None:
    if not LOCKFILES:
        pytest.skip(f"real-world data not present at {REAL_WORLD}")
    kinds = {RESOLVERS[_pattern(p) or ""][0] for p in LOCKFILES}
    assert kinds == {r for r, _ in RESOLVERS.values()}


# -- uv.lock --------------------------------------------------------------------------


def _one(fragment: Fragment, name: str) -> Component:
    (found,) = [c for c in fragment.components if normalize(c.name) == name]
    return found


def _edges(fragment: Fragment, source: str, target: str) -> list[Dependency]:
    return [d for d in fragment.dependencies if d.source == source and d.target == target]


def test_pydantic_uv_lock_packages_git_source_and_edges() -> None:
    path = _real("pydantic__pydantic/uv.lock")
    fragment, _ = _resolve(path)
    assert len(fragment.components) == 176
    docs = _one(fragment, "pydantic-docs")
    (source,) = docs.sources
    assert source.kind is Kind.VCS and source.url == "git+https://github.com/pydantic/pydantic-docs"
    assert source.commit is not None and len(source.commit) == 40
    assert all(ch in "0123456789abcdef" for ch in source.commit)
    assert source.commit in docs.id  # a VCS build is not the index's release
    lines = path.read_text().splitlines()
    line = docs.evidence[0].line
    assert line is not None and lines[line - 1] == "[[package]]"
    assert lines[line] == 'name = "pydantic-docs"'

    pydantic, core = _one(fragment, "pydantic"), _one(fragment, "pydantic-core")
    assert fragment.subjects == (pydantic.id, core.id)  # the workspace members
    (edge,) = _edges(fragment, pydantic.id, core.id)
    assert (edge.kind, edge.scope, edge.mechanism) == (
        DependencyKind.DYNAMIC,
        Scope.REQUIRED,
        "lock",
    )
    annotated = _one(fragment, "annotated-types")
    assert annotated.sources[0].kind is Kind.REGISTRY
    assert annotated.sources[0].url == "https://pypi.org/simple"
    assert len(annotated.hashes) == 2 and annotated.hashes[0].algorithm == "sha256"


def test_uv_lock_extras_groups_markers_and_package_edges() -> None:
    fragment, _ = _resolve(_real("pydantic__pydantic/uv.lock"))
    pydantic = _one(fragment, "pydantic")
    (email,) = _edges(fragment, pydantic.id, _one(fragment, "email-validator").id)
    assert (email.kind, email.scope, email.mechanism, email.groups) == (
        DependencyKind.DYNAMIC,
        Scope.OPTIONAL,
        "extra",
        ("email",),
    )
    ruff = _edges(fragment, pydantic.id, _one(fragment, "ruff").id)
    assert {(d.kind, d.scope, d.mechanism) for d in ruff} == {
        (DependencyKind.BUILD, Scope.DEV, "dependency-group")
    }
    assert {g for d in ruff for g in d.groups} >= {"linting"}
    aiohttp = _one(fragment, "aiohttp")
    (timeout,) = _edges(fragment, aiohttp.id, _one(fragment, "async-timeout").id)
    assert timeout.marker == "python_full_version < '3.11'"
    # one name at two versions: the version in the dependency entry picks the target
    pyodide = {c.version: c.id for c in fragment.components if c.name == "pyodide-build"}
    assert set(pyodide) == {"0.19.1", "0.39.0"}
    markers = {
        d.target: d.marker
        for d in fragment.dependencies
        if d.source == pydantic.id and d.target in pyodide.values()
    }
    assert markers[pyodide["0.19.1"]] == "python_full_version < '3.12'"
    assert markers[pyodide["0.39.0"]] == "python_full_version >= '3.12'"


# -- poetry.lock ----------------------------------------------------------------------


def test_poetry_lock_v1_1_hashes_come_from_metadata_files() -> None:
    path = _real("python-poetry__poetry__lock-v1.1/poetry.lock")
    data = tomllib.loads(path.read_text())
    assert data["metadata"]["lock-version"] == "1.1"
    fragment, subject = _resolve(path)
    files = {normalize(k): v for k, v in data["metadata"]["files"].items()}
    for c in fragment.components:
        if c.id != subject.id:
            expected = {f["hash"].split(":", 1)[1] for f in files[normalize(c.name)]}
            assert {h.value for h in c.hashes} == expected, c.name
    cachy = _one(fragment, "cachy")  # category = "dev"
    (edge,) = _edges(fragment, subject.id, cachy.id)
    assert (edge.kind, edge.scope, edge.mechanism, edge.groups) == (
        DependencyKind.BUILD,
        Scope.DEV,
        "lock",
        ("dev",),
    )
    cachecontrol = _one(fragment, "cachecontrol")  # top level, main
    (edge,) = _edges(fragment, subject.id, cachecontrol.id)
    assert (edge.kind, edge.scope) == (DependencyKind.DYNAMIC, Scope.REQUIRED)
    (msgpack,) = _edges(fragment, cachecontrol.id, _one(fragment, "msgpack").id)
    assert (msgpack.kind, msgpack.scope, msgpack.mechanism) == (
        DependencyKind.DYNAMIC,
        Scope.REQUIRED,
        "lock",
    )
    assert not _edges(fragment, subject.id, _one(fragment, "msgpack").id)  # not top level


def test_poetry_lock_2_git_source_groups_and_markers() -> None:
    path = _real("python-poetry__poetry/poetry.lock")
    fragment, subject = _resolve(path)
    core = _one(fragment, "poetry-core")
    (source,) = core.sources
    assert source.kind is Kind.VCS
    assert source.url == "git+https://github.com/python-poetry/poetry-core.git"
    assert source.ref == "HEAD" and source.commit == "e3998b0e111dc03e4aa721fd054c48e5c7de6fc5"
    pre_commit = _one(fragment, "pre-commit")  # groups = ["dev"]
    (edge,) = _edges(fragment, subject.id, pre_commit.id)
    assert (edge.kind, edge.scope, edge.groups) == (DependencyKind.BUILD, Scope.DEV, ("dev",))
    colorama = _edges(fragment, subject.id, _one(fragment, "colorama").id)
    dev = [d for d in colorama if d.scope is Scope.DEV]
    assert {g for d in dev for g in d.groups} == {"github-actions", "test"}
    assert all(d.marker == 'sys_platform == "win32"' for d in dev)
    assert all(h.algorithm == "sha256" for h in _one(fragment, "anyio").hashes)
    assert len(_one(fragment, "anyio").hashes) == 2


# -- pdm.lock -------------------------------------------------------------------------


def test_pdm_lock_groups_and_extras_entries() -> None:
    fragment, subject = _resolve(_real("pdm-project__pdm/pdm.lock"))
    arpeggio = _one(fragment, "arpeggio")  # groups = ["workflow"]
    (edge,) = _edges(fragment, subject.id, arpeggio.id)
    assert (edge.kind, edge.scope, edge.groups) == (DependencyKind.BUILD, Scope.DEV, ("workflow",))
    coverage = _one(fragment, "coverage")  # also locked as coverage[toml]
    (toml,) = _edges(fragment, coverage.id, _one(fragment, "tomli").id)
    assert (toml.scope, toml.mechanism, toml.groups) == (Scope.OPTIONAL, "extra", ("toml",))
    assert toml.marker == 'python_full_version <= "3.11.0a6"'
    assert not _edges(fragment, coverage.id, coverage.id)
    anyio = _one(fragment, "anyio")
    (idna,) = _edges(fragment, anyio.id, _one(fragment, "idna").id)
    assert (idna.kind, idna.scope, idna.mechanism) == (
        DependencyKind.DYNAMIC,
        Scope.REQUIRED,
        "lock",
    )


# -- Pipfile.lock and pylock.toml -----------------------------------------------------


def test_pipfile_lock_develop_is_dev_build_and_default_is_required() -> None:
    path = _real("pypa__pipenv/Pipfile.lock")
    data = json.loads(path.read_text())
    fragment, subject = _resolve(path)
    by_id = {c.id: c for c in fragment.components}
    kinds: dict[str, set[tuple[DependencyKind, Scope, tuple[str, ...]]]] = {}
    for d in fragment.dependencies:
        assert d.source == subject.id and d.mechanism == "lock"
        # the one source of the lock: named by the entry ("pinned"), or the only index
        assert [i.url for i in d.indexes] == ["https://pypi.org/simple"]
        assert d.indexes[0].role in {"pinned", "primary"}
        kinds.setdefault(normalize(by_id[d.target].name), set()).add((d.kind, d.scope, d.groups))
    for name in data["develop"]:
        assert (DependencyKind.BUILD, Scope.DEV, ("develop",)) in kinds[normalize(name)]
    for name in data["default"]:
        assert (DependencyKind.DYNAMIC, Scope.REQUIRED, ()) in kinds[normalize(name)]
    # packaging is locked at 26.3 in default and at 26.2 in develop: two components
    versions = {c.version: c for c in fragment.components if c.name == "packaging"}
    assert set(versions) == {"26.3", "26.2"}
    assert len(versions["26.3"].hashes) == 2
    lines = path.read_text().splitlines()
    for c in versions.values():
        line = c.evidence[0].line
        assert line is not None and lines[line - 1].strip() == '"packaging": {'
        assert f'"version": "=={c.version}"' in "\n".join(lines[line : line + 12])


def test_pipenv_pylock_dev_group_marker_is_dev() -> None:
    fragment, subject = _resolve(_real("pypa__pipenv/pylock.toml"))
    alabaster = _one(fragment, "alabaster")  # marker: ('dev' in dependency_groups) and ...
    (edge,) = _edges(fragment, subject.id, alabaster.id)
    assert (edge.kind, edge.scope, edge.mechanism, edge.groups) == (
        DependencyKind.BUILD,
        Scope.DEV,
        "lock",
        ("dev",),
    )
    pytz = _one(fragment, "pytz")  # no marker
    (edge,) = _edges(fragment, subject.id, pytz.id)
    assert (edge.kind, edge.scope) == (DependencyKind.DYNAMIC, Scope.REQUIRED)
    assert pytz.sources[0].kind is Kind.REGISTRY
    assert pytz.sources[0].url == "https://pypi.org/simple/"


def test_pylock_extras_markers_are_optional() -> None:
    fragment, subject = _resolve(_real("pypa__pipenv/examples/pylock.toml"))
    optional = [d for d in fragment.dependencies if d.scope is Scope.OPTIONAL]
    assert optional and all(d.groups == ("crypto",) for d in optional)
    assert all(d.source == subject.id for d in fragment.dependencies)


# -- bad input ------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("uv.lock", "version = 1\n[[package]]\nname = 'a'\nversion = \n", 4),
        ("poetry.lock", "[[package]]\nname = 'a'\nversion = '1'\n[[package]\n", 4),
        ("pdm.lock", "[metadata]\nlock_version = '4.5.0'\n[[package]]\nname = \"a\n", 4),
        ("pylock.toml", "lock-version = '1.0'\n[[packages]]\nname = 'x'\nversion = 1.0.0\n", 4),
    ],
)
def test_malformed_toml_raises_naming_the_file_and_line(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    with pytest.raises(InputFileError) as caught:
        _resolve(_write(tmp_path, name, text))
    assert caught.value.path == name
    assert "invalid TOML" in caught.value.message and f"line {line}" in caught.value.message
    assert "\n" not in str(caught.value)


def test_malformed_json_raises_naming_the_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile.lock", '{\n    "default": {\n        "six": {,}\n')
    with pytest.raises(InputFileError) as caught:
        _resolve(path)
    assert caught.value.path == "Pipfile.lock"
    assert caught.value.message.startswith("invalid JSON: ")
    assert caught.value.message.endswith("(line 3, column 17)")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("uv.lock", "[tool.uv]\ndev = true\n"),
        ("poetry.lock", "[tool.poetry]\nname = 'x'\n"),
        ("pdm.lock", "[[package]]\nname = 'x'\nversion = '1'\n"),
        ("pylock.toml", "[project]\nname = 'x'\n"),
        ("Pipfile.lock", "[1, 2]"),
        ("uv.lock", "version = 2\n"),
    ],
)
def test_a_file_that_is_not_such_a_lock_raises(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(InputFileError) as caught:
        _resolve(_write(tmp_path, name, text))
    assert caught.value.path == name and caught.value.message


UV_NAMELESS = """version = 1
revision = 3

[[package]]
name = "good"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "ghost" },
    { name = "other" },
]

[[package]]
version = "2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "other"
version = "3.0"
source = { registry = "https://pypi.org/simple" }
dependencies = "not an array"
"""

POETRY_NAMELESS = """[[package]]
name = "good"
version = "1.0"
groups = ["main"]
files = []

[package.dependencies]
ghost = ">=1"
other = "*"

[[package]]
version = "2.0"

[[package]]
name = "other"
version = "3.0"
groups = ["main"]
files = []

[metadata]
lock-version = "2.1"
"""

PDM_NAMELESS = """[metadata]
groups = ["default"]
lock_version = "4.5.0"

[[package]]
name = "good"
version = "1.0"
groups = ["default"]
dependencies = ["ghost>=1", "other"]

[[package]]
version = "2.0"

[[package]]
name = "other"
version = "3.0"
groups = ["default"]
dependencies = ["not a (valid requirement"]
"""

PYLOCK_NAMELESS = """lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "good"
version = "1.0"
dependencies = [{ name = "ghost" }, { name = "other" }]

[[packages]]
version = "2.0"

[[packages]]
name = "other"
version = "3.0"
"""


@pytest.mark.parametrize(
    ("name", "text", "nameless_line", "ghost_line"),
    [
        ("uv.lock", UV_NAMELESS, 13, 4),
        ("poetry.lock", POETRY_NAMELESS, 11, 1),
        ("pdm.lock", PDM_NAMELESS, 11, 5),
        ("pylock.toml", PYLOCK_NAMELESS, 9, 4),
    ],
)
def test_a_nameless_package_and_an_unknown_dependency_are_recorded_and_the_rest_read(
    tmp_path: Path, name: str, text: str, nameless_line: int, ghost_line: int
) -> None:
    fragment, subject = _resolve(_write(tmp_path, name, text))
    assert _produced(fragment, subject) == {("good", "1.0"), ("other", "3.0")}
    messages = [e.message for e in fragment.errors]
    assert all(e.path == name and "\n" not in e.message for e in fragment.errors)
    assert any(m.startswith(f"line {nameless_line}: ") and "no name" in m for m in messages)
    assert any(
        m.startswith(f"line {ghost_line}: ") and "'ghost'" in m and "not in the lock" in m
        for m in messages
    ), messages
    good, other = _one(fragment, "good"), _one(fragment, "other")
    assert _edges(fragment, good.id, other.id), "the good dependency is still an edge"
    ids = {c.id for c in fragment.components}
    assert all(d.source in ids and d.target in ids for d in fragment.dependencies)


def test_wrong_types_are_errors_not_crashes(tmp_path: Path) -> None:
    fragment, _ = _resolve(_write(tmp_path, "uv.lock", UV_NAMELESS))
    assert any("line 17: " in e.message and "not an array" in e.message for e in fragment.errors), (
        fragment.errors
    )
    fragment, _ = _resolve(_write(tmp_path, "pdm.lock", PDM_NAMELESS))
    assert any(
        e.message.startswith("line 14: ") and "invalid dependency" in e.message
        for e in fragment.errors
    ), fragment.errors


def test_pipfile_lock_bad_entries_are_recorded_and_the_rest_read(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]},
            "default": {
                "six": {"version": "==1.16.0", "index": "pypi"},
                "": {"version": "==1.0"},
                "broken": "not an object",
                "private": {"version": "==2.0", "index": "nowhere"},
            },
            "develop": {"pytest": {"version": "==8.0.0"}},
        },
        indent=4,
    )
    fragment, subject = _resolve(_write(tmp_path, "Pipfile.lock", text))
    assert _produced(fragment, subject) == {
        ("six", "1.16.0"),
        ("private", "2.0"),
        ("pytest", "8.0.0"),
    }
    messages = sorted(e.message for e in fragment.errors)
    assert len(messages) == 3, messages
    assert any(m.startswith("line 15: ") and "without a name" in m for m in messages)
    assert any(m.startswith("line 18: ") and "not an object" in m for m in messages)
    assert any(m.startswith("line 19: ") and "'nowhere'" in m for m in messages)


def test_git_url_and_path_sources_of_a_uv_lock(tmp_path: Path) -> None:
    text = """version = 1
revision = 2

[manifest]
members = ["app", "lib"]

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "lib" }, { name = "tool" }, { name = "archive" }, { name = "local" }]

[[package]]
name = "lib"
version = "0.2.0"
source = { editable = "packages/lib" }

[[package]]
name = "tool"
version = "1.0"
source = { git = "https://github.com/o/tool?branch=main&subdirectory=py#COMMIT" }

[[package]]
name = "archive"
version = "2.0"
source = { url = "https://example.org/archive-2.0.tar.gz" }
sdist = { hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }

[[package]]
name = "local"
version = "3.0"
source = { directory = "../local" }
"""
    text = text.replace("COMMIT", "0123456789abcdef" * 2 + "01234567")
    sub = tmp_path / "project"
    sub.mkdir()
    fragment, _ = _resolve(_write(sub, "uv.lock", text), root=tmp_path)
    assert fragment.errors == ()
    app, lib = _one(fragment, "app"), _one(fragment, "lib")
    assert set(fragment.subjects) == {app.id, lib.id}
    assert lib.sources[0].url == "project/packages/lib" and lib.sources[0].editable
    assert app.sources[0].url == "project" and not app.sources[0].editable
    (tool,) = _one(fragment, "tool").sources
    assert (tool.kind, tool.url, tool.ref, tool.commit, tool.subdirectory) == (
        Kind.VCS,
        "git+https://github.com/o/tool",
        "main",
        "0123456789abcdef0123456789abcdef01234567",
        "py",
    )
    archive = _one(fragment, "archive")
    assert archive.sources[0].kind is Kind.URL and len(archive.hashes) == 1
    assert "download_url" in archive.id
    local = _one(fragment, "local")
    assert local.sources[0].kind is Kind.PATH and local.sources[0].url == "local"
    assert local.id not in fragment.subjects  # a path dependency, not a member
    assert len([d for d in fragment.dependencies if d.source == app.id]) == 4


def test_poetry_lock_2_0_without_groups_takes_them_from_the_project(tmp_path: Path) -> None:
    # Poetry 1.5-1.8 write lock-version 2.0 with neither category nor groups (mealie)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "app"\nversion = "1.0.0"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.32"\n\n'
        '[tool.poetry.group.dev.dependencies]\nmypy = "^1.13"\n'
    )
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "mypy"\nversion = "1.13.0"\ndescription = ""\noptional = false\n'
        'python-versions = ">=3.8"\nfiles = []\n\n[package.dependencies]\n'
        'typing-extensions = ">=4"\n\n'
        '[[package]]\nname = "requests"\nversion = "2.32.3"\ndescription = ""\n'
        'optional = false\npython-versions = ">=3.8"\nfiles = []\n\n[package.dependencies]\n'
        'urllib3 = ">=1.21"\n\n'
        '[[package]]\nname = "typing-extensions"\nversion = "4.12.2"\ndescription = ""\n'
        'optional = false\npython-versions = ">=3.8"\nfiles = []\n\n'
        '[[package]]\nname = "urllib3"\nversion = "2.2.3"\ndescription = ""\n'
        'optional = false\npython-versions = ">=3.8"\nfiles = []\n\n'
        '[metadata]\nlock-version = "2.0"\npython-versions = "^3.10"\ncontent-hash = "0"\n'
    )
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    from depchain.export.cyclonedx import scopes

    scope = {k.split("/")[-1]: v for k, v in scopes(result).items()}
    assert scope["requests@2.32.3"] == "required" and scope["urllib3@2.2.3"] == "required"
    assert scope["mypy@1.13.0"] == "excluded" and scope["typing-extensions@4.12.2"] == "excluded"
