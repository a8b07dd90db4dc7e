"""Installed and packed Python distributions, read from their ``.dist-info`` without
importing or running anything: METADATA, RECORD, WHEEL, INSTALLER, PEP 610
``direct_url.json``, entry points and PEP 770 ``sboms/``.

A distribution's files come from a :class:`FileSource`: a ``site-packages`` folder or a
wheel (a zip), so the same analysis serves both.
"""

from __future__ import annotations

import base64
import csv
import errno
import io
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, NamedTuple, Protocol

from depchain.model import Hash, Source, SourceKind

MAX_METADATA = 8 * 1024 * 1024
_ABSENT = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EBADF}
"""What :meth:`pathlib.Path.is_file` takes for "no such file"."""


class DistError(ValueError):
    """A ``.dist-info`` cannot be read; the message says why in one line."""


class FileSource(Protocol):
    """The files under one install root (``site-packages``, or a wheel's top level)."""

    def exists(self, name: str) -> bool: ...

    def open(self, name: str) -> BinaryIO:
        """A seekable binary stream of the file ``name`` (POSIX, relative to the root)."""
        ...

    def size(self, name: str) -> int: ...

    def display(self, name: str) -> str:
        """How evidence names this file."""
        ...

    def real_path(self, name: str) -> Path | None:
        """The file on disk, where there is one (not inside a wheel)."""
        ...

    def dist_infos(self) -> list[str]:
        """The ``*.dist-info`` folders at the root, sorted."""
        ...


