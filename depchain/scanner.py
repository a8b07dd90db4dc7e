"""The library entry point: ``scan(path)`` reads, resolves and returns a result."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depchain.discover import Input, discover, is_environment, iter_parents
from depchain.errors import InputFileError, InvalidValue, UsageError
from depchain.fileio import MAX_FILE_SIZE
from depchain.graph import DependencyGraph
from depchain.ids import generic_component
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Finding,
    Fragment,
    Hash,
    InputError,
    Role,
    Scope,
    Service,
)
from depchain.resolvers import resolver_for
from depchain.resolvers.base import ResolveContext
from depchain.trust.policy import Policy

if TYPE_CHECKING:
    from depchain.roles import RoleAssigner, RoleRule
    from depchain.trust.ledger import Ledger
    from depchain.trust.policy import Ignore
    from depchain.vulns.interface import AuditReport, VulnerabilitySource


@dataclass(frozen=True)
class EnrichOptions:
    """Ask the package index who owns each Python distribution and how it was published
    (``offline``: only what the cache already holds; never a socket)."""

    offline: bool = False
    index_url: str | None = None
    cache_dir: str | Path | None = None
    session: Any = None
    """A ``requests.Session`` to ask through (proxies, tests); None: depchain's own."""
    timeout: float = 60.0
    """Seconds for all index requests of a scan (``--index-timeout``); each request has
    at most 15 s of it. What is not answered by then is unknown, with a note."""
    progress: Callable[[int, int, str], None] | None = None
    """Called as ``progress(done, total, project)`` as the index answers."""


@dataclass(frozen=True)
class VulnOptions:
    """Which advisory data to audit with. By default: the archives ``depchain db
    update`` keeps in the cache, and nothing else (no network)."""

    databases: tuple[Path, ...] = ()
    """``--vuln-db``: folders or zip archives of OSV records."""
    services: tuple[str, ...] = ()
    """``--vuln-service``: pip-audit's services to ask online (``osv``, ``pypi``)."""
    cache_dir: str | Path | None = None
    """Where ``db update`` keeps its archives and the offline index is cached (None:
    ``$DEPCHAIN_CACHE_DIR``, else the user cache folder)."""
    use_cache: bool = True
    """Use the archives ``db update`` downloaded."""
    timeout: float = 60.0
    session: Any = None
    enabled: bool = True
    """False: no audit at all (the report says so)."""
    sources: tuple[Any, ...] = ()
    """More :class:`~depchain.vulns.interface.VulnerabilitySource` objects to ask (a
    program's own), after the ones the options above name."""


