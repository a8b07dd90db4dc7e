"""Installed and packed Python distributions, read from their ``.dist-info`` without
importing or running anything: METADATA, RECORD, WHEEL, INSTALLER, PEP 610
``direct_url.json``, entry points and PEP 770 ``sboms/``.

A distribution's files come from a :class:`FileSource`: a ``site-packages`` folder or a
wheel (a zip), so the same analysis serves both.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from depchain.model import Hash, Source, SourceKind

MAX_METADATA = 8 * 1024 * 1024


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
        return self._path(name).is_file()

    def open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def display(self, name: str) -> str:
        joined = os.path.normpath(os.path.join(self.shown_as, name))
        return PurePosixPath(joined).as_posix()

    def real_path(self, name: str) -> Path | None:
        return self._path(name)

    def dist_infos(self) -> list[str]:
        try:
            return sorted(
                e.name
                for e in os.scandir(self.root)
                if e.name.endswith(".dist-info") and e.is_dir()
            )
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


@dataclass(frozen=True)
class RecordEntry:
    path: str
    """Relative to the install root, normalised (``../../bin/x`` stays as written)."""
    hash: Hash | None
    size: int | None


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
    message = BytesParser().parsebytes(raw, headersonly=True)
    name, version = message.get("Name"), message.get("Version")
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
        wheel = BytesParser().parsebytes(wheel_raw, headersonly=True)
        tags = tuple(str(t) for t in wheel.get_all("Tag") or ())  # a Header when not ASCII
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
    sboms = sorted(e.path for e in record if e.path.startswith(f"{dist_info}/sboms/"))
    if not record:  # no RECORD: still look for SBOMs where PEP 770 puts them
        sboms = []
    kept = tuple((k, str(v)) for k in _KEPT for v in (message.get_all(k) or ()) if v)
    return Distribution(
        dist_info=dist_info,
        name=str(name),
        version=str(version),
        requires=tuple(str(r) for r in message.get_all("Requires-Dist") or ()),
        extras=tuple(str(e) for e in message.get_all("Provides-Extra") or ()),
        record=tuple(record),
        installer=installer_raw.decode("utf-8", "replace").strip() if installer_raw else None,
        wheel_tags=tags,
        direct_url=direct,
        metadata=kept,
        entry_points=tuple(sorted(entry_points)),
        sboms=tuple(sboms),
        problems=tuple(problems),
    )


def _parse_record(text: str) -> list[RecordEntry]:
    out: list[RecordEntry] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        path = row[0]
        digest = None
        if len(row) > 1 and "=" in row[1]:
            algorithm, _, value = row[1].partition("=")
            try:
                padded = value + "=" * (-len(value) % 4)
                digest = Hash(algorithm.lower(), base64.urlsafe_b64decode(padded).hex())
            except (ValueError, TypeError):
                digest = None
        size = (
            int(row[2])
            if len(row) > 2 and row[2].isascii() and row[2].isdigit() and len(row[2]) < 20
            else None
        )
        out.append(RecordEntry(path, digest, size))
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
