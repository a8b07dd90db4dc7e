"""Compare two pictures of a project's dependencies: what came in, what went, and above
all which *trust* relationships changed (``depchain diff``).

Either side is a depchain JSON report (``depchain-report/1``), a CycloneDX SBOM (JSON,
or XML read through cyclonedx-python-lib, whose XML parser is defusedxml), an SPDX 2.x
JSON document from any tool, or a git revision of a repository, materialised with
``git archive`` into a temporary folder and scanned (:func:`load_revisions`). Each is
read into a :class:`Document`; :func:`compare` gives a :class:`Diff`. Nothing here
prints.

**Identity.** A component is known by its Package URL without version, qualifiers or
subpath (``pkg:pypi/flask``; Python names in their PEP 503 form; a container image
keeps its ``repository_url``); one without a purl by ``<ecosystem>:<name>``. A version
change is a change of the versions one identity has; a finding is known by its gap ID
and the identity of its subject (and, for a known vulnerability, its advisory), so a
version bump alone neither adds nor removes a gap.

**What both carry.** Each document says which facts it carries and in which
vocabulary (:attr:`Document.facets`); a fact is compared only in the vocabularies both
sides carry, and what was left out is said in :attr:`Diff.not_compared`. A depchain
report carries everything; depchain's own CycloneDX carries all but the trust gaps
(its known vulnerabilities are compared as DC024 gaps); another tool's SBOM carries
versions, hashes, suppliers (as owners), download locations and references (as
sources), services and vulnerabilities (CycloneDX), static and dynamic links (SPDX
relationships).

**Trust changes** (what makes ``depchain diff`` exit 1):

- ``new_owners``: an owner (organisation, user, namespace, maintainer or supplier)
  whom no component of OLD had, with the components it owns in NEW; an unknown owner
  is never an owner;
- ``new_sources``: an index or source of bytes (registry, repository, URL, path) that
  no component of OLD came from, or that components present in both did not come
  from before (one change per source, with the components that use it);
- ``hashes``: a component whose hashes are all gone (``lost``), or whose hashes for
  the same version share none with the old ones (``changed``);
- ``attestations``: a PEP 740 attestation that was present and now is not, or that
  verified and now fails;
- ``new_native``: a non-Python component (not an image either) reached by a static or
  dynamic edge that was not one in OLD: a Rust crate, a Go module, a shared library,
  an OS package, a submodule;
- ``services``: a service NEW contacts and OLD did not, or one now reached across a
  trust boundary;
- ``new_gaps``: a finding NEW has and OLD had not (or has at a higher severity); only
  those at or above the ``fail_on`` threshold count.

**JSON** (``depchain-diff/1``, :meth:`Diff.as_dict`): ``schema``, ``tool``, ``old`` and
``new`` (``path``, ``format``, ``tool``, ``revision``, ``subject``, ``components``,
``errors``), ``compared`` (facets), ``not_compared`` (``facet``, ``reason``),
``summary`` (counts, ``trust_changes``, ``failing``, ``fail_on``, ``fails``),
``components`` (``added``, ``removed``: ``identity``, ``name``, ``ecosystem``,
``versions``; ``changed``: ``identity``, ``name``, ``ecosystem``, ``old_versions``,
``new_versions``) and ``trust`` (``new_owners``: ``owner``, ``ecosystem``, ``origin``,
``components``; ``new_sources``: ``source``, ``via``, ``components``;
``hashes``: ``identity``, ``name``, ``change``, ``versions``; ``attestations``:
``identity``, ``name``, ``old``, ``new``; ``new_native``: ``identity``, ``name``,
``ecosystem``, ``kinds``, ``versions``; ``services``: ``key``, ``name``, ``change``,
``endpoints``, ``trust_boundary``; ``services_gone``: the same; ``new_gaps`` and
``gaps_gone``: ``id``, ``severity``, ``subject``, ``advisory``, ``message``, ``where``,
``was``). Every list is sorted; an absent version is ``null``. Keys are only ever added
within version 1.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from depchain.errors import InputFileError, UsageError
from depchain.redaction import redact_url

if TYPE_CHECKING:
    from depchain.scanner import ScanResult

SCHEMA_ID = "depchain-diff/1"
MAX_INPUT_SIZE = 64 * 1024 * 1024
"""The largest report or SBOM read, in bytes."""
MAX_COMPONENTS = 500_000
"""Components, services, findings or vulnerabilities read from one document, each."""
MAX_NESTING = 32
"""How deep CycloneDX components may nest in one another."""
MAX_TEXT = 1024
"""Characters kept of any one text read from a document (a name, a URL, a message)."""
MAX_TREE_SIZE = 512 * 1024 * 1024
"""The most bytes of one revision's tree written to the temporary folder."""
MAX_TREE_FILES = 200_000
"""The most files of one revision's tree written to the temporary folder."""
GIT_TIMEOUT = 600.0
"""Seconds a git command may take."""

SEVERITIES = ("info", "low", "medium", "high", "critical")
FACETS = (
    "versions",
    "hashes",
    "sources",
    "owners",
    "attestations",
    "native",
    "services",
    "gaps",
)
_NOT_NATIVE = frozenset({"pypi", "docker", "oci", "githubactions"})
"""Ecosystems whose static or dynamic components are not native code: Python
distributions (vendored or imported) and container images."""
_IS_ITS_REPOSITORY = frozenset({"githubactions", "github"})
"""Ecosystems whose components are repositories: the repository is no news as a
source (its owner is, as an owner)."""
_VOCABULARY_WORDS = {
    "depchain": "depchain's own",
    "sbom": "the SBOM's references",
    "index": "package-index owners",
    "derived": "owners known from names (namespaces, maintainers)",
    "supplier": "SBOM suppliers",
    "kinds": "dependency kinds",
    "findings": "trust gaps",
    "advisories": "known vulnerabilities (DC024)",
    "any": "any",
}


# -- the documents ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One component of one document, as the comparison sees it."""

    identity: str
    name: str
    ecosystem: str
    version: str | None
    ref: str
    """Its id in the document (depchain id, bom-ref, SPDXID)."""
    hashes: frozenset[str] = frozenset()
    """``algorithm:value``, lower case, hashlib names."""
    sources: frozenset[tuple[str, str]] = frozenset()
    """(vocabulary, source text)."""
    owners: frozenset[tuple[str, str]] = frozenset()
    """(origin, owner): origin ``index``, ``derived`` or ``supplier``."""
    attestation: str = "unknown"
    """``present``, ``none`` or ``unknown`` (package-index data)."""
    verified: str | None = None
    """``verified``, ``failed``, ``unverified`` or ``none``; None: not known."""
    kinds: frozenset[str] = frozenset()
    """The kinds of the edges that reach it, where the document says them."""


@dataclass(frozen=True)
class ServiceEntry:
    key: str
    name: str
    endpoints: tuple[str, ...] = ()
    trust_boundary: bool | None = None


@dataclass(frozen=True)
class GapEntry:
    """One finding: a gap of the catalogue (``DC001``...) about one subject."""

    id: str
    severity: str
    subject: str
    """The identity of the component or service it is about."""
    advisory: str
    """For a known vulnerability (DC024), the advisory; else empty."""
    message: str
    where: tuple[str, ...]
    vocabulary: str
    """``findings`` (a depchain report's gap) or ``advisories`` (a known vulnerability)."""


