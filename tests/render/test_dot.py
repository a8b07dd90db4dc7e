"""DOT drawn from real scans, laid out by the real Graphviz: one node per picture node,
lines styled by kind, the trust boundary a cluster, hostile names kept as text."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree

import depchain
from depchain import picture
from depchain.model import DependencyKind
from depchain.picture import PROVENANCE_COLOURS, Picture, Shape
from depchain.render import dot, mermaid
from depchain.render.drawing import arrows, clean, ordered
from tests.conftest import REPO, real

WEBAPP = REPO / "examples" / "webapp"
SVG = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot is not installed (Debian: apt-get install graphviz)",
)


def _layout(dot_text: str) -> dict[str, Any]:
    """What Graphviz itself read: ``dot -Tjson`` (clusters, nodes with their attributes,
    edges between node indices)."""
    done = subprocess.run(
        ["dot", "-Tjson"], input=dot_text.encode(), capture_output=True, check=True, timeout=60
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _drawn(layout: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The picture's nodes as Graphviz read them (not the legend's), by DOT id."""
    return {o["name"]: o for o in layout["objects"] if re.fullmatch(r"n\d+", o["name"])}


def _cluster(layout: dict[str, Any], name: str) -> set[str]:
    (cluster,) = [o for o in layout["objects"] if o["name"] == name]
    by_gvid = {o["_gvid"]: o["name"] for o in layout["objects"]}
    return {by_gvid[i] for i in cluster.get("nodes", ())}


def _svg_nodes_and_edges(svg: bytes) -> tuple[list[str], list[str]]:
    root = ElementTree.fromstring(svg)
    titles: dict[str, list[str]] = {"node": [], "edge": []}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") in titles:
            title = g.find(f"{SVG}title")
            assert title is not None and title.text is not None
            titles[g.get("class")].append(title.text)
    return titles["node"], titles["edge"]


def _ids(pic: Picture, dot_text: str) -> dict[str, str]:
    """Picture node id -> DOT id (nearest the project first, then by id), each checked
    against the label Graphviz read for it."""
    ids = {n.id: f"n{i}" for i, n in enumerate(ordered(pic))}
    objects = _drawn(_layout(dot_text))
    assert len(objects) == len(ids)
    for node in pic.nodes:
        assert objects[ids[node.id]]["label"].split("\\n")[0] == clean(node.label, 60)
    return ids


@needs_dot
def test_webapp_renders_with_dot_one_node_per_picture_node() -> None:
    pic = picture.build(depchain.scan(WEBAPP))
    text = dot.render(pic)
    svg = dot.to_svg(text)
    nodes, edges = _svg_nodes_and_edges(svg)
    drawn = [n for n in nodes if re.fullmatch(r"n\d+", n)]
    assert len(drawn) == len(set(drawn)) == len(pic.nodes) == 41
    # one arrow per source, target, kind and scope (a lock and a requirement naming the
    # same dependency are one arrow with both mechanisms); the legend's lines besides
    picture_edges = [e for e in edges if re.fullmatch(r"n\d+->n\d+", e)]
    assert len(picture_edges) == len(arrows(pic)) == 65
    assert len({(e.source, e.target, e.kind, e.scope) for e in pic.edges}) == 65 < len(pic.edges)
    layout = _layout(text)
    objects = _drawn(layout)
    by_label = {o["label"].split("\\n")[0]: o for o in objects.values()}
    hatchling = by_label["hatchling"]
    assert hatchling["fillcolor"] == PROVENANCE_COLOURS[picture.Provenance.GAP]
    assert hatchling["label"] == "hatchling\\n1 trust gap"
    assert by_label["flask"]["label"] == "flask\\n3.1.3" and by_label["flask"]["shape"] == "box"
    project = by_label["acme-webapp"]
    assert project["shape"] == "doubleoctagon" and "bold" in project["style"]
    redis = by_label["Redis (endpoint not found)"]
    assert redis["shape"] == "ellipse" and "dashed" in redis["style"]  # side not known
    # edges styled by kind, scope lighter and labelled
    names = {o["_gvid"]: o["label"].split("\\n")[0] for o in layout["objects"] if "label" in o}
    styles = {
        (names[e["tail"]], names[e["head"]]): (e.get("style"), e.get("label"), e.get("color"))
        for e in layout["edges"]
    }
    assert styles[("acme-webapp", "hatchling")][0] == "dashed"
    assert styles[("acme-webapp", "flask")][0] == "solid"
    assert styles[("redis", "Redis (endpoint not found)")][0] == "dotted"
    assert styles[("acme-webapp", "pytest")] == ("dashed", "dev", dot.LIGHT)
    assert styles[("acme-webapp", "boto3")] == ("solid", "optional", dot.LIGHT)
    # the same in the SVG Graphviz drew: dashes, dots, solid lines
    root = ElementTree.fromstring(svg)
    dashes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "edge":
            path = g.find(f".//{SVG}path")
            dashes[g.find(f"{SVG}title").text] = path.get("stroke-dasharray")  # type: ignore[union-attr]
    ids = _ids(pic, text)
    project_id = ids["pkg:pypi/acme-webapp@1.4.0"]
    assert dashes[f"{project_id}->{ids['pkg:pypi/hatchling']}"] == "5,2"
    assert dashes[f"{ids['pkg:pypi/redis@8.1.0']}->{ids['service:redis']}"] == "1,5"
    assert dashes[f"{project_id}->{ids['pkg:pypi/flask@3.1.3']}"] is None


