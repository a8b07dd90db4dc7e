"""The explicit-trust policy: ``[tool.depchain]`` in ``pyproject.toml``, or a
``depchain.toml`` beside it (where the same keys stand at the top level, or under
``[tool.depchain]``).

.. code-block:: toml

    [tool.depchain]
    fail-on = "high"

    [tool.depchain.trusted.pypi]          # per ecosystem: owners, organizations, indexes
    organizations = ["psf", "pypa"]
    owners = ["nateprewitt"]
    indexes = ["https://pypi.internal.example.com/simple"]

    [tool.depchain.trusted.githubactions]
    owners = ["actions", "pypa"]

    [tool.depchain.severity]              # per gap: a severity, or "off"
    DC002 = "off"

    [[tool.depchain.suppress]]            # each with a reason and an expiry date
    id = "DC009"
    component = "actions/checkout"        # a component id, or its name
    reason = "pinned by dependabot within a week"
    expires = 2027-01-31

    # who makes the SBOMs (depchain sbom --author / --manufacturer override them):
    #   sbom-author = "Platform security team", sbom-manufacturer = "Example Corp"
    # which files are read, and in which role: beside fail-on above,
    #   exclude = ["vendor-samples/**"], include = [...] (only what these match is read)
    [tool.depchain.roles]                 # glob = runtime|build|dev|test|example|docs|fixture
    "deploy/requirements-worker.txt" = "runtime"

Unknown is never trusted: an owner that is not known is not in any trusted set. An
expired suppression no longer hides its gap and is itself a finding (DC020).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from depchain.errors import InputFileError
from depchain.fileio import MAX_FILE_SIZE, parse_toml, read_text
from depchain.model import Component, Evidence, Finding, InputError, Role
from depchain.redaction import quote
from depchain.resolvers.base import LineIndex
from depchain.roles import RoleRule
from depchain.trust.catalogue import BY_ID, Severity

_SEVERITIES = {s.value for s in Severity}


@dataclass(frozen=True)
class Suppression:
    gap: str
    component: str
    reason: str
    expires: dt.date
    evidence: Evidence


@dataclass(frozen=True)
class Ignore:
    """``[[tool.depchain.ignore]]``: an advisory (by any of its ids) that does not apply,
    for one component or every one, with a reason and an expiry."""

    advisory: str
    reason: str
    expires: dt.date
    evidence: Evidence
    component: str | None = None

    def matches(self, ids: tuple[str, ...], component: str, name: str | None) -> bool:
        wanted = self.advisory.upper()
        if wanted not in {i.upper() for i in ids}:
            return False
        return self.component is None or _names(self.component, component, name)


@dataclass(frozen=True)
class Trusted:
    owners: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    indexes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    trusted: dict[str, Trusted] = field(default_factory=dict)
    """Per ecosystem (``pypi``, ``githubactions``, ``docker``, ``deb``, ...)."""
    severities: dict[str, str] = field(default_factory=dict)
    fail_on: str | None = None
    suppressions: tuple[Suppression, ...] = ()
    source: str | None = None
    """The file the policy came from; None: no policy (nothing is trusted)."""
    folder: Path | None = None
    """The folder of that file (where its ledger is looked for)."""
    include: tuple[str, ...] = ()
    """Globs: when given, only the paths they match are read."""
    exclude: tuple[str, ...] = ()
    """Globs of paths never read (listed in the report's notes)."""
    roles: tuple[RoleRule, ...] = ()
    """``[tool.depchain.roles]``: glob = role, overriding the role a file is given."""
    ignores: tuple[Ignore, ...] = ()
    """``[[tool.depchain.ignore]]``: advisories that do not apply, until they expire."""
    sbom_author: str | None = None
    """``sbom-author``: who authors the SBOMs made of this project (a person or team:
    CycloneDX ``metadata.authors``); ``depchain sbom --author`` overrides it."""
    sbom_manufacturer: str | None = None
    """``sbom-manufacturer``: the organization that makes the SBOMs and the product
    (CycloneDX ``metadata.manufacturer``); ``depchain sbom --manufacturer`` overrides it."""

    def trusts(self, component: Component) -> bool:
        """The policy names whoever can publish ``component``: on PyPI its organization
        (an organization's owners manage its projects), or else every user with a role
        on it; elsewhere its owner (an action's or image's namespace, a package's
        maintainer). Unknown is never trusted."""
        from depchain.trust.surface import owner_of, pypi_ownership

        trusted = self.trusted.get(component.ecosystem, Trusted())
        if component.ecosystem == "pypi":
            organization, users = pypi_ownership(component)
            if organization is not None:
                return organization.lower() in {o.lower() for o in trusted.organizations}
            owners = {o.lower() for o in trusted.owners}
            return bool(users) and all(u.lower() in owners for u in users)
        owner = owner_of(component)
        if owner is None:
            return False
        names = {o.lower() for o in trusted.owners | trusted.organizations}
        return owner.lower() in names

    def trusted_indexes(self) -> frozenset[str]:
        """The trusted indexes of every ecosystem, in normal form (:func:`index_key`)."""
        return frozenset(index_key(i) for t in self.trusted.values() for i in t.indexes)


def index_key(url: str) -> str:
    """An index URL in a form fit for comparison: scheme and host in lower case, default
    port dropped, no credentials, query or fragment, no trailing slash."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip().lower()
    scheme = parts.scheme.lower()
    if port is not None and (scheme, port) not in {("https", 443), ("http", 80)}:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


ECOSYSTEMS = (
    "pypi",
    "githubactions",
    "github",
    "docker",
    "deb",
    "rpm",
    "cargo",
    "golang",
    "conan",
    "vcpkg",
    "generic",
)
"""The ecosystems a ``[tool.depchain.trusted.<ecosystem>]`` table may name."""

_KEYS = {
    "trusted",
    "severity",
    "fail-on",
    "suppress",
    "include",
    "exclude",
    "roles",
    "ignore",
    "sbom-author",
    "sbom-manufacturer",
}
_IGNORE_KEYS = {"id", "component", "reason", "expires"}
_TRUSTED_KEYS = ("owners", "organizations", "indexes")
_SUPPRESS_KEYS = {"id", "component", "reason", "expires"}


def load_policy(
    root: Path, path: Path | None = None, max_size: int = MAX_FILE_SIZE
) -> tuple[Policy, list[InputError]]:
    """The policy for a scan of ``root``, and its problems: the file ``path`` when given
    (``--policy``), else the first ``depchain.toml`` or ``pyproject.toml`` with a
    ``[tool.depchain]`` table in ``root`` or a folder above it, up to the top of the git
    work tree ``root`` is in (``root`` alone outside one). A policy file that cannot be
    read is an error, never an empty policy in silence."""
    if path is not None:
        if not path.is_file():
            return Policy(), [InputError(str(path), "no such policy file")]
        found, errors = _load(path, str(path), explicit=True, max_size=max_size)
        if found.source is None and not errors:
            errors = [InputError(str(path), "names no policy (no [tool.depchain] keys)")]
        return found, errors
    start = root.resolve()
    for folder in policy_folders(root):
        for name in ("depchain.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                display = os.path.relpath(candidate, start) if folder != start else name
                found, errors = _load(
                    candidate, display.replace(os.sep, "/"), explicit=False, max_size=max_size
                )
                if found.source is not None or errors:
                    return found, errors
    return Policy(), []


def policy_folders(root: Path) -> list[Path]:
    """``root``, then each folder above it up to the top of its git work tree."""
    start = root.resolve()
    chain = [start, *start.parents]
    top = next((i for i, folder in enumerate(chain) if (folder / ".git").exists()), None)
    return chain[: top + 1] if top is not None else [start]


def _load(
    path: Path, display: str, explicit: bool, max_size: int = MAX_FILE_SIZE
) -> tuple[Policy, list[InputError]]:
    """One policy file: ``depchain.toml`` (keys at the top level or under
    ``[tool.depchain]``) or any other TOML file with ``[tool.depchain]``."""
    try:
        text = read_text(path, display, max_size)
        data = parse_toml(text, display)
    except InputFileError as exc:
        return Policy(), [InputError(exc.path, exc.message)]
    tool = data.get("tool")
    table = tool.get("depchain") if isinstance(tool, dict) else None
    top_level = path.name == "depchain.toml" or (explicit and path.name != "pyproject.toml")
    if table is None and top_level and "tool" not in data:
        table = data  # keys at the top level (a file with a [tool] table keeps them there)
    if table is not None and not isinstance(table, dict):
        return Policy(), [InputError(display, "[tool.depchain] is not a table")]
    if not table:
        return Policy(), []
    policy, errors = _parse(table, display, LineIndex(text))
    return replace(policy, folder=path.resolve().parent), errors


def _parse(
    table: dict[str, Any], display: str, lines: LineIndex
) -> tuple[Policy, list[InputError]]:
    errors: list[InputError] = []

    def error(message: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        errors.append(InputError(display, f"{where}[tool.depchain] {message}"))

    def table_of(key: str) -> dict[str, Any]:
        value = table.get(key, {})
        if isinstance(value, dict):
            return value
        error(f"{key} is {_toml_type(value)}, not a table ([tool.depchain.{key}])")
        return {}

    for key in sorted(set(table) - _KEYS):
        error(f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
    trusted: dict[str, Trusted] = {}
    for ecosystem, entry in table_of("trusted").items():
        if ecosystem not in ECOSYSTEMS:
            error(f"trusted.{ecosystem}: no such ecosystem (known: {', '.join(ECOSYSTEMS)})")
            continue
        if not isinstance(entry, dict):
            error(f"trusted.{ecosystem} is {_toml_type(entry)}, not a table")
            continue
        unknown = sorted(set(entry) - set(_TRUSTED_KEYS))
        if unknown:
            error(
                f"trusted.{ecosystem}: unknown key(s) {', '.join(unknown)} "
                f"(known: {', '.join(_TRUSTED_KEYS)})"
            )
        values = {k: entry.get(k, []) for k in _TRUSTED_KEYS}
        if any(
            not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v)
            for v in values.values()
        ):
            error(
                f"trusted.{ecosystem}: owners, organizations and indexes are lists of "
                "non-empty strings"
            )
            continue
        trusted[ecosystem] = Trusted(
            frozenset(v.strip() for v in values["owners"]),
            frozenset(v.strip() for v in values["organizations"]),
            frozenset(v.strip() for v in values["indexes"]),
        )
    severities: dict[str, str] = {}
    for gap, value in table_of("severity").items():
        line = lines.find(tables=("tool.depchain.severity", "severity"), key=gap)
        if gap not in BY_ID:
            error(f"severity: no gap {gap!r} (depchain explain lists them)", line)
        elif not isinstance(value, str) or value not in _SEVERITIES | {"off"}:
            error(
                f"severity.{gap}: {value!r} is not off, info, low, medium, high or critical", line
            )
        else:
            severities[gap] = value
    fail_on = table.get("fail-on")
    if fail_on is not None and (not isinstance(fail_on, str) or fail_on not in _FAIL_ON):
        error(f"fail-on: {fail_on!r} is not info, low, medium, high, critical or never")
        fail_on = None
    suppressions: list[Suppression] = []
    entries = table.get("suppress", [])
    if not isinstance(entries, list):
        error(
            f"suppress is {_toml_type(entries)}, not an array of tables "
            "([[tool.depchain.suppress]])"
        )
        entries = []
    for number, entry in enumerate(entries):
        line = _nth_header(lines, number)
        if not isinstance(entry, dict):
            error("suppress: an entry that is not a table", line)
            continue
        found = _suppression(entry, display, line)
        if isinstance(found, str):
            error(found, line)
        else:
            suppressions.append(found)
    globs: dict[str, tuple[str, ...]] = {}
    for key in ("include", "exclude"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            error(f"{key} is a list of non-empty glob strings", lines.find(key=key))
            value = []
        globs[key] = tuple(v.strip() for v in value)
    rules: list[RoleRule] = []
    for pattern, role in table_of("roles").items():
        line = lines.find(tables=("tool.depchain.roles", "roles"), key=pattern)
        try:
            chosen = Role(role) if isinstance(role, str) else None
        except ValueError:
            chosen = None
        if chosen is None or not pattern.strip():
            error(
                f"roles: {pattern!r} = {role!r}: the role is one of "
                + ", ".join(r.value for r in Role),
                line,
            )
            continue
        rules.append(RoleRule(pattern.strip(), chosen, f"{display}:{line}" if line else display))
    ignores: list[Ignore] = []
    entries = table.get("ignore", [])
    if not isinstance(entries, list):
        error(f"ignore is {_toml_type(entries)}, not an array of tables ([[tool.depchain.ignore]])")
        entries = []
    for number, entry in enumerate(entries):
        found_line = lines.table("tool.depchain.ignore", "ignore", nth=number)
        line = None if found_line is None else found_line + 1
        if not isinstance(entry, dict):
            error("ignore: an entry that is not a table", line)
            continue
        parsed = _ignore(entry, display, line)
        if isinstance(parsed, str):
            error(parsed, line)
        else:
            ignores.append(parsed)
    sbom: dict[str, str | None] = {}
    for key in ("sbom-author", "sbom-manufacturer"):
        value = table.get(key)
        if value is not None and (
            not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 200
        ):
            error(f"{key} is a name on one line (at most 200 characters)", lines.find(key=key))
            value = None
        sbom[key] = " ".join(value.split()) if isinstance(value, str) else None
    return Policy(
        trusted,
        severities,
        fail_on,
        tuple(suppressions),
        display,
        include=globs["include"],
        exclude=globs["exclude"],
        roles=tuple(rules),
        ignores=tuple(ignores),
        sbom_author=sbom["sbom-author"],
        sbom_manufacturer=sbom["sbom-manufacturer"],
    ), errors


def _ignore(entry: dict[str, Any], display: str, line: int | None) -> Ignore | str:
    """One ``[[ignore]]`` entry, or what is wrong with it."""
    advisory, component = entry.get("id"), entry.get("component")
    reason, expires = entry.get("reason"), entry.get("expires")
    unknown = sorted(set(entry) - _IGNORE_KEYS)
    if not isinstance(advisory, str) or not advisory.strip():
        return 'ignore: names no advisory (id = "GHSA-...", "PYSEC-...", "CVE-...")'
    said = quote(advisory.strip())
    if unknown:
        return (
            f"ignore {said}: unknown key(s) {', '.join(unknown)} (id, component, reason, expires)"
        )
    if component is not None and (not isinstance(component, str) or not component.strip()):
        return f"ignore {said}: component is not a name or id"
    if not isinstance(reason, str) or not reason.strip():
        return f"ignore {said}: an ignore needs a reason"
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    if not isinstance(expires, dt.date):
        return f"ignore {said}: an ignore needs an expiry date (expires = 2027-01-31)"
    return Ignore(
        advisory.strip(),
        reason.strip(),
        expires,
        Evidence(display, line, "policy"),
        component.strip() if isinstance(component, str) else None,
    )


_FAIL_ON = _SEVERITIES | {"never"}


def _suppression(entry: dict[str, Any], display: str, line: int | None) -> Suppression | str:
    """One ``[[suppress]]`` entry, or what is wrong with it."""
    gap, component = entry.get("id"), entry.get("component")
    reason, expires = entry.get("reason"), entry.get("expires")
    unknown = sorted(set(entry) - _SUPPRESS_KEYS)
    if not isinstance(gap, str) or gap not in BY_ID:
        return f"suppress: no gap {gap!r} (depchain explain lists them)"
    if not isinstance(component, str) or not component.strip():
        return f"suppress {gap}: names no component"
    if unknown:
        return (
            f"suppress {gap} {component}: unknown key(s) {', '.join(unknown)} (a suppression "
            "has id, component, reason and expires; it covers every version of the component)"
        )
    if not isinstance(reason, str) or not reason.strip():
        return f"suppress {gap} {component}: a suppression needs a reason"
    if isinstance(expires, dt.datetime):
        expires = expires.date()  # a time of day adds nothing to an expiry date
    if not isinstance(expires, dt.date):
        return (
            f"suppress {gap} {component}: a suppression needs an expiry date (expires = 2027-01-31)"
        )
    return Suppression(
        gap, component.strip(), reason.strip(), expires, Evidence(display, line, "policy")
    )


def _toml_type(value: object) -> str:
    from depchain.yamlpositions import type_name

    return type_name(value, mapping="a table", sequence="an array")


def _nth_header(lines: LineIndex, n: int) -> int | None:
    found = lines.table("tool.depchain.suppress", "suppress", nth=n)
    return None if found is None else found + 1


def untrusted_owners(
    components: list[Component], policy: Policy, evidence_of: Callable[[str], tuple[Evidence, ...]]
) -> list[Finding]:
    """DC015 outside PyPI (where the index rules say it): each component of an ecosystem
    the policy names trusted owners for, whose owner is not among them or is unknown."""
    from depchain.trust.surface import owner_of

    found = []
    for component in components:
        ecosystem = component.ecosystem
        trusted = policy.trusted.get(ecosystem)
        if ecosystem == "pypi" or trusted is None:
            continue
        if not (trusted.owners or trusted.organizations) or policy.trusts(component):
            continue
        evidence = evidence_of(component.id)
        if not evidence:
            continue  # nothing depends on it (the scanned project): not a trust placed
        owner = owner_of(component)
        message = (
            f"{component.name} is owned by {owner}, not in the trusted owners of {ecosystem}"
            if owner is not None
            else f"the owner of {component.name} is unknown; unknown is never trusted"
        )
        found.append(
            Finding("DC015", BY_ID["DC015"].severity.value, message, component.id, evidence)
        )
    return found


def apply(
    findings: list[Finding],
    policy: Policy,
    today: dt.date | None = None,
    names: dict[str, str] | None = None,
    unused: list[tuple[Suppression, str]] | None = None,
) -> list[Finding]:
    """Findings as the policy wants them: severities changed or turned off, unexpired
    suppressions applied, expired ones reported (DC020, unless that is off). Trusted
    indexes are taken out before, by the rules (:func:`~depchain.trust.rules.find_gaps`).

    ``names``: component id → name, for every component of the scan. A suppression
    names a component by its id, or its id without version (qualifiers that name a
    registry kept), or by its bare name (PyPI names in their normal form, others in any
    case) when that name is one ecosystem's only. ``unused``: filled with each live
    suppression that hid nothing, and why. ``today``: the date expiries are compared
    with (the UTC date by default)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    names = names or {}
    ambiguous = {s: e for s in policy.suppressions if len(e := _ecosystems(s, names)) > 1}
    used: set[Suppression] = set()
    out: list[Finding] = []
    for finding in findings:
        severity = policy.severities.get(finding.id, finding.severity)
        if severity == "off":
            continue
        live = [
            s
            for s in policy.suppressions
            if s.gap == finding.id
            and s.expires >= today
            and s not in ambiguous
            and _names(s.component, finding.component, names.get(finding.component))
        ]
        if live:
            used.update(live)
            continue
        out.append(replace(finding, severity=severity))
    dc020 = policy.severities.get("DC020", BY_ID["DC020"].severity.value)
    for s in policy.suppressions:
        if s.expires < today:
            if dc020 != "off":
                out.append(
                    Finding(
                        "DC020",
                        dc020,
                        f"the suppression of {s.gap} for {s.component} expired on "
                        f"{s.expires.isoformat()} (reason given: {s.reason})",
                        s.component,
                        (s.evidence,),
                    )
                )
        elif unused is not None and s in ambiguous:
            unused.append(
                (
                    s,
                    f"names components of several ecosystems ({', '.join(ambiguous[s])}): "
                    "name it by its pkg: id; it hides nothing until then",
                )
            )
        elif unused is not None and s not in used:
            unused.append((s, "matches no finding"))
    return out


def _ecosystems(s: Suppression, names: dict[str, str]) -> list[str]:
    """The purl types of the components a bare-name suppression names."""
    if s.component.startswith("pkg:"):
        return []
    return sorted(
        {
            ident.partition("/")[0]
            for ident, name in names.items()
            if ident.startswith("pkg:") and _names(s.component, ident, name)
        }
    )


def _names(wanted: str, component_id: str, name: str | None) -> bool:
    """Whether a suppression's ``component`` names this component."""
    from depchain.ids import identity

    if wanted.startswith("pkg:"):
        return wanted in {component_id, identity(component_id)}
    if wanted == component_id:
        return True
    if name is None:
        return False
    if component_id.startswith("pkg:pypi/"):
        from packaging.utils import canonicalize_name

        return canonicalize_name(wanted) == canonicalize_name(name)
    return wanted.lower() == name.lower()
