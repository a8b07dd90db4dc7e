"""What a picture of the graph shows: the scan's graph cut to what a reader asked for
(kinds, depth, a focus), collapsed by owner when it is large, each node classed by what
it is (its shape) and by how far it is trusted (its provenance colour), each edge by its
kind and scope. The DOT, Mermaid and HTML renderers draw a :class:`Picture`; none of
them decides what to show.

Provenance, in the order it wins: ``project`` (the scanned project itself), ``gap`` (a
trust gap is open on it), ``trusted`` (the policy names its owner, or the trust ledger
accepted it with the owner it has now), ``unknown`` (nobody knows who can publish it),
``implicit`` (its owner is known, and trusted only because it is used).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from depchain.errors import UsageError
from depchain.model import Component, ComponentType, Dependency, DependencyKind, Service

if TYPE_CHECKING:
    import networkx as nx

    from depchain.scanner import ScanResult

AUTO_COLLAPSE = 150
"""With ``collapse="auto"``, a picture of more nodes than this is collapsed by owner."""

DRAWN_NODES, DRAWN_EDGES = 400, 500
"""With ``collapse="auto"`` and a ``limit``, what is still larger after the owners are
collapsed is cut by depth until it fits: past about 400 nodes Graphviz's ``dot`` takes
minutes, and Mermaid refuses a chart of more than 500 edges."""

DEPLOYMENT = "this deployment"
"""The owner of a service inside the trust boundary (a compose or Kubernetes service of
the repository): whoever deploys the repository runs it."""

MAX_EVIDENCE = 5
"""Evidence lines kept per node and edge (the rest is counted)."""


class Shape(str, enum.Enum):
    """What a node is, drawn as a shape."""

    PROJECT = "project"
    PYTHON = "python"
    """A Python distribution."""
    PACKAGE = "package"
    """A package of another language's registry (Cargo, Go, Conan, vcpkg, npm)."""
    NATIVE = "native"
    """A native library or file: a shared object, a vendored binary."""
    OS_PACKAGE = "os-package"
    IMAGE = "image"
    ACTION = "action"
    SERVICE = "service"
    GROUP = "group"
    """Several components of one owner, collapsed."""


class Provenance(str, enum.Enum):
    """How far a node is trusted: the colour it is drawn in."""

    PROJECT = "project"
    GAP = "gap"
    TRUSTED = "trusted"
    UNKNOWN = "unknown"
    IMPLICIT = "implicit"


PROVENANCE_TITLES = {
    Provenance.PROJECT: "the project",
    Provenance.GAP: "trust gap open",
    Provenance.TRUSTED: "trusted explicitly (policy or ledger)",
    Provenance.UNKNOWN: "owner unknown",
    Provenance.IMPLICIT: "owner known, trusted implicitly",
}
PROVENANCE_COLOURS = {
    Provenance.PROJECT: "#4c6ef5",
    Provenance.GAP: "#e03131",
    Provenance.TRUSTED: "#2f9e44",
    Provenance.UNKNOWN: "#f08c00",
    Provenance.IMPLICIT: "#868e96",
}
"""One palette for every renderer (distinguishable for the common colour blindness by
lightness as well as hue; the legend names each)."""

SHAPE_TITLES = {
    Shape.PROJECT: "project",
    Shape.PYTHON: "Python package",
    Shape.PACKAGE: "package (other ecosystem)",
    Shape.NATIVE: "native library or file",
    Shape.OS_PACKAGE: "OS package",
    Shape.IMAGE: "container image",
    Shape.ACTION: "CI action",
    Shape.SERVICE: "service",
    Shape.GROUP: "components of one owner",
}
KIND_TITLES = {
    DependencyKind.BUILD: "build-time",
    DependencyKind.STATIC: "statically linked",
    DependencyKind.DYNAMIC: "dynamically linked",
    DependencyKind.SERVICE: "service",
}

_OS_ECOSYSTEMS = frozenset({"deb", "rpm", "apk", "alpm"})
_LANGUAGE_ECOSYSTEMS = frozenset({"cargo", "golang", "npm", "conan", "vcpkg", "gem", "maven"})


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    message: str


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    shape: Shape
    provenance: Provenance
    version: str | None = None
    ecosystem: str | None = None
    purl: str | None = None
    owner: str | None = None
    depth: int | None = None
    """Fewest edges from a root (the project) to it."""
    findings: tuple[Finding, ...] = ()
    evidence: tuple[str, ...] = ()
    """``path:line`` where it was found (at most :data:`MAX_EVIDENCE`)."""
    members: tuple[str, ...] = ()
    """For a collapsed group: the labels of what it holds."""
    boundary: bool | None = None
    """For a service: reached across a trust boundary (None: not known)."""
    endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: DependencyKind
    scope: str
    mechanism: str
    evidence: tuple[str, ...] = ()
    count: int = 1
    """How many edges of the graph this one stands for (collapsed groups merge them)."""


