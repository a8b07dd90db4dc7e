"""Mermaid drawn from real scans, checked line by line against the small grammar the
renderer promises: every statement one of a few shapes, every node declared once, every
arrow between declared nodes, every label quoted and holding no quote, bracket, pipe,
``%``, backtick or tag of its own. (The HTML report's browser tests parse the same output
with Mermaid itself in Chromium.) Then the diagram in the Markdown report."""

from __future__ import annotations

import re
from pathlib import Path

import depchain
from depchain import picture
from depchain.model import DependencyKind
from depchain.picture import Picture, Provenance, Shape
from depchain.render import markdown, mermaid
from depchain.render.drawing import arrows, ordered
from tests.conftest import REPO, real
from tests.render.test_dot import _hostile_repo

WEBAPP = REPO / "examples" / "webapp"

LABEL = r'"[A-Za-z0-9 .,:/@+=_()*?!\'$^~#;<br/>-]*"'
"""A quoted label: safe characters, entities (``#34;``) and our own ``<br/>``."""
SHAPE = "|".join(
    re.escape(a) + LABEL + re.escape(b) for a, b in sorted(set(mermaid.SHAPES.values()))
)
NODE = re.compile(rf"(n\d+)(?:{SHAPE})")
ARROW = re.compile(r'(n\d+) (-\.->|==>|-->|-\.-o)(?:\|("[a-z0-9 ]+")\|)? (n\d+)')
CLASS = re.compile(r"class (n\d+(?:,n\d+)*) (prov[a-z]+|sideunknown)")
FIXED = (
    r"classDef prov[a-z]+ fill:#[0-9a-f]{6},stroke:#343a40,color:#[0-9a-f]{6}",
    r"classDef sideunknown stroke-dasharray:4 3",
    r"%% [A-Za-z0-9 .,:/@+=_()*?!'$^~#;-]*",
)
"""Statements of ours that carry no input (a comment only entities and safe marks)."""


