"""The vulnerability-source interface: what a source is asked, and what it answers.

One interface, two families of implementation (see the README's "Known
vulnerabilities"): pip-audit's own services online (:mod:`depchain.vulns.pipaudit`) and
depchain's offline OSV source over advisory folders and archives
(:mod:`depchain.vulns.osv`). A source never raises for one package it cannot check:
"could not check" is data (:class:`NotAudited`), so that no component is ever passed
in silence. A source that cannot work at all (an archive that cannot be read, a service
that cannot be reached) raises :class:`SourceError` with one line saying what to do.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from depchain.errors import DepchainError

ECOSYSTEMS: dict[str, str] = {
    "pypi": "PyPI",
    "cargo": "crates.io",
    "golang": "Go",
    "deb": "Debian",
    "apk": "Alpine",
    "npm": "npm",
    "gem": "RubyGems",
    "maven": "Maven",
    "nuget": "NuGet",
}
"""depchain's ecosystems (purl types) and OSV's names for them."""


class Severity(str, enum.Enum):
    """An advisory's severity: the CVSS rating where a vector is given, else the
    advisory's own word, else unknown (which ``--fail-on`` treats as ``high``)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Query:
    """One component to audit: its id in the graph and what an advisory matches on."""

    component: str
    """The component's id (its Package URL)."""
    ecosystem: str
    """OSV's ecosystem name (``PyPI``, ``crates.io``, ``Go``, ``Debian``...)."""
    name: str
    """As the ecosystem writes it (PyPI names normalised by the source)."""
    version: str
    """The exact version installed or pinned."""


@dataclass(frozen=True, slots=True)
class Cvss:
    vector: str
    """``CVSS:3.1/AV:N/...`` as the record gives it."""
    score: float | None
    """The base score computed from the vector, where it can be."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """One advisory as it affects one component at its version."""

    id: str
    """The advisory's own id (``PYSEC-2021-9``, ``GHSA-...``, ``RUSTSEC-...``, ``GO-...``)."""
    aliases: tuple[str, ...]
    """Every other id of the same advisory (CVE, GHSA...), merged from all sources."""
    summary: str
    severity: Severity
    cvss: tuple[Cvss, ...] = ()
    fixed_in: tuple[str, ...] = ()
    """Versions that fix it, for this package, in the ecosystem's order."""
    published: str | None = None
    """ISO 8601, as the record gives it."""
    modified: str | None = None
    references: tuple[str, ...] = ()
    """Advisory and report URLs (at most a few)."""
    source: str = ""
    """The name of the source that reported it (``osv-offline``, ``pip-audit-osv``...)."""

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True, slots=True)
class NotAudited:
    """A component a source could not check, and why (no exact version, an ecosystem
    it does not cover, a lookup that failed or timed out)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source is, for the report: its name, where its data comes from, and how
    old that data is."""

    name: str
    location: str
    """A folder, an archive, a service URL (credentials redacted)."""
    updated: str | None = None
    """ISO 8601 date of the data (an archive's download date, the newest record's
    ``modified``); None for a live service."""
    records: int | None = None
    ecosystems: tuple[str, ...] = ()


class SourceError(DepchainError):
    """A source that cannot work at all: an unreadable ``--vuln-db``, an unreachable
    service. One line, saying what to do."""


class VulnerabilitySource(Protocol):
    """A source of advisories. ``query_all`` answers every query it is given, each with
    the advisories that affect it (possibly none) or a :class:`NotAudited` reason."""

    @property
    def info(self) -> SourceInfo: ...

    def covers(self, query: Query) -> bool:
        """Whether this source can say anything about the query's ecosystem."""
        ...

    def query_all(
        self, queries: Sequence[Query]
    ) -> Mapping[Query, list[Advisory] | NotAudited]: ...


@dataclass
class AuditReport:
    """The outcome of auditing a graph: per component, what was found or why it was not
    audited, and which sources were used."""

    found: dict[str, list[Advisory]] = field(default_factory=dict)
    """component id -> advisories (one per advisory, aliases merged), most severe first."""
    audited: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """component id -> the names of the sources that checked it."""
    not_audited: dict[str, str] = field(default_factory=dict)
    """component id -> why no source checked it."""
    sources: list[SourceInfo] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Sources the user asked for that failed (one line each)."""
    notes: list[str] = field(default_factory=list)
    """What the sources said of their data: malformed records skipped, matching caveats."""

    @property
    def complete(self) -> bool:
        """Every component audited by some source, and no source failed: only then may a
        report say "no known vulnerabilities"."""
        return not self.not_audited and not self.errors and bool(self.sources)
