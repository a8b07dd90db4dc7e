"""Resolvers, registered explicitly: one module per input family.

A resolver module has ``NAME`` and ``resolve(path, ctx) -> Fragment``. Modules are
imported only when a file they match is found, so a scan pays only for what it reads.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol

from depchain.model import Fragment
from depchain.resolvers.base import ResolveContext


class ResolveFunction(Protocol):
    def __call__(self, path: PurePath, ctx: ResolveContext, /) -> Fragment: ...


@dataclass(frozen=True)
class ResolverSpec:
    name: str
    module: str
    matches: Callable[[PurePath], bool]
    defines_projects: bool = False
    """Resolved first: the projects these files declare own the files below them."""

    def load(self) -> ResolveFunction:
        fn: ResolveFunction = importlib.import_module(self.module).resolve
        return fn


def _named(*patterns: str) -> Callable[[PurePath], bool]:
    def match(path: PurePath) -> bool:
        return any(fnmatch.fnmatchcase(path.name, p) for p in patterns)

    return match


_REQUIREMENT_DIRS = {"requirements", "reqs", "requirement"}


def _is_requirements(path: PurePath) -> bool:
    name = path.name.lower()
    if not name.endswith((".txt", ".in")):
        return False
    if "requirements" in name or "constraints" in name:
        return True
    return path.parent.name.lower() in _REQUIREMENT_DIRS


def _is_workflow(path: PurePath) -> bool:
    if path.suffix not in {".yml", ".yaml"}:
        return False
    if path.parent.name == "workflows" and path.parent.parent.name == ".github":
        return True
    return path.name in {"action.yml", "action.yaml"}


def _is_dockerfile(path: PurePath) -> bool:
    """``Dockerfile``, ``Dockerfile.<variant>`` and ``<name>.Dockerfile`` (and the same for
    ``Containerfile``), but not ``Dockerfile.<extension>`` where the extension says what
    the file really is: ``Dockerfile.md`` is documentation, ``Dockerfile.j2`` a template
    that is rendered before it is built, ``Dockerfile.dockerignore`` an ignore file."""
    name = path.name
    lower = name.lower()
    if name in {"Dockerfile", "Containerfile"} or lower.endswith((".dockerfile", ".containerfile")):
        return True
    if not name.startswith(("Dockerfile.", "Containerfile.")):
        return False
    variant = lower.rpartition(".")[2]
    return bool(variant) and variant not in _NOT_DOCKERFILE_EXTENSIONS and not lower.endswith("~")


_NOT_DOCKERFILE_EXTENSIONS = frozenset(
    {
        # documentation
        *("md", "markdown", "rst", "txt", "adoc", "asciidoc", "html", "htm", "pdf", "org"),
        # templates rendered into a Dockerfile elsewhere
        *("j2", "jinja", "jinja2", "tmpl", "tpl", "template", "mustache", "erb", "in"),
        # code and configuration that generate or accompany a Dockerfile
        *("py", "sh", "bash", "ps1", "bat", "cmd", "js", "ts", "go", "rb", "pl", "mk"),
        *("json", "yml", "yaml", "toml", "ini", "cfg", "conf", "xml", "lock", "dockerignore"),
        # images, patches and editor or merge leftovers
        *("png", "svg", "jpg", "jpeg", "gif", "patch", "diff", "bak", "orig", "rej", "swp"),
    }
)


_COMPOSE = (
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "docker-compose.*.yml",
    "docker-compose.*.yaml",
    "compose.*.yml",
    "compose.*.yaml",
    "docker-compose-*.yml",
    "docker-compose-*.yaml",
)
_K8S_DIRS = {
    "k8s",
    "kubernetes",
    "manifests",
    "deploy",
    "deployment",
    "deployments",
    "kustomize",
    "charts",
    "templates",
    "overlays",
    "base",
}


def _is_kubernetes(path: PurePath) -> bool:
    if path.suffix not in {".yml", ".yaml"}:
        return False
    return bool(_K8S_DIRS & {p.lower() for p in path.parts[:-1]})


_NOT_ENV_SUFFIXES = frozenset(
    {
        "patch",
        "diff",
        "orig",
        "rej",
        "bak",
        "swp",
        "md",
        "rst",
        "sh",
        "py",
        "j2",
        "jinja",
        "jinja2",
        "tpl",
        "tmpl",
        "erb",
        "gpg",
        "enc",
        "age",
        "vault",
        "sops",
    }
)
"""``.env.<suffix>`` files that are not env files: patches, scripts, templates and
encrypted files."""


def _is_config(path: PurePath) -> bool:
    """Files where connection URLs live: ``.env`` files and configuration files."""
    name = path.name.lower()
    if name == ".env" or name.endswith(".env"):
        return True
    if name.startswith(".env."):  # .env.production, .env.example; not .env.patch
        return name.rsplit(".", 1)[-1] not in _NOT_ENV_SUFFIXES
    stem, _, suffix = name.rpartition(".")
    if suffix not in {"yml", "yaml", "toml", "ini", "cfg", "conf", "json"}:
        return False
    return stem.startswith(
        (
            "config",
            "settings",
            "application",
            "appsettings",
            "database",
            "production",
            "development",
            "staging",
            "local",
            "alembic",
        )
    )


REGISTRY: tuple[ResolverSpec, ...] = (
    ResolverSpec("pyproject", "depchain.resolvers.pyproject", _named("pyproject.toml"), True),
    ResolverSpec("setup-cfg", "depchain.resolvers.setupcfg", _named("setup.cfg"), True),
    ResolverSpec("setup-py", "depchain.resolvers.setuppy", _named("setup.py")),
    ResolverSpec("vendor-txt", "depchain.resolvers.vendortxt", _named("vendor.txt")),
    ResolverSpec("requirements", "depchain.resolvers.requirements", _is_requirements),
    ResolverSpec("uv-lock", "depchain.resolvers.uvlock", _named("uv.lock")),
    ResolverSpec("poetry-lock", "depchain.resolvers.poetrylock", _named("poetry.lock")),
    ResolverSpec("pdm-lock", "depchain.resolvers.pdmlock", _named("pdm.lock")),
    ResolverSpec("pipfile-lock", "depchain.resolvers.pipfilelock", _named("Pipfile.lock")),
    ResolverSpec("pylock", "depchain.resolvers.pylock", _named("pylock.toml", "pylock.*.toml")),
    ResolverSpec("wheel", "depchain.resolvers.wheel", _named("*.whl")),
    # static: code carried inside what is shipped
    ResolverSpec("gitmodules", "depchain.resolvers.gitmodules", _named(".gitmodules")),
    ResolverSpec("cargo-lock", "depchain.resolvers.cargolock", _named("Cargo.lock"), True),
    ResolverSpec("go-mod", "depchain.resolvers.gomod", _named("go.mod"), True),
    ResolverSpec("vcpkg", "depchain.resolvers.cmanifests", _named("vcpkg.json")),
    ResolverSpec("conan", "depchain.resolvers.cmanifests", _named("conanfile.txt")),
    # build-time: CI, hooks, images and tools
    ResolverSpec("github-actions", "depchain.resolvers.actions", _is_workflow),
    ResolverSpec(
        "pre-commit",
        "depchain.resolvers.precommit",
        _named(".pre-commit-config.yaml", ".pre-commit-config.yml"),
    ),
    ResolverSpec("dockerfile", "depchain.resolvers.dockerfile", _is_dockerfile),
    ResolverSpec("tox", "depchain.resolvers.tox", _named("tox.ini")),
    # services: what the code talks to at run time
    ResolverSpec("compose", "depchain.resolvers.compose", _named(*_COMPOSE)),
    ResolverSpec("kubernetes", "depchain.resolvers.kubernetes", _is_kubernetes),
    ResolverSpec("config-urls", "depchain.resolvers.configurls", _is_config),
)
ENVIRONMENT = ResolverSpec("environment", "depchain.resolvers.environment", lambda _: False, True)
"""Not matched by file name: the scanner chooses it for a folder that is an environment."""


def resolver_for(path: PurePath) -> ResolverSpec | None:
    for spec in REGISTRY:
        if spec.matches(path):
            return spec
    return None
