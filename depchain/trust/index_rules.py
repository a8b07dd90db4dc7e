"""The gaps only the package index can show: one small function per gap ID, each given
a component and what :func:`depchain.enrich.pypi.enrich` learned about it.

Unknown is a value here, never a pass: ownership that could not be learned is not
trusted (DC015 says it is unknown) and is not counted as a single owner (DC016 is not
reported on what is not known). Gaps about a release's files (DC006, DC007, DC013) are
reported only when the index listed the release's files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from depchain.model import Component, Evidence, Finding, SourceKind
from depchain.trust.catalogue import BY_ID, Severity

if TYPE_CHECKING:
    from depchain.enrich.pypi import Enrichment

Gap = tuple[str, str]
"""(gap ID, message)."""


@dataclass(frozen=True)
class _Policy:
    owners: frozenset[str]
    orgs: frozenset[str]

    @property
    def active(self) -> bool:
        return bool(self.owners or self.orgs)


IndexRule = Callable[[Component, "Enrichment", _Policy], Iterator[Gap]]


def _where(e: Enrichment) -> str:
    return f"{e.name} {e.version}" if e.version else e.name


def _host(e: Enrichment) -> str:
    from urllib.parse import urlsplit

    return urlsplit(e.index).hostname or e.index


def sdist_only(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC006: the release has an sdist and no wheel: its build code runs at install."""
    if e.sdist_only:
        yield (
            "DC006",
            (
                f"{_where(e)} has no wheel on {_host(e)}, only an sdist: installing it runs its "
                "build code"
            ),
        )


