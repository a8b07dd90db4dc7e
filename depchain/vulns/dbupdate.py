"""``depchain db update``: OSV's per-ecosystem archives, downloaded into the cache.

OSV publishes every advisory of an ecosystem as one zip of JSON records,
``<base>/<Ecosystem>/all.zip`` (:data:`DEFAULT_BASE_URL`). :func:`update` downloads
each ecosystem asked for (:data:`DEFAULT_ECOSYSTEMS` by default) into
``<cache>/osv/<Ecosystem>/all.zip``, where ``<cache>`` is depchain's cache folder
(:func:`depchain.enrich.cache.cache_dir`: ``--cache-dir``, else
``$DEPCHAIN_CACHE_DIR``, else the user cache folder + ``depchain``). The offline source
reads what :func:`cached_archives` lists.

A download is bounded (:data:`MAX_ARCHIVE` bytes, a socket ``timeout``, a ``deadline``
for each archive that also cuts a read in progress), streamed into a temporary file in
the archive's own folder, checked (a zip that opens and holds ``.json`` records, the
first of them an OSV record), and only then renamed over the previous archive: a
download that fails in any way leaves the previous archive as it was and no temporary
file. Beside each archive, ``all.zip.json`` records where it came from (credentials
redacted), when, the archive's date (its ``Last-Modified``, else the download's time),
size, SHA-256 and number of records. An archive whose ``Last-Modified`` is known is
asked for again with ``If-Modified-Since``; a ``304`` keeps it.

Redirects are followed by hand, at most :data:`MAX_REDIRECTS`, to https only (http is
allowed to a loopback address, for tests and local mirrors), and never from a public
server to a loopback, private or link-local address. One ecosystem's failure (a 404,
a cut download) is that ecosystem's error in the result; the others go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import secrets
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from depchain.errors import UsageError
from depchain.redaction import redact_url
from depchain.vulns.interface import ECOSYSTEMS

if TYPE_CHECKING:
    import requests

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("PyPI", "crates.io", "Go")
MAX_ARCHIVE = 512 * 2**20
"""The largest archive downloaded, in bytes (PyPI's is tens of MiB)."""
DEFAULT_TIMEOUT = 30.0
"""Seconds for each socket operation (connecting, each read)."""
DEFAULT_DEADLINE = 600.0
"""Seconds for one archive's whole download, redirects included."""
MAX_REDIRECTS = 5
ARCHIVE = "all.zip"
SIDECAR = "all.zip.json"
SIDECAR_VERSION = 1
_MAX_SIDECAR = 64 * 1024
_MAX_FIRST_RECORD = 16 * 2**20
_CHUNK = 256 * 1024
_TEMP_PREFIX = ".depchain-tmp-"  # as depchain.fileio names its temporary files
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:+-]{0,63}")

Progress = Callable[[str, int, "int | None"], None]
"""``progress(ecosystem, bytes_done, bytes_total_or_None)``, called as a download goes."""


@dataclass(frozen=True)
class ArchiveInfo:
    """What ``all.zip.json`` says of an archive."""

    ecosystem: str
    url: str
    """Where it was downloaded from (credentials redacted)."""
    downloaded: str
    """ISO 8601 UTC time of the download."""
    last_modified: str
    """ISO 8601 UTC date of the archive: the server's ``Last-Modified``, else the
    download's time."""
    size: int
    sha256: str
    records: int
    http_last_modified: str | None = None
    """The ``Last-Modified`` header as sent (for ``If-Modified-Since``)."""


@dataclass(frozen=True)
class UpdatedArchive:
    """One ecosystem's outcome: an archive downloaded (or unchanged), or an error."""

    ecosystem: str
    path: Path
    url: str
    """Redacted."""
    error: str | None = None
    """One line: why this ecosystem's archive was not updated (the previous one, if
    any, is kept)."""
    unchanged: bool = False
    """The server said the archive had not changed since the one kept (304)."""
    info: ArchiveInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# -- where archives live --------------------------------------------------------------------


def osv_cache(cache_dir: str | Path | None = None) -> Path:
    """``<cache>/osv``: depchain's cache folder (the enrichment cache's) + ``osv``."""
    from depchain.enrich.cache import cache_dir as default_cache_dir

    return default_cache_dir(cache_dir) / "osv"


