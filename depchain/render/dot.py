"""A :class:`~depchain.picture.Picture` as Graphviz DOT, and DOT as SVG through
Graphviz's own ``dot`` where it is installed.

Nodes are filled with their provenance colour and shaped by what they are; arrows are
styled by kind (build dashed, static bold, dynamic solid, service dotted), lighter and
labelled when optional or dev; the project, its components and the services of this
deployment sit inside a cluster drawn as the trust boundary, the other services outside
it; a legend cluster names every colour, shape and line.

Every text comes from files nobody here wrote. It is redacted, its controls escaped,
its backslashes doubled (so that no ``\\N``, ``\\l`` or trailing ``\\`` means anything to
Graphviz), and quoted by the ``graphviz`` library as plain text (never as an HTML-like
label); node ids are generated (``n0``, ``n1``…), never taken from the input.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

from depchain.errors import DepchainError
from depchain.model import DependencyKind
from depchain.picture import (
    KIND_TITLES,
    PROVENANCE_COLOURS,
    PROVENANCE_TITLES,
    SHAPE_TITLES,
    Node,
    Picture,
    Provenance,
    Shape,
)
from depchain.render.drawing import (
    BOUNDARY_TITLE,
    Arrow,
    arrows,
    clean,
    ink,
    inside_boundary,
    label_lines,
    node_tooltip,
    ordered,
)

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]  # no stubs, no py.typed

SHAPES = {
    Shape.PROJECT: ("doubleoctagon", "filled,bold"),
    Shape.PYTHON: ("box", "filled"),
    Shape.PACKAGE: ("box", "filled,rounded"),
    Shape.NATIVE: ("component", "filled"),
    Shape.OS_PACKAGE: ("cylinder", "filled"),
    Shape.IMAGE: ("folder", "filled"),
    Shape.ACTION: ("cds", "filled"),
    Shape.SERVICE: ("ellipse", "filled"),
    Shape.GROUP: ("box3d", "filled"),
}
"""The Graphviz shape and style of each kind of node."""

KIND_STYLES = {
    DependencyKind.BUILD: {"style": "dashed"},
    DependencyKind.STATIC: {"style": "bold", "penwidth": "2.5"},
    DependencyKind.DYNAMIC: {"style": "solid"},
    DependencyKind.SERVICE: {"style": "dotted", "penwidth": "1.5"},
}
"""The line of each kind of edge."""

LINE = "#343a40"
LIGHT = "#adb5bd"
"""The colour of a required edge, and of an optional or dev one."""

LARGE = 400
"""Nodes past which ``dot`` is told to bound its layout effort (``nslimit``, ``mclimit``)."""

DOT_TIMEOUT = 120.0
"""Seconds ``dot`` may take to lay a graph out before it is stopped."""


class GraphvizError(DepchainError):
    """Graphviz is missing, or could not lay the graph out in time."""


def _text(*lines: str) -> graphviz.quoting.NoHtml:
    """Lines as one DOT string (already :func:`clean`): backslashes doubled, joined by
    DOT's ``\\n``, and marked as never being an HTML-like label (the library then quotes
    it and escapes its double quotes)."""
    from graphviz import nohtml

    return nohtml("\\n".join(line.replace("\\", "\\\\") for line in lines))


def render(picture: Picture) -> str:
    """The picture as a DOT ``digraph`` (same bytes for the same picture)."""
    import graphviz

    nodes = ordered(picture)
    ids = {node.id: f"n{i}" for i, node in enumerate(nodes)}
    caption = [clean(f"{picture.title}: dependencies by kind and provenance")]
    caption += [clean(note) for note in picture.notes]
    dot = graphviz.Digraph(
        "depchain",
        graph_attr={
            "rankdir": "LR",
            "label": _text(*caption),
            "labelloc": "t",
            "labeljust": "l",
            "fontname": "Helvetica",
            "fontsize": "12",
            "newrank": "true",
            "tooltip": _text(caption[0]),
        },
        node_attr={"fontname": "Helvetica", "fontsize": "10", "color": LINE},
        edge_attr={"fontname": "Helvetica", "fontsize": "8", "color": LINE, "arrowsize": "0.7"},
    )
    inside = [n for n in nodes if inside_boundary(n)]
    outside = [n for n in nodes if not inside_boundary(n)]
    with dot.subgraph(name="cluster_boundary") as boundary:
        boundary.attr(
            label=_text(BOUNDARY_TITLE),
            style="rounded,dashed",
            color="#1c7ed6",
            fontcolor="#1c7ed6",
            penwidth="1.5",
            tooltip=_text("inside: the project, its components and its own services"),
        )
        for node in inside:
            _node(boundary, ids[node.id], node)
    for node in outside:
        _node(dot, ids[node.id], node)
    for arrow in arrows(picture):
        _arrow(dot, ids, arrow)
    _legend(dot, sorted({n.shape for n in picture.nodes}, key=list(Shape).index))
    return str(dot.source)


def _node(graph: graphviz.Digraph, dot_id: str, node: Node) -> None:
    shape, style = SHAPES[node.shape]
    fill = PROVENANCE_COLOURS[node.provenance]
    attrs = {
        "shape": shape,
        "style": style,
        "fillcolor": fill,
        "fontcolor": ink(fill),
        "tooltip": _text(*node_tooltip(node)),
    }
    if node.shape is Shape.SERVICE and node.boundary is None:
        attrs["style"] = "filled,dashed"  # not known on which side it stands
    elif node.shape is Shape.SERVICE and node.boundary:
        attrs["peripheries"] = "2"
    graph.node(dot_id, label=_text(*label_lines(node)), **attrs)


def _arrow(graph: graphviz.Digraph, ids: dict[str, str], arrow: Arrow) -> None:
    attrs = dict(KIND_STYLES[arrow.kind])
    words = []
    if arrow.scope != "required":
        attrs["color"] = LIGHT
        attrs["fontcolor"] = "#495057"
        words.append(clean(arrow.scope, 20))
    if arrow.collapsed:
        words.append(f"x{arrow.count}")
    if words:
        attrs["label"] = _text(" ".join(words))
    attrs["tooltip"] = _text(*arrow.tooltip())
    graph.edge(ids[arrow.source], ids[arrow.target], **attrs)


def _legend(graph: graphviz.Digraph, shapes: Sequence[Shape]) -> None:
    """A cluster of samples: one node per provenance colour, one white node per shape
    the picture holds, one line per edge kind. Its ids start with ``legend_``; every
    text in it is ours."""
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(
            label="legend", style="rounded", color=LIGHT, fontcolor="#495057", fontsize="10"
        )
        legend.attr("node", fontsize="9", width="0", height="0", margin="0.05,0.03")
        for provenance in Provenance:
            fill = PROVENANCE_COLOURS[provenance]
            legend.node(
                f"legend_provenance_{provenance.value}",
                label=_text(PROVENANCE_TITLES[provenance]),
                shape="box",
                style="filled",
                fillcolor=fill,
                fontcolor=ink(fill),
            )
        for shape in shapes:
            dot_shape, style = SHAPES[shape]
            legend.node(
                f"legend_shape_{shape.value.replace('-', '_')}",
                label=_text(SHAPE_TITLES[shape]),
                shape=dot_shape,
                style=style.replace("filled", "solid"),
            )
        for kind in DependencyKind:
            start, end = f"legend_kind_{kind.value}", f"legend_kind_{kind.value}_end"
            legend.node(start, label=_text(KIND_TITLES[kind]), shape="plaintext")
            legend.node(end, label="", shape="point", width="0.05")
            legend.edge(start, end, **KIND_STYLES[kind])
        legend.node(
            "legend_scope", label=_text("optional or dev"), shape="plaintext", fontcolor="#495057"
        )
        legend.node("legend_scope_end", label="", shape="point", width="0.05", color=LIGHT)
        legend.edge("legend_scope", "legend_scope_end", color=LIGHT)


_NODE_STATEMENT = re.compile(rb"^\s*n\d+ \[", re.MULTILINE)


def to_svg(dot_text: str, timeout: float = DOT_TIMEOUT) -> bytes:
    """The SVG Graphviz's ``dot`` draws of ``dot_text`` (given on its standard input;
    stopped after ``timeout`` seconds). A graph of more than :data:`LARGE` nodes is laid
    out with bounded effort (``-Gnslimit``, ``-Gmclimit``): the same drawing rules, a
    less polished crossing count, minutes saved."""
    program = shutil.which("dot")
    if program is None:
        error = GraphvizError("Graphviz's `dot` is not installed: cannot lay the graph out as SVG")
        error.hint = (
            "install Graphviz (Debian: apt-get install graphviz), or use --format dot to write "
            "the DOT and render it elsewhere (dot -Tsvg graph.dot -o graph.svg)"
        )
        raise error
    data = dot_text.encode("utf-8")
    command = [program, "-Tsvg"]
    if len(_NODE_STATEMENT.findall(data)) > LARGE:
        command += ["-Gnslimit=2", "-Gnslimit1=2", "-Gmclimit=0.5", "-Gsearchsize=10"]
    try:
        done = subprocess.run(  # a fixed program and arguments; the DOT on stdin
            command, input=data, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        error = GraphvizError(f"Graphviz's `dot` took more than {timeout:g} s to lay the graph out")
        error.hint = (
            "draw less (--depth N, --focus NAME, --kind KIND, --collapse owner), or write "
            "the DOT with --format dot and lay it out with sfdp"
        )
        raise error from None
    except OSError as exc:
        raise GraphvizError(f"Graphviz's `dot` could not be run: {exc.strerror}") from None
    if done.returncode != 0 or not done.stdout:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = clean(said[0]) if said else f"exit status {done.returncode}"
        raise GraphvizError(f"Graphviz's `dot` failed: {first}")
    return done.stdout
