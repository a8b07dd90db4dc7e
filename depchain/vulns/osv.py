"""depchain's offline OSV source: advisories read from folders and ``.zip`` archives of
OSV records (JSON or YAML), evaluated as the OSV specification says.

- **Reading.** Each path is a folder (read recursively, ``.zip`` archives in it
  included) or a ``.zip`` of records. Records are ``.json``, ``.yaml`` or ``.yml``
  files; JSON goes through :func:`depchain.fileio.parse_json`, YAML through
  :mod:`depchain.yamlsafe`. Everything is bounded: the size of a file or an archive
  member (:data:`depchain.fileio.MAX_FILE_SIZE`), the members of an archive and their
  total size, the files and the depth of a folder. Archive members are only ever read
  in memory, so their names cannot lead anywhere. A malformed file is one line of
  :attr:`OsvSource.problems` (its path and what is wrong, never its values) and is
  skipped; the rest is used. A path that cannot be read at all raises
  :class:`~depchain.vulns.interface.SourceError`.
- **Matching** (the specification's ``IsVulnerable``): ``affected[]`` entries by
  ecosystem and package name (PyPI names PEP 503-normalised, others exact; a
  ``Debian:12`` record matches a ``Debian`` query, and a query without a release
  matches every release, which :attr:`OsvSource.notes` says); ``versions`` lists;
  ``ECOSYSTEM`` and ``SEMVER`` ranges with ``introduced`` (``"0"`` first of all),
  ``fixed``, ``last_affected`` and ``limit`` events, sorted in the ecosystem's order
  (:mod:`depchain.vulns.versions`); ``GIT`` ranges through the ``versions`` list only;
  ``withdrawn`` records skipped.
- **Merging.** The records that affect one package and share an id or an alias are one
  :class:`~depchain.vulns.interface.Advisory`, named by the ecosystem's own database
  (PYSEC, RUSTSEC, GO...), else GHSA, else CVE; every other id is an alias.
- **Index.** The records, reduced to what matching and reporting need and keyed by
  (ecosystem, name), are kept in ``cache_dir`` as ``osv-index-<hash>.json``, named by
  a hash of the paths and of every file's size and modification time. The file starts
  with a checksum of its body; one that fails to load or to check is rebuilt, never
  trusted. It is JSON, not pickle: a cache file is data, never code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depchain.errors import DepchainError, InputFileError
from depchain.fileio import MAX_FILE_SIZE, atomic_writer, parse_json, read_bytes
from depchain.vulns.cvss import base_score, rating, severity_word
from depchain.vulns.interface import (
    Advisory,
    Cvss,
    NotAudited,
    Query,
    Severity,
    SourceError,
    SourceInfo,
)
from depchain.vulns.versions import equal_versions, scheme_for, version_key

__all__ = ["SOURCE_NAME", "OsvSource"]

SOURCE_NAME = "osv-offline"
INDEX_FORMAT = 3
"""Raised whenever what the index holds, or how it is read, changes."""
RECORD_SUFFIXES = (".json", ".yaml", ".yml")
MAX_FOLDER_DEPTH = 32
MAX_FILES = 1_000_000
"""Record files and archive members read from one path at most."""
MAX_ARCHIVE_TOTAL = 4 * 1024 * 1024 * 1024
"""Bytes read from one archive's members at most (uncompressed)."""
MAX_CACHE_SIZE = 1024 * 1024 * 1024
MAX_PROBLEMS = 200
"""Lines of :attr:`OsvSource.problems` kept; one more says how many were left out."""
SUMMARY_LENGTH = 200
MAX_REFERENCES = 5
CACHE_PREFIX = "osv-index-"
CACHE_UNUSED_DAYS = 14
"""Other index files of the cache folder not used for this long are removed when a new
one is written."""

_OWN_DATABASE = {
    "pypi": ("PYSEC-",),
    "crates.io": ("RUSTSEC-",),
    "go": ("GO-",),
    "debian": ("DSA-", "DLA-", "DTSA-", "DEBIAN-"),
    "ubuntu": ("USN-", "UBUNTU-"),
    "alpine": ("ALPINE-",),
}
_SEVERITY_ORDER = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.NONE: 1,
    Severity.UNKNOWN: 0,
}
_REFERENCE_ORDER = {"ADVISORY": 0, "FIX": 1, "REPORT": 2, "WEB": 3}
_PEP503 = re.compile(r"[-_.]+")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalise_name(ecosystem: str, name: str) -> str:
    """The name an index key holds: PEP 503 for PyPI, the name as written elsewhere."""
    if ecosystem.split(":", 1)[0].strip().lower() == "pypi":
        return _PEP503.sub("-", name).lower()
    return name


def _key(ecosystem: str, name: str) -> str:
    base = ecosystem.split(":", 1)[0].strip().lower()
    return f"{base}\x00{normalise_name(base, name)}"


