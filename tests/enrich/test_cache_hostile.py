"""A cache anyone could have written: every malformed row is a miss (dropped, never
trusted, never a crash), and so is a file that is not a database, is locked, read-only
or half-written."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from depchain.enrich import cache as cache_module
from depchain.enrich.cache import FILENAME, MAX_BODY
from depchain.enrich.pypi import Enrichment, enrich
from tests.enrich.fakeindex import INDEX, FakeIndex, NoNetwork, session_for

API = "https://pypi.org"
KEYS: list[tuple[str, str | None]] = [("six", "1.16.0"), ("sigstore", "3.6.1"), ("requests", None)]
SIGSTORE_SDIST = "provenance/sigstore-3.6.1.tar.gz"


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A cache written by a good run on the recorded index."""
    with session_for(FakeIndex()) as session:
        got = enrich(KEYS, index_url=INDEX, cache_dir=tmp_path, session=session, backoff=0)
    assert all(item.errors == () for item in got.values())
    return tmp_path


def _db(directory: Path) -> sqlite3.Connection:
    return sqlite3.connect(directory / FILENAME, isolation_level=None)


def _set(directory: Path, project: str, release: str, kind: str, **columns: Any) -> None:
    db = _db(directory)
    try:
        for column, value in columns.items():
            changed = db.execute(
                f"UPDATE answers SET {column} = ? WHERE idx = ? AND project = ? "
                "AND release = ? AND kind = ?",
                (value, API, project, release, kind),
            ).rowcount
            assert changed == 1, (project, release, kind)
    finally:
        db.close()


def _exists(directory: Path, project: str, release: str, kind: str) -> bool:
    db = _db(directory)
    try:
        query = "SELECT 1 FROM answers WHERE project = ? AND release = ? AND kind = ?"
        return db.execute(query, (project, release, kind)).fetchone() is not None
    finally:
        db.close()


def _offline(directory: Path) -> dict[tuple[str, str | None], Enrichment]:
    with NoNetwork() as session:
        return enrich(KEYS, index_url=INDEX, cache_dir=directory, offline=True, session=session)


def _online(directory: Path) -> dict[tuple[str, str | None], Enrichment]:
    with session_for(FakeIndex()) as session:
        return enrich(KEYS, index_url=INDEX, cache_dir=directory, session=session, backoff=0)


NESTED = "[" * 100_000 + "]" * 100_000
BAD_BODIES = {
    "release": [
        '{"found": true, "files": [{}]}',
        '{"found": true}',
        '{"found": true, "version": "1.16.0"}',
        '{"found": "yes"}',
        '{"found": true, "version": 1.16, "files": []}',
        '{"found": true, "version": "1.16.0", "files": {}}',
        '{"found": true, "version": "1.16.0", "files": [{"filename": 5, "kind": "wheel"}]}',
        '{"found": true, "version": "1.16.0", "files": [{"filename": "a", "kind": null}]}',
        '{"found": true, "version": "1.16.0", "files": [{"filename": "a", "kind": "wheel",'
        ' "yanked": "no"}]}',
        '{"found": true, "version": "1.16.0", "files": [{"filename": "a", "kind": "wheel",'
        ' "evil": 1}]}',
        '{"found": true, "version": "1.16.0", "files": [{"filename": "a", "kind": "wheel",'
        ' "provenance": ["x"]}]}',
        '{"found": true, "version": "1.16.0", "files": [["a", "wheel"]]}',
        '{"found": tr',
        "",
        "null",
        "[]",
        '"found"',
        "1" * 5000,
        NESTED,
        '{"found": NaN}',
        "\x00\xff",
    ],
    "project": [
        '{"ownership": "everyone"}',
        '{"ownership": {"roles": [["a"]]}}',
        '{"ownership": {"roles": [{"user": "a", "role": "Owner"}]}}',
        '{"ownership": {"organization": 5, "roles": []}}',
        '{"project_urls": {"Source": "https://x"}}',
        '{"project_urls": [["Source", 1]]}',
        '{"project_urls": [["a", "b", "c"]]}',
        '{"home_page": 5}',
        '{"name": ["six"]}',
    ],
    "listing": ['{"status": 5}', '{"status_reason": {"a": 1}}', '{"api_version": 1.1}'],
    SIGSTORE_SDIST: [
        '{"publishers": [{}]}',
        '{"publishers": [{"kind": "GitHub", "evil": 1}]}',
        '{"publishers": "GitHub"}',
        '{"publishers": [], "verified": "yes"}',
        '{"publishers": [], "verification": 5}',
        '{"publishers": [], "sha256": []}',
    ],
}
CASES = [(kind, body) for kind, bodies in BAD_BODIES.items() for body in bodies]


def _where(kind: str) -> tuple[str, str, str]:
    """The (project, release, kind) of the seeded row of that kind."""
    if kind == "release":
        return "six", "1.16.0", "release"
    if kind == SIGSTORE_SDIST:
        return "sigstore", "3.6.1", kind
    return "six", "", kind


@pytest.mark.parametrize(
    ("kind", "body"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)]
)
def test_a_malformed_body_is_a_miss_dropped_with_a_note(seeded: Path, kind: str, body: str) -> None:
    project, release, key = _where(kind)
    _set(seeded, project, release, key, body=body)
    got = _offline(seeded)
    note = f"1 malformed cache entry for {project} ignored and dropped"
    item = got[(project, "1.16.0" if project == "six" else "3.6.1")]
    assert note in item.errors
    assert not _exists(seeded, project, release, key)  # dropped
    others = [v for k, v in got.items() if k[0] != project]
    assert all(note not in v.errors for v in others)
    # asked again online, the answer is whole again and nothing is said any more
    again = _online(seeded)
    assert all(v.errors == () for v in again.values())
    assert _exists(seeded, project, release, key)


