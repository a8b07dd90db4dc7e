"""Package URLs and the names in them."""

from __future__ import annotations

import re
import sys
from functools import lru_cache

from packaging.utils import canonicalize_name

from depchain.model import Component, ComponentType, Evidence, Hash, Source, SourceKind
from depchain.redaction import redact_url

_HASH_NAMES = {"sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512", "sha-1": "sha1"}


def normalize(name: str) -> str:
    """PEP 503 normalised project name (also the purl spelling for pypi)."""
    return str(canonicalize_name(name))


_PLAIN = re.compile(r"[a-z0-9][a-z0-9.-]*")
"""A name that is the same after purl's lower-casing and percent-encoding."""
_PLAIN_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@lru_cache(maxsize=65536)
def purl(
    ptype: str,
    name: str,
    version: str | None = None,
    namespace: str | None = None,
    qualifiers: tuple[tuple[str, str], ...] = (),
) -> str:
    """The canonical Package URL string (packageurl-python encodes each part; a plain
    ``pkg:type/name@version``, whose parts need no encoding, is written directly)."""
    shown = normalize(name) if ptype == "pypi" else name
    if (
        not qualifiers
        and namespace is None
        and _PLAIN.fullmatch(ptype)
        and _PLAIN.fullmatch(shown)
        and (version is None or _PLAIN_VERSION.fullmatch(version))
    ):
        return f"pkg:{ptype}/{shown}" + (f"@{version}" if version else "")
    from packageurl import PackageURL  # deferred: not needed on the fast path

    if not shown.strip("/") or (namespace is not None and not namespace.strip("/")):
        from depchain.errors import InvalidValue
        from depchain.redaction import quote

        raise InvalidValue(f"{quote(name)} is not a package name")

    # a qualifier's URL keeps no credential or token (the string encodes its '@')
    return redact_url(
        str(
            PackageURL(
                type=ptype,
                namespace=namespace,
                name=shown,
                version=version,
                qualifiers={k: redact_url(v) for k, v in qualifiers} or None,
            ).to_string()
        )
    )


_VCS_PREFIX = re.compile(r"(git|hg|svn|bzr)\+")
_SCP_LIKE = re.compile(
    r"(?P<user>[A-Za-z0-9._~%!$&'()*+,;=-]+@)?(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r":(?!//)(?P<path>[^\s]+)"
)


def vcs_uri(url: str) -> str:
    """A repository location as a URI: git's scp-like syntax ``[user@]host:path``
    (``git@github.com:owner/repo.git``, also behind a ``git+`` prefix) becomes
    ``ssh://[user@]host/path``, which git, pip and Cargo read as the same repository
    and which CycloneDX, SPDX and purl accept. Anything else is returned as written.

    A relative scp path (``host:repo.git``) is relative to the login's home on the
    server; it is written as ``ssh://host/repo.git``, as npm and Cargo write it, because
    every hosting service (GitHub, GitLab, Bitbucket) serves both at the same place.
    A host must carry a user (``git@``) or a dot, so that ``C:path`` stays a path."""
    prefix = ""
    m = _VCS_PREFIX.match(url)
    if m:
        prefix, url = m.group(0), url[m.end() :]
    if "://" not in url:
        scp = _SCP_LIKE.fullmatch(url)
        if scp is not None and (scp.group("user") or "." in scp.group("host")):
            path = scp.group("path").lstrip("/")
            url = f"ssh://{scp.group('user') or ''}{scp.group('host')}/{path}"
    return prefix + url


@lru_cache(maxsize=65536)
def normalize_version(version: str) -> str:
    """PEP 440 normal form (``3.2.0.dev`` is ``3.2.0.dev0``), so that a manifest and its
    lockfile name one release the same way; left as written when it is not PEP 440."""
    from packaging.version import InvalidVersion, Version

    if len(version) > 256:  # no release is named so; parsing it costs the digits
        return version
    try:
        return str(Version(version))
    except (InvalidVersion, ValueError):  # ValueError: more digits than int() takes
        return version


_HASH = re.compile(r"\s*([A-Za-z0-9-]+)[:=]([0-9A-Fa-f]{16,})\s*")


def parse_hash(text: str) -> Hash | None:
    """``sha256:abc...`` or ``sha256=abc...`` as a :class:`Hash`; None when malformed."""
    m = _HASH.fullmatch(text)
    if not m:
        return None
    algorithm = m.group(1).lower()
    return Hash(sys.intern(_HASH_NAMES.get(algorithm, algorithm)), m.group(2).lower())


def pypi_component(
    name: str,
    version: str | None,
    evidence: Evidence,
    *,
    sources: tuple[Source, ...] = (),
    hashes: tuple[Hash, ...] = (),
    ctype: ComponentType = ComponentType.LIBRARY,
) -> Component:
    """A Python distribution. Its id is its purl, qualified by where it comes from when
    that is not a package index (a VCS commit, an archive URL), so that two different
    things with the same name and version never merge."""
    qualifiers: tuple[tuple[str, str], ...] = ()
    for source in sources:
        if source.kind is SourceKind.VCS and source.url:
            ref = source.commit or source.ref
            qualifiers = (("vcs_url", source.url + (f"@{ref}" if ref else "")),)
            break
        if source.kind is SourceKind.URL and source.url:
            qualifiers = (("download_url", source.url),)
            break
    version = normalize_version(version) if version else version
    ident = purl("pypi", name, version, qualifiers=qualifiers)
    return Component(
        id=ident,
        name=name,
        ecosystem="pypi",
        version=version,
        type=ctype,
        purl=ident,
        hashes=hashes,
        sources=sources,
        evidence=(evidence,),
    )


def generic_component(
    name: str, evidence: Evidence, ctype: ComponentType = ComponentType.APPLICATION
) -> Component:
    ident = purl("generic", name)
    return Component(
        id=ident, name=name, ecosystem="generic", type=ctype, purl=ident, evidence=(evidence,)
    )


IDENTITY_QUALIFIERS = frozenset({"repository_url"})
"""The purl qualifiers that say *which* thing this is (a registry other than the
default); the others (digest, vcs_url, download_url, checksum, ...) say which build or
version of it, and change on an upgrade."""


def identity(component_id: str) -> str:
    """A component id without its version and its version-like qualifiers:
    ``pkg:docker/bitnami/redis@7?digest=sha256:...&repository_url=ghcr.io`` →
    ``pkg:docker/bitnami/redis?repository_url=ghcr.io``. Ids that are not purls are
    returned as they are."""
    if not component_id.startswith("pkg:"):
        return component_id
    head, _, qualifiers = component_id.partition("?")
    qualifiers = qualifiers.partition("#")[0]
    kept = sorted(
        pair
        for pair in qualifiers.split("&")
        if pair.partition("=")[0] in IDENTITY_QUALIFIERS and pair.partition("=")[2]
    )
    head = head.partition("@")[0] if "@" in head.rpartition("/")[2] else head
    return f"{head}?{'&'.join(kept)}" if kept else head
