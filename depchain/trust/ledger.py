"""The trust ledger: a reviewed, committed file (``depchain-ledger.json``) of the trust
relationships the team has accepted. ``depchain accept`` writes it; ``depchain check``
(the pre-commit hook) fails only on what it does not hold.

It holds four kinds of entry, each keyed without versions (an upgrade is no new trust):

- ``edges``: one dependency, ``from`` a project or component ``to`` another, by ``kind``
  (build, static, dynamic, service);
- ``owners``: who could publish a component when it was accepted;
- ``indexes``: an index or archive host a component may come from;
- ``gaps``: an open trust gap (``DC001``...) on a component, with the facts it was
  accepted under (owner, indexes, hashes, attestation). A gap whose facts changed is new.

The file is JSON with one entry per line, sorted, so that its diff in a pull request
reads as the list of trusts added and removed. Each entry accepted by a run may carry
``who`` accepted it and ``why``; entries already there keep theirs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depchain.errors import InputFileError
from depchain.fileio import MAX_FILE_SIZE, parse_json, read_text
from depchain.ids import identity
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Finding,
    InputError,
    Service,
    SourceKind,
)
from depchain.redaction import redact_url
from depchain.trust.surface import owner_of

if TYPE_CHECKING:
    from depchain.graph import DependencyGraph

LEDGER = "depchain-ledger.json"
SCHEMA = "depchain-ledger/3"
"""3: edges, owners, indexes and gaps, one entry per line. /2 (components with kinds and
an owner) and /1 are refused with what to do, never compared wrongly."""
ROOT = "."
"""The scanned tree itself, when it is no named project (a folder of requirements):
its name would otherwise be the name of whatever folder the clone sits in."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "edges": ("from", "to", "kind"),
    "owners": ("component", "owner"),
    "indexes": ("component", "index"),
    "gaps": ("gap", "component"),
}
"""Each section's key fields, in the order entries sort by."""
NOTES = ("who", "why")


@dataclass(frozen=True, order=True)
class Key:
    """One relationship: its section and its key fields' values, in SECTIONS order."""

    section: str
    values: tuple[str, ...]


@dataclass
class Ledger:
    entries: dict[Key, dict[str, Any]] = field(default_factory=dict)
    """Each relationship and what else its entry says (``who``, ``why``, a gap's
    ``facts``)."""
    path: str | None = None
    """Where it was read from, relative to the scan root."""
    _owners: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _reached: set[str] | None = field(default=None, repr=False, compare=False)

    def owner(self, component_id: str) -> str | None:
        """The owner recorded for a component (the first, if several were)."""
        if self._owners is None:
            self._owners = {}
            for key in sorted(k for k in self.entries if k.section == "owners"):
                self._owners.setdefault(key.values[0], key.values[1])
        return self._owners.get(identity(component_id))

    def components(self) -> set[str]:
        """Identities some accepted edge reaches."""
        if self._reached is None:
            self._reached = {k.values[1] for k in self.entries if k.section == "edges"}
        return self._reached


# -- what a scan trusts --------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    """A trust relationship of a scan, with where it came in."""

    key: Key
    evidence: tuple[Evidence, ...]
    extra: tuple[tuple[str, Any], ...] = ()
    """What the entry records besides its key (a gap's facts)."""
    dependency: Dependency | None = None
    """The edge itself, for ``edges``."""


def _name(graph: DependencyGraph, node_id: str, root_ids: set[str]) -> str:
    return ROOT if node_id in root_ids else identity(node_id)


def root_ids(graph: DependencyGraph, subject: str | None) -> set[str]:
    """The scan's own subject when it is the folder itself (no project names it)."""
    if subject is None or subject not in graph:
        return set()
    node = graph.node(subject)
    # the scan's own evidence for the folder, whatever role a tooling file gave it
    own = any((e.path, e.line, e.resolver) == (".", None, "scan") for e in node.evidence)
    return {subject} if isinstance(node, Component) and own else set()