@dataclass(frozen=True, order=True)
class InputFile:
    """One file the scan found, whether read or not, and the role it plays."""

    path: str
    """Relative to the scanned folder, POSIX style."""
    resolver: str
    project: str | None
    """The id of the project it belongs to (the nearest enclosing one), if any."""
    role: Role
    reason: str
    """Why it has that role (``under tests/``, ``installed by tox.ini:12``, ``default``)."""
    read: bool = True
    """False for a fixture: listed, never resolved (unless ``all_roles``)."""


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
    inputs: list[InputFile] = field(default_factory=list)
    """Each input file found, with its project and role."""
    projects: dict[str, Role] = field(default_factory=dict)
    """Every project found in the tree (component id) and the role of its folder."""
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    """(path, message): inputs seen but deliberately not read, such as ``setup.py``."""
    findings: list[Finding] = field(default_factory=list)
    """Trust gaps, most severe first (see :mod:`depchain.trust.catalogue`)."""
    policy: Policy | None = None
    """The explicit-trust policy found at the root, if any."""
    ledger: Ledger | None = None
    """The trust ledger (``depchain-ledger.json``) found at the root, if any."""
    watched: list[Path] = field(default_factory=list)
    """What the result depends on: every folder walked and every file read or found
    (the pre-commit hook's check is still valid while none of them changed)."""
    audit: AuditReport | None = None
    """Known vulnerabilities: what was found, what could not be audited and why."""
    ignored: dict[tuple[str, str], Ignore] = field(default_factory=dict)
    """(component, advisory) the policy ignores, with its ignore entry."""

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
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    roles: Sequence[str] = (),
    all_roles: bool = False,
    vulns: VulnOptions | None = None,
    only: Sequence[str | Path] | None = None,
) -> ScanResult:
    """Scan a folder, a single manifest, lock file or wheel, an installed environment
    (a folder with ``pyvenv.cfg`` or a ``site-packages`` folder), or the environment of
    the interpreter at ``python``. Prints nothing; never runs the code it reads, nor the
    environment's interpreter. Files that cannot be read are listed in ``errors``.

    ``policy``: the policy file to apply; by default the scanned folder's (or the
    nearest above it in its git work tree, see
    :func:`~depchain.trust.policy.load_policy`); an environment has none by default.

    ``exclude``/``include``: globs of paths not to read / the only paths to read, added
    to the policy's; ``roles``: ``GLOB=ROLE`` overrides of the role a file is given
    (:mod:`depchain.roles`); ``all_roles``: read fixtures too, and let every file make
    the dependencies its resolver says, whatever its role.

    ``only``: of a folder, read only these files (the pre-commit hook's changed files),
    with what they need: the project files of their folder and the folders above it,
    and the lockfiles beside them (the files they include are read as ever)."""
    policy_file = None if policy is None else Path(policy)
    if python is not None:
        from depchain.resolvers.environment import locate_interpreter

        env = locate_interpreter(Path(python))
        return _scan_environment(env.root, env, max_file_size, enrich, policy_file, vulns, progress)
    target = Path("." if target is None else target)
    if target.is_dir() and _is_environment(target):
        return _scan_environment(target, None, max_file_size, enrich, policy_file, vulns, progress)
    rules = _role_rules(roles)
    if target.is_dir():
        root = target
        loaded_policy, policy_errors = _policy(root, policy_file, max_file_size)
        found = discover(
            root,
            exclude=(*loaded_policy.exclude, *exclude),
            include=(*loaded_policy.include, *include),
        )
        inputs, errors = found.inputs, found.errors
        rules = [*loaded_policy.roles, *rules]
    elif target.is_file() or target.is_symlink():
        root = target.parent
        spec = resolver_for(target)
        if spec is None:
            raise UsageError(
                f"{target}: not a file depchain reads (Python manifests and lockfiles, wheels, "
                "workflows, Dockerfiles, compose and Kubernetes files, Cargo.lock, go.mod, "
                ".gitmodules, vendor.txt, ...; the README lists them)"
            )
        loaded_policy, policy_errors = _policy(root, policy_file, max_file_size)
        inputs, errors = [Input(target, spec)], []
        found = None
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
    if found is not None:
        result.notes.extend(found.notes)
    assigner = _assigner(root, ctx, inputs, found.declarers if found else [], rules)
    shipped_groups = _shipped_groups(ctx, inputs, assigner)
    # projects first (Python ones before a Go module, which owns its folder only when no
    # Python project does), then everything else, in path order
    # every input tells the roles of the others (a tox.ini, a -r from a runtime file);
    # only those needed are read
    needed = inputs if only is None or found is None else _needed_by(inputs, map(Path, only))
    ordered = sorted(
        needed,
        key=lambda i: (
            not i.spec.defines_projects,
            i.spec.name in {"go-mod", "cargo-lock"},
            i.path.as_posix(),
        ),
    )
    project_roles: dict[str, Role] = {}
    single_subject: str | None = None
    for done, item in enumerate(ordered):
        display = ctx.display(item.path)
        if progress:
            progress(done, len(ordered), display)
        given = assigner.assign(display, item.spec.name)
        if given.role is Role.FIXTURE and not all_roles:
            result.inputs.append(
                InputFile(
                    display,
                    item.spec.name,
                    subject_for(item.path).id,
                    given.role,
                    given.reason,
                    read=False,
                )
            )
            continue
        try:
            fragment = item.spec.load()(item.path, ctx)
        except InputFileError as exc:
            errors.append(InputError(exc.path, exc.message))
            continue
        except InvalidValue as exc:
            errors.append(InputError(display, str(exc)))
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
        owner = subject_for(item.path)
        if item.spec.defines_projects and fragment.subjects:
            first = next(c for c in fragment.components if c.id == fragment.subjects[0])
            if projects.setdefault(item.path.parent, first) is first:
                project_roles[first.id] = given.role
            owner = projects[item.path.parent]
        fragment = _with_roles(fragment, assigner.role_for(item.spec.name))
        if given.role is Role.RUNTIME and shipped_groups:
            fragment = _promote_groups(fragment, item.path.parent, shipped_groups)
        own_project = project_roles.get(owner.id, Role.RUNTIME) is not Role.RUNTIME
        if given.role is not Role.RUNTIME and not all_roles and not own_project:
            # a sub-project of its own (an example's pyproject) keeps its edges; what
            # a runtime project's tooling installs is build-time
            fragment = demote(fragment, given.role, {owner.id, *fragment.subjects})
        result.inputs.append(InputFile(display, item.spec.name, owner.id, given.role, given.reason))
        if fragment.subjects and single_subject is None:
            single_subject = fragment.subjects[0]
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
    result.projects = {graph.canonical(k): v for k, v in project_roles.items()}
    result.projects.setdefault(result.subject, Role.RUNTIME)
    result.inputs = sorted(
        replace(i, project=graph.canonical(i.project) if i.project else None) for i in result.inputs
    )
    runtime_projects = [p for p, r in result.projects.items() if r is Role.RUNTIME or all_roles]
    _link_services(graph, result.subject, runtime_projects)
    result.policy = loaded_policy
    index_findings = _enrich(graph, enrich, result.policy, result.notes) if enrich else []
    from depchain.trust import ledger as trust_ledger

    result.ledger, ledger_errors = trust_ledger.load(root, result.policy.folder, max_file_size)
    if result.ledger is not None:
        index_findings += trust_ledger.compare(graph, result.ledger, result.subject)
    result.audit, vuln_findings, result.ignored = _audit(
        graph, vulns, result.policy, [result.subject, *result.projects]
    )
    if result.audit is not None:
        result.notes.extend(("advisories", n) for n in result.audit.notes)
    result.findings = _gaps(
        graph, result.policy, index_findings + vuln_findings, result.notes, bool(enrich)
    )
    errors.extend(policy_errors + ledger_errors)
    result.watched = sorted(
        {*(found.folders if found else ()), *(i.path for i in inputs), *ctx.read}
    )
    result.errors = sorted(set(errors))
    result.notes = sorted(set(result.notes))
    return result


