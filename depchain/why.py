"""Why is this here? Every path from the project to a component (the shortest first),
each hop with every edge that makes it: its kind, scope, mechanism and evidence.

Paths are enumerated shortest first (Yen's algorithm through networkx) and bounded by
``limit``: a graph of a few hundred nodes can hold more simple paths than atoms, and a
reviewer wants the few that explain a dependency, not all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice, pairwise
from typing import TYPE_CHECKING

from depchain.errors import UsageError
from depchain.model import Component, Dependency, DependencyKind, Service

if TYPE_CHECKING:
    from depchain.scanner import ScanResult

LIMIT = 20
"""Paths shown per component unless asked for more."""

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
        raise UsageError(f"{name}: no component or service of that name in this scan")
    graph = result.graph
    wanted = None if kinds is None else set(kinds)
    simple: nx.DiGraph = nx.DiGraph()
    for dep in graph.dependencies():
        if wanted is None or dep.kind in wanted:
            simple.add_edge(dep.source, dep.target)
    roots = [n for n in graph.roots() if n in simple]
    if result.subject in simple and result.subject not in roots:
        roots.insert(0, result.subject)
    # the project first: its paths cost nothing to enter, other roots a little more
    for root in roots:
        simple.add_edge(_START, root, weight=0 if root == result.subject else 0.5)
    answers = []
    for node_id in found:
        answer = Answer(target=graph.node(node_id), root=node_id in roots or node_id not in simple)
        if node_id in simple and node_id != _START and nx.has_path(simple, _START, node_id):
            paths = nx.shortest_simple_paths(simple, _START, node_id, weight=_weight)
            taken = list(islice(paths, limit + 1))
            answer.more = len(taken) > limit
            for path in taken[:limit]:
                nodes = path[1:]
                if len(nodes) < 2:  # the target is a root itself
                    continue
                answer.chains.append(
                    Chain(
                        tuple(
                            Hop(a, b, _edges(graph.dependencies_of(a), b, wanted))
                            for a, b in pairwise(nodes)
                        )
                    )
                )
        answers.append(answer)
    return answers


def _weight(u: str, v: str, data: dict[str, float]) -> float:
    return data.get("weight", 1.0)


def _edges(
    deps: list[Dependency], target: str, wanted: set[DependencyKind] | None
) -> tuple[Dependency, ...]:
    return tuple(
        sorted(
            (d for d in deps if d.target == target and (wanted is None or d.kind in wanted)),
            key=_edge_order,
        )
    )
