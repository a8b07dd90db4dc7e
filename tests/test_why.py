"""``depchain why``: every path from the project to a component, each hop with the
evidence that made it, bounded however many paths the graph holds."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from depchain.cli import main
from depchain.errors import UsageError
from depchain.model import DependencyKind
from depchain.scanner import scan
from depchain.why import explain

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "examples" / "webapp"


def _line(path: Path, line: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[line - 1]


def test_webapp_urllib3_every_hop_has_evidence_that_names_it() -> None:
    result = scan(WEBAPP)
    (answer,) = explain(result, "urllib3")
    assert answer.target.name == "urllib3"
    assert answer.chains, "the project reaches urllib3"
    # the shortest first: requirements/prod.txt pins urllib3 directly
    first = answer.chains[0]
    assert first.nodes == [result.subject, answer.target.id]
    lengths = [len(chain.hops) for chain in answer.chains]
    assert lengths == sorted(lengths)
    through = {tuple(result.graph.node(n).name for n in chain.nodes) for chain in answer.chains}
    assert ("acme-webapp", "requests", "urllib3") in through
    assert ("acme-webapp", "boto3", "botocore", "urllib3") in through
    for chain in answer.chains:
        assert chain.nodes[0] == result.subject
        for hop in chain.hops:
            assert hop.edges, hop
            target = result.graph.node(hop.target)
            for dep in hop.edges:
                assert dep.source == hop.source and dep.target == hop.target
                for evidence in dep.evidence:
                    assert evidence.line is not None
                    text = _line(WEBAPP / evidence.path, evidence.line).lower()
                    # the line declares the target (a requirement, a lock entry's
                    # dependency list starts at the [[package]] of the dependent)
                    if evidence.path.endswith(".txt") or evidence.path == "pyproject.toml":
                        assert target.name in text.replace("_", "-"), (evidence, text)


def test_cli_prints_each_hop_with_kind_scope_and_file_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["why", "urllib3", str(WEBAPP)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("urllib3 2.8.0 (pkg:pypi/urllib3@2.8.0): ")
    # path 1: the direct pin, with the line it is on
    pin = next(
        n
        for n, text in enumerate((WEBAPP / "requirements/prod.txt").read_text().splitlines(), 1)
        if text.startswith("urllib3==")
    )
    block = out.split("\n  2. ")[0]
    assert f"-> dynamic, required (requirement ==2.8.0) requirements/prod.txt:{pin}" in block
    # a longer path: each hop names its node and the edge's evidence
    assert re.search(
        r"acme-webapp 1\.4\.0\n(       -> .*\n)+     requests 2\.34\.2\n"
        r"(       -> dynamic, required \(lock\) uv\.lock:\d+\n)+     urllib3 2\.8\.0\n",
        out,
    ), out


def test_json_and_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["why", "urllib3", str(WEBAPP), "--json", "--limit", "2"]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert data["target"] == "pkg:pypi/urllib3@2.8.0"
    assert len(data["paths"]) == 2 and data["more"] is True and data["bounded"] is False
    hop = data["paths"][0]["hops"][0]
    assert hop["edges"][0]["kind"] == "dynamic" and hop["edges"][0]["evidence"]


def test_unknown_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["why", "no-such-package", str(WEBAPP)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-package: no component" in err
    with pytest.raises(UsageError):
        explain(scan(WEBAPP), "urllib3", limit=0)


def test_version_and_kind_filters() -> None:
    result = scan(WEBAPP)
    assert explain(result, "urllib3==2.8.0")[0].chains
    with pytest.raises(UsageError):
        explain(result, "urllib3==9.9.9")
    # no build edge leads to urllib3
    (answer,) = explain(result, "urllib3", kinds=[DependencyKind.BUILD])
    assert answer.chains == []


def test_root_itself_has_no_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["why", "acme-webapp", str(WEBAPP)]) == 0
    assert "it is the project itself" in capsys.readouterr().out


def _diamonds(layers: int) -> str:
    """A uv.lock where each layer's two packages both need the next layer's two: 2**layers
    paths from the project to the last package."""
    out = ['version = 1\nrequires-python = ">=3.10"\n']
    names = [[f"p{i}a", f"p{i}b"] for i in range(layers)]
    deps = "".join(f'    {{ name = "{n}" }},\n' for n in names[0])
    out.append(
        f'[[package]]\nname = "top"\nversion = "1.0"\nsource = {{ editable = "." }}\n'
        f"dependencies = [\n{deps}]\n"
    )
    for i, layer in enumerate(names):
        following = names[i + 1] if i + 1 < layers else ["leaf"]
        for name in layer:
            deps = "".join(f'    {{ name = "{n}" }},\n' for n in following)
            out.append(
                f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
                f'source = {{ registry = "https://pypi.org/simple" }}\n'
                f"dependencies = [\n{deps}]\n"
            )
    out.append(
        '[[package]]\nname = "leaf"\nversion = "1.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    return "\n".join(out)


def test_exponentially_many_paths_stay_bounded(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "top"\nversion = "1.0"\ndependencies = ["p0a", "p0b"]\n'
    )
    (tmp_path / "uv.lock").write_text(_diamonds(40))  # 2**40 paths to leaf
    result = scan(tmp_path)
    started = time.perf_counter()
    (answer,) = explain(result, "leaf", limit=20)
    assert time.perf_counter() - started < 10
    assert len(answer.chains) == 20 and answer.more
    assert all(len(chain.hops) == 41 for chain in answer.chains)
    assert len({tuple(chain.nodes) for chain in answer.chains}) == 20


def test_a_service_by_its_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["why", "postgresql", str(WEBAPP)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PostgreSQL (endpoint not found) (service) (service:postgresql): ")
    assert "     psycopg 3.3.9\n       -> service, required" in out
