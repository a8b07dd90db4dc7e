"""The library entry point: ``scan(path)`` reads, resolves and returns a result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depchain.discover import Input, discover, iter_parents
from depchain.errors import InputFileError, UsageError
from depchain.fileio import MAX_FILE_SIZE
from depchain.graph import DependencyGraph
from depchain.ids import generic_component
from depchain.model import Component, ComponentType, Evidence, Finding, InputError
from depchain.resolvers import resolver_for
from depchain.resolvers.base import ResolveContext
from depchain.trust.policy import Policy


@dataclass(frozen=True)
class EnrichOptions:
    """Ask the package index who owns each Python distribution and how it was published
    (``offline``: only what the cache already holds; never a socket)."""

    offline: bool = False
    index_url: str | None = None
    cache_dir: str | Path | None = None
    session: Any = None
    """A ``requests.Session`` to ask through (proxies, tests); None: depchain's own."""


Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, display_path)`` while files are resolved."""


@dataclass
class ScanResult:
    root: Path
    """The scanned folder (for a single file, the folder that holds it)."""
    target: Path
    """What was asked to be scanned: the folder or the single file."""
    graph: DependencyGraph
    subject: str
    """The id of the component the scan describes (the top project, or the folder)."""
    inputs: list[tuple[str, str]] = field(default_factory=list)
    """Each file read, as (path relative to root, resolver name)."""
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    """(path, message): inputs seen but deliberately not read, such as ``setup.py``."""
    findings: list[Finding] = field(default_factory=list)
    """Trust gaps, most severe first (see :mod:`depchain.trust.catalogue`)."""
    policy: Policy | None = None
    """The explicit-trust policy found at the root, if any."""
    ledger: dict[str, Any] | None = None
    """The trust ledger (``depchain-ledger.json``) found at the root, if any."""

    @property
    def complete(self) -> bool:
        return not self.errors


def scan(
    target: str | Path | None = None,
    *,
    python: str | Path | None = None,
    max_file_size: int = MAX_FILE_SIZE,
    progress: Progress | None = None,
    enrich: EnrichOptions | None = None,
    policy: str | Path | None = None,
) -> ScanResult:
    """Scan a folder, a single manifest, lock file or wheel, an installed environment
    (a folder with ``pyvenv.cfg`` or a ``site-packages`` folder), or the environment of
    the interpreter at ``python``. Prints nothing; never runs the code it reads, nor the
    environment's interpreter. Files that cannot be read are listed in ``errors``.

    ``policy``: the policy file to apply; by default the scanned folder's (or the
    nearest above it in its git work tree, see
    :func:`~depchain.trust.policy.load_policy`); an environment has none by default."""
    policy_file = None if policy is None else Path(policy)
    if python is not None:
        from depchain.resolvers.environment import locate_interpreter

        env = locate_interpreter(Path(python))
        return _scan_environment(env.root, env, max_file_size, enrich, policy_file)
    target = Path("." if target is None else target)
    if target.is_dir() and _is_environment(target):
        return _scan_environment(target, None, max_file_size, enrich, policy_file)
    if target.is_dir():
        root = target
        inputs, errors = discover(root)
    elif target.is_file() or target.is_symlink():
        root = target.parent
        spec = resolver_for(target)
        if spec is None:
            raise UsageError(
                f"{target}: not a file depchain reads (Python manifests and lockfiles, wheels, "
                "workflows, Dockerfiles, compose and Kubernetes files, Cargo.lock, go.mod, "
                ".gitmodules, vendor.txt, ...; the README lists them)"
            )
        inputs, errors = [Input(target, spec)], []
    else:
        raise UsageError(f"{target}: no such file or folder")

    graph = DependencyGraph()
    projects: dict[Path, Component] = {}
    fallback = generic_component(
        (root.resolve().name or "root"), Evidence(".", None, "scan"), ComponentType.APPLICATION
    )

    def subject_for(path: Path) -> Component:
        for folder in iter_parents(path, root):
            if folder in projects:
                return projects[folder]
        return fallback

    ctx = ResolveContext(root=root, subject_for=subject_for, max_file_size=max_file_size)
    result = ScanResult(root=root, target=target, graph=graph, subject=fallback.id)
    ordered = sorted(inputs, key=lambda i: (not i.spec.defines_projects, i.path.as_posix()))
    single_subject: str | None = None
    for done, item in enumerate(ordered):
        display = ctx.display(item.path)
        if progress:
            progress(done, len(ordered), display)
        try:
            fragment = item.spec.load()(item.path, ctx)
        except InputFileError as exc:
            errors.append(InputError(exc.path, exc.message))
            continue
        except Exception as exc:  # a resolver bug or an input nobody foresaw: go on
            said = (str(exc).strip().splitlines() or [""])[0][:160]
            errors.append(
                InputError(
                    display,
                    f"could not be read ({type(exc).__name__}: {said}); please report this input",
                )
            )
            continue
        result.inputs.append((display, item.spec.name))
        if fragment.subjects and single_subject is None:
            single_subject = fragment.subjects[0]
        if item.spec.defines_projects and fragment.subjects:
            first = next(c for c in fragment.components if c.id == fragment.subjects[0])
            projects.setdefault(item.path.parent, first)
        graph.add_fragment(fragment)
        errors.extend(fragment.errors)
        result.notes.extend(fragment.notes)
    if progress:
        progress(len(ordered), len(ordered), "")

    graph.resolve_unversioned()
    top = projects.get(root)
    if not target.is_dir() and single_subject is not None:
        result.subject = graph.canonical(single_subject)
    elif top is not None:
        result.subject = graph.canonical(top.id)  # it may have merged into its locked version
    elif fallback.id not in graph:
        graph.add_node(fallback)
    _link_services(graph, result.subject)
    result.policy, policy_errors = _policy(root, policy_file)
    index_findings = _enrich(graph, enrich, result.policy, result.notes) if enrich else []
    from depchain.trust import ledger as trust_ledger

    result.ledger, ledger_errors = trust_ledger.load(root, result.policy.folder)
    if result.ledger is not None:
        index_findings += trust_ledger.compare(graph, result.ledger)
    result.findings = _gaps(graph, result.policy, index_findings, result.notes, bool(enrich))
    errors.extend(policy_errors + ledger_errors)
    result.errors = sorted(set(errors))
    result.notes = sorted(set(result.notes))
    return result


def _policy(root: Path, path: Path | None = None) -> tuple[Policy, list[InputError]]:
    from depchain.trust.policy import load_policy

    return load_policy(root, path)


def _enrich(
    graph: DependencyGraph, options: EnrichOptions, policy: Policy, notes: list[tuple[str, str]]
) -> list[Finding]:
    """Index facts onto the Python components (ownership, files, publishers), failures
    as notes per component, and the gaps only the index can show."""
    from dataclasses import replace

    from depchain.enrich.pypi import enrich, packages_of
    from depchain.trust.index_rules import index_gaps

    components = graph.components()
    facts = enrich(
        packages_of(components),
        index_url=options.index_url,
        cache_dir=options.cache_dir,
        offline=options.offline,
    )
    for component in components:
        found = facts.get((component.name, component.version))
        if found is None:
            continue
        props: dict[str, str] = {"depchain:owner-source": found.ownership_source}
        if found.organization:
            props["depchain:owner-organization"] = found.organization
        if found.roles:
            props["depchain:owner-roles"] = ", ".join(f"{u}:{r}" for u, r in found.roles)
        if found.files:
            props["depchain:artifact-kind"] = (
                "sdist only" if found.sdist_only else ("wheel" if found.has_wheel else "other")
            )
            props["depchain:attestation"] = found.attestation
            if found.attestation == "present":
                props["depchain:attestation-verified"] = found.verified
            if found.publishers:
                props["depchain:publisher"] = "; ".join(str(p) for p in found.publishers)
        if found.project_status:
            props["depchain:project-status"] = found.project_status
        if found.source_repository:
            props["depchain:declared-source"] = found.source_repository
        for error in found.errors:
            notes.append((f"index:{component.name}", error))
        graph.add_node(
            replace(component, properties=tuple(sorted({*component.properties, *props.items()})))
        )
    trusted = policy.trusted.get("pypi")

    evidence_of = _evidence_of(graph)
    return index_gaps(
        graph.components(),
        facts,
        evidence_of,
        trusted.owners if trusted else frozenset(),
        trusted.organizations if trusted else frozenset(),
    )


def _evidence_of(graph: DependencyGraph) -> Callable[[str], tuple[Evidence, ...]]:
    """A component's evidence for a finding: the first three manifest entries that
    brought it in."""

    def evidence_of(node_id: str) -> tuple[Evidence, ...]:
        return tuple(e for d in graph.dependents(node_id) for e in d.evidence)[:3]

    return evidence_of


def _gaps(
    graph: DependencyGraph,
    policy: Policy,
    extra: list[Finding] | None = None,
    notes: list[tuple[str, str]] | None = None,
    enriched: bool = False,
) -> list[Finding]:
    """The gaps the files (and the index) show, as the policy wants them, most severe
    first; a suppression that matches nothing is a note."""
    from depchain.trust.catalogue import BY_ID, Severity
    from depchain.trust.policy import Suppression, apply, untrusted_owners
    from depchain.trust.rules import find_gaps

    components = graph.components()
    names = {c.id: c.name for c in components}

    evidence_of = _evidence_of(graph)
    unused: list[tuple[Suppression, str]] = []
    owners = untrusted_owners(components, policy, evidence_of)
    found = apply(
        [*find_gaps(graph, policy.trusted_indexes()), *owners, *(extra or [])],
        policy,
        names=names,
        unused=unused,
    )
    for s, why in unused:
        where = f"{s.evidence.path}:{s.evidence.line}" if s.evidence.line else s.evidence.path
        gap = BY_ID[s.gap]
        if policy.severities.get(s.gap) == "off" or (gap.needs_index and not enriched):
            continue  # a gap that was not looked for hides nothing, and that is no news
        if notes is not None:
            notes.append((where, f"the suppression of {s.gap} for {s.component} {why}"))
    return sorted(found, key=lambda f: (-Severity(f.severity).rank, f.id, f.component, f.evidence))


def _link_services(graph: DependencyGraph, subject: str) -> None:
    """Client libraries to the servers they imply; URL services folded into the
    deployment's own (before any export: ids of folded services disappear)."""
    from depchain.services import link_client_libraries

    if graph.services() or any(c.ecosystem == "pypi" for c in graph.components()):
        link_client_libraries(graph, subject)


