""".pre-commit-hooks.yaml: the hooks other repositories install, and the ``files:`` regex
that decides when pre-commit runs them.

The regex must match every file depchain reads: a manifest it missed would let a commit
bring in a dependency the hook never looked at. These tests fail when discover (or a
resolver) learns a file name the regex does not match.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from depchain import resolvers
from depchain.discover import discover
from depchain.resolvers import REGISTRY, resolver_for
from depchain.roles import DEV_DECLARERS
from tests.conftest import REAL_WORLD, REPO

MANIFEST = REPO / ".pre-commit-hooks.yaml"


def _hooks() -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in hooks}


FILES = re.compile(_hooks()["depchain"]["files"])


def _matched(path: str) -> bool:
    """What pre-commit does with a staged file's path (forward slashes, from the root)."""
    return FILES.search(path) is not None


# -- the manifest itself --------------------------------------------------------------


def test_manifest_is_valid_for_pre_commit() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    loaded = clientlib.load_manifest(str(MANIFEST))
    assert [hook["id"] for hook in loaded] == ["depchain", "depchain-sbom"]


def test_check_hook() -> None:
    hook = _hooks()["depchain"]
    assert hook["entry"] == "depchain check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True


def test_sbom_hook_regenerates_one_file_deterministically() -> None:
    hook = _hooks()["depchain-sbom"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["files"] == _hooks()["depchain"]["files"]
    # the entry runs the CLI with a fixed SOURCE_DATE_EPOCH, and no advisories (they
    # change with the day, not with the commit)
    assert "SOURCE_DATE_EPOCH'] = '0'" in hook["entry"]
    assert hook["entry"].endswith(" sbom")
    assert "--no-audit" in hook["args"]
    assert hook["args"][-1] == "."
    assert hook["args"][hook["args"].index("--output") + 1] == "sbom.cdx.json"


def test_sbom_hook_entry_runs_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``python -c`` program of the entry, run as pre-commit would run it (the code
    after ``-c``), calls depchain's CLI with the hook's arguments."""
    import shlex

    hook = _hooks()["depchain-sbom"]
    argv = shlex.split(hook["entry"])
    assert argv[:2] == ["python", "-c"]
    seen: list[tuple[list[str], str | None]] = []

    def fake_main(argv: list[str] | None = None) -> int:
        import os
        import sys

        seen.append((sys.argv[1:], os.environ.get("SOURCE_DATE_EPOCH")))
        return 0

    monkeypatch.setattr("depchain.cli.main", fake_main)
    monkeypatch.setattr("sys.argv", ["-c", *argv[3:], *hook["args"]])
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    with pytest.raises(SystemExit) as stopped:
        exec(compile(argv[2], "<entry>", "exec"), {})
    assert stopped.value.code == 0
    assert seen == [(["sbom", *hook["args"]], "0")]


# -- every file depchain reads is matched ---------------------------------------------

SAMPLES = {
    "pyproject": ["pyproject.toml", "libs/core/pyproject.toml"],
    "setup-cfg": ["setup.cfg"],
    "setup-py": ["setup.py"],
    "vendor-txt": ["src/pip/_vendor/vendor.txt"],
    "requirements": [
        "requirements.txt",
        "requirements-dev.txt",
        "dev-requirements.in",
        "test_requirements.txt",
        "REQUIREMENTS.TXT",
        "requirements/dev.txt",
        "requirements/base.in",
        "reqs/lint.txt",
        "requirement/x.txt",
        "constraints.txt",
        "ci/constraints-py310.txt",
    ],
    "uv-lock": ["uv.lock", "packages/a/uv.lock"],
    "poetry-lock": ["poetry.lock"],
    "pdm-lock": ["pdm.lock"],
    "pipfile-lock": ["Pipfile.lock"],
    "pylock": ["pylock.toml", "pylock.dev.toml", "pylock.py312-linux.toml"],
    "wheel": ["dist-in/pkg-1.0-py3-none-any.whl"],
    "gitmodules": [".gitmodules"],
    "cargo-lock": ["Cargo.lock", "src/rust/Cargo.lock"],
    "go-mod": ["go.mod", "ext/go.mod"],
    "vcpkg": ["vcpkg.json"],
    "conan": ["conanfile.txt"],
    "github-actions": [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yaml",
        "action.yml",
        ".github/actions/setup/action.yaml",
    ],
    "pre-commit": [".pre-commit-config.yaml", ".pre-commit-config.yml"],
    "dockerfile": [
        "Dockerfile",
        "Dockerfile.dev",
        "docker/Dockerfile.prod",
        "app.Dockerfile",
        "Containerfile",
        "gpu.containerfile",
        "Containerfile.gpu",
    ],
    "tox": ["tox.ini"],
    "compose": [
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yaml",
        "compose.yml",
        "docker-compose.override.yml",
        "compose.prod.yaml",
        "docker-compose-test.yml",
    ],
    "kubernetes": [
        "k8s/deployment.yaml",
        "deploy/service.yml",
        "charts/app/templates/deployment.yaml",
        "overlays/prod/kustomization.yaml",
        "manifests/base/configmap.yml",
    ],
    "config-urls": [
        ".env",
        ".env.production",
        ".env.example",
        "prod.env",
        "config.yaml",
        "config/settings.toml",
        "settings.ini",
        "application.yml",
        "appsettings.json",
        "database.cfg",
        "production.conf",
        "development.json",
        "staging.toml",
        "local.ini",
        "alembic.ini",
        "config.local.json",
    ],
}
"""Representative paths for each resolver of the registry (each one is checked to be
what that resolver reads, so the list cannot drift from the registry)."""

READ_BESIDES = [
    # read by a resolver beside the file discover handed it
    "Cargo.toml",  # cargo-lock: the workspace's manifests
    "crates/a/Cargo.toml",
    "go.sum",  # go-mod: module hashes
    "deploy/Kustomization",  # kubernetes: the namespace of the manifests beside it
    "deploy/kustomization.yml",
    "services/.env",  # compose: the variables it interpolates
    # the trust policy, and the ledger the hook compares with
    "depchain.toml",
    "depchain-ledger.json",
]

NOT_MANIFESTS = [
    "README.md",
    "LICENSE",
    "LICENSE.txt",
    "docs/index.md",
    "depchain/cli.py",
    "src/app/__init__.py",
    "tests/test_app.py",
    "sbom.cdx.json",
    "sboms/depchain.cdx.json",
    "image.png",
    "notes.txt",
    "package.json",
    "Gemfile.lock",
]
"""Files that never change what depchain reports: no hook run for a commit of them."""


def _registry_names() -> set[str]:
    return {spec.name for spec in REGISTRY}


def test_every_resolver_has_samples() -> None:
    """A resolver added to the registry needs samples here (and the regex to match them)."""
    assert set(SAMPLES) == _registry_names()


@pytest.mark.parametrize(
    ("resolver", "path"), [(name, path) for name, paths in SAMPLES.items() for path in paths]
)
def test_sample_is_read_and_matched(resolver: str, path: str) -> None:
    spec = resolver_for(PurePosixPath(path))
    assert spec is not None and spec.name == resolver, f"{path}: not a {resolver} input"
    assert _matched(path), f"{path} ({resolver}) is read by depchain, not matched by files:"


@pytest.mark.parametrize("path", READ_BESIDES)
def test_files_read_besides_are_matched(path: str) -> None:
    assert _matched(path)


@pytest.mark.parametrize("name", sorted(DEV_DECLARERS))
def test_role_declarers_are_matched(name: str) -> None:
    """tox.ini, noxfile.py, CI configurations, Makefile...: what they install with ``-r``
    is tooling, so a change to them changes a requirements file's role."""
    assert _matched(name)
    assert _matched(f"sub/{name}")


@pytest.mark.parametrize("path", NOT_MANIFESTS)
def test_other_files_are_not_matched(path: str) -> None:
    assert not _matched(path)


@pytest.mark.parametrize(
    "path", ["notes.yaml", "mkdocs.yml", "ops/prod/app.yaml", "a/b/c/d.YML", ".gitlab-ci.yml"]
)
def test_every_yaml_file_is_matched(path: str) -> None:
    """A Kubernetes object is told by its content (apiVersion and kind) wherever it
    lives, which no regex over names can see: every YAML file is matched."""
    assert _matched(path)


def _words() -> set[str]:
    """Every short string literal of the resolver registry's module (file names, glob
    patterns, suffixes, folder names, prefixes), ``*`` made a letter, dots stripped."""
    tree = ast.parse(Path(resolvers.__file__).read_text(encoding="utf-8"))
    found = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and 0 < len(node.value) < 40
        and not any(c.isspace() for c in node.value)
    }
    return {w.replace("*", "x").strip(".") for w in found} - {""}


