"""The terminal table: dependencies grouped by kind, as wide as the terminal (80
columns when the output is not one).

Nothing is cut: a cell or a line too long for its place is wrapped onto the next lines,
in its column, so that a reviewer never loses a name, a version, a path or the text of a
finding. The edge listing (290k rows for a large requirements file) is streamed line by
line with plain column code; the bounded sections (trust gaps, vulnerabilities) are laid
out with rich. Colour, when asked for, is added after the text is escaped and redacted.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby, zip_longest
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from depchain import __version__
from depchain.model import Dependency, DependencyKind, Evidence, Role, Service
from depchain.redaction import redact_text
from depchain.render import printable
from depchain.render.console import SEVERITY_STYLES, paint, rich_console
from depchain.scanner import ScanResult
from depchain.trust.surface import trust_surface

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

WIDTH = 80
INDIRECT_SHOWN = 30
"""Rows shown for a kind that only other components have, without --all."""
_TITLES = {
    DependencyKind.BUILD: "build-time (needed to build, test or package; not shipped)",
    DependencyKind.STATIC: "statically linked (carried inside the artifact)",
    DependencyKind.DYNAMIC: "dynamically linked (resolved from the environment at run time)",
    DependencyKind.SERVICE: "service (contacted over an API at run time)",
}


def _fold(text: str, width: int) -> list[str]:
    """``text`` in pieces of at most ``width`` characters, broken at spaces where it can
    be, else anywhere (a long name or path): every character is kept but spaces at a
    break."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(
        text, max(width, 1), break_long_words=True, break_on_hyphens=False, drop_whitespace=True
    ) or [text[:width]]


def _wrap(text: str, width: int, indent: int = 2) -> list[str]:
    """A line of ``text`` too long for ``width`` columns, wrapped, its continuation
    lines indented by ``indent`` more than its own indent."""
    if len(text) <= width:
        return [text]
    lead = len(text) - len(text.lstrip(" "))
    rest = " " * (lead + indent)
    return textwrap.wrap(
        text,
        width,
        initial_indent=" " * lead,
        subsequent_indent=rest,
        break_long_words=True,
        break_on_hyphens=False,
    )


def _columns(cells: Sequence[str], widths: Sequence[int], indent: str = "  ") -> list[str]:
    """One row of cells, each padded to its width (the last one not): one line when
    every cell fits, else each cell too long wrapped within its column. Cells are made
    printable and redacted first, so that the wrapping neither splits an escape nor a
    secret the last redaction would then miss."""
    if all(len(c) <= w for c, w in zip(cells, widths, strict=True)):
        head = " ".join(f"{c:<{w}}" for c, w in zip(cells[:-1], widths[:-1], strict=True))
        return [f"{indent}{head} {cells[-1]}"]
    folded = [_fold(printable(redact_text(c)), w) for c, w in zip(cells, widths, strict=True)]
    lines = []
    for parts in zip_longest(*folded, fillvalue=""):
        head = " ".join(f"{c:<{w}}" for c, w in zip(parts[:-1], widths[:-1], strict=True))
        lines.append(f"{indent}{head} {parts[-1]}".rstrip())
    return lines


@dataclass(frozen=True)
class _Columns:
    """Column widths for a terminal ``width`` wide (80 when not a terminal): the name
    and version columns grow with it, the evidence takes the rest."""

    width: int = WIDTH

    @property
    def name(self) -> int:
        return 24 + max(0, self.width - WIDTH) // 3

    @property
    def version(self) -> int:
        return 12 + max(0, self.width - WIDTH) // 6

    @property
    def scope(self) -> int:
        """12 at 80 columns; 20 at 200, where a group such as ``feature-complete`` or
        ``optional/dev`` no longer wraps."""
        return 12 + max(0, self.width - WIDTH) // 15

    @property
    def row(self) -> tuple[int, int, int, int]:
        """The widths of a row's cells: name, version, scope/group, evidence."""
        name, version, scope = self.name, self.version, self.scope
        return name, version, scope, max(self.width - (2 + name + 1 + version + 1 + scope + 1), 12)


