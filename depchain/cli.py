"""The command line: thin over the library. Parse, call, render, return an exit code.

Exit codes: 0 nothing at or above the failure threshold; 1 findings at or above it;
2 usage error; 3 some input could not be read (everything else is still reported).
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depchain import __version__
from depchain.errors import DepchainError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from depchain.model import DependencyKind
    from depchain.scanner import EnrichOptions, ScanResult

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_BUG = 0, 1, 2, 3, 4

app = typer.Typer(
    name="depchain",
    help="Software supply-chain dependency auditor: build, static, dynamic and service "
    "dependencies in one graph, SBOMs, and trust gaps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # help texts are plain text: rich markup would eat "[tool.depchain]"
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ScanFormat(str, enum.Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"
    html = "html"


class SbomFormat(str, enum.Enum):
    cyclonedx_json = "cyclonedx-json"
    cyclonedx_xml = "cyclonedx-xml"
    spdx_json = "spdx-json"


class Severity(str, enum.Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


PathArg = Annotated[
    Path,
    typer.Argument(help="A folder, or one manifest or lock file. Default: this folder."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write here (atomically) instead of to stdout."),
]
PythonOpt = Annotated[
    Path | None,
    typer.Option(
        "--python",
        help="Scan the installed environment of this interpreter (read, never run).",
    ),
]
EnrichOpt = Annotated[
    bool | None,
    typer.Option(
        "--enrich/--no-enrich",
        help="Ask the package index who owns each Python package and how it was "
        "published: the cache first, then the index within --index-timeout. On by "
        "default (DEPCHAIN_ENRICH=0 turns the default off); --no-enrich reads the files "
        "alone.",
        show_default=False,
    ),
]
OfflineOpt = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Never the network: enrich from the cache only (also DEPCHAIN_OFFLINE=1).",
    ),
]
IndexUrlOpt = Annotated[
    str | None,
    typer.Option("--index-url", help="The index to ask (default: pip's configuration, else PyPI)."),
]
IndexTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--index-timeout",
        min=0.1,
        help="Seconds for all package-index requests of this scan (each request at most "
        "15 s); what is not answered by then is unknown, with a note.",
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where answers are cached (default: $DEPCHAIN_CACHE_DIR, else the user cache folder).",
    ),
]


class VulnService(str, enum.Enum):
    osv = "osv"
    pypi = "pypi"


VulnDbOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--vuln-db",
        help="A folder or zip of OSV advisories (JSON or YAML) to audit with, offline "
        "(repeatable); added to what 'depchain db update' keeps in the cache.",
    ),
]
VulnServiceOpt = Annotated[
    list[VulnService] | None,
    typer.Option(
        "--vuln-service",
        help="Also ask pip-audit's vulnerability service online (osv or pypi; PyPI "
        "packages only). One that cannot be reached is exit 3.",
    ),
]
NoAuditOpt = Annotated[
    bool, typer.Option("--no-audit", help="Do not audit known vulnerabilities at all.")
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        help="A glob of paths not to read (repeatable; 'tests', 'docs/**', '**/*.lock'); "
        "added to the policy's exclude list and listed in the report's notes.",
    ),
]
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option("--include", help="Read only the paths these globs match (repeatable)."),
]
RoleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="GLOB=ROLE: give the files a glob matches this role (runtime, build, dev, test, "
        "example, docs or fixture), over what depchain decided (repeatable).",
    ),
]
AllRolesOpt = Annotated[
    bool,
    typer.Option(
        "--all-roles",
        help="Read fixtures too, and let every file make the dependencies its resolver "
        "says whatever its role (as if every file were the project's runtime).",
    ),
]
MaxSizeOpt = Annotated[
    int, typer.Option("--max-file-size", help="Largest input file read, in MiB.", min=1)
]
MinCompletenessOpt = Annotated[
    float | None,
    typer.Option(
        "--min-completeness",
        min=0,
        max=100,
        metavar="PERCENT",
        help="Exit 1 when the SBOM's overall minimum-elements completeness (the share of "
        "(component, element) checks met; every element weighs the same) is below this.",
    ),
]
Cisa2025Opt = Annotated[
    bool,
    typer.Option(
        "--cisa-2025",
        help="Check the additions of CISA's 2025 draft too: component hash, license, tool "
        "name, generation context (and an SBOM author that is a person or organisation).",
    ),
]


QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Findings only: the table shows trust gaps and vulnerabilities alone; no "
        "progress bars.",
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Say on stderr what was read (each input file, its resolver and role, and why) "
        "and what was skipped, and why.",
    ),
]
NoColorOpt = Annotated[
    bool,
    typer.Option(
        "--no-color",
        help="No colour, even on a terminal (also NO_COLOR=1). Files and pipes never get "
        "any (FORCE_COLOR=1: pipes do).",
    ),
]


def _progress(what: str = "") -> object:
    """A transient progress bar on stderr when it is a terminal (None otherwise, and
    with -q): ``progress(done, total, item)``."""
    from depchain.render.console import BARS

    return BARS.counter(what.strip() or "scanning")


def offline_by_environment() -> bool:
    """``DEPCHAIN_OFFLINE`` set to anything but ``0``/``false``/empty: no network."""
    return os.environ.get("DEPCHAIN_OFFLINE", "").strip().lower() not in {"", "0", "false", "no"}


def _enrich_options(
    enrich: bool | None,
    offline: bool,
    index_url: str | None,
    cache_dir: Path | None,
    index_timeout: float,
) -> EnrichOptions | None:
    """Enrichment as the options say: on by default, from the cache alone when offline."""
    from depchain.scanner import EnrichOptions

    offline = offline or offline_by_environment()
    if enrich is None:  # the default: on, unless the environment turns it off
        enrich = os.environ.get("DEPCHAIN_ENRICH", "").strip().lower() not in {"0", "false", "no"}
    if not (enrich or offline):
        return None
    return EnrichOptions(
        offline=offline,
        index_url=index_url,
        cache_dir=cache_dir,  # None: depchain.enrich.cache.cache_dir() decides
        timeout=index_timeout,
        progress=_progress("package index ") if not offline else None,  # type: ignore[arg-type]
    )


def _scan(
    path: Path,
    max_file_size: int,
    python: Path | None = None,
    enrich: bool | None = False,
    offline: bool = False,
    index_url: str | None = None,
    cache_dir: Path | None = None,
    policy: Path | None = None,
    exclude: list[str] | None = None,
    include: list[str] | None = None,
    role: list[str] | None = None,
    all_roles: bool = False,
    index_timeout: float = 60.0,
    vuln_db: list[Path] | None = None,
    vuln_service: list[VulnService] | None = None,
    no_audit: bool = False,
) -> ScanResult:
    from depchain.scanner import VulnOptions, scan

    options = _enrich_options(enrich, offline, index_url, cache_dir, index_timeout)
    result = scan(
        path,
        python=python,
        max_file_size=max_file_size * 1024 * 1024,
        progress=_progress(),  # type: ignore[arg-type]
        enrich=options,
        policy=policy,
        exclude=exclude or (),
        include=include or (),
        roles=role or (),
        all_roles=all_roles,
        vulns=VulnOptions(
            databases=tuple(vuln_db or ()),
            services=tuple(s.value for s in vuln_service or ()),
            cache_dir=cache_dir,
            timeout=index_timeout,
            enabled=not no_audit,
        ),
    )
    from depchain.render.console import SETTINGS

    if SETTINGS.verbose:  # -v: what was read and skipped, and why
        from depchain.render.table import inputs_read

        for line in inputs_read(result):
            typer.echo(f"depchain: {line}", err=True)
    return result


def _emit(text: str | Iterable[str], output: Path | None) -> None:
    """Write ``text`` (one string, or its pieces in order: a large table is never held
    whole) to ``output`` atomically, or to standard output; redacted either way."""
    from depchain.redaction import redact_text
    from depchain.render.console import BARS

    BARS.stop()  # progress bars cleared before anything is written
    # the last boundary: nothing secret leaves, whatever made it (pieces are whole lines)
    pieces = (redact_text(piece) for piece in ([text] if isinstance(text, str) else text))
    if output is None or str(output) == "-":
        try:
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
        except OSError as exc:  # a full disk, a closed pipe: one line, exit 3
            import contextlib

            from depchain.errors import OutputError

            with contextlib.suppress(OSError, ValueError):  # no second complaint at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

            raise OutputError(f"standard output: cannot write ({exc.strerror})") from None
    else:
        from depchain.fileio import atomic_writer

        with atomic_writer(output) as handle:
            for piece in pieces:
                handle.write(piece)


def _width(output: Path | None) -> int:
    """The terminal's width when the table goes to one (COLUMNS first), else COLUMNS,
    else 80 columns (always 80 into a file)."""
    from depchain.render.console import output_width

    return output_width(output)


def _report_errors(result: ScanResult) -> int:
    errors = result.errors
    from depchain.redaction import redact_text
    from depchain.render import printable

    for error in errors:
        typer.echo(printable(redact_text(f"depchain: cannot read {error}")), err=True)
    return EXIT_INCOMPLETE if errors else EXIT_OK


@app.command()
def scan(
    path: PathArg = Path("."),
    format: Annotated[ScanFormat, typer.Option("--format", "-f")] = ScanFormat.table,
    output: OutputOpt = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 on findings at or above this (default: the policy's, else high).",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Table: list every edge, not only direct ones.")
    ] = False,
    max_file_size: MaxSizeOpt = 32,
    python: PythonOpt = None,
    enrich: EnrichOpt = None,
    offline: OfflineOpt = False,
    index_url: IndexUrlOpt = None,
    index_timeout: IndexTimeoutOpt = 60.0,
    cache_dir: CacheDirOpt = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="The trust policy file (a depchain.toml, or a TOML file with "
            "[tool.depchain]); default: the scanned folder's, or the nearest above it "
            "in its git work tree.",
        ),
    ] = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    role: RoleOpt = None,
    all_roles: AllRolesOpt = False,
    vuln_db: VulnDbOpt = None,
    vuln_service: VulnServiceOpt = None,
    no_audit: NoAuditOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Scan a repository, a manifest or lock file, a wheel, or an installed environment
    (a virtual environment or site-packages folder) and report its dependency graph."""
    _terminal_options(quiet, verbose, no_color)
    result = _scan(
        path,
        max_file_size,
        python,
        enrich,
        offline,
        index_url,
        cache_dir,
        policy,
        exclude,
        include,
        role,
        all_roles,
        index_timeout,
        vuln_db,
        vuln_service,
        no_audit,
    )
    if format is ScanFormat.json:
        from depchain.export import json_report

        _emit(json_report.render(result), output)
    elif format is ScanFormat.sarif:
        from depchain.export import sarif

        _emit(sarif.render(result), output)
    elif format is ScanFormat.markdown:
        from depchain.render import markdown

        _emit(markdown.render(result), output)
    elif format is ScanFormat.html:
        from depchain import picture
        from depchain.render import html

        _emit(html.render(result, picture.build(result)), output)
    else:
        from depchain.render import table
        from depchain.render.console import SETTINGS, color_wanted

        lines = table.render_lines(
            result,
            show_all=show_all,
            width=_width(output),
            color=color_wanted(output),
            quiet=SETTINGS.quiet,
        )
        _emit(lines, output)
    code = _report_errors(result)
    if fail_on is None:
        default = result.policy.fail_on if result.policy else None
        fail_on = Severity(default) if default else Severity.high
    if code == EXIT_OK and _fails(result, fail_on):
        code = EXIT_FINDINGS
    raise typer.Exit(_audit_code(result, code, fail_on))