def _candidates() -> Iterable[str]:
    """Paths built from the registry's own words: each word alone, with each
    extension-like word as a suffix, with a prefix or a suffix of its own, as an
    extension, as a dot file; and in each folder whose name changes what a file in it is
    (``requirements/``, ``k8s/``...), plus ``.github/workflows/``."""
    words = _words()
    short = {w for w in words if w.replace("-", "").replace("_", "").isalnum() and len(w) <= 12}
    suffixes = {"", *(f".{w}" for w in short)}
    names = {
        name
        for w in (*words, "x")
        for s in suffixes
        for name in (w + s, f".{w}{s}", f"x-{w}{s}", f"{w}-x{s}", f"x.{w}{s}")
    }
    plain = [f"x{s}" for s in suffixes]
    folders = {
        f"{w}/"
        for w in short
        if any(resolver_for(PurePosixPath(w, n)) != resolver_for(PurePosixPath(n)) for n in plain)
    }
    folders |= {".github/workflows/", "sub/.github/workflows/"}
    inner = {*plain, *words}
    yield from names
    for folder in folders:
        for name in inner:
            yield folder + name


def test_every_name_the_registry_can_match_is_matched() -> None:
    """A property over names built from the registry's own literals: whatever the
    resolvers match, the regex matches. A new file name, suffix, prefix or folder that
    a matcher learns appears here as a literal, and a regex that misses it fails."""
    read = 0
    missed = []
    for path in _candidates():
        if resolver_for(PurePosixPath(path)) is None:
            continue
        read += 1
        if not _matched(path):
            missed.append(path)
    assert read > 1000  # the candidates do reach the matchers
    assert not missed, f"read by depchain, not matched by files: {sorted(missed)[:20]}"


