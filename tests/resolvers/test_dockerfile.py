from __future__ import annotations

from pathlib import Path

import pytest

import depchain
from depchain.images import ImageRef, parse_image
from depchain.model import Component, Dependency, DependencyKind, Scope
from depchain.resolvers.dockerfile import expand

DIGEST = "sha256:" + "0123456789abcdef" * 4

MULTI_STAGE = f"""\
# syntax=docker/dockerfile:1.7
ARG PYTHON_VERSION=3.12
ARG RUNTIME=gcr.io/distroless/python3-debian12:nonroot@{DIGEST}

FROM --platform=$BUILDPLATFORM python:${{PYTHON_VERSION}}-slim AS builder
ENV REQUESTS_VERSION=2.32.3
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      build-essential \\
      libpq-dev=15.8-0+deb12u1 \\
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \\
 && python -m pip install --prefix=/install "requests==${{REQUESTS_VERSION}}" \\
      'psycopg[binary]>=3.1' \\
      --index-url https://pypi.example.org/simple
COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv

from ${{RUNTIME}} as runtime
COPY --from=builder /install /usr/local
USER nonroot
ENTRYPOINT ["python", "-m", "app"]
"""


def _scan(tmp_path: Path, text: str, name: str = "Dockerfile") -> depchain.ScanResult:
    (tmp_path / name).write_text(text)
    return depchain.scan(tmp_path / name)


def _edges(result: depchain.ScanResult) -> dict[str, tuple[Dependency, Component]]:
    g = result.graph
    out = {}
    for d in g.dependencies():
        node = g.node(d.target)
        assert isinstance(node, Component)
        out[f"{d.kind.value}:{node.id}"] = (d, node)
    return out


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_multi_stage_python_builder_and_distroless_runtime(tmp_path: Path) -> None:
    result = _scan(tmp_path, MULTI_STAGE)
    assert not result.errors, result.errors
    assert result.notes == [
        ("Dockerfile", "line 13: pip install -r requirements.txt: the file is not read here")
    ]
    edges = _edges(result)
    runtime = f"pkg:docker/distroless/python3-debian12@nonroot?digest={DIGEST}"
    assert set(edges) == {
        "build:pkg:docker/library/python@3.12-slim",
        f"dynamic:{runtime}&repository_url=gcr.io",
        "build:pkg:deb/debian/build-essential",
        "build:pkg:deb/debian/libpq-dev@15.8-0%2Bdeb12u1",
        "build:pkg:pypi/requests@2.32.3",
        "build:pkg:pypi/psycopg",
        "build:pkg:docker/astral-sh/uv@0.5.11?repository_url=ghcr.io",
    }
    by_name = {c.name: (d, c) for d, c in edges.values()}
    d, c = by_name["python"]
    assert (d.kind, d.scope, d.mechanism) == (DependencyKind.BUILD, Scope.REQUIRED, "build-stage")
    assert d.evidence[0].line == _line(MULTI_STAGE, "AS builder")
    assert dict(c.properties) == {"depchain:image-tag": "3.12-slim"}
    d, c = by_name["gcr.io/distroless/python3-debian12"]
    assert (d.kind, d.mechanism) == (DependencyKind.DYNAMIC, "container-base")
    assert d.evidence[0].line == _line(MULTI_STAGE, "as runtime")
    assert dict(c.properties) == {"depchain:image-tag": "nonroot", "depchain:image-digest": DIGEST}
    assert c.version == "nonroot" and "digest=" in c.id and "repository_url=gcr.io" in c.id
    d, c = by_name["libpq-dev"]
    assert (d.kind, d.mechanism, d.specifier) == (
        DependencyKind.BUILD,
        "apt-get",
        "=15.8-0+deb12u1",
    )
    assert c.version == "15.8-0+deb12u1" and d.evidence[0].line == _line(MULTI_STAGE, "libpq-dev")
    assert by_name["build-essential"][0].evidence[0].line == _line(MULTI_STAGE, "build-essential")
    d, c = by_name["requests"]
    assert (d.mechanism, c.version, d.evidence[0].line) == (
        "pip",
        "2.32.3",
        _line(MULTI_STAGE, "requests=="),
    )
    assert [(i.role, i.url) for i in d.indexes] == [("primary", "https://pypi.example.org/simple")]
    d, _ = by_name["psycopg"]
    assert (d.specifier, d.extras) == (">=3.1", ("binary",))
    d, _ = by_name["ghcr.io/astral-sh/uv"]
    assert (d.kind, d.mechanism) == (DependencyKind.BUILD, "copy-from")


