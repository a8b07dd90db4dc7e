"""What the native analysis learns from files that do not change between scans, kept on
disk so that the next scan of the same environment need not learn it again:

- per file, what its bytes say (:class:`~depchain.native.elf.Reading`: the format, and
  for an ELF file its ``DT_NEEDED``, ``DT_SONAME``, RPATH/RUNPATH and static-link
  sections, or why it is corrupt), keyed by the file's absolute path and its ``stat``:
  device, inode, size, modification and change times in nanoseconds. Any of them
  different, and the file is read again;
- the answers of the OS package databases (which package owns a library file), kept
  while the databases' own files (dpkg's ``status`` and ``info/`` folder, RPM's
  database, ``os-release``) keep their ``stat``; one answer also names the file the
  asked path resolved to, so that a re-pointed symbolic link is asked again.

One JSON file, ``native-cache.json`` in :func:`depchain.enrich.cache.cache_dir`
(``DEPCHAIN_CACHE_DIR``, else the user cache folder + ``depchain``). It holds paths and
what the files and databases say about them, nothing from the environment's
configuration and no secret.

A cache is input like any other. The file is read only up to :data:`MAX_BYTES`; a file
that is not this format's JSON is empty; a row whose fields do not have exactly the
types written here is a miss, dropped at the next write; at most :data:`MAX_FILES`
files and :data:`MAX_OWNERS` owner answers are kept (those used longest ago go first).
It is written only when something new was learned, through a temporary file renamed
over the old one (never a half-written file; another process's rows written meanwhile
are kept), and never through a symbolic link. A file modified less than
:data:`RACY_SECONDS` ago is not stored: it may still be being written in the same
clock tick. Nothing here ever stops a scan: a cache that cannot be read or written is
a miss.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import time
from pathlib import Path

from depchain.native.elf import BinaryFormat, ElfInfo, Reading
from depchain.native.ospkg import _RPM_OLD, _RPM_PATHS, OsPackage, PackageDatabases

FILENAME = "native-cache.json"
FORMAT = "depchain-native-cache/1"
"""Changed when what is stored changes meaning: a file of another format is empty."""
MAX_BYTES = 64 * 1024 * 1024
"""A larger cache file is not read (it is replaced by the next write)."""
MAX_FILES = 50_000
MAX_OWNERS = 20_000
MAX_SECTION = 256 * 1024
"""A static-link section larger than this (bytes) is not stored: its file is re-read."""
MAX_TEXT = 4096
"""The longest text field read back (a path, a library name, an error message)."""
MAX_LIST = 4096
"""The most entries of one list field (DT_NEEDED, RPATH, RUNPATH) read back."""
MAX_ROOTS = 8
"""Package-database answers are kept for this many root file systems."""
RACY_SECONDS = 2.0

_FORMATS = {f.value: f for f in BinaryFormat}
_DATABASE_FILES = (
    "var/lib/dpkg/status",
    "var/lib/dpkg/info",
    *_RPM_PATHS,
    *(f"{p}-wal" for p in _RPM_PATHS),
    *_RPM_OLD,
    "etc/os-release",
    "usr/lib/os-release",
)

FileKey = tuple[int, int, int, int, int]
"""(device, inode, size, mtime_ns, ctime_ns)."""
OwnerAnswer = tuple[str, OsPackage | None]
"""(the file the asked path resolves to, its package or none)."""


def file_key(st: os.stat_result) -> FileKey:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def open_default() -> NativeCache:
    """The cache in the cache folder (read when first asked, not before)."""
    return NativeCache(default_path())


def default_path() -> Path | None:
    """``native-cache.json`` in the cache folder; None when there is none to name."""
    from depchain.enrich.cache import cache_dir

    try:
        return cache_dir() / FILENAME
    except (OSError, RuntimeError, KeyError):  # no home folder
        return None


class NativeCache:
    """The cache file at ``path`` (None: a cache that remembers nothing). Read once,
    when first asked; :meth:`save` writes what was learned since."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._files: dict[str, tuple[FileKey, Reading]] = {}
        self._roots: dict[str, _RootState] = {}
        self._used: set[str] = set()
        self._new: set[str] = set()
        self._touched: set[str] = set()
        self._dirty = False
        self._loaded = path is None

    def _load(self) -> None:
        if not self._loaded and self.path is not None:
            self._loaded = True
            self._files, self._roots, clean = _load(self.path)
            self._dirty = self._dirty or not clean

    # -- files ---------------------------------------------------------------------

    def reading(self, path: str) -> Reading | None:
        """What was read from the file at ``path`` (absolute), if it is unchanged."""
        self._load()
        entry = self._files.get(path)
        if entry is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if file_key(st) != entry[0]:
            return None
        self._used.add(path)
        return entry[1]

    def store(self, path: str, st: os.stat_result, reading: Reading) -> None:
        """Remember ``reading`` of the file at ``path`` whose ``stat`` (taken on the open
        file it was read from) is ``st``."""
        if self.path is None or not _storable(reading) or _racy(st):
            return
        self._load()
        self._files[path] = (file_key(st), reading)
        self._new.add(path)
        self._dirty = True

    # -- package databases ---------------------------------------------------------

    def databases(self, root: Path) -> _RootState:
        """The stored answers of ``root``'s package databases; emptied when any of the
        databases' files changed since they were given."""
        self._load()
        key = str(root)
        fingerprint = database_fingerprint(root)
        state = self._roots.get(key)
        if state is None or state.fingerprint != fingerprint:
            state = _RootState(fingerprint)
            self._roots[key] = state
            self._dirty = self._dirty or self.path is not None
        self._touched.add(key)
        state.cache = self
        return state

    def _changed(self) -> None:
        if self.path is not None:
            self._dirty = True

    # -- writing -------------------------------------------------------------------

    def save(self) -> None:
        """Write the cache if anything was learned; a failure is silent (a miss next
        time)."""
        if self.path is None or not self._dirty:
            return
        # another process may have written since this one read: keep its rows too
        theirs, their_roots, _ = _load(self.path)
        files = dict(theirs)
        for name, entry in self._files.items():
            files.setdefault(name, entry)
        # what this scan used or learned last: the first to go are those used longest ago
        for name in [*sorted(self._used - self._new), *sorted(self._new)]:
            files.pop(name, None)
            files[name] = self._files[name]
        rows = list(files.items())[-MAX_FILES:]
        roots = dict(their_roots)
        for root, state in self._roots.items():
            other = roots.pop(root, None)
            if root not in self._touched:
                roots[root] = other or state
                continue
            if other is not None and other.fingerprint == state.fingerprint:
                state.facts = {**other.facts, **state.facts}
                state.owners = {**other.owners, **state.owners}
            roots[root] = state
        kept_roots = list(roots.items())[-MAX_ROOTS:]
        document = {
            "format": FORMAT,
            "files": [_file_row(name, key, reading) for name, (key, reading) in rows],
            "databases": [state.row(root) for root, state in kept_roots],
        }
        try:
            text = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
        except (ValueError, TypeError):
            return
        _write(self.path, text)
        self._dirty = False
        self._new.clear()