@dataclass
class Picture:
    subject: str
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the picture leaves out or merges, in words (for a caption)."""

    def node(self, node_id: str) -> Node:
        if len(self._by_id) != len(self.nodes):
            self._by_id = {n.id: n for n in self.nodes}
        return self._by_id[node_id]

    _by_id: dict[str, Node] = field(default_factory=dict, init=False, repr=False, compare=False)


def shape_of(node: Component | Service, projects: Iterable[str] = ()) -> Shape:
    if isinstance(node, Service):
        return Shape.SERVICE
    if node.id in set(projects):
        return Shape.PROJECT
    if node.ecosystem in {"docker", "oci"} or node.type is ComponentType.CONTAINER:
        return Shape.IMAGE
    if node.ecosystem in {"githubactions", "github"}:
        return Shape.ACTION
    if node.ecosystem in _OS_ECOSYSTEMS or node.type is ComponentType.OPERATING_SYSTEM:
        return Shape.OS_PACKAGE
    if node.ecosystem == "pypi":
        return Shape.PYTHON
    if node.ecosystem in _LANGUAGE_ECOSYSTEMS:
        return Shape.PACKAGE
    return Shape.NATIVE


def _place(evidence: Iterable[object]) -> tuple[str, ...]:
    shown = sorted(
        {f"{e.path}:{e.line}" if e.line else e.path for e in evidence},  # type: ignore[attr-defined]
    )
    return tuple(shown[:MAX_EVIDENCE]) + (
        (f"+{len(shown) - MAX_EVIDENCE} more",) if len(shown) > MAX_EVIDENCE else ()
    )


def provenance_of(
    node: Component | Service,
    result: ScanResult,
    projects: set[str],
    gaps: set[str],
) -> tuple[Provenance, str | None]:
    """The node's provenance and its owner."""
    from depchain.trust.surface import explicitly_trusted, owner_of

    if node.id in projects:
        return Provenance.PROJECT, None
    owner = owner_of(node) if isinstance(node, Component) else None
    if isinstance(node, Service) and node.trust_boundary is False:
        owner = DEPLOYMENT  # a service of this deployment: who runs it is known
    if node.id in gaps:
        return Provenance.GAP, owner
    if isinstance(node, Component) and explicitly_trusted(
        node, result.policy, result.ledger, owner
    ):
        return Provenance.TRUSTED, owner
    if owner is None:
        return Provenance.UNKNOWN, None
    return Provenance.IMPLICIT, owner


def matches(node: Component | Service, name: str) -> bool:
    """``name`` names this node: its id or purl, or its name (case and ``-_.``
    insensitive), optionally with ``==version`` / ``@version``."""
    from packaging.utils import canonicalize_name

    wanted, _, version = name.replace("==", "@").partition("@")
    if name in {node.id, getattr(node, "purl", None)}:
        return True
    if isinstance(node, Service):  # "PostgreSQL (endpoint not found)", service:postgresql:db
        said = canonicalize_name(wanted)
        return said in {
            canonicalize_name(node.name.split(" (")[0]),
            canonicalize_name(node.id.split(":")[1] if ":" in node.id else node.id),
        }
    if canonicalize_name(wanted) != canonicalize_name(node.name):
        return False
    return not version or getattr(node, "version", None) == version


def find(result: ScanResult, name: str) -> list[str]:
    """The ids of every node ``name`` names (see :func:`matches`), in id order."""
    graph = result.graph
    nodes: list[Component | Service] = [*graph.components(), *graph.services()]
    return sorted(node.id for node in nodes if matches(node, name))