def indexes_of(component: Component, deps: Iterable[Dependency]) -> list[str]:
    """Where the component may come from, as the files say: the indexes its requirements
    name and its sources' registries and hosts (credentials never kept)."""
    from depchain.trust.policy import index_key

    found: set[str] = set()
    for dep in deps:
        found.update(index_key(redact_url(i.url)) for i in dep.indexes if i.url)
    for source in component.sources:
        if source.kind is SourceKind.REGISTRY and source.url:
            found.add(index_key(redact_url(source.url)))
        elif source.kind in (SourceKind.URL, SourceKind.VCS) and source.url:
            url = redact_url(source.url)
            scheme, sep, rest = url.partition("://")
            host = rest.split("/")[0].rpartition("@")[2].lower()
            found.add(f"{scheme.lower()}://{host}" if sep and host else url)
    return sorted(found)


def facts_of(graph: DependencyGraph, node_id: str) -> dict[str, Any]:
    """The facts a gap on ``node_id`` is accepted under: only what is known."""
    if node_id not in graph:
        return {}
    node = graph.node(node_id)
    if not isinstance(node, Component):
        return {}
    facts: dict[str, Any] = {}
    owner = owner_of(node)
    if owner is not None:
        facts["owner"] = owner
    facts["indexes"] = indexes_of(node, graph.dependents(node_id))  # none: the default
    if node.version is not None:
        facts["hashed"] = bool(node.hashes)
    attestation = dict(node.properties).get("depchain:attestation")
    if attestation:
        facts["attestation"] = attestation
    return facts


def relationships(
    graph: DependencyGraph, findings: Iterable[Finding], subject: str | None
) -> Iterator[Relationship]:
    """Every trust relationship of a scan: its edges, owners, indexes and gaps."""
    roots = root_ids(graph, subject)
    for dep in graph.dependencies():
        yield Relationship(
            Key(
                "edges",
                (_name(graph, dep.source, roots), _name(graph, dep.target, roots), dep.kind.value),
            ),
            dep.evidence,
            dependency=dep,
        )
    for component in graph.components():
        deps = graph.dependents(component.id)
        if not deps:
            continue  # the scanned project itself
        evidence = tuple(e for d in deps for e in d.evidence)
        ident = identity(component.id)
        owner = owner_of(component)
        if owner is not None:
            yield Relationship(Key("owners", (ident, owner)), evidence)
        for index in indexes_of(component, deps):
            yield Relationship(Key("indexes", (ident, index)), evidence)
    for finding in findings:
        if finding.id in {"DC017", "DC025"}:
            continue  # about the ledger itself: accepting the change is the answer
        facts = facts_of(graph, finding.component)
        yield Relationship(
            Key("gaps", (finding.id, _name(graph, finding.component, roots))),
            finding.evidence,
            (("facts", facts),) if facts else (),
        )


# -- reading and writing -------------------------------------------------------------


def load(
    root: Path, beside: Path | None = None, max_size: int = MAX_FILE_SIZE
) -> tuple[Ledger | None, list[InputError]]:
    """The ledger for a scan of ``root``: ``depchain-ledger.json`` in the folder
    ``beside`` (the policy's) when given, else in ``root`` or the nearest folder above
    it within its git work tree (where the policy is looked for)."""
    path = find(root, beside)
    if path is None:
        return None, []
    display = os.path.relpath(path, root.resolve()).replace(os.sep, "/")
    try:
        data = parse_json(read_text(path, display, max_size), display)
    except InputFileError as exc:
        return None, [InputError(exc.path, exc.message)]
    try:
        return parse(data, display), []
    except ValueError as exc:
        return None, [InputError(display, str(exc))]


def find(root: Path, beside: Path | None = None) -> Path | None:
    from depchain.trust.policy import policy_folders

    folders = [beside] if beside is not None else policy_folders(root)
    return next((f / LEDGER for f in folders if (f / LEDGER).is_file()), None)


