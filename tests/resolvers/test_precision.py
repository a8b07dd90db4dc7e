"""Regression tests from real repositories (issue 9, point 6): each built from a minimal
file that reproduces what a public repository showed."""

from __future__ import annotations

import re
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


# -- scp-style git URLs become URIs in every output --------------------------------------

_SHA = "0123456789abcdef0123456789abcdef01234567"
_SCP_TREE = {
    ".gitmodules": '[submodule "lib"]\n\tpath = lib\n\turl = git@gitlab.example.com:team/lib.git\n',
    "requirements.txt": "pkg @ git+git@gitlab.example.com:team/pkg.git@v1.0\n",
    ".pre-commit-config.yaml": (
        "repos:\n- repo: git@gitlab.example.com:team/hooks.git\n  rev: v1.0.0\n"
        "  hooks:\n  - id: check\n"
    ),
    "Dockerfile": "FROM debian:12\nADD git@gitlab.example.com:team/assets.git#v1 /assets\n",
    "poetry.lock": (
        '[[package]]\nname = "plib"\nversion = "1.0"\ndescription = ""\noptional = false\n'
        'python-versions = "*"\nfiles = []\n\n[package.source]\ntype = "git"\n'
        f'url = "git@gitlab.example.com:team/plib.git"\nreference = "main"\n'
        f'resolved_reference = "{_SHA}"\n\n[metadata]\nlock-version = "2.0"\n'
        'python-versions = "^3.9"\ncontent-hash = "x"\n'
    ),
    "Pipfile.lock": (
        '{"_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {}, "sources": []},'
        ' "default": {"plock": {"git": "git@gitlab.example.com:team/plock.git",'
        f' "ref": "{_SHA}"}}}},'
        ' "develop": {}}\n'
    ),
    "Cargo.lock": (
        'version = 3\n\n[[package]]\nname = "gcrate"\nversion = "0.1.0"\n'
        f'source = "git+git@gitlab.example.com:team/gcrate.git?branch=main#{_SHA}"\n'
    ),
}


def test_scp_style_git_urls_become_ssh_uris_everywhere(tmp_path: Path) -> None:
    from urllib.parse import parse_qs, unquote

    from depchain.export import cyclonedx
    from depchain.model import SourceKind

    for name, text in _SCP_TREE.items():
        (tmp_path / name).write_text(text)
    result = depchain.scan(tmp_path)
    assert not result.errors
    uri = re.compile(r"(?:git\+)?ssh://git@gitlab\.example\.com/team/[a-z]+\.git")
    vcs = {}
    for component in result.graph.components():
        for source in component.sources:
            if source.kind is SourceKind.VCS:
                assert source.url is not None and uri.fullmatch(source.url), source.url
                vcs[component.name] = source.url
        qualifiers = parse_qs(component.id.partition("?")[2])
        for value in qualifiers.get("vcs_url", []):
            assert uri.match(unquote(value)), component.id
    assert set(vcs) == {"lib", "pkg", "hooks", "assets", "plib", "plock", "gcrate"}
    assert vcs["pkg"] == "git+ssh://git@gitlab.example.com/team/pkg.git"
    assert vcs["hooks"] == "ssh://git@gitlab.example.com/team/hooks.git"
    # rendering validates against the CycloneDX schema (anyURI) and raises if it fails
    xml = cyclonedx.render(result, cyclonedx.Format.XML)
    assert "<url>git+ssh://git@gitlab.example.com/team/pkg.git@v1.0</url>" in xml
    assert "<url>git+ssh://git@gitlab.example.com/team/lib.git</url>" in xml


@pytest.mark.parametrize(
    ("written", "uri"),
    [
        ("git@github.com:owner/repo.git", "ssh://git@github.com/owner/repo.git"),
        ("git+git@host.example:o/r.git@v1", "git+ssh://git@host.example/o/r.git@v1"),
        ("git@host:~user/r.git", "ssh://git@host/~user/r.git"),
        ("gitlab.example.com:o/r", "ssh://gitlab.example.com/o/r"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("git+ssh://git@host:2222/o/r.git", "git+ssh://git@host:2222/o/r.git"),
        ("C:path", "C:path"),  # a drive, not a host
        ("./a:b", "./a:b"),
    ],
)
def test_vcs_uri(written: str, uri: str) -> None:
    from depchain.ids import vcs_uri

    assert vcs_uri(written) == uri
