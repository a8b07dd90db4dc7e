"""The on-disk cache: where it lives, hits and expiry, only successful answers, and
several processes writing at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from depchain.enrich.cache import DEFAULT_TTL, FILENAME, Cache, cache_dir

API = "https://pypi.org"


def test_location_explicit_then_env_then_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"DEPCHAIN_CACHE_DIR": str(tmp_path / "env"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert cache_dir(tmp_path / "explicit", environ=env) == tmp_path / "explicit"
    assert cache_dir(None, environ=env) == tmp_path / "env"
    # else platformdirs' user cache folder (on Linux, XDG's)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DEPCHAIN_CACHE_DIR", raising=False)
    assert cache_dir() == cache_dir(None, environ={}) == tmp_path / "xdg" / "depchain"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "depchain"
    # a relative XDG_CACHE_HOME is invalid by the spec: never a cache in the working folder
    monkeypatch.setenv("XDG_CACHE_HOME", "rel")
    assert cache_dir() == tmp_path / "home" / ".cache" / "depchain"
    # the pre-commit hook's stamps and every other cache use the same function
    from depchain.hook import _cache_dir

    assert _cache_dir(None) == cache_dir()
    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(tmp_path / "env"))
    assert _cache_dir(None) == tmp_path / "env" and _cache_dir(tmp_path / "x") == tmp_path / "x"


def test_hit_and_expiry(tmp_path: Path) -> None:
    with Cache(tmp_path, ttl=60) as cache:
        cache.put(API, "six", "", "project", 200, '{"a": 1}', now=1000.0)
        cache.put(API, "six", "1.16.0", "release", 200, "{}", now=1000.0)
        entry = cache.get(API, "six", "", "project")
        assert entry is not None
        assert (entry.status, entry.body, entry.stored_at) == (200, '{"a": 1}', 1000.0)
        assert entry.fresh(60, now=1059.0)
        assert not entry.fresh(60, now=1060.0)
        assert cache.get(API, "six", "", "release") is None
        assert cache.get("https://test.pypi.org", "six", "", "project") is None  # per index
        assert set(cache.get_project(API, "six")) == {("", "project"), ("1.16.0", "release")}
        assert cache.prune(30, now=1031.0) == 2
        assert cache.get_project(API, "six") == {}
    assert DEFAULT_TTL == 24 * 3600


def test_404_is_cached_as_absent(tmp_path: Path) -> None:
    with Cache(tmp_path) as cache:
        cache.put_url("https://pypi.org/pypi/nope/json", 404, "")
        entry = cache.get_url("https://pypi.org/pypi/nope/json")
        assert entry is not None and entry.absent


@pytest.mark.parametrize("status", [500, 503, 429, 403, 301, 0])
def test_failures_are_refused(tmp_path: Path, status: int) -> None:
    with Cache(tmp_path) as cache, pytest.raises(ValueError, match="only 2xx and 404"):
        cache.put(API, "x", "", "project", status, "{}")


def test_wal_and_a_missing_file_is_not_created_when_reading_only(tmp_path: Path) -> None:
    with Cache(tmp_path / "ro", create=False) as cache:
        assert not cache.available
        assert cache.get(API, "six", "", "project") is None
        cache.put(API, "six", "", "project", 200, "{}")  # nowhere to write: ignored
    assert not (tmp_path / "ro").exists()
    with Cache(tmp_path / "rw"):
        pass
    db = sqlite3.connect(tmp_path / "rw" / FILENAME)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_an_older_schema_is_emptied_not_misread(tmp_path: Path) -> None:
    with Cache(tmp_path) as cache:
        cache.put(API, "six", "", "project", 200, "{}")
    db = sqlite3.connect(tmp_path / FILENAME)
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()
    with Cache(tmp_path) as cache:
        assert cache.get(API, "six", "", "project") is None


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    from depchain.enrich.cache import CacheError

    (tmp_path / FILENAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(CacheError, match="not a usable cache"):
        Cache(tmp_path)


WRITER = textwrap.dedent(
    """
    import sys, time
    start = float(sys.argv[3])
    while time.time() < start:  # all begin at once: they race to create the file
        pass
    from depchain.enrich.cache import Cache
    with Cache(sys.argv[1]) as cache:
        for i in range(100):
            cache.put("https://pypi.org", f"p{sys.argv[2]}-{i}", "", "project", 200, "{}")
            assert cache.get("https://pypi.org", f"p{sys.argv[2]}-{i}", "", "project")
    """
)


def test_several_processes_create_and_write_at_once(tmp_path: Path) -> None:
    import time

    start = str(time.time() + 0.5)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n), start])
        for n in range(6)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0] * 6
    db = sqlite3.connect(tmp_path / FILENAME)
    try:
        assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 600
    finally:
        db.close()