def build(
    result: ScanResult,
    kinds: Sequence[DependencyKind] | None = None,
    depth: int | None = None,
    focus: Sequence[str] = (),
    collapse: str = "auto",
    max_nodes: int = AUTO_COLLAPSE,
    limit: tuple[int, int] | None = None,
) -> Picture:
    """The picture of ``result``: only edges of ``kinds`` (all when None); only what is
    within ``depth`` edges of a root; with ``focus``, only what lies on a path from a
    root to a focused node, and what those nodes depend on; collapsed by owner
    (``collapse="owner"``, or ``"auto"`` when more than ``max_nodes`` remain); with
    ``"auto"`` and a ``limit`` of (nodes, edges) (a drawing's, such as
    (:data:`DRAWN_NODES`, :data:`DRAWN_EDGES`)), then cut by depth until it fits."""
    import networkx as nx

    if collapse not in {"auto", "owner", "none"}:
        raise UsageError(f"--collapse {collapse}: choose owner, none or auto")
    graph = result.graph
    notes: list[str] = []
    g = graph.to_networkx(kinds)
    projects = set(result.projects) | {result.subject}
    projects &= set(g)
    if kinds is not None:
        left = set(kinds)
        shown = ", ".join(k.value for k in DependencyKind if k in left)
        notes.append(f"only {shown} edges")
        # what none of the kept edges touch is not in this picture (but the projects)
        g.remove_nodes_from([n for n in list(g) if g.degree(n) == 0 and n not in projects])
    roots = sorted(n for n in g if g.in_degree(n) == 0)
    if result.subject in g and result.subject not in roots:
        roots.insert(0, result.subject)
    distance = _distances(g, roots)
    if focus:
        targets: set[str] = set()
        for name in focus:
            found = [n for n in find(result, name) if n in g]
            if not found:
                raise UsageError(f"--focus {name}: no component or service of that name")
            targets.update(found)
        keep = set(targets)
        for target in targets:
            keep |= nx.ancestors(g, target) | nx.descendants(g, target)
        g = g.subgraph(keep).copy()
        notes.append(f"only paths to and from {', '.join(sorted(focus))}")
    if depth is not None:
        far = [n for n in g if distance.get(n, 0) > depth]
        if far:
            g.remove_nodes_from(far)
            notes.append(f"{len(far)} nodes deeper than {depth} edges left out (--depth)")
    gaps: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        if finding.evidence:
            gaps[graph.canonical(finding.component)].append(
                Finding(finding.id, finding.severity, finding.message)
            )
    nodes: dict[str, Node] = {}
    for node_id in sorted(g):
        item = g.nodes[node_id]["item"]
        provenance, owner = provenance_of(item, result, projects, set(gaps))
        nodes[node_id] = Node(
            id=node_id,
            label=item.name,
            shape=shape_of(item, projects),
            provenance=provenance,
            version=getattr(item, "version", None),
            ecosystem=getattr(item, "ecosystem", None),
            purl=getattr(item, "purl", None),
            owner=owner,
            depth=distance.get(node_id),
            findings=tuple(sorted(gaps.get(node_id, ()), key=lambda f: (f.id, f.message))),
            evidence=_place(item.evidence),
            boundary=item.trust_boundary if isinstance(item, Service) else None,
            endpoints=item.endpoints if isinstance(item, Service) else (),
        )
    edges = [_edge(data["dep"]) for _, _, data in sorted(g.edges(data=True), key=_edge_order)]
    if collapse == "owner" or (collapse == "auto" and len(nodes) > max_nodes):
        nodes, edges, said = _collapse(nodes, edges)
        if said:
            notes.append(said)
    if collapse == "auto" and limit is not None:
        nodes, edges, said = _fit(nodes, edges, *limit, subject=result.subject)
        if said:
            notes.append(said)
    subject = graph.node(result.subject) if result.subject in graph else None
    title = subject.name if subject is not None else result.target.name or str(result.target)
    return Picture(
        subject=result.subject,
        title=title,
        nodes=sorted(nodes.values(), key=lambda n: (n.depth is None, n.depth or 0, n.id)),
        edges=edges,
        notes=notes,
    )


def _edge_order(edge: tuple[str, str, dict[str, object]]) -> tuple[str, str, tuple[str, ...]]:
    dep = edge[2]["dep"]
    assert isinstance(dep, Dependency)
    return (edge[0], edge[1], dep.key)


def _edge(dep: Dependency) -> Edge:
    return Edge(
        source=dep.source,
        target=dep.target,
        kind=dep.kind,
        scope=dep.scope.value,
        mechanism=dep.mechanism,
        evidence=_place(dep.evidence),
    )


def _distances(g: nx.MultiDiGraph, roots: Sequence[str]) -> dict[str, int]:
    """Fewest edges from any root to each node (breadth first; bounded by the graph)."""
    import networkx as nx

    distance: dict[str, int] = {}
    for root in roots:
        for node, d in nx.single_source_shortest_path_length(g, root).items():
            if d < distance.get(node, d + 1):
                distance[node] = d
    return distance


_RANK = list(Provenance)


def _fit(
    nodes: dict[str, Node],
    edges: list[Edge],
    most_nodes: int,
    most_edges: int,
    subject: str | None = None,
) -> tuple[dict[str, Node], list[Edge], str]:
    """The deepest layers left out until at most ``most_nodes`` and ``most_edges`` are
    drawn (down to the roots and what they depend on directly); if even those are too
    many (a lock or an environment of many roots), the nodes nearest the ``subject``
    are kept first, then the shallowest, until the next would not fit."""
    deepest = max((n.depth or 0 for n in nodes.values()), default=0)
    depth = deepest
    kept_nodes, kept_edges = nodes, edges
    while depth > 1 and (len(kept_nodes) > most_nodes or len(kept_edges) > most_edges):
        depth -= 1
        kept_nodes = {k: n for k, n in nodes.items() if n.depth is None or n.depth <= depth}
        kept_edges = [e for e in edges if e.source in kept_nodes and e.target in kept_nodes]
    if len(kept_nodes) > most_nodes or len(kept_edges) > most_edges:
        kept_nodes, kept_edges = _nearest(kept_nodes, kept_edges, most_nodes, most_edges, subject)
        left = len(nodes) - len(kept_nodes)
        return (
            kept_nodes,
            kept_edges,
            f"{left} nodes left out: only the {len(kept_nodes)} nearest the project drawn "
            "(--depth, --focus or --collapse none choose)",
        )
    if depth == deepest:
        return nodes, edges, ""
    left = len(nodes) - len(kept_nodes)
    return (
        kept_nodes,
        kept_edges,
        f"{left} nodes deeper than {depth} edge{'s' if depth != 1 else ''} left out to keep "
        "the drawing readable (--depth, --focus or --collapse none choose)",
    )