def parse(data: object, display: str) -> Ledger:
    """A ledger from its JSON. Raises ValueError (one line) when it is not one."""
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema in {"depchain-ledger/1", "depchain-ledger/2"}:
        raise ValueError(
            f"a {schema} ledger; write it again with 'depchain accept' and review the "
            f"diff ({SCHEMA})"
        )
    if not isinstance(data, dict) or schema != SCHEMA:
        raise ValueError(f"not a {SCHEMA} ledger")
    ledger = Ledger(path=display)
    for section, fields in SECTIONS.items():
        items = data.get(section, [])
        if not isinstance(items, list):
            raise ValueError(f"{section}: expected a list of entries")
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict) or not all(
                isinstance(item.get(f), str) and item[f] for f in fields
            ):
                raise ValueError(
                    f"{section} entry {n}: expected {', '.join(fields)} (non-empty strings)"
                )
            extra = {k: v for k, v in item.items() if k not in fields}
            ledger.entries[Key(section, tuple(item[f] for f in fields))] = extra
    return ledger


def render(ledger: Ledger) -> str:
    """The ledger's file: one entry per line, each section sorted by its key."""
    lines = ["{", f'  "schema": {json.dumps(SCHEMA)},']
    sections = list(SECTIONS.items())
    for i, (section, fields) in enumerate(sections):
        keys = sorted(k for k in ledger.entries if k.section == section)
        closing = "]" + ("," if i < len(sections) - 1 else "")
        if not keys:
            lines.append(f'  "{section}": {closing}'.replace(": ]", ": []"))
            continue
        lines.append(f'  "{section}": [')
        for j, key in enumerate(keys):
            entry: dict[str, Any] = dict(zip(fields, key.values, strict=True))
            entry.update(sorted(ledger.entries[key].items()))
            comma = "," if j < len(keys) - 1 else ""
            lines.append("    " + json.dumps(entry, ensure_ascii=False) + comma)
        lines.append("  " + closing)
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Acceptance:
    """What ``depchain accept`` did: the ledger to write and what changed in it."""

    ledger: Ledger
    added: list[Key]
    removed: list[Key]


def accept(
    old: Ledger | None,
    now: Iterable[Relationship],
    *,
    who: str | None = None,
    why: str | None = None,
    prune: bool = False,
) -> Acceptance:
    """The ledger holding everything of ``now``: entries already there keep what they say
    (who accepted them, and why); new ones get ``who`` and ``why``. A gap is held under
    each set of facts it was accepted with (the same package pinned twice, from two
    indexes, has two): one under new facts is accepted again, its facts added, with the
    new ``who`` and ``why``. ``prune`` drops what the scan no longer has, facts included."""
    entries = dict(old.entries) if old is not None else {}
    notes = {k: v for k, v in (("who", who), ("why", why)) if v}
    current: dict[Key, list[dict[str, Any]]] = {}
    for rel in now:
        facts = dict(rel.extra).get("facts")
        listed = current.setdefault(rel.key, [])
        if isinstance(facts, dict) and facts not in listed:
            listed.append(facts)
    added: list[Key] = []
    for key, facts in current.items():
        known = entries.get(key)
        if known is None:
            added.append(key)
            entries[key] = {**({"facts": _sorted_facts(facts)} if facts else {}), **notes}
            continue
        recorded = facts_list(known)
        fresh = [f for f in facts if not _covered(recorded, f)]
        kept = [r for r in recorded if any(_same_facts(r, f) for f in facts)] if prune else recorded
        if fresh:
            added.append(key)  # accepted again under new facts
            entries[key] = {**known, "facts": _sorted_facts(kept + fresh), **notes}
        elif prune and len(kept) < len(recorded):
            entries[key] = {**known, "facts": _sorted_facts(kept)}
    removed = sorted(k for k in entries if k not in current) if prune else []
    for key in removed:
        del entries[key]
    return Acceptance(Ledger(entries, old.path if old else None), sorted(set(added)), removed)


