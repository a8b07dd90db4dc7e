"""Why is this here? Every path from the project to a component (the shortest first),
each hop with every edge that makes it: its kind, scope, mechanism and evidence.

Paths are enumerated shortest first and bounded by ``limit``: a graph of a few hundred
nodes can hold more simple paths than atoms, and a reviewer wants the few that explain a
dependency, not all of them. The search runs backwards from the component, best first,
guided by each node's exact distance from the roots (so it never wanders: in a graph
without cycles every partial path it extends completes), deepest partial path first
among equals (so a path of a thousand hops costs a thousand steps, not a thousand
shortest-path searches as Yen's algorithm would), and is bounded in steps
(:data:`STEPS`) whatever cycles the graph holds.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

from depchain.errors import UsageError
from depchain.model import Component, Dependency, DependencyKind, Service

if TYPE_CHECKING:
    import networkx as nx

    from depchain.scanner import ScanResult

LIMIT = 20
"""Paths shown per component unless asked for more."""

STEPS = 500_000
"""Partial paths the search may hold per component (each a few dozen bytes) before it
stops and says more paths may exist: a graph without cycles needs about ``limit`` times
the path's length times the in-degree along it, far fewer."""

Link = tuple[str, "Link | None"]
"""A partial path: its head, then the rest of it up to the component."""

_START = "\x00start"
"""A node before every root, so that one search covers them all (ids never hold NUL)."""


@dataclass(frozen=True)
class Hop:
    source: str
    target: str
    edges: tuple[Dependency, ...]
    """Every edge from ``source`` to ``target`` (a manifest and a lockfile may both say
    it), most binding kind first."""


@dataclass(frozen=True)
class Chain:
    hops: tuple[Hop, ...]

    @property
    def nodes(self) -> list[str]:
        return [self.hops[0].source, *(hop.target for hop in self.hops)]


@dataclass
class Answer:
    target: Component | Service
    chains: list[Chain] = field(default_factory=list)
    more: bool = False
    """The limit was reached: there may be further (longer) paths."""
    bounded: bool = False
    """The search stopped at :data:`STEPS` before the limit: a larger limit shows no more."""
    root: bool = False
    """The target is itself a root (the project, or something nothing depends on)."""


_KIND_ORDER = [DependencyKind.STATIC, DependencyKind.DYNAMIC, DependencyKind.SERVICE]


def _edge_order(dep: Dependency) -> tuple[int, str, tuple[str, ...]]:
    kind = _KIND_ORDER.index(dep.kind) if dep.kind in _KIND_ORDER else len(_KIND_ORDER)
    return (kind, dep.scope.value, dep.key)


def explain(
    result: ScanResult,
    name: str,
    limit: int = LIMIT,
    kinds: Sequence[DependencyKind] | None = None,
) -> list[Answer]:
    """The paths to every component or service ``name`` names (its name, optionally with
    ``==version`` or ``@version``, its purl or its id), from the scanned project first,
    then from any other root (another project in the tree, a workflow); only through
    edges of ``kinds`` when given."""
    import networkx as nx

    from depchain.picture import find

    if limit < 1:
        raise UsageError("--limit must be at least 1")
    found = find(result, name)
    if not found:
        unread = sorted({e.path for e in result.errors})
        said = (
            f" ({len(unread)} input{'s' if len(unread) != 1 else ''} could not be read: "
            f"{', '.join(unread[:3])}{', ...' if len(unread) > 3 else ''})"
            if unread
            else ""
        )
        raise UsageError(f"{name}: no component or service of that name in this scan{said}")
    graph = result.graph
    wanted = None if kinds is None else set(kinds)
    simple: nx.DiGraph = nx.DiGraph()
    between: dict[tuple[str, str], list[Dependency]] = {}
    for dep in graph.dependencies():
        if wanted is None or dep.kind in wanted:
            simple.add_edge(dep.source, dep.target)
            between.setdefault((dep.source, dep.target), []).append(dep)
    roots = [n for n in graph.roots() if n in simple]
    if result.subject in simple and result.subject not in roots:
        roots.insert(0, result.subject)
    # the project first: its paths cost nothing to enter, other roots a little more
    for root in roots:
        simple.add_edge(_START, root, weight=0 if root == result.subject else 0.5)
    distance = nx.single_source_dijkstra_path_length(simple, _START, weight=_weight)
    component = {
        node: index
        for index, members in enumerate(nx.strongly_connected_components(simple))
        for node in members
    }
    answers = []
    for node_id in found:
        answer = Answer(target=graph.node(node_id), root=node_id in roots or node_id not in simple)
        if node_id in simple and node_id != _START and node_id in distance:
            taken, answer.more = _shortest_paths(simple, distance, component, node_id, limit)
            answer.bounded = answer.more and len(taken) < limit
            for path in taken:
                nodes = path[1:]
                answer.chains.append(
                    Chain(
                        tuple(
                            Hop(a, b, tuple(sorted(between[a, b], key=_edge_order)))
                            for a, b in pairwise(nodes)
                        )
                    )
                )
        answers.append(answer)
    return answers


def _weight(u: str, v: str, data: dict[str, float]) -> float:
    return data.get("weight", 1.0)


def _shortest_paths(
    simple: nx.DiGraph,
    distance: dict[str, float],
    component: dict[str, int],
    target: str,
    limit: int,
) -> tuple[list[list[str]], bool]:
    """Up to ``limit`` simple paths from :data:`_START` to ``target`` (each longer than
    one hop past the start: a root is no path to itself), shortest first, and whether
    there may be more.

    A* backwards from ``target``: a partial path (a linked list ``(node, rest)`` from its
    head to the target) costs its own length plus its head's distance from the start,
    never more than any completion of it; partial paths leave the heap cheapest first,
    so complete paths do too. Among equal costs the one nearest the start goes first
    (depth first: no flood of equally short partial paths). A path stays simple by
    never re-entering a node: only the nodes of the head's strongly connected component
    can repeat, and they stand together at the head (a path leaves a component for good),
    so the check reads those alone."""
    found: list[list[str]] = []
    tie = 0
    # (cost bound, minus cost so far, minus insertion number, partial path)
    heap: list[tuple[float, float, int, Link]] = [(distance[target], 0.0, 0, (target, None))]
    while heap:
        if tie > STEPS:
            return found, True
        _, spent, _, chain = heapq.heappop(heap)
        head = chain[0]
        if head == _START:
            path = []
            link: Link | None = chain
            while link is not None:
                path.append(link[0])
                link = link[1]
            if len(path) > 2:
                if len(found) == limit:
                    return found, True
                found.append(path)
            continue
        for before in sorted(simple.predecessors(head)):
            if before not in distance or _on(chain, before, component):
                continue
            cost = -spent + _weight(before, head, simple.edges[before, head])
            tie += 1
            heapq.heappush(heap, (cost + distance[before], -cost, -tie, (before, chain)))
    return found, False


def _on(chain: Link, node: str, component: dict[str, int]) -> bool:
    """``node`` is already on the partial path ``chain`` (read from its head while the
    nodes stay in ``node``'s strongly connected component)."""
    if node == _START:
        return False
    group = component[node]
    link: Link | None = chain
    while link is not None:
        if component.get(link[0]) != group:
            return False
        if link[0] == node:
            return True
        link = link[1]
    return False
