"""The Simple Repository API of a package index, read as data: PEP 691 JSON, or the
PEP 503 HTML page when that is all the index serves.

What is kept of each file: its name, kind (wheel, sdist, ...), the version its name
carries, sha256 (PEP 691 ``hashes``; the URL's ``#sha256=`` fragment in HTML), upload
time (PEP 700), yanked flag and reason (PEP 592), and the PEP 740 ``provenance`` link
(JSON ``provenance``, HTML ``data-provenance``). Of the project: its name, the API
version, and its PEP 792 status (``active``, ``archived``, ``quarantined``,
``deprecated``) with the reason.

A file's provenance is *known* only where the index implements PEP 740 (API version
1.3 or later): there a file without a link has no attestation. On an older index the
link is simply not there, which says nothing (:attr:`Listing.serves_provenance`).

Nothing here touches the network; :func:`parse` takes what the index answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
"""The content negotiation of PEP 691: JSON preferred, HTML accepted."""

PROVENANCE_SINCE = (1, 3)
"""The Simple API version that added the ``provenance`` key (PEP 740)."""

_KINDS = (
    (".whl", "wheel"),
    (".tar.gz", "sdist"),
    (".zip", "sdist"),
    (".tar.bz2", "sdist"),
    (".tar.xz", "sdist"),
    (".tgz", "sdist"),
    (".tar", "sdist"),
    (".egg", "bdist_egg"),
    (".exe", "bdist_wininst"),
    (".msi", "bdist_msi"),
    (".dmg", "bdist_dmg"),
    (".rpm", "bdist_rpm"),
)


class SimpleError(ValueError):
    """The answer is not a Simple API project page (one line: what is wrong)."""


@dataclass(frozen=True)
class Listing:
    """One project page of the Simple API."""

    name: str | None
    api_version: str | None
    status: str | None = None
    """PEP 792: ``active``, ``archived``, ``quarantined``, ``deprecated``, or None when
    the index does not say."""
    status_reason: str | None = None
    versions: tuple[str, ...] = ()
    """The project's versions as the index spells them (PEP 700; JSON only)."""
    files: tuple[dict[str, Any], ...] = ()
    """Each: filename, kind, version (as the file name has it, or None), sha256,
    upload_time, yanked, yanked_reason, and ``provenance`` (a URL or None) where the
    index serves provenance."""

    @property
    def serves_provenance(self) -> bool:
        """The index implements PEP 740: a file without a link has no attestation."""
        return _version_tuple(self.api_version) >= PROVENANCE_SINCE

    def facts(self) -> dict[str, Any]:
        """What is kept of the project itself (cached as JSON)."""
        return {
            "name": self.name,
            "api_version": self.api_version,
            "status": self.status,
            "status_reason": self.status_reason,
        }


def parse(body: bytes, content_type: str, page_url: str) -> Listing:
    """A project page, JSON or HTML by its content type; links are made absolute against
    ``page_url``. Raises :class:`SimpleError` for anything else."""
    media = content_type.split(";")[0].strip().lower()
    if media.endswith("json"):
        import json

        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SimpleError(f"malformed JSON ({exc.__class__.__name__})") from None
        return parse_json(data, page_url)
    if media.endswith("html") or media == "":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise SimpleError("an HTML page that is not UTF-8") from None
        return parse_html(text, page_url)
    raise SimpleError(f"unexpected content type {media!r}")


def parse_json(data: object, page_url: str) -> Listing:
    """A PEP 691 JSON project page."""
    if not isinstance(data, dict):
        raise SimpleError("malformed JSON (not an object)")
    files = data.get("files")
    meta = data.get("meta")
    if not isinstance(files, list) or not isinstance(meta, dict):
        raise SimpleError("not a PEP 691 project page (no meta or files)")
    api_version = _text(meta.get("api-version"))
    serves = _version_tuple(api_version) >= PROVENANCE_SINCE
    kept = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        hashes = item.get("hashes")
        yanked = item.get("yanked")
        entry = _file(
            item["filename"],
            sha256=_text(hashes.get("sha256")) if isinstance(hashes, dict) else None,
            upload_time=_text(item.get("upload-time")),
            yanked=yanked is True or isinstance(yanked, str),
            yanked_reason=_text(yanked) if isinstance(yanked, str) else None,
        )
        link = item.get("provenance")
        if isinstance(link, str) and link:
            entry["provenance"] = _absolute(link, page_url)
        elif serves or "provenance" in item:
            entry["provenance"] = None
        kept.append(entry)
    status = data.get("project-status")
    versions = data.get("versions")
    return Listing(
        name=_text(data.get("name")),
        api_version=api_version,
        status=_text(status.get("status")) if isinstance(status, dict) else None,
        status_reason=_text(status.get("reason")) if isinstance(status, dict) else None,
        versions=tuple(v for v in versions if isinstance(v, str))
        if isinstance(versions, list)
        else (),
        files=tuple(sorted(kept, key=lambda f: f["filename"])),
    )