def _is_environment(folder: Path) -> bool:
    from depchain.resolvers.environment import is_environment

    return is_environment(folder)


def _scan_environment(
    root: Path,
    env: object,
    max_file_size: int,
    enrich: EnrichOptions | None = None,
    policy_file: Path | None = None,
) -> ScanResult:
    """One installed environment: every distribution, its links and what they need."""
    from depchain.resolvers import environment

    located = env if isinstance(env, environment.Environment) else environment.locate(root)
    graph = DependencyGraph()
    fallback = generic_component(
        root.resolve().name or "environment", Evidence(".", None, "scan"), ComponentType.APPLICATION
    )
    ctx = ResolveContext(root=root, subject_for=lambda _: fallback, max_file_size=max_file_size)
    fragment = environment.resolve_environment(located, ctx)
    graph.add_fragment(fragment)
    _link_services(graph, fragment.subjects[0])
    notes = sorted(set(fragment.notes))
    policy, policy_errors = _policy(root, policy_file) if policy_file else (Policy(), [])
    index_findings = _enrich(graph, enrich, policy, notes) if enrich else []
    findings = _gaps(graph, policy, index_findings, notes, bool(enrich))
    return ScanResult(
        root=root,
        target=root,
        graph=graph,
        subject=fragment.subjects[0],
        inputs=[(ctx.display(sp), environment.NAME) for sp in located.site_packages],
        errors=sorted({*fragment.errors, *policy_errors}),
        notes=sorted(set(notes)),
        findings=findings,
        policy=policy,
    )
