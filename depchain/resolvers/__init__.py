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


REGISTRY: tuple[ResolverSpec, ...] = (
    ResolverSpec("pyproject", "depchain.resolvers.pyproject", _named("pyproject.toml"), True),
    ResolverSpec("setup-cfg", "depchain.resolvers.setupcfg", _named("setup.cfg"), True),
    ResolverSpec("setup-py", "depchain.resolvers.setuppy", _named("setup.py")),
    ResolverSpec("requirements", "depchain.resolvers.requirements", _is_requirements),
    ResolverSpec("uv-lock", "depchain.resolvers.uvlock", _named("uv.lock")),
    ResolverSpec("poetry-lock", "depchain.resolvers.poetrylock", _named("poetry.lock")),
    ResolverSpec("pdm-lock", "depchain.resolvers.pdmlock", _named("pdm.lock")),
    ResolverSpec("pipfile-lock", "depchain.resolvers.pipfilelock", _named("Pipfile.lock")),
    ResolverSpec("pylock", "depchain.resolvers.pylock", _named("pylock.toml", "pylock.*.toml")),
    ResolverSpec("wheel", "depchain.resolvers.wheel", _named("*.whl")),
)
ENVIRONMENT = ResolverSpec("environment", "depchain.resolvers.environment", lambda _: False, True)
"""Not matched by file name: the scanner chooses it for a folder that is an environment."""


def resolver_for(path: PurePath) -> ResolverSpec | None:
    for spec in REGISTRY:
        if spec.matches(path):
            return spec
    return None
