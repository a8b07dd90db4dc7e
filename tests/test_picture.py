"""What a picture shows: provenance by policy, ledger and gaps; shapes by what a node
is; cuts by kind, depth and focus; collapse by owner, never of unknown owners."""

from __future__ import annotations

from pathlib import Path

import pytest

from depchain import picture
from depchain.errors import UsageError
from depchain.model import DependencyKind
from depchain.picture import Provenance, Shape
from depchain.scanner import scan

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "examples" / "webapp"

WORKFLOW = """on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b
      - uses: actions/cache@v4
      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "1.0"\ndependencies = ["requests==2.32.3"]\n\n'
        '[tool.depchain.trusted.githubactions]\nowners = ["actions"]\n'
    )
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: python:3.12-slim\n"
        "    environment:\n      DATABASE_URL: postgresql://db:5432/shop\n"
        "      PAYMENTS: https://api.stripe.com/v1\n"
        "  db:\n    image: postgres:16\n"
    )
    return tmp_path


def test_provenance_follows_policy_gaps_and_owners(shop: Path) -> None:
    result = scan(shop)
    drawn = picture.build(result, collapse="none")
    by_label = {n.label: n for n in drawn.nodes}
    assert by_label["shop"].provenance is Provenance.PROJECT
    assert by_label["shop"].shape is Shape.PROJECT
    # the policy trusts the owner "actions": pinned by SHA, no gap -> trusted
    assert by_label["actions/checkout"].provenance is Provenance.TRUSTED
    assert by_label["actions/checkout"].shape is Shape.ACTION
    # same owner, but used by tag: the gap wins over the trust
    cache = by_label["actions/cache"]
    assert cache.provenance is Provenance.GAP
    assert [f.id for f in cache.findings] == ["DC009"]
    # an owner the policy does not name is a gap (DC015), with the owner known
    publish = by_label["pypa/gh-action-pypi-publish"]
    assert publish.provenance is Provenance.GAP and publish.owner == "pypa"
    # nobody asked the index: a Python package's owner is unknown
    assert by_label["requests"].provenance is Provenance.UNKNOWN
    assert by_label["requests"].shape is Shape.PYTHON
    services = [n for n in drawn.nodes if n.shape is Shape.SERVICE]
    assert services, drawn.nodes
    assert any(n.boundary is True for n in services), services  # api.stripe.com
    # a service of this deployment is run by whoever deploys it; one across the
    # boundary by nobody the scan knows
    for service in services:
        if service.boundary is False:
            assert (service.provenance, service.owner) == (Provenance.IMPLICIT, "this deployment")
        elif service.boundary is True:
            assert service.provenance in {Provenance.UNKNOWN, Provenance.GAP}, service
    assert any(s.boundary is False for s in services), services  # compose's db and web
    assert any(n.shape is Shape.IMAGE for n in drawn.nodes)


def test_policy_left_out_makes_trusted_implicit(shop: Path) -> None:
    text = (shop / "pyproject.toml").read_text()
    (shop / "pyproject.toml").write_text(text.split("\n\n[tool.depchain")[0] + "\n")
    by_label = {n.label: n for n in picture.build(scan(shop), collapse="none").nodes}
    assert by_label["actions/checkout"].provenance is Provenance.IMPLICIT


def test_collapse_by_owner_merges_known_owners_only(shop: Path) -> None:
    result = scan(shop)
    whole = picture.build(result, collapse="none")
    drawn = picture.build(result, collapse="owner")
    groups = {n.id: n for n in drawn.nodes if n.shape is Shape.GROUP}
    # pypa has one action: no group; Docker's official images share "library"
    assert set(groups) == {"group:action:actions", "group:image:library"}
    group = groups["group:action:actions"]
    assert group.label == "actions (3)" and len(group.members) == 3
    assert group.provenance is Provenance.GAP  # the worst member's colour
    assert [f.id for f in group.findings] == ["DC009"]
    edges = [e for e in drawn.edges if e.target == group.id]
    assert len(edges) == 1 and edges[0].count == 3 and edges[0].kind is DependencyKind.BUILD
    assert groups["group:image:library"].label == "library (2)"
    assert len(drawn.nodes) == len(whole.nodes) - 3
    assert "5 components collapsed into 2 owner groups" in drawn.notes
    # unknown owners stay one node each
    assert {n.label for n in drawn.nodes} >= {"requests"}
    # auto collapses only past the threshold
    assert picture.build(result, collapse="auto").nodes == whole.nodes
    assert len(picture.build(result, collapse="auto", max_nodes=3).nodes) == len(drawn.nodes)


def test_kind_depth_and_focus_cut_the_picture() -> None:
    result = scan(WEBAPP)
    whole = picture.build(result, collapse="none")
    assert {n.depth for n in whole.nodes} >= {0, 1, 2}
    shallow = picture.build(result, depth=1, collapse="none")
    assert max(n.depth or 0 for n in shallow.nodes) == 1
    assert len(shallow.nodes) < len(whole.nodes)
    assert any("--depth" in note for note in shallow.notes)
    builds = picture.build(result, kinds=[DependencyKind.BUILD], collapse="none")
    assert {e.kind for e in builds.edges} == {DependencyKind.BUILD}
    assert {n.label for n in builds.nodes} == {"acme-webapp", "hatchling", "pytest", "ruff"} | {
        n.label for n in builds.nodes if n.label.startswith("pytest")
    }
    focused = picture.build(result, focus=["urllib3"], collapse="none")
    labels = {n.label for n in focused.nodes}
    assert {"acme-webapp", "requests", "urllib3", "boto3", "botocore"} <= labels
    assert "flask" not in labels and "hatchling" not in labels
    with pytest.raises(UsageError):
        picture.build(result, focus=["no-such-thing"])
    with pytest.raises(UsageError):
        picture.build(result, collapse="sideways")


def test_same_input_same_picture() -> None:
    assert picture.build(scan(WEBAPP)) == picture.build(scan(WEBAPP))


def _layers(tmp_path: Path, layers: int, width: int) -> Path:
    """A project and a uv.lock of ``layers`` layers of ``width`` packages, each needing
    two of the next layer's."""
    names = [[f"l{i}p{j}" for j in range(width)] for i in range(layers)]
    entries = []
    for i, layer in enumerate(names):
        for j, name in enumerate(layer):
            following = names[i + 1][j : j + 2] if i + 1 < layers else []
            deps = "".join(f'    {{ name = "{n}" }},\n' for n in following)
            entries.append(
                f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
                'source = { registry = "https://pypi.org/simple" }\n'
                + (f"dependencies = [\n{deps}]\n" if deps else "")
            )
    top = "".join(f'    {{ name = "{n}" }},\n' for n in names[0])
    entries.insert(
        0,
        '[[package]]\nname = "top"\nversion = "1.0"\nsource = { editable = "." }\n'
        f"dependencies = [\n{top}]\n",
    )
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.10"\n\n' + "\n".join(entries)
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "top"\nversion = "1.0"\n')
    return tmp_path


def test_auto_cuts_a_drawing_by_depth_to_fit_and_says_so(tmp_path: Path) -> None:
    result = scan(_layers(tmp_path, layers=10, width=60))
    whole = picture.build(result, collapse="none", limit=(400, 500))
    assert len(whole.nodes) == 602  # none draws all: the lock, top and setuptools
    drawn = picture.build(result, limit=(400, 500))
    assert len(drawn.nodes) <= 400 and len(drawn.edges) <= 500
    kept = max(n.depth or 0 for n in drawn.nodes)
    # the deepest layers went first, and no more than needed
    assert {n.depth for n in drawn.nodes} == set(range(kept + 1))
    one_more = sum(1 for n in whole.nodes if (n.depth or 0) <= kept + 1)
    assert (
        one_more > 400
        or sum(
            1
            for e in whole.edges
            if (whole.node(e.source).depth or 0) <= kept + 1
            and (whole.node(e.target).depth or 0) <= kept + 1
        )
        > 500
    )
    assert any(f"deeper than {kept} edges left out" in note for note in drawn.notes)
    # the interactive report asks for no limit
    assert len(picture.build(result).nodes) == 602
