"""The HTML report (issue 14, part 2): one self-contained page, safe with hostile names
and planted secrets, the same bytes for the same input; and, in real headless
Chromium, a graph that is drawn, filtered, searched and clicked without one console
error, for examples/webapp and for an environment with native wheels."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from depchain import picture
from depchain.picture import Provenance, Shape
from depchain.render import html
from depchain.scanner import ScanResult, VulnOptions, scan
from tests.browser import open_page, pixel_stats

REPO = Path(__file__).resolve().parents[1]
WEBAPP = REPO / "examples" / "webapp"


def _report(result: ScanResult, tmp_path: Path, name: str) -> tuple[picture.Picture, Path]:
    drawn = picture.build(result)
    out = tmp_path / f"{name}.html"
    out.write_text(html.render(result, drawn), encoding="utf-8")
    return drawn, out


def _data(document: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="depchain-data">(.*?)</script>', document, re.S
    )
    assert found is not None
    loaded: dict[str, Any] = json.loads(found.group(1))
    return loaded


# -- the page as text ----------------------------------------------------------------


def test_same_input_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = scan(WEBAPP)
    again = scan(WEBAPP)
    one = html.render(first, picture.build(first))
    assert one == html.render(again, picture.build(again))
    assert "2023-11-14T22:13:20Z" in one


def test_self_contained_and_locked_down() -> None:
    """No network anywhere in the page; the policy runs only its own script and style,
    named by hash; the CLI's last redaction pass changes nothing (so the hashes hold)."""
    from depchain.redaction import redact_text

    result = scan(WEBAPP)
    document = html.render(result, picture.build(result))
    assert redact_text(document) == document
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', document)
    assert csp is not None
    policy = csp.group(1)
    assert "default-src 'none'" in policy and "img-src data:" in policy
    assert "unsafe" not in policy
    scripts = re.findall(r"<script>(.*?)</script>", document, re.S)
    styles = re.findall(r"<style>(.*?)</style>", document, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    for text, directive in ((scripts[0], "script-src"), (styles[0], "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    # nothing is fetched: no src, no stylesheet, no URL but two that name things
    assert not re.search(r"\s(src|srcset|action)=", document)
    assert not re.search(r"<link(?![^>]*href=\"data:)", document)
    assert set(re.findall(r'href="(.)', document)) <= {"#", "d"}  # anchors, data:
    markup = re.sub(r'(?s)<script type="application/json".*?</script>', "", document)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", markup))
    assert urls <= {"http://www.w3.org/2000/svg", "https://www.apache.org/licenses/LICENSE-2.0"}
    assert "Apache License 2.0" in document
    assert len(scripts[0].encode()) < 30_000


def test_data_cannot_end_its_script_element(tmp_path: Path) -> None:
    hostile = "</script><script>alert(1)</script>\u2028<!--"
    result = scan(WEBAPP)
    drawn = picture.build(result)
    drawn.nodes[1] = picture.Node(
        id=drawn.nodes[1].id,
        label=hostile,
        shape=Shape.PYTHON,
        provenance=Provenance.GAP,
        owner=hostile,
        evidence=(hostile,),
    )
    drawn.title = hostile
    document = html.render(result, drawn)
    data_text = document.split('id="depchain-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data_text and ">" not in data_text and "&" not in data_text
    assert "\u2028" not in data_text
    # the line separator is shown as its escape, as every renderer shows a control
    assert _data(document)["nodes"][1]["label"] == hostile.replace("\u2028", "\\u2028")
    assert document.count("<script") == 2  # the data and the page's own script
    assert "<title>depchain report: &lt;/script&gt;" in document


def test_no_planted_secret(tmp_path: Path) -> None:
    """A credential in an index URL and in an .env value reaches neither the tables nor
    the graph's data (the library's renderer, without the CLI's redaction pass)."""
    secret = "Zq7xSECRET"
    (tmp_path / "requirements.txt").write_text(
        f"--index-url https://user:{secret}01@idx.example/simple?private_token={secret}02\n"
        f"pkg @ https://files.example/pkg-1.0-py3-none-any.whl?token={secret}03\n"
        "flask==3.0.0\n"
    )
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=postgresql://app:{secret}04@db:5432/app\n"
        f"API_URL=https://api.example.com/v1?api_key={secret}05\n"
    )
    result = scan(tmp_path)
    document = html.render(result, picture.build(result))
    assert secret not in document
    assert "idx.example" in document and "db" in document  # it was read


# -- the page in a browser --------------------------------------------------------------


def _visible_nodes(page: Any) -> int:
    return int(page.locator("#canvas svg g.node:not(.hid)").count())


def _shoot(page: Any, tmp_path: Path, name: str) -> bytes:
    page.locator("#graph").scroll_into_view_if_needed()
    shot: bytes = page.locator("#canvas").screenshot(path=str(tmp_path / f"{name}.png"))
    return shot


def test_webapp_report_in_chromium(chromium: Any, tmp_path: Path) -> None:
    result = scan(WEBAPP)
    drawn, out = _report(result, tmp_path, "webapp")
    page = open_page(chromium, out.as_uri())
    page.wait_for_selector("#canvas svg g.node")
    nodes = page.locator("#canvas svg g.node")
    assert nodes.count() == len(drawn.nodes)
    assert page.locator("#canvas svg path.edge").count() == len(drawn.edges)
    assert _visible_nodes(page) == len(drawn.nodes)
    differ, colours = pixel_stats(chromium, _shoot(page, tmp_path, "webapp-graph"))
    assert differ > 5_000 and colours > 20, (differ, colours)
    page.screenshot(path=str(tmp_path / "webapp-page.png"), full_page=True)

    # the findings, ranked, with their evidence
    findings = page.locator("#findings").inner_text()
    assert "DC001" in findings
    assert "hatchling >=1.25 is not pinned by any lockfile or pin in the scan" in findings
    assert "pyproject.toml:2" in findings
    assert "NOT AUDITED" in page.locator("#vulnerabilities").inner_text()
    assert "components" in page.locator("#surface").inner_text()

    # kinds: without build edges, the build tools and what only they bring go
    hatchling = page.locator('#canvas g.node[data-id="pkg:pypi/hatchling"]')
    assert hatchling.is_visible()
    page.uncheck('input[name=kind][value="build"]')
    assert not hatchling.is_visible()
    assert not page.locator('#canvas g.node[data-id="pkg:pypi/pluggy@1.7.0"]').is_visible()
    assert page.locator('#canvas g.node[data-id="pkg:pypi/flask@3.1.3"]').is_visible()
    without_build = _visible_nodes(page)
    assert 0 < without_build < len(drawn.nodes)
    page.check('input[name=kind][value="build"]')
    assert hatchling.is_visible() and _visible_nodes(page) == len(drawn.nodes)
    # provenance: hide the owner-unknown nodes, and only they go
    unknown = sum(1 for n in drawn.nodes if n.provenance is Provenance.UNKNOWN)
    page.uncheck('input[name=prov][value="unknown"]')
    assert _visible_nodes(page) == len(drawn.nodes) - unknown
    assert hatchling.is_visible()  # a gap, not unknown
    page.check('input[name=prov][value="unknown"]')
    assert _visible_nodes(page) == len(drawn.nodes)

    # a click on a node shows its evidence and its edges
    page.click("#fit")
    hatchling.click()
    details = page.locator("#details")
    assert details.locator("h3").inner_text() == "hatchling"
    text = details.inner_text()
    assert "pyproject.toml:2" in text and "DC001" in text and "trust gap open" in text
    _shoot(page, tmp_path, "webapp-hatchling")
    # and the search finds one, centres it and says where it was seen
    page.fill("#q", "urllib3")
    assert page.locator("#hits").inner_text() == "1 found"
    page.press("#q", "Enter")
    text = details.inner_text()
    assert "requirements/prod.txt:422" in text
    assert "botocore" in text and "requests" in text  # depended on by, with evidence
    assert "uv.lock:956" in text
    _shoot(page, tmp_path, "webapp-urllib3")
    # pan and zoom move the drawing
    before = page.locator("#canvas svg > g").get_attribute("transform")
    page.click("#zin")
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 250, steps=4)
    page.mouse.up()
    page.mouse.wheel(0, 240)
    assert page.locator("#canvas svg > g").get_attribute("transform") != before
    # a finding's component link selects its node
    page.fill("#q", "")
    page.locator('#findings a.node-link[data-node="pkg:pypi/hatchling"]').click()
    assert details.locator("h3").inner_text() == "hatchling"
    page.log.assert_quiet()
    page.context.close()


def test_environment_report_in_chromium(chromium: Any, tmp_path: Path) -> None:
    """The test interpreter's own environment: native wheels (uv, jsonschema-rs, lxml,
    pydantic-core...) with their bundled libraries and crates, hundreds of nodes."""
    import time

    result = scan(python=sys.executable, vulns=VulnOptions(enabled=False))
    started = time.perf_counter()
    drawn, out = _report(result, tmp_path, "environment")
    made = time.perf_counter() - started
    assert any(n.shape in {Shape.NATIVE, Shape.PACKAGE} for n in drawn.nodes)
    started = time.perf_counter()
    page = open_page(chromium, out.as_uri())
    page.wait_for_selector("#canvas svg g.node")
    shown = time.perf_counter() - started
    assert page.locator("#canvas svg g.node").count() == len(drawn.nodes)
    assert page.locator("#canvas svg path.edge").count() == len(drawn.edges)
    differ, colours = pixel_stats(chromium, _shoot(page, tmp_path, "environment-graph"))
    assert differ > 5_000 and colours > 20, (differ, colours)
    assert made < 10 and shown < 20, (made, shown)
    # a native component: found by name, clicked, its evidence is a file of the wheel
    native = next(n for n in drawn.nodes if n.shape in {Shape.NATIVE, Shape.PACKAGE} and n.evidence)
    page.fill("#q", native.id)
    page.press("#q", "Enter")
    page.locator(f'#canvas g.node[data-id="{native.id}"]').click()
    text = page.locator("#details").inner_text()
    assert native.evidence[0] in text
    assert "depended on by" in text.lower()
    _shoot(page, tmp_path, "environment-native")
    # a Python distribution: its declared licence is among its facts
    from importlib.metadata import distribution

    meta = distribution("packaging").metadata
    (packaging,) = [
        n for n in drawn.nodes if n.label == "packaging" and n.version == meta["Version"]
    ]
    page.fill("#q", packaging.id)
    page.press("#q", "Enter")
    page.locator(f'#canvas g.node[data-id="{packaging.id}"]').click()
    text = page.locator("#details").inner_text()
    declared = meta.get("License-Expression") or meta.get("License")
    assert "licence (declared)" in text and (not declared or declared in text), text
    page.log.assert_quiet()
    page.context.close()


def test_hostile_names_stay_text(chromium: Any, tmp_path: Path) -> None:
    """Names and URLs that try to close the script element or add a handler run
    nothing in the browser, and read as they were written."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text(
        "--index-url https://idx.example/</script><script>alert(1)</script>/simple\n"
        "--extra-index-url https://x.example/<img src=x onerror=alert(2)>\n"
        "</script><script>alert(3)</script>==1.0\n"
        "flask==3.0.0\n"
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["flask==3.0.0"]\n'
    )
    script = "</script><script>alert(5)</script>"
    image = "<img src=x onerror=alert(6)>"
    (root / "compose.yml").write_text(
        f'services:\n  "{script}":\n    image: "redis:7"\n  "{image}":\n    image: "postgres:16"\n'
    )
    result = scan(root)
    drawn, out = _report(result, tmp_path, "hostile")
    assert {script, image} <= {n.label for n in drawn.nodes}
    page = open_page(chromium, out.as_uri())
    page.wait_for_selector("#canvas svg g.node")
    assert page.locator("script").count() == 2
    assert page.locator("img").count() == 0
    for name in (script, image):
        page.fill("#q", name)
        page.press("#q", "Enter")
        assert page.locator("#details h3").inner_text() == name
    assert "https://x.example/<img" in page.locator("#findings").inner_text()
    assert "</script><script>alert(3)</script>" in page.locator("#unread").inner_text() or (
        "line 3" in page.locator("#unread").inner_text()
    )
    page.wait_for_timeout(200)
    _shoot(page, tmp_path, "hostile")
    page.log.assert_quiet()
    page.context.close()