def parse_html(text: str, page_url: str) -> Listing:
    """A PEP 503 HTML project page (with PEP 592 yanking, PEP 629 version, PEP 740
    provenance and PEP 792 status where the page has them)."""
    page = _Page()
    try:
        page.feed(text)
        page.close()
    except (AssertionError, ValueError) as exc:  # HTMLParser's own failures
        raise SimpleError(f"malformed HTML ({exc})") from None
    if not page.seen_html:
        raise SimpleError("not an HTML page")
    serves = _version_tuple(page.meta.get("pypi:repository-version")) >= PROVENANCE_SINCE
    kept = []
    for attrs, anchor_text in page.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url = _absolute(href, page_url)
        parts = urlsplit(url)
        filename = anchor_text.strip() or parts.path.rsplit("/", 1)[-1]
        fragment = dict(pair.split("=", 1) for pair in parts.fragment.split("&") if "=" in pair)
        yanked = attrs.get("data-yanked")
        entry = _file(
            filename,
            sha256=fragment.get("sha256") or None,
            upload_time=None,
            yanked=yanked is not None,
            yanked_reason=yanked or None,
        )
        link = attrs.get("data-provenance")
        if link:
            entry["provenance"] = _absolute(link, page_url)
        elif serves:
            entry["provenance"] = None
        kept.append(entry)
    return Listing(
        name=None,
        api_version=page.meta.get("pypi:repository-version"),
        status=page.meta.get("pypi:project-status"),
        status_reason=page.meta.get("pypi:project-status-reason"),
        files=tuple(sorted(kept, key=lambda f: f["filename"])),
    )


def release_files(listing_files: tuple[dict[str, Any], ...], version: str) -> list[dict[str, Any]]:
    """The files of one release (``version`` normalised, as :func:`normalize_version`
    gives it)."""
    return [f for f in listing_files if f.get("version") == version]


def file_kind(filename: str) -> str:
    lower = filename.lower()
    return next((kind for suffix, kind in _KINDS if lower.endswith(suffix)), "unknown")


def file_version(filename: str) -> str | None:
    """The normalised version a distribution file's name carries, or None."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    kind = file_kind(filename)
    try:
        if kind == "wheel":
            return str(parse_wheel_filename(filename)[1])
        if kind == "sdist" and filename.lower().endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        pass
    # eggs, installers and older archives: name-version[-pyX.Y][-platform].ext
    stem = filename
    for suffix, _ in _KINDS:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for candidate in _version_candidates(stem):
        normalized = normalize_version(candidate, strict=True)
        if normalized is not None:
            return normalized
    return None


def normalize_version(version: str, *, strict: bool = False) -> str | None:
    """PEP 440 normal form; the text itself (stripped) when it is not a valid version,
    or None with ``strict``."""
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return None if strict else version.strip()


def _version_candidates(stem: str) -> list[str]:
    """``foo_bar-1.0-py2.7-linux`` → ``1.0``, then the rest, in order."""
    parts = stem.split("-")
    out = []
    for i in range(1, len(parts)):
        out.append(parts[i])
        if "." in parts[i]:  # ``foo-1.0.win32`` (bdist_wininst) → 1.0
            out.append(parts[i].rsplit(".", 1)[0])
    return out


def _file(
    filename: str,
    *,
    sha256: str | None,
    upload_time: str | None,
    yanked: bool,
    yanked_reason: str | None,
) -> dict[str, Any]:
    return {
        "filename": filename,
        "kind": file_kind(filename),
        "version": file_version(filename),
        "sha256": sha256.lower() if sha256 else None,
        "upload_time": upload_time,
        "yanked": yanked,
        "yanked_reason": yanked_reason.strip() or None if yanked_reason else None,
    }


def _absolute(link: str, page_url: str) -> str:
    return urljoin(page_url, link)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _version_tuple(value: str | None) -> tuple[int, ...]:
    if not value:
        return ()
    try:
        return tuple(int(part) for part in value.split("."))
    except ValueError:
        return ()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str] = {}
        self.seen_html = False
        self._anchor: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen_html = True
        if tag == "a":
            self._finish()
            self._anchor, self._text = dict(attrs), []
        elif tag == "meta":
            named = dict(attrs)
            name, content = named.get("name"), named.get("content")
            if name and content is not None:
                self.meta[name.lower()] = content

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def handle_data(self, data: str) -> None:
        if self._anchor is not None:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        if self._anchor is not None:
            self.anchors.append((self._anchor, "".join(self._text)))
        self._anchor, self._text = None, []
