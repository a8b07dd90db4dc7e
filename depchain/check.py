"""Accepting trust and checking a change against what was accepted: the library under
``depchain accept`` and ``depchain check`` (the pre-commit hook). Prints nothing.

``check`` fails only on what nobody made explicit: a relationship (an edge, an index) or
a gap the ledger does not hold, or an owner that changed since. Without a ledger it
judges by the policy, as ``scan`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from depchain.fileio import MAX_FILE_SIZE
from depchain.hook import repository_root
from depchain.model import Finding, InputError
from depchain.scanner import EnrichOptions, ScanResult, VulnOptions, scan
from depchain.trust import ledger as trust_ledger
from depchain.trust.catalogue import Severity


def ledger_path(root: Path, result: ScanResult) -> Path:
    """Where ``accept`` writes: the ledger the scan read, else beside the policy, else at
    the top of the work tree."""
    policy = result.policy
    folder = policy.folder if policy is not None and policy.source else None
    found = trust_ledger.find(root, folder)
    if found is not None:
        return found
    if folder is not None:
        return folder / trust_ledger.LEDGER
    return repository_root(root) / trust_ledger.LEDGER


@dataclass(frozen=True)
class Accepted:
    result: ScanResult
    acceptance: trust_ledger.Acceptance
    path: Path


def accept(
    root: Path,
    *,
    who: str | None = None,
    why: str | None = None,
    prune: bool = False,
    enrich: EnrichOptions | None = None,
    max_file_size: int = MAX_FILE_SIZE,
) -> Accepted:
    """The ledger that holds every trust relationship of a scan of ``root`` (and what
    the old one held, unless ``prune``). The caller writes it."""
    result = scan(
        root, enrich=enrich, max_file_size=max_file_size, vulns=VulnOptions(enabled=False)
    )
    now = trust_ledger.relationships(result.graph, result.findings, result.subject)
    acceptance = trust_ledger.accept(result.ledger, now, who=who, why=why, prune=prune)
    return Accepted(result, acceptance, ledger_path(root, result))


@dataclass
class Checked:
    result: ScanResult
    new: list[Finding] = field(default_factory=list)
    """What the ledger does not hold, most severe first (every severity)."""
    failing: list[Finding] = field(default_factory=list)
    """Those at or above the threshold."""
    has_ledger: bool = False
    errors: list[InputError] = field(default_factory=list)


WHOLE = frozenset({trust_ledger.LEDGER, "depchain.toml"})
"""Files whose change is checked against the whole repository: the ledger (an entry
removed by hand) and the policy."""


def _has_cache(options: EnrichOptions) -> bool:
    from depchain.enrich.cache import FILENAME, cache_dir

    return (cache_dir(options.cache_dir) / FILENAME).is_file()


def check(
    root: Path,
    files: Sequence[Path] | None = None,
    *,
    fail_on: Severity | None = None,
    enrich: EnrichOptions | None = None,
    max_file_size: int = MAX_FILE_SIZE,
) -> Checked:
    """Compare ``files`` (relative to ``root`` or absolute; all of the tree when None)
    with the ledger. ``fail_on``: the threshold, by default ``low`` with a ledger (every
    new relationship fails; a build-time one is low) and the policy's ``fail-on`` (else
    ``high``) without one.

    With ``files``, only what they need is read: the common commit, which brings in
    nothing new, is answered from that alone. What it finds is confirmed on the whole
    repository before it is reported: a file read alone lacks what other files tell of
    it (the compose file or Kubernetes Service its client library reaches, the pin in a
    compiled requirements file, the index another file names), and a hook that fails on
    what was accepted gets uninstalled."""
    only = None
    if files is not None and not any(f.name in WHOLE for f in files):
        only = [f if f.is_absolute() else root / f for f in files]
        only = [f for f in only if f.is_file()]  # a deleted file says nothing new
    if enrich is not None and enrich.offline and not _has_cache(enrich):
        enrich = None  # nothing to learn offline: not even the import of the enricher
    checked = _compare(root, only, fail_on, enrich, max_file_size)
    if only is not None and (checked.failing or checked.errors):
        checked = _compare(root, None, fail_on, enrich, max_file_size)
    return checked


def _compare(
    root: Path,
    only: list[Path] | None,
    fail_on: Severity | None,
    enrich: EnrichOptions | None,
    max_file_size: int,
) -> Checked:
    result = scan(
        root,
        enrich=enrich,
        max_file_size=max_file_size,
        vulns=VulnOptions(enabled=False),
        only=only,
    )
    ledger = result.ledger
    if ledger is None:
        new = list(result.findings)
        policy_threshold = result.policy.fail_on if result.policy else None
        threshold = fail_on or Severity(policy_threshold or "high")
    else:
        new = [
            f
            for f in result.findings
            if f.id in {"DC017", "DC025"}
            or not trust_ledger.held_gap(ledger, result.graph, f, result.subject)
        ]
        threshold = fail_on or Severity.LOW
    failing = [f for f in new if Severity(f.severity).rank >= threshold.rank]
    return Checked(result, new, failing, ledger is not None, list(result.errors))