def no_attestation(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC007: the release has files and none has a PEP 740 attestation that verifies or
    could be verified (one that does not verify is DC021; one that could not be checked
    is not trusted either, and is said here with the reason)."""
    if not e.files:
        return
    attested = [f for f in e.files if f.attestation == "present"]
    if attested:
        if all(f.verified is None for f in attested):
            yield (
                "DC007",
                (
                    f"the attestation of {_where(e)} on {_host(e)} could not be verified: "
                    f"{attested[0].verification or 'no reason given'}"
                ),
            )
        return
    unknown = [f for f in e.files if f.attestation == "unknown"]
    if len(unknown) == len(e.files):
        message = (
            f"no provenance attestation is known for {_where(e)}: {_host(e)} was not asked "
            f"or does not say ({len(e.files)} file(s)); unknown is not trusted"
        )
    else:
        message = (
            f"none of the {len(e.files)} file(s) of {_where(e)} on {_host(e)} has a "
            "provenance attestation"
        )
        if unknown:
            message += f" ({len(unknown)} could not be checked)"
    yield "DC007", message


def publisher_differs(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC008: an attestation's publisher repository is not the declared source repository
    (GitHub and GitLab URLs compared in a normal form; a renamed or transferred
    repository shows here too, and is worth a look for that reason)."""
    from depchain.enrich.repos import normalize_repository, publisher_repository

    if e.source_repository is None:
        return  # DC018 says so; there is nothing to compare with
    declared = normalize_repository(e.source_repository)
    seen: set[str] = set()
    for publisher in e.publishers:
        built = publisher_repository(publisher.kind, publisher.repository)
        if built is None or built == declared or built in seen:
            continue
        seen.add(built)
        yield (
            "DC008",
            (
                f"{_where(e)} was published from {built} ({publisher.kind} "
                f"{publisher.workflow or 'workflow unknown'}), but the project declares "
                f"{e.source_repository} as its source"
            ),
        )


def attestation_fails(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC021: a file's attestation was checked and does not verify (one that could not be
    checked is not a finding: the report says ``unverified``)."""
    for f in e.files:
        if f.attestation == "present" and f.verified is False:
            yield (
                "DC021",
                (
                    f"the attestation of {f.filename} on {_host(e)} does not verify: "
                    f"{f.verification or 'no reason given'}"
                ),
            )


def project_status(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC022 (quarantined) and DC023 (archived, deprecated): the PEP 792 status."""
    status = (e.project_status or "").lower()
    reason = f": {e.project_status_reason}" if e.project_status_reason else ""
    if status == "quarantined":
        yield "DC022", f"{e.name} is quarantined on {_host(e)}{reason}"
    elif status in {"archived", "deprecated"}:
        yield "DC023", f"{e.name} is {status} on {_host(e)}{reason}"


def yanked(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC013: the release is yanked."""
    if e.yanked:
        reason = f": {e.yanked_reason}" if e.yanked_reason else " (no reason given)"
        yield "DC013", f"{_where(e)} is yanked on {_host(e)}{reason}"


def name_absent(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC014: the index has never heard of the name."""
    if e.name_absent:
        yield (
            "DC014",
            (
                f"{e.name} is not on {_host(e)}: anyone could register the name there, and an "
                "installer that consults it would take theirs"
            ),
        )


def owner_not_trusted(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC015 (only with a policy): the project is trusted when its organization is
    trusted (an organization's owners manage its projects' roles), or when it has no
    organization and every user with a role on it is a trusted owner. Unknown
    ownership is never trusted."""
    if not policy.active or e.name_absent:
        return
    if not e.ownership_known:
        yield (
            "DC015",
            (
                f"the owners of {e.name} are unknown ({e.ownership_reason or 'no answer'}); "
                "unknown is never trusted"
            ),
        )
        return
    orgs = {o.lower() for o in policy.orgs}
    owners = {o.lower() for o in policy.owners}
    if e.organization is not None and e.organization.lower() in orgs:
        return
    users = sorted({user for user, _ in e.roles})
    untrusted = ([f"organization {e.organization}"] if e.organization else []) + [
        u for u in users if u.lower() not in owners
    ]
    if (users or e.organization) and not untrusted:
        return
    yield (
        "DC015",
        (
            f"{e.name} can be published by {', '.join(untrusted) or 'nobody the index lists'}, "
            "not in the trusted owners or organizations"
        ),
    )


def single_owner(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC016: exactly one user has a role and no organization owns the project."""
    if not e.ownership_known or e.organization is not None:
        return
    users = sorted({user for user, _ in e.roles})
    if len(users) == 1:
        yield "DC016", f"{e.name} can be published by one account only: {users[0]}"


def no_source_repository(c: Component, e: Enrichment, policy: _Policy) -> Iterator[Gap]:
    """DC018: the project declares no source repository."""
    if e.project_known and e.source_repository is None:
        yield (
            "DC018",
            (
                f"{e.name} declares no source repository on {_host(e)} (no Source or Repository "
                "URL, no home page on a code host)"
            ),
        )


INDEX_RULES: tuple[IndexRule, ...] = (
    sdist_only,
    no_attestation,
    publisher_differs,
    attestation_fails,
    project_status,
    yanked,
    name_absent,
    owner_not_trusted,
    single_owner,
    no_source_repository,
)


def index_gaps(
    components: Iterable[Component],
    enrichment: Mapping[tuple[str, str | None], Enrichment],
    evidence_of: Callable[[str], tuple[Evidence, ...]],
    trusted_owners: Iterable[str] = frozenset(),
    trusted_orgs: Iterable[str] = frozenset(),
) -> list[Finding]:
    """The index-based gaps (DC006-DC008, DC013-DC016, DC018, DC021-DC023) of
    the Python distributions among ``components``, most severe first.

    ``enrichment`` is what :func:`~depchain.enrich.pypi.enrich` returned, keyed by
    (name, version) as asked; ``evidence_of(component_id)`` gives the manifest entries
    that brought a component in (the component's own evidence is used when it gives
    none; a finding with no evidence at all is dropped, as everywhere). DC015 needs a
    policy: with both ``trusted_owners`` and ``trusted_orgs`` empty it is not reported.
    Components not from a registry (VCS, URL, path) and the scanned project are skipped.
    """
    from packaging.utils import canonicalize_name

    policy = _Policy(frozenset(trusted_owners), frozenset(trusted_orgs))
    by_canonical = {(canonicalize_name(n), v): e for (n, v), e in enrichment.items()}
    found: set[Finding] = set()
    for component in components:
        if component.ecosystem != "pypi" or component.type.value == "application":
            continue
        if any(s.kind is not SourceKind.REGISTRY for s in component.sources):
            continue
        e = enrichment.get((component.name, component.version)) or by_canonical.get(
            (canonicalize_name(component.name), component.version)
        )
        if e is None:
            continue
        evidence = tuple(evidence_of(component.id)) or component.evidence
        if not evidence:
            continue
        for rule in INDEX_RULES:
            for gap, message in rule(component, e, policy):
                severity = BY_ID[gap].severity.value
                found.add(Finding(gap, severity, message, component.id, evidence))
    return sorted(found, key=lambda f: (-Severity(f.severity).rank, f.id, f.component, f.evidence))