def _audit_code(result: ScanResult, code: int, fail_on: Severity | None = None) -> int:
    """A vulnerability source the user asked for that failed makes the run incomplete
    (exit 3), unless they chose ``--fail-on never``; each failure is one line on stderr."""
    if result.audit is None or not result.audit.errors:
        return code
    from depchain.redaction import redact_text
    from depchain.render import printable

    for error in result.audit.errors:
        typer.echo(printable(redact_text(f"depchain: vulnerabilities: {error}")), err=True)
    return code if fail_on is Severity.never else max(code, EXIT_INCOMPLETE)


def _fails(result: ScanResult, fail_on: Severity) -> bool:
    """Whether any finding is at or above the ``--fail-on`` threshold."""
    if fail_on is Severity.never:
        return False
    order = [s.value for s in Severity if s is not Severity.never]
    threshold = order.index(fail_on.value)
    return any(order.index(f.severity) >= threshold for f in result.findings)


@app.command()
def accept(
    path: Annotated[Path, typer.Argument(help="The repository (default: this folder).")] = Path(
        "."
    ),
    who: Annotated[
        str | None, typer.Option("--who", help="Who accepts (recorded on each new entry).")
    ] = None,
    why: Annotated[
        str | None, typer.Option("--why", help="Why (recorded on each new entry).")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Drop what the repository no longer has.")
    ] = False,
    output: OutputOpt = None,
    offline: OfflineOpt = False,
    cache_dir: CacheDirOpt = None,
    index_timeout: IndexTimeoutOpt = 60.0,
    max_file_size: MaxSizeOpt = 32,
) -> None:
    """Record the repository's trust relationships in its trust ledger
    (depchain-ledger.json): every dependency edge, owner, index and open gap. Review the
    diff, then commit it: 'depchain check' (the pre-commit hook) then fails only on what
    is new."""
    from depchain.check import accept as accept_ledger
    from depchain.trust import ledger as trust_ledger

    if not path.is_dir():
        raise UsageError(f"{path}: not a folder; accept records a repository's trust")
    done = accept_ledger(
        path,
        who=who,
        why=why,
        prune=prune,
        enrich=_enrich_options(None, offline, None, cache_dir, index_timeout),
        max_file_size=max_file_size * 1024 * 1024,
    )
    target = output or done.path
    _emit(trust_ledger.render(done.acceptance.ledger), target)
    added, removed = done.acceptance.added, done.acceptance.removed
    counts = ", ".join(
        f"{sum(1 for k in added if k.section == section)} {section}"
        for section in trust_ledger.SECTIONS
    )
    shown = target if str(target) == "-" else _shown_path(Path(target))
    typer.echo(
        f"depchain: {len(added)} accepted ({counts}), {len(removed)} removed; wrote {shown}: "
        "review the diff and commit it",
        err=True,
    )
    raise typer.Exit(_report_errors(done.result))