@dataclass(frozen=True)
class Document:
    """One side of a comparison."""

    path: str
    """What to call it in messages: the file as given, or ``repo@rev``."""
    format: str
    """``depchain-report``, ``cyclonedx-json``, ``cyclonedx-xml``, ``spdx-json`` or ``git``."""
    components: tuple[Entry, ...]
    services: tuple[ServiceEntry, ...] = ()
    gaps: tuple[GapEntry, ...] = ()
    facets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Facet -> the vocabularies this document carries it in; absent: not carried."""
    tool: str | None = None
    subject: str | None = None
    """The identity of what the document describes."""
    revision: str | None = None
    """The commit, for a git revision."""
    errors: tuple[str, ...] = ()
    """Inputs the scan behind it could not read (``path: message``)."""
    notes: tuple[str, ...] = ()
    """What was seen but not compared (links not materialised, files restored)."""


# -- identities ----------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _parsed(
    purl: str,
) -> tuple[str, str | None, str, str | None, tuple[tuple[str, str], ...]] | None:
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(purl)
    except Exception:  # a malformed purl is no purl
        return None
    qualifiers = p.qualifiers if isinstance(p.qualifiers, dict) else {}
    name = p.name
    if p.type == "pypi":
        from packaging.utils import canonicalize_name

        name = str(canonicalize_name(name))
    return p.type, p.namespace, name, p.version, tuple(sorted(qualifiers.items()))


@lru_cache(maxsize=65536)
def identity(purl: str | None, ecosystem: str = "", name: str = "") -> str:
    """What a component is, whatever its version: the purl without version, qualifiers
    and subpath (an image keeps its registry), else ``<ecosystem>:<name>``."""
    parsed = _parsed(purl) if purl else None
    if parsed is None:
        eco = ecosystem or "unknown"
        if eco == "pypi":
            from packaging.utils import canonicalize_name

            name = str(canonicalize_name(name))
        return f"{eco}:{name}"
    from packageurl import PackageURL

    ptype, namespace, pname, _, qualifiers = parsed
    kept = {k: v for k, v in qualifiers if ptype in {"docker", "oci"} and k == "repository_url"}
    return str(
        PackageURL(type=ptype, namespace=namespace, name=pname, qualifiers=kept or None).to_string()
    )


def _qualifier_sources(purl: str | None) -> set[str]:
    parsed = _parsed(purl) if purl else None
    if parsed is None:
        return set()
    return {
        f"{'vcs' if key == 'vcs_url' else 'url'} {_text(value)}"
        for key, value in parsed[4]
        if key in {"download_url", "vcs_url"} and value
    }


# -- reading -------------------------------------------------------------------------


class _Reader:
    """Typed access to a parsed document, each problem one :class:`InputFileError`
    naming the file and the place (``components[3].purl``)."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.count = 0

    def fail(self, where: str, what: str) -> InputFileError:
        return InputFileError(self.display, f"{where}: {what}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "is not an object")
        return value

    def items(self, parent: dict[str, Any], key: str, where: str) -> list[Any]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{where}{key}", "is not a list")
        self.count += len(value)
        if len(value) > MAX_COMPONENTS or self.count > 8 * MAX_COMPONENTS:
            raise self.fail(f"{where}{key}", f"holds more than {MAX_COMPONENTS:,} entries")
        return value

    def objects(
        self, parent: dict[str, Any], key: str, where: str
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, item in enumerate(self.items(parent, key, where)):
            place = f"{where}{key}[{i}]"
            yield place, self.obj(item, place)

    def text(
        self, parent: dict[str, Any], key: str, where: str, required: bool = False
    ) -> str | None:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(f"{where}{key}", "is not a string")
        return _text(str(value))


def _text(value: str) -> str:
    """A text from a document as the comparison keeps it: credentials hidden, bounded."""
    value = redact_url(value[: MAX_TEXT * 4])
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 3] + "..."


_HASH_NAMES = {
    "sha-1": "sha1",
    "sha-224": "sha224",
    "sha-256": "sha256",
    "sha-384": "sha384",
    "sha-512": "sha512",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
    "blake2b-256": "blake2b_256",
    "blake2b-384": "blake2b_384",
    "blake2b-512": "blake2b_512",
}


def _hash(algorithm: str, value: str) -> str:
    name = algorithm.strip().lower().replace("_", "-")
    name = _HASH_NAMES.get(name, name.replace("-", "_"))
    return f"{name}:{value.strip().lower()}"


def load(path: Path, max_size: int = MAX_INPUT_SIZE, display: str | None = None) -> Document:
    """A depchain report, CycloneDX SBOM (JSON or XML) or SPDX 2.x JSON document, read
    within ``max_size`` bytes; any problem is one :class:`InputFileError` naming it."""
    from depchain.fileio import parse_json, read_bytes

    display = display or str(path)
    data = read_bytes(path, display, max_size)
    if is_xml(data):
        return _from_cyclonedx_xml(data, display)
    return from_dict(parse_json(document_text(data, display), display), display)


def is_xml(data: bytes) -> bool:
    """The document is XML (CycloneDX XML), not JSON: its first character is ``<``."""
    return data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def document_text(data: bytes, display: str) -> str:
    """A JSON document's text: UTF-8 (a byte-order mark dropped), not empty. Raises
    :class:`InputFileError` naming the line of the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(display, f"not valid UTF-8 (line {line})") from None
    if not text.strip():
        raise InputFileError(display, "is empty")
    return text


def from_dict(data: Any, display: str, format: str | None = None) -> Document:
    """A parsed JSON document as a :class:`Document`, whichever of the three it is."""
    if not isinstance(data, dict):
        raise InputFileError(display, "not a depchain report, CycloneDX or SPDX document")
    schema = data.get("schema")
    if isinstance(schema, str) and schema.startswith("depchain-report/"):
        if schema != "depchain-report/1":
            raise InputFileError(display, f"report schema {_text(schema)!r} is not supported")
        return _from_report(data, display)
    if data.get("bomFormat") == "CycloneDX":
        return _from_cyclonedx(data, display, format or "cyclonedx-json")
    spdx = data.get("spdxVersion")
    if isinstance(spdx, str):
        if not spdx.startswith("SPDX-2."):
            raise InputFileError(display, f"{_text(spdx)} is not supported (SPDX 2.x JSON is)")
        return _from_spdx(data, display)
    if "@context" in data and "spdx" in str(data.get("@context")).lower():
        raise InputFileError(display, "SPDX 3 is not supported (SPDX 2.x JSON is)")
    if schema == "depchain-diff/1":
        raise InputFileError(display, "is a depchain diff, not a report or SBOM")
    raise InputFileError(
        display,
        "not a depchain report, CycloneDX or SPDX document (no 'schema', 'bomFormat' or "
        "'spdxVersion')",
    )


def _from_report(data: dict[str, Any], display: str) -> Document:
    r = _Reader(display)
    kinds: dict[str, set[str]] = {}
    for where, dep in r.objects(data, "dependencies", ""):
        target = r.text(dep, "to", where + ".")
        kind = r.text(dep, "kind", where + ".")
        if target and kind:
            kinds.setdefault(target, set()).add(kind)
    entries: list[Entry] = []
    identities: dict[str, str] = {}
    attested = False
    index_owners = False
    for where, c in r.objects(data, "components", ""):
        at = where + "."
        ref = r.text(c, "id", at, required=True) or ""
        purl = r.text(c, "purl", at)
        name = r.text(c, "name", at) or ref
        ecosystem = r.text(c, "ecosystem", at) or ""
        ident = identity(purl, ecosystem, name)
        identities[ref] = ident
        hashes = {
            _hash(r.text(h, "algorithm", f"{w}.") or "", r.text(h, "value", f"{w}.") or "")
            for w, h in r.objects(c, "hashes", at)
        }
        sources = {("depchain", s) for s in _report_sources(r, c, at)}
        prov = r.obj(c.get("provenance") or {}, at + "provenance")
        for i, index in enumerate(r.items(prov, "index", at + "provenance.")):
            if isinstance(index, str):
                sources.add(("depchain", _index_text(index)))
            else:
                raise r.fail(f"{at}provenance.index[{i}]", "is not a string")
        _pypi_default(ecosystem, sources, "depchain")
        owners: set[tuple[str, str]] = set()
        own = r.obj(c.get("ownership") or {}, at + "ownership")
        origin = _origin(r.text(own, "source", at + "ownership."))
        if origin:
            org = r.text(own, "organization", at + "ownership.")
            if org:
                owners.add((origin, org))
            for w, role in r.objects(own, "roles", at + "ownership."):
                user = r.text(role, "user", w + ".")
                if user:
                    owners.add((origin, user))
            index_owners = index_owners or (origin == "index" and bool(owners))
        attestation = r.text(prov, "attestation", at + "provenance.") or "unknown"
        attested = attested or attestation != "unknown"
        entries.append(
            Entry(
                identity=ident,
                name=name,
                ecosystem=ecosystem,
                version=r.text(c, "version", at),
                ref=ref,
                hashes=frozenset(hashes),
                sources=frozenset(sources),
                owners=frozenset(owners),
                attestation=attestation,
                verified=r.text(prov, "attestation_verified", at + "provenance."),
                kinds=frozenset(kinds.get(ref, ())),
            )
        )
    services = []
    for where, s in r.objects(data, "services", ""):
        at = where + "."
        key = r.text(s, "id", at, required=True) or ""
        boundary = s.get("x_trust_boundary")
        services.append(
            ServiceEntry(
                key=key,
                name=r.text(s, "name", at) or key,
                endpoints=_texts(r, s, "endpoints", at),
                trust_boundary=boundary if isinstance(boundary, bool) else None,
            )
        )
    audited = data.get("audit") is not None
    advisories: dict[str, list[str]] = {}
    for where, v in r.objects(data, "vulnerabilities", ""):
        if v.get("ignored"):
            continue
        component = r.text(v, "component", where + ".")
        advisory = r.text(v, "id", where + ".")
        if component and advisory:
            advisories.setdefault(component, []).append(advisory)
    gaps = []
    for where, f in r.objects(data, "findings", ""):
        at = where + "."
        gap = r.text(f, "id", at, required=True) or ""
        subject = r.text(f, "component", at) or ""
        message = r.text(f, "message", at) or ""
        advisory = ""
        if gap == "DC024":
            advisory = next(
                (a for a in advisories.get(subject, ()) if f" is affected by {a}" in message), ""
            )
        gaps.append(
            GapEntry(
                id=gap,
                severity=_severity(r.text(f, "severity", at)),
                subject=identities.get(subject)
                or (identity(subject) if subject.startswith("pkg:") else subject),
                advisory=advisory,
                message=message,
                where=_places(r, f, at),
                vocabulary="advisories" if gap == "DC024" else "findings",
            )
        )
    errors = tuple(
        f"{r.text(e, 'path', w + '.') or '?'}: {r.text(e, 'message', w + '.') or ''}"
        for w, e in r.objects(data, "errors", "")
    )
    subject = r.text(data, "subject", "") or ""
    tool = r.obj(data.get("tool") or {}, "tool")
    owner_vocab = {"derived"} | ({"index"} if index_owners else set())
    return Document(
        path=display,
        format="depchain-report",
        components=tuple(entries),
        services=tuple(services),
        gaps=tuple(gaps),
        facets={
            "versions": frozenset({"any"}),
            "hashes": frozenset({"any"}),
            "sources": frozenset({"depchain"}),
            "owners": frozenset(owner_vocab),
            "attestations": frozenset({"index"} if attested else ()),
            "native": frozenset({"kinds"}),
            "services": frozenset({"depchain"}),
            "gaps": frozenset({"findings", "advisories"} if audited else {"findings"}),
        },
        tool=_tool_text(r.text(tool, "name", "tool."), r.text(tool, "version", "tool.")),
        subject=identities.get(subject) or subject or None,
        errors=errors,
    )


def _report_sources(r: _Reader, c: dict[str, Any], at: str) -> set[str]:
    out = set()
    for w, s in r.objects(c, "sources", at):
        kind = r.text(s, "kind", w + ".") or "?"
        url = r.text(s, "url", w + ".")
        out.add(_source_text(kind, url))
    return out


_PYPI = frozenset(
    {
        "https://pypi.org/simple",
        "https://pypi.python.org/simple",
        "https://pypi.org/pypi",
        "https://files.pythonhosted.org",
    }
)
DEFAULT_INDEX = "index PyPI (the default index)"


def _source_text(kind: str, url: str | None) -> str:
    """A source of bytes as the comparison names it: ``index <url>`` for a registry
    (PyPI by any of its names is one), else ``<kind> <url>`` (vcs, url, path)."""
    if kind == "registry":
        if url is None or url.rstrip("/").lower() in _PYPI:
            return DEFAULT_INDEX
        return f"index {url}"
    return f"{kind} {url or '?'}"


def _index_text(index: str) -> str:
    """A report's ``provenance.index`` entry (``default``, ``extra <url>``, ``<url>``)."""
    if index == "default":
        return DEFAULT_INDEX
    role, _, url = index.partition(" ")
    return _source_text("registry", url or role)


def _pypi_default(ecosystem: str, sources: set[tuple[str, str]], vocabulary: str) -> None:
    """A Python distribution named by no index comes from the default one (as the
    report's provenance says)."""
    if ecosystem == "pypi" and not any(s.startswith("index ") for _, s in sources):
        sources.add((vocabulary, DEFAULT_INDEX))


def _origin(source: str | None) -> str | None:
    if source is None or source == "unknown":
        return None
    return "index" if source == "index" else "derived"


def _texts(r: _Reader, parent: dict[str, Any], key: str, at: str) -> tuple[str, ...]:
    out = []
    for i, value in enumerate(r.items(parent, key, at)):
        if not isinstance(value, str):
            raise r.fail(f"{at}{key}[{i}]", "is not a string")
        out.append(_text(value))
    return tuple(sorted(set(out)))


def _places(r: _Reader, f: dict[str, Any], at: str) -> tuple[str, ...]:
    out = []
    for w, e in r.objects(f, "evidence", at):
        path = r.text(e, "path", w + ".") or "?"
        line = e.get("line")
        out.append(
            f"{path}:{line}" if isinstance(line, int) and not isinstance(line, bool) else path
        )
    return tuple(out[:3])


def _severity(value: str | None) -> str:
    value = (value or "").lower()
    if value in SEVERITIES:
        return value
    return "info" if value == "none" else "high"  # unknown: high, as the catalogue says


def _tool_text(name: str | None, version: str | None) -> str | None:
    if not name:
        return None
    return f"{name} {version}" if version else name


def _from_cyclonedx(data: dict[str, Any], display: str, fmt: str) -> Document:
    r = _Reader(display)
    metadata = r.obj(data.get("metadata") or {}, "metadata")
    tools = _cdx_tools(r, metadata)
    raw = _cdx_components(r, data, metadata)
    depchain_made = any(t.startswith("depchain") for t in tools) or any(
        isinstance(p, dict) and str(p.get("name", "")).startswith("depchain:")
        for _, c in raw
        if isinstance(c.get("properties"), list)
        for p in c["properties"]
    )
    entries = [_cdx_component(r, where, c, depchain_made) for where, c in raw]
    identities = {e.ref: e.identity for e in entries}
    subject_ref = None
    if metadata.get("component") is not None:
        subject_ref = r.text(metadata["component"], "bom-ref", "metadata.component.")
    owner_vocab: set[str] = set()
    if depchain_made:
        owner_vocab = {"derived"}
        if any(origin == "index" for e in entries for origin, _ in e.owners):
            owner_vocab.add("index")
    elif any(e.owners for e in entries):
        owner_vocab = {"supplier"}
    hashed = depchain_made or any(e.hashes for e in entries)
    attested = any(e.attestation != "unknown" for e in entries)
    return Document(
        path=display,
        format=fmt,
        components=tuple(entries),
        services=_cdx_services(r, data, depchain_made),
        gaps=_cdx_vulnerabilities(r, data, identities),
        facets={
            "versions": frozenset({"any"}),
            "hashes": frozenset({"any"} if hashed else ()),
            "sources": frozenset({"depchain" if depchain_made else "sbom"}),
            "owners": frozenset(owner_vocab),
            "attestations": frozenset({"index"} if attested else ()),
            "native": frozenset({"kinds"} if depchain_made else ()),
            "services": frozenset({"depchain" if depchain_made else "sbom"}),
            "gaps": frozenset({"advisories"}),
        },
        tool=", ".join(tools) or None,
        subject=identities.get(subject_ref or ""),
    )


def _cdx_components(
    r: _Reader, data: dict[str, Any], metadata: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The subject (``metadata.component``) and every component, nested ones too."""
    raw: list[tuple[str, dict[str, Any]]] = []
    if metadata.get("component") is not None:
        raw.append(("metadata.component", r.obj(metadata["component"], "metadata.component")))
    stack = [(w, c, 1) for w, c in r.objects(data, "components", "")]
    stack.reverse()
    while stack:
        where, c, depth = stack.pop()
        raw.append((where, c))
        if depth >= MAX_NESTING and c.get("components"):
            raise r.fail(where, f"components nest more than {MAX_NESTING} deep")
        nested = [(w, n, depth + 1) for w, n in r.objects(c, "components", where + ".")]
        stack.extend(reversed(nested))
    return raw


def _cdx_component(r: _Reader, where: str, c: dict[str, Any], depchain_made: bool) -> Entry:
    at = where + "."
    name = r.text(c, "name", at) or ""
    purl = r.text(c, "purl", at)
    props: list[tuple[str, str]] = []
    for w, p in r.objects(c, "properties", at):
        key = r.text(p, "name", w + ".")
        if key is not None:
            props.append((key, r.text(p, "value", w + ".") or ""))
    named = dict(props)
    parsed = _parsed(purl) if purl else None
    ecosystem = named.get("depchain:ecosystem") or (parsed[0] if parsed else "")
    ref = r.text(c, "bom-ref", at) or purl or f"{ecosystem}:{name}"
    version = r.text(c, "version", at)
    hashes = frozenset(
        _hash(r.text(h, "alg", w + ".") or "", r.text(h, "content", w + ".") or "")
        for w, h in r.objects(c, "hashes", at)
    )
    entry = Entry(
        identity=identity(purl, ecosystem, name),
        name=name,
        ecosystem=ecosystem,
        version=version,
        ref=ref,
        hashes=hashes,
    )
    if depchain_made:
        sources: set[tuple[str, str]] = set()
        kinds: set[str] = set()
        for key, value in props:
            if key == "depchain:source":
                kind, _, rest = value.partition(" ")
                url = rest.split(" ")[0] if rest else ""
                sources.add(
                    ("depchain", _source_text(kind, None if url == "default-index" else url))
                )
            elif key == "depchain:kinds":
                kinds.update(k for k in value.split(",") if k)
        _pypi_default(ecosystem, sources, "depchain")
        return replace(
            entry,
            sources=frozenset(sources),
            owners=_derived_owners(ref, name, ecosystem, version, purl, props),
            attestation=named.get("depchain:attestation", "unknown"),
            verified=named.get("depchain:attestation-verified"),
            kinds=frozenset(kinds),
        )
    foreign = {("sbom", s) for s in _qualifier_sources(purl)}
    for w, ext in r.objects(c, "externalReferences", at):
        ref_type = r.text(ext, "type", w + ".")
        location = r.text(ext, "url", w + ".")
        if location and ref_type in {"distribution", "distribution-intake", "vcs"}:
            foreign.add(("sbom", f"{'vcs' if ref_type == 'vcs' else 'url'} {location}"))
    owners = set()
    for key in ("supplier", "manufacturer"):
        if c.get(key) is not None:
            org = r.text(r.obj(c[key], at + key), "name", f"{at}{key}.")
            if org:
                owners.add(("supplier", org))
    publisher = r.text(c, "publisher", at)
    if publisher:
        owners.add(("supplier", publisher))
    return replace(entry, sources=frozenset(foreign), owners=frozenset(owners))


def _cdx_services(
    r: _Reader, data: dict[str, Any], depchain_made: bool
) -> tuple[ServiceEntry, ...]:
    """Services (nested ones too): by bom-ref in depchain's SBOMs, by name in others'
    (whose bom-refs may be random per run)."""
    out = []
    stack = [(w, s, 1) for w, s in r.objects(data, "services", "")]
    while stack:
        where, s, depth = stack.pop()
        at = where + "."
        if depth >= MAX_NESTING and s.get("services"):
            raise r.fail(where, f"services nest more than {MAX_NESTING} deep")
        stack.extend((w, n, depth + 1) for w, n in r.objects(s, "services", at))
        name = r.text(s, "name", at) or ""
        ref = r.text(s, "bom-ref", at)
        boundary = s.get("x-trust-boundary")
        out.append(
            ServiceEntry(
                key=(ref or name) if depchain_made else name,
                name=name,
                endpoints=_texts(r, s, "endpoints", at),
                trust_boundary=boundary if isinstance(boundary, bool) else None,
            )
        )
    return tuple(out)


def _cdx_vulnerabilities(
    r: _Reader, data: dict[str, Any], identities: dict[str, str]
) -> tuple[GapEntry, ...]:
    """Each vulnerability of each component it affects, as a DC024 gap; one whose
    analysis says it does not apply is left out (as a report leaves an ignored one out).
    An SBOM without vulnerabilities is read as knowing none."""
    out = []
    for where, v in r.objects(data, "vulnerabilities", ""):
        at = where + "."
        advisory = r.text(v, "id", at) or ""
        analysis = r.obj(v.get("analysis") or {}, at + "analysis")
        state = r.text(analysis, "state", at + "analysis.")
        if state in {"not_affected", "false_positive", "resolved"}:
            continue
        severity = max(
            (
                _severity(r.text(rating, "severity", w + "."))
                for w, rating in r.objects(v, "ratings", at)
            ),
            key=SEVERITIES.index,
            default="high",
        )
        message = f"{advisory}: {r.text(v, 'description', at) or ''}".rstrip(": ")
        for w, target in r.objects(v, "affects", at):
            ref = r.text(target, "ref", w + ".") or ""
            out.append(
                GapEntry(
                    id="DC024",
                    severity=severity,
                    subject=identities.get(ref) or ref,
                    advisory=advisory,
                    message=message,
                    where=(),
                    vocabulary="advisories",
                )
            )
    return tuple(out)


def _cdx_tools(r: _Reader, metadata: dict[str, Any]) -> list[str]:
    tools = metadata.get("tools")
    found: list[dict[str, Any]] = []
    if isinstance(tools, list):
        found = [t for _, t in r.objects(metadata, "tools", "metadata.")]
    elif isinstance(tools, dict):
        found = [t for _, t in r.objects(tools, "components", "metadata.tools.")]
        found += [t for _, t in r.objects(tools, "services", "metadata.tools.")]
    elif tools is not None:
        raise r.fail("metadata.tools", "is neither a list nor an object")
    return sorted(
        {
            t
            for t in (
                _tool_text(r.text(x, "name", "tool."), r.text(x, "version", "tool.")) for x in found
            )
            if t
        }
    )


def _derived_owners(
    ref: str,
    name: str,
    ecosystem: str,
    version: str | None,
    purl: str | None,
    props: list[tuple[str, str]],
) -> frozenset[tuple[str, str]]:
    """The owners depchain states for a component of its own SBOM, as its report does."""
    from depchain.model import Component
    from depchain.trust.facts import ownership

    component = Component(
        id=ref,
        name=name,
        ecosystem=ecosystem,
        version=version,
        purl=purl,
        properties=tuple(sorted(set(props))),
    )
    try:
        owner = ownership(component)
    except Exception:  # a purl the namespace rules cannot read: owner unknown
        return frozenset()
    origin = _origin(owner.get("source"))
    if origin is None:
        return frozenset()
    out = {(origin, str(owner["organization"]))} if owner.get("organization") else set()
    out.update((origin, str(role["user"])) for role in owner.get("roles", ()) if role.get("user"))
    return frozenset((o, _text(n)) for o, n in out)


def _from_cyclonedx_xml(data: bytes, display: str) -> Document:
    """CycloneDX XML through the library (its parser is defusedxml), then as JSON."""
    import json
    import warnings

    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(display, f"not valid UTF-8 (line {line})") from None
    if "cyclonedx.org/schema/bom" not in text[:4096]:
        raise InputFileError(
            display, "XML, but not a CycloneDX document (only CycloneDX XML is read)"
        )
    try:
        from cyclonedx.model.bom import Bom
        from cyclonedx.output.json import JsonV1Dot6

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bom = Bom.from_xml(io.StringIO(text))  # type: ignore[attr-defined]
            if bom is None:
                raise ValueError("no bom element")
            as_json = JsonV1Dot6(bom).output_as_string()
    except (RecursionError, MemoryError):
        raise InputFileError(display, "invalid CycloneDX XML: nested too deeply") from None
    except Exception as exc:
        said = (str(exc).strip().splitlines() or [""])[0][:80]
        raise InputFileError(
            display, f"invalid CycloneDX XML ({type(exc).__name__}: {_text(said)})"
        ) from None
    return from_dict(json.loads(as_json), display, "cyclonedx-xml")


_SPDX_LINKS = {"STATIC_LINK": "static", "DYNAMIC_LINK": "dynamic"}


def _from_spdx(data: dict[str, Any], display: str) -> Document:
    r = _Reader(display)
    described = set(_texts(r, data, "documentDescribes", ""))
    relationships = list(r.objects(data, "relationships", ""))
    for where, rel in relationships:
        at = where + "."
        if r.text(rel, "relationshipType", at) == "DESCRIBES" and (
            r.text(rel, "spdxElementId", at) == "SPDXRef-DOCUMENT"
        ):
            described.add(r.text(rel, "relatedSpdxElement", at) or "")
    kinds: dict[str, set[str]] = {}
    for where, rel in relationships:
        kind = _SPDX_LINKS.get(r.text(rel, "relationshipType", where + ".") or "")
        if kind is None:
            continue
        a = r.text(rel, "spdxElementId", where + ".") or ""
        b = r.text(rel, "relatedSpdxElement", where + ".") or ""
        kinds.setdefault(a if b in described else b, set()).add(kind)
    entries = []
    identities: dict[str, str] = {}
    has_hashes = has_suppliers = False
    for where, p in r.objects(data, "packages", ""):
        at = where + "."
        ref = r.text(p, "SPDXID", at, required=True) or ""
        name = r.text(p, "name", at) or ref
        purl = None
        for w, ext in r.objects(p, "externalRefs", at):
            if (r.text(ext, "referenceType", w + ".") or "").lower() == "purl":
                purl = purl or r.text(ext, "referenceLocator", w + ".")
        parsed = _parsed(purl) if purl else None
        ecosystem = parsed[0] if parsed else ""
        ident = identity(purl, ecosystem, name)
        identities[ref] = ident
        hashes = {
            _hash(r.text(h, "algorithm", w + ".") or "", r.text(h, "checksumValue", w + ".") or "")
            for w, h in r.objects(p, "checksums", at)
        }
        has_hashes = has_hashes or bool(hashes)
        owners = set()
        for key in ("supplier", "originator"):
            who = _spdx_party(r.text(p, key, at))
            if who:
                owners.add(("supplier", who))
        has_suppliers = has_suppliers or bool(owners)
        sources = {("sbom", s) for s in _qualifier_sources(purl)}
        location = r.text(p, "downloadLocation", at)
        if location and location.upper() not in {"NOASSERTION", "NONE"}:
            vcs = re.match(r"(git|hg|svn|bzr)\+", location)
            sources.add(
                ("sbom", f"{'vcs' if vcs else 'url'} {location[vcs.end() :] if vcs else location}")
            )
        entries.append(
            Entry(
                identity=ident,
                name=name,
                ecosystem=ecosystem,
                version=r.text(p, "versionInfo", at),
                ref=ref,
                hashes=frozenset(hashes),
                sources=frozenset(sources),
                owners=frozenset(owners),
                kinds=frozenset(kinds.get(ref, ())),
            )
        )
    creation = r.obj(data.get("creationInfo") or {}, "creationInfo")
    tools = [
        c.removeprefix("Tool:").strip()
        for c in _texts(r, creation, "creators", "creationInfo.")
        if c.startswith("Tool:")
    ]
    subject = next((identities[d] for d in sorted(described) if d in identities), None)
    return Document(
        path=display,
        format="spdx-json",
        components=tuple(entries),
        facets={
            "versions": frozenset({"any"}),
            "hashes": frozenset({"any"} if has_hashes else ()),
            "sources": frozenset({"sbom"}),
            "owners": frozenset({"supplier"} if has_suppliers else ()),
            "native": frozenset({"kinds"} if relationships else ()),
        },
        tool=", ".join(tools) or None,
        subject=subject,
    )


def _spdx_party(value: str | None) -> str | None:
    """``Organization: Pallets (contact@...)`` -> ``Pallets``; NOASSERTION -> None."""
    if not value or value.upper() in {"NOASSERTION", "NONE"}:
        return None
    _, colon, rest = value.partition(":")
    who = re.sub(r"\s*\([^()]*\)\s*$", "", rest if colon else value).strip()
    return who or None


# -- git revisions -------------------------------------------------------------------


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "LC_ALL": "C",
            "GIT_PAGER": "cat",
        }
    )
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        env.pop(name, None)
    return env


def _git(
    repo: Path, display: str, *args: str, config: tuple[str, ...] = (), check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(
            ["git", *config, "-C", str(repo), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=_git_env(),
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputFileError(display, "git is not installed (--rev needs it)") from None
    except subprocess.TimeoutExpired:
        raise InputFileError(display, f"git {args[0]} took more than {GIT_TIMEOUT:.0f} s") from None
    if check and done.returncode != 0:
        said = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[0]
        raise InputFileError(display, f"git {args[0]}: {_text(said[:160])}")
    return done


def parse_range(spec: str) -> tuple[str, str, bool]:
    """``A..B`` (or ``A...B``: from the merge base of A and B); an empty side is HEAD.
    Returns (old, new, from_merge_base)."""
    three = "..." in spec
    old, sep, new = spec.partition("..." if three else "..")
    if not sep or (not old and not new):
        raise UsageError(f"--rev {spec!r}: expected OLD..NEW (or OLD...NEW), e.g. HEAD~1..HEAD")
    old, new = old or "HEAD", new or "HEAD"
    for rev in (old, new):
        if rev.startswith("-") or any(ch.isspace() or ord(ch) < 32 for ch in rev):
            raise UsageError(f"--rev {spec!r}: {rev!r} is not a revision")
    return old, new, three


def _commit(repo: Path, display: str, rev: str) -> str:
    done = _git(
        repo,
        display,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        check=False,
    )
    sha = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        raise InputFileError(display, f"no commit {_text(rev)!r} in this repository")
    return sha


@dataclass(frozen=True)
class _Blob:
    path: str
    mode: str
    object: str
    size: int


def _tree(repo: Path, display: str, sha: str, max_files: int, max_size: int) -> list[_Blob]:
    """The files of ``sha``'s tree (``git ls-tree``), within the bounds."""
    out = _git(repo, display, "ls-tree", "-r", "-z", "-l", "--full-tree", sha).stdout
    blobs = []
    total = 0
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) != 4 or parts[1] != b"blob":
            continue  # a submodule (commit) entry
        size = int(parts[3]) if parts[3].isdigit() else 0
        total += size
        blobs.append(
            _Blob(
                raw_path.decode("utf-8", "surrogateescape"),
                parts[0].decode(),
                parts[2].decode(),
                size,
            )
        )
        if len(blobs) > max_files:
            raise InputFileError(
                display, f"the tree of {sha[:12]} holds more than {max_files:,} files"
            )
        if total > max_size:
            raise InputFileError(
                display,
                f"the tree of {sha[:12]} is larger than {max_size // (1024 * 1024)} MiB "
                "(--max-tree-size)",
            )
    return blobs


def _safe_relative(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(p in {"..", ""} for p in path.parts) or "\\" in name:
        return None
    if path.parts and path.parts[0] == ".git":
        return None
    return path


class _Bounded(io.RawIOBase):
    """A pipe read no further than ``limit`` bytes and no longer than ``deadline``."""

    def __init__(self, stream: Any, limit: int, deadline: float, display: str) -> None:
        self.stream, self.limit, self.deadline, self.display = stream, limit, deadline, display
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if time.monotonic() > self.deadline:
            raise InputFileError(self.display, f"git archive took more than {GIT_TIMEOUT:.0f} s")
        data = self.stream.read(min(len(buffer), 1 << 16))
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            raise InputFileError(
                self.display,
                f"the archive is larger than {self.limit // (1024 * 1024)} MiB (--max-tree-size)",
            )
        buffer[: len(data)] = data
        return len(data)


def _filter_overrides(repo: Path, display: str) -> tuple[str, ...]:
    """``-c`` options that turn off every filter driver the user's git configuration
    names (git-lfs and the like): the archive holds the committed bytes, and no program
    runs on them."""
    done = _git(
        repo, display, "config", "--null", "--name-only", "--get-regexp", r"^filter\.", check=False
    )
    drivers = sorted(
        {
            name.rsplit(".", 1)[0]
            for name in done.stdout.decode("utf-8", "replace").split("\0")
            if name.startswith("filter.") and name.count(".") >= 2
        }
    )
    out: list[str] = []
    for driver in drivers:
        for key, value in (("smudge", ""), ("clean", ""), ("process", ""), ("required", "false")):
            out += ["-c", f"{driver}.{key}={value}"]
    return tuple(out)


def materialise(
    repo: Path,
    display: str,
    sha: str,
    dest: Path,
    max_size: int = MAX_TREE_SIZE,
    max_files: int = MAX_TREE_FILES,
) -> list[str]:
    """Write the tree of commit ``sha`` into ``dest`` with ``git archive``, bounded, and
    return notes on what was not written. Only folders and regular files are written
    (never executable, never a link); then every file the commit holds is checked
    against ``git ls-tree``, and one the archive left out or changed (``export-ignore``,
    ``export-subst``, end-of-line conversion: attributes the revision itself may set)
    is written from its blob, so that a ``.gitattributes`` cannot hide a manifest."""
    blobs = _tree(repo, display, sha, max_files, max_size)
    deadline = time.monotonic() + GIT_TIMEOUT
    command = [
        "git",
        *_filter_overrides(repo, display),
        "-C",
        str(repo),
        "archive",
        "--format=tar",
        sha,
    ]
    written: dict[str, int] = {}
    links = 0
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_git_env(),
            )
        except FileNotFoundError:
            raise InputFileError(display, "git is not installed (--rev needs it)") from None
        failure: str | None = None
        try:
            assert proc.stdout is not None
            stream = io.BufferedReader(
                _Bounded(proc.stdout, max_size + (64 << 20), deadline, display)
            )
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    relative = _safe_relative(member.name.rstrip("/"))
                    if relative is None:
                        continue
                    target = dest.joinpath(*relative.parts)
                    if member.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                    elif member.isfile():
                        if len(written) >= max_files:
                            raise InputFileError(
                                display, f"the archive holds more than {max_files:,} files"
                            )
                        _write(target, tar.extractfile(member))
                        written[relative.as_posix()] = member.size
                    elif member.issym() or member.islnk():
                        links += 1
        except tarfile.TarError as exc:
            failure = f"git archive of {sha[:12]} could not be read ({exc})"
        except OSError as exc:
            raise InputFileError(
                display, f"cannot write the copy of {sha[:12]}: {exc.strerror or exc}"
            ) from None
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stdout is not None:
                proc.stdout.close()
            proc.wait()
        if proc.returncode not in (0, -9) or failure:
            errors.seek(0)
            said = errors.read(4096).decode("utf-8", "replace").strip().splitlines()
            raise InputFileError(
                display,
                f"git archive: {_text(said[0][:160])}" if said else failure or "git archive failed",
            )
    notes = []
    missing = [
        (relative, blob)
        for blob in blobs
        if blob.mode != "120000"
        and (relative := _safe_relative(blob.path)) is not None
        and written.get(relative.as_posix()) != blob.size
    ]
    restored = _restore(repo, display, dest, missing, deadline) if missing else 0
    if restored:
        notes.append(
            f"{restored} file(s) that git archive left out or changed (export-ignore, "
            "export-subst, eol attributes) were written as committed"
        )
    if links:
        notes.append(f"{links} symbolic link(s) were not materialised")
    return notes


def _restore(
    repo: Path,
    display: str,
    dest: Path,
    blobs: list[tuple[PurePosixPath, _Blob]],
    deadline: float,
) -> int:
    """Write ``blobs`` as committed, through one ``git cat-file --batch``: one object
    asked, its bytes read, then the next (never a full pipe both ways)."""
    try:
        proc = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_env(),
        )
    except FileNotFoundError:
        raise InputFileError(display, "git is not installed (--rev needs it)") from None
    assert proc.stdin is not None and proc.stdout is not None
    done = 0
    try:
        for relative, blob in blobs:
            if time.monotonic() > deadline:
                raise InputFileError(display, f"git took more than {GIT_TIMEOUT:.0f} s")
            proc.stdin.write(blob.object.encode("ascii") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob" or not header[2].isdigit():
                raise InputFileError(display, f"git cat-file: no blob {blob.object[:12]}")
            size = int(header[2])
            if size != blob.size:
                raise InputFileError(display, f"git cat-file: {blob.object[:12]} changed size")
            _write(dest.joinpath(*relative.parts), _Exactly(proc.stdout, size))
            proc.stdout.read(1)  # the newline after the content
            done += 1
    except OSError as exc:
        raise InputFileError(display, f"git cat-file: {exc.strerror or exc}") from None
    finally:
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return done


class _Exactly(io.RawIOBase):
    """The next ``size`` bytes of a stream, as a file."""

    def __init__(self, stream: Any, size: int) -> None:
        self.stream, self.left = stream, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        data = self.stream.read(min(len(buffer), self.left, 1 << 16))
        if not data:
            raise OSError("the blob ended early")
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _write(target: Path, source: Any) -> None:
    if source is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(
        target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644
    )
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 16)