@dataclass
class FolderSource:
    root: Path
    shown_as: str
    """How the root is named in evidence (relative to the scan root)."""

    def _path(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        # Path.is_file without a Path: asked for every shared object of every
        # distribution, and for every folder each one's RPATH names
        try:
            st = os.stat(os.path.join(self.root, name))
        except OSError as exc:
            if exc.errno in _ABSENT:
                return False
            raise
        except ValueError:  # a NUL byte in the name
            return False
        return stat.S_ISREG(st.st_mode)

    def open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def display(self, name: str) -> str:
        joined = os.path.normpath(os.path.join(self.shown_as, name))
        return joined if os.sep == "/" else PurePosixPath(joined).as_posix()  # (the same)

    def real_path(self, name: str) -> Path | None:
        return self._path(name)

    def read_small(self, name: str, limit: int) -> bytes | None:
        """The bytes of the regular file ``name`` (None where there is none, as
        :meth:`exists` says); :class:`DistError` when it is larger than ``limit``. One
        open instead of a look, a size and an open."""
        try:
            fd = os.open(self._path(name), os.O_RDONLY | os.O_NONBLOCK)  # a FIFO: no wait
        except OSError as exc:
            if exc.errno in _ABSENT:
                return None
            raise
        with open(fd, "rb") as handle:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size > limit:
                raise DistError(f"{name}: too large for metadata ({st.st_size} bytes)")
            return handle.read()

    def dist_infos(self) -> list[str]:
        try:
            return sorted(
                e.name
                for e in os.scandir(self.root)
                if e.name.endswith(".dist-info") and e.is_dir()
            )
        except OSError:
            return []

    def egg_infos(self) -> list[str]:
        """The legacy ``*.egg-info`` distributions at the root (folders or files: most of
        Debian's ``/usr/lib/python3/dist-packages``), which are not read."""
        try:
            return sorted(e.name for e in os.scandir(self.root) if e.name.endswith(".egg-info"))
        except OSError:
            return []


@dataclass
class WheelSource:
    archive: zipfile.ZipFile
    shown_as: str
    max_member: int = 256 * 1024 * 1024
    _names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._names = {i.filename for i in self.archive.infolist() if not i.is_dir()}

    def exists(self, name: str) -> bool:
        return name in self._names

    def open(self, name: str) -> BinaryIO:
        info = self.archive.getinfo(name)
        if info.file_size > self.max_member:
            raise DistError(f"{name}: member too large ({info.file_size} bytes)")
        return io.BytesIO(self.archive.read(name))

    def size(self, name: str) -> int:
        return self.archive.getinfo(name).file_size

    def display(self, name: str) -> str:
        return f"{self.shown_as}!/{name}"

    def real_path(self, name: str) -> Path | None:
        return None

    def dist_infos(self) -> list[str]:
        return sorted(
            {n.split("/", 1)[0] for n in self._names if n.split("/", 1)[0].endswith(".dist-info")}
        )


class RecordEntry(NamedTuple):
    """One row of ``RECORD`` (a named tuple: an installed environment has tens of
    thousands, and a tuple is made several times faster than a frozen dataclass)."""

    path: str
    """Relative to the install root, normalised (``../../bin/x`` stays as written)."""
    digest: str
    """The hash field as written (``sha256=<urlsafe base64>``, or empty); decoded only
    when asked for (:attr:`hash`): a scan needs few of the tens of thousands."""
    written_size: str
    """The size field as written (or empty); :attr:`size` is its number."""

    @property
    def size(self) -> int | None:
        text = self.written_size
        return int(text) if text.isdigit() and text.isascii() and len(text) < 20 else None

    @property
    def hash(self) -> Hash | None:
        algorithm, sep, value = self.digest.partition("=")
        if not sep:
            return None
        try:
            padded = value + "=" * (-len(value) % 4)
            return Hash(algorithm.lower(), base64.urlsafe_b64decode(padded).hex())
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Distribution:
    dist_info: str
    name: str
    version: str
    requires: tuple[str, ...]
    extras: tuple[str, ...]
    record: tuple[RecordEntry, ...]
    installer: str | None = None
    wheel_tags: tuple[str, ...] = ()
    direct_url: Source | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    """Selected METADATA fields: Author, Maintainer, License, Home-page, Project-URL..."""
    entry_points: tuple[str, ...] = ()
    sboms: tuple[str, ...] = ()
    """Paths of PEP 770 SBOM files (``<dist-info>/sboms/*``)."""
    problems: tuple[str, ...] = ()
    requires_lines: tuple[tuple[str, int], ...] = ()
    """The ``METADATA`` line of each ``Requires-Dist``, by its text (the first)."""

    def files(self) -> set[str]:
        return {e.path for e in self.record}


_KEPT = (
    "Summary",
    "Author",
    "Author-email",
    "Maintainer",
    "Maintainer-email",
    "License",
    "License-Expression",
    "Home-page",
    "Project-URL",
)


def _read(files: FileSource, name: str) -> bytes | None:
    if isinstance(files, FolderSource):
        return files.read_small(name, MAX_METADATA)
    if not files.exists(name):
        return None
    if files.size(name) > MAX_METADATA:
        raise DistError(f"{name}: too large for metadata ({files.size(name)} bytes)")
    with files.open(name) as handle:
        return handle.read()


def read_distribution(files: FileSource, dist_info: str) -> Distribution:
    """Read one ``*.dist-info``; raise :class:`DistError` when METADATA is unusable."""
    raw = _read(files, f"{dist_info}/METADATA")
    if raw is None:
        raise DistError(f"{dist_info}: no METADATA file")
    head = _head(raw)
    headers: dict[str, list[Any]] = {}  # every value by name, as get_all gives them
    for key, value in headers_of(head):
        headers.setdefault(key.lower(), []).append(value)
    name, version = (headers.get(k, [None])[0] for k in ("name", "version"))
    if not name or not version:
        raise DistError(f"{dist_info}/METADATA: no Name or Version")
    problems: list[str] = []
    record: list[RecordEntry] = []
    record_raw = _read(files, f"{dist_info}/RECORD")
    if record_raw is None:
        problems.append(f"{dist_info}: no RECORD (files of this distribution are unknown)")
    else:
        try:
            record = _parse_record(record_raw.decode("utf-8", "replace"))
        except csv.Error as exc:  # a field past csv's limit, a NUL byte
            problems.append(f"{dist_info}/RECORD: unreadable ({exc})")
    installer_raw = _read(files, f"{dist_info}/INSTALLER")
    wheel_raw = _read(files, f"{dist_info}/WHEEL")
    tags: tuple[str, ...] = ()
    if wheel_raw is not None:
        wheel = headers_of(_head(wheel_raw))  # a Header object where not ASCII: str() it
        tags = tuple(str(v) for k, v in wheel if k.lower() == "tag")
    direct: Source | None = None
    direct_raw = _read(files, f"{dist_info}/direct_url.json")
    if direct_raw is not None:
        try:
            direct = _direct_url(json.loads(direct_raw))
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
            problems.append(f"{dist_info}/direct_url.json: unreadable ({type(exc).__name__})")
    entry_points: list[str] = []
    ep_raw = _read(files, f"{dist_info}/entry_points.txt")
    if ep_raw is not None:
        section = ""
        for line in ep_raw.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif "=" in line and section in {"console_scripts", "gui_scripts"}:
                entry_points.append(line.split("=", 1)[0].strip())
    folder = f"{dist_info}/sboms/"
    sboms = sorted(e.path for e in record if e.path.startswith(folder))
    if not record:  # no RECORD: still look for SBOMs where PEP 770 puts them
        sboms = []
    kept = tuple((k, str(v)) for k in _KEPT for v in headers.get(k.lower(), ()) if v)
    return Distribution(
        dist_info=dist_info,
        name=str(name),
        version=str(version),
        requires=tuple(str(r) for r in headers.get("requires-dist", ())),
        extras=tuple(str(e) for e in headers.get("provides-extra", ())),
        record=tuple(record),
        installer=installer_raw.decode("utf-8", "replace").strip() if installer_raw else None,
        wheel_tags=tags,
        direct_url=direct,
        metadata=kept,
        entry_points=tuple(sorted(entry_points)),
        sboms=tuple(sboms),
        problems=tuple(problems),
        requires_lines=_requires_lines(head),
    )


_HEADER = re.compile(r"[\041-\071\073-\176]*:")
"""A header line as the email package's parser tells one (its ``headerRE``)."""


def headers_of(raw: bytes) -> list[tuple[str, Any]]:
    """The headers of an RFC 822 style file, as the email package's parser gives them
    (``BytesParser().parsebytes(raw, headersonly=True).items()``, compat32: a ``str``,
    or a ``Header`` where the value is not ASCII). The plain case (ASCII, ``\\n``
    line ends, each line a header, a continuation or the blank line that ends them)
    is read here, several times faster; anything else by the email package."""
    if not raw.isascii() or b"\r" in raw or raw.startswith((b" ", b"\t", b"From ")):
        return _email_headers(raw)
    found: list[tuple[str, Any]] = []
    name, value = "", ""
    for line in raw.decode("ascii").split("\n"):
        if not line:
            break  # the blank line before the body (or the end of the file)
        if line[0] in " \t":
            value += "\n" + line  # a folded header's next line, kept as the parser keeps it
            continue
        if name:
            found.append((name, value.rstrip("\r\n")))
            name = ""
        if line.startswith("From ") or line[0] == ":":
            return _email_headers(raw)  # what the parser takes as a defect: its way
        if not _HEADER.match(line):
            return found  # the body begins without a blank line
        name, _, rest = line.partition(":")
        value = rest.lstrip(" \t")
    if name:
        found.append((name, value.rstrip("\r\n")))
    return found


def _email_headers(raw: bytes) -> list[tuple[str, Any]]:
    from email.parser import BytesParser

    return BytesParser().parsebytes(raw, headersonly=True).items()


def _head(raw: bytes) -> bytes:
    """The part of an RFC 822 style file that holds its headers: up to its first blank
    line, where one is written ``\\n\\n`` (else all of it). What a header parser or
    a line count reads of it is the same as of the whole file; a long description
    after it is not read line by line for nothing."""
    end = raw.find(b"\n\n")
    return raw if end < 0 else raw[: end + 1]


def _requires_lines(head: bytes) -> tuple[tuple[str, int], ...]:
    """The line of each ``Requires-Dist`` in the ``METADATA`` headers, by its text."""
    lines: dict[str, int] = {}
    for number, line in enumerate(head.decode("utf-8", "replace").splitlines(), 1):
        if not line:
            break  # the end of the headers (a folded header's lines start with blanks)
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "requires-dist":
            lines.setdefault(value.strip(), number)
    return tuple(lines.items())


def _parse_record(text: str) -> list[RecordEntry]:
    out: list[RecordEntry] = []
    append, entry = out.append, tuple.__new__  # a row of three fields is an entry as it is
    for row in csv.reader(io.StringIO(text)):
        if len(row) == 3 and row[0]:
            append(entry(RecordEntry, row))
        elif row and row[0]:
            n = len(row)
            append(RecordEntry(row[0], row[1] if n > 1 else "", row[2] if n > 2 else ""))
    return out


def _direct_url(data: dict[str, object]) -> Source:
    """PEP 610: where an installed distribution came from, if not an index."""
    url = str(data["url"])
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        return Source(
            SourceKind.VCS,
            url=f"{vcs.get('vcs', 'git')}+{url}",
            ref=vcs.get("requested_revision"),
            commit=vcs.get("commit_id"),
            subdirectory=str(data["subdirectory"]) if "subdirectory" in data else None,
        )
    dir_info = data.get("dir_info")
    if isinstance(dir_info, dict) or url.startswith("file:"):
        editable = bool(dir_info.get("editable")) if isinstance(dir_info, dict) else False
        path = url[len("file://") :] if url.startswith("file://") else url
        return Source(SourceKind.PATH, url=path, editable=editable)
    return Source(SourceKind.URL, url=url)
