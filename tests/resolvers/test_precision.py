"""Regression tests from real repositories (issue 9, point 6): each built from a minimal
file that reproduces what a public repository showed."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePath

import pytest

import depchain
from depchain.model import Component, Service
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


# -- Cargo: build-only crates are build edges, target-specific ones optional -------------


def _lock(*crates: tuple[str, list[str], bool]) -> str:
    out = ["version = 4\n"]
    for name, deps, local in crates:
        out.append(f'[[package]]\nname = "{name}"\nversion = "1.0.0"\n')
        if not local:
            out.append(
                'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
                f'checksum = "{"ab" * 32}"\n'
            )
        if deps:
            out.append("dependencies = [\n" + "".join(f' "{d}",\n' for d in deps) + "]\n")
        out.append("\n")
    return "".join(out)


_CARGO_LOCK = _lock(
    ("app", ["cc", "mymacros", "proptest", "serde", "winreg"], True),
    ("mymacros", ["syn"], True),
    ("cc", ["shlex"], False),
    ("shlex", [], False),
    ("serde", ["serde_derive"], False),
    ("serde_derive", ["syn"], False),
    ("syn", ["proc-macro2"], False),
    ("proc-macro2", [], False),
    ("winreg", ["cfg-if"], False),
    ("cfg-if", [], False),
    ("proptest", ["rand"], False),
    ("rand", [], False),
)


def _cargo_edges(result: depchain.ScanResult) -> dict[str, tuple[str, str, str]]:
    g = result.graph
    out = {}
    for d in g.dependencies():
        if d.source == result.subject and d.mechanism == "cargo-lock":
            node = g.node(d.target)
            assert isinstance(node, Component)
            role = dict(node.properties).get("depchain:cargo-role", "")
            out[node.name] = (d.kind.value, d.scope.value, role)
    return out


def test_cargo_build_only_and_target_specific_crates_from_the_manifests(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["app", "macros"]\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Cargo.toml").write_text(
        '[package]\nname = "app"\nversion = "1.0.0"\n\n'
        '[dependencies]\nserde = { version = "1", features = ["derive"] }\n'
        'mymacros = { path = "../macros" }\n\n'
        '[build-dependencies]\ncc = "1"\n\n'
        "[target.'cfg(windows)'.dependencies]\nwinreg = \"1\"\n\n"
        '[dev-dependencies]\nproptest = "1"\n'
    )
    (tmp_path / "macros").mkdir()
    (tmp_path / "macros" / "Cargo.toml").write_text(
        '[package]\nname = "mymacros"\nversion = "1.0.0"\n\n[lib]\nproc-macro = true\n\n'
        '[dependencies]\nsyn = "2"\n'
    )
    (tmp_path / "Cargo.lock").write_text(_CARGO_LOCK)
    result = depchain.scan(tmp_path / "Cargo.lock")
    assert not result.errors
    edges = _cargo_edges(result)
    assert edges["app"] == ("static", "required", "")
    assert edges["serde"] == ("static", "required", "")
    assert edges["cc"] == (
        "build",
        "required",
        "build-only: a [build-dependencies] entry of app (app/Cargo.toml)",
    )
    assert edges["shlex"][:2] == ("build", "required")
    assert edges["mymacros"] == (
        "build",
        "required",
        "build-only: a proc-macro (macros/Cargo.toml: [lib] proc-macro = true)",
    )
    assert edges["serde_derive"][:2] == ("build", "required")
    assert "inferred from its name" in edges["serde_derive"][2]
    assert edges["syn"][:2] == edges["proc-macro2"][:2] == ("build", "required")
    assert edges["winreg"] == (
        "static",
        "optional",
        "target-specific: declared for cfg(windows) only (app/Cargo.toml)",
    )
    assert edges["cfg-if"][:2] == ("static", "optional")
    assert edges["proptest"][:2] == edges["rand"][:2] == ("build", "dev")
    # the edges between crates say the same
    g = result.graph
    between = {
        (g.node(d.source).name, g.node(d.target).name): (d.kind.value, d.scope.value)  # type: ignore[union-attr]
        for d in g.dependencies()
        if d.source != result.subject
    }
    assert between[("app", "serde")] == ("static", "required")
    assert between[("serde", "serde_derive")] == ("build", "required")
    assert between[("app", "winreg")] == ("static", "optional")
    assert between[("serde_derive", "syn")] == ("build", "required")


def test_cargo_lock_alone_infers_from_well_known_names_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "Cargo.lock").write_text(
        _lock(
            ("ext", ["openssl-sys", "pyo3"], True),
            ("openssl-sys", ["cc", "libc", "pkg-config"], False),
            ("pyo3", ["pyo3-build-config", "pyo3-macros", "windows-sys"], False),
            ("pyo3-build-config", ["target-lexicon"], False),
            ("pyo3-macros", [], False),
            ("target-lexicon", [], False),
            ("windows-sys", [], False),
            ("cc", [], False),
            ("pkg-config", [], False),
            ("libc", [], False),
        )
    )
    result = depchain.scan(tmp_path / "Cargo.lock")
    edges = _cargo_edges(result)
    assert {n for n, e in edges.items() if e[:2] == ("static", "required")} == {
        "ext",
        "openssl-sys",
        "pyo3",
        "libc",
    }
    assert edges["cc"] == (
        "build",
        "required",
        "build-only: a build-script helper (inferred from its name)",
    )
    assert edges["target-lexicon"][:2] == ("build", "required")
    assert edges["pyo3-macros"][:2] == ("build", "required")
    assert edges["windows-sys"] == (
        "static",
        "optional",
        "target-specific: a platform crate (inferred from its name)",
    )
    assert any("told from well-known crate names only" in m for _, m in result.notes)


# -- PDM: a lock group that is an extra is optional runtime, not dev ---------------------

_PDM_LOCK = """\
[metadata]
groups = ["default", "socks", "test"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:00"

[[package]]
name = "idna"
version = "3.10"
groups = ["default"]

[[package]]
name = "pysocks"
version = "1.7.1"
groups = ["socks"]

[[package]]
name = "pytest"
version = "8.3.4"
groups = ["test"]
"""


def test_pdm_extra_groups_are_optional_runtime(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["idna"]\n\n'
        '[project.optional-dependencies]\nSOCKS = ["PySocks"]\n\n'
        '[dependency-groups]\ntest = ["pytest"]\n'
    )
    (tmp_path / "pdm.lock").write_text(_PDM_LOCK)
    result = depchain.scan(tmp_path / "pdm.lock")
    assert not result.errors
    g = result.graph
    edges = {
        g.node(d.target).name: (d.kind.value, d.scope.value, d.mechanism, d.groups)  # type: ignore[union-attr]
        for d in g.dependencies()
        if d.source == result.subject
    }
    assert edges["idna"] == ("dynamic", "required", "lock", ())
    assert edges["pysocks"] == ("dynamic", "optional", "extra", ("socks",))
    assert edges["pytest"] == ("build", "dev", "lock", ("test",))


# -- a package locked at several versions (per-marker forks) is pinned --------------------

_FORKED_UV_LOCK = """\
version = 1
requires-python = ">=3.9"
resolution-markers = [
    "python_full_version >= '3.10'",
    "python_full_version < '3.10'",
]

[[package]]
name = "app"
version = "1.0"
source = { editable = "." }
dependencies = [
    { name = "numpy", version = "2.0.2", source = { registry = "https://pypi.org/simple" }, \
marker = "python_full_version < '3.10'" },
    { name = "numpy", version = "2.2.0", source = { registry = "https://pypi.org/simple" }, \
marker = "python_full_version >= '3.10'" },
]

[package.metadata]
requires-dist = [{ name = "numpy", specifier = ">=2" }]

[[package]]
name = "numpy"
version = "2.0.2"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.10'"]

[[package]]
name = "numpy"
version = "2.2.0"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.10'"]
"""


def test_a_package_locked_at_several_versions_is_pinned(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["numpy>=2"]\n'
    )
    (tmp_path / "uv.lock").write_text(_FORKED_UV_LOCK)
    (tmp_path / "member").mkdir()  # a workspace member: the root lock pins it
    (tmp_path / "member" / "pyproject.toml").write_text(
        '[project]\nname = "member"\nversion = "1.0"\ndependencies = ["numpy"]\n'
    )
    (tmp_path / "docs").mkdir()  # installed on its own: no lock beside it
    (tmp_path / "docs" / "requirements.txt").write_text("numpy\n")
    result = depchain.scan(tmp_path)
    assert not result.errors
    versions = {c.version for c in result.graph.components() if c.name == "numpy"}
    assert versions == {None, "2.0.2", "2.2.0"}
    unpinned = [f for f in result.findings if f.id == "DC001"]
    assert [e.path for f in unpinned for e in f.evidence] == ["docs/requirements.txt"]


# -- OS packages get the distribution of the image they are installed in ------------------


def test_os_packages_get_the_distribution_of_their_base_image(tmp_path: Path) -> None:
    text = (
        "ARG BASE=ubuntu:22.04\n"
        "FROM ${BASE} AS base\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "FROM base AS app\n"  # follows the stage chain back to ubuntu
        "RUN apt-get install -y git\n"
        "FROM fedora:40 AS f\n"
        "RUN dnf install -y --setopt=install_weak_deps=False gcc python3-devel.x86_64\n"
        "FROM python:3.12-alpine AS a\n"
        "RUN apk add --no-cache libffi\n"
        "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04 AS cuda\n"
        "RUN apt-get install -y libgomp1\n"
        "FROM python:3.12-slim AS slim\n"
        "RUN apt-get install -y libpq5\n"
        "FROM ghcr.io/acme/base:1 AS unknown\n"
        "RUN apt-get install -y jq\n"
    )
    (tmp_path / "Dockerfile").write_text(text)
    result = depchain.scan(tmp_path / "Dockerfile")
    assert not result.errors
    packages = {c.id for c in result.graph.components() if c.ecosystem in {"deb", "apk", "rpm"}}
    assert packages == {
        "pkg:deb/ubuntu/curl",
        "pkg:deb/ubuntu/git",
        "pkg:rpm/fedora/gcc",
        "pkg:rpm/fedora/python3-devel?arch=x86_64",
        "pkg:apk/alpine/libffi",
        "pkg:deb/ubuntu/libgomp1",
        "pkg:deb/debian/libpq5",
        "pkg:deb/jq",  # unknown: no distribution guessed
    }
    assert (
        "Dockerfile",
        "line 15: apt-get install: base image ghcr.io/acme/base does not tell its "
        "distribution; its packages are pkg:deb/<name>, without a distribution",
    ) in result.notes


# -- compose: interpolation in URLs, .env values, depends_on lines ------------------------

_COMPOSE = """\
services:
  app:
    image: example/app:${APP_TAG:-1}
    depends_on:
      - db
      - "cache"
    environment:
      A_URL: postgres://${DB_USER}:${DB_PASSWORD}@db:5432/app
      B_URL: "postgres://${DB_USER:?set DB_USER}:${DB_PASSWORD:?set it}@${DB_HOST:?no host}:5432/a"
      C_URL: "postgres://app:${DB_PASSWORD?need it}@db:5432/app"
      D_URL: "redis://:pa$$w0rd-in-compose@${CACHE_HOST:-cache}:6379/0"
      E_URL: "amqp://guest:${MQ_PASSWORD-guest}@${MQ_HOST-mq}:5672/"
      F_URL: "http://${API_HOST}:8080/"
  worker:
    image: example/app:1
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:16
  cache:
    image: redis:7
  mq:
    image: rabbitmq:3
"""


def test_compose_interpolation_in_urls_and_dotenv(tmp_path: Path) -> None:
    from depchain.export import json_report

    (tmp_path / "compose.yml").write_text(_COMPOSE)
    (tmp_path / ".env").write_text(
        "API_HOST=api.internal.example\nAPP_TAG=2.0\nMQ_PASSWORD=s3cret-from-dotenv\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors
    g = result.graph
    urls = {
        (d.target, e.line)
        for d in g.dependencies()
        if d.mechanism == "connection-url"
        for e in d.evidence
    }
    assert urls == {
        ("service:compose:db", 8),
        ("service:postgresql:${DB_HOST}:5432", 9),  # the host is not known: said so
        ("service:compose:db", 10),
        ("service:compose:cache", 11),
        ("service:compose:mq", 12),
        ("service:http:api.internal.example:8080", 13),  # from .env
    }
    for sid in ("service:compose:db", "service:compose:cache", "service:compose:mq"):
        node = g.node(sid)
        assert isinstance(node, Service)
        assert dict(node.properties).get("depchain:credentials") == "present", sid
        assert all("***@" in e for e in node.endpoints if "@" in e)
    unresolved = g.node("service:postgresql:${DB_HOST}:5432")
    assert isinstance(unresolved, Service)
    assert ("depchain:host-unresolved", "true") in unresolved.properties
    assert ("depchain:credentials", "present") in unresolved.properties
    assert "pkg:docker/example/app@2.0" in {c.id for c in g.components()}  # .env's APP_TAG
    report = json.dumps(json_report.build(result))
    for secret in ("pa$w0rd-in-compose", "w0rd", "s3cret-from-dotenv", "guest:", "set it"):
        assert secret not in report, secret


def test_compose_depends_on_evidence_is_the_entry_line(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(_COMPOSE)
    result = depchain.scan(tmp_path / "compose.yml")
    lines = {
        (d.source, d.target): [e.line for e in d.evidence]
        for d in result.graph.dependencies()
        if d.mechanism == "depends-on"
    }
    assert lines == {
        ("service:compose:app", "service:compose:db"): [5],
        ("service:compose:app", "service:compose:cache"): [6],
        ("service:compose:worker", "service:compose:db"): [17],
    }