def _nearest(
    nodes: dict[str, Node],
    edges: list[Edge],
    most_nodes: int,
    most_edges: int,
    subject: str | None,
) -> tuple[dict[str, Node], list[Edge]]:
    """As many nodes as fit in ``most_nodes`` and ``most_edges`` (counting the edges
    among them), the subject and what it reaches nearest first, then the others by
    depth; a node whose edges to those already kept would not fit is left out."""
    near: dict[str, int] = {}
    if subject in nodes:
        near[subject] = 0
        frontier = [subject]
        out: dict[str, list[str]] = defaultdict(list)
        for edge in edges:
            out[edge.source].append(edge.target)
        while frontier:
            following = []
            for node_id in frontier:
                for target in out[node_id]:
                    if target not in near:
                        near[target] = near[node_id] + 1
                        following.append(target)
            frontier = following
    links: dict[str, list[Edge]] = defaultdict(list)
    for edge in edges:
        links[edge.source].append(edge)
        if edge.target != edge.source:
            links[edge.target].append(edge)
    order = sorted(
        nodes.values(),
        key=lambda n: (n.id not in near, near.get(n.id, 0), n.depth is None, n.depth or 0, n.id),
    )
    kept: dict[str, Node] = {}
    kept_edges = 0
    for node in order:
        if len(kept) == most_nodes:
            break
        joining = [
            e
            for e in links[node.id]
            if (e.source in kept or e.source == node.id)
            and (e.target in kept or e.target == node.id)
        ]
        if kept_edges + len(joining) > most_edges:
            continue
        kept[node.id] = node
        kept_edges += len(joining)
    return kept, [e for e in edges if e.source in kept and e.target in kept]


def _collapse(nodes: dict[str, Node], edges: list[Edge]) -> tuple[dict[str, Node], list[Edge], str]:
    """Components of one known owner and one shape become one group node; projects,
    services and what nobody owns stay as they are (an unknown owner is no group)."""
    groups: dict[tuple[str, Shape], list[Node]] = defaultdict(list)
    for node in nodes.values():
        if node.owner and node.shape not in {Shape.PROJECT, Shape.SERVICE}:
            groups[(node.owner, node.shape)].append(node)
    into: dict[str, str] = {}
    out = dict(nodes)
    merged = 0
    for (owner, shape), members in sorted(groups.items()):
        if len(members) < 2:
            continue
        group_id = f"group:{shape.value}:{owner}"
        for member in members:
            into[member.id] = group_id
            del out[member.id]
        merged += len(members)
        depths = [m.depth for m in members if m.depth is not None]
        out[group_id] = Node(
            id=group_id,
            label=f"{owner} ({len(members)})",
            shape=Shape.GROUP,
            provenance=min((m.provenance for m in members), key=_RANK.index),
            ecosystem=members[0].ecosystem,
            owner=owner,
            depth=min(depths) if depths else None,
            findings=tuple(f for m in members for f in m.findings),
            members=tuple(sorted(f"{m.label} {m.version or ''}".strip() for m in members)),
        )
    if not into:
        return nodes, edges, ""
    joined: dict[tuple[str, str, DependencyKind, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        source, target = into.get(edge.source, edge.source), into.get(edge.target, edge.target)
        if source != target:
            joined[(source, target, edge.kind, edge.scope)].append(edge)
    collapsed = [
        Edge(
            source=key[0],
            target=key[1],
            kind=key[2],
            scope=key[3],
            mechanism=", ".join(sorted({e.mechanism for e in group})),
            evidence=tuple(sorted({p for e in group for p in e.evidence}))[:MAX_EVIDENCE],
            count=sum(e.count for e in group),
        )
        for key, group in sorted(joined.items(), key=lambda item: (*item[0][:2], item[0][2].value))
    ]
    groups_made = len(set(into.values()))
    made = "1 owner group" if groups_made == 1 else f"{groups_made} owner groups"
    return out, collapsed, f"{merged} components collapsed into {made}"
