"""Finding the inputs under a folder without leaving it or looping."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from depchain.model import InputError
from depchain.resolvers import ResolverSpec, resolver_for

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


def _skip_dir(folder: Path, name: str) -> bool:
    if name in SKIPPED_DIRS or name.endswith(".egg-info"):
        return True
    return (folder / name / "pyvenv.cfg").is_file()  # any virtual environment


def discover(root: Path) -> tuple[list[Input], list[InputError]]:
    """Every file under ``root`` that a resolver reads, in path order.

    Symbolic links to folders are not followed (no loops, no leaving the tree); links to
    files are followed only when their target stays inside ``root``.
    """
    found: list[Input] = []
    errors: list[InputError] = []
    real_root = root.resolve()

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        errors.append(InputError(_rel(where, root), f"cannot list folder: {exc.strerror}"))

    for folder, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        here = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir(here, d))
        for name in sorted(filenames):
            path = here / name
            spec = resolver_for(path)
            if spec is None:
                continue
            if path.is_symlink():
                problem = _link_problem(path, real_root)
                if problem:
                    errors.append(InputError(_rel(path, root), problem))
                    continue
            found.append(Input(path, spec))
    return found, errors


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