@pytest.mark.parametrize(
    "columns",
    [
        {"status": "200"},
        {"status": 500},
        {"status": 0},
        {"status": 200.5},
        {"status": None},
        {"body": b'{"found": false}'},
        {"body": None},
        {"body": "x" * (MAX_BODY + 1)},
        {"stored_at": "yesterday"},
        {"stored_at": None},
        {"stored_at": float("inf")},
        {"stored_at": 1e300},  # in the future: it would stay fresh for ever
        {"stored_at": b"\x00"},
        {"status": 404, "body": '{"found": true}'},
        {"release": 5},
        {"kind": None},
    ],
    ids=repr,
)
def test_a_row_of_the_wrong_types_is_a_miss(tmp_path: Path, columns: dict[str, Any]) -> None:
    """Column types as a tampered file may hold them (a table with no declared types)."""
    db = _db(tmp_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(
        "CREATE TABLE answers (idx, project, release, kind, status, body, stored_at, "
        "PRIMARY KEY (idx, project, release, kind))"
    )
    db.execute(f"PRAGMA user_version = {cache_module.SCHEMA_VERSION}")
    row = {
        "idx": API,
        "project": "six",
        "release": "1.16.0",
        "kind": "release",
        "status": 200,
        "body": '{"found": false}',
        "stored_at": time.time(),
    }
    row.update(columns)
    db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row.values()))
    db.close()
    got = _offline(tmp_path)
    six = got[("six", "1.16.0")]
    assert "1 malformed cache entry for six ignored and dropped" in six.errors
    assert six.release_found is None  # the row said False: not believed
    db = _db(tmp_path)
    try:
        assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 0
    finally:
        db.close()


def test_too_many_rows_for_a_project_drop_the_project(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_ROWS", 2)
    got = _offline(seeded)
    sigstore = got[("sigstore", "3.6.1")]  # listing, project, release and 2 provenance
    assert sigstore.release_found is None and sigstore.ownership_source == "unknown"
    assert sigstore.errors == ("more than 2 cache entries for sigstore: all ignored and dropped",)
    assert not _exists(seeded, "sigstore", "", "listing")
    requests = got[("requests", None)]  # listing and project: within the bound
    assert requests.errors == () and requests.ownership_source == "pypi-json"


def _all_return(got: dict[tuple[str, str | None], Enrichment]) -> list[str]:
    assert set(got) == set(KEYS)
    notes = sorted({e for item in got.values() for e in item.errors})
    assert all(item.ownership_source in {"unknown", "pypi-json"} for item in got.values())
    return notes


def test_a_file_that_is_not_a_database_is_a_miss(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_bytes(os.urandom(8192))
    notes = _all_return(_offline(tmp_path))
    assert notes == [
        f"{tmp_path / FILENAME}: not a usable cache (file is not a database); "
        "answers are not cached"
    ]
    online = _online(tmp_path)
    assert all(v.release_found is not False for v in online.values())
    assert _all_return(online) == notes


def test_a_half_written_database_is_a_miss(seeded: Path) -> None:
    path = seeded / FILENAME
    db = _db(seeded)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + b"\xde\xad" * 300)
    for run in (_offline, _online):
        notes = _all_return(run(seeded))
        assert all("answers are not cached" in n or n.startswith("pypi.org") for n in notes)


def test_a_table_of_another_shape_is_a_miss(tmp_path: Path) -> None:
    db = _db(tmp_path)
    db.execute("CREATE TABLE answers (x)")
    db.execute(f"PRAGMA user_version = {cache_module.SCHEMA_VERSION}")
    db.close()
    notes = _all_return(_online(tmp_path))
    assert len(notes) == 1 and "cannot be read (no such column" in notes[0]


@pytest.fixture
def locked(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The seeded cache, held under an exclusive lock by another connection."""
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT", 0.2)
    db = _db(seeded)
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
    db.execute("BEGIN EXCLUSIVE")
    db.execute("UPDATE answers SET stored_at = stored_at")
    try:
        yield seeded
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_a_locked_cache_is_a_miss_and_not_waited_for_again(locked: Path) -> None:
    start = time.perf_counter()
    got = _online(locked)
    took = time.perf_counter() - start
    notes = _all_return(got)
    assert len(notes) == 1 and "locked" in notes[0] and notes[0].endswith("not cached")
    assert all(v.release_found is not False for v in got.values())
    assert took < 3, took  # one wait of the busy timeout, not one per project
    offline = _offline(locked)
    assert all(v.ownership_source == "unknown" for v in offline.values())


def test_a_read_only_cache_is_read_and_not_written(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only as the file system would make it (a read-only connection: root ignores
    file modes), and by mode where the tests do not run as root."""
    real_connect = sqlite3.connect

    def read_only(path: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    got = enrich(KEYS, index_url=INDEX, cache_dir=seeded, offline=True)
    assert all(v.ownership_source == "pypi-json" for v in got.values())  # read
    with session_for(FakeIndex()) as session:
        fresh = enrich(KEYS, index_url=INDEX, cache_dir=seeded, session=session, ttl=0, backoff=0)
    notes = _all_return(fresh)
    assert len(notes) == 1 and "cannot be written" in notes[0]
    assert all(v.ownership_source == "pypi-json" for v in fresh.values())  # asked instead


def test_a_cache_directory_that_is_a_file_or_unreadable_is_a_miss(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for where in (tmp_path / "file", tmp_path / "file" / "below"):
        with session_for(FakeIndex()) as session:
            got = enrich(KEYS, index_url=INDEX, cache_dir=where, session=session, backoff=0)
        notes = _all_return(got)
        assert len(notes) == 1 and notes[0].endswith("answers are not cached")
