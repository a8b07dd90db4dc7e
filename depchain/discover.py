"""Finding the inputs under a folder without leaving it or looping."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from depchain.model import InputError
from depchain.resolvers import REGISTRY, ResolverSpec, resolver_for
from depchain.roles import DEV_DECLARERS

KUBERNETES = next(spec for spec in REGISTRY if spec.name == "kubernetes")

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        "build",
        "dist",
        "site-packages",
        ".direnv",
        ".cache",
        "__pypackages__",
    }
)
"""Folders that hold tools' output or installed code, never the project's manifests."""


@dataclass(frozen=True)
class Input:
    path: Path
    spec: ResolverSpec


UNANALYSED: dict[str, str] = {
    "package.json": "npm manifest",
    "package-lock.json": "npm lockfile",
    "npm-shrinkwrap.json": "npm lockfile",
    "yarn.lock": "Yarn lockfile",
    "pnpm-lock.yaml": "pnpm lockfile",
    "bun.lock": "Bun lockfile",
    "bun.lockb": "Bun lockfile",
    "deno.lock": "Deno lockfile",
    "Gemfile": "Ruby Gemfile",
    "Gemfile.lock": "Ruby Gemfile.lock",
    "composer.json": "PHP Composer manifest",
    "composer.lock": "PHP Composer lockfile",
    "pom.xml": "Maven POM",
    "build.gradle": "Gradle build",
    "build.gradle.kts": "Gradle build",
    "gradle.lockfile": "Gradle lockfile",
    "packages.lock.json": "NuGet lockfile",
    "Package.resolved": "Swift package lockfile",
    "Podfile.lock": "CocoaPods lockfile",
    "pubspec.lock": "Dart pub lockfile",
    "mix.lock": "Elixir mix lockfile",
    "rebar.lock": "Erlang rebar lockfile",
    "cabal.project.freeze": "Haskell Cabal freeze file",
    "stack.yaml.lock": "Haskell Stack lockfile",
    "conda-lock.yml": "conda lockfile",
    "environment.yml": "conda environment",
    "environment.yaml": "conda environment",
    "pixi.lock": "pixi lockfile",
    "flake.lock": "Nix flake lockfile",
    "MODULE.bazel.lock": "Bazel lockfile",
}
"""Files of ecosystems depchain does not read: seen, said, never silently skipped."""
_UNANALYSED_SUFFIXES = {".csproj": "NuGet project", ".fsproj": "NuGet project"}

DECLARERS = frozenset(DEV_DECLARERS)
"""Files read only to learn which requirements files tooling installs (roles)."""


@dataclass
class Discovery:
    inputs: list[Input] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    """Excluded paths and files seen but not analysed."""
    declarers: list[str] = field(default_factory=list)
    """Other files that tell what installs a requirements file (``tox.ini``, CI)."""
    folders: list[Path] = field(default_factory=list)
    """Every folder walked (a file added to one changes its modification time)."""


def _skip_dir(folder: Path, name: str) -> bool:
    if name in SKIPPED_DIRS or name.endswith(".egg-info"):
        return True
    return (folder / name / "pyvenv.cfg").is_file()  # any virtual environment


def is_environment(folder: Path) -> bool:
    """An installed environment: a virtual environment's folder (``pyvenv.cfg``), a
    ``site-packages`` folder, or any folder of ``.dist-info`` folders."""
    if (folder / "pyvenv.cfg").is_file():
        return True
    if folder.name in {"site-packages", "dist-packages"}:
        return True
    try:
        return any(e.name.endswith(".dist-info") and e.is_dir() for e in os.scandir(folder))
    except OSError:
        return False


def discover(root: Path, exclude: Sequence[str] = (), include: Sequence[str] = ()) -> Discovery:
    """Every file under ``root`` that a resolver reads, in path order, less what
    ``exclude`` matches and, when ``include`` is given, what it does not match (globs,
    see :func:`depchain.roles.glob_match`); excluded paths are notes.

    Symbolic links to folders are not followed (no loops, no leaving the tree); links to
    files are followed only when their target stays inside ``root``.
    """
    from depchain.roles import glob_match

    found = Discovery()
    real_root = root.resolve()
    # ... except that a scan of .github/ or .github/workflows/ is one of workflows
    anchor = PurePosixPath(*[p for p in real_root.parts[-2:] if p in {".github", "workflows"}])
    if anchor.parts and anchor.parts[0] != ".github":
        anchor = PurePosixPath()

    def excluded(rel: str) -> str | None:
        for pattern in exclude:
            if glob_match(pattern, rel):
                return f"excluded by {pattern!r}; not read"
        return None

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        found.errors.append(InputError(_rel(where, root), f"cannot list folder: {exc.strerror}"))

    for folder, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        here = Path(folder)
        found.folders.append(here)
        kept = []
        for d in sorted(dirnames):
            if _skip_dir(here, d):
                continue
            why = excluded(_rel(here / d, root)) if exclude else None
            if why is not None:
                found.notes.append((_rel(here / d, root) + "/", why))
                continue
            kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = here / name
            if name == "setup.py" and "__init__.py" in filenames:
                continue  # a module of a package that happens to be called setup
            rel = _rel(path, root)
            spec = resolver_for(anchor / rel)  # folders above the scan say nothing
            if spec is None and path.suffix in {".yaml", ".yml"} and _is_manifest(path):
                spec = KUBERNETES  # a Kubernetes object wherever it lives
            if spec is None:
                if name in DECLARERS:
                    found.declarers.append(rel)
                    continue
                what = UNANALYSED.get(name) or _UNANALYSED_SUFFIXES.get(path.suffix)
                if what is not None and not (exclude and excluded(rel)):
                    found.notes.append(
                        (rel, f"seen, not analysed: {what} (not an ecosystem depchain reads)")
                    )
                continue
            why = excluded(rel) if exclude else None
            if why is None and include and not any(glob_match(p, rel) for p in include):
                why = "not matched by any include pattern; not read"
            if why is not None:
                found.notes.append((rel, why))
                continue
            if path.is_symlink():
                problem = _link_problem(path, real_root)
                if problem:
                    found.errors.append(InputError(rel, problem))
                    continue
            found.inputs.append(Input(path, spec))
    return found


_SNIFF = 4096
_MANIFEST_KEYS = re.compile(rb"^apiVersion:\s*\S", re.M), re.compile(rb"^kind:\s*[A-Z]", re.M)


def _is_manifest(path: Path) -> bool:
    """A YAML file whose first lines say ``apiVersion:`` and ``kind:`` at the top level:
    a Kubernetes object (or a kustomization), whatever folder it is in."""
    if path.name in {"kustomization.yaml", "kustomization.yml"}:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError:
        return False
    return all(key.search(head) for key in _MANIFEST_KEYS)


def _link_problem(path: Path, real_root: Path) -> str | None:
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop"
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "symbolic link loop"
        return f"dangling symbolic link ({exc.strerror})"
    if not target.is_relative_to(real_root):
        return "symbolic link points outside the scanned tree; not followed"
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def iter_parents(path: Path, root: Path) -> Iterator[Path]:
    """``path``'s folder and each folder above it, up to and including ``root``."""
    folder = path.parent
    while True:
        yield folder
        if folder == root or folder == folder.parent:
            return
        folder = folder.parent