def test_final_stage_packages_are_dynamic_and_chains_are_followed(tmp_path: Path) -> None:
    text = (
        "FROM alpine:3.20 AS base\n"
        "RUN apk add --no-cache --virtual .build-deps ca-certificates curl=8.9.1-r0 'git>2.40'\n"
        "FROM base AS tools\n"
        "RUN apt-get install -y jq\n"
        "FROM golang:1.23 AS compile\n"
        "RUN go build ./...\n"
        "FROM base\n"
        "COPY --from=compile /out/app /app\n"
        "COPY --from=1 /usr/bin/jq /usr/bin/jq\n"
        "RUN pip3 install --no-cache-dir flask==3.0.3\n"
        "ADD --checksum=sha256:" + "ab" * 32 + " https://example.com/tool-1.0.tar.gz /opt/\n"
    )
    result = _scan(tmp_path, text)
    assert not result.errors, result.errors
    edges = _edges(result)
    kinds = {(c.name, d.kind, d.mechanism) for d, c in edges.values()}
    assert kinds == {
        # the last stage is built FROM base: base's image and packages ship
        ("alpine", DependencyKind.DYNAMIC, "container-base"),
        ("ca-certificates", DependencyKind.DYNAMIC, "container-package"),
        ("curl", DependencyKind.DYNAMIC, "container-package"),
        ("git", DependencyKind.DYNAMIC, "container-package"),
        ("flask", DependencyKind.DYNAMIC, "container-package"),
        ("tool", DependencyKind.STATIC, "add-url"),
        # tools (by index) and compile (by name) only feed the last stage
        ("golang", DependencyKind.BUILD, "build-stage"),
        ("jq", DependencyKind.BUILD, "apt-get"),
    }
    curl = next(c for d, c in edges.values() if c.name == "curl")
    assert curl.id == "pkg:apk/alpine/curl@8.9.1-r0"
    git = next(d for d, c in edges.values() if c.name == "git")
    assert git.specifier == ">2.40"
    tool = next(c for d, c in edges.values() if c.name == "tool")
    assert tool.hashes[0].value == "ab" * 32


