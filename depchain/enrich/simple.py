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

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
"""The content negotiation of PEP 691: JSON preferred, HTML accepted."""

MAX_FILES = 20_000
"""The most files (links) a project page may list; a page with more is not read (the
largest projects on PyPI list a few thousand). Versions are bounded alike."""

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


def parse(body: bytes, content_type: str, page_url: str, project: str | None = None) -> Listing:
    """A project page, JSON or HTML by its content type; links are made absolute against
    ``page_url`` (the URL that answered, after redirects) and lose any credentials.
    ``project``: the canonical name, which reads versions from file names more surely.
    Raises :class:`SimpleError` for anything else."""
    media = content_type.split(";")[0].strip().lower()
    if media.endswith("json"):
        import json

        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise SimpleError(f"malformed JSON ({exc.__class__.__name__})") from None
        return parse_json(data, page_url, project)
    if media.endswith("html") or media == "":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise SimpleError("an HTML page that is not UTF-8") from None
        return parse_html(text, page_url, project)
    raise SimpleError(f"unexpected content type {media!r}")


def parse_json(data: object, page_url: str, project: str | None = None) -> Listing:
    """A PEP 691 JSON project page."""
    if not isinstance(data, dict):
        raise SimpleError("malformed JSON (not an object)")
    files = data.get("files")
    meta = data.get("meta")
    if not isinstance(files, list) or not isinstance(meta, dict):
        raise SimpleError("not a PEP 691 project page (no meta or files)")
    versions = data.get("versions")
    if len(files) > MAX_FILES or (isinstance(versions, list) and len(versions) > MAX_FILES):
        raise SimpleError(_too_many())
    api_version = _api_version(_text(meta.get("api-version")))
    serves = _version_tuple(api_version) >= PROVENANCE_SINCE
    kept = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        hashes = item.get("hashes")
        yanked = item.get("yanked")
        entry = _file(
            item["filename"],
            project,
            sha256=_text(hashes.get("sha256")) if isinstance(hashes, dict) else None,
            upload_time=_text(item.get("upload-time")),
            yanked=yanked is True or isinstance(yanked, str),
            yanked_reason=_text(yanked) if isinstance(yanked, str) else None,
        )
        link = item.get("provenance")
        if isinstance(link, str) and link:
            absolute = _absolute(link, page_url)
            if absolute is not None:
                entry["provenance"] = absolute
        elif link is None and (serves or "provenance" in item):
            entry["provenance"] = None  # PEP 740: null, or absent on a 1.3+ page
        kept.append(entry)
    status = data.get("project-status")
    return Listing(
        name=_text(data.get("name")),
        api_version=api_version,
        status=_text(status.get("status")) if isinstance(status, dict) else None,
        status_reason=_text(status.get("reason")) if isinstance(status, dict) else None,
        versions=tuple(v for v in versions if isinstance(v, str))
        if isinstance(versions, list)
        else (),
        files=_unique(kept),
    )


def parse_html(text: str, page_url: str, project: str | None = None) -> Listing:
    """A PEP 503 HTML project page (with PEP 592 yanking, PEP 629 version, PEP 740
    provenance and PEP 792 status where the page has them). Read by a linear scan of
    its ``<a>`` and ``<meta>`` tags, not by an HTML parser: a hostile page cannot make
    it slow."""
    meta: dict[str, str] = {}
    for match in _META.finditer(text):
        attrs = _attributes(match.group(1))
        name, content = attrs.get("name"), attrs.get("content")
        if name and content is not None:
            meta[name.lower()] = content
    anchors: list[dict[str, str | None]] = []
    for match in _ANCHOR.finditer(text):
        if len(anchors) == MAX_FILES:
            raise SimpleError(_too_many())
        anchors.append(_attributes(match.group(1)))
    if not anchors and "pypi:repository-version" not in meta:
        raise SimpleError("not a Simple API project page (no links, no pypi:repository-version)")
    api_version = _api_version(meta.get("pypi:repository-version"))
    serves = _version_tuple(api_version) >= PROVENANCE_SINCE
    kept = []
    for attrs in anchors:
        href = attrs.get("href")
        url = _absolute(href, page_url) if href else None
        if url is None:
            continue
        parts = urlsplit(url)
        filename = unquote(parts.path.rsplit("/", 1)[-1])  # the URL, as pip reads it
        if not filename:
            continue
        fragment = dict(pair.split("=", 1) for pair in parts.fragment.split("&") if "=" in pair)
        yanked = attrs.get("data-yanked")
        entry = _file(
            filename,
            project,
            sha256=fragment.get("sha256") or None,
            upload_time=None,
            yanked=yanked is not None,
            yanked_reason=yanked or None,
        )
        link = attrs.get("data-provenance")
        if link:
            absolute = _absolute(link, page_url)
            if absolute is not None:
                entry["provenance"] = absolute
        elif serves:
            entry["provenance"] = None
        kept.append(entry)
    return Listing(
        name=None,
        api_version=api_version,
        status=meta.get("pypi:project-status"),
        status_reason=meta.get("pypi:project-status-reason"),
        files=_unique(kept),
    )