def check(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]], dict[str, str]]:
    """The flowchart's nodes (id -> label), arrows and classes, after checking every
    line against the grammar; fails on anything else."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    classes: dict[str, str] = {}
    link_styles: list[int] = []
    depth = 0
    for line in lines[1:]:
        stripped = line.strip()
        assert stripped.count('"') % 2 == 0, line
        if match := NODE.fullmatch(stripped):
            assert match.group(1) not in nodes, f"declared twice: {line}"
            nodes[match.group(1)] = stripped[len(match.group(1)) :]
        elif match := ARROW.fullmatch(stripped):
            edges.append((match.group(1), match.group(2), match.group(4)))
        elif match := CLASS.fullmatch(stripped):
            for node in match.group(1).split(","):
                classes.setdefault(node, "")
                classes[node] += " " + match.group(2)
        elif any(re.fullmatch(pattern, stripped) for pattern in FIXED):
            pass
        elif stripped == 'subgraph boundary["trust boundary (this deployment)"]':
            depth += 1
        elif stripped == "end":
            depth -= 1
            assert depth == 0
        elif stripped == "style boundary fill:none,stroke:#1c7ed6,stroke-dasharray:6 4":
            pass
        elif match := re.fullmatch(r"linkStyle (\d+(?:,\d+)*) stroke:#adb5bd", stripped):
            link_styles += [int(i) for i in match.group(1).split(",")]
        else:
            raise AssertionError(f"not in the grammar: {line!r}")
    assert depth == 0
    for source, _, target in edges:
        assert source in nodes and target in nodes
    assert set(classes) <= set(nodes)
    assert all(0 <= i < len(edges) for i in link_styles)
    return nodes, edges, classes


def test_webapp_flowchart() -> None:
    pic = picture.build(depchain.scan(WEBAPP))
    text = mermaid.render(pic)
    nodes, edges, classes = check(text)
    assert len(nodes) == len(pic.nodes) == 41
    assert len(edges) == len(arrows(pic))
    ids = {n.id: f"n{i}" for i, n in enumerate(ordered(pic))}
    assert nodes[ids["pkg:pypi/flask@3.1.3"]] == '["flask<br/>3.1.3"]'
    assert nodes[ids[pic.subject]] == '{{"acme-webapp<br/>1.4.0"}}'
    assert nodes[ids["service:redis"]] == '(["Redis (endpoint not found)"])'
    assert classes[ids["pkg:pypi/hatchling"]] == " provgap"
    assert classes[ids["service:redis"]] == " provunknown sideunknown"
    assert classes[ids[pic.subject]] == " provproject"
    by_pair = {(s, t): a for s, a, t in edges}
    project = ids[pic.subject]
    assert by_pair[(project, ids["pkg:pypi/hatchling"])] == "-.->"
    assert by_pair[(project, ids["pkg:pypi/flask@3.1.3"])] == "-->"
    assert by_pair[(ids["pkg:pypi/redis@8.1.0"], ids["service:redis"])] == "-.-o"
    assert f'{project} -.->|"dev"| {ids["pkg:pypi/pytest@9.2.0"]}' in text
    assert f'{project} -->|"optional"| {ids["pkg:pypi/boto3@1.44.8"]}' in text
    # the palette is the one every renderer shares
    for provenance, colour in picture.PROVENANCE_COLOURS.items():
        assert f"classDef prov{provenance.value} fill:{colour}," in text
    # services whose side is not known are outside the boundary's subgraph
    inside = text.split("subgraph boundary")[1].split("\n    end\n")[0]
    assert f"{ids['service:redis']}([" not in inside and f"{ids['pkg:pypi/redis@8.1.0']}[" in inside


def test_static_arrows_and_the_boundary_on_real_repositories() -> None:
    warehouse = picture.build(depchain.scan(real("pypi__warehouse")), collapse="none")
    text = mermaid.render(warehouse)
    nodes, edges, _ = check(text)
    assert len(nodes) == len(warehouse.nodes)
    ids = {n.id: f"n{i}" for i, n in enumerate(ordered(warehouse))}
    inside = text.split("subgraph boundary")[1].split("\n    end\n")[0]
    for node in warehouse.nodes:
        expected = node.shape is not Shape.SERVICE or node.boundary is False
        assert (f"        {ids[node.id]}" in inside) is expected, node
    cryptography = picture.build(depchain.scan(real("pyca__cryptography")))
    _, edges, _ = check(mermaid.render(cryptography))
    static = sum(1 for a in arrows(cryptography) if a.kind is DependencyKind.STATIC)
    assert static > 0 and sum(1 for _, a, _ in edges if a == "==>") == static


def test_hostile_names_are_entities(tmp_path: Path) -> None:
    pic = picture.build(depchain.scan(_hostile_repo(tmp_path / "repo")))
    text = mermaid.render(pic)
    nodes, edges, _ = check(text)
    assert len(nodes) == len(pic.nodes) and len(edges) == len(arrows(pic))
    assert not [line for line in text.splitlines() if line.strip().startswith("click")]
    for bad in ("<b>", "%%{", "`", "s3cret", "hunter2", "user:tok", "\x1b", "\u202e"):
        assert bad not in text, bad
    labels = " ".join(nodes.values())
    assert "#34;#93;#59; n99 -#62; n0 #91;label=#60;b#62;x#60;/b#62;#93; //" in labels
    assert "back#92;" in labels
    assert "#37;#37;#123;init" in labels and "click n0 call alert(" in labels
    # inside a Markdown fence, the fence is closed only where we close it
    fenced = mermaid.fenced(pic)
    assert fenced.count("```") == 2 and fenced.startswith("```mermaid\n")


def _diagram(text: str) -> str:
    return text.split("```mermaid\n")[1].split("```")[0]


def test_markdown_draws_the_direct_dependencies_and_the_services() -> None:
    result = depchain.scan(WEBAPP)
    text = markdown.render(result)
    assert text.count("```mermaid") == 1
    assert "#### Direct dependencies (23) and services (3)" in text
    nodes, edges, _ = check(_diagram(text))
    drawn = markdown.direct_picture(result)
    assert len(nodes) == 27 == len(drawn.nodes)
    labels = {label.split('"')[1].split("<br/>")[0] for label in nodes.values()}
    assert {"flask", "pytest", "hatchling", "Redis (endpoint not found)"} <= labels
    assert "markupsafe" in labels  # a direct dependency too (requirements/prod.txt)
    assert "six" not in labels and "botocore" not in labels
    # every service is linked from a direct dependency: AWS through boto3 itself
    ids = {n.id: f"n{i}" for i, n in enumerate(ordered(drawn))}
    pairs = {(s, t) for s, _, t in edges}
    assert (ids["pkg:pypi/boto3@1.44.8"], ids["service:aws"]) in pairs
    assert (ids["pkg:pypi/redis@8.1.0"], ids["service:redis"]) in pairs
    assert "components deeper than the direct dependencies left out" in text
    assert "red: trust gap open" in text


def test_a_service_reached_only_deeper_is_linked_from_the_direct_dependency() -> None:
    result = depchain.scan(WEBAPP)
    full = picture.build(result, collapse="none")
    # cut boto3 -> AWS: AWS is then reached only through botocore, which is not drawn
    full.edges = [
        e
        for e in full.edges
        if not (e.source == "pkg:pypi/boto3@1.44.8" and e.target == "service:aws")
    ]
    drawn = markdown._direct(full)
    (link,) = [e for e in drawn.edges if e.target == "service:aws"]
    assert link.source == "pkg:pypi/boto3@1.44.8" and link.scope == "indirect"


def test_markdown_diagram_is_bounded(tmp_path: Path) -> None:
    """Warehouse has 344 direct dependencies: the diagram keeps the project, its services
    and its gaps first, and says how many it left out."""
    result = depchain.scan(real("pypi__warehouse"))
    drawn = markdown.direct_picture(result)
    assert len(drawn.nodes) == markdown.DIAGRAM_NODES
    services = [n for n in picture.build(result).nodes if n.shape is Shape.SERVICE]
    kept = {n.id for n in drawn.nodes}
    assert {s.id for s in services} <= kept and drawn.subject in kept
    # collapsed by owner first, then cut: every component with a gap is kept
    uncut = markdown._direct(picture.build(result, collapse="owner"))
    assert len(uncut.nodes) > markdown.DIAGRAM_NODES
    gaps = {n.id for n in uncut.nodes if n.provenance is Provenance.GAP}
    assert gaps and gaps <= kept
    assert any(n.shape is Shape.GROUP for n in drawn.nodes)
    text = markdown.render(result)
    nodes, _, _ = check(_diagram(text))
    assert len(nodes) == markdown.DIAGRAM_NODES
    assert re.search(r"\d+ more direct dependencies not drawn \(over 60 nodes\)", text)


def test_direct_picture_is_a_picture() -> None:
    assert isinstance(markdown.direct_picture(depchain.scan(WEBAPP)), Picture)