def service_label(service: Service) -> str:
    """A service's name and where it is declared, so that two ``db`` services are told
    apart: ``db (compose backend/)``, ``orders (k8s shop)``."""
    props = dict(service.properties)
    deployment = props.get("depchain:deployment")
    if deployment == "kubernetes":
        return f"{service.name} (k8s {props.get('depchain:k8s-namespace', 'default')})"
    if deployment == "compose" and service.evidence:
        folder = PurePosixPath(sorted(service.evidence)[0].path).parent.as_posix()
        return f"{service.name} (compose {'./' if folder == '.' else folder + '/'})"
    return service.name


def _row(
    deps: list[Dependency], result: ScanResult, cols: _Columns, owner: str | None = None
) -> list[str]:
    """One row for every edge between one pair in one kind (a manifest and a lockfile
    may both say that the project needs flask): one line, or more when a cell is too
    long for its column."""
    dep = deps[0]
    node = result.graph.node(dep.target)
    name = service_label(node) if isinstance(node, Service) else node.name
    if dep.source != (owner or result.subject):  # not the project's own: say whose it is
        name = f"{result.graph.node(dep.source).name} > {name}"
    version = getattr(node, "version", None) or dep.specifier or "*"
    if isinstance(node, Service):  # where it runs or is reached, and across what
        version = node.image or (node.endpoints[0].split("://")[-1] if node.endpoints else "?")
    groups = sorted({g for d in deps for g in d.groups})
    scopes = sorted({d.scope.value for d in deps})
    # a requirement of no group or extra (scrapy's Twisted>=21.7.0) says first that it
    # is required, before the extra that asks for it again (twisted-http2)
    plain = sorted({d.scope.value for d in deps if not d.groups})
    if not groups:
        scope = "/".join(scopes)
    elif plain:
        scope = "/".join(plain) + f"+{len(groups)}"
    else:
        scope = groups[0] + (f"+{len(groups) - 1}" if len(groups) > 1 else "")
    evidence = sorted({e for d in deps for e in d.evidence}, key=lambda e: (e.path, e.line or 0))
    where = evidence[0] if evidence else None
    place = f"{where.path}:{where.line}" if where and where.line else (where.path if where else "?")
    if len(evidence) > 1:
        place += f" +{len(evidence) - 1}"
    return _columns((name, version, scope, place), cols.row)


def _header(cols: _Columns, first: str = "name") -> str:
    return (
        f"  {first:<{cols.name}} {'version':<{cols.version}} {'scope/group':<{cols.scope}} evidence"
    )


def _by_dependent(deps: list[Dependency], result: ScanResult, width: int) -> list[str]:
    """One line per component that has edges of this kind: how many, and how."""
    counts: dict[str, Counter[str]] = {}
    for dep in deps:
        counts.setdefault(dep.source, Counter())[dep.mechanism] += 1
    order = sorted(counts, key=lambda s: (-sum(counts[s].values()), result.graph.node(s).name))
    lines = [f"  {'dependent':<32} {'edges':>5}  how"]
    widths = (32, 6, max(width - 2 - 32 - 1 - 6 - 1, 12))
    for source in order[:INDIRECT_SHOWN]:
        how = ", ".join(f"{m} {n}" for m, n in sorted(counts[source].items()))
        name = result.graph.node(source).name
        lines.extend(_columns((name, f"{sum(counts[source].values()):>5} ", how), widths))
    if len(order) > INDIRECT_SHOWN:
        lines.append(f"  ... and {len(order) - INDIRECT_SHOWN} more (--all lists every edge)")
    return lines


FINDINGS_SHOWN = 25


def _text(text: str, style: str = "") -> Text:
    """Text from the input as rich shows it: escaped and redacted, never read as markup."""
    from rich.text import Text

    return Text(printable(redact_text(text)), style=style)