def release_files(listing_files: tuple[dict[str, Any], ...], version: str) -> list[dict[str, Any]]:
    """The files of one release (``version`` normalised, as :func:`normalize_version`
    gives it)."""
    return [f for f in listing_files if f.get("version") == version]


def file_kind(filename: str) -> str:
    lower = filename.lower()
    return next((kind for suffix, kind in _KINDS if lower.endswith(suffix)), "unknown")


def file_version(filename: str, project: str | None = None) -> str | None:
    """The version a distribution file's name carries, normalised (PEP 440), or as
    written when it is a legacy version (``2005k``); None when the name says none.

    With ``project`` (the canonical name), the name is taken off the front first, so that
    ``foo-1.0-1.tar.gz`` is 1.0.post1 and ``web-v2-tools-1.4.tar.bz2`` is 1.4."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    kind = file_kind(filename)
    if kind == "wheel":
        try:
            return str(parse_wheel_filename(filename)[1])
        except (InvalidWheelFilename, ValueError):
            pass
    stem = filename
    for suffix, _ in _KINDS:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    parts = stem.split("-")
    if project is not None:
        for cut in range(1, len(parts)):
            if canonicalize_name("-".join(parts[:cut])) == project:
                rest = parts[cut:]
                whole = "-".join(rest) if kind == "sdist" else None
                for candidate in ([whole] if whole else []) + _version_candidates(rest):
                    found = normalize_version(candidate, strict=True)
                    if found is not None:
                        return found
                return rest[0].strip().lower() or None  # a legacy version, as written
    # no project name to go by: the last hyphen for archives, else the first version-like
    if kind == "sdist" and len(parts) > 1:
        found = normalize_version(parts[-1], strict=True)
        if found is not None:
            return found
    for candidate in _version_candidates(parts[1:]):
        found = normalize_version(candidate, strict=True)
        if found is not None:
            return found
    return None


def normalize_version(version: str, *, strict: bool = False) -> str | None:
    """PEP 440 normal form; the text itself (stripped, lower case) when it is not a valid
    version, or None with ``strict``."""
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return None if strict else version.strip().lower()


def _version_candidates(parts: list[str]) -> list[str]:
    """``["1.0", "py2.7", "linux"]`` → ``1.0``, then the rest, in order; ``1.0.win32``
    (bdist_wininst) → ``1.0.win32``, ``1.0``."""
    out = []
    for part in parts:
        out.append(part)
        if "." in part:
            out.append(part.rsplit(".", 1)[0])
    return out


def _file(
    filename: str,
    project: str | None,
    *,
    sha256: str | None,
    upload_time: str | None,
    yanked: bool,
    yanked_reason: str | None,
) -> dict[str, Any]:
    return {
        "filename": filename,
        "kind": file_kind(filename),
        "version": file_version(filename, project),
        "sha256": sha256.lower() if sha256 else None,
        "upload_time": upload_time,
        "yanked": yanked,
        "yanked_reason": yanked_reason.strip() or None if yanked_reason else None,
    }


def _unique(files: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """One entry per file name, in name order. A name listed twice with different
    sha256 keeps no sha256 (nothing can be verified against it) and says why."""
    by_name: dict[str, dict[str, Any]] = {}
    digests: dict[str, set[str | None]] = {}
    for entry in files:
        by_name.setdefault(entry["filename"], entry)
        digests.setdefault(entry["filename"], set()).add(entry["sha256"])
    for name, seen in digests.items():
        if len(seen) > 1:
            by_name[name] = {
                **by_name[name],
                "sha256": None,
                "conflict": f"the index lists this file {len(seen)} times with different sha256",
            }
    return tuple(by_name[name] for name in sorted(by_name))


def _absolute(link: str, page_url: str) -> str | None:
    """``link`` made absolute against the page, without credentials; None when it is
    not a URL (a malformed host, say)."""
    try:
        parts = urlsplit(urljoin(page_url, html.unescape(link).strip()))
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in {"https", "http"} or not host:
        return None
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _too_many() -> str:
    return f"the page lists more than {MAX_FILES} files: not read"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _api_version(value: str | None) -> str | None:
    """The API version, refused when its major version is not 1 (PEP 629: a client
    must not guess at a major version it does not know)."""
    if value is not None and _version_tuple(value)[:1] not in {(), (1,)}:
        raise SimpleError(f"unsupported Simple API version {value} (reads 1.x)")
    return value


def _version_tuple(value: str | None) -> tuple[int, ...]:
    if not value:
        return ()
    try:
        return tuple(int(part) for part in value.split("."))
    except ValueError:
        return ()


# Linear scans: attribute text stops at the next "<" or ">", so no match can run over
# the rest of the page, and a page of a million "<a" costs one pass.
_ANCHOR = re.compile(r"<a\b([^<>]*)>", re.IGNORECASE)
_META = re.compile(r"<meta\b([^<>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>=`]+)))?""")


def _attributes(text: str) -> dict[str, str | None]:
    """HTML attributes, names in lower case, values unescaped; a bare attribute is ""."""
    out: dict[str, str | None] = {}
    for match in _ATTRIBUTE.finditer(text):
        name = match.group(1).lower()
        if name in out:
            continue  # the first one wins, as in browsers
        value = next((g for g in match.group(2, 3, 4) if g is not None), "")
        out[name] = html.unescape(value)
    return out
