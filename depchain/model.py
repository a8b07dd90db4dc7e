"""The dependency model: components, services, the four edge kinds, and evidence.

Everything here is a frozen dataclass built from tuples, so a fragment a resolver
returns can be shared, hashed and merged without copies going stale.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, TypeVar

from depchain.redaction import redact_url as redact_url  # re-exported

_T = TypeVar("_T")


class DependencyKind(str, enum.Enum):
    """How a component is depended upon (the seed's taxonomy)."""

    BUILD = "build"
    """Needed to build, test or package; not shipped."""
    STATIC = "static"
    """Carried inside the shipped artifact, fixed at build time."""
    DYNAMIC = "dynamic"
    """Resolved from the environment when the program starts or imports."""
    SERVICE = "service"
    """Contacted over an API at run time."""


class Scope(str, enum.Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    DEV = "dev"


class ComponentType(str, enum.Enum):
    APPLICATION = "application"
    LIBRARY = "library"
    FRAMEWORK = "framework"
    CONTAINER = "container"
    OPERATING_SYSTEM = "operating-system"
    FILE = "file"


class SourceKind(str, enum.Enum):
    """Where the bytes of a component come from."""

    REGISTRY = "registry"
    VCS = "vcs"
    URL = "url"
    PATH = "path"


class Role(str, enum.Enum):
    """What an input file is for in its project (see :mod:`depchain.roles`)."""

    RUNTIME = "runtime"
    """What the project ships and runs with."""
    BUILD = "build"
    """Builds or packages the project (a packaging Dockerfile, a build recipe)."""
    DEV = "dev"
    """Developer and CI tooling: scripts, benchmarks, editor and CI configuration."""
    TEST = "test"
    """What the test suite needs to run."""
    EXAMPLE = "example"
    """Examples, demos and samples of using the project."""
    DOCS = "docs"
    """What builds the documentation."""
    FIXTURE = "fixture"
    """Test data describing other, imaginary projects: nobody's dependency."""


@dataclass(frozen=True, order=True, slots=True)
class Evidence:
    """Where a fact was seen: a file (relative to the scan root), a line, a resolver,
    and the role that file plays in its project."""

    path: str
    line: int | None
    resolver: str
    role: Role = Role.RUNTIME

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where} ({self.resolver})"


@dataclass(frozen=True, order=True, slots=True)
class Hash:
    algorithm: str
    """Lower-case hashlib name: sha256, sha512, md5, ..."""
    value: str

    @property
    def well_formed(self) -> bool:
        """The value is a hex digest of the algorithm's length (what an SBOM schema
        accepts; a resolver that let another through must not sink a whole export)."""
        length = _DIGEST_HEX.get(self.algorithm)
        return length is not None and len(self.value) == length and _is_hex(self.value)


_DIGEST_HEX = {
    "md5": 32,
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
    "sha3_256": 64,
    "sha3_384": 96,
    "sha3_512": 128,
    "blake2b_256": 64,
    "blake2b_384": 96,
    "blake2b_512": 128,
}
"""Hex characters in a digest of each algorithm."""


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


@dataclass(frozen=True, order=True, slots=True)
class IndexRef:
    """A package index or link location a requirement may be fetched from."""

    role: str
    """``primary`` (replaces the default index), ``extra`` (consulted besides it),
    ``find-links``, or ``pinned`` (this name is pinned to this index)."""
    url: str
    declared: Evidence | None = None
    """Where the index was named (the ``--extra-index-url`` line), where known."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", redact_url(self.url))


@dataclass(frozen=True, order=True, slots=True)
class Source:
    """One origin of a component's bytes.

    kind REGISTRY: ``url`` is the index (``None`` for "the default index, not named").
    kind VCS: ``url`` is the repository, ``ref`` what was asked for, ``commit`` the
    resolved immutable commit where one is recorded.
    kind URL: ``url`` is the archive.  kind PATH: ``url`` is the path, ``editable`` tells.
    """

    kind: SourceKind
    url: str | None = None
    ref: str | None = None
    commit: str | None = None
    editable: bool = False
    subdirectory: str | None = None

    def __post_init__(self) -> None:
        if self.url is not None:  # credentials never enter the model
            object.__setattr__(self, "url", redact_url(self.url))


@dataclass(frozen=True, order=True, slots=True)
class License:
    """A component's licence, as its authors declared it (never concluded by depchain).

    ``expression`` is an SPDX licence expression in normal form (see
    :mod:`depchain.licenses`) where what was declared is one; otherwise ``ids`` and
    ``names`` hold what was declared (SPDX ids, and licence names SPDX does not know,
    as written) without saying how they combine (several trove classifiers do not say
    AND or OR). Nothing in all three: declared, but not as anything SPDX or a short
    name can hold (a whole licence text); ``unknown`` says why."""

    expression: str | None = None
    ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    source: str = "unknown"
    """Where it was declared: ``License-Expression``, ``License``, ``Classifier`` (an
    installed or packed distribution's core metadata), ``pyproject``,
    ``index:license_expression``, ``index:license``, ``index:classifiers``, ``pep770``,
    ``debian-copyright``, ..."""
    unknown: str | None = None
    """Why nothing SPDX or named could be read, in one line (None: something was)."""

    @property
    def known(self) -> bool:
        return bool(self.expression or self.ids or self.names)


@dataclass(frozen=True, order=True, slots=True)
class Contact:
    """A person or organization named by a component's metadata (an author, a
    maintainer); either part may be missing."""

    name: str | None = None
    email: str | None = None
    role: str = "author"
    """``author`` or ``maintainer``."""


@dataclass(frozen=True, order=True, slots=True)
class Link:
    """A URL a component's metadata declares, by what it is: ``vcs``, ``website``,
    ``issue-tracker``, ``documentation``, ``distribution``, ``release-notes``,
    ``chat``, ``funding``, ``other`` (the CycloneDX external reference types, which
    SPDX's reference categories can be mapped from)."""

    kind: str
    url: str
    label: str | None = None
    """The label it was declared with (``Source``, ``Bug Tracker``), if any."""

    def __post_init__(self) -> None:  # credentials never enter the model
        object.__setattr__(self, "url", redact_url(self.url))


@dataclass(frozen=True, slots=True)
class Component:
    """Anything depended upon. ``id`` is its Package URL where one exists."""

    id: str
    name: str
    ecosystem: str
    """``pypi``, ``generic``, ``cargo``, ``deb``, ... (the purl type)."""
    version: str | None = None
    type: ComponentType = ComponentType.LIBRARY
    purl: str | None = None
    hashes: tuple[Hash, ...] = ()
    sources: tuple[Source, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    license: License | None = None
    """The declared licence, where something declared it (None: nothing read said)."""
    authors: tuple[Contact, ...] = ()
    """Authors and maintainers, as the component's metadata names them."""
    description: str | None = None
    """One line on what it is (a distribution's ``Summary``)."""
    links: tuple[Link, ...] = ()
    """The URLs its metadata declares: repository, home page, issue tracker, ..."""

    def merged(self, other: Component) -> Component:
        """This component with what ``other`` (the same id) knows added."""
        return replace(
            self,
            version=self.version or other.version,
            purl=self.purl or other.purl,
            type=self.type if self.type != ComponentType.LIBRARY else other.type,
            hashes=_union(self.hashes, other.hashes),
            sources=_union(self.sources, other.sources),
            evidence=_union(self.evidence, other.evidence, MAX_EVIDENCE),
            properties=_union(self.properties, other.properties),
            license=_better_license(self.license, other.license),
            authors=_union(self.authors, other.authors),
            description=self.description or other.description,
            links=_union(self.links, other.links),
        )


def _better_license(a: License | None, b: License | None) -> License | None:
    """Of two declarations of the same component's licence, the one that says more: an
    SPDX expression before ids and names, anything known before an unknown; the first
    when both say as much (merges keep the first reader's)."""
    if a is None or b is None:
        return a or b

    def rank(x: License) -> int:
        return 3 if x.expression else 2 if x.ids else 1 if x.names else 0

    return b if rank(b) > rank(a) else a


def merge_component(components: dict[str, Component], component: Component) -> Component:
    """Put ``component`` in ``components`` (by id), merged with what is already there
    under its id; returns what is there now."""
    known = components.get(component.id)
    merged = component if known is None else known.merged(component)
    components[component.id] = merged
    return merged


@dataclass(frozen=True, slots=True)
class Service:
    """Something contacted over an API: not a component (CycloneDX ``services``).

    ``id`` is ``service:<kind>:<where>`` (``service:postgresql:db:5432``,
    ``service:compose:redis``); endpoints never carry credentials.
    """

    id: str
    name: str
    endpoints: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    image: str | None = None
    """The container image that runs it, where one does (compose, Kubernetes)."""
    trust_boundary: bool | None = None
    """True: reached across a trust boundary (an external host); False: inside the
    deployment (a service of this repository's compose file); None: not known."""
    properties: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoints", tuple(redact_url(e) for e in self.endpoints))

    def merged(self, other: Service) -> Service:
        boundary = self.trust_boundary
        if boundary is None or other.trust_boundary is True:
            boundary = other.trust_boundary if other.trust_boundary is not None else boundary
        return replace(
            self,
            endpoints=_union(self.endpoints, other.endpoints),
            evidence=_union(self.evidence, other.evidence, MAX_EVIDENCE),
            image=self.image or other.image,
            trust_boundary=boundary,
            properties=_union(self.properties, other.properties),
        )


@dataclass(frozen=True, slots=True)
class Dependency:
    """One edge: ``source`` depends on ``target`` in exactly one way (``kind``)."""

    source: str
    target: str
    kind: DependencyKind
    scope: Scope
    mechanism: str
    """How the dependency is expressed or resolved: ``requirement``, ``build-system``,
    ``lock``, ``extra``, ``dependency-group``, ``import``, ``elf``, ``bundled``, ..."""
    evidence: tuple[Evidence, ...] = ()
    specifier: str | None = None
    """The version constraint as written (``>=2,<3``), if any."""
    marker: str | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    """The extras or dependency groups that bring it in, if any."""
    indexes: tuple[IndexRef, ...] = ()
    """Indexes the requirement may be fetched from, as its manifest declares them
    (empty: the default index)."""
    hashes: tuple[Hash, ...] = ()
    """Hashes the manifest requires for this requirement."""

    def __post_init__(self) -> None:
        if self.specifier is not None:  # a direct URL written as the specifier
            object.__setattr__(self, "specifier", redact_url(self.specifier))

    @property
    def key(self) -> tuple[str, str, str]:
        """Edges between the same pair merge when kind, scope and mechanism agree."""
        return (self.kind.value, self.scope.value, self.mechanism)

    def merged(self, other: Dependency) -> Dependency:
        return replace(
            self,
            evidence=_union(self.evidence, other.evidence, MAX_EVIDENCE),
            specifier=self.specifier or other.specifier,
            marker=self.marker or other.marker,
            extras=_union(self.extras, other.extras),
            groups=_union(self.groups, other.groups),
            indexes=_union(self.indexes, other.indexes),
            hashes=_union(self.hashes, other.hashes),
        )


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    """A trust gap: which catalogue entry, how bad, about what, and where it came in.
    A finding without evidence is never shown."""

    id: str
    """The gap's catalogue ID (``DC001``...)."""
    severity: str
    message: str
    component: str
    """The component or service it is about."""
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, order=True, slots=True)
class InputError:
    """An input that could not be read, in one line: the file and what is wrong."""

    path: str
    message: str

    def __post_init__(self) -> None:  # never a credential in a message
        object.__setattr__(self, "path", redact_url(self.path))
        object.__setattr__(self, "message", redact_url(self.message))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class Fragment:
    """What one resolver learned from one input file."""

    components: tuple[Component, ...] = ()
    services: tuple[Service, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    errors: tuple[InputError, ...] = ()
    subjects: tuple[str, ...] = field(default=())
    """Ids of the components this file describes (a project, a workspace member)."""
    notes: tuple[tuple[str, str], ...] = ()
    """(path, message): what was seen but deliberately not read (``setup.py``)."""


def sort_key(value: object) -> Any:
    """A total order over model values, where ``None`` sorts first and never meets a str."""
    if isinstance(value, enum.Enum):
        return (1, value.value)
    if is_dataclass(value) and not isinstance(value, type):
        return (1, tuple(sort_key(getattr(value, f.name)) for f in fields(value)))
    if isinstance(value, tuple):
        return (1, tuple(sort_key(v) for v in value))
    return (0, "") if value is None else (1, value)


MAX_EVIDENCE = 64
"""Places kept per component or edge: the first in order. A name repeated on thousands
of lines is one dependency; keeping every line would make each merge cost them all
(the fuzzer's vendor.txt of 3,000 identical lines)."""


def _union(a: tuple[_T, ...], b: tuple[_T, ...], limit: int | None = None) -> tuple[_T, ...]:
    """The sorted union, cut to its first ``limit`` items when given (the first
    ``limit`` of a union do not depend on the order of the merges)."""
    if not b:
        return a
    if not a and (limit is None or len(b) <= limit):
        return b
    seen = dict.fromkeys(a)
    fresh = [x for x in b if x not in seen]
    if not fresh:
        return a
    if limit is not None and len(a) >= limit:
        # ``a`` is a merge's result, sorted and full: only what sorts before its last
        # item can enter (a line repeated 5,000 times costs a comparison each, not a sort)
        last = sort_key(a[-1])
        fresh = [x for x in fresh if sort_key(x) < last]
        if not fresh:
            return a
    seen.update(dict.fromkeys(fresh))
    merged = sorted(seen, key=sort_key)
    return tuple(merged if limit is None else merged[:limit])
