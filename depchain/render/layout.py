"""Where each node of a :class:`~depchain.picture.Picture` stands in the HTML report's
drawing: layered by depth from left to right, ordered within a layer to cross fewer
edges, computed here, in Python, so that the page only draws.

Deterministic (no randomness, no hash order: the same picture gives the same numbers)
and bounded: a few barycenter sweeps, each O(E log E), keeping the order that crossed
fewest edges between neighbouring layers. A layer taller than :func:`rows_for` allows
wraps into several sub-columns, so that an environment of 2,000 libraries stays a
drawing rather than a ribbon. Services stand in a column of their own on the right,
grouped by whether they are reached across a trust boundary.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from depchain.picture import Node, Picture, Shape

NODE_H = 34
"""Height of a node's box: the name on one line, the version on the next."""
ROW = 44
LAYER_GAP = 110
"""Room between layers for the edges' curves."""
SUB_GAP = 26
"""Between the sub-columns of a wrapped layer."""
MIN_W, MAX_W = 76, 236
NAME_CHAR_W, SUB_CHAR_W = 6.7, 6.1
"""Advance of one character of the node's monospace labels (11 px and 10 px)."""
MAX_NAME, MAX_SUB = 30, 34
SWEEPS = 8
REGION_PAD = 14
REGION_HEAD = 22

BOUNDARY_GROUPS = (
    (True, "services reached across a trust boundary"),
    (None, "services, trust boundary not known"),
    (False, "services inside the trust boundary"),
)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Region:
    """A framed area of the drawing, with its caption (the services' trust zones)."""

    x: int
    y: int
    w: int
    h: int
    label: str
    boundary: bool | None


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    """Node id -> its box, in the picture's node order."""
    names: dict[str, str]
    """Node id -> the name drawn (shortened)."""
    subs: dict[str, str]
    """Node id -> the second line drawn (version, or what a group or service is)."""
    regions: tuple[Region, ...]
    width: int
    height: int


