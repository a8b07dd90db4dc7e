"""Version ordering for the OSV ecosystems depchain evaluates ranges in.

Each scheme turns a version string into a key that orders as the ecosystem does, or
``None`` when the string is no version of that scheme (the caller then falls back to an
advisory's explicit ``versions`` list):

- ``pep440``: PyPI, through :class:`packaging.version.Version`;
- ``semver``: SemVer 2.0 precedence (section 11), as OSV's ``SEMVER`` ranges, crates.io,
  npm and Go use it. A leading ``v`` is dropped (Go's ``v1.2.3``), build metadata
  (``+incompatible``) does not take part, and a missing minor or patch counts as 0 (Go's
  ``1.21``). Go pseudo-versions (``v0.0.0-20190308221718-c2843e01d9a2``) are SemVer
  pre-releases and order as Go orders them;
- ``dpkg``: Debian's ``[epoch:]upstream[-revision]`` comparison (Debian policy 5.6.12),
  ``~`` before everything, even the end of the string.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from packaging.version import InvalidVersion, Version

__all__ = [
    "DpkgVersion",
    "dpkg_compare",
    "equal_versions",
    "parse_dpkg",
    "parse_pep440",
    "parse_semver",
    "scheme_for",
    "version_key",
]

MAX_VERSION_LENGTH = 256
"""Longer strings are no version of any scheme (and would only cost time)."""

_SCHEMES: dict[str, str] = {
    "pypi": "pep440",
    "crates.io": "semver",
    "go": "semver",
    "npm": "semver",
    "hex": "semver",
    "pub": "semver",
    "swifturl": "semver",
    "debian": "dpkg",
    "ubuntu": "dpkg",
}
"""Ecosystem (lower case, without a ``:release`` suffix) -> the scheme its ``ECOSYSTEM``
ranges are ordered by. Ecosystems missing here have no ordering in depchain: only
their ``SEMVER`` ranges and explicit ``versions`` lists can be evaluated."""


def scheme_for(ecosystem: str) -> str | None:
    """The ordering scheme of an OSV ecosystem (``Debian:12`` is Debian's), or None."""
    return _SCHEMES.get(ecosystem.split(":", 1)[0].strip().lower())


# -- PEP 440 -------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def parse_pep440(text: str) -> Version | None:
    if len(text) > MAX_VERSION_LENGTH:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


# -- SemVer 2.0 ----------------------------------------------------------------------

_SEMVER = re.compile(
    r"v?(0|[0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?",
    re.ASCII,
)

SemverKey = tuple[int, int, int, tuple[Any, ...]]


@functools.lru_cache(maxsize=65536)
def parse_semver(text: str) -> SemverKey | None:
    """The precedence key of a SemVer 2.0 version: (major, minor, patch, pre-release),
    where a release sorts after each of its pre-releases, numeric identifiers compare
    as numbers and before alphanumeric ones, and a shorter list of identifiers sorts
    first when the rest are equal. Build metadata is dropped."""
    if len(text) > MAX_VERSION_LENGTH:
        return None
    match = _SEMVER.fullmatch(text.strip())
    if match is None:
        return None
    major, minor, patch, pre, _build = match.groups()
    if pre is None:
        release: tuple[Any, ...] = (1,)
    else:
        identifiers = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
        )
        release = (0, identifiers)
    return int(major), int(minor or 0), int(patch or 0), release


# -- Debian (dpkg) -------------------------------------------------------------------


