"""What the native analysis learns from files that do not change between scans, kept on
disk so that the next scan of the same environment need not learn it again:

- per file, what its bytes say (:class:`~depchain.native.elf.Reading`: the format, and
  for an ELF file its ``DT_NEEDED``, ``DT_SONAME``, RPATH/RUNPATH, static-link
  sections and the version strings of well-known libraries it is or carries
  (:mod:`depchain.native.marks`), or why it is corrupt), keyed by the file's absolute
  path and its ``stat``:
  device, inode, size, modification and change times in nanoseconds. Any of them
  different, and the file is read again;
- the answers of the OS package databases (which package owns a library file), kept
  while the databases' own files (dpkg's ``status`` and ``info/`` folder, RPM's
  database, ``os-release``) keep their ``stat``; one answer also names the file the
  asked path resolved to, so that a re-pointed symbolic link is asked again, and the
  package's licence as its Debian ``copyright`` file declares it.

JSON files in the folder ``native`` of :func:`depchain.enrich.cache.cache_dir`
(``DEPCHAIN_CACHE_DIR``, else the user cache folder + ``depchain``): one per install
root (a ``site-packages`` folder: ``files-<hash of its path>.json``), so that a scan
reads what concerns its environment and nothing else, and one per root file system for
the package answers (``packages-<hash>.json``). They hold paths and what the files and
databases say about them, nothing from the environment's configuration and no secret.

A cache is input like any other. A file is read only up to :data:`MAX_BYTES`; a file
that is not this format's JSON, or that names another root than its name says, is
empty; a row whose fields do not have exactly the types written here is a miss,
dropped at the next write; at most :data:`MAX_FILES` files per root and
:data:`MAX_OWNERS` owner answers are kept (those used longest ago go first), and at
most :data:`MAX_SHARDS` files of each kind (the least recently written go). A file is
written only when something new was learned, through a temporary file renamed over the
old one (never a half-written file; another process's rows written meanwhile are kept),
and never through a symbolic link. A file modified less than :data:`RACY_SECONDS` ago
is not stored: it may still be being written in the same clock tick. Nothing here ever
stops a scan: a cache that cannot be read or written is a miss.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

from depchain.native.elf import BinaryFormat, ElfInfo, Reading
from depchain.native.marks import MAX_MARKS, Mark
from depchain.native.ospkg import _RPM_OLD, _RPM_PATHS, OsPackage, PackageDatabases

FOLDER = "native"
FORMAT = "depchain-native-cache/2"
"""Changed when what is stored changes meaning: a file of another format is empty
(2: the version strings a file carries, and each package's licence)."""
MAX_BYTES = 16 * 1024 * 1024
"""A larger cache file is not read (it is replaced by the next write)."""
MAX_FILES = 20_000
"""Files remembered per install root (the benchmark environment has 550)."""
MAX_OWNERS = 20_000
MAX_SHARDS = 64
"""Cache files of each kind (install roots, root file systems) kept."""
MAX_SECTION = 256 * 1024
"""A static-link section larger than this (bytes) is not stored: its file is re-read."""
MAX_TEXT = 4096
"""The longest text field read back (a path, a library name, an error message)."""
MAX_LIST = 4096
"""The most entries of one list field (DT_NEEDED, RPATH, RUNPATH) read back."""
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
Files = dict[str, tuple[FileKey, Reading]]


def file_key(st: os.stat_result) -> FileKey:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def open_default() -> NativeCache:
    """The cache in the cache folder (each file read when first asked, not before)."""
    return NativeCache(default_folder())


def default_folder() -> Path | None:
    """``native`` in the cache folder; None when there is none to name."""
    from depchain.enrich.cache import cache_dir

    try:
        return cache_dir() / FOLDER
    except (OSError, RuntimeError, KeyError):  # no home folder
        return None


def shard_path(folder: Path, kind: str, root: str) -> Path:
    """The cache file of ``kind`` (``files`` or ``packages``) for ``root``."""
    digest = hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return folder / f"{kind}-{digest}.json"


class NativeCache:
    """The cache in ``folder`` (None: a cache that remembers nothing). Each of its
    files is read when first asked; :meth:`save` writes what was learned since."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._shards: dict[str, _Shard] = {}
        self._roots: dict[str, _RootState] = {}

    # -- files ---------------------------------------------------------------------

    def _shard(self, root: str) -> _Shard:
        shard = self._shards.get(root)
        if shard is None:
            path = None if self.folder is None else shard_path(self.folder, "files", root)
            shard = self._shards[root] = _Shard(root, path)
        return shard

    def reading(self, root: str, path: str) -> Reading | None:
        """What was read from the file at ``path`` (absolute) under the install root
        ``root`` (absolute), if the file is unchanged."""
        return self._shard(root).reading(path)

    def store(self, root: str, path: str, st: os.stat_result, reading: Reading) -> None:
        """Remember ``reading`` of the file at ``path`` under ``root``, whose ``stat``
        (taken on the open file it was read from) is ``st``."""
        if self.folder is not None and _storable(reading) and not _racy(st):
            self._shard(root).store(path, st, reading)

    # -- package databases ---------------------------------------------------------

    def databases(self, root: Path) -> _RootState:
        """The stored answers of ``root``'s package databases; emptied when any of the
        databases' files changed since they were given."""
        key = str(root)
        state = self._roots.get(key)
        if state is None:
            fingerprint = database_fingerprint(root)
            path = None if self.folder is None else shard_path(self.folder, "packages", key)
            state = _load_root(path, key) if path is not None else None
            if state is None or state.fingerprint != fingerprint:
                state = _RootState(fingerprint)
                state.dirty = path is not None
            state.path = path
            self._roots[key] = state
        return state

    # -- writing -------------------------------------------------------------------

    def save(self) -> None:
        """Write the files of what was learned; a failure is silent (a miss next time)."""
        if self.folder is None:
            return
        wrote = False
        for shard in self._shards.values():
            wrote = shard.save() or wrote
        for key, state in self._roots.items():
            wrote = state.save(key) or wrote
        if wrote:
            _prune(self.folder)


class _Shard:
    """What the files under one install root said."""

    def __init__(self, root: str, path: Path | None) -> None:
        self.root = root
        self.path = path
        self._files: Files = {}
        self._used: set[str] = set()
        self._new: set[str] = set()
        self._dirty = False
        self._loaded = path is None

    def _load(self) -> None:
        if not self._loaded and self.path is not None:
            self._loaded = True
            self._files, clean = _load_files(self.path, self.root)
            self._dirty = self._dirty or not clean

    def reading(self, path: str) -> Reading | None:
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
        self._load()
        self._files[path] = (file_key(st), reading)
        self._new.add(path)
        self._dirty = True

    def save(self) -> bool:
        if self.path is None or not self._dirty:
            return False
        # another process may have written since this one read: keep its rows too
        files, _ = _load_files(self.path, self.root)
        for name, entry in self._files.items():
            files.setdefault(name, entry)
        # what this scan used or learned last: the first to go are those used longest ago
        for name in [*sorted(self._used - self._new), *sorted(self._new)]:
            files.pop(name, None)
            files[name] = self._files[name]
        rows = list(files.items())[-MAX_FILES:]
        document = {
            "format": FORMAT,
            "root": self.root,
            "files": [_file_row(name, key, reading) for name, (key, reading) in rows],
        }
        self._dirty = False
        self._new.clear()
        return _write_json(self.path, document)


class _RootState:
    """The answers of one root file system's package databases."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.facts: dict[str, object] = {}
        """``available`` (bool), ``problem`` and ``unread`` (text or None), once known."""
        self.owners: dict[str, OwnerAnswer] = {}
        self.path: Path | None = None
        self.dirty = False

    def fact(self, name: str, value: object) -> None:
        self.facts[name] = value
        self.dirty = self.path is not None

    def answer(self, path: str, real: str, package: OsPackage | None) -> None:
        self.owners.pop(path, None)
        self.owners[path] = (real, package)
        while len(self.owners) > MAX_OWNERS:
            self.owners.pop(next(iter(self.owners)))
        self.dirty = self.path is not None

    def save(self, root: str) -> bool:
        if self.path is None or not self.dirty:
            return False
        other = _load_root(self.path, root)  # another process's answers: kept too
        if other is not None and other.fingerprint == self.fingerprint:
            self.facts = {**other.facts, **self.facts}
            owners = {**other.owners, **self.owners}
            self.owners = dict(list(owners.items())[-MAX_OWNERS:])
        document = {
            "format": FORMAT,
            "root": root,
            "fingerprint": self.fingerprint,
            "facts": self.facts,
            "owners": [
                [path, real, None if p is None else _package_row(p)]
                for path, (real, p) in self.owners.items()
            ],
        }
        self.dirty = False
        return _write_json(self.path, document)


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
        and len(info.marks) <= MAX_MARKS
        and all(
            len(t) <= MAX_TEXT for m in info.marks for t in (m.library, m.version or "", m.text)
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
            [[m.library, m.version, m.text] for m in info.marks],
        ]
    elif reading.error is not None:
        data = reading.error
    return [name, *key, reading.format.value, data]


def _package_row(p: OsPackage) -> list[object]:
    return [
        p.name,
        p.version,
        p.architecture,
        p.maintainer,
        p.distro,
        p.source,
        p.ptype,
        p.epoch,
        p.license,
    ]


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
    if not isinstance(data, list) or len(data) != 9:
        return None
    machine, elfclass, soname, needed, rpath, runpath, auditable, go, marks = data
    lists = [_texts(needed), _texts(rpath), _texts(runpath)]
    sections = [_section(auditable), _section(go)]
    found = _marks(marks)
    if (
        not _text(machine)
        or elfclass not in (32, 64)
        or type(elfclass) is not int
        or not _text(soname, optional=True)
        or any(v is None for v in lists)
        or not all(ok for ok, _ in sections)
        or found is None
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
        marks=found,
    )
    return name, key, Reading(fmt, info)


def _marks(value: object) -> tuple[Mark, ...] | None:
    if not isinstance(value, list) or len(value) > MAX_MARKS:
        return None
    found = []
    for row in value:
        if not isinstance(row, list) or len(row) != 3:
            return None
        library, version, text = row
        if not _text(library) or not _text(version, optional=True) or not _text(text):
            return None
        found.append(Mark(library, version, text))
    return tuple(found)


def _package(row: object) -> OsPackage | None:
    if not isinstance(row, list) or len(row) != 9:
        return None
    name, version, arch, maintainer, distro, source, ptype, epoch, license = row
    if not all(map(_text, (name, version, arch, distro, ptype))) or not all(
        _text(v, optional=True) for v in (maintainer, source, epoch, license)
    ):
        return None
    return OsPackage(name, version, arch, maintainer, distro, source, ptype, epoch, license)


def _load_root(path: Path, root: str) -> _RootState | None:
    """The package answers of ``root`` stored at ``path``, their malformed rows left
    out; None when there is no such file or it is not one."""
    document = _read_document(path, root)
    if document is None:
        return None
    fingerprint, facts, owners = (document.get(k) for k in ("fingerprint", "facts", "owners"))
    if not isinstance(fingerprint, str) or len(fingerprint) > 64 * MAX_TEXT:
        return None
    if not isinstance(facts, dict) or not isinstance(owners, list):
        return None
    state = _RootState(fingerprint)
    for name, value in facts.items():
        if (name == "available" and isinstance(value, bool)) or (
            name in {"problem", "unread"} and _text(value, optional=True)
        ):
            state.facts[name] = value
        else:
            state.dirty = True
    for entry in owners[-MAX_OWNERS:]:
        found = _owner_entry(entry)
        if found is None:
            state.dirty = True
            continue
        state.owners[found[0]] = found[1]
    return state


def _owner_entry(entry: object) -> tuple[str, OwnerAnswer] | None:
    if not isinstance(entry, list) or len(entry) != 3:
        return None
    path, real, package = entry
    if not _text(path) or not _text(real):
        return None
    found = None if package is None else _package(package)
    if package is not None and found is None:
        return None
    return path, (real, found)


def _load_files(path: Path, root: str) -> tuple[Files, bool]:
    """The well-formed rows of the file cache at ``path`` (of install root ``root``),
    and whether there was nothing wrong with it (a missing file: nothing wrong)."""
    files: Files = {}
    document = _read_document(path, root)
    if document is None:
        return files, not os.path.lexists(path)
    rows = document.get("files")
    if not isinstance(rows, list):
        return files, False
    clean = len(rows) <= MAX_FILES
    for row in rows[-MAX_FILES:]:
        entry = _file_entry(row)
        if entry is None:
            clean = False
            continue
        files[entry[0]] = (entry[1], entry[2])
    return files, clean


def _read_document(path: Path, root: str) -> dict[str, object] | None:
    """The JSON object at ``path`` when it is a cache file of this format for ``root``
    (read only up to :data:`MAX_BYTES`, never through a symbolic link)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_BYTES:
        return None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    return document if document.get("root") == root else None  # not another root's


def _write_json(path: Path, document: Mapping[str, object]) -> bool:
    """``document`` into ``path`` through a temporary file renamed over it (a symbolic
    link at ``path`` is replaced, never written through); False on failure, silently."""
    import tempfile

    try:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
    except (ValueError, TypeError):
        return False
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(tmp, path)
        tmp = None
        return True
    except (OSError, UnicodeError):
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _prune(folder: Path) -> None:
    """At most :data:`MAX_SHARDS` cache files of each kind: the least recently written
    go (and temporary files a killed process left, after an hour)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    kinds: dict[str, list[tuple[float, str]]] = {"files": [], "packages": []}
    for entry in entries:
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        kind = entry.name.split("-", 1)[0]
        if entry.name.endswith(".json") and kind in kinds:
            kinds[kind].append((mtime, entry.path))
        elif entry.name.startswith(".") and entry.name.endswith(".tmp") and now - mtime > 3600:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    for found in kinds.values():
        for _, path in sorted(found)[:-MAX_SHARDS]:
            with contextlib.suppress(OSError):
                os.unlink(path)