@needs_dot
def test_trust_boundary_is_a_cluster_holding_what_this_deployment_runs() -> None:
    """Warehouse's compose services are inside the boundary, the external ones (and those
    whose side is not known) outside it."""
    pic = picture.build(depchain.scan(real("pypi__warehouse")), collapse="none")
    sides = {n.boundary for n in pic.nodes if n.shape is Shape.SERVICE}
    assert sides == {True, False, None}
    text = dot.render(pic)
    layout = _layout(text)
    inside = _cluster(layout, "cluster_boundary")
    ids = _ids(pic, text)
    assert len(ids) == len(pic.nodes) == 349
    for node in pic.nodes:
        expected = node.shape is not Shape.SERVICE or node.boundary is False
        assert (ids[node.id] in inside) is expected, node
    legend = _cluster(layout, "cluster_legend")
    assert not legend & set(ids.values())
    assert {f"legend_provenance_{p.value}" for p in picture.Provenance} <= legend
    assert {f"legend_kind_{k.value}" for k in DependencyKind} <= legend
    # an external service is drawn with a double outline; one of unknown side dashed
    objects = _drawn(layout)
    for node in pic.nodes:
        if node.shape is Shape.SERVICE and node.boundary:
            assert objects[ids[node.id]].get("peripheries") == "2"
        if node.shape is Shape.SERVICE and node.boundary is None:
            assert "dashed" in objects[ids[node.id]]["style"]


def _hostile_repo(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "hostile"\nversion = "1.0"\ndependencies = ["requests==2.32.3"]\n'
    )
    (root / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "hostile"\nversion = "1.0"\nsource = { editable = "." }\n'
        'dependencies = [{ name = "evil\\"]{x}<b>->\\\\" }]\n\n'
        '[[package]]\nname = "evil\\"]{x}<b>->\\\\"\nversion = "1.0\\n2 -> n0"\n'
        'source = { registry = "https://user:tok@pypi.example.com/simple" }\n'
    )
    (root / "docker-compose.yml").write_text(
        "services:\n"
        '  "evil\\"]; n99 -> n0 [label=<b>x</b>] //":\n'
        '    image: "postgres:16"\n'
        "    environment:\n"
        '      DATABASE_URL: "postgres://user:s3cret@db.example.com:5432/app?password=hunter2"\n'
        '  "back\\\\":\n    image: redis\n'
        '  "line\\nbreak } digraph x { a -> b":\n    image: redis\n'
        '  "<<b>html</b>>":\n    image: redis\n'
        "  \"%%{init: {'securityLevel': 'loose'}}%%\\nclick n0 call alert(1)\\n```\":\n"
        "    image: redis\n"
        '  "esc\\e[31mred\\u202e|x| \\\\N \\\\G &amp; &#60;":\n    image: redis\n'
    )
    return root


HOSTILE_LABELS = {
    'evil"]{x}<b>->\\',
    'evil"]; n99 -> n0 [label=<b>x</b>] //',
    "back\\",
    "line break } digraph x { a -> b",
    "<<b>html</b>>",
    "esc\\x1b[31mred\\u202e|x| \\N \\G &amp; &#60;",
}


@needs_dot
def test_hostile_names_stay_text(tmp_path: Path) -> None:
    repo = _hostile_repo(tmp_path / "repo")
    result = depchain.scan(repo)
    assert not result.errors
    pic = picture.build(result)
    names = {n.label for n in pic.nodes}
    assert {'evil"]{x}<b>->\\', "<<b>html</b>>", "back\\"} <= names  # the input got through
    text = dot.render(pic)
    for secret in ("s3cret", "hunter2", "user:tok"):
        assert secret not in text
    svg = dot.to_svg(text)
    nodes, edges = _svg_nodes_and_edges(svg)
    assert sorted(n for n in nodes if not n.startswith("legend_")) == sorted(
        f"n{i}" for i in range(len(pic.nodes))
    )
    assert len([e for e in edges if not e.startswith("legend_")]) == len(arrows(pic))
    # what Graphviz read is what we drew: each label, its escapes undone, is the cleaned
    # name (no \N or \G expanded to a node or graph name, no HTML-like label)
    layout = _layout(text)
    read = {o["label"].split("\\n")[0].replace("\\\\", "\\") for o in _drawn(layout).values()}
    assert read >= HOSTILE_LABELS
    root = ElementTree.fromstring(svg)
    assert not [e for e in root.iter() if e.tag in {"b", f"{SVG}b", "script", f"{SVG}script"}]
    shown = {t.text for t in root.iter(f"{SVG}text")}
    assert "<<b>html</b>>" in shown and "back\\" in shown
    assert 'evil"]; n99 -> n0 [label=<b>x</b>] //' in shown
    for secret in (b"s3cret", b"hunter2", b"user:tok", b"\x1b"):
        assert secret not in svg