def _assert_discovered_are_matched(root: Path) -> int:
    found = discover(root)
    missed = []
    for item in found.inputs:
        rel = item.path.relative_to(root).as_posix()
        if not _matched(rel):
            missed.append(f"{rel} ({item.spec.name})")
    for rel in found.declarers:
        if not _matched(rel):
            missed.append(f"{rel} (declarer)")
    assert not missed, f"discovered, not matched by files: {missed}"
    return len(found.inputs)


def test_discovered_in_a_tree_are_matched(tmp_path: Path) -> None:
    """discover over a tree with every sample, a Kubernetes object in a folder with no
    telling name (found by its content), and the declarers."""
    for paths in SAMPLES.values():
        for rel in paths:
            target = tmp_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("", encoding="utf-8")
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "web.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n", encoding="utf-8"
    )
    for name in DEV_DECLARERS:
        (tmp_path / name).write_text("", encoding="utf-8")
    found = discover(tmp_path)
    assert "ops/web.yaml" in {i.path.relative_to(tmp_path).as_posix() for i in found.inputs}
    assert _assert_discovered_are_matched(tmp_path) >= sum(map(len, SAMPLES.values()))


def test_discovered_in_the_examples_are_matched() -> None:
    assert _assert_discovered_are_matched(REPO / "examples") > 0


def test_discovered_in_real_repositories_are_matched() -> None:
    if not REAL_WORLD.is_dir():
        pytest.skip(f"real-world data not present at {REAL_WORLD}")
    assert _assert_discovered_are_matched(REAL_WORLD) > 50
