"""What the DOT and Mermaid renderers share: the text of a node or an edge made safe to
show, the arrows of one look merged, the nodes placed inside or outside the trust
boundary. Nothing here knows a diagram language; each renderer escapes for its own."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from depchain.model import DependencyKind
from depchain.picture import (
    KIND_TITLES,
    PROVENANCE_TITLES,
    SHAPE_TITLES,
    Edge,
    Node,
    Picture,
    Shape,
)
from depchain.redaction import redact_text
from depchain.render import printable

MAX_TEXT = 120
"""Characters of one line of a label or tooltip (the rest is cut with an ellipsis): a
name of a megabyte from a hostile file must not make a megabyte of diagram."""

MAX_LINES = 12
"""Lines of one tooltip."""

BOUNDARY_TITLE = "trust boundary (this deployment)"

KIND_ORDER = list(DependencyKind)


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` as one line that carries no secret and no control character: redacted,
    line breaks as spaces, controls as escapes, cut to ``limit`` characters, and any
    lone surrogate (from bytes that were not UTF-8) replaced."""
    text = redact_text(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    text = printable(text).encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label_lines(node: Node) -> list[str]:
    """What a node says on its face: its name, then its version (or, for a group, how
    many it holds), then how many trust gaps are open on it."""
    lines = [clean(node.label, 60)]
    if node.version:
        lines.append(clean(node.version, 40))
    if node.findings:
        n = len(node.findings)
        lines.append(f"{n} trust gap{'s' if n != 1 else ''}")
    return lines


def node_tooltip(node: Node) -> list[str]:
    """What a node says on hover: what it is, who owns it, why it is coloured so, where
    it was found."""
    what = SHAPE_TITLES[node.shape]
    lines = [clean(f"{node.label} {node.version or ''}".strip()), clean(f"{what}")]
    if node.purl:
        lines.append(clean(node.purl))
    lines.append(f"provenance: {PROVENANCE_TITLES[node.provenance]}")
    if node.shape not in {Shape.PROJECT, Shape.SERVICE}:
        lines.append(clean(f"owner: {node.owner or 'unknown'}"))
    if node.shape is Shape.SERVICE:
        lines.append(f"trust boundary: {boundary_words(node.boundary)}")
        lines += [clean(f"endpoint: {e}") for e in node.endpoints[:3]]
    lines += [clean(f"{f.severity} {f.id}: {f.message}") for f in node.findings[:3]]
    if len(node.findings) > 3:
        lines.append(f"+{len(node.findings) - 3} more gaps")
    if node.members:
        lines.append(clean("holds: " + ", ".join(node.members), 2 * MAX_TEXT))
    lines += [clean(f"seen at {e}") for e in node.evidence]
    return lines[:MAX_LINES]


def boundary_words(boundary: bool | None) -> str:
    if boundary is None:
        return "not known"
    return "reached across it" if boundary else "inside this deployment"


@dataclass(frozen=True)
class Arrow:
    """The arrows of one source, target, kind and scope, drawn as one."""

    source: str
    target: str
    kind: DependencyKind
    scope: str
    mechanisms: tuple[str, ...]
    evidence: tuple[str, ...]
    count: int
    """How many edges of the scan's graph it stands for."""
    collapsed: bool = False
    """It stands for edges between members of collapsed groups (its count is news)."""

    def tooltip(self) -> list[str]:
        lines = [
            f"{KIND_TITLES[self.kind]} ({self.kind.value}), {clean(self.scope)}",
            clean("how: " + ", ".join(self.mechanisms)),
        ]
        if self.count > 1:
            lines.append(f"stands for {self.count} edges")
        lines += [clean(f"seen at {e}") for e in self.evidence]
        return lines[:MAX_LINES]


def arrows(picture: Picture) -> list[Arrow]:
    """The picture's edges, those of one source, target, kind and scope merged (a lock
    and a requirement naming the same dependency are one arrow with two mechanisms), in
    a fixed order; edges to a node the picture does not hold are dropped."""
    ids = {n.id for n in picture.nodes}
    joined: dict[tuple[str, str, DependencyKind, str], list[Edge]] = defaultdict(list)
    for edge in picture.edges:
        if edge.source in ids and edge.target in ids:
            joined[(edge.source, edge.target, edge.kind, edge.scope)].append(edge)
    out = []
    for key in sorted(joined, key=lambda k: (k[0], k[1], KIND_ORDER.index(k[2]), k[3])):
        group = joined[key]
        evidence = sorted({e for edge in group for e in edge.evidence})
        out.append(
            Arrow(
                source=key[0],
                target=key[1],
                kind=key[2],
                scope=key[3],
                mechanisms=tuple(sorted({edge.mechanism for edge in group})),
                evidence=tuple(evidence[:5]),
                count=sum(edge.count for edge in group),
                collapsed=any(edge.count > 1 for edge in group),
            )
        )
    return out


def ordered(picture: Picture) -> list[Node]:
    """The picture's nodes nearest the project first, then by id: the order their ids
    (``n0``, ``n1``…) are given in, whatever order the picture lists them in."""
    return sorted(picture.nodes, key=lambda n: (n.depth is None, n.depth or 0, n.id))


def inside_boundary(node: Node) -> bool:
    """Drawn inside the trust boundary: the project and every component (what this
    deployment runs), and the services known to be part of it. A service across the
    boundary, or whose side is not known, is drawn outside (unknown is not trusted)."""
    if node.shape is Shape.SERVICE:
        return node.boundary is False
    return True


def ink(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill`` (``#rrggbb``)."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.45 else "#ffffff"
