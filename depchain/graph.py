"""The dependency graph: a wrapper around ``networkx.MultiDiGraph``.

The wrapper owns the merge rules (one node per id, one edge per pair and
kind/scope/mechanism, evidence unioned) and the views the reports need. It wraps
networkx rather than subclassing it, so that copies and views never lose the
model objects kept on nodes and edges.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Fragment,
    Role,
    Service,
)

if TYPE_CHECKING:
    import networkx as nx

Node = Component | Service


@dataclass(frozen=True)
class _Sorted:
    components: list[Component]
    services: list[Service]
    dependencies: list[Dependency]


def _related(a: PurePosixPath, b: PurePosixPath) -> bool:
    """One folder is the other or encloses it."""
    return a == b or a in b.parents or b in a.parents


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


class DependencyGraph:
    def __init__(self) -> None:
        import networkx as nx

        self._g: nx.MultiDiGraph = nx.MultiDiGraph()
        self._merged_into: dict[str, str] = {}
        self._sorted: _Sorted | None = None
        """Sorted views of nodes and edges, dropped on any change."""

    # -- building -----------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        if node.id in self._g:
            old = self._g.nodes[node.id]["item"]
            if type(old) is not type(node):
                raise ValueError(f"{node.id} is both a component and a service")
            node = old.merged(node)  # type: ignore[arg-type]
        self._sorted = None
        self._g.add_node(node.id, item=node)

    def replace_node(self, node: Node) -> None:
        """Put ``node`` in place of the node with its id, without merging."""
        if node.id not in self._g or type(self._g.nodes[node.id]["item"]) is not type(node):
            raise KeyError(f"no {type(node).__name__} {node.id} to replace")
        self._sorted = None
        self._g.nodes[node.id]["item"] = node

    def add_dependency(self, dep: Dependency) -> None:
        for end in (dep.source, dep.target):
            if end not in self._g:
                raise KeyError(f"edge {dep.source} -> {dep.target}: unknown node {end}")
        if dep.source == dep.target:
            return  # a project that installs itself (``-e .``) is no dependency
        key = sys.intern("|".join(dep.key))  # a handful of distinct keys, shared
        data = self._g.get_edge_data(dep.source, dep.target, key)
        if data is not None:
            dep = data["dep"].merged(dep)
        self._sorted = None
        self._g.add_edge(dep.source, dep.target, key=key, dep=dep)

    def add_fragment(self, fragment: Fragment) -> None:
        for c in fragment.components:
            self.add_node(c)
        for s in fragment.services:
            self.add_node(s)
        for d in fragment.dependencies:
            self.add_dependency(d)

    def merge_nodes(self, old_id: str, new_id: str) -> None:
        """Fold node ``old_id`` into ``new_id``: evidence joins, edges move."""
        old = self._g.nodes[old_id]["item"]
        new = self._g.nodes[new_id]["item"]
        self._sorted = None
        self._g.nodes[new_id]["item"] = new.merged(replace(old, id=new.id))
        moved = [
            replace(
                d,
                source=new_id if d.source == old_id else d.source,
                target=new_id if d.target == old_id else d.target,
            )
            for d in self._edges_of(old_id)
        ]
        self._g.remove_node(old_id)
        self._merged_into[old_id] = new_id
        for d in moved:
            self.add_dependency(d)

    def resolve_unversioned(self) -> None:
        """Join a requirement on a name (``pkg:pypi/requests``) to the version a lockfile
        or environment pins (``pkg:pypi/requests@2.32.3``) when that is unambiguous: one
        pinned version in the graph, or one pinned in the same folder as the requirement.
        """
        versioned: dict[tuple[str, str], list[Component]] = defaultdict(list)
        unversioned: list[Component] = []
        for c in self.components():
            if c.purl is None or "?" in c.id:
                continue
            if c.version is None:
                unversioned.append(c)
            else:
                versioned[(c.ecosystem, _canonical(c.name))].append(c)
        for c in unversioned:
            folders = {PurePosixPath(e.path).parent for e in c.evidence}
            runtime = {e.role is Role.RUNTIME for e in c.evidence}
            # a pin counts for the requirement when it is of the same kind of use (a
            # pre-commit hook's or the docs' pin says nothing of what ships) and locks
            # the same project: its folder, or a folder above or below it
            candidates = [
                v
                for v in versioned.get((c.ecosystem, _canonical(c.name)), [])
                if runtime & {e.role is Role.RUNTIME for e in v.evidence}
                and any(
                    _related(f, PurePosixPath(e.path).parent) for f in folders for e in v.evidence
                )
            ]
            if len(candidates) > 1:
                candidates = [
                    v
                    for v in candidates
                    if folders & {PurePosixPath(e.path).parent for e in v.evidence}
                ]
            if len(candidates) == 1:
                self.merge_nodes(c.id, candidates[0].id)

    # -- reading ------------------------------------------------------------------

    def canonical(self, node_id: str) -> str:
        """The id a node has now, following merges."""
        while node_id in self._merged_into:
            node_id = self._merged_into[node_id]
        return node_id

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._g

    def __len__(self) -> int:
        return int(self._g.number_of_nodes())

    def node(self, node_id: str) -> Node:
        item: Node = self._g.nodes[node_id]["item"]
        return item

    def _views(self) -> _Sorted:
        if self._sorted is None:
            items = [d["item"] for _, d in self._g.nodes(data=True)]
            deps = (d["dep"] for _, _, d in self._g.edges(data=True))
            self._sorted = _Sorted(
                sorted((i for i in items if isinstance(i, Component)), key=lambda c: c.id),
                sorted((i for i in items if isinstance(i, Service)), key=lambda s: s.id),
                sorted(  # unique per edge
                    deps,
                    key=lambda d: (d.source, d.target, d.kind.value, d.scope.value, d.mechanism),
                ),
            )
        return self._sorted

    def components(self) -> list[Component]:
        return list(self._views().components)

    def services(self) -> list[Service]:
        return list(self._views().services)

    def dependencies(self, kind: DependencyKind | None = None) -> list[Dependency]:
        every = self._views().dependencies
        return list(every) if kind is None else [d for d in every if d.kind is kind]

    def dependents(self, node_id: str) -> list[Dependency]:
        return sorted(
            (d["dep"] for _, _, d in self._g.in_edges(node_id, data=True)),
            key=lambda d: (d.source, d.key),
        )

    def dependencies_of(self, node_id: str) -> list[Dependency]:
        return sorted(
            (d["dep"] for _, _, d in self._g.out_edges(node_id, data=True)),
            key=lambda d: (d.target, d.key),
        )

    def _edges_of(self, node_id: str) -> Iterator[Dependency]:
        yield from (d["dep"] for _, _, d in self._g.out_edges(node_id, data=True))
        yield from (d["dep"] for _, _, d in self._g.in_edges(node_id, data=True))

    def roots(self) -> list[str]:
        """Nodes nothing depends on, in id order."""
        return sorted(n for n in self._g.nodes if self._g.in_degree(n) == 0)

    def kinds_reaching(self, node_id: str) -> set[DependencyKind]:
        return {d.kind for d in self.dependents(node_id)}

    def why(self, node_id: str, limit: int = 10) -> list[list[str]]:
        """Shortest chains from a root to ``node_id`` ("why is this here?")."""
        import networkx as nx

        chains: list[list[str]] = []
        for root in self.roots():
            if root == node_id or not nx.has_path(self._g, root, node_id):
                continue
            chains.append(nx.shortest_path(self._g, root, node_id))
            if len(chains) >= limit:
                break
        return chains

    def view(self, kinds: Iterable[DependencyKind]) -> nx.MultiDiGraph:
        """A read-only networkx view holding only edges of ``kinds``."""
        import networkx as nx

        wanted = set(kinds)
        return nx.subgraph_view(
            self._g, filter_edge=lambda u, v, k: self._g.edges[u, v, k]["dep"].kind in wanted
        )

    def copy(self) -> DependencyGraph:
        other = DependencyGraph()
        other._g = self._g.copy()
        other._sorted = None
        other._merged_into = dict(self._merged_into)
        return other
