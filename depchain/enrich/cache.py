"""An on-disk cache of package-index answers: one SQLite file, safe across processes.

Entries are keyed by (index, project, release, kind): ``index`` is the API base that
answered (so pypi.org and test.pypi.org never mix), ``release`` is ``""`` for facts
about the whole project, and ``kind`` names the fact (``project``, ``release``,
``provenance/<filename>``, or ``url`` with the URL as project for :meth:`Cache.get_url`).
Each entry carries when it was stored; an entry older than the expiry (24 hours unless
told otherwise) is stale.

Only answers that succeeded are stored: a 2xx, or a 404 as the fact that the thing is
absent. :meth:`Cache.put` refuses anything else, so nothing from a failed, timed-out or
malformed response can enter (callers store only what they parsed).

The file is opened in WAL mode with a busy timeout, so that several depchain processes
(a pre-commit hook and an editor, CI jobs sharing a cache) can read and write it at
once. Where the cache lives: :func:`cache_dir`.

A shared cache is input like any other: anyone who can write it can put anything in it.
:meth:`Cache.read_project` returns only rows whose columns have the types written here
and whose body is at most :data:`MAX_BODY` characters, at most :data:`MAX_ROWS` rows a
project, and says which rows it left out; :meth:`Cache.drop` deletes them. What a body
must hold is checked by the reader (:mod:`depchain.enrich.facts`). A file that is not
a database, that is locked longer than :data:`BUSY_TIMEOUT`, or that cannot be written
raises :class:`CacheError`, which callers treat as a miss.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

DEFAULT_TTL = 24 * 60 * 60.0
"""Seconds an answer stays fresh."""

FILENAME = "index-cache.sqlite3"
SCHEMA_VERSION = 2
"""Bumped when what is stored changes meaning; an older file is emptied, not misread."""

BUSY_TIMEOUT = 5.0
"""Seconds to wait for another process's lock before the cache is given up on."""

MAX_BODY = 16 * 1024 * 1024
"""The longest body read back, in characters (a release of 20,000 files is ~5 MB)."""

MAX_ROWS = 100_000
"""The most rows read back for one project; a project with more is dropped whole."""

Key = tuple[Any, Any]
"""(release, kind) of a row, as stored (possibly not text, in a tampered file)."""


class CacheError(Exception):
    """The cache file cannot be opened, read or written (one line: path and reason)."""


@dataclass(frozen=True)
class Entry:
    status: int
    """200 (or another 2xx) for an answer, 404 for "absent"."""
    body: str
    """What was stored (JSON text of the parsed facts)."""
    stored_at: float
    """Seconds since the epoch."""

    @property
    def absent(self) -> bool:
        return self.status == 404

    def fresh(self, ttl: float, now: float | None = None) -> bool:
        return ((time.time() if now is None else now) - self.stored_at) < ttl