def _shown_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def check(ctx: typer.Context) -> None:
    """The pre-commit hook: fail only on trust relationships and gaps the trust ledger
    does not hold (FILES: what changed; 'depchain check --help' says more)."""
    from depchain.hook import run

    raise typer.Exit(run(ctx.args))


@app.command()
def explain(
    gap: Annotated[str | None, typer.Argument(help="A gap ID (DC001...); none lists all.")] = None,
) -> None:
    """Explain a trust-gap ID: what it means, how severe it is, how to close it."""
    from depchain.trust.catalogue import BY_ID, CATALOGUE

    if gap is None:
        for entry in CATALOGUE:
            typer.echo(f"{entry.id}  {entry.severity.value:<8} {entry.title}")
        return
    found = BY_ID.get(gap.upper())
    if found is None:
        raise UsageError(f"{gap}: no such gap ID (depchain explain lists them)")
    typer.echo(
        f"{found.id} {found.title}\nseverity: {found.severity.value}"
        + (" (found with package-index data)" if found.needs_index else "")
        + f"\n\n{found.explanation}\n\nfix: {found.fix}"
    )


class GraphFormat(str, enum.Enum):
    dot = "dot"
    svg = "svg"
    mermaid = "mermaid"
    html = "html"


class Collapse(str, enum.Enum):
    auto = "auto"
    owner = "owner"
    none = "none"


KindOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        metavar="KIND",
        help="Only edges of this kind: build, static, dynamic or service (repeatable).",
    ),
]


def _kinds(kind: list[str] | None) -> list[DependencyKind] | None:
    from depchain.model import DependencyKind

    if not kind:
        return None
    try:
        return [DependencyKind(k.strip().lower()) for k in kind]
    except ValueError:
        raise UsageError(
            f"--kind {', '.join(kind)}: choose build, static, dynamic or service"
        ) from None


@app.command()
def graph(
    path: PathArg = Path("."),
    format: Annotated[
        GraphFormat,
        typer.Option(
            "--format",
            "-f",
            help="dot (Graphviz), svg (laid out by Graphviz's dot, which must be installed), "
            "mermaid, or html (the interactive report).",
        ),
    ] = GraphFormat.dot,
    output: OutputOpt = None,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=0, help="Only what is within N edges of the project."),
    ] = None,
    focus: Annotated[
        list[str] | None,
        typer.Option(
            "--focus",
            metavar="NAME",
            help="Only the paths to and from this component or service (NAME, "
            "NAME==VERSION or a purl; repeatable).",
        ),
    ] = None,
    kind: KindOpt = None,
    collapse: Annotated[
        Collapse,
        typer.Option(
            "--collapse",
            help="owner: components of one known owner drawn as one node; auto: so when "
            "more than 150 nodes are drawn, and (but for html) the deepest layers left out "
            "while more than 400 nodes or 500 edges remain, then only the nodes nearest the "
            "project kept until it fits, said in the caption; none: draw everything asked "
            "for.",
        ),
    ] = Collapse.auto,
    max_file_size: MaxSizeOpt = 32,
    python: PythonOpt = None,
    enrich: EnrichOpt = None,
    offline: OfflineOpt = False,
    index_url: IndexUrlOpt = None,
    index_timeout: IndexTimeoutOpt = 60.0,
    cache_dir: CacheDirOpt = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="The trust policy (default: the scanned folder's)."),
    ] = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    role: RoleOpt = None,
    all_roles: AllRolesOpt = False,
    vuln_db: VulnDbOpt = None,
    no_audit: NoAuditOpt = False,
) -> None:
    """Draw the dependency graph: components coloured by provenance (the project, a
    trust gap open, trusted explicitly, owner unknown, owner known but trusted
    implicitly) and shaped by what they are; edges styled by kind (build dashed, static
    bold, dynamic solid, service dotted); services outside the trust boundary drawn
    outside it."""
    from depchain import picture

    kinds = _kinds(kind)
    result = _scan(
        path,
        max_file_size,
        python,
        enrich,
        offline,
        index_url,
        cache_dir,
        policy,
        exclude,
        include,
        role,
        all_roles,
        index_timeout,
        vuln_db,
        None,
        no_audit or format is not GraphFormat.html,
    )
    drawn = picture.build(
        result,
        kinds=kinds,
        depth=depth,
        focus=focus or (),
        collapse=collapse.value,
        # a drawing laid out once must stay readable; the HTML report's graph filters
        limit=None if format is GraphFormat.html else (picture.DRAWN_NODES, picture.DRAWN_EDGES),
    )
    text: str
    if format is GraphFormat.mermaid:
        from depchain.render import mermaid

        text = mermaid.render(drawn)
    elif format is GraphFormat.html:
        from depchain.render import html

        text = html.render(result, drawn)
    else:
        from depchain.render import dot

        text = dot.render(drawn)
        if format is GraphFormat.svg:
            text = dot.to_svg(text).decode("utf-8")
    _emit(text, output)
    raise typer.Exit(_report_errors(result))