def _order(char: str) -> int:
    """dpkg's weight of one character of a non-digit run: letters first, then the
    others, with ``~`` before everything (even the end of the part)."""
    if char == "~":
        return -1
    if char.isalpha() and char.isascii():
        return ord(char)
    return ord(char) + 256


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of two upstream versions (or two revisions)."""
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        # the non-digit prefixes, character by character
        while (i < la and not a[i].isdigit()) or (j < lb and not b[j].isdigit()):
            ac = _order(a[i]) if i < la and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < lb and not b[j].isdigit() else 0
            if ac != bc:
                return ac - bc
            if i < la and not a[i].isdigit():
                i += 1
            if j < lb and not b[j].isdigit():
                j += 1
        # the digit runs, as numbers
        while i < la and a[i] == "0":
            i += 1
        while j < lb and b[j] == "0":
            j += 1
        start_a, start_b = i, j
        while i < la and a[i].isdigit():
            i += 1
        while j < lb and b[j].isdigit():
            j += 1
        digits_a, digits_b = a[start_a:i], b[start_b:j]
        if len(digits_a) != len(digits_b):
            return len(digits_a) - len(digits_b)
        if digits_a != digits_b:
            return -1 if digits_a < digits_b else 1
    return 0


@functools.total_ordering
class DpkgVersion:
    """A Debian version, ordered by :func:`dpkg_compare`."""

    __slots__ = ("epoch", "revision", "text", "upstream")

    def __init__(self, text: str, epoch: int, upstream: str, revision: str) -> None:
        self.text = text
        self.epoch = epoch
        self.upstream = upstream
        self.revision = revision

    def _cmp(self, other: DpkgVersion) -> int:
        if self.epoch != other.epoch:
            return self.epoch - other.epoch
        return _verrevcmp(self.upstream, other.upstream) or _verrevcmp(
            self.revision, other.revision
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DpkgVersion):
            return NotImplemented
        return self._cmp(other) == 0

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DpkgVersion):
            return NotImplemented
        return self._cmp(other) < 0

    def __hash__(self) -> int:
        # versions equal under dpkg may differ in text ("1.0" and "1.00", no revision
        # and "-0"): only the epoch is safe to hash
        return hash(self.epoch)

    def __repr__(self) -> str:
        return f"DpkgVersion({self.text!r})"


@functools.lru_cache(maxsize=65536)
def parse_dpkg(text: str) -> DpkgVersion | None:
    """``[epoch:]upstream[-revision]``: the epoch is digits, the revision what follows
    the last hyphen; the upstream version should start with a digit (dpkg warns
    otherwise) and is accepted anyway, as dpkg does."""
    text = text.strip()
    if not text or len(text) > MAX_VERSION_LENGTH:
        return None
    epoch = 0
    rest = text
    if ":" in text:
        head, rest = text.split(":", 1)
        if not head.isdigit() or not head.isascii():
            return None
        epoch = int(head)
    upstream, revision = rest, ""
    if "-" in rest:
        upstream, revision = rest.rsplit("-", 1)
        if not revision:
            return None
    if not upstream or not re.fullmatch(r"[0-9A-Za-z.+~:-]+", upstream, re.ASCII):
        return None
    if revision and not re.fullmatch(r"[0-9A-Za-z.+~]+", revision, re.ASCII):
        return None
    return DpkgVersion(text, epoch, upstream, revision)


def dpkg_compare(a: str, b: str) -> int:
    """<0, 0, >0 as ``dpkg --compare-versions a lt|eq|gt b``; ValueError for a string
    that is no Debian version."""
    pa, pb = parse_dpkg(a), parse_dpkg(b)
    if pa is None or pb is None:
        raise ValueError("not a Debian version")
    result = pa._cmp(pb)
    return (result > 0) - (result < 0)


# -- dispatch ------------------------------------------------------------------------


def version_key(scheme: str, text: str) -> Any | None:
    """The ordering key of ``text`` in ``scheme`` (``pep440``, ``semver``, ``dpkg``), or
    None when it is no version there. Keys of one scheme compare with each other."""
    if scheme == "pep440":
        return parse_pep440(text)
    if scheme == "semver":
        return parse_semver(text)
    if scheme == "dpkg":
        return parse_dpkg(text)
    return None


def equal_versions(scheme: str | None, a: str, b: str) -> bool:
    """Whether two version strings name the same version: the same text, or (for a
    known scheme) the same key (``3.2`` and ``3.2.0`` in PEP 440, ``v1.2.3`` and
    ``1.2.3`` in Go)."""
    if a == b:
        return True
    if scheme is None:
        return False
    ka, kb = version_key(scheme, a), version_key(scheme, b)
    return ka is not None and ka == kb