def shorten(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def second_line(node: Node) -> str:
    if node.shape is Shape.GROUP:
        return f"{len(node.members)} components"
    if node.shape is Shape.SERVICE:
        if node.endpoints:
            return node.endpoints[0].split("://")[-1]
        return "service"
    return node.version or "no exact version"


def rows_for(count: int) -> int:
    """How many nodes a sub-column holds: about the square root of the picture's size,
    so that a large picture comes out roughly as wide as it is tall."""
    return max(30, math.ceil(math.sqrt(count * 4.5)))


def layout(picture: Picture) -> Layout:
    nodes = picture.nodes
    names = {n.id: shorten(n.label, MAX_NAME) for n in nodes}
    subs = {n.id: shorten(second_line(n), MAX_SUB) for n in nodes}
    widths = {
        n.id: int(
            min(
                MAX_W,
                max(
                    MIN_W,
                    len(names[n.id]) * NAME_CHAR_W + 22,
                    len(subs[n.id]) * SUB_CHAR_W + 22,
                ),
            )
        )
        for n in nodes
    }
    layers = _layers(nodes)
    index = {node_id: i for i, layer in enumerate(layers) for node_id in layer}
    _order(layers, index, [(e.source, e.target) for e in picture.edges])
    rows = rows_for(len(nodes))
    service_layer = len(layers) - 1 if layers and _is_services(layers[-1], nodes) else None
    columns: list[tuple[list[str], int]] = []  # (sub-column, x)
    x = 0
    regions: list[Region] = []
    placed: dict[str, Box] = {}
    for i, layer in enumerate(layers):
        if i == service_layer:
            break
        for sub in _wrap(layer, rows):
            width = max(widths[n] for n in sub)
            columns.append((sub, x))
            x += width + SUB_GAP
        x += LAYER_GAP - SUB_GAP
    height = max((len(sub) * ROW for sub, _ in columns), default=0)
    for sub, cx in columns:
        top = (height - len(sub) * ROW) // 2
        for r, node_id in enumerate(sub):
            placed[node_id] = Box(cx, top + r * ROW, widths[node_id], NODE_H)
    if service_layer is not None:
        by_id = {n.id: n for n in nodes}
        blocks: list[tuple[bool | None, str, list[list[str]]]] = []
        for boundary, label in BOUNDARY_GROUPS:
            members = [s for s in layers[service_layer] if by_id[s].boundary is boundary]
            if members:
                blocks.append((boundary, label, _wrap(members, rows)))
        sizes = [
            REGION_HEAD + max(len(sub) for sub in subs_) * ROW + 2 * REGION_PAD - (ROW - NODE_H)
            for _, _, subs_ in blocks
        ]
        total = sum(sizes) + SUB_GAP * (len(blocks) - 1)
        height = max(height, total)
        y = (height - total) // 2
        for (boundary, label, subs_), size in zip(blocks, sizes, strict=True):
            cx = x + REGION_PAD
            for sub in subs_:
                width = max(widths[n] for n in sub)
                for r, node_id in enumerate(sub):
                    placed[node_id] = Box(
                        cx, y + REGION_HEAD + REGION_PAD + r * ROW, widths[node_id], NODE_H
                    )
                cx += width + SUB_GAP
            right = cx - SUB_GAP + REGION_PAD
            regions.append(Region(x, y, max(right - x, 7 * len(label) + 20), size, label, boundary))
            y += size + SUB_GAP
        x = max(r.x + r.w for r in regions) + LAYER_GAP
    width = max(x - LAYER_GAP, 0)
    return Layout(
        boxes={n.id: placed[n.id] for n in nodes},
        names=names,
        subs=subs,
        regions=tuple(regions),
        width=width,
        height=height,
    )


def _is_services(layer: Sequence[str], nodes: Sequence[Node]) -> bool:
    shapes = {n.id: n.shape for n in nodes}
    return bool(layer) and all(shapes[n] is Shape.SERVICE for n in layer)


def _layers(nodes: Sequence[Node]) -> list[list[str]]:
    """Nodes by depth (the picture's fewest edges from a root), those no root reaches
    after the deepest, the services last, in a column of their own."""
    deepest = max((n.depth for n in nodes if n.depth is not None), default=0)
    by_depth: dict[int, list[str]] = defaultdict(list)
    services: list[str] = []
    for node in nodes:
        if node.shape is Shape.SERVICE:
            services.append(node.id)
        else:
            by_depth[node.depth if node.depth is not None else deepest + 1].append(node.id)
    layers = [by_depth[d] for d in sorted(by_depth)]
    if services:
        layers.append(services)
    return layers


def _wrap(layer: list[str], rows: int) -> list[list[str]]:
    """A layer cut into sub-columns of even height, at most ``rows`` each."""
    if not layer:
        return []
    count = math.ceil(len(layer) / rows)
    per = math.ceil(len(layer) / count)
    return [layer[i : i + per] for i in range(0, len(layer), per)]


def _order(layers: list[list[str]], index: dict[str, int], edges: list[tuple[str, str]]) -> None:
    """Reorder each layer in place: barycenter sweeps down and up, keeping the order
    with the fewest crossings between neighbouring layers."""
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    pairs: list[tuple[int, str, str]] = []
    for source, target in edges:
        a, b = index.get(source), index.get(target)
        if a is None or b is None or a == b:
            continue
        low, high = (source, target) if a < b else (target, source)
        down[low].append(high)
        up[high].append(low)
        if abs(a - b) == 1:
            pairs.append((min(a, b), low, high))
    pos: dict[str, float] = {}

    def place(layer: list[str]) -> None:
        size = len(layer)
        for i, node_id in enumerate(layer):
            pos[node_id] = (i + 0.5) / size

    for layer in layers:
        place(layer)
    best = _crossings(pairs, pos)
    best_order = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        if best == 0:
            break
        downward = sweep % 2 == 0
        order = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        near = up if downward else down
        for i in order:
            layer = layers[i]
            keys = {
                n: (sum(pos[m] for m in near[n]) / len(near[n]) if near[n] else pos[n])
                for n in layer
            }
            layer.sort(key=lambda n: keys[n])
            place(layer)
        crossings = _crossings(pairs, pos)
        if crossings < best:
            best, best_order = crossings, [list(layer) for layer in layers]
    layers[:] = best_order


def _crossings(pairs: list[tuple[int, str, str]], pos: dict[str, float]) -> int:
    """Crossings among the edges between neighbouring layers: per pair of layers, the
    inversions of the lower ends once the edges are sorted by their upper ends."""
    by_layer: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for layer, low, high in pairs:
        by_layer[layer].append((pos[low], pos[high]))
    total = 0
    for layer in sorted(by_layer):
        total += _inversions([b for _, b in sorted(by_layer[layer])])[0]
    return total


def _inversions(values: list[float]) -> tuple[int, list[float]]:
    """How many pairs stand in the wrong order, and the values sorted (merge sort)."""
    if len(values) < 2:
        return 0, values
    mid = len(values) // 2
    left_count, left = _inversions(values[:mid])
    right_count, right = _inversions(values[mid:])
    count = left_count + right_count
    merged: list[float] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if right[j] < left[i]:
            count += len(left) - i
            merged.append(right[j])
            j += 1
        else:
            merged.append(left[i])
            i += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return count, merged