def cache_dir(
    explicit: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Path:
    """Where every cache of depchain lives (index answers, advisory archives, the native
    layer's, the pre-commit hook's stamps): ``explicit`` (``--cache-dir``), else
    ``DEPCHAIN_CACHE_DIR``, else the user cache folder platformdirs names for
    ``depchain``: ``$XDG_CACHE_HOME/depchain`` or ``~/.cache/depchain`` on Linux,
    ``~/Library/Caches/depchain`` on macOS, ``%LOCALAPPDATA%\\depchain`` on Windows."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit).expanduser()
    if env.get("DEPCHAIN_CACHE_DIR"):
        return Path(env["DEPCHAIN_CACHE_DIR"]).expanduser()
    import platformdirs  # ~5 ms, and only when no folder is given

    # opinion=False: no "Cache" folder under it on Windows, as depchain always had
    found = Path(platformdirs.user_cache_dir("depchain", appauthor=False, opinion=False))
    # a relative XDG_CACHE_HOME is invalid by the XDG spec: never a cache in the cwd
    return found if found.is_absolute() else Path.home() / ".cache" / "depchain"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    idx TEXT NOT NULL,
    project TEXT NOT NULL,
    release TEXT NOT NULL,
    kind TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    stored_at REAL NOT NULL,
    PRIMARY KEY (idx, project, release, kind)
) WITHOUT ROWID
"""


class Cache:
    """The cache in ``directory``. With ``create=False`` a missing file is not created
    (an offline run reads what is there, and writes nothing): every look-up misses.

    Thread-safe (one connection behind a lock); use it as a context manager or
    :meth:`close` it."""

    def __init__(
        self, directory: str | Path, *, ttl: float = DEFAULT_TTL, create: bool = True
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILENAME
        self.ttl = ttl
        self.busy_timeout = BUSY_TIMEOUT
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            exists = self.path.exists()
        except OSError as exc:
            raise CacheError(f"{self.path}: cannot be opened ({exc.strerror})") from None
        if create or exists:
            self._db = self._open(create)

    def _open(self, create: bool) -> sqlite3.Connection:
        import sqlite3

        try:
            if create:
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            db = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"{self.path}: cannot be opened ({exc})") from None
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self._prepare(db)
                break
            except sqlite3.OperationalError as exc:
                # switching a new file to WAL takes an exclusive lock without waiting:
                # another process creating the same cache at the same moment says
                # "locked"; wait for it as the busy timeout would
                if "locked" not in str(exc) and "busy" not in str(exc):
                    db.close()
                    raise CacheError(f"{self.path}: not a usable cache ({exc})") from None
                if time.monotonic() > deadline:
                    db.close()
                    raise CacheError(f"{self.path}: locked by another process ({exc})") from None
                time.sleep(0.02)
            except sqlite3.Error as exc:
                db.close()
                raise CacheError(f"{self.path}: not a usable cache ({exc})") from None
        return db

    def _prepare(self, db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        # WAL: readers never wait for a writer; where the file system cannot share memory
        # SQLite keeps its rollback journal, which is slower but as safe
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    db.execute("DROP TABLE IF EXISTS answers")
                    db.execute(_SCHEMA)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @property
    def available(self) -> bool:
        """False when there is no cache file to read (``create=False`` and none yet)."""
        return self._db is not None

    def get(self, index: str, project: str, release: str, kind: str) -> Entry | None:
        """The entry stored under the key, fresh or stale (see :meth:`Entry.fresh`)."""
        rows = self._query(
            "SELECT status, body, stored_at FROM answers "
            "WHERE idx = ? AND project = ? AND release = ? AND kind = ? "
            "AND typeof(status) = 'integer' AND typeof(body) = 'text' AND length(body) <= ? "
            "AND typeof(stored_at) IN ('real', 'integer')",
            (index, project, release, kind, MAX_BODY),
        )
        return Entry(rows[0][0], rows[0][1], float(rows[0][2])) if rows else None

    def get_project(self, index: str, project: str) -> dict[tuple[str, str], Entry]:
        """Every well-typed entry of one project, by (release, kind)."""
        return self.read_project(index, project)[0]  # (malformed rows left as they are)

    def read_project(
        self, index: str, project: str
    ) -> tuple[dict[tuple[str, str], Entry], list[Key] | None]:
        """Every entry of one project, by (release, kind), in one query; and the keys of
        the rows left out: a column of the wrong type, a body that is not text or is
        longer than :data:`MAX_BODY`, a time that is not a finite number. None instead
        of keys when the project has more than :data:`MAX_ROWS` rows: none is read."""
        rows = self._query(
            "SELECT release, kind, status, "
            "CASE WHEN typeof(body) = 'text' AND length(body) <= ? THEN body END, "
            "stored_at, typeof(release), typeof(kind), typeof(status), typeof(stored_at) "
            "FROM answers WHERE idx = ? AND project = ? LIMIT ?",
            (MAX_BODY, index, project, MAX_ROWS + 1),
        )
        if len(rows) > MAX_ROWS:
            return {}, None
        good: dict[tuple[str, str], Entry] = {}
        bad: list[Key] = []
        for release, kind, status, body, stored_at, *types in rows:
            if (
                types[:3] == ["text", "text", "integer"]
                and types[3] in {"real", "integer"}
                and body is not None
                and math.isfinite(stored_at)
            ):
                good[(release, kind)] = Entry(status, body, float(stored_at))
            else:
                bad.append((release, kind))
        return good, bad

    def drop(self, index: str, project: str, keys: Iterable[Key] | None) -> None:
        """Delete the rows of ``project`` under these (release, kind) keys; all of its
        rows when ``keys`` is None."""
        if keys is None:
            sql = "DELETE FROM answers WHERE idx = ? AND project = ?"
            batch: list[tuple[Any, ...]] = [(index, project)]
        else:
            sql = "DELETE FROM answers WHERE idx = ? AND project = ? AND release IS ? AND kind IS ?"
            batch = [(index, project, release, kind) for release, kind in keys]
        if not batch or self._db is None:
            return
        import sqlite3

        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, batch)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise CacheError(f"{self.path}: cannot be written ({exc})") from None

    def put(
        self,
        index: str,
        project: str,
        release: str,
        kind: str,
        status: int,
        body: str,
        *,
        now: float | None = None,
    ) -> None:
        """Store one answer. Only 2xx and 404 are accepted (ValueError otherwise)."""
        self.put_many([(index, project, release, kind, status, body)], now=now)

    def put_many(
        self, rows: Iterable[tuple[str, str, str, str, int, str]], *, now: float | None = None
    ) -> None:
        """Store several answers in one transaction (see :meth:`put`)."""
        stamp = time.time() if now is None else now
        batch = []
        for index, project, release, kind, status, body in rows:
            if not (200 <= status < 300 or status == 404):
                raise ValueError(f"only 2xx and 404 answers are cached, not {status}")
            batch.append((index, project, release, kind, status, body, stamp))
        if not batch or self._db is None:
            return
        import sqlite3

        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO answers "
                    "(idx, project, release, kind, status, body, stored_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    batch,
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise CacheError(f"{self.path}: cannot be written ({exc})") from None

    def _rollback(self) -> None:
        import sqlite3

        try:
            if self._db is not None and self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def get_url(self, url: str) -> Entry | None:
        """An answer stored by URL (credentials never belong in ``url``)."""
        return self.get("", url, "", "url")

    def put_url(self, url: str, status: int, body: str, *, now: float | None = None) -> None:
        self.put("", url, "", "url", status, body, now=now)

    def prune(self, older_than: float, *, now: float | None = None) -> int:
        """Delete entries stored more than ``older_than`` seconds ago; how many went."""
        if self._db is None:
            return 0
        import sqlite3

        limit = (time.time() if now is None else now) - older_than
        with self._lock:
            try:
                return self._db.execute(
                    "DELETE FROM answers WHERE stored_at < ?", (limit,)
                ).rowcount
            except sqlite3.Error as exc:
                raise CacheError(f"{self.path}: cannot be written ({exc})") from None

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._db is None:
            return []
        import sqlite3

        with self._lock:
            try:
                return list(self._db.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise CacheError(f"{self.path}: cannot be read ({exc})") from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
