"""Regression tests from real repositories (issue 9, point 6): each built from a minimal
file that reproduces what a public repository showed."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

import depchain
from depchain.model import Component
from depchain.resolvers import resolver_for
from depchain.yamlsafe import load


def _components(result: depchain.ScanResult) -> dict[str, Component]:
    out = {}
    for node in result.graph.components():
        out[node.id] = node
    return out


# -- Dockerfile.md is documentation ---------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Dockerfile.md",
        "Dockerfile.rst",
        "Dockerfile.txt",
        "Dockerfile.j2",
        "Dockerfile.html",
        "Dockerfile.adoc",
        "Dockerfile.py",
        "Dockerfile.sh",
        "Dockerfile.dockerignore",
        "Containerfile.md",
        "Dockerfile.prod.md",
    ],
)
def test_a_file_with_a_non_dockerfile_extension_is_not_a_dockerfile(name: str) -> None:
    spec = resolver_for(PurePath("docs", name))
    assert spec is None or spec.name != "dockerfile"


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "Dockerfile.dev", "Dockerfile.prod", "api.Dockerfile", "Containerfile"],
)
def test_dockerfile_variants_are_still_dockerfiles(name: str) -> None:
    spec = resolver_for(PurePath(name))
    assert spec is not None and spec.name == "dockerfile"


def test_dockerfile_md_is_not_scanned(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.md").write_text(
        "# Building the image\n\n```dockerfile\n"
        "FROM ubuntu:22.04\nRUN apt-get install -y curl\n```\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors
    assert not [c for c in _components(result) if c.startswith(("pkg:docker", "pkg:deb"))]
    assert "Dockerfile.md" not in {path for path, _ in result.inputs}


# -- YAML '=' -------------------------------------------------------------------------


def test_yaml_equals_sign_is_a_string() -> None:
    doc = load(
        "configMapGenerator:\n- name: env\n  envs: [app.env]\n  options:\n"
        "    delimiter: =\n    values: [=, '=']\n",
        "kustomization.yaml",
    )
    assert doc["configMapGenerator"][0]["options"] == {"delimiter": "=", "values": ["=", "="]}


# -- a comment in backticks inside apt-get install --------------------------------------


def test_backtick_comment_does_not_drop_the_packages_after_it(tmp_path: Path) -> None:
    text = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "      ca-certificates \\\n"
        "      `# for downloads` \\\n"
        "      curl \\\n"
        "      ` # and for the repository` \\\n"
        "      git=1:2.39.5-0+deb12u1 \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    (tmp_path / "Dockerfile").write_text(text)
    result = depchain.scan(tmp_path / "Dockerfile")
    names = {c.name: c for c in _components(result).values() if c.ecosystem == "deb"}
    assert set(names) == {"ca-certificates", "curl", "git"}
    assert names["git"].version == "1:2.39.5-0+deb12u1"
    edges = {
        result.graph.node(d.target).name: d  # type: ignore[union-attr]
        for d in result.graph.dependencies()
    }
    assert edges["curl"].evidence[0].line == 5
    assert edges["git"].evidence[0].line == 7
    assert not any("for downloads" in message for _, message in result.notes)