def folder_name(ecosystem: str) -> str:
    """The folder of an ecosystem's archive: its name, with characters no file system
    takes everywhere (``:`` of ``Debian:12``, spaces) as ``_``."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", ecosystem)


def archive_path(ecosystem: str, cache_dir: str | Path | None = None) -> Path:
    return osv_cache(cache_dir) / folder_name(ecosystem) / ARCHIVE


def cached_archives(cache_dir: str | Path | None = None) -> list[Path]:
    """The archives ``db update`` left in the cache, sorted; none when there is no
    cache (never raises)."""
    root = osv_cache(cache_dir)
    try:
        folders = sorted(root.iterdir())
    except OSError:
        return []
    found: list[Path] = []
    for folder in folders:
        candidate = folder / ARCHIVE
        with contextlib.suppress(OSError):
            if folder.is_dir() and candidate.is_file():
                found.append(candidate)
    return found


def archive_info(archive: Path) -> ArchiveInfo | None:
    """What the sidecar beside ``archive`` says, or None when there is none or it
    cannot be read (it is the cache's, so it is checked like any input)."""
    sidecar = archive.with_name(archive.name + ".json")
    try:
        with open(sidecar, "rb") as handle:
            raw = handle.read(_MAX_SIDECAR + 1)
        if len(raw) > _MAX_SIDECAR:
            return None
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    text = ("ecosystem", "url", "downloaded", "last_modified", "sha256")
    if not all(isinstance(data.get(k), str) for k in text):
        return None
    numbers = ("size", "records")
    if not all(type(data.get(k)) is int and data[k] >= 0 for k in numbers):
        return None
    header = data.get("http_last_modified")
    return ArchiveInfo(
        ecosystem=data["ecosystem"],
        url=data["url"],
        downloaded=data["downloaded"],
        last_modified=data["last_modified"],
        size=data["size"],
        sha256=data["sha256"],
        records=data["records"],
        http_last_modified=header if isinstance(header, str) else None,
    )


def ecosystem_name(text: str) -> str:
    """OSV's name for an ecosystem as a user may write it: ``pypi`` → ``PyPI``,
    ``cargo`` → ``crates.io``, ``golang`` → ``Go``; any other well-formed name as
    written (OSV's list grows: ``Debian:12``, ``Maven``...)."""
    name = text.strip()
    known = {v.lower(): v for v in ECOSYSTEMS.values()}
    known.update({k: v for k, v in ECOSYSTEMS.items()})
    if name.lower() in known:
        return known[name.lower()]
    if not _NAME.fullmatch(name) or ".." in name:
        raise UsageError(f"{name[:60]!r} is not an OSV ecosystem name (PyPI, crates.io, Go...)")
    return name


# -- the update -----------------------------------------------------------------------------


def update(
    ecosystems: Iterable[str] = DEFAULT_ECOSYSTEMS,
    base_url: str = DEFAULT_BASE_URL,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    deadline: float = DEFAULT_DEADLINE,
    max_size: int = MAX_ARCHIVE,
    session: requests.Session | None = None,
    force: bool = False,
) -> list[UpdatedArchive]:
    """Download each ecosystem's ``all.zip`` into the cache (see the module's
    docstring); one :class:`UpdatedArchive` per ecosystem, in the order asked.

    ``timeout``: seconds per socket operation; ``deadline``: seconds per archive;
    ``max_size``: bytes per archive; ``session``: a ``requests.Session`` to use (not
    closed here; default: depchain's own); ``force``: download even when the server
    says the kept archive is current. Raises :class:`UsageError` for an ecosystem name
    or a base URL that cannot be used; everything the network or the disk does is an
    ecosystem's ``error``."""
    names = list(dict.fromkeys(ecosystem_name(e) for e in ecosystems))
    if not names:
        raise UsageError("no ecosystem to update")
    base = base_url.strip().rstrip("/")
    why = _refusal(base, origin_public=False)
    if why is not None:
        raise UsageError(f"cannot download from {redact_url(base)}: {why}")
    from depchain.enrich.fetch import new_session

    own = session is None
    http = new_session(1) if session is None else session
    try:
        return [
            _update_one(
                http,
                name,
                f"{base}/{quote(name, safe=':+')}/{ARCHIVE}",
                archive_path(name, cache_dir),
                timeout=timeout,
                deadline=deadline,
                max_size=max_size,
                progress=progress,
                force=force,
            )
            for name in names
        ]
    finally:
        if own:
            http.close()


def _update_one(
    session: Any,
    ecosystem: str,
    url: str,
    target: Path,
    *,
    timeout: float,
    deadline: float,
    max_size: int,
    progress: Progress | None,
    force: bool,
) -> UpdatedArchive:
    shown_url = redact_url(url)

    def failed(why: str) -> UpdatedArchive:
        return UpdatedArchive(ecosystem, target, shown_url, error=why)

    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return failed(f"cannot create {folder}: {exc.strerror or exc}")
    from depchain.fileio import remove_stale_temps

    remove_stale_temps(folder)
    previous = archive_info(target) if target.is_file() else None
    # identity: Content-Length is then the archive's own size, checked against what came
    headers = {"Accept": "application/zip, */*", "Accept-Encoding": "identity"}
    if previous is not None and previous.http_last_modified and not force:
        headers["If-Modified-Since"] = previous.http_last_modified
    download = _Download(session, url, timeout, deadline, max_size)
    tmp: str | None = None
    try:
        outcome = download.open(headers)
        if isinstance(outcome, str):
            return failed(outcome)
        response = outcome
        with response:
            if response.status_code == 304 and previous is not None:
                return UpdatedArchive(ecosystem, target, shown_url, unchanged=True, info=previous)
            if response.status_code == 404:
                return failed(
                    f"no archive at {_shown(download.url)} (HTTP 404): is {ecosystem!r} "
                    "an ecosystem OSV publishes?"
                )
            if response.status_code != 200:
                return failed(f"HTTP {response.status_code} from {_shown(download.url)}")
            declared = _length(response.headers.get("Content-Length"))
            if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                declared = None  # the encoded size: the bound is kept on what is decoded
            if declared is not None and declared > max_size:
                return failed(f"the archive is larger than {_mib(max_size)} ({_mib(declared)})")
            fd, tmp = _create_temp(folder)
            with os.fdopen(fd, "wb") as handle:
                got = download.stream(response, handle, declared, ecosystem, progress)
                if isinstance(got, str):
                    return failed(got)
                size, digest = got
                handle.flush()
                os.fsync(handle.fileno())
            header_date = response.headers.get("Last-Modified")
        records = _check_archive(Path(tmp))
        if isinstance(records, str):
            return failed(f"{_shown(download.url)}: {records}")
        now = _now()
        info = ArchiveInfo(
            ecosystem=ecosystem,
            url=shown_url,
            downloaded=now,
            last_modified=_http_date(header_date) or now,
            size=size,
            sha256=digest,
            records=records,
            http_last_modified=header_date if _http_date(header_date) else None,
        )
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        return failed(f"cannot write {target}: {exc.strerror or exc}")
    finally:
        download.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    try:
        from depchain.fileio import write_text_atomic

        write_text_atomic(target.with_name(SIDECAR), _sidecar_text(info))
    except Exception as exc:  # OutputError: the archive is in place, its record is not
        return UpdatedArchive(
            ecosystem,
            target,
            shown_url,
            error=f"the archive was updated but its record cannot be written: {exc}",
            info=info,
        )
    return UpdatedArchive(ecosystem, target, shown_url, info=info)


def _sidecar_text(info: ArchiveInfo) -> str:
    data = {
        "version": SIDECAR_VERSION,
        "ecosystem": info.ecosystem,
        "url": info.url,
        "downloaded": info.downloaded,
        "last_modified": info.last_modified,
        "http_last_modified": info.http_last_modified,
        "size": info.size,
        "sha256": info.sha256,
        "records": info.records,
    }
    return json.dumps(data, indent=2) + "\n"


class _Download:
    """One archive's requests: redirects followed by hand, the deadline enforced by
    depchain's network watchdog (it shuts the socket of a read that passes it)."""

    def __init__(
        self, session: Any, url: str, timeout: float, deadline: float, max_size: int
    ) -> None:
        from depchain.enrich import fetch

        self.fetch = fetch
        self.session = session
        self.url = url
        self.timeout = timeout
        self.deadline_seconds = deadline
        self.deadline = time.monotonic() + deadline
        self.max_size = max_size
        self.exchange = fetch._Exchange(self.deadline)
        self.watchdog = fetch._Watchdog()
        self.watchdog.watch(self.exchange)
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        self.origin_public = fetch._address_class(host) is None

    def close(self) -> None:
        self.watchdog.forget(self.exchange)
        self.watchdog.stop()

    def _late(self) -> str:
        return f"not downloaded within {self.deadline_seconds:g} s"

    def open(self, headers: dict[str, str]) -> requests.Response | str:
        """The final answer's response (its body not read yet), or why there is none."""
        import requests

        current = self.url
        for _hop in range(MAX_REDIRECTS + 1):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return self._late()
            self.fetch._current.exchange = self.exchange
            try:
                response = self.session.get(
                    current,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(min(self.timeout, remaining), min(self.timeout, remaining)),
                )
            except requests.RequestException as exc:
                if self.exchange.expired:
                    return self._late()
                return f"cannot download {_shown(current)}: {_network_why(exc, self.timeout)}"
            except (ValueError, OSError) as exc:
                return f"cannot download {_shown(current)}: {type(exc).__name__}"
            finally:
                self.fetch._current.exchange = None
            self.exchange.attach(self.fetch._socket_of(response))
            if response.status_code not in {301, 302, 303, 307, 308}:
                self.url = current
                return response  # type: ignore[no-any-return]
            location = response.headers.get("Location", "").strip()
            response.close()
            if not location:
                return f"a redirect without a Location from {_shown(current)}"
            try:
                target = urljoin(current, location)
            except ValueError:
                return f"a redirect to a URL that cannot be parsed from {_shown(current)}"
            why = _refusal(target, origin_public=self.origin_public)
            if why is not None:
                return f"redirect from {_shown(current)} to {_shown(target)} refused: {why}"
            current = target
        return f"more than {MAX_REDIRECTS} redirects from {_shown(self.url)}"

    def stream(
        self,
        response: requests.Response,
        handle: Any,
        declared: int | None,
        ecosystem: str,
        progress: Progress | None,
    ) -> tuple[int, str] | str:
        """The body written to ``handle``: its size and SHA-256, or why it failed."""
        import requests

        digest = hashlib.sha256()
        size = 0
        if progress is not None:
            progress(ecosystem, 0, declared)
        try:
            for chunk in response.iter_content(chunk_size=_CHUNK):
                if self.exchange.expired or time.monotonic() >= self.deadline:
                    return self._late()
                size += len(chunk)
                if size > self.max_size:
                    return f"the archive is larger than {_mib(self.max_size)}: not kept"
                handle.write(chunk)
                digest.update(chunk)
                if progress is not None:
                    progress(ecosystem, size, declared)
        except (requests.RequestException, OSError) as exc:
            if self.exchange.expired:
                return self._late()
            if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException):
                raise  # a disk that cannot be written: the caller says so
            return f"the download from {_shown(self.url)} was cut short ({_network_why(exc, 0)})"
        if self.exchange.expired:
            return self._late()
        if declared is not None and size != declared:
            return (
                f"the download from {_shown(self.url)} was cut short ({size} of {declared} bytes)"
            )
        return size, digest.hexdigest()