def _display(text: str) -> str:
    """A path fit for one line of text: undecodable bytes escaped, control characters
    replaced."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _UNPRINTABLE.sub("?", text)


def _iso(value: Any) -> str | None:
    """A record's timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or None for none (and for
    the year-1 placeholder some databases write)."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    elif isinstance(value, str):
        match = _TIMESTAMP.fullmatch(value.strip())
        if match is None:
            return None
        year, month, day, hour, minute, second, offset = match.groups()
        zone = dt.timezone.utc
        if offset and offset not in ("Z", "z"):
            digits = offset[1:].replace(":", "")
            delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            zone = dt.timezone(delta if offset[0] == "+" else -delta)
        try:
            moment = dt.datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                tzinfo=zone,
            )
        except ValueError:
            return None
    else:
        return None
    if moment.year < 1970:
        return None
    try:
        moment = moment.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(text: str) -> str:
    """A record's text as any output can hold it: lone surrogates (``\\ud800`` in JSON)
    and other characters UTF-8 cannot encode become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _as_text(value: Any) -> str | None:
    """A record's string as given (a YAML timestamp as ISO 8601), or None."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return None


def _summary(record: Mapping[str, Any]) -> str:
    """The record's summary, else the first paragraph of its details, on one line and at
    most :data:`SUMMARY_LENGTH` characters."""
    text = record.get("summary")
    if not isinstance(text, str) or not text.strip():
        details = record.get("details")
        text = details.strip().split("\n\n", 1)[0] if isinstance(details, str) else ""
    text = _clean(" ".join(text.split()))
    if len(text) > SUMMARY_LENGTH:
        cut = text[: SUMMARY_LENGTH - 1]
        if " " in cut[SUMMARY_LENGTH // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        text = cut.rstrip(" ,;:.") + "…"
    return text


class _Malformed(Exception):
    """The whole file is no usable record."""


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(f"{what} is not a list")
    return [_clean(item) for item in value if isinstance(item, str) and item]


def _version_text(value: Any) -> str | None:
    """A version as a record writes it: a string, or a YAML integer (``introduced: 0``).
    A YAML float is refused: ``1.10`` would have become ``1.1``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _severities(value: Any, issues: list[str], where: str) -> list[list[Any]]:
    """``severity[]`` as [vector, score or None] pairs (CVSS v3 scores computed)."""
    if value is None:
        return []
    if not isinstance(value, list):
        issues.append(f"{where} is not a list")
        return []
    found: list[list[Any]] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        kind, vector = item.get("type"), item.get("score")
        if not isinstance(kind, str) or not isinstance(vector, str) or len(vector) > 500:
            continue
        if not kind.startswith("CVSS"):
            continue
        score = base_score(kind, vector)
        if score is None and vector.startswith("CVSS:3."):
            issues.append(f"{where}: a CVSS vector that cannot be scored")
        found.append([vector.strip(), score])
    return found


def _word(*holders: Any) -> str | None:
    """The record's own severity word; a RustSec informational notice (``unmaintained``,
    ``unsound``, ``notice``) without one is low, as cargo-audit warns rather than fails
    on it: a notice with no fix is no vulnerability."""
    for holder in holders:
        if isinstance(holder, dict):
            word = holder.get("severity")
            if severity_word(word) is not None:
                return str(word)
    for holder in holders:
        if isinstance(holder, dict) and isinstance(holder.get("informational"), str):
            return "LOW"
    return None


def _references(value: Any) -> list[list[Any]]:
    """The first references as [rank, url]: ADVISORY, then FIX, REPORT, WEB, others."""
    if not isinstance(value, list):
        return []
    found: list[tuple[int, int, str]] = []
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            continue
        url, kind = item.get("url"), item.get("type")
        if isinstance(url, str) and url and len(url) <= 2000:
            order = _REFERENCE_ORDER.get(kind, 4) if isinstance(kind, str) else 4
            found.append((order, position, url))
    found.sort()
    first = dict.fromkeys((order, url) for order, _, url in found)
    return [[order, url] for order, url in first][:MAX_REFERENCES]


def _ranges(value: Any, ecosystem: str, issues: list[str], where: str) -> list[list[Any]]:
    """``ranges[]`` as [type, [[event, version], ...]]; a range whose versions cannot be
    ordered is kept (matching treats it as unknown) and noted."""
    if value is None:
        return []
    if not isinstance(value, list):
        issues.append(f"{where}.ranges is not a list")
        return []
    kept: list[list[Any]] = []
    for number, item in enumerate(value):
        here = f"{where}.ranges[{number}]"
        if not isinstance(item, dict):
            issues.append(f"{here} is not a mapping")
            continue
        kind, events = item.get("type"), item.get("events")
        if kind not in ("ECOSYSTEM", "SEMVER", "GIT"):
            issues.append(f"{here} has an unknown type; ignored")
            continue
        if not isinstance(events, list) or not events:
            issues.append(f"{here} has no events; ignored")
            continue
        pairs: list[list[str]] = []
        for event in events:
            if not isinstance(event, dict) or len(event) != 1:
                issues.append(f"{here} has an event that is not one key and a version")
                pairs = []
                break
            ((name, version),) = event.items()
            text = _version_text(version)
            if name not in ("introduced", "fixed", "last_affected", "limit") or text is None:
                issues.append(f"{here} has an event that is not one key and a version")
                pairs = []
                break
            pairs.append([name, text])
        if not pairs:
            continue
        if not any(name == "introduced" for name, _ in pairs):
            issues.append(f"{here} has no introduced event; ignored")
            continue
        if kind != "GIT":
            scheme = "semver" if kind == "SEMVER" else scheme_for(ecosystem)
            if scheme is not None and any(
                version_key(scheme, text) is None
                for name, text in pairs
                if not (name == "introduced" and text == "0")
                and not (name == "limit" and "*" in text)
            ):
                issues.append(f"{here} has a version that cannot be ordered")
        kept.append([kind, pairs])
    return kept


@dataclass
class _Reduced:
    """One record as the index keeps it."""

    id: str
    modified: str | None  # normalised, for choosing between two copies and `updated`
    meta: list[Any]
    entries: list[tuple[str, list[Any]]]  # (index key, entry without the record number)


def _reduce(record: Any, issues: list[str]) -> _Reduced | None:
    """The parts of a record matching and reporting need; None when withdrawn."""
    if not isinstance(record, dict):
        raise _Malformed("not an OSV record (not a mapping)")
    ident = record.get("id")
    if not isinstance(ident, str) or not ident.strip() or len(ident) > 200:
        raise _Malformed("not an OSV record (no id)")
    ident = _clean(ident.strip())
    if record.get("withdrawn"):
        return None
    affected = record.get("affected")
    if affected is None:
        affected = []
    if not isinstance(affected, list):
        raise _Malformed("affected is not a list")
    aliases = [alias for alias in _strings(record.get("aliases"), "aliases") if alias != ident]
    cvss = _severities(record.get("severity"), issues, "severity")
    database = record.get("database_specific")
    meta = [
        ident,
        list(dict.fromkeys(alias.strip() for alias in aliases if len(alias) <= 200))[:100],
        _summary(record),
        _as_text(record.get("published")) if _iso(record.get("published")) else None,
        _as_text(record.get("modified")) if _iso(record.get("modified")) else None,
        _references(record.get("references")),
        cvss,
        _word(database),
    ]
    entries: list[tuple[str, list[Any]]] = []
    for number, item in enumerate(affected):
        where = f"affected[{number}]"
        if not isinstance(item, dict):
            issues.append(f"{where} is not a mapping; ignored")
            continue
        package = item.get("package")
        ecosystem = package.get("ecosystem") if isinstance(package, dict) else None
        name = package.get("name") if isinstance(package, dict) else None
        if not isinstance(ecosystem, str) or not isinstance(name, str):
            issues.append(f"{where} names no package (ecosystem and name); ignored")
            continue
        ecosystem, name = ecosystem.strip(), name.strip()
        if not ecosystem or not name or len(name) > 500 or len(ecosystem) > 200:
            issues.append(f"{where} names no package (ecosystem and name); ignored")
            continue
        listed = item.get("versions") or []
        if not isinstance(listed, list):
            issues.append(f"{where}.versions is not a list; ignored")
            listed = []
        versions = [text for text in map(_version_text, listed) if text is not None]
        ranges = _ranges(item.get("ranges"), ecosystem, issues, where)
        if not versions and not ranges:
            continue  # nothing can be matched (a range that was ignored is noted)
        entry_cvss = _severities(item.get("severity"), issues, f"{where}.severity")
        word = _word(item.get("database_specific"), item.get("ecosystem_specific"))
        entries.append((_key(ecosystem, name), [ecosystem, versions, ranges, entry_cvss, word]))
    return _Reduced(ident, _iso(record.get("modified")), meta, entries)


# -- reading files and archives ------------------------------------------------------


@dataclass
class _Listing:
    """What a path holds: the record files and archives, with size and mtime (the
    index's name is a hash of them)."""

    path: Path
    files: list[tuple[str, int, int]] = field(default_factory=list)  # relative, size, ns
    truncated: bool = False


def _list(path: Path) -> _Listing:
    try:
        info = path.stat()
    except OSError as exc:
        raise SourceError(
            f"{_display(str(path))}: cannot read the advisory data ({exc.strerror or exc}); "
            "give a folder or a .zip of OSV records, or run 'depchain db update'"
        ) from None
    listing = _Listing(path)
    if stat.S_ISREG(info.st_mode):
        listing.files.append(("", info.st_size, info.st_mtime_ns))
        return listing
    if not stat.S_ISDIR(info.st_mode):
        raise SourceError(f"{_display(str(path))}: not a folder or a .zip of OSV records")
    _walk(str(path), "", 0, listing)
    return listing


def _walk(folder: str, prefix: str, depth: int, listing: _Listing) -> None:
    """Add the record files and archives under ``folder`` (links to folders are not
    followed; deeper than :data:`MAX_FOLDER_DEPTH` is not read)."""
    try:
        with os.scandir(folder) as scan:
            found = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in found:
        if listing.truncated:
            return
        relative = prefix + entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 < MAX_FOLDER_DEPTH:
                    _walk(entry.path, relative + os.sep, depth + 1, listing)
                continue
        except OSError:
            continue
        lower = entry.name.lower()
        if not lower.endswith((*RECORD_SUFFIXES, ".zip")) or lower.endswith(".zip.json"):
            continue  # not a record, or what `db update` writes beside an archive
        if len(listing.files) >= MAX_FILES:
            listing.truncated = True
            return
        try:
            info = entry.stat()
        except OSError:
            listing.files.append((relative, -1, 0))
        else:
            listing.files.append((relative, info.st_size, info.st_mtime_ns))


def _documents(listing: _Listing, problems: _Problems) -> Iterator[tuple[str, bytes, str]]:
    """(display, bytes, suffix) of each record file of the path, archive members
    included; what cannot be read is a problem."""
    if listing.truncated:
        problems.add(
            f"{_display(str(listing.path))}: more than {MAX_FILES} files; only the first were read"
        )
    direct = listing.files == [] or listing.files[0][0] == ""
    for relative, _size, _ in listing.files:
        full = listing.path / relative if relative else listing.path
        display = _display(str(full))
        if full.name.lower().endswith(".zip"):
            try:
                yield from _archive(full, display, problems)
            except SourceError:
                if direct:
                    raise
                problems.add(f"{display}: not a readable .zip archive; skipped")
            continue
        if direct and not full.name.lower().endswith(RECORD_SUFFIXES):
            raise SourceError(f"{display}: not a folder, a .zip, or an OSV record file")
        try:
            data = read_bytes(full, display, MAX_FILE_SIZE)
        except InputFileError as exc:
            problems.add(str(exc))
            continue
        yield display, data, full.suffix.lower()


def _archive(path: Path, display: str, problems: _Problems) -> Iterator[tuple[str, bytes, str]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a zip"
        raise SourceError(f"{display}: cannot read the archive ({reason})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_FILES:
            problems.add(f"{display}: more than {MAX_FILES} members; only the first were read")
            members = members[:MAX_FILES]
        total = 0
        for member in members:
            if member.is_dir() or not member.filename.lower().endswith(RECORD_SUFFIXES):
                continue
            where = f"{display}:{_display(member.filename)}"
            if member.file_size > MAX_FILE_SIZE:
                problems.add(f"{where}: member is too large; skipped")
                continue
            if total + member.file_size > MAX_ARCHIVE_TOTAL:
                problems.add(f"{display}: members past {MAX_ARCHIVE_TOTAL >> 30} GiB not read")
                return
            try:
                with archive.open(member) as handle:
                    data = handle.read(MAX_FILE_SIZE + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError,
                    ValueError, EOFError) as exc:  # fmt: skip
                reason = "encrypted" if isinstance(exc, RuntimeError) else "cannot be read"
                problems.add(f"{where}: member {reason}; skipped")
                continue
            except Exception:  # zlib.error and the like: a damaged member
                problems.add(f"{where}: member cannot be read; skipped")
                continue
            if len(data) > MAX_FILE_SIZE:
                problems.add(f"{where}: member is too large; skipped")
                continue
            total += len(data)
            suffix = os.path.splitext(member.filename)[1].lower()
            yield where, data, suffix


def _parse(display: str, data: bytes, suffix: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(display, f"not valid UTF-8 (line {line})") from None
    text = text.removeprefix("\ufeff")
    if suffix == ".json":
        return parse_json(text, display)
    from depchain import yamlsafe

    return yamlsafe.load(text, display)


class _Problems(list[str]):
    """Problem lines, at most :data:`MAX_PROBLEMS` (then one saying how many more)."""

    dropped = 0

    def add(self, line: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(line)
        else:
            self.dropped += 1

    def lines(self) -> list[str]:
        if self.dropped:
            return [*self, f"... and {self.dropped} more problems with advisory files"]
        return list(self)


# -- the index -----------------------------------------------------------------------


@dataclass
class _Index:
    records: list[str]  # JSON of each record's meta, decoded when a query hits it
    entries: dict[str, str]  # index key -> JSON of [[record, ecosystem, versions, ...]]
    problems: list[str]
    ecosystems: list[str]
    updated: str | None
    withdrawn: int

    def body(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "entries": self.entries,
            "problems": self.problems,
            "ecosystems": self.ecosystems,
            "updated": self.updated,
            "withdrawn": self.withdrawn,
        }

    @classmethod
    def from_body(cls, body: Any) -> _Index:
        """The index a cache file holds; ValueError for anything not as written."""
        if not isinstance(body, dict):
            raise ValueError("not a mapping")
        records, entries = body.get("records"), body.get("entries")
        problems, ecosystems = body.get("problems"), body.get("ecosystems")
        updated, withdrawn = body.get("updated"), body.get("withdrawn")
        if not isinstance(records, list) or not all(isinstance(r, str) for r in records):
            raise ValueError("records")
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise ValueError("entries")
        if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
            raise ValueError("problems")
        if not isinstance(ecosystems, list) or not all(isinstance(e, str) for e in ecosystems):
            raise ValueError("ecosystems")
        if not (updated is None or isinstance(updated, str)) or not isinstance(withdrawn, int):
            raise ValueError("updated")
        return cls(records, entries, problems, ecosystems, updated, withdrawn)


def _build(listings: Sequence[_Listing]) -> _Index:
    problems = _Problems()
    chosen: dict[str, _Reduced] = {}
    withdrawn = 0
    ecosystems: dict[str, str] = {}
    for listing in listings:
        for display, data, suffix in _documents(listing, problems):
            try:
                document = _parse(display, data, suffix)
            except InputFileError as exc:
                problems.add(f"{exc.path}: {exc.message}; skipped")
                continue
            issues: list[str] = []
            try:
                reduced = _reduce(document, issues)
            except _Malformed as exc:
                problems.add(f"{display}: {exc}; skipped")
                continue
            except (RecursionError, MemoryError):
                problems.add(f"{display}: nested too deeply; skipped")
                continue
            if issues:
                more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
                problems.add(f"{display}: {issues[0]}{more}; the rest of the record is used")
            if reduced is None:
                withdrawn += 1
                continue
            known = chosen.get(reduced.id)
            # the same advisory twice (a folder and an archive of it): the newer copy
            if known is None or (reduced.modified or "") > (known.modified or ""):
                chosen[reduced.id] = reduced
    grouped: dict[str, list[list[Any]]] = {}
    records: list[str] = []
    updated: str | None = None
    for number, reduced in enumerate(chosen.values()):
        records.append(json.dumps(reduced.meta, ensure_ascii=False, separators=(",", ":")))
        if reduced.modified and (updated is None or reduced.modified > updated):
            updated = reduced.modified
        for key, entry in reduced.entries:
            grouped.setdefault(key, []).append([number, *entry])
            base = entry[0].split(":", 1)[0].strip()
            ecosystems.setdefault(base.lower(), base)
    entries = {
        key: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        for key, value in grouped.items()
    }
    return _Index(
        records, entries, problems.lines(), sorted(ecosystems.values()), updated, withdrawn
    )


# -- the cache file ------------------------------------------------------------------

_MAGIC = b"depchain-osv-index"


def _cache_key(listings: Sequence[_Listing]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{INDEX_FORMAT}\n".encode())
    for listing in listings:
        digest.update(os.fsencode(os.path.abspath(listing.path)) + b"\0")
        for relative, size, mtime in listing.files:
            digest.update(os.fsencode(relative) + f"\0{size}\0{mtime}\n".encode())
        digest.update(b"\1" if listing.truncated else b"\0")
    return digest.hexdigest()[:32]


def _read_cache(path: Path) -> _Index:
    """The index in ``path``; any failure (absent, damaged, not depchain's) raises."""
    data = read_bytes(path, str(path), MAX_CACHE_SIZE)
    header, newline, body = data.partition(b"\n")
    parts = header.split(b" ")
    if not newline or len(parts) != 3 or parts[0] != _MAGIC:
        raise ValueError("not an index file")
    if parts[1] != str(INDEX_FORMAT).encode():
        raise ValueError("another format")
    if hashlib.sha256(body).hexdigest().encode() != parts[2]:
        raise ValueError("checksum")
    return _Index.from_body(json.loads(body))


def _write_cache(path: Path, index: _Index) -> None:
    # ASCII: every character escaped, so nothing a record holds can fail to encode
    body = json.dumps(index.body(), ensure_ascii=True, separators=(",", ":")).encode()
    checksum = hashlib.sha256(body).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with atomic_writer(path, "wb") as handle:
        handle.write(b"%s %d %s\n" % (_MAGIC, INDEX_FORMAT, checksum.encode()))
        handle.write(body)


def _prune(folder: Path, keep: Path) -> None:
    """Remove index files of other data not used for :data:`CACHE_UNUSED_DAYS`."""
    limit = time.time() - CACHE_UNUSED_DAYS * 86400
    with suppress(OSError):
        for entry in os.scandir(folder):
            if not entry.name.startswith(CACHE_PREFIX) or entry.name == keep.name:
                continue
            with suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < limit:
                    os.unlink(entry.path)


# -- matching ------------------------------------------------------------------------


class _Entry:
    """One ``affected[]`` entry of the index, decoded."""

    __slots__ = ("cvss", "ecosystem", "ranges", "record", "version_keys", "versions", "word")

    def __init__(self, raw: Any) -> None:
        if not isinstance(raw, list) or len(raw) != 6:
            raise ValueError("entry")
        record, ecosystem, versions, ranges, cvss, word = raw
        if not isinstance(record, int) or not isinstance(ecosystem, str):
            raise ValueError("entry")
        if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
            raise ValueError("versions")
        self.record = record
        self.ecosystem = ecosystem
        self.versions: tuple[str, ...] = tuple(versions)
        self.ranges: list[tuple[str, list[tuple[str, str]]]] = []
        if not isinstance(ranges, list):
            raise ValueError("ranges")
        for item in ranges:
            kind, events = item
            if not isinstance(kind, str) or not isinstance(events, list):
                raise ValueError("range")
            pairs = [(str(name), str(version)) for name, version in events]
            self.ranges.append((kind, pairs))
        self.cvss = _cvss_list(cvss)
        self.word = word if isinstance(word, str) else None
        self.version_keys: set[Any] | None = None

    def listed(self, version: str, scheme: str | None) -> bool:
        """Whether ``version`` is one of the entry's ``versions`` (``3.2`` is ``3.2.0``
        in PyPI)."""
        if version in self.versions:
            return True
        if scheme is None:
            return False
        if self.version_keys is None:
            keys = (version_key(scheme, text) for text in self.versions)
            self.version_keys = {key for key in keys if key is not None}
        wanted = version_key(scheme, version)
        return wanted is not None and wanted in self.version_keys


def _cvss_list(value: Any) -> list[tuple[str, float | None]]:
    if not isinstance(value, list):
        raise ValueError("cvss")
    found: list[tuple[str, float | None]] = []
    for item in value:
        vector, score = item
        if not isinstance(vector, str) or not (score is None or isinstance(score, (int, float))):
            raise ValueError("cvss")
        found.append((vector, None if score is None else float(score)))
    return found


@dataclass
class _Record:
    id: str
    aliases: list[str]
    summary: str
    published: str | None
    modified: str | None
    references: list[tuple[int, str]]
    cvss: list[tuple[str, float | None]]
    word: str | None

    @classmethod
    def decode(cls, text: str) -> _Record:
        raw = json.loads(text)
        if not isinstance(raw, list) or len(raw) != 8:
            raise ValueError("record")
        ident, aliases, summary, published, modified, references, cvss, word = raw
        if not isinstance(ident, str) or not isinstance(summary, str):
            raise ValueError("record")
        if not isinstance(aliases, list) or not all(isinstance(v, str) for v in aliases):
            raise ValueError("record")
        if not isinstance(references, list):
            raise ValueError("record")
        links = [(int(rank), str(url)) for rank, url in references]
        for value in (published, modified, word):
            if not (value is None or isinstance(value, str)):
                raise ValueError("record")
        return cls(ident, aliases, summary, published, modified, links, _cvss_list(cvss),
                   word)  # fmt: skip


class _Unknown(Exception):
    """A range that cannot be evaluated for the version asked about."""


def _in_range(version: str, kind: str, events: list[tuple[str, str]], scheme: str | None) -> bool:
    """The specification's evaluation of one ``ECOSYSTEM`` or ``SEMVER`` range."""
    if scheme is None:
        raise _Unknown
    current = version_key(scheme, version)
    if current is None:
        raise _Unknown
    limits = [text for name, text in events if name == "limit"]
    if limits:
        before = False
        for text in limits:
            if "*" in text:
                before = True
                break
            limit = version_key(scheme, text)
            if limit is None:
                raise _Unknown
            if current < limit:
                before = True
                break
        if not before:
            return False
    ordered: list[tuple[int, Any, str]] = []
    for name, text in events:
        if name == "limit":
            continue
        if name == "introduced" and text == "0":
            ordered.append((0, None, name))
            continue
        key = version_key(scheme, text)
        if key is None:
            raise _Unknown
        ordered.append((1, key, name))
    # "0" first, then by version; events at the same version keep the record's order
    ordered.sort(key=_SortKey)
    vulnerable = False
    for rank, key, name in ordered:
        if name == "introduced":
            if rank == 0 or current >= key:
                vulnerable = True
        elif name == "fixed":
            if current >= key:
                vulnerable = False
        elif name == "last_affected" and current > key:
            vulnerable = False
    return vulnerable


class _SortKey:
    __slots__ = ("item",)

    def __init__(self, item: tuple[int, Any, str]) -> None:
        self.item = item

    def __lt__(self, other: _SortKey) -> bool:
        a, b = self.item, other.item
        if a[0] != b[0]:
            return a[0] < b[0]
        if a[0] == 0:
            return False
        return bool(a[1] < b[1])


def _id_rank(ident: str, own: tuple[str, ...], record_ids: set[str]) -> tuple[int, int, str]:
    upper = ident.upper()
    if own and upper.startswith(own):
        rank = 0
    elif upper.startswith("GHSA-"):
        rank = 2
    elif upper.startswith("CVE-"):
        rank = 3
    elif ident in record_ids:
        rank = 1  # another database's own record (PSF-..., OSV-...)
    else:
        rank = 4
    return rank, 0 if ident in record_ids else 1, ident


class OsvSource:
    """Advisories from folders and ``.zip`` archives of OSV records (see the module's
    documentation). Reads everything, or its cached index, when constructed."""

    def __init__(self, paths: Sequence[Path], cache_dir: Path | None = None) -> None:
        if not paths:
            raise SourceError("no advisory data given (a folder or a .zip of OSV records)")
        self.paths = [Path(p) for p in paths]
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.notes: list[str] = []
        """What a report should say about how advisories were matched (Debian
        components matched against every Debian release, versions only partly
        evaluable, an index cache that was rebuilt)."""
        self.cache_file: Path | None = None
        self.warm = False
        """Whether the index came from the cache."""
        self._listings = [_list(path) for path in self.paths]
        self._index = self._load()
        self._check_not_empty()
        self._entry_cache: dict[str, list[_Entry]] = {}
        self._record_cache: dict[int, _Record] = {}

    # -- loading

    def _load(self) -> _Index:
        if self.cache_dir is None:
            return _build(self._listings)
        key = _cache_key(self._listings)
        self.cache_file = self.cache_dir / f"{CACHE_PREFIX}{key}.json"
        if self.cache_file.exists():
            try:
                index = _read_cache(self.cache_file)
            except (DepchainError, ValueError, TypeError, OSError, RecursionError):
                self.notes.append(
                    f"the advisory index cache {_display(str(self.cache_file))} could not "
                    "be read and was rebuilt"
                )
            else:
                self.warm = True
                with suppress(OSError):
                    os.utime(self.cache_file)
                return index
        index = _build(self._listings)
        try:
            _write_cache(self.cache_file, index)
        except (DepchainError, OSError) as exc:
            self.notes.append(f"the advisory index could not be cached: {exc}")
        else:
            _prune(self.cache_dir, self.cache_file)
        return index

    def _rebuild(self) -> None:
        """A cached index whose contents do not decode: built again, cached again."""
        self.notes.append("the advisory index cache was damaged and was rebuilt")
        self._index = _build(self._listings)
        self.warm = False
        self._entry_cache.clear()
        self._record_cache.clear()
        if self.cache_file is not None:
            with suppress(DepchainError, OSError):
                _write_cache(self.cache_file, self._index)

    def _check_not_empty(self) -> None:
        for listing in self._listings:
            if not listing.files:
                raise SourceError(
                    f"{_display(str(listing.path))}: no OSV records (.json or .yaml files, "
                    "or a .zip of them) found"
                )
        if not self._index.records and not self._index.withdrawn:
            where = ", ".join(_display(str(p)) for p in self.paths)
            raise SourceError(f"{where}: no usable OSV records (see the problems listed)")

    # -- the interface

    @property
    def problems(self) -> list[str]:
        """Advisory files that are malformed, one line each (path and what is wrong);
        each was skipped, or used without the part named."""
        return list(self._index.problems)

    @property
    def records(self) -> int:
        return len(self._index.records)

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(
            name=SOURCE_NAME,
            location=", ".join(_display(str(p)) for p in self.paths),
            updated=self._index.updated,
            records=len(self._index.records),
            ecosystems=tuple(self._index.ecosystems),
        )

    def covers(self, query: Query) -> bool:
        base = query.ecosystem.split(":", 1)[0].strip().lower()
        return base in self._known() and scheme_for(base) is not None

    def _known(self) -> set[str]:
        return {e.lower() for e in self._index.ecosystems}

    def query_all(self, queries: Sequence[Query]) -> dict[Query, list[Advisory] | NotAudited]:
        try:
            return {query: self._query(query) for query in queries}
        except (ValueError, TypeError, RecursionError):
            self._rebuild()
            return {query: self._query(query) for query in queries}

    def query(self, query: Query) -> list[Advisory] | NotAudited:
        return self.query_all([query])[query]

    # -- matching

    def _entries(self, key: str) -> list[_Entry]:
        found = self._entry_cache.get(key)
        if found is None:
            text = self._index.entries.get(key)
            raw = json.loads(text) if text is not None else []
            if not isinstance(raw, list):
                raise ValueError("entries")
            found = [_Entry(item) for item in raw]
            if any(not 0 <= e.record < len(self._index.records) for e in found):
                raise ValueError("record number")
            self._entry_cache[key] = found
        return found

    def _record(self, number: int) -> _Record:
        found = self._record_cache.get(number)
        if found is None:
            found = _Record.decode(self._index.records[number])
            self._record_cache[number] = found
        return found

    def _query(self, query: Query) -> list[Advisory] | NotAudited:
        base, _, release = (part.strip() for part in query.ecosystem.partition(":"))
        lower = base.lower()
        if not query.version.strip():
            return NotAudited("no exact version")
        if not self.covers(query):
            if lower in self._known():
                return NotAudited(f"{SOURCE_NAME} cannot order {base} versions")
            return NotAudited(f"no {base} advisories in the offline advisory data")
        scheme = scheme_for(lower)
        version = query.version.strip()
        if lower == "go" and query.name in ("stdlib", "toolchain"):
            version = version.removeprefix("go")
        hits: dict[int, list[_Entry]] = {}
        package: dict[int, list[_Entry]] = {}  # every entry of each record for the package
        unknown = any_release = False
        for entry in self._entries(_key(lower, query.name)):
            entry_release = entry.ecosystem.partition(":")[2].strip()
            if release and entry_release and entry_release != release:
                continue
            if entry_release and not release:
                any_release = True
            package.setdefault(entry.record, []).append(entry)
            matched = entry.listed(version, scheme)
            undecided = False
            if not matched:
                for kind, events in entry.ranges:
                    if kind == "GIT":
                        continue
                    try:
                        if _in_range(
                            version, kind, events, "semver" if kind == "SEMVER" else scheme
                        ):
                            matched = True
                            break
                    except _Unknown:
                        undecided = True
            if matched:
                hits.setdefault(entry.record, []).append(entry)
            elif undecided and not entry.versions:
                unknown = True  # a versions list answers for its ranges; without one, unknown
        if any_release:
            self._note(
                f"{base} components were matched against the advisories of every {base} "
                "release: the release they come from is not known"
            )
        if unknown:
            if not hits:
                return NotAudited(
                    f"version {version!r} cannot be compared with the ranges of its "
                    f"{base} advisories"
                )
            self._note(
                f"some {base} advisories could not be evaluated for {query.name} "
                f"{version}; only those that could are listed"
            )
        return self._merge(hits, package, lower, scheme, version)

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _merge(
        self,
        hits: dict[int, list[_Entry]],
        package: dict[int, list[_Entry]],
        ecosystem: str,
        scheme: str | None,
        version: str,
    ) -> list[Advisory]:
        """One advisory per group of hit records that share an id or an alias."""
        numbers = sorted(hits)
        parent = {n: n for n in numbers}

        def root(n: int) -> int:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        owner: dict[str, int] = {}
        for number in numbers:
            record = self._record(number)
            for ident in (record.id, *record.aliases):
                other = owner.setdefault(ident, number)
                if other != number:
                    parent[root(number)] = root(other)
        groups: dict[int, list[int]] = {}
        for number in numbers:
            groups.setdefault(root(number), []).append(number)
        return [
            self._advisory(members, hits, package, ecosystem, scheme, version)
            for members in groups.values()
        ]

    def _advisory(
        self,
        members: list[int],
        hits: dict[int, list[_Entry]],
        package: dict[int, list[_Entry]],
        ecosystem: str,
        scheme: str | None,
        version: str,
    ) -> Advisory:
        records = [self._record(n) for n in members]
        entries = [entry for n in members for entry in hits[n]]
        own = _OWN_DATABASE.get(ecosystem, ())
        record_ids = {r.id for r in records}
        ids = list(dict.fromkeys(i for r in records for i in (r.id, *r.aliases)))
        ids.sort(key=lambda i: _id_rank(i, own, record_ids))
        main = records[[r.id for r in records].index(ids[0])] if ids[0] in record_ids else None
        lead = main or records[0]
        cvss: dict[str, float | None] = {}
        for vector, score in [*(c for r in records for c in r.cvss),
                              *(c for e in entries for c in e.cvss)]:  # fmt: skip
            if cvss.get(vector) is None:
                cvss[vector] = score
        severity = Severity.UNKNOWN
        scores = [score for score in cvss.values() if score is not None]
        if scores:
            severity = rating(max(scores))
        else:
            words = [severity_word(w) for w in (*(r.word for r in records),
                                                *(e.word for e in entries))]  # fmt: skip
            known = [w for w in words if w is not None]
            if known:
                severity = max(known, key=_SEVERITY_ORDER.__getitem__)
        ranked = sorted(
            (rank, position, url)
            for position, r in enumerate([lead, *records])
            for rank, url in r.references
        )
        references = list(dict.fromkeys(url for _, _, url in ranked))[:MAX_REFERENCES]
        published = [r.published for r in records if r.published]
        modified = [r.modified for r in records if r.modified]
        return Advisory(
            id=ids[0],
            aliases=tuple(ids[1:]),
            summary=lead.summary or next((r.summary for r in records if r.summary), ""),
            severity=severity,
            cvss=tuple(Cvss(vector, score) for vector, score in cvss.items()),
            fixed_in=_fixes([e for n in members for e in package[n]], scheme, version),
            published=min(published, key=lambda t: _iso(t) or t) if published else None,
            modified=max(modified, key=lambda t: _iso(t) or t) if modified else None,
            references=tuple(references),
            source=SOURCE_NAME,
        )


def _fixes(entries: list[_Entry], scheme: str | None, version: str) -> tuple[str, ...]:
    """The ``fixed`` versions above ``version`` of the ranges of the package's entries
    in the records that affect it, in the ecosystem's order (those that cannot be
    ordered after the rest, in the records' order)."""
    found: list[tuple[str, str]] = []  # (scheme of the range, version)
    for entry in entries:
        for kind, events in entry.ranges:
            if kind == "GIT":
                continue
            range_scheme = "semver" if kind == "SEMVER" else scheme
            found.extend((range_scheme or "", text) for name, text in events if name == "fixed")
    ordered: list[tuple[Any, str]] = []
    unordered: list[str] = []
    for range_scheme, text in dict.fromkeys(found):
        key = version_key(range_scheme, text) if range_scheme else None
        current = version_key(range_scheme, version) if range_scheme else None
        if key is None:
            unordered.append(text)
        elif current is None or key > current:
            ordered.append((key, text))
    ordered.sort(key=lambda pair: _SortKey((1, pair[0], "")))
    result: list[str] = []
    for _, text in ordered:
        if not any(equal_versions(scheme, text, seen) for seen in result):
            result.append(text)
    return tuple(result + [t for t in unordered if t not in result])