def _repository(path: Path, display: str) -> tuple[Path, str]:
    """The top of the git work tree ``path`` is in and ``path`` relative to it; a bare
    repository (a mirror) is its own top."""
    found = _git(path, display, "rev-parse", "--show-toplevel", "--show-prefix", check=False)
    lines = found.stdout.decode("utf-8", "surrogateescape").splitlines()
    if found.returncode == 0 and lines:
        return Path(lines[0]), lines[1] if len(lines) > 1 else ""
    bare = _git(path, display, "rev-parse", "--is-bare-repository", check=False)
    if bare.returncode == 0 and bare.stdout.strip() == b"true":
        return path, ""
    raise InputFileError(display, "not in a git work tree (--rev needs one)")


def load_revisions(
    path: Path,
    spec: str,
    scan: Callable[[Path], ScanResult] | None = None,
    max_tree_size: int = MAX_TREE_SIZE,
    max_files: int = MAX_TREE_FILES,
) -> tuple[Document, Document]:
    """Both sides of ``--rev OLD..NEW`` in the repository (or the folder of one) at
    ``path``: each revision's tree written to a temporary folder with ``git archive``,
    scanned there with ``scan`` (default: :func:`depchain.scanner.scan`), and removed.
    Nothing in the user's work tree is touched, and nothing in the revisions is run."""
    display = str(path)
    if not path.is_dir():
        raise InputFileError(display, "no such folder (--rev needs a git repository)")
    top, prefix = _repository(path, display)
    old_rev, new_rev, merge_base = parse_range(spec)
    old_sha, new_sha = _commit(top, display, old_rev), _commit(top, display, new_rev)
    if merge_base:
        done = _git(top, display, "merge-base", old_sha, new_sha, check=False)
        base = done.stdout.decode("ascii", "replace").strip()
        if done.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", base):
            raise InputFileError(
                display, f"{_text(old_rev)} and {_text(new_rev)} have no merge base"
            )
        old_sha = base
    if scan is None:
        from depchain.scanner import scan as library_scan

        scan = library_scan
    name = (top.name.removesuffix(".git") if top.name != ".git" else top.parent.name) or "repo"
    where = "" if str(path) in {".", "./"} else f"{display}@"
    sides = []
    with tempfile.TemporaryDirectory(prefix="depchain-diff-") as tmp:
        for side, rev, sha in (("old", old_rev, old_sha), ("new", new_rev, new_sha)):
            root = Path(tmp) / side / name
            root.mkdir(parents=True)
            # the policy of a scanned sub-folder is looked for up to the work tree's top,
            # which a .git folder marks: an empty one marks the copy's top the same way
            (root / ".git").mkdir()
            shown = f"{where}{rev}"
            notes = materialise(top, shown, sha, root, max_tree_size, max_files)
            result = scan(root / prefix if prefix else root)
            sides.append(_from_scan(result, shown, sha, tuple(notes)))
    return sides[0], sides[1]