@app.command()
def why(
    name: Annotated[
        str,
        typer.Argument(
            help="The component or service: its name, NAME==VERSION, a purl or an id.",
            show_default=False,
        ),
    ],
    path: PathArg = Path("."),
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=1,
            help="Paths shown per component, shortest first (the search is bounded too: "
            "it says when more paths may exist).",
        ),
    ] = 20,
    kind: KindOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    max_file_size: MaxSizeOpt = 32,
    python: PythonOpt = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    role: RoleOpt = None,
    all_roles: AllRolesOpt = False,
) -> None:
    """Why is NAME here? Every path from the project to it, shortest first, each hop
    with its kind, scope, how it was found and where (file:line). Reads the files
    alone: no package index, no advisories."""
    from depchain import why as explaining
    from depchain.render import why as render_why

    result = _scan(
        path,
        max_file_size,
        python,
        enrich=False,
        exclude=exclude,
        include=include,
        role=role,
        all_roles=all_roles,
        no_audit=True,
    )
    answers = explaining.explain(result, name, limit=limit, kinds=_kinds(kind))
    if json_output:
        _emit(render_why.render_json(result, answers), None)
    else:
        _emit(render_why.render_lines(result, answers), None)
    raise typer.Exit(_report_errors(result))


@app.command()
def sbom(
    path: PathArg = Path("."),
    format: Annotated[SbomFormat, typer.Option("--format", "-f")] = SbomFormat.cyclonedx_json,
    spec_version: Annotated[
        str, typer.Option("--spec-version", help="CycloneDX version: 1.5, 1.6 or 1.7.")
    ] = "1.6",
    output: OutputOpt = None,
    max_file_size: MaxSizeOpt = 32,
    python: PythonOpt = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    role: RoleOpt = None,
    all_roles: AllRolesOpt = False,
    vuln_db: VulnDbOpt = None,
    vuln_service: VulnServiceOpt = None,
    no_audit: NoAuditOpt = False,
    cache_dir: CacheDirOpt = None,
    enrich: EnrichOpt = None,
    offline: OfflineOpt = False,
    index_url: IndexUrlOpt = None,
    index_timeout: IndexTimeoutOpt = 60.0,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="The trust policy (default: the scanned folder's)."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Then check the document written for the NTIA minimum elements, as "
            "'depchain sbom check' does: its summary on stderr (implied by "
            "--min-completeness).",
        ),
    ] = False,
    min_completeness: MinCompletenessOpt = None,
    cisa_2025: Cisa2025Opt = False,
    author: Annotated[
        str | None,
        typer.Option(
            "--author",
            help="Who authors the SBOM (a person or team): metadata.authors (default: the "
            "policy's sbom-author).",
        ),
    ] = None,
    manufacturer: Annotated[
        str | None,
        typer.Option(
            "--manufacturer",
            help="The organization that makes the product and its SBOM: metadata.manufacturer "
            "and the root component's supplier (default: the policy's sbom-manufacturer).",
        ),
    ] = None,
    component_name: Annotated[
        str | None,
        typer.Option(
            "--component-name",
            help="The root component's name (default: the project's own; an environment's "
            "local project, else its folder).",
        ),
    ] = None,
    component_version: Annotated[
        str | None,
        typer.Option("--component-version", help="The root component's version."),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Export a validated SBOM (CycloneDX JSON or XML), with the known vulnerabilities
    of its components. 'depchain sbom check FILE' checks any SBOM (CycloneDX or SPDX,
    ours or a supplier's) for the NTIA minimum elements."""
    from depchain.export import cyclonedx

    _terminal_options(quiet, verbose, False)
    if spec_version not in cyclonedx.SPEC_VERSIONS:
        raise UsageError(
            f"--spec-version {spec_version}: choose one of {', '.join(cyclonedx.SPEC_VERSIONS)}"
        )
    result = _scan(
        path,
        max_file_size,
        python,
        exclude=exclude,
        include=include,
        role=role,
        all_roles=all_roles,
        vuln_db=vuln_db,
        vuln_service=vuln_service,
        no_audit=no_audit,
        cache_dir=cache_dir,
        enrich=enrich,
        offline=offline,
        index_url=index_url,
        index_timeout=index_timeout,
        policy=policy,
    )
    result = cyclonedx.with_options(
        result,
        author=author,
        manufacturer=manufacturer,
        component_name=component_name,
        component_version=component_version,
    )
    if format is SbomFormat.spdx_json:
        from depchain.export import spdx

        text = spdx.render(result)
    else:
        text = cyclonedx.render(result, cyclonedx.Format(format.value), spec_version)
    _emit(text, output)
    code = _audit_code(result, _report_errors(result))
    if check or min_completeness is not None:
        from depchain import sbomcheck
        from depchain.redaction import redact_text
        from depchain.render import printable
        from depchain.render import sbomcheck as render_check

        shown = "standard output" if output is None or str(output) == "-" else str(output)
        report = sbomcheck.check_bytes(text.encode("utf-8"), shown, cisa_2025=cisa_2025)
        summary = render_check.render_summary(report, min_completeness)
        typer.echo(printable(redact_text(summary)), err=True, nl=False)
        if min_completeness is not None and not report.passes(min_completeness):
            code = max(code, EXIT_FINDINGS)
    raise typer.Exit(code)


@app.command("sbom-check", hidden=True)
def sbom_check(
    file: Annotated[
        Path,
        typer.Argument(
            help="A CycloneDX document (JSON or XML, 1.2 to 1.7) or an SPDX 2.x JSON one.",
            show_default=False,
        ),
    ],
    format: Annotated[str, typer.Option("--format", "-f", metavar="table|json|markdown")] = "table",
    output: OutputOpt = None,
    min_completeness: MinCompletenessOpt = None,
    cisa_2025: Cisa2025Opt = False,
    max_file_size: Annotated[
        int, typer.Option("--max-file-size", min=1, help="Largest document read, in MiB.")
    ] = 64,
) -> None:
    """(depchain sbom check FILE) Which NTIA minimum elements each component of an SBOM
    lacks (supplier, name, version, unique identifier, dependency relationship; the
    document's author and timestamp), with --cisa-2025 also the 2025 draft's hash,
    license, tool name and generation context; completeness per element and overall.
    Exit 0; 1: overall below --min-completeness; 3: the document cannot be read."""
    from depchain import sbomcheck
    from depchain.render import sbomcheck as render_check

    if format not in {"table", "json", "markdown"}:
        raise UsageError(f"--format {format!r}: choose table, json or markdown")
    report = sbomcheck.check_file(file, max_file_size * 1024 * 1024, cisa_2025=cisa_2025)
    if format == "json":
        _emit(render_check.render_json(report), output)
    elif format == "markdown":
        _emit(render_check.render_markdown(report, min_completeness), output)
    else:
        _emit(render_check.render_table(report, min_completeness, width=_width(output)), output)
    failed = min_completeness is not None and not report.passes(min_completeness)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


db_app = typer.Typer(
    name="db",
    help="The advisory data depchain audits with offline.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(db_app)


@db_app.command("update")
def db_update(
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            "--ecosystem",
            help="An OSV ecosystem to download (repeatable; default: PyPI, crates.io, Go).",
        ),
    ] = None,
    url: Annotated[
        str,
        typer.Option("--url", help="Where the archives are: <url>/<Ecosystem>/all.zip."),
    ] = "https://osv-vulnerabilities.storage.googleapis.com",
    cache_dir: CacheDirOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Download even when the kept archive is current.")
    ] = False,
) -> None:
    """Download OSV's per-ecosystem advisory archives (all.zip) into the cache, where
    scans find them: each one whole or not at all, the previous one kept on failure."""
    from depchain.render.console import BARS
    from depchain.vulns import dbupdate

    results = dbupdate.update(
        ecosystem or dbupdate.DEFAULT_ECOSYSTEMS,
        base_url=url,
        cache_dir=cache_dir,  # None: depchain.enrich.cache.cache_dir() decides
        progress=BARS.downloads(),  # a transient bar on a terminal, nothing elsewhere
        force=force,
    )
    BARS.stop()
    failed = 0
    for result in results:
        if result.error is not None:
            failed += 1
            typer.echo(f"depchain: {result.ecosystem}: {result.error}", err=True)
            continue
        info = result.info
        when = info.last_modified[:10] if info else "?"
        records = f"{info.records} records, " if info and info.records is not None else ""
        state = "unchanged" if result.unchanged else "updated"
        typer.echo(f"{result.ecosystem}: {state} ({records}data of {when}) in {result.path}")
    raise typer.Exit(EXIT_INCOMPLETE if failed else EXIT_OK)