_LOCKS = frozenset({"uv-lock", "poetry-lock", "pdm-lock", "pipfile-lock", "pylock", "cargo-lock"})


def _needed_by(inputs: list[Input], files: Iterable[Path]) -> list[Input]:
    """The inputs ``files`` need: themselves, and the files that define and lock the
    projects they belong to (in their folder or above: a workspace's lock is at its
    top)."""
    wanted = {f.resolve() for f in files}
    wanted &= {i.path.resolve() for i in inputs}
    if not wanted:
        return []  # nothing depchain reads changed (a README, some other YAML)
    above = {a for f in wanted for a in f.parents}
    kept = []
    for item in inputs:
        path = item.path.resolve()
        if path in wanted or (
            (item.spec.defines_projects or item.spec.name in _LOCKS) and path.parent in above
        ):
            kept.append(item)
    return kept


def _role_rules(specs: Sequence[str]) -> list[RoleRule]:
    """``GLOB=ROLE`` from the command line."""
    from depchain.roles import RoleRule

    rules = []
    for spec in specs:
        pattern, eq, role = spec.rpartition("=")
        try:
            chosen = Role(role.strip())
        except ValueError:
            chosen = None
        if not eq or not pattern.strip() or chosen is None:
            raise UsageError(
                f"--role {spec!r}: expected GLOB=ROLE, ROLE one of "
                + ", ".join(r.value for r in Role)
            )
        rules.append(RoleRule(pattern.strip(), chosen, "--role"))
    return rules


def _assigner(
    root: Path,
    ctx: ResolveContext,
    inputs: Sequence[Input],
    declarers: Sequence[str],
    rules: Sequence[RoleRule],
) -> RoleAssigner:
    """The role assigner for these inputs: first by place and name, then by what
    installs each requirements file (tooling, or something shipped)."""
    from depchain.roles import RoleAssigner, declarers_of, find_uses

    assigner = RoleAssigner(rules)
    displays = [(ctx.display(i.path), i.spec.name) for i in inputs]
    requirement_files = [d for d, name in displays if name == "requirements"]
    if not requirement_files:
        return assigner
    using = declarers_of([*declarers, *(d for d, _ in displays)])
    for display, name in displays:
        if name in {"dockerfile", "requirements"}:
            role = assigner.assign(display, name).role
            using.append((display, None if role is Role.RUNTIME else Role.TEST))

    def read(path: Path) -> str | None:
        try:
            return ctx.read_text(path)
        except InputFileError:
            return None

    assigner.uses = find_uses(root, requirement_files, using, read)
    return assigner


