from __future__ import annotations

import re
from pathlib import Path

import pytest

import depchain
from depchain.model import Component, Dependency, DependencyKind, Scope, SourceKind
from depchain.resolvers._refs import claimed_version, ref_type
from tests.conftest import real

# a `uses:` line as written (a step's `- uses:` or a key of its own), not a comment
USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s*['\"]?(?P<value>[^\s'\"#]+)['\"]?(?:\s+#\s*(?P<comment>.*))?$",
    re.M,
)
ACTION = re.compile(r"(?P<name>[^@]+)@(?P<ref>.+)")


def _uses(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, value, comment) of every `uses:` in a file, read from the raw text."""
    text = path.read_text()
    found = []
    for m in USES.finditer(text):
        line = text.count("\n", 0, m.start("value")) + 1
        found.append((line, m.group("value"), m.group("comment")))
    return found


def _edges(result: depchain.ScanResult) -> list[tuple[Dependency, Component]]:
    g = result.graph
    out = []
    for d in g.dependencies():
        node = g.node(d.target)
        if isinstance(node, Component) and any(e.resolver == "github-actions" for e in d.evidence):
            out.append((d, node))
    return out


def _props(c: Component) -> dict[str, str]:
    return dict(c.properties)


def test_warehouse_every_uses_is_found_sha_pinned_with_its_claimed_version() -> None:
    folder = real("pypi__warehouse/.github/workflows")
    expected: dict[str, set[str]] = {}  # name@ref -> claimed versions
    lines: set[tuple[str, int]] = set()
    for path in sorted(folder.glob("*.yml")):
        for line, value, comment in _uses(path):
            expected.setdefault(value, set()).add((comment or "").split()[0])
            lines.add((f".github/workflows/{path.name}", line))
    assert expected, "warehouse's workflows use actions"
    result = depchain.scan(real("pypi__warehouse"))
    assert not [e for e in result.errors if ".github" in e.path], result.errors
    actions = [(d, c) for d, c in _edges(result) if c.ecosystem == "githubactions"]
    found = {f"{c.name}@{c.version}" for _, c in actions}
    assert found == set(expected)
    for d, c in actions:
        assert (d.kind, d.scope, d.mechanism) == (
            DependencyKind.BUILD,
            Scope.REQUIRED,
            "github-action",
        )
        assert _props(c)["depchain:ref-type"] == "sha"
        claimed = {v for k, v in c.properties if k == "depchain:claimed-version"}
        assert claimed == expected[f"{c.name}@{c.version}"]
        assert c.id.startswith("pkg:githubactions/")
        (source,) = c.sources
        assert source.kind is SourceKind.VCS and source.commit == c.version
    evidence = {(e.path, e.line) for d, _ in actions for e in d.evidence}
    assert evidence == lines
    # the service container is found; the one whose image is an expression is skipped
    images = {c.id for d, c in _edges(result) if d.mechanism == "ci-container"}
    ci = real("pypi__warehouse/.github/workflows/ci.yml").read_text()
    plain = set(re.findall(r"^\s*image:\s*([a-z0-9./-]+:[\w.-]+)\s*$", ci, re.M))
    assert plain and {f"pkg:docker/library/{i.replace(':', '@')}" for i in plain} == images


def test_pdm_tag_and_branch_refs_are_told_apart() -> None:
    expected: dict[str, str] = {}
    for name in ("ci.yml", "release.yml"):
        for _, value, _comment in _uses(real(f"pdm-project__pdm/.github/workflows/{name}")):
            ref = ACTION.fullmatch(value).group("ref")  # type: ignore[union-attr]
            expected[value] = "tag" if re.fullmatch(r"v?\d+(\.\d+)*", ref) else "branch"
    assert expected["actions/create-release@main"] == "branch"
    assert expected["dtolnay/rust-toolchain@stable"] == "branch"
    assert any(v == "tag" and k.endswith(("@v6", "@v7")) for k, v in expected.items())
    result = depchain.scan(real("pdm-project__pdm/.github/workflows"))
    assert not result.errors
    found = {f"{c.name}@{c.version}": _props(c)["depchain:ref-type"] for _, c in _edges(result)}
    assert found == expected
    # a commented-out step is no dependency
    assert not any("action-tmate" in k for k in found)


def test_numpy_local_composite_actions_are_followed() -> None:
    workflows = real("numpy__numpy/.github/workflows")
    local_uses = {
        value
        for path in workflows.glob("*.yml")
        for _, value, _comment in _uses(path)
        if value.startswith("./")
    }
    assert {"./.github/meson_actions", "./.github/ccache"} <= local_uses
    # scanned alone, the workflow is the only input: what ccache/action.yml uses can
    # only come from following `uses: ./.github/ccache`
    path = workflows / "compiler_sanitizers.yml"
    assert any(v == "./.github/ccache" for _, v, _c in _uses(path))
    action = real("numpy__numpy/.github/ccache/action.yml")
    inner = {(line, value) for line, value, _ in _uses(action)}
    assert inner
    result = depchain.scan(path)
    assert not result.errors
    followed = {
        (e.line, f"{c.name}@{c.version}")
        for d, c in _edges(result)
        for e in d.evidence
        if e.path.endswith(".github/ccache/action.yml")
    }
    assert followed == inner
    # the local action is part of the repository, not a component
    assert not any(c.name.startswith(".") for c in result.graph.components())
    # and the whole repository reads cleanly
    whole = depchain.scan(real("numpy__numpy"))
    assert not [e for e in whole.errors if ".github" in e.path], whole.errors
    names = {c.name for _, c in _edges(whole)}
    assert {"actions/cache", "actions/cache/restore"} <= names


def test_flask_slsa_reusable_workflow_by_tag() -> None:
    path = real("pallets__flask__pre-uv/.github/workflows/publish.yaml")
    (line, value) = next((ln, v) for ln, v, _ in _uses(path) if "/.github/workflows/" in v)
    name, ref = value.split("@")
    owner, repo, subpath = name.split("/", 2)
    result = depchain.scan(path)
    assert not result.errors
    (d, c) = next((d, c) for d, c in _edges(result) if c.name == name)
    assert d.mechanism == "github-workflow" and d.kind is DependencyKind.BUILD
    assert [e.line for e in d.evidence] == [line]
    assert c.version == ref and _props(c)["depchain:ref-type"] == "tag"
    assert c.purl == f"pkg:githubactions/{owner}/{repo}@{ref}#{subpath}"
    # the other steps of the same file are SHA pinned actions
    others = [c for _, c in _edges(result) if c.name != name]
    assert others and all(_props(c)["depchain:ref-type"] == "sha" for c in others)


def test_every_real_world_workflow_reads_cleanly(real_world: Path) -> None:
    """Every workflow and action file of the data set, scanned alone: no error, and
    each `uses:` of its raw text (but a local ./action) is one action at that line, with
    its name, ref, ref type, kind and source; each local action is followed."""
    from depchain.resolvers import REGISTRY

    spec = next(s for s in REGISTRY if s.name == "github-actions")
    files = sorted(p for p in real_world.rglob("*.y*ml") if spec.matches(p))
    assert len(files) > 50
    total = followed = 0
    for path in files:
        result = depchain.scan(path)
        assert not result.errors, (path, result.errors)
        raw = _uses(path)
        expected = {(line, value.lower()) for line, value, _ in raw if not value.startswith("./")}
        edges = [
            (d, c, e)
            for d, c in _edges(result)
            if d.mechanism in {"github-action", "github-workflow"}
            for e in d.evidence
        ]
        here = [(d, c, e) for d, c, e in edges if e.path == path.name]
        found = {(e.line, f"{c.name}@{c.version}".lower()) for _, c, e in here}
        assert found == expected, (path, sorted(expected - found), sorted(found - expected))
        comments = {line: comment for line, _, comment in raw}
        for d, c, e in here:
            assert c.version is not None and c.purl is not None and e.line is not None
            assert (d.kind, d.scope, c.ecosystem) == (
                DependencyKind.BUILD,
                Scope.REQUIRED,
                "githubactions",
            ), (path, c.id)
            assert c.purl.startswith(f"pkg:githubactions/{c.name.split('/')[0]}/"), c.purl
            assert _props(c)["depchain:ref-type"] == ref_type(c.version), (path, c.id)
            (source,) = c.sources
            assert source.kind is SourceKind.VCS
            if ref_type(c.version) == "sha":
                assert source.commit == c.version
            comment = comments.get(e.line) or ""
            if re.fullmatch(r"v?\d+(\.\d+)+", comment.strip()):
                assert _props(c).get("depchain:claimed-version") == comment.strip(), (path, e)
        total += len(here)
        # a local action is part of the repository: followed, never a component
        repository = real_world / path.relative_to(real_world).parts[0]
        for _, value, _ in raw:
            if not value.startswith("./"):
                continue
            folder = repository / value
            names = [folder / "action.yml", folder / "action.yaml"]
            action = next((n for n in names if n.is_file()), None)
            if action is None or not any(not v.startswith("./") for _, v, _ in _uses(action)):
                continue
            suffix = action.relative_to(repository).as_posix()
            assert any(e.path.endswith(suffix) for _, _, e in edges), (path, value)
            followed += 1
        assert not any(c.name.startswith(".") for c in result.graph.components())
    assert total > 200 and followed >= 3, (total, followed)


def test_ref_type_and_claimed_version() -> None:
    assert ref_type("a" * 40) == "sha"
    assert [ref_type(r) for r in ("v1", "v1.2.3", "1.2", "v2.0.0-beta.1")] == ["tag"] * 4
    assert [ref_type(r) for r in ("main", "stable", "release/v1", "abc")] == ["branch"] * 4
    assert claimed_version("v4.1.0") == "v4.1.0"
    assert claimed_version("frozen: v0.15.9") == "v0.15.9"
    assert claimed_version("tag=v3") == "v3"
    assert claimed_version("zizmor: ignore[unpinned-uses]") is None
    assert claimed_version(None) is None


def _repo(tmp_path: Path, workflow: str) -> Path:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(workflow)
    return folder / "ci.yml"


def test_local_actions_reusable_workflows_docker_and_containers(tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    _repo(
        tmp_path,
        "on: push\n"
        "jobs:\n"
        "  call:\n"
        "    uses: ./.github/workflows/reusable.yml\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    container:\n"
        "      image: python:3.12-slim@sha256:" + "a" * 64 + "\n"
        "    services:\n"
        "      redis: {image: 'redis:7'}\n"
        "      db:\n"
        "        image: ${{ matrix.db }}\n"
        "    steps:\n"
        f"      - uses: actions/checkout@{sha}  # v4.2.2\n"
        "      - uses: ./.github/actions/setup\n"
        "      - uses: docker://alpine:3.20\n"
        "      - uses: ./missing\n",
    )
    (tmp_path / ".github" / "workflows" / "reusable.yml").write_text(
        "on: workflow_call\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: astral-sh/setup-uv@v6\n"
    )
    setup = tmp_path / ".github" / "actions" / "setup"
    setup.mkdir(parents=True)
    (setup / "action.yaml").write_text(
        "runs:\n  using: composite\n  steps:\n"
        "    - uses: actions/setup-python@v5 # v5.1.0\n"
        "    - uses: ./.github/actions/setup\n"  # itself: no loop
    )
    result = depchain.scan(tmp_path / ".github" / "workflows" / "ci.yml")
    assert not result.errors, result.errors
    by_name = {c.name: (d, c) for d, c in _edges(result)}
    assert set(by_name) == {
        "actions/checkout",
        "actions/setup-python",
        "astral-sh/setup-uv",
        "alpine",
        "python",
        "redis",
    }
    d, c = by_name["actions/checkout"]
    assert (d.evidence[0].line, _props(c)) == (
        14,
        {"depchain:ref-type": "sha", "depchain:claimed-version": "v4.2.2"},
    )
    d, c = by_name["actions/setup-python"]
    assert d.evidence[0].path.endswith(".github/actions/setup/action.yaml")
    assert d.evidence[0].line == 4 and _props(c)["depchain:claimed-version"] == "v5.1.0"
    d, _ = by_name["astral-sh/setup-uv"]
    assert d.evidence[0].path.endswith("reusable.yml") and d.evidence[0].line == 6
    d, c = by_name["python"]
    assert (d.mechanism, d.evidence[0].line) == ("ci-container", 8)
    assert _props(c) == {
        "depchain:image-tag": "3.12-slim",
        "depchain:image-digest": "sha256:" + "a" * 64,
    }
    assert c.id == "pkg:docker/library/python@3.12-slim?digest=sha256:" + "a" * 64
    assert by_name["redis"][0].evidence[0].line == 10
    assert by_name["alpine"][0].mechanism == "github-action"
    assert any("./missing" in message for _, message in result.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jobs: [1, 2]\n", "line 1: jobs is a list, expected a mapping of jobs"),
        ("jobs:\n  a:\n    steps: {x: 1}\n", "line 3: jobs.a.steps is a mapping, expected a list"),
        ("jobs:\n  a:\n    steps:\n      - uses: 42\n", "line 4: jobs.a.steps[0].uses is a number"),
        (
            "jobs:\n  a:\n    steps:\n      - uses: checkout\n",
            "line 4: jobs.a.steps[0].uses 'checkout'",
        ),
        ("jobs:\n  a:\n    container: 5\n", "line 3: jobs.a.container is a number"),
        ("jobs:\n  a: hello\n", "line 2: jobs.a is a string, expected a mapping"),
        ("runs:\n  steps:\n    - 3\n", "line 3: runs.steps[0] is a number"),
    ],
)
def test_wrong_types_are_errors_naming_the_line(tmp_path: Path, text: str, expected: str) -> None:
    good = "      - uses: actions/checkout@v4\n"
    path = _repo(
        tmp_path, text + "  ok:\n    steps:\n" + good if text.startswith("jobs:\n") else text
    )
    result = depchain.scan(path)
    (error,) = result.errors
    assert error.path == ".github/workflows/ci.yml" or error.path == "ci.yml"
    assert error.message.startswith(expected), error.message
    if text.startswith("jobs:\n"):  # the rest of the file is still read
        assert "actions/checkout" in {c.name for c in result.graph.components()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jobs:\n  a: [\n", "invalid YAML"),
        ("jobs:\n  a: {}\njobs: {}\n", "duplicate key 'jobs'"),
        ("- 1\n- 2\n", "found a list"),
        ("a: &a [*a, *a]\n", "invalid YAML"),
    ],
)
def test_malformed_workflows_are_one_line_errors_and_the_scan_goes_on(
    tmp_path: Path, text: str, expected: str
) -> None:
    _repo(tmp_path, text)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == ".github/workflows/ci.yml"
    assert expected in error.message and "\n" not in error.message
    assert "six" in {c.name for c in result.graph.components()}