@app.command()
def diff(
    old: Annotated[
        Path | None,
        typer.Argument(
            help="OLD: a depchain JSON report, a CycloneDX SBOM (JSON or XML) or an SPDX 2.x "
            "JSON document; with --rev, the repository (default: this folder).",
            show_default=False,
        ),
    ] = None,
    new: Annotated[
        Path | None,
        typer.Argument(help="NEW: the same kinds of file (not with --rev).", show_default=False),
    ] = None,
    rev: Annotated[
        str | None,
        typer.Option(
            "--rev",
            help="OLD..NEW: compare two git revisions (OLD...NEW: NEW against its merge base "
            "with OLD), each copied with git archive to a temporary folder and scanned there; "
            "the work tree is not touched.",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", metavar="table|json|markdown")] = "table",
    output: OutputOpt = None,
    fail_on: Annotated[
        Severity,
        typer.Option(
            "--fail-on",
            help="Exit 1 on a new trust gap at or above this; every other trust change (new "
            "owner, index or source, lost hash or attestation, new native component or "
            "service) exits 1 whatever it is; never: report only, exit 0.",
        ),
    ] = Severity.medium,
    max_file_size: Annotated[
        int,
        typer.Option(
            "--max-file-size", min=1, help="Largest report, SBOM or input file read, in MiB."
        ),
    ] = 64,
    max_tree_size: Annotated[
        int,
        typer.Option("--max-tree-size", min=1, help="--rev: largest revision copied, in MiB."),
    ] = 512,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="--rev: the trust policy for both revisions (default: each revision's own).",
        ),
    ] = None,
    enrich: EnrichOpt = None,
    offline: OfflineOpt = False,
    index_timeout: IndexTimeoutOpt = 60.0,
    cache_dir: CacheDirOpt = None,
    vuln_db: VulnDbOpt = None,
    no_audit: NoAuditOpt = False,
) -> None:
    """Compare two reports or SBOMs, or two git revisions (--rev): components added,
    removed and changed, and the trust changes (new owners, indexes and sources, lost
    hashes or attestations, new native components and services, new trust gaps).
    Exit 0: no trust change; 1: a trust change (or a new gap at or above --fail-on);
    3: an input that cannot be read, or NEW's scan could not read one of its files."""
    from depchain import diff as diffing
    from depchain.redaction import redact_text
    from depchain.render import diff as render_diff
    from depchain.render import printable

    if format not in {"table", "json", "markdown"}:
        raise UsageError(f"--format {format!r}: choose table, json or markdown")
    limit = max_file_size * 1024 * 1024
    if rev is not None:
        if new is not None:
            raise UsageError("with --rev give one folder, the repository (not two files)")
        before, after = diffing.load_revisions(
            old or Path("."),
            rev,
            scan=lambda folder: _scan(
                folder,
                max_file_size,
                enrich=enrich,
                offline=offline,
                cache_dir=cache_dir,
                policy=policy,
                index_timeout=index_timeout,
                vuln_db=vuln_db,
                no_audit=no_audit,
            ),
            max_tree_size=max_tree_size * 1024 * 1024,
        )
    elif old is None or new is None:
        raise UsageError("give OLD and NEW (reports or SBOMs), or --rev OLD..NEW [REPOSITORY]")
    else:
        before, after = diffing.load(old, limit), diffing.load(new, limit)
    result = diffing.compare(before, after)
    threshold = fail_on.value
    if format == "json":
        _emit(render_diff.render_json(result, threshold), output)
    elif format == "markdown":
        _emit(render_diff.render_markdown(result, threshold), output)
    else:
        _emit(render_diff.render_table(result, threshold, width=_width(output)), output)
    code = EXIT_FINDINGS if result.failing(threshold) else EXIT_OK
    for side, document in (("OLD", before), ("NEW", after)):
        for error in document.errors:  # NEW incomplete: what it lacks may look fixed
            what = "cannot read" if side == "NEW" else "note: OLD's scan could not read"
            typer.echo(
                printable(redact_text(f"depchain: {document.path}: {what} {error}")), err=True
            )
            code = EXIT_INCOMPLETE if side == "NEW" else code
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"depchain {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """depchain: whom do we trust, through which dependency, on what evidence?"""
    from depchain.render.console import SETTINGS, Settings

    vars(SETTINGS).update(vars(Settings(quiet=quiet, verbose=verbose, no_color=no_color)))


def _terminal_options(quiet: bool, verbose: bool, no_color: bool) -> None:
    """-q, -v and --no-color given after the command: as if given before it."""
    from depchain.render.console import SETTINGS

    SETTINGS.quiet |= quiet
    SETTINGS.verbose |= verbose
    SETTINGS.no_color |= no_color


def _run(args: list[str]) -> None:
    from depchain.render.console import BARS

    try:
        app(args=args, prog_name="depchain")
    finally:
        BARS.stop()  # an error's line is not drawn over a progress bar


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a script, exits with) the exit code."""
    import signal
    import threading

    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):  # a stopped run unwinds, so that its temporary output file is removed at once
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    code: int | str | None
    given = sys.argv[1:] if argv is None else argv
    if given[:2] == ["sbom", "check"]:  # 'sbom' takes a PATH ('depchain sbom ./check' scans one)
        given = ["sbom-check", *given[2:]]
    if (sys.argv[1:] if argv is None else argv)[:1] == ["check"]:
        from depchain.hook import run

        code = run((sys.argv[1:] if argv is None else argv)[1:])
        if argv is None:
            sys.exit(code)
        return code
    try:
        _run(given)  # standalone: click's usage errors exit 2
        code = EXIT_OK
    except SystemExit as exc:
        code = exc.code
    except DepchainError as exc:
        from depchain.redaction import redact_text
        from depchain.render import printable

        typer.echo(printable(redact_text(f"depchain: {exc.diagnostics()}")), err=True)
        code = EXIT_USAGE if isinstance(exc, UsageError) else EXIT_INCOMPLETE
    except Exception as exc:  # a bug: never exit 1, which a CI reads as "findings"
        if os.environ.get("DEPCHAIN_DEBUG"):
            raise
        where = ""
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        from depchain.redaction import redact_text
        from depchain.render import printable

        said = (str(exc).strip().splitlines() or [""])[0][:160]
        typer.echo(
            printable(
                redact_text(
                    f"depchain: internal error: {type(exc).__name__}: {said}{where} "
                    "(a bug in depchain; DEPCHAIN_DEBUG=1 shows the traceback)"
                )
            ),
            err=True,
        )
        code = EXIT_BUG
    code = code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    if argv is None:
        sys.exit(code)
    return code