class _RootState:
    """The answers of one root file system's package databases."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.facts: dict[str, object] = {}
        """``available`` (bool), ``problem`` and ``unread`` (text or None), once known."""
        self.owners: dict[str, OwnerAnswer] = {}
        self.cache: NativeCache | None = None

    def fact(self, name: str, value: object) -> None:
        self.facts[name] = value
        if self.cache is not None:
            self.cache._changed()

    def answer(self, path: str, real: str, package: OsPackage | None) -> None:
        self.owners.pop(path, None)
        self.owners[path] = (real, package)
        while len(self.owners) > MAX_OWNERS:
            self.owners.pop(next(iter(self.owners)))
        if self.cache is not None:
            self.cache._changed()

    def row(self, root: str) -> dict[str, object]:
        return {
            "root": root,
            "fingerprint": self.fingerprint,
            "facts": self.facts,
            "owners": [
                [path, real, None if p is None else _package_row(p)]
                for path, (real, p) in self.owners.items()
            ],
        }


class CachedPackageDatabases(PackageDatabases):
    """:class:`PackageDatabases` whose answers come from the cache while the databases'
    files are unchanged: the databases themselves are read only for a question the
    cache cannot answer."""

    def __init__(self, root: Path, cache: NativeCache) -> None:
        super().__init__(root)
        self._state = cache.databases(root)

    @property
    def available(self) -> bool:
        facts = self._state.facts
        if "available" not in facts:
            self._state.fact("available", super().available)
        return facts["available"] is True

    @property
    def problem(self) -> str | None:
        facts = self._state.facts
        if "problem" not in facts:
            self._state.fact("problem", super().problem)
        value = facts["problem"]
        return value if isinstance(value, str) else None

    def unread(self) -> str | None:
        facts = self._state.facts
        if "unread" not in facts:
            self._state.fact("unread", super().unread())
        value = facts["unread"]
        return value if isinstance(value, str) else None

    def owner(self, path: Path | str) -> OsPackage | None:
        key = str(path)
        try:
            real = os.path.realpath(self.root / key.lstrip("/"))
        except (OSError, ValueError):
            return super().owner(path)
        known = self._state.owners.get(key)
        if known is not None and known[0] == real:
            return known[1]
        package = super().owner(path)
        self._state.answer(key, real, package)
        return package


def database_fingerprint(root: Path) -> str:
    """The ``stat`` of every file the package databases of ``root`` are read from."""
    parts = []
    for name in _DATABASE_FILES:
        try:
            st = os.stat(root / name)
        except OSError:
            parts.append(f"{name}:-")
            continue
        parts.append(f"{name}:{':'.join(str(v) for v in file_key(st))}")
    return ";".join(parts)


# -- the file ----------------------------------------------------------------------


def _storable(reading: Reading) -> bool:
    info = reading.info
    if info is None:
        return reading.error is None or len(reading.error) <= MAX_TEXT
    return (
        all(len(s) <= MAX_SECTION for s in (info.auditable, info.go_buildinfo) if s is not None)
        and all(len(v) <= MAX_LIST for v in (info.needed, info.rpath, info.runpath))
        and all(
            len(t) <= MAX_TEXT
            for t in (info.machine, info.soname or "", *info.needed, *info.rpath, *info.runpath)
        )
    )


def _racy(st: os.stat_result) -> bool:
    recent = time.time_ns() - int(RACY_SECONDS * 1e9)
    return st.st_mtime_ns >= recent or st.st_ctime_ns >= recent


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _file_row(name: str, key: FileKey, reading: Reading) -> list[object]:
    info = reading.info
    data: object = None
    if info is not None:
        data = [
            info.machine,
            info.elfclass,
            info.soname,
            list(info.needed),
            list(info.rpath),
            list(info.runpath),
            _b64(info.auditable),
            _b64(info.go_buildinfo),
        ]
    elif reading.error is not None:
        data = reading.error
    return [name, *key, reading.format.value, data]


def _package_row(p: OsPackage) -> list[object]:
    return [p.name, p.version, p.architecture, p.maintainer, p.distro, p.source, p.ptype, p.epoch]


def _text(value: object, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _count(value: object) -> bool:
    return type(value) is int and 0 <= value < 1 << 64


def _texts(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or len(value) > MAX_LIST or not all(map(_text, value)):
        return None
    return tuple(value)


def _section(value: object) -> tuple[bool, bytes | None]:
    if value is None:
        return True, None
    if not isinstance(value, str) or len(value) > MAX_SECTION * 4 // 3 + 4:
        return False, None
    try:
        return True, base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False, None


def _file_entry(row: object) -> tuple[str, FileKey, Reading] | None:
    if not isinstance(row, list) or len(row) != 8:
        return None
    name, dev, ino, size, mtime, ctime, kind, data = row
    if not _text(name) or not all(map(_count, (dev, ino, size, mtime, ctime))):
        return None
    fmt = _FORMATS.get(kind) if isinstance(kind, str) else None
    if fmt is None:
        return None
    key = (dev, ino, size, mtime, ctime)
    if fmt is not BinaryFormat.ELF:
        return (name, key, Reading(fmt)) if data is None else None
    if isinstance(data, str):
        return (name, key, Reading(fmt, error=data)) if _text(data) else None
    if not isinstance(data, list) or len(data) != 8:
        return None
    machine, elfclass, soname, needed, rpath, runpath, auditable, go = data
    lists = [_texts(needed), _texts(rpath), _texts(runpath)]
    sections = [_section(auditable), _section(go)]
    if (
        not _text(machine)
        or elfclass not in (32, 64)
        or type(elfclass) is not int
        or not _text(soname, optional=True)
        or any(v is None for v in lists)
        or not all(ok for ok, _ in sections)
    ):
        return None
    info = ElfInfo(
        machine=machine,
        elfclass=elfclass,
        soname=soname,
        needed=lists[0] or (),
        rpath=lists[1] or (),
        runpath=lists[2] or (),
        auditable=sections[0][1],
        go_buildinfo=sections[1][1],
    )
    return name, key, Reading(fmt, info)


def _package(row: object) -> OsPackage | None:
    if not isinstance(row, list) or len(row) != 8:
        return None
    name, version, arch, maintainer, distro, source, ptype, epoch = row
    if not all(map(_text, (name, version, arch, distro, ptype))) or not all(
        _text(v, optional=True) for v in (maintainer, source, epoch)
    ):
        return None
    return OsPackage(name, version, arch, maintainer, distro, source, ptype, epoch)


def _root_state(row: object) -> tuple[str, _RootState] | None:
    if not isinstance(row, dict):
        return None
    root, fingerprint = row.get("root"), row.get("fingerprint")
    facts, owners = row.get("facts"), row.get("owners")
    if not _text(root) or not isinstance(fingerprint, str) or len(fingerprint) > 64 * MAX_TEXT:
        return None
    if not isinstance(facts, dict) or not isinstance(owners, list):
        return None
    state = _RootState(fingerprint)
    for name, value in facts.items():
        if (name == "available" and isinstance(value, bool)) or (
            name in {"problem", "unread"} and _text(value, optional=True)
        ):
            state.facts[name] = value
    for entry in owners[-MAX_OWNERS:]:
        if not isinstance(entry, list) or len(entry) != 3:
            continue
        path, real, package = entry
        if not _text(path) or not _text(real):
            continue
        found = None if package is None else _package(package)
        if package is not None and found is None:
            continue
        state.owners[path] = (real, found)
    return str(root), state


def _load(path: Path) -> tuple[dict[str, tuple[FileKey, Reading]], dict[str, _RootState], bool]:
    """The rows of the cache file that are well formed, and whether all of them were
    (False also when the file is missing or unreadable: a write would make it so)."""
    files: dict[str, tuple[FileKey, Reading]] = {}
    roots: dict[str, _RootState] = {}
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)
    except OSError:
        return files, roots, False
    try:
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return files, roots, False
    if len(raw) > MAX_BYTES:
        return files, roots, False
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return files, roots, False
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return files, roots, False
    clean = True
    rows = document.get("files")
    if not isinstance(rows, list):
        rows, clean = [], False
    if len(rows) > MAX_FILES:
        rows, clean = rows[-MAX_FILES:], False
    for row in rows:
        entry = _file_entry(row)
        if entry is None:
            clean = False
            continue
        files[entry[0]] = (entry[1], entry[2])
    databases = document.get("databases")
    if not isinstance(databases, list):
        databases, clean = [], False
    for row in databases[-MAX_ROOTS:]:
        found = _root_state(row)
        if found is None:
            clean = False
            continue
        roots[found[0]] = found[1]
    return files, roots, clean


def _write(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file renamed over it (a symbolic link
    at ``path`` is replaced, never written through); silent on failure."""
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(tmp, path)
        tmp = None
    except (OSError, UnicodeError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