def _shipped_groups(
    ctx: ResolveContext, inputs: Sequence[Input], assigner: RoleAssigner
) -> dict[Path, dict[str, Evidence]]:
    """Per folder of a runtime Dockerfile, the dependency groups and extras its image
    installs (``uv sync --group all_ds``): what the image ships, whatever the group's
    name says."""
    from depchain.roles import installed_groups

    found: dict[Path, dict[str, Evidence]] = {}
    for item in inputs:
        if item.spec.name != "dockerfile":
            continue
        display = ctx.display(item.path)
        if assigner.assign(display, item.spec.name).role is not Role.RUNTIME:
            continue
        try:
            text = ctx.read_text(item.path)
        except InputFileError:
            continue  # the resolver says so
        for group, line in installed_groups(text).items():
            where = found.setdefault(item.path.parent, {})
            where.setdefault(group, Evidence(display, line, "dockerfile"))
    return found


_BUILD_MECHANISMS = frozenset({"build-system", "build-backend", "build-system-default"})


def _promote_groups(
    fragment: Fragment, folder: Path, shipped: dict[Path, dict[str, Evidence]]
) -> Fragment:
    """Edges of a group or extra that a runtime image of this folder (or of one below
    it) installs become required runtime edges, with the image's line as evidence."""
    from depchain.roles import canonical_group

    groups: dict[str, Evidence] = {}
    for where, named in shipped.items():
        if where == folder or folder in where.parents:
            for group, evidence in named.items():
                groups.setdefault(group, evidence)
    if not groups:
        return fragment
    deps = []
    for dep in fragment.dependencies:
        names = [canonical_group(g) for g in dep.groups]
        hit = next((groups[n] for n in names if n in groups), None)
        if hit is None and "*" in groups and names and dep.scope is not Scope.REQUIRED:
            hit = groups["*"]
        promotable = dep.kind is DependencyKind.BUILD or dep.scope is not Scope.REQUIRED
        if hit is not None and promotable and dep.mechanism not in _BUILD_MECHANISMS:
            dep = replace(
                dep,
                kind=DependencyKind.DYNAMIC,
                scope=Scope.REQUIRED,
                evidence=(*dep.evidence, hit),
            )
        deps.append(dep)
    return replace(fragment, dependencies=tuple(deps))