def _from_scan(result: ScanResult, display: str, sha: str, notes: tuple[str, ...]) -> Document:
    from depchain.export import json_report

    report = json_report.build(result)
    document = from_dict(report, display)
    return Document(
        path=display,
        format="git",
        components=document.components,
        services=document.services,
        gaps=document.gaps,
        facets=document.facets,
        tool=document.tool,
        subject=document.subject,
        revision=sha,
        errors=document.errors,
        notes=notes,
    )


# -- the comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentSummary:
    identity: str
    name: str
    ecosystem: str
    versions: tuple[str | None, ...]


@dataclass(frozen=True)
class VersionChange:
    identity: str
    name: str
    ecosystem: str
    old_versions: tuple[str | None, ...]
    new_versions: tuple[str | None, ...]


@dataclass(frozen=True)
class NewOwner:
    owner: str
    ecosystem: str
    origin: str
    components: tuple[str, ...]
    """Identities of what it owns in NEW."""


@dataclass(frozen=True)
class NewSource:
    source: str
    via: str
    """``new``: no component of OLD came from it; ``component``: OLD's components that
    came from it were others."""
    components: tuple[str, ...]
    """Identities of the components of NEW that come from it (``component``: those
    that did not before)."""


@dataclass(frozen=True)
class HashChange:
    identity: str
    name: str
    change: str
    """``lost`` (no hash any more) or ``changed`` (same version, no hash in common)."""
    versions: tuple[str | None, ...]


