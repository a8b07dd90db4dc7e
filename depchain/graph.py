"""The dependency graph: nodes (components and services) by id, and edges by kind.

The wrapper owns the merge rules (one node per id, one edge per pair and
kind/scope/mechanism, evidence unioned) and the views the reports need. It keeps its
adjacency in plain dicts, a multigraph as the design asks (the same pair linked by two
kinds keeps both edges), and gives a ``networkx.MultiDiGraph`` of it on demand
(:meth:`DependencyGraph.to_networkx`) for graph algorithms and drawings. Plain dicts
because the graph is built on every commit by the pre-commit hook, which must start
without networkx's import (a tenth of a second), and because a 30 MB requirements file
makes 290k nodes and edges: networkx's five dicts per node and edge cost 1 KiB each, these
cost a quarter of that.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
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


def _covering(pins: list[Component], evidence: Iterable[Evidence]) -> list[Component]:
    """The pins that count for a requirement written at ``evidence``: those that cover
    every use of it, and of several, those that share a folder with it."""
    folders = {PurePosixPath(e.path).parent for e in evidence}
    uses = {(PurePosixPath(e.path).parent, e.role is Role.RUNTIME) for e in evidence}
    # a pin counts for the requirement when it covers every use of it: for each place
    # the requirement is written, a place of the same kind of use (a pre-commit hook's
    # or the docs' pin says nothing of what ships) that locks the same project: its
    # folder, or a folder above or below it
    candidates = [
        v
        for v in pins
        if all(
            any(
                runtime == (e.role is Role.RUNTIME)
                and _related(folder, PurePosixPath(e.path).parent)
                for e in v.evidence
            )
            for folder, runtime in uses
        )
    ]
    if len(candidates) > 1:
        candidates = [
            v for v in candidates if folders & {PurePosixPath(e.path).parent for e in v.evidence}
        ]
    return candidates


def _pin_key(c: Component) -> tuple[str, str, str]:
    """What a requirement and its pin share: the name, and the qualifiers of the purl
    (a ``name @ git+...@<commit>`` requirement joins only the lock's entry of that same
    commit)."""
    return (c.ecosystem, _canonical(c.name), c.id.partition("?")[2])


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


class DependencyGraph:
    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._out: dict[str, dict[str, list[Dependency]]] = {}
        """source -> target -> its edges (one per kind/scope/mechanism)."""
        self._in: dict[str, list[str]] = {}
        """target -> its sources, in the order their first edge came (a list: most
        targets have one source, and a dict per node would double the graph's size)."""
        self._merged_into: dict[str, str] = {}
        self._sorted: _Sorted | None = None
        """Sorted views of nodes and edges, dropped on any change."""

    # -- building -----------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        old = self._nodes.get(node.id)
        if old is not None:
            if type(old) is not type(node):
                raise ValueError(f"{node.id} is both a component and a service")
            node = old.merged(node)  # type: ignore[arg-type]
        self._sorted = None
        self._nodes[node.id] = node

    def replace_node(self, node: Node) -> None:
        """Put ``node`` in place of the node with its id, without merging."""
        if type(self._nodes.get(node.id)) is not type(node):
            raise KeyError(f"no {type(node).__name__} {node.id} to replace")
        self._sorted = None
        self._nodes[node.id] = node

    def add_dependency(self, dep: Dependency) -> None:
        for end in (dep.source, dep.target):
            if end not in self._nodes:
                raise KeyError(f"edge {dep.source} -> {dep.target}: unknown node {end}")
        if dep.source == dep.target:
            return  # a project that installs itself (``-e .``) is no dependency
        self._sorted = None
        targets = self._out.setdefault(dep.source, {})
        edges = targets.get(dep.target)
        if edges is None:
            edges = targets[dep.target] = []
            self._in.setdefault(dep.target, []).append(dep.source)
        key = dep.key
        for i, known in enumerate(edges):
            if known.key == key:
                edges[i] = known.merged(dep)
                return
        edges.append(dep)

    def add_fragment(self, fragment: Fragment) -> None:
        for c in fragment.components:
            self.add_node(c)
        for s in fragment.services:
            self.add_node(s)
        for d in fragment.dependencies:
            self.add_dependency(d)

    def _remove_node(self, node_id: str) -> None:
        del self._nodes[node_id]
        for target in self._out.pop(node_id, {}):
            sources = self._in[target]
            sources.remove(node_id)
            if not sources:
                del self._in[target]
        for source in self._in.pop(node_id, []):
            targets = self._out[source]
            del targets[node_id]
            if not targets:
                del self._out[source]

    def merge_nodes(self, old_id: str, new_id: str) -> None:
        """Fold node ``old_id`` into ``new_id``: evidence joins, edges move."""
        old = self._nodes[old_id]
        new = self._nodes[new_id]
        self._sorted = None
        self._nodes[new_id] = new.merged(replace(old, id=new.id))  # type: ignore[arg-type]
        moved = [
            replace(
                d,
                source=new_id if d.source == old_id else d.source,
                target=new_id if d.target == old_id else d.target,
            )
            for d in self._edges_of(old_id)
        ]
        self._remove_node(old_id)
        self._merged_into[old_id] = new_id
        for d in moved:
            self.add_dependency(d)

    def resolve_unversioned(self) -> None:
        """Join a requirement on a name (``pkg:pypi/requests``) to the version a lockfile
        or environment pins (``pkg:pypi/requests@2.32.3``) when that is unambiguous: one
        pinned version in the graph, or one pinned in the same folder as the requirement.
        A direct reference joins the pin of the same source (same purl qualifiers).

        When no one pin covers every use of the name (the project's ``pytest`` is locked
        by its uv.lock, an example's ``pytest`` by nothing), each edge to it that one pin
        covers moves to that pin, with its evidence; the node keeps the rest.
        """
        unversioned = [c for c in self.components() if c.version is None and c.purl is not None]
        if not unversioned:
            return
        wanted = {_pin_key(c) for c in unversioned}
        versioned: dict[tuple[str, str, str], list[Component]] = defaultdict(list)
        for c in self.components():
            if c.version is None or c.purl is None:
                continue
            key = _pin_key(c)
            if key in wanted:
                versioned[key].append(c)
        for c in unversioned:
            pins = versioned.get(_pin_key(c), [])
            if not pins:
                continue
            candidates = _covering(pins, c.evidence)
            if len(candidates) == 1:
                self.merge_nodes(c.id, candidates[0].id)
            elif c.id not in self._out:  # a project's node moves whole, or not at all
                self._split_to_pins(c, pins)

    def _split_to_pins(self, c: Component, pins: list[Component]) -> None:
        """Move each edge to ``c`` that one pin covers to that pin (see
        :meth:`resolve_unversioned`); ``c`` goes when nothing is left of it."""
        moved: dict[str, list[Evidence]] = defaultdict(list)
        for source in list(self._in.get(c.id, ())):
            edges = self._out[source][c.id]
            for dep in list(edges):
                found = _covering(pins, dep.evidence) if dep.evidence else []
                if len(found) != 1:
                    continue
                edges.remove(dep)
                moved[found[0].id].extend(dep.evidence)
                self.add_dependency(replace(dep, target=found[0].id))
            if not edges:
                del self._out[source][c.id]
                self._in[c.id].remove(source)
        if not moved:
            return
        self._sorted = None
        if not self._in.get(c.id):
            self._in.pop(c.id, None)
        taken: set[Evidence] = set()
        for pin_id, evidence in moved.items():
            pin = self._nodes[pin_id]
            self._nodes[pin_id] = pin.merged(replace(pin, evidence=tuple(sorted(set(evidence)))))  # type: ignore[arg-type]
            taken.update(evidence)
        left = tuple(e for e in c.evidence if e not in taken)
        if left or c.id in self._in:
            self._nodes[c.id] = replace(c, evidence=left)
        else:
            del self._nodes[c.id]

    # -- reading ------------------------------------------------------------------

    def canonical(self, node_id: str) -> str:
        """The id a node has now, following merges."""
        while node_id in self._merged_into:
            node_id = self._merged_into[node_id]
        return node_id

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def node(self, node_id: str) -> Node:
        return self._nodes[node_id]

    def _all_edges(self) -> Iterator[Dependency]:
        for targets in self._out.values():
            for edges in targets.values():
                yield from edges

    def _views(self) -> _Sorted:
        if self._sorted is None:
            items = self._nodes.values()
            self._sorted = _Sorted(
                sorted((i for i in items if isinstance(i, Component)), key=lambda c: c.id),
                sorted((i for i in items if isinstance(i, Service)), key=lambda s: s.id),
                sorted(  # unique per edge
                    self._all_edges(),
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
            (d for source in self._in.get(node_id, ()) for d in self._out[source][node_id]),
            key=lambda d: (d.source, d.key),
        )

    def dependencies_of(self, node_id: str) -> list[Dependency]:
        return sorted(
            (d for edges in self._out.get(node_id, {}).values() for d in edges),
            key=lambda d: (d.target, d.key),
        )

    def _edges_of(self, node_id: str) -> Iterator[Dependency]:
        for edges in self._out.get(node_id, {}).values():
            yield from edges
        for source in self._in.get(node_id, ()):
            yield from self._out[source][node_id]

    def roots(self) -> list[str]:
        """Nodes nothing depends on, in id order."""
        return sorted(n for n in self._nodes if n not in self._in)

    def kinds_reaching(self, node_id: str) -> set[DependencyKind]:
        return {d.kind for d in self.dependents(node_id)}

    def why(self, node_id: str, limit: int = 10) -> list[list[str]]:
        """Shortest chains from a root to ``node_id`` ("why is this here?"), one per root
        that reaches it, in root order; among chains of equal length, the one through the
        smallest ids."""
        if node_id not in self._nodes:
            return []
        # breadth first from the node against the edges: the first time a node is
        # reached is by a shortest chain, and ``toward`` remembers its next hop
        toward: dict[str, str] = {node_id: node_id}
        queue = deque([node_id])
        while queue:
            here = queue.popleft()
            for source in sorted(self._in.get(here, ())):
                if source not in toward:
                    toward[source] = here
                    queue.append(source)
        chains: list[list[str]] = []
        for root in self.roots():
            if root == node_id or root not in toward:
                continue
            chain = [root]
            while chain[-1] != node_id:
                chain.append(toward[chain[-1]])
            chains.append(chain)
            if len(chains) >= limit:
                break
        return chains

    def to_networkx(self, kinds: Iterable[DependencyKind] | None = None) -> nx.MultiDiGraph:
        """The graph as a ``networkx.MultiDiGraph`` (a copy): nodes keyed by id with the
        model object as ``item``, one edge per kind/scope/mechanism with the
        :class:`Dependency` as ``dep``, keyed ``kind|scope|mechanism``; only edges of
        ``kinds`` when given."""
        import networkx as nx

        wanted = None if kinds is None else set(kinds)
        g: nx.MultiDiGraph = nx.MultiDiGraph()
        for node_id in sorted(self._nodes):
            g.add_node(node_id, item=self._nodes[node_id])
        for d in self._views().dependencies:
            if wanted is None or d.kind in wanted:
                g.add_edge(d.source, d.target, key="|".join(d.key), dep=d)
        return g

    def view(self, kinds: Iterable[DependencyKind]) -> nx.MultiDiGraph:
        """A networkx graph holding only edges of ``kinds`` (see :meth:`to_networkx`)."""
        return self.to_networkx(kinds)

    def copy(self) -> DependencyGraph:
        other = DependencyGraph()
        other._nodes = dict(self._nodes)
        for source, targets in self._out.items():
            for target, edges in targets.items():
                other._out.setdefault(source, {})[target] = list(edges)
        other._in = {target: list(sources) for target, sources in self._in.items()}
        other._merged_into = dict(self._merged_into)
        return other