def _rich(renderable: RenderableType, width: int, color: bool) -> list[str]:
    """``renderable`` laid out by rich in ``width`` columns: its lines, each ending in a
    newline, coloured only when ``color``."""
    from io import StringIO

    buffer = StringIO()
    rich_console(buffer, width, color).print(renderable)
    return [line.rstrip(" ") + "\n" for line in buffer.getvalue().splitlines()]


def _findings(result: ScanResult, width: int = WIDTH, color: bool = False) -> list[str]:
    """Trust gaps, most severe first, grouped by gap; ``depchain explain ID`` says more.
    Each message is whole, wrapped in its column, with its place under it."""
    from rich.table import Table

    by_severity = Counter(f.severity for f in result.findings)
    order = ["critical", "high", "medium", "low", "info"]
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(width=1)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, min_width=6)
    grid.add_column(overflow="fold", ratio=1)
    for finding in result.findings[:FINDINGS_SHOWN]:
        where = finding.evidence[0]
        place = f"{where.path}:{where.line}" if where.line else where.path
        message = _text(finding.message)
        message.append("\n")
        message.append_text(_text(place, "dim"))
        grid.add_row(
            "",
            _text(finding.id),
            _text(finding.severity, SEVERITY_STYLES.get(finding.severity, "")),
            message,
        )
    title = f"TRUST GAPS ({len(result.findings)}): " + ", ".join(
        f"{s} {by_severity[s]}" for s in order if by_severity[s]
    )
    lines = [_heading(title, width, color), *_rich(grid, width, color)]
    if len(result.findings) > FINDINGS_SHOWN:
        lines.append(
            f"  ... and {len(result.findings) - FINDINGS_SHOWN} more "
            "(--format json or sarif lists them all)\n"
        )
    lines.append("  depchain explain ID says what each gap means and how to close it\n")
    return lines


VULNERABILITIES_SHOWN = 30


def _vulnerabilities(
    result: ScanResult, cols: _Columns, color: bool = False, quiet: bool = False
) -> list[str]:
    """The audit's verdict in the first lines, then the advisories, most severe first
    (with ``quiet``, nothing when the audit was turned off or found nothing and missed
    nothing)."""
    from depchain.vulns.summary import headline, rows_of

    rows = rows_of(result)
    if quiet and not rows and (result.audit is None or result.audit.complete):
        return []
    lines = _plain(headline(result), cols.width)
    if not rows:
        return lines
    from rich.table import Table

    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(width=1)
    grid.add_column(no_wrap=True, min_width=8)
    grid.add_column(overflow="fold", ratio=1)
    for row in rows[:VULNERABILITIES_SHOWN]:
        a = row.advisory
        fixed = f"fixed in {', '.join(a.fixed_in[:3])}" if a.fixed_in else "no fix known"
        body = _text(f"{a.id:<20} {row.component}" + ("  (ignored)" if row.ignored else ""))
        body.append("\n")
        body.append_text(_text(a.summary))
        body.append("\n")
        body.append_text(_text(fixed + (f"; {row.ignored}" if row.ignored else ""), "dim"))
        grid.add_row("", _text(row.severity, SEVERITY_STYLES.get(row.severity, "")), body)
    lines.append("\n")
    lines.append(_heading(f"KNOWN VULNERABILITIES ({len(rows)})", cols.width, color))
    lines.extend(_rich(grid, cols.width, color))
    if len(rows) > VULNERABILITIES_SHOWN:
        lines.append(
            f"  ... and {len(rows) - VULNERABILITIES_SHOWN} more (--format json lists them)\n"
        )
    return lines


def _plain(lines: Iterable[str], width: int) -> list[str]:
    """Lines made printable and wrapped to ``width``, each ending in a newline."""
    return [piece + "\n" for line in lines for piece in _wrap(printable(redact_text(line)), width)]


def _heading(line: str, width: int, color: bool) -> str:
    """A section's title, in bold when ``color``: its lines, ending in a newline."""
    return "".join(paint(piece[:-1], "bold", color) + "\n" for piece in _plain([line], width))