def facts_list(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The sets of facts a gap entry holds (one written as a single object counts)."""
    facts = entry.get("facts")
    if isinstance(facts, dict):
        return [facts]
    if isinstance(facts, list):
        return [f for f in facts if isinstance(f, dict)]
    return []


def _sorted_facts(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = {json.dumps(f, sort_keys=True): f for f in facts}
    return [unique[k] for k in sorted(unique)]


def _covered(recorded: list[dict[str, Any]], now: dict[str, Any] | None) -> bool:
    """Some recorded set of facts agrees with ``now`` (no facts recorded or known now:
    nothing to disagree with)."""
    if not recorded or not now:
        return True
    return any(_same_facts(r, now) for r in recorded)


def _same_facts(recorded: object, now: object) -> bool:
    """Facts known on both sides agree (a fact unknown now, because the index was not
    asked, is no change)."""
    if not isinstance(recorded, dict) or not isinstance(now, dict):
        return True
    return all(recorded[k] == now[k] for k in recorded.keys() & now.keys())


# -- comparing a scan with the ledger ------------------------------------------------


def unaccepted(ledger: Ledger, now: Iterable[Relationship]) -> list[Relationship]:
    """The relationships of a scan the ledger does not hold (a gap whose facts changed
    counts as not held)."""
    return [
        rel
        for rel in now
        if rel.key not in ledger.entries
        or not _covered(facts_list(ledger.entries[rel.key]), dict(rel.extra).get("facts"))
    ]


def compare(graph: DependencyGraph, ledger: Ledger, subject: str | None = None) -> list[Finding]:
    """DC017, a component whose known owner differs from the one the ledger recorded;
    DC025, an edge or index the ledger does not hold."""
    from depchain.trust.catalogue import BY_ID

    findings: list[Finding] = []
    for component in graph.components():
        recorded = ledger.owner(component.id)
        if recorded is None:
            continue
        now = owner_of(component)
        if now is None or now.lower() == recorded.lower():
            continue  # unknown now: not a change anyone saw (and never trusted anyway)
        evidence = tuple(e for d in graph.dependents(component.id) for e in d.evidence)[:3]
        if evidence:
            findings.append(
                Finding(
                    "DC017",
                    BY_ID["DC017"].severity.value,
                    f"{component.name}: owners were {recorded}, now {now}",
                    component.id,
                    evidence,
                )
            )
    gap = BY_ID["DC025"]
    for rel in unaccepted(ledger, relationships(graph, (), subject)):
        if rel.key.section == "owners" or not rel.evidence:
            continue  # an owner change is DC017; a first-known owner is no change
        dep = rel.dependency
        if dep is not None:
            kind = dep.kind.value
            node = graph.node(dep.target)
            what = node.name if isinstance(node, Component | Service) else dep.target
            case = "build" if dep.kind is DependencyKind.BUILD else None
            findings.append(
                Finding(
                    "DC025",
                    gap.severity_for(case).value,
                    f"new {kind} dependency on {what}"
                    + (f" ({dep.specifier})" if dep.specifier else "")
                    + " is not in the trust ledger",
                    dep.target,
                    rel.evidence[:3],
                )
            )
        elif rel.key.section == "indexes":
            ident, index = rel.key.values
            findings.append(
                Finding(
                    "DC025",
                    gap.severity.value,
                    f"{ident} may now come from {index}, which the trust ledger does not hold",
                    ident,
                    rel.evidence[:3],
                )
            )
    return findings


def held_gap(ledger: Ledger, graph: DependencyGraph, finding: Finding, subject: str | None) -> bool:
    """The ledger accepted this gap, under the facts it has now."""
    key = Key("gaps", (finding.id, _name(graph, finding.component, root_ids(graph, subject))))
    entry = ledger.entries.get(key)
    return entry is not None and _covered(facts_list(entry), facts_of(graph, finding.component))


def accepted(component: Component, ledger: Ledger | None) -> bool:
    """Some edge to this component is in the ledger, and its owner is the one recorded
    (or none was): trusted explicitly."""
    if ledger is None:
        return False
    ident = identity(component.id)
    if ident not in ledger.components():
        return False
    recorded, now = ledger.owner(component.id), owner_of(component)
    return recorded is None or now is None or recorded.lower() == now.lower()