def _check_archive(path: Path) -> int | str:
    """The number of ``.json`` records in the zip at ``path``, or what is wrong with it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m for m in archive.infolist() if m.filename.endswith(".json") and not m.is_dir()
            ]
            if not members:
                return "not an OSV archive (no .json records in it)"
            first = members[0]
            if first.file_size > _MAX_FIRST_RECORD:
                return f"not an OSV archive ({first.filename[:60]!r} is too large for a record)"
            record = json.loads(archive.read(first))
    except zipfile.BadZipFile as exc:
        return f"not a zip archive ({exc})"
    except (ValueError, RecursionError, OSError, RuntimeError, NotImplementedError) as exc:
        return f"not an OSV archive ({type(exc).__name__} reading its first record)"
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return f"not an OSV archive ({first.filename[:60]!r} is not an OSV record)"
    return len(members)


def _create_temp(folder: Path) -> tuple[int, str]:
    """A new private file in ``folder`` named as depchain names its temporary files
    (so that one left by a killed run is removed by the next)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(folder, f"{_TEMP_PREFIX}{ARCHIVE}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(path, flags, 0o644), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder}")


# -- small helpers --------------------------------------------------------------------------


def _refusal(url: str, *, origin_public: bool) -> str | None:
    """Why ``url`` may not be downloaded from, or None: https, or http to a loopback
    address; and when the download started on a public host (``origin_public``: a
    redirect's target), no loopback, private or link-local address."""
    from depchain.enrich.fetch import _address_class

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        _ = parts.port
    except ValueError:
        return "not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"} or not host:
        return "not an http(s) URL"
    kind = _address_class(host)
    if scheme == "http" and kind != "a loopback address":
        return "not https (http only to a loopback address)"
    if origin_public and kind is not None:
        return kind
    return None


def _shown(url: str) -> str:
    from depchain.enrich.fetch import shown

    return shown(url)


def _network_why(exc: BaseException, timeout: float) -> str:
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return f"connecting timed out ({timeout:g} s)"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s" if timeout else "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke"
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if any(w in text for w in ("name or service", "nodename", "getaddrinfo", "resolution")):
        return "the host name cannot be resolved"
    if "timed out" in text:
        return "timed out"
    if "reset" in text or "broken" in text or "incomplete" in text:
        return "the connection broke"
    return type(exc).__name__


def _length(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 20 else None


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB" if size >= 2**20 else f"{size} bytes"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