_MANIFESTS = frozenset({"pyproject", "setup-cfg", "setup-py", "go-mod", "cargo-lock"})


def _manifest_of(evidence: Sequence[Evidence], role: Role) -> str:
    """The file that declares a project: of its evidence, a manifest read in the
    project's role, the shallowest; not the example's ``pyproject.toml`` that merely
    requires it (which sorts first in flask's tree)."""
    if not evidence:
        return "?"
    best = min(
        evidence,
        key=lambda e: (
            e.role is not role,
            e.resolver not in _MANIFESTS,
            len(PurePosixPath(e.path).parts),
            e.path,
            e.line or 0,
        ),
    )
    return best.path


def _project_sections(
    result: ScanResult, deps: list[Dependency], cols: _Columns, shown: set[int], color: bool
) -> Iterator[str]:
    """Each project of the tree (the subject first, then the other runtime projects,
    then examples and tools): its direct runtime dependencies, then the services it and
    its client libraries reach, then its build and dev dependencies. The edges listed
    are added to ``shown`` (by object identity: ``deps`` outlives it). Lines are
    yielded printable, each ending in a newline."""
    graph = result.graph
    projects = [p for p in result.projects if p in graph]
    if result.subject in graph and result.subject not in projects:
        projects.append(result.subject)
    order = sorted(
        projects,
        key=lambda p: (
            p != result.subject,
            result.projects.get(p, Role.RUNTIME) is not Role.RUNTIME,
            graph.node(p).name.lower(),
        ),
    )
    for project in order:
        node = graph.node(project)
        own = [d for d in deps if d.source == project]
        runtime = [d for d in own if d.kind in {DependencyKind.DYNAMIC, DependencyKind.STATIC}]
        build = [d for d in own if d.kind is DependencyKind.BUILD]
        services = [d for d in own if d.kind is DependencyKind.SERVICE]
        reached = {d.target for d in runtime}
        services += [
            d
            for d in deps
            if d.kind is DependencyKind.SERVICE
            and d.source in reached
            and d.mechanism == "client-library"
        ]
        if not (own or project == result.subject):
            continue
        role = result.projects.get(project, Role.RUNTIME)
        version = getattr(node, "version", None)
        where = _manifest_of(node.evidence, role)
        yield "\n"
        yield _heading(
            f"PROJECT {node.name}{' ' + version if version else ''} ({role.value}; {where})",
            cols.width,
            color,
        )
        for title, chosen in (
            ("runtime: what it ships and runs with (static and dynamic)", runtime),
            ("services: what it and its client libraries talk to", services),
            ("build/dev: to build, test, lint or document it; not shipped", build),
        ):
            yield from _plain(
                [f" {title} ({len({(d.source, d.target) for d in chosen})})"], cols.width
            )
            if not chosen:
                continue
            shown.update(id(d) for d in chosen)
            yield _header(cols) + "\n"
            # rows by name, one per pair (``deps`` is in source, target order)
            chosen.sort(key=lambda d: (graph.node(d.target).name.lower(), d.source, d.target))
            for _, row in groupby(chosen, key=lambda d: (d.source, d.target)):
                for line in _row(list(row), result, cols, owner=project):
                    yield printable(line) + "\n"


def render(
    result: ScanResult,
    show_all: bool = False,
    width: int = WIDTH,
    *,
    color: bool = False,
    quiet: bool = False,
) -> str:
    """The table, ``width`` columns wide (80 when the output is not a terminal)."""
    return "".join(render_lines(result, show_all, width, color=color, quiet=quiet))