def _with_roles(fragment: Fragment, role_of: Callable[[str], Role]) -> Fragment:
    """The fragment with each piece of evidence carrying its file's role (evidence is
    ``runtime`` by default: a fragment whose files are all runtime is returned as is)."""
    memo: dict[str, Role] = {}
    items: tuple[Component | Service | Dependency, ...] = (
        *fragment.components,
        *fragment.services,
        *fragment.dependencies,
    )
    for item in items:
        for e in item.evidence:
            if e.path not in memo:
                memo[e.path] = role_of(e.path)
    if all(r is Role.RUNTIME for r in memo.values()) and all(
        e.role is Role.RUNTIME for item in items for e in item.evidence
    ):
        return fragment

    def stamp(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
        return tuple(
            e if e.role is memo[e.path] else replace(e, role=memo[e.path]) for e in evidence
        )

    return replace(
        fragment,
        components=tuple(replace(c, evidence=stamp(c.evidence)) for c in fragment.components),
        services=tuple(replace(s, evidence=stamp(s.evidence)) for s in fragment.services),
        dependencies=tuple(replace(d, evidence=stamp(d.evidence)) for d in fragment.dependencies),
    )


def demote(fragment: Fragment, role: Role, projects: set[str]) -> Fragment:
    """What an input that is not ``runtime`` contributes to a runtime project: its
    edges from the project become ``build`` edges (scope ``dev``, or as written for a
    ``build`` input), what runs a service becomes a build-time image of the project,
    and no service is declared (a test's database is nobody's runtime service)."""
    services = {s.id for s in fragment.services}
    deps: list[Dependency] = []
    for dep in fragment.dependencies:
        if dep.target in services:
            continue  # the project (or a service) reaching a service
        source = dep.source
        if source in services:
            source = next(iter(sorted(projects & {c.id for c in fragment.components})), source)
            if source in services:
                continue
        if source in projects and dep.kind is not DependencyKind.BUILD:
            scope = dep.scope if role is Role.BUILD and dep.scope is not Scope.DEV else Scope.DEV
            dep = replace(dep, source=source, kind=DependencyKind.BUILD, scope=scope)
        elif source != dep.source:
            dep = replace(dep, source=source, kind=DependencyKind.BUILD, scope=Scope.DEV)
        deps.append(dep)
    kept: tuple[Service, ...] = ()
    return replace(fragment, services=kept, dependencies=tuple(deps))


def vulnerability_sources(
    options: VulnOptions, notes: list[str] | None = None
) -> tuple[list[VulnerabilitySource], list[str]]:
    """The sources the options name, and a line for each that could not be set up (an
    unreadable ``--vuln-db``): the offline OSV source over every ``--vuln-db`` and the
    archives in the cache, then each pip-audit service asked for."""
    from depchain.vulns.interface import SourceError

    sources: list[VulnerabilitySource] = []
    problems: list[str] = []
    notes = notes if notes is not None else []
    paths = list(options.databases)
    cache = Path(options.cache_dir) if options.cache_dir else None
    from depchain.vulns.dbupdate import cached_archives, osv_cache

    if options.use_cache:
        paths += cached_archives(cache)
    if paths:
        from depchain.vulns.osv import OsvSource

        for path in paths:  # each its own source: one that cannot be read sinks no other
            try:
                offline = OsvSource([path], cache_dir=osv_cache(cache))
            except SourceError as exc:
                problems.append(str(exc))
            else:
                sources.append(offline)
                notes.extend(offline.problems)
                notes.extend(offline.notes)
    sources.extend(options.sources)
    for service in options.services:
        from depchain.vulns.pipaudit import PipAuditSource

        try:
            sources.append(
                PipAuditSource(
                    service,  # the CLI checks the choice
                    timeout=options.timeout,
                    session=options.session,
                )
            )
        except SourceError as exc:
            problems.append(str(exc))
    return sources, problems


def _audit(
    graph: DependencyGraph, options: VulnOptions | None, policy: Policy, projects: list[str]
) -> tuple[AuditReport | None, list[Finding], dict[tuple[str, str], Ignore]]:
    """Known vulnerabilities of the graph's components, as findings (DC024), with what
    the policy ignores left out."""
    options = options if options is not None else VulnOptions()
    if not options.enabled:
        return None, [], {}
    from depchain.vulns.audit import audit, findings_of

    notes: list[str] = []
    sources, problems = vulnerability_sources(options, notes)
    report = audit(graph, sources, projects)
    report.errors[:0] = problems
    report.notes = notes
    findings, ignored = findings_of(report, graph, policy.ignores, _evidence_of(graph))
    return report, findings, ignored


def _policy(
    root: Path, path: Path | None = None, max_size: int = MAX_FILE_SIZE
) -> tuple[Policy, list[InputError]]:
    from depchain.trust.policy import load_policy

    return load_policy(root, path, max_size)


def _enrich(
    graph: DependencyGraph, options: EnrichOptions, policy: Policy, notes: list[tuple[str, str]]
) -> list[Finding]:
    """Index facts onto the Python components (ownership, files, publishers), failures
    as notes per component, and the gaps only the index can show."""
    from dataclasses import replace

    from depchain.enrich.pypi import enrich, index_metadata, packages_of
    from depchain.trust.index_rules import index_gaps

    components = graph.components()
    facts = enrich(
        packages_of(components),
        index_url=options.index_url,
        cache_dir=options.cache_dir,
        offline=options.offline,
        session=options.session,
        timeout=options.timeout,
        progress=options.progress,
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
        component = index_metadata(component, found)  # its licence, its project's URLs
        component = _installed_wheel_hash(component, found)
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


def _installed_wheel_hash(component: Component, found: Any) -> Component:
    """An installed distribution with the sha256 the index lists for the wheel it was
    installed from: the one release file whose tags are the ``WHEEL`` file's, exactly
    (RECORD hashes the files, not the wheel; none other is guessed)."""
    installed = dict(component.properties).get("depchain:wheel-tags")
    if not installed or not found.files:
        return component
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    tags = frozenset(installed.split())
    matches = []
    for f in found.files:
        if f.kind != "wheel" or not f.sha256 or not f.filename.endswith(".whl"):
            continue
        try:
            file_tags = frozenset(str(t) for t in parse_wheel_filename(f.filename)[3])
        except InvalidWheelFilename:
            continue
        if file_tags == tags:
            matches.append(f)
    if len(matches) != 1:
        return component
    digest = Hash("sha256", matches[0].sha256.lower())
    said = ("depchain:hash-source", f"index: {matches[0].filename}")
    return replace(
        component,
        hashes=tuple(sorted({*component.hashes, digest})),
        properties=tuple(sorted({*component.properties, said})),
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
    # one finding per gap, component and place: a line read through two includes (a
    # base.txt that a runtime and a dev file both include) is one problem, at its worst
    best: dict[tuple[str, str, str, tuple[tuple[str, int | None], ...]], Finding] = {}
    for f in found:
        key = (f.id, f.component, f.message, tuple((e.path, e.line) for e in f.evidence))
        if key not in best or Severity(f.severity).rank > Severity(best[key].severity).rank:
            best[key] = f
    return sorted(
        best.values(), key=lambda f: (-Severity(f.severity).rank, f.id, f.component, f.evidence)
    )


def _link_services(graph: DependencyGraph, subject: str, projects: Sequence[str] = ()) -> None:
    """Client libraries of every runtime project to the servers they imply; URL services
    folded into the deployment's own (before any export: ids of folded services
    disappear)."""
    from depchain.services import link_client_libraries

    if graph.services() or any(c.ecosystem == "pypi" for c in graph.components()):
        link_client_libraries(graph, [subject, *projects])


def _is_environment(folder: Path) -> bool:
    return is_environment(folder)


def _scan_environment(
    root: Path,
    env: object,
    max_file_size: int,
    enrich: EnrichOptions | None = None,
    policy_file: Path | None = None,
    vulns: VulnOptions | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """One installed environment: every distribution, its links and what they need
    (``progress(done, total, distribution)`` as each one is read)."""
    from depchain.resolvers import environment

    located = env if isinstance(env, environment.Environment) else environment.locate(root)
    graph = DependencyGraph()
    fallback = generic_component(
        root.resolve().name or "environment", Evidence(".", None, "scan"), ComponentType.APPLICATION
    )
    ctx = ResolveContext(root=root, subject_for=lambda _: fallback, max_file_size=max_file_size)
    # the native cache lives with the others: --cache-dir, else the default folder
    folder = (enrich.cache_dir if enrich else None) or (vulns.cache_dir if vulns else None)
    if folder is not None:
        from depchain.native.cache import NativeCache

        cache: NativeCache | bool = NativeCache(Path(folder) / "native")
    else:
        cache = True
    fragment = environment.resolve_environment(located, ctx, cache=cache, progress=progress)
    graph.add_fragment(fragment)
    _link_services(graph, fragment.subjects[0])
    notes = sorted(set(fragment.notes))
    policy, policy_errors = (
        _policy(root, policy_file, max_file_size) if policy_file else (Policy(), [])
    )
    index_findings = _enrich(graph, enrich, policy, notes) if enrich else []
    report, vuln_findings, ignored = _audit(graph, vulns, policy, [fragment.subjects[0]])
    if report is not None:
        notes = sorted({*notes, *(("advisories", n) for n in report.notes)})
    findings = _gaps(graph, policy, index_findings + vuln_findings, notes, bool(enrich))
    return ScanResult(
        root=root,
        target=root,
        graph=graph,
        subject=fragment.subjects[0],
        inputs=[
            InputFile(
                ctx.display(sp),
                environment.NAME,
                fragment.subjects[0],
                Role.RUNTIME,
                "an installed environment",
            )
            for sp in located.site_packages
        ],
        projects={fragment.subjects[0]: Role.RUNTIME},
        errors=sorted({*fragment.errors, *policy_errors}),
        notes=sorted(set(notes)),
        findings=findings,
        policy=policy,
        audit=report,
        ignored=ignored,
    )
