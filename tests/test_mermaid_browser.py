"""The Mermaid text parses and renders with the real Mermaid library (issue 14: "Mermaid
output parses with the Mermaid CLI or an equivalent check"): mermaid.min.js (npm
``mermaid@11``, installed by .ci/run into .ci/node, or ``$DEPCHAIN_MERMAID_JS``) loaded
into a blank page of headless Chromium, offline, with Mermaid's strict security level;
``mermaid.parse()`` accepts it and ``mermaid.render()`` draws one node per node of the
picture, and a hostile name adds no node, link or script."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from depchain import picture
from depchain.scanner import scan
from tests.browser import open_page

REPO = Path(__file__).resolve().parents[1]
WEBAPP = REPO / "examples" / "webapp"


def _mermaid_js() -> Path:
    wanted = os.environ.get("DEPCHAIN_MERMAID_JS")
    path = (
        Path(wanted)
        if wanted
        else REPO / ".ci" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    )
    if not path.is_file():
        pytest.skip(
            f"Mermaid's library not found at {path} (npm install --prefix .ci/node mermaid@11, "
            "as .ci/run does, or set DEPCHAIN_MERMAID_JS)"
        )
    return path


@pytest.fixture(scope="module")
def mermaid_page(chromium: Any) -> Any:
    script = _mermaid_js()
    page = open_page(chromium)
    page.add_script_tag(path=str(script))
    page.evaluate(
        "() => mermaid.initialize({startOnLoad: false, securityLevel: 'strict', "
        "flowchart: {htmlLabels: true}})"
    )
    yield page
    page.log.assert_quiet()
    page.context.close()


_DRAW = """async (text) => {
    const parsed = await mermaid.parse(text);
    const id = "m" + Math.floor(performance.now() * 1000);
    const { svg } = await mermaid.render(id, text);
    // HTML labels hold <br>: read as HTML (a parsed document runs nothing)
    const doc = new DOMParser().parseFromString(svg, "text/html");
    const root = doc.querySelector("svg");
    return {
        type: parsed.diagramType,
        error: root && root.id === id ? null : "no SVG drawn",
        nodes: doc.querySelectorAll("g.node").length,
        edges: doc.querySelectorAll("path.flowchart-link").length,
        scripts: doc.querySelectorAll("script, foreignObject script, [onerror], [onload]").length,
        links: doc.querySelectorAll("a").length,
        text: root ? root.textContent : "",
        bytes: svg.length,
    };
}"""


def _draw(page: Any, text: str, tmp_path: Path, name: str) -> dict[str, Any]:
    (tmp_path / f"{name}.mmd").write_text(text, encoding="utf-8")
    drawn: dict[str, Any] = page.evaluate(_DRAW, text)
    return drawn


def _mermaid() -> Any:
    try:
        from depchain.render import mermaid
    except ImportError:  # pragma: no cover - the renderer lands with issue 14
        pytest.skip("depchain.render.mermaid is not there yet")
    return mermaid


def test_webapp_mermaid_parses_and_renders(mermaid_page: Any, tmp_path: Path) -> None:
    mermaid = _mermaid()
    result = scan(WEBAPP)
    drawn = picture.build(result)
    text = mermaid.render(drawn)
    out = _draw(mermaid_page, text, tmp_path, "webapp")
    assert out["type"] == "flowchart-v2"
    assert out["error"] is None
    assert out["nodes"] == len(drawn.nodes)
    arrows = [line for line in text.splitlines() if re.fullmatch(r"\s*n\d+ \S.* n\d+", line)]
    assert out["edges"] == len(arrows)
    assert out["edges"] > 0
    assert out["scripts"] == 0
    assert "hatchling" in out["text"] and "urllib3" in out["text"]


def test_hostile_names_in_mermaid(mermaid_page: Any, tmp_path: Path) -> None:
    """Names that try to close the label, add a click handler or an init directive
    parse as plain labels: no extra node, no link, no script."""
    mermaid = _mermaid()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["flask==3.0.0"]\n'
    )
    names = [
        "</script><script>alert(5)</script>",
        "<img src=x onerror=alert(6)>",
        'x"] --> evil["y',
        "%%{init: {'securityLevel': 'loose'}}%%",
        "a\nclick n0 call alert(1)",
    ]
    # a JSON string is a YAML double-quoted scalar
    services = "".join(f"  {json.dumps(name)}:\n    image: redis:7\n" for name in names)
    (root / "compose.yml").write_text("services:\n" + services)
    result = scan(root)
    drawn = picture.build(result)
    labels = {n.label for n in drawn.nodes}
    assert "<img src=x onerror=alert(6)>" in labels
    out = _draw(mermaid_page, mermaid.render(drawn), tmp_path, "hostile")
    assert out["error"] is None
    assert out["nodes"] == len(drawn.nodes)
    assert out["scripts"] == 0 and out["links"] == 0
    assert "onerror=alert(6)" in out["text"]
