"""A :class:`~depchain.picture.Picture` as a Mermaid ``flowchart``, for Markdown (a pull
request comment, a README) and ``depchain graph --format mermaid``.

Shapes by what a node is, one ``classDef`` per provenance in the palette every renderer
shares, arrows by kind (``-.->`` build, ``==>`` static, ``-->`` dynamic, ``-.-o``
service), optional and dev arrows labelled and lighter, the trust boundary a
``subgraph``.

Every text comes from files nobody here wrote. Node ids are generated (``n0``,
``n1``…); every label is quoted and holds only letters, digits, spaces and a few
harmless marks, everything else written as a Mermaid entity (``#34;``), so that no
quote, bracket, pipe, ``-->``, ``%%{init}``, ``click``, HTML tag or Markdown fence in a
name can end the label, add a statement or leave the code block.
"""

from __future__ import annotations

import re

from depchain.model import DependencyKind
from depchain.picture import KIND_TITLES, PROVENANCE_COLOURS, Node, Picture, Provenance, Shape
from depchain.render.drawing import (
    BOUNDARY_TITLE,
    Arrow,
    arrows,
    clean,
    ink,
    inside_boundary,
    label_lines,
    ordered,
)

SHAPES = {
    Shape.PROJECT: ("{{", "}}"),
    Shape.PYTHON: ("[", "]"),
    Shape.PACKAGE: ("(", ")"),
    Shape.NATIVE: ("[[", "]]"),
    Shape.OS_PACKAGE: ("[(", ")]"),
    Shape.IMAGE: ("[/", "/]"),
    Shape.ACTION: (">", "]"),
    Shape.SERVICE: ("([", "])"),
    Shape.GROUP: ("[/", "\\]"),
}
"""The Mermaid flowchart shape of each kind of node: hexagon, rectangle, rounded,
subroutine, cylinder, parallelogram, flag, stadium, trapezoid."""

ARROWS = {
    DependencyKind.BUILD: "-.->",
    DependencyKind.STATIC: "==>",
    DependencyKind.DYNAMIC: "-->",
    DependencyKind.SERVICE: "-.-o",
}

LIGHT = "#adb5bd"

_SAFE = re.compile(r"[^A-Za-z0-9 .,:/@+=_()*?!'$^~-]")
"""What a label may hold as it is; the rest becomes an entity. Not ``#`` or ``&`` (they
start entities), ``;``, quotes, brackets, braces, ``|``, ``<>``, ``%`` or backticks."""


def text(value: str) -> str:
    """``value`` (cleaned) as the inside of a quoted Mermaid label: every character
    outside a small safe set written as a decimal entity (``#34;`` for ``"``)."""
    return _SAFE.sub(lambda m: f"#{ord(m.group())};", clean(value))


def _label(lines: list[str]) -> str:
    return '"' + "<br/>".join(text(line) for line in lines) + '"'


def render(picture: Picture) -> str:
    """The picture as a Mermaid ``flowchart LR`` (without code fences; the same bytes for
    the same picture)."""
    nodes = ordered(picture)
    ids = {node.id: f"n{i}" for i, node in enumerate(nodes)}
    out = ["flowchart LR"]
    out += [f"    %% {text(note)}" for note in [picture.title, *picture.notes]]
    inside = [n for n in nodes if inside_boundary(n)]
    outside = [n for n in nodes if not inside_boundary(n)]
    if inside:
        out.append(f'    subgraph boundary["{text(BOUNDARY_TITLE)}"]')
        out += [f"        {_node(ids[n.id], n)}" for n in inside]
        out.append("    end")
    out += [f"    {_node(ids[n.id], n)}" for n in outside]
    light: list[int] = []
    drawn = arrows(picture)
    for index, arrow in enumerate(drawn):
        out.append(f"    {_arrow(ids, arrow)}")
        if arrow.scope != "required":
            light.append(index)
    for provenance in Provenance:
        fill = PROVENANCE_COLOURS[provenance]
        out.append(
            f"    classDef {_class(provenance)} fill:{fill},stroke:#343a40,color:{ink(fill)}"
        )
    for provenance in Provenance:
        members = [ids[n.id] for n in nodes if n.provenance is provenance]
        if members:
            out.append(f"    class {','.join(members)} {_class(provenance)}")
    unknown_side = [ids[n.id] for n in outside if n.boundary is None]
    if unknown_side:
        out.append("    classDef sideunknown stroke-dasharray:4 3")
        out.append(f"    class {','.join(unknown_side)} sideunknown")
    if inside:
        out.append("    style boundary fill:none,stroke:#1c7ed6,stroke-dasharray:6 4")
    if light:
        out.append(f"    linkStyle {','.join(map(str, light))} stroke:{LIGHT}")
    return "\n".join(out) + "\n"


def fenced(picture: Picture) -> str:
    """The flowchart in a Markdown ``mermaid`` code block (no label holds a backtick, so
    three of them close it)."""
    return f"```mermaid\n{render(picture)}```\n"


def legend() -> str:
    """One Markdown line saying what the arrows mean (Mermaid draws no legend)."""
    kinds = ", ".join(f"`{ARROWS[k]}` {KIND_TITLES[k]}" for k in DependencyKind)
    return f"Arrows: {kinds}; grey arrows are optional or dev."


def _class(provenance: Provenance) -> str:
    return f"prov{provenance.value}"


def _node(mermaid_id: str, node: Node) -> str:
    start, end = SHAPES[node.shape]
    return f"{mermaid_id}{start}{_label(label_lines(node))}{end}"


def _arrow(ids: dict[str, str], arrow: Arrow) -> str:
    words = []
    if arrow.scope != "required":
        words.append(arrow.scope)
    if arrow.collapsed:
        words.append(f"x{arrow.count}")
    link = ARROWS[arrow.kind]
    label = f'|"{text(" ".join(words))}"|' if words else ""
    return f"{ids[arrow.source]} {link}{label} {ids[arrow.target]}"
