"""Fixtures for enrichment: a fake index serving recorded answers, a session on it, a
fresh cache directory, and a run of :func:`enrich` against them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from depchain.enrich.pypi import Enrichment, enrich
from tests.enrich.fakeindex import INDEX, FakeIndex, session_for

Run = Callable[..., dict[tuple[str, str | None], Enrichment]]


@pytest.fixture(autouse=True)
def _no_pip_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the machine's pip configuration nor its cache directory leaks in."""
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def index() -> FakeIndex:
    return FakeIndex()


@pytest.fixture
def session(index: FakeIndex) -> Iterator[requests.Session]:
    with session_for(index) as s:
        yield s


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def run(session: requests.Session, cache_dir: Path) -> Run:
    """``enrich`` against the fake index and the test's cache, without waiting between
    retries; keyword arguments override."""

    def call(packages: list[tuple[str, str | None]], **kwargs: Any) -> Any:
        options: dict[str, Any] = {
            "index_url": INDEX,
            "cache_dir": cache_dir,
            "session": session,
            "backoff": 0,
        }
        options.update(kwargs)
        return enrich(packages, **options)

    return call
