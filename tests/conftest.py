"""Shared fixtures: the real-world data set and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
REAL_WORLD = SHARED / "real-world"


def real(relative: str) -> Path:
    """A path in ../shared/data/real-world; the test skips when the data set is absent."""
    path = REAL_WORLD / relative
    if not path.exists():
        pytest.skip(f"real-world data not present at {path} (../shared/data is not checked out)")
    return path


@pytest.fixture
def real_world() -> Path:
    if not REAL_WORLD.is_dir():
        pytest.skip(f"real-world data not present at {REAL_WORLD}")
    return REAL_WORLD
