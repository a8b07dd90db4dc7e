"""The trust ledger: a reviewed, committed file (``depchain-ledger.json``) of the
trust relationships the team has accepted: each component, the kinds by which it is
depended upon, and who owned it then. A scan compares against it: components it lists
are trusted explicitly, and a component whose owners changed since is a finding
(DC017). ``depchain ledger`` writes it from a scan; review the diff, then commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from depchain.errors import InputFileError
from depchain.fileio import MAX_FILE_SIZE, parse_json, read_text
from depchain.graph import DependencyGraph
from depchain.ids import identity
from depchain.model import Component, Finding, InputError
from depchain.trust.surface import owner_of

LEDGER = "depchain-ledger.json"
SCHEMA = "depchain-ledger/2"
"""2: keyed by identity (no version), owners are every user with a role (Owners and
Maintainers). A /1 ledger is refused with what to do, never compared wrongly."""


def build(graph: DependencyGraph) -> dict[str, Any]:
    """The ledger of a scan: every depended-upon component, its kinds, its owner. Keyed
    by the component's id without its version, so that an upgrade does not change the
    ledger, and an owner change across an upgrade is still seen."""
    entries: dict[str, Any] = {}
    for component in graph.components():
        kinds = sorted({d.kind.value for d in graph.dependents(component.id)})
        if not kinds:
            continue  # the scanned project itself
        key = identity(component.id)
        entry = entries.setdefault(key, {"kinds": [], "owner": owner_of(component)})
        entry["kinds"] = sorted(set(entry["kinds"]) | set(kinds))
    return {"schema": SCHEMA, "entries": dict(sorted(entries.items()))}


def _entry(ledger: dict[str, Any], component: Component) -> dict[str, Any] | None:
    """The ledger's entry for a component: under its id, or its id without version (as
    ``depchain ledger`` writes them)."""
    entries = ledger["entries"]
    entry = entries.get(component.id, entries.get(identity(component.id)))
    return entry if isinstance(entry, dict) else None


def _same_owner(recorded: object, now: str | None) -> bool:
    return isinstance(recorded, str) and now is not None and recorded.lower() == now.lower()


def render(graph: DependencyGraph) -> str:
    return json.dumps(build(graph), indent=2, sort_keys=True) + "\n"


def load(
    root: Path, beside: Path | None = None, max_size: int = MAX_FILE_SIZE
) -> tuple[dict[str, Any] | None, list[InputError]]:
    """The ledger for a scan of ``root``: ``depchain-ledger.json`` in the folder
    ``beside`` (the policy's) when given, else in ``root`` or the nearest folder above
    it within its git work tree (where the policy is looked for)."""
    import os

    from depchain.trust.policy import policy_folders

    folders = [beside] if beside is not None else policy_folders(root)
    path = next((f / LEDGER for f in folders if (f / LEDGER).is_file()), None)
    if path is None:
        return None, []
    display = os.path.relpath(path, root.resolve()).replace(os.sep, "/")
    try:
        data = parse_json(read_text(path, display, max_size), display)
    except InputFileError as exc:
        return None, [InputError(exc.path, exc.message)]
    if isinstance(data, dict) and data.get("schema") == "depchain-ledger/1":
        return None, [
            InputError(
                display,
                f"a depchain-ledger/1 ledger, from before owners counted Maintainers; write "
                f"it again with 'depchain ledger --enrich' and review the diff ({SCHEMA})",
            )
        ]
    if (
        not isinstance(data, dict)
        or data.get("schema") != SCHEMA
        or not isinstance(data.get("entries"), dict)
    ):
        return None, [InputError(display, f"not a {SCHEMA} ledger")]
    return data, []


def compare(graph: DependencyGraph, ledger: dict[str, Any]) -> list[Finding]:
    """DC017: a component whose known owner differs from the one the ledger recorded."""
    from depchain.trust.catalogue import BY_ID

    findings: list[Finding] = []
    for component in graph.components():
        entry = _entry(ledger, component)
        if entry is None or not entry.get("owner"):
            continue
        now = owner_of(component)
        if now is None or _same_owner(entry["owner"], now):
            continue  # unknown now: not a change anyone saw (and never trusted anyway)
        evidence = tuple(e for d in graph.dependents(component.id) for e in d.evidence)[:3]
        if evidence:
            findings.append(
                Finding(
                    "DC017",
                    BY_ID["DC017"].severity.value,
                    f"{component.name}: owners were {entry['owner']}, now {now}",
                    component.id,
                    evidence,
                )
            )
    return findings


def accepted(component: Component, ledger: dict[str, Any] | None) -> bool:
    """The ledger lists this component with the owner it has now: trusted explicitly."""
    if ledger is None:
        return False
    entry = _entry(ledger, component)
    return entry is not None and _same_owner(entry.get("owner"), owner_of(component))
