"""``depchain why``: each path from the project to a component, one hop per line pair:
the node, then every edge to the next with its kind, scope, how it was found and where.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from depchain.model import Component, Dependency, Service
from depchain.render import printable
from depchain.scanner import ScanResult
from depchain.why import Answer

EVIDENCE_SHOWN = 3


def _name(result: ScanResult, node_id: str) -> str:
    node = result.graph.node(node_id)
    if isinstance(node, Service):
        from depchain.render.table import service_label

        return f"{service_label(node)} (service)"
    return f"{node.name} {node.version}" if node.version else node.name


def _places(dep: Dependency) -> list[str]:
    return sorted({f"{e.path}:{e.line}" if e.line else e.path for e in dep.evidence})


def _edge(dep: Dependency) -> str:
    places = _places(dep)
    shown = ", ".join(places[:EVIDENCE_SHOWN])
    if len(places) > EVIDENCE_SHOWN:
        shown += f" (+{len(places) - EVIDENCE_SHOWN})"
    how = dep.mechanism + (f" {dep.specifier}" if dep.specifier else "")
    if dep.marker:
        how += f"; {dep.marker}"
    extra = f" [{', '.join(dep.groups)}]" if dep.groups else ""
    return f"{dep.kind.value}, {dep.scope.value}{extra} ({how}) {shown or 'no evidence'}"


def render_lines(result: ScanResult, answers: list[Answer]) -> Iterator[str]:
    for number, answer in enumerate(answers):
        if number:
            yield "\n"
        target = answer.target
        ident = target.purl or target.id if isinstance(target, Component) else target.id
        head = f"{_name(result, target.id)} ({ident})"
        if not answer.chains:
            why = (
                "it is the project itself, or nothing in this scan depends on it"
                if answer.root
                else "no path from the project reaches it"
            )
            yield printable(f"{head}: {why}") + "\n"
            continue
        count = f"{len(answer.chains)}{'+' if answer.more else ''}"
        plural = "path" if len(answer.chains) == 1 and not answer.more else "paths"
        yield printable(f"{head}: {count} {plural}, shortest first") + "\n"
        for index, chain in enumerate(answer.chains, 1):
            yield printable(f"{index:>3}. {_name(result, chain.hops[0].source)}") + "\n"
            for hop in chain.hops:
                for dep in hop.edges:
                    yield printable(f"       -> {_edge(dep)}") + "\n"
                yield printable(f"     {_name(result, hop.target)}") + "\n"
        if answer.bounded:
            yield "  ... more paths may exist (the search stopped: too many cycles)\n"
        elif answer.more:
            yield f"  ... more paths exist (--limit {len(answer.chains) * 2} shows more)\n"


def render_json(result: ScanResult, answers: list[Answer]) -> str:
    def edge(dep: Dependency) -> dict[str, object]:
        return {
            "kind": dep.kind.value,
            "scope": dep.scope.value,
            "mechanism": dep.mechanism,
            "specifier": dep.specifier,
            "marker": dep.marker,
            "groups": list(dep.groups),
            "evidence": _places(dep),
        }

    data = [
        {
            "target": answer.target.id,
            "root": answer.root,
            "more": answer.more,
            "bounded": answer.bounded,
            "paths": [
                {
                    "nodes": chain.nodes,
                    "hops": [
                        {
                            "source": hop.source,
                            "target": hop.target,
                            "edges": [edge(d) for d in hop.edges],
                        }
                        for hop in chain.hops
                    ],
                }
                for chain in answer.chains
            ],
        }
        for answer in answers
    ]
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
