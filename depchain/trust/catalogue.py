"""The gap catalogue: each kind of trust gap has a stable ID, a default severity, a
title, an explanation and a fix hint. IDs never change meaning; retired ones are not
reused."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Case:
    """A case in which a gap is found at another severity than its default."""

    key: str
    """What the rule that finds the gap names the case by."""
    severity: Severity
    when: str
    """The case, as the README and ``depchain explain`` say it (after "for")."""


@dataclass(frozen=True)
class Gap:
    id: str
    severity: Severity
    title: str
    explanation: str
    fix: str
    needs_index: bool = False
    """Found only with package-index data (``--online`` enrichment), not from files."""
    cases: tuple[Case, ...] = ()
    """Per-case severities; ``severity`` holds in every other case."""

    def severity_for(self, case: str | None = None) -> Severity:
        """The severity of the gap in ``case`` (one of :attr:`cases`' keys), else the
        default; an unknown key is a bug."""
        if case is None:
            return self.severity
        for known in self.cases:
            if known.key == case:
                return known.severity
        raise KeyError(f"{self.id} has no case {case!r}")

    @property
    def severity_text(self) -> str:
        """``medium; high for a branch``: the default, then each case."""
        return "; ".join(
            [self.severity.value, *(f"{c.severity.value} for {c.when}" for c in self.cases)]
        )


CATALOGUE: tuple[Gap, ...] = (
    Gap(
        "DC001",
        Severity.MEDIUM,
        "Unpinned requirement",
        "The version installed is whatever the index serves on the day: a new release by "
        "anyone who can publish the name enters without review.",
        "Pin it (== in a lockfile or a compiled requirements file), or lock the project.",
        cases=(Case("build", Severity.LOW, "a build, test or development dependency"),),
    ),
    Gap(
        "DC002",
        Severity.LOW,
        "No hash",
        "A pinned version without a hash trusts the index to serve the same bytes forever.",
        "Record hashes (pip-compile --generate-hashes, uv/poetry/pdm locks) and install "
        "with --require-hashes.",
    ),
    Gap(
        "DC003",
        Severity.HIGH,
        "Extra or second index (dependency confusion)",
        "With --extra-index-url (or several indexes) pip takes the highest version from any "
        "of them: a public package with an internal name wins.",
        "Use a single index that proxies the others, or pin each name to its index "
        "(uv's explicit indexes, Poetry's source = ...).",
    ),
    Gap(
        "DC004",
        Severity.HIGH,
        "Direct URL or VCS reference on a mutable ref",
        "A branch, tag or archive URL can move: the code behind it changes without a "
        "change to this repository.",
        "Pin the full commit SHA (git+https://...@<40-hex>) or a hashed archive.",
    ),
    Gap(
        "DC005",
        Severity.LOW,
        "Local or editable path",
        "The code comes from a folder, not from a release anyone published or reviewed.",
        "Fine for the project's own packages; otherwise depend on a released version.",
    ),
    Gap(
        "DC006",
        Severity.MEDIUM,
        "Sdist-only release",
        "Installing an sdist runs its build code on the installing machine.",
        "Prefer releases with wheels, or build wheels once in a controlled place.",
        needs_index=True,
    ),
    Gap(
        "DC007",
        Severity.LOW,
        "No provenance attestation",
        "Nothing ties the published files to a source repository and a build.",
        "Ask upstream to publish with PEP 740 attestations (trusted publishing).",
        needs_index=True,
    ),
    Gap(
        "DC008",
        Severity.HIGH,
        "Attestation publisher differs from the declared source",
        "The files were built somewhere other than the repository the project declares.",
        "Check with the maintainers before trusting the release.",
        needs_index=True,
    ),
    Gap(
        "DC009",
        Severity.MEDIUM,
        "Action on a tag or branch instead of a full SHA",
        "A tag or branch can be moved to other code by whoever controls the action's "
        "repository, and CI runs it with this repository's secrets.",
        "Pin `uses:` to the full commit SHA and keep the version in a trailing comment.",
        cases=(Case("branch", Severity.HIGH, "a branch (it moves with every push)"),),
    ),
    Gap(
        "DC010",
        Severity.MEDIUM,
        "Image without digest",
        "An image tag can be re-pushed: what runs changes without a change here.",
        "Pin images by digest (name:tag@sha256:...).",
    ),
    Gap(
        "DC011",
        Severity.MEDIUM,
        "System library owned by no package",
        "No package manager vouches for this file: its origin and updates are unknown.",
        "Install it from the distribution's packages, or record where it came from.",
    ),
    Gap(
        "DC012",
        Severity.MEDIUM,
        "Vendored code without a version record",
        "Copied code whose version is not written down cannot be matched to advisories.",
        "Record every vendored package with its exact version (vendor.txt or an SBOM).",
    ),
    Gap(
        "DC013",
        Severity.HIGH,
        "Yanked release",
        "The maintainers withdrew this release.",
        "Move to a release that is not yanked.",
        needs_index=True,
    ),
    Gap(
        "DC014",
        Severity.HIGH,
        "Name absent from the public index",
        "An internal name that anyone could register on the public index.",
        "Register the name (a placeholder) or pin it to the private index.",
        needs_index=True,
    ),
    Gap(
        "DC015",
        Severity.MEDIUM,
        "Owner not in the trusted set",
        "Whoever can publish this (a Python package's organization or users, an action's "
        "or image's owner, a system package's maintainer) is not among the owners the "
        "policy trusts for its ecosystem, or is unknown. On PyPI it needs package-index "
        "data.",
        "Review the owners and add them to [tool.depchain] trusted owners, or replace it.",
    ),
    Gap(
        "DC016",
        Severity.LOW,
        "Single owner",
        "One account can publish a new version: one stolen credential is enough.",
        "Prefer projects with an organisation or several maintainers.",
        needs_index=True,
    ),
    Gap(
        "DC017",
        Severity.HIGH,
        "Owners changed since the ledger",
        "Who can publish this package changed since the team accepted it.",
        "Review the new owners, then update the trust ledger.",
        needs_index=True,
    ),
    Gap(
        "DC018",
        Severity.LOW,
        "No source repository declared",
        "Nothing says where the code is developed, so it cannot be reviewed there.",
        "Ask upstream to declare project_urls; prefer projects that do.",
        needs_index=True,
    ),
    Gap(
        "DC019",
        Severity.HIGH,
        "Service reached across a trust boundary without TLS or authentication",
        "Traffic to a host outside the deployment can be read or changed on the way, or "
        "the service accepts anyone.",
        "Use TLS (https, rediss, sslmode=require, ...) and authenticate.",
        cases=(
            Case(
                "authentication",
                Severity.MEDIUM,
                "a service reached with TLS but without authentication",
            ),
        ),
    ),
    Gap(
        "DC020",
        Severity.MEDIUM,
        "Expired suppression",
        "A suppression's expiry date has passed: the risk it accepted has to be looked at "
        "again, and the gap it hid is reported again.",
        "Fix the gap, or renew the suppression with a fresh reason and a new expiry date.",
    ),
    Gap(
        "DC021",
        Severity.HIGH,
        "Attestation does not verify",
        "The index serves a provenance attestation for this file that fails verification: "
        "its signature, its certificate's publisher identity or its subject (the file's "
        "name and sha256) does not hold.",
        "Do not install the file until the maintainers or the index explain it; report it "
        "to the index's security team.",
        needs_index=True,
    ),
    Gap(
        "DC022",
        Severity.CRITICAL,
        "Project quarantined by the index",
        "The index has quarantined the project (PEP 792), usually on a malware report: its "
        "files are not installable and its contents are suspect.",
        "Remove the dependency and check the machines that installed it.",
        needs_index=True,
    ),
    Gap(
        "DC023",
        Severity.LOW,
        "Project archived or deprecated",
        "The maintainers say the project will get no more releases (PEP 792): security "
        "fixes included.",
        "Plan a move to a maintained replacement.",
        needs_index=True,
    ),
    Gap(
        "DC024",
        Severity.HIGH,
        "Known vulnerability",
        "An advisory says this version of the component is vulnerable. Its severity is the "
        "advisory's CVSS rating where it gives a vector, else the advisory's own word; "
        "one that says neither counts as high.",
        "Upgrade to a fixed version (the finding names them), or record why it does not "
        "apply with an [[tool.depchain.ignore]] entry that has a reason and an expiry.",
        cases=(
            Case("critical", Severity.CRITICAL, "a critical advisory"),
            Case("medium", Severity.MEDIUM, "a medium one"),
            Case("low", Severity.LOW, "a low one"),
            Case("none", Severity.INFO, "one rated none"),
        ),
    ),
    Gap(
        "DC025",
        Severity.MEDIUM,
        "New trust relationship",
        "A dependency, or an index it may come from, that the trust ledger does not hold: "
        "nobody has made this trust explicit yet.",
        "Review it, then record it with 'depchain accept --why TEXT' and commit the ledger; "
        "or remove it.",
        cases=(Case("build", Severity.LOW, "a build, test or development dependency"),),
    ),
    Gap(
        "DC026",
        Severity.LOW,
        "Native library carried at several versions",
        "Several distributions carry their own copy of one native library (bundled, or "
        "linked in statically) at different versions: each copy is fixed only when the "
        "wheel that carries it is rebuilt, and several TLS stacks in one process each "
        "keep their own certificate handling, configuration and patch level.",
        "Align the wheels on one version where you can (upgrade the one that lags), and "
        "follow each copy's advisories; prefer builds that use one shared library.",
        cases=(Case("tls", Severity.MEDIUM, "a TLS library (OpenSSL, BoringSSL, LibreSSL)"),),
    ),
)
BY_ID = {gap.id: gap for gap in CATALOGUE}