def render_lines(
    result: ScanResult,
    show_all: bool = False,
    width: int = WIDTH,
    *,
    color: bool = False,
    quiet: bool = False,
) -> Iterator[str]:
    """The table's lines, each ending in a newline: written one by one, a table of
    290k rows never exists as one string (nor as the three copies escaping, redacting
    and encoding it would make). ``color``: severities and titles in colour (for a
    terminal); ``quiet``: the findings alone (vulnerabilities and trust gaps), nothing
    when there are none."""
    cols = _Columns(max(width, WIDTH))
    if quiet:
        yield from _vulnerabilities(result, cols, color, quiet=True)
        if result.findings:
            yield from _findings(result, cols.width, color)
        return
    graph = result.graph
    deps = graph.dependencies()
    read = sum(1 for i in result.inputs if i.read)
    listed = len(result.inputs) - read
    yield _heading(
        f"depchain {__version__}: {result.target.as_posix()} "
        f"({read} input{'' if read == 1 else 's'} read"
        + (f", {listed} fixtures listed, not read" if listed else "")
        + ")",
        cols.width,
        color,
    )
    tally = {k: sum(1 for d in deps if d.kind is k) for k in DependencyKind}
    surface = trust_surface(graph, result.policy, result.ledger)["total"]
    yield from _plain(
        [
            f"subject: {result.subject}",
            "edges:  " + "   ".join(f"{k.value} {n}" for k, n in tally.items()),
            f"trust:  {surface['components']} components, {surface['owners']} known "
            f"owner{'' if surface['owners'] == 1 else 's'} ({surface['unknown_owner']} "
            f"with owner unknown); explicit {surface['explicit']}, implicit "
            f"{surface['implicit']}",
        ],
        cols.width,
    )
    yield from _vulnerabilities(result, cols, color)
    shown: set[int] = set()
    yield from _project_sections(result, deps, cols, shown, color)
    for kind in DependencyKind:
        of_kind = [d for d in deps if d.kind is kind]
        rest = [d for d in of_kind if id(d) not in shown]
        if not rest:
            continue
        yield "\n"
        every = len(rest) == len(of_kind)
        yield _heading(
            f"{kind.value.upper()} ({len(of_kind)}) "
            + (
                _TITLES[kind]
                if every
                else f"{len(rest)} between other components"
                + ("" if show_all else " (--all lists them)")
            ),
            cols.width,
            color,
        )
        if every and not show_all:
            # an environment: its distributions, not the project, link things
            yield from (printable(line) + "\n" for line in _by_dependent(rest, result, cols.width))
            continue
        if not show_all:
            continue
        yield _header(cols) + "\n"
        rows: dict[tuple[str, str], list[Dependency]] = {}
        for dep in rest:
            rows.setdefault((dep.source, dep.target), []).append(dep)
        for pair in sorted(rows, key=lambda p: (graph.node(p[1]).name.lower(), p)):
            for line in _row(rows[pair], result, cols, owner=pair[0]):
                yield printable(line) + "\n"
    if result.findings:
        yield "\n"
        yield from _findings(result, cols.width, color)
    if result.notes:
        yield "\n"
        yield "notes:\n"
        yield from _plain((f"  {p}: {m}" for p, m in sorted(set(result.notes))), cols.width)
    if result.errors:
        yield "\n"
        yield f"could not read ({len(result.errors)}):\n"
        yield from _plain((f"  {e}" for e in result.errors), cols.width)
    counts = {k: sum(1 for d in deps if d.kind is k) for k in DependencyKind}
    yield "\n"
    yield from _plain(
        [
            f"{len(graph.components())} components, {len(graph.services())} services, "
            f"{len(result.findings)} trust gaps, {len(result.errors)} unreadable inputs",
            "edges: " + ", ".join(f"{k.value} {n}" for k, n in counts.items()),
        ],
        cols.width,
    )


def inputs_read(result: ScanResult) -> list[str]:
    """What ``-v`` says on standard error: each input file with its resolver and role
    (and why it has it), whether it was read, then each note (what was skipped, why)."""
    lines = []
    for item in result.inputs:
        state = "read" if item.read else "listed, not read"
        lines.append(f"{state}: {item.path} ({item.resolver}; {item.role.value}: {item.reason})")
    lines.extend(f"note: {path}: {message}" for path, message in sorted(set(result.notes)))
    return [printable(redact_text(line)) for line in lines]