@pytest.mark.parametrize("render", [dot.render, mermaid.render], ids=["dot", "mermaid"])
def test_same_picture_same_bytes_whatever_the_order(render: Callable[[Picture], str]) -> None:
    first = render(picture.build(depchain.scan(WEBAPP)))
    pic = picture.build(depchain.scan(WEBAPP))
    random.Random(7).shuffle(pic.nodes)
    random.Random(7).shuffle(pic.edges)
    assert render(pic) == first
    assert first.startswith(("digraph depchain {", "flowchart LR"))


@needs_dot
def test_depth_focus_and_collapse_are_drawn_and_said() -> None:
    result = depchain.scan(WEBAPP)
    shallow = picture.build(result, depth=1)
    text = dot.render(shallow)
    objects = _drawn(_layout(text))
    assert len(objects) == len(shallow.nodes) == 24
    labels = {o["label"].split("\\n")[0] for o in objects.values()}
    assert "six" not in labels and "flask" in labels
    assert "deeper than 1 edges left out (--depth)" in _layout(text)["label"]

    focused = picture.build(result, focus=["urllib3"])
    labels = {o["label"].split("\\n")[0] for o in _drawn(_layout(dot.render(focused))).values()}
    assert labels == {"acme-webapp", "requests", "boto3", "botocore", "s3transfer", "urllib3"}
    assert "only paths to and from urllib3" in dot.render(focused)

    warehouse = depchain.scan(real("pypi__warehouse"))
    collapsed = picture.build(warehouse, collapse="owner")
    text = dot.render(collapsed)
    objects = _drawn(_layout(text))
    groups = [o for o in objects.values() if o["shape"] == "box3d"]
    assert len(groups) == sum(1 for n in collapsed.nodes if n.shape is Shape.GROUP) == 5
    assert any(o["label"].startswith("actions (") for o in groups)
    assert "15 components collapsed into 5 owner groups" in text


def _fake_dot(tmp_path: Path, body: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_no_graphviz_says_so_and_points_to_format_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(dot.GraphvizError) as caught:
        dot.to_svg("digraph { a -> b }")
    assert isinstance(caught.value, depchain.errors.DepchainError)
    said = caught.value.diagnostics()
    assert "`dot` is not installed" in said and "--format dot" in said


def test_a_slow_layout_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "still-running"
    bin_dir = _fake_dot(tmp_path, f"sleep 5; touch {marker}")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(dot.GraphvizError, match=r"took more than 0.3 s"):
        dot.to_svg("digraph { a -> b }", timeout=0.3)
    import time

    time.sleep(0.2)
    assert not marker.exists()


def test_a_failing_layout_is_an_error_naming_what_dot_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = _fake_dot(tmp_path, 'echo "Error: syntax error in line 1 \x1b[31m" >&2; exit 1')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(dot.GraphvizError, match=r"dot` failed: Error: syntax error") as caught:
        dot.to_svg("digraph {")
    assert "\x1b" not in str(caught.value)


def test_a_large_graph_is_laid_out_with_bounded_effort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = tmp_path / "args"
    bin_dir = _fake_dot(tmp_path, f'echo "$@" > {args}; cat > /dev/null; echo "<svg/>"')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    small = picture.build(depchain.scan(WEBAPP))
    assert dot.to_svg(dot.render(small)) == b"<svg/>\n"
    assert args.read_text().split() == ["-Tsvg"]
    # (pydantic's tree had more than dot.LARGE nodes only while its requirements on a
    # name stayed apart from their locked versions)
    (tmp_path / "many").mkdir()
    pins = "".join(f"lib{i}==1.0\n" for i in range(dot.LARGE + 10))
    (tmp_path / "many" / "requirements.txt").write_text(pins)
    large = picture.build(depchain.scan(tmp_path / "many"), collapse="none")
    assert len(large.nodes) > dot.LARGE
    dot.to_svg(dot.render(large))
    assert "-Gnslimit=2" in args.read_text().split()