@dataclass(frozen=True)
class AttestationChange:
    identity: str
    name: str
    old: str
    new: str


@dataclass(frozen=True)
class NativeChange:
    identity: str
    name: str
    ecosystem: str
    kinds: tuple[str, ...]
    versions: tuple[str | None, ...]


@dataclass(frozen=True)
class ServiceChange:
    key: str
    name: str
    change: str
    """``added``, ``removed`` or ``now across a trust boundary``."""
    endpoints: tuple[str, ...]
    trust_boundary: bool | None


@dataclass(frozen=True)
class GapChange:
    id: str
    severity: str
    subject: str
    advisory: str
    message: str
    where: tuple[str, ...]
    was: str | None = None
    """The severity OLD had it at, when NEW has it higher."""


@dataclass(frozen=True)
class Diff:
    old: Document
    new: Document
    compared: tuple[str, ...]
    not_compared: tuple[tuple[str, str], ...]
    added: tuple[ComponentSummary, ...]
    removed: tuple[ComponentSummary, ...]
    changed: tuple[VersionChange, ...]
    new_owners: tuple[NewOwner, ...]
    new_sources: tuple[NewSource, ...]
    hashes: tuple[HashChange, ...]
    attestations: tuple[AttestationChange, ...]
    new_native: tuple[NativeChange, ...]
    services: tuple[ServiceChange, ...]
    services_gone: tuple[ServiceChange, ...]
    new_gaps: tuple[GapChange, ...]
    gaps_gone: tuple[GapChange, ...]

    def gaps_failing(self, fail_on: str) -> tuple[GapChange, ...]:
        """The new gaps at or above ``fail_on`` (``never``: none)."""
        if fail_on not in SEVERITIES:
            return ()
        floor = SEVERITIES.index(fail_on)
        return tuple(g for g in self.new_gaps if SEVERITIES.index(g.severity) >= floor)

    @property
    def changes(self) -> int:
        """Trust changes other than gaps: each counts whatever the threshold."""
        return (
            len(self.new_owners)
            + len(self.new_sources)
            + len(self.hashes)
            + len(self.attestations)
            + len(self.new_native)
            + len(self.services)
        )

    def failing(self, fail_on: str) -> int:
        """How many trust changes make ``depchain diff`` exit 1 at ``fail_on``
        (``never``: none)."""
        if fail_on == "never":
            return 0
        return self.changes + len(self.gaps_failing(fail_on))

    def as_dict(self, fail_on: str = "medium") -> dict[str, Any]:
        """The JSON form, ``depchain-diff/1`` (see the module's docstring)."""
        from depchain import __version__

        def side(d: Document) -> dict[str, Any]:
            return {
                "path": d.path,
                "format": d.format,
                "tool": d.tool,
                "revision": d.revision,
                "subject": d.subject,
                "components": len(d.components),
                "errors": sorted(d.errors),
                "notes": sorted(d.notes),
            }

        def summary(c: ComponentSummary) -> dict[str, Any]:
            return {
                "identity": c.identity,
                "name": c.name,
                "ecosystem": c.ecosystem,
                "versions": list(c.versions),
            }

        def service(s: ServiceChange) -> dict[str, Any]:
            return {
                "key": s.key,
                "name": s.name,
                "change": s.change,
                "endpoints": list(s.endpoints),
                "trust_boundary": s.trust_boundary,
            }

        def gap(g: GapChange) -> dict[str, Any]:
            return {
                "id": g.id,
                "severity": g.severity,
                "subject": g.subject,
                "advisory": g.advisory or None,
                "message": g.message,
                "where": list(g.where),
                "was": g.was,
            }

        failing = self.failing(fail_on)
        return {
            "schema": SCHEMA_ID,
            "tool": {"name": "depchain", "version": __version__},
            "old": side(self.old),
            "new": side(self.new),
            "compared": list(self.compared),
            "not_compared": [{"facet": f, "reason": r} for f, r in self.not_compared],
            "summary": {
                "added": len(self.added),
                "removed": len(self.removed),
                "changed": len(self.changed),
                "new_gaps": len(self.new_gaps),
                "gaps_gone": len(self.gaps_gone),
                "trust_changes": self.changes + len(self.new_gaps),
                "failing": failing,
                "fail_on": fail_on,
                "fails": failing > 0,
            },
            "components": {
                "added": [summary(c) for c in self.added],
                "removed": [summary(c) for c in self.removed],
                "changed": [
                    {
                        "identity": c.identity,
                        "name": c.name,
                        "ecosystem": c.ecosystem,
                        "old_versions": list(c.old_versions),
                        "new_versions": list(c.new_versions),
                    }
                    for c in self.changed
                ],
            },
            "trust": {
                "new_owners": [
                    {
                        "owner": o.owner,
                        "ecosystem": o.ecosystem,
                        "origin": o.origin,
                        "components": list(o.components),
                    }
                    for o in self.new_owners
                ],
                "new_sources": [
                    {"source": s.source, "via": s.via, "components": list(s.components)}
                    for s in self.new_sources
                ],
                "hashes": [
                    {
                        "identity": h.identity,
                        "name": h.name,
                        "change": h.change,
                        "versions": list(h.versions),
                    }
                    for h in self.hashes
                ],
                "attestations": [
                    {"identity": a.identity, "name": a.name, "old": a.old, "new": a.new}
                    for a in self.attestations
                ],
                "new_native": [
                    {
                        "identity": n.identity,
                        "name": n.name,
                        "ecosystem": n.ecosystem,
                        "kinds": list(n.kinds),
                        "versions": list(n.versions),
                    }
                    for n in self.new_native
                ],
                "services": [service(s) for s in self.services],
                "services_gone": [service(s) for s in self.services_gone],
                "new_gaps": [gap(g) for g in self.new_gaps],
                "gaps_gone": [gap(g) for g in self.gaps_gone],
            },
        }