def test_directives_heredocs_variables_and_scratch(tmp_path: Path) -> None:
    text = (
        "# escape=`\n"
        "ARG BASE\n"
        "FROM ubuntu:24.04 AS build\n"
        "ARG PKG=libssl-dev\n"
        "RUN apt-get update && `\n"
        "    # a comment inside a continuation\n"
        "    apt-get install -y ${PKG} $UNKNOWN\n"
        "RUN <<EOF\n"
        "set -e\n"
        "pip install \\\n"
        "   wheel==0.44.0\n"
        "EOF\n"
        "RUN python3 <<EOF\n"
        "import os  # apt-get install not-a-package\n"
        "EOF\n"
        "FROM $BASE AS middle\n"
        "FROM scratch\n"
        "COPY --from=build /out /\n"
    )
    result = _scan(tmp_path, text, "Containerfile")
    assert not result.errors, result.errors
    edges = _edges(result)
    assert {(c.id, d.evidence[0].line) for d, c in edges.values()} == {
        ("pkg:docker/library/ubuntu@24.04", 3),
        ("pkg:deb/ubuntu/libssl-dev", 7),
        ("pkg:pypi/wheel@0.44.0", 11),
    }
    notes = [message for _, message in result.notes]
    assert any("$UNKNOWN" in n and n.startswith("line 7") for n in notes)
    assert any("BASE" in n and n.startswith("line 16") for n in notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "FROM python:3.12\nRUN apt-get install -y \\\n  curl \\\n",
            "line 2: the file ends inside",
        ),
        ("FROM python:3.12 AS a\nFROM --platform=linux/amd64\n", "line 2: FROM without an image"),
        ("FROM python:3.12\nFETCH https://x\n", "line 2: unknown instruction FETCH"),
        ("RUN echo hi\nFROM python:3.12\n", "line 1: RUN before the first FROM"),
        ("FROM Python:3.12\n", "line 1: FROM: 'Python:3.12' is not an image reference"),
        ("FROM python:3.12 AS a AS b\n", "line 1: FROM takes 'image [AS name]'"),
        ("FROM python:3.12\nRUN pip install 'six\n", "line 2: cannot read the RUN command"),
        ("FROM python:3.12\nRUN pip install six=1\n", "line 2: pip install 'six=1'"),
        ("FROM python:3.12\nRUN <<EOF\napt-get install x\n", "line 2: here-document EOF"),
        ("# just a comment\n", "no FROM instruction"),
    ],
)
def test_bad_dockerfiles_are_one_line_errors_and_the_scan_goes_on(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.path == "Dockerfile"
    assert error.message.startswith(expected), error.message
    assert "\n" not in error.message
    assert "six" in {c.name for c in result.graph.components()}


def test_the_rest_of_a_bad_dockerfile_is_still_read(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        "FROM python:3.12-slim AS build\nBOGUS x\nFROM\n"
        "FROM debian:12\nRUN apt-get install -y curl\n",
    )
    assert [e.message.split(":")[0] for e in result.errors] == ["line 2", "line 3"]
    assert {c.name for _, c in _edges(result).values()} == {"python", "debian", "curl"}


def test_parse_image() -> None:
    assert parse_image("python") == ImageRef(None, "library", "python", None, None)
    assert parse_image("docker.io/library/python:3.12") == ImageRef(
        None, "library", "python", "3.12", None
    )
    assert parse_image("localhost:5000/team/app:1@" + DIGEST) == ImageRef(
        "localhost:5000", "team", "app", "1", DIGEST
    )
    assert parse_image("quay.io/pypa/manylinux_2_28_x86_64").display_name == (
        "quay.io/pypa/manylinux_2_28_x86_64"
    )
    assert parse_image("bitnami/redis:7").display_name == "bitnami/redis"
    for bad in ("", "UPPER", "a:b:c", "x@sha256:12", "a//b"):
        with pytest.raises(ValueError):
            parse_image(bad)


def test_expand() -> None:
    names: dict[str, str | None] = {"A": "1", "E": "", "N": None}
    assert expand("$A ${A} ${E:-d} ${E-d} ${N:-x} ${A:+y} ${Z+q} \\$A", names) == (
        "1 1 d  x y  $A",
        [],
    )
    assert expand("${Z}/$N", names) == ("/", ["Z", "N"])


def test_a_here_string_is_no_here_document(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        'FROM debian:12\nRUN cat <<<"EOF" > /tmp/x\nRUN apt-get install -y curl\nEOF\n',
    )
    (error,) = result.errors  # the stray EOF is an unknown instruction, not a terminator
    assert error.message == "line 4: unknown instruction EOF"
    assert {c.name for _, c in _edges(result).values()} == {"debian", "curl"}


def test_packages_named_by_a_shell_variable_of_the_same_run(tmp_path: Path) -> None:
    # wagtail/bakerydemo: RUN_DEPS="..." && apt-get install $RUN_DEPS
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nRUN set -ex \\\n    && RUN_DEPS=" \\\n        libpq5 \\\n'
        '        postgresql-client \\\n    " \\\n'
        "    && apt-get update && apt-get install -y --no-install-recommends $RUN_DEPS $UNSET\n"
    )
    result = depchain.scan(tmp_path)
    names = {c.name for c in result.graph.components() if c.ecosystem == "deb"}
    assert names == {"libpq5", "postgresql-client"}
    assert any("$UNSET" in m and "not a package name" in m for _, m in result.notes)