def _versions(entries: Iterable[Entry]) -> tuple[str | None, ...]:
    return _sorted_versions(e.version for e in entries)


def _first(entries: list[Entry]) -> Entry:
    """The entry that names a group: the one with a version and the smallest ref."""
    return min(entries, key=lambda e: (e.version is None, e.ref))


def _group(doc: Document) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = {}
    for entry in doc.components:
        groups.setdefault(entry.identity, []).append(entry)
    return groups


def _common(old: Document, new: Document, facet: str) -> frozenset[str]:
    return old.facets.get(facet, frozenset()) & new.facets.get(facet, frozenset())


def _words(vocabularies: Iterable[str]) -> str:
    return ", ".join(_VOCABULARY_WORDS.get(v, v) for v in sorted(vocabularies))


def _why_not(old: Document, new: Document) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The facets compared, and for each one compared in part or not at all, why."""
    compared, skipped = [], []
    for facet in FACETS:
        a, b = old.facets.get(facet, frozenset()), new.facets.get(facet, frozenset())
        common = a & b
        if common:
            compared.append(facet)
        if a == b:
            continue
        if not a or not b:
            which, doc, has = ("OLD", old, a) if a else ("NEW", new, b)
            reason = f"only {which} ({doc.format}) carries {facet} ({_words(has)})"
        elif not common:
            reason = (
                f"OLD ({old.format}) has {_words(a)}, NEW ({new.format}) has {_words(b)}: "
                "not comparable"
            )
        else:
            only = [
                f"{_words(extra)} only in {which} ({doc.format})"
                for which, extra, doc in (("OLD", a - common, old), ("NEW", b - common, new))
                if extra
            ]
            reason = f"compared as {_words(common)} only; " + "; ".join(only)
        skipped.append((facet, reason))
    return tuple(compared), tuple(skipped)


Groups = dict[str, list[Entry]]


def compare(old: Document, new: Document) -> Diff:
    """What changed from ``old`` to ``new``, on what both carry."""
    compared, not_compared = _why_not(old, new)
    new = _same_subject(old, new)
    before, after = _group(old), _group(new)

    def summary(ident: str, entries: list[Entry]) -> ComponentSummary:
        first = _first(entries)
        return ComponentSummary(ident, first.name, first.ecosystem, _versions(entries))

    changed = []
    for ident in sorted(before.keys() & after.keys()):
        a, b = _versions(before[ident]), _versions(after[ident])
        if a != b:
            first = _first(after[ident])
            changed.append(VersionChange(ident, first.name, first.ecosystem, a, b))
    services, gone = _service_changes(old, new)
    new_gaps, gaps_gone = _gap_changes(old, new)
    return Diff(
        old=old,
        new=new,
        compared=compared,
        not_compared=not_compared,
        added=tuple(summary(i, after[i]) for i in sorted(after.keys() - before.keys())),
        removed=tuple(summary(i, before[i]) for i in sorted(before.keys() - after.keys())),
        changed=tuple(changed),
        new_owners=_new_owners(old, new),
        new_sources=_new_sources(_common(old, new, "sources"), before, after),
        hashes=_hash_changes(before, after) if _common(old, new, "hashes") else (),
        attestations=(
            _attestation_changes(before, after) if _common(old, new, "attestations") else ()
        ),
        new_native=_new_native(before, after) if _common(old, new, "native") else (),
        services=services,
        services_gone=gone,
        new_gaps=new_gaps,
        gaps_gone=gaps_gone,
    )


def _same_subject(old: Document, new: Document) -> Document:
    """Two scans of a folder that is no project are of the same thing, whatever the
    folder is called (``pkg:generic/<folder name>``): NEW's subject takes OLD's identity."""
    a, b = old.subject, new.subject
    if (
        not a
        or not b
        or a == b
        or not (a.startswith("pkg:generic/") and b.startswith("pkg:generic/"))
    ):
        return new
    return replace(
        new,
        subject=a,
        components=tuple(replace(e, identity=a) if e.identity == b else e for e in new.components),
        gaps=tuple(replace(g, subject=a) if g.subject == b else g for g in new.gaps),
    )


def _new_owners(old: Document, new: Document) -> tuple[NewOwner, ...]:
    vocabulary = _common(old, new, "owners")
    known = {(o, _eco(e)) for e in old.components for origin, o in e.owners if origin in vocabulary}
    owned: dict[tuple[str, str, str], set[str]] = {}
    for e in new.components:
        for origin, owner in e.owners:
            if origin in vocabulary and (owner, _eco(e)) not in known:
                owned.setdefault((owner, _eco(e), origin), set()).add(e.identity)
    return tuple(
        NewOwner(owner, eco, origin, tuple(sorted(idents)))
        for (owner, eco, origin), idents in sorted(owned.items())
    )


def _new_sources(
    vocabulary: frozenset[str], before: Groups, after: Groups
) -> tuple[NewSource, ...]:
    def sources(entries: list[Entry]) -> set[str]:
        return {
            s
            for e in entries
            for v, s in e.sources
            if v in vocabulary and not (e.ecosystem in _IS_ITS_REPOSITORY and s.startswith("vcs "))
        }

    per_old = {ident: sources(entries) for ident, entries in before.items()}
    used = set().union(*per_old.values()) if per_old else set()
    found: dict[tuple[str, str], set[str]] = {}
    for ident, entries in after.items():
        for source in sources(entries):
            if source not in used:
                found.setdefault((source, "new"), set()).add(ident)
            elif ident in per_old and source not in per_old[ident]:
                found.setdefault((source, "component"), set()).add(ident)
    return tuple(
        NewSource(source, via, tuple(sorted(idents)))
        for (source, via), idents in sorted(found.items())
    )


def _hash_changes(before: Groups, after: Groups) -> tuple[HashChange, ...]:
    out = []
    for ident in sorted(before.keys() & after.keys()):
        first = _first(after[ident])
        if any(e.hashes for e in before[ident]) and not any(e.hashes for e in after[ident]):
            out.append(HashChange(ident, first.name, "lost", _versions(after[ident])))
            continue
        same: set[str | None] = set()
        for version in {e.version for e in before[ident]} & {e.version for e in after[ident]}:
            was = {h for e in before[ident] if e.version == version for h in e.hashes}
            now = {h for e in after[ident] if e.version == version for h in e.hashes}
            if was and now and not was & now:
                same.add(version)
        if same:
            out.append(HashChange(ident, first.name, "changed", _sorted_versions(same)))
    return tuple(out)


def _attestation_changes(before: Groups, after: Groups) -> tuple[AttestationChange, ...]:
    out = []
    for ident in sorted(before.keys() & after.keys()):
        first = _first(after[ident])
        was = {e.attestation for e in before[ident]}
        now = {e.attestation for e in after[ident]}
        if "present" in was and now == {"none"}:
            out.append(AttestationChange(ident, first.name, "present", "none"))
        elif any(e.verified == "verified" for e in before[ident]) and any(
            e.verified == "failed" for e in after[ident]
        ):
            out.append(AttestationChange(ident, first.name, "verified", "failed"))
    return tuple(out)


def _new_native(before: Groups, after: Groups) -> tuple[NativeChange, ...]:
    was_native = {ident for ident, entries in before.items() if _native_kinds(entries)}
    out = []
    for ident in sorted(after):
        kinds = _native_kinds(after[ident])
        if kinds and ident not in was_native:
            first = _first(after[ident])
            out.append(
                NativeChange(ident, first.name, first.ecosystem, kinds, _versions(after[ident]))
            )
    return tuple(out)


def _service_changes(
    old: Document, new: Document
) -> tuple[tuple[ServiceChange, ...], tuple[ServiceChange, ...]]:
    if not _common(old, new, "services"):
        return (), ()
    was = {s.key: s for s in old.services}
    now = {s.key: s for s in new.services}
    changes = []
    for key in sorted(now):
        s = now[key]
        if key not in was:
            changes.append(ServiceChange(key, s.name, "added", s.endpoints, s.trust_boundary))
        elif s.trust_boundary is True and was[key].trust_boundary is not True:
            changes.append(
                ServiceChange(key, s.name, "now across a trust boundary", s.endpoints, True)
            )
    gone = tuple(
        ServiceChange(key, was[key].name, "removed", was[key].endpoints, was[key].trust_boundary)
        for key in sorted(was.keys() - now.keys())
    )
    return tuple(changes), gone


def _gap_changes(
    old: Document, new: Document
) -> tuple[tuple[GapChange, ...], tuple[GapChange, ...]]:
    vocabulary = _common(old, new, "gaps")
    was = _gap_index(g for g in old.gaps if g.vocabulary in vocabulary)
    now = _gap_index(g for g in new.gaps if g.vocabulary in vocabulary)
    added = []
    for key in sorted(now):
        gap, before = now[key], was.get(key)
        if before is None:
            added.append(_gap_change(gap))
        elif SEVERITIES.index(gap.severity) > SEVERITIES.index(before.severity):
            added.append(_gap_change(gap, before.severity))
    gone = [_gap_change(was[k]) for k in sorted(was.keys() - now.keys())]
    return tuple(sorted(added, key=_gap_order)), tuple(sorted(gone, key=_gap_order))


def _gap_order(g: GapChange) -> tuple[int, str, str, str]:
    return (-SEVERITIES.index(g.severity), g.id, g.subject, g.advisory)


def _sorted_versions(versions: Iterable[str | None]) -> tuple[str | None, ...]:
    return tuple(sorted(set(versions), key=lambda v: (v is not None, v or "")))


_OWNER_REALMS = {"githubactions": "github"}
"""Ecosystems whose owners are another's: an action's owner is a GitHub namespace."""


def _eco(entry: Entry) -> str:
    """Where an owner's name means someone: its ecosystem (GitHub for an action)."""
    ecosystem = entry.ecosystem or "unknown"
    return _OWNER_REALMS.get(ecosystem, ecosystem)


def _native_kinds(entries: list[Entry]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                k
                for e in entries
                if (e.ecosystem or "unknown") not in _NOT_NATIVE
                for k in e.kinds
                if k in {"static", "dynamic"}
            }
        )
    )


def _gap_index(gaps: Iterable[GapEntry]) -> dict[tuple[str, str, str], GapEntry]:
    """Gaps by (gap id, subject, advisory); of several, the most severe (then the first
    message) stands for them all."""
    out: dict[tuple[str, str, str], GapEntry] = {}
    for g in gaps:
        key = (g.id, g.subject, g.advisory)
        known = out.get(key)
        if known is None or (SEVERITIES.index(g.severity), known.message) > (
            SEVERITIES.index(known.severity),
            g.message,
        ):
            out[key] = g
    return out


def _gap_change(g: GapEntry, was: str | None = None) -> GapChange:
    return GapChange(g.id, g.severity, g.subject, g.advisory, g.message, g.where, was)
