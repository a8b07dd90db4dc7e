"""Extras in an installed environment, as the installer activated them.

Each environment here is a folder of real ``*.dist-info`` directories (``METADATA`` with
``Requires-Dist`` and ``Provides-Extra``, ``RECORD``, ``WHEEL``, ``INSTALLER`` and, where
the user named the distribution, ``REQUESTED``), read as any installed environment is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import depchain
from depchain.model import Dependency, Scope
from depchain.native.requires import INFERRED
from depchain.resolvers.environment import locate, markers_for, platform_of

LINUX = "cp311-cp311-manylinux_2_17_x86_64"


@dataclass
class Dist:
    name: str
    version: str = "1.0"
    requires: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    requested: bool = False
    tag: str = "py3-none-any"


def make_env(root: Path, dists: list[Dist], python: str = "3.11.7") -> Path:
    """A virtual environment with these distributions (and one Linux wheel, so that
    its platform is known)."""
    site = root / "lib" / f"python{'.'.join(python.split('.')[:2])}" / "site-packages"
    site.mkdir(parents=True)
    (root / "pyvenv.cfg").write_text(f"home = /nonexistent/bin\nversion = {python}\n")
    for dist in [*dists, Dist("native", tag=LINUX)]:
        info = site / f"{dist.name.replace('-', '_')}-{dist.version}.dist-info"
        info.mkdir()
        headers = [
            "Metadata-Version: 2.1",
            f"Name: {dist.name}",
            f"Version: {dist.version}",
            "License: a folded header,",
            "        ",  # a blank continuation line is still a header
            "  over three lines",
            *(f"Provides-Extra: {e}" for e in dist.extras),
            *(f"Requires-Dist: {r}" for r in dist.requires),
        ]
        (info / "METADATA").write_text("\n".join(headers) + "\n\nRequires-Dist: not-a-header\n")
        (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nTag: {dist.tag}\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text(f"{info.name}/METADATA,,\n")
        if dist.requested:
            (info / "REQUESTED").write_text("")
    return root


def edges(result: depchain.ScanResult) -> dict[tuple[str, str], Dependency]:
    g = result.graph
    return {
        (g.node(d.source).name, g.node(d.target).name): d
        for d in g.dependencies()
        if d.mechanism in {"import", "installed"}
    }


def deps_of(result: depchain.ScanResult, source: str) -> set[str]:
    return {t for s, t in edges(result) if s == source}


def top_level(result: depchain.ScanResult) -> set[str]:
    return {t for (_, t), d in edges(result).items() if d.mechanism == "installed"}


def test_an_extra_a_dependent_asks_for_is_active_to_a_fixed_point(tmp_path: Path) -> None:
    env = make_env(
        tmp_path,
        [
            Dist("events", requires=["schema[format-nongpl]>=4"], requested=True),
            Dist(
                "schema",
                extras=["format-nongpl", "test"],
                requires=[
                    "attrs",
                    'fqdn; extra == "format-nongpl"',
                    'uri[strict]; extra == "format_nongpl"',  # names normalise
                    'pytest; extra == "test"',
                ],
            ),
            Dist("uri", extras=["strict"], requires=['idna; extra == "strict"']),
            Dist("attrs"),
            Dist("fqdn"),
            Dist("idna"),
            Dist("pytest", requested=True),
        ],
    )
    result = depchain.scan(env)
    found = edges(result)
    assert deps_of(result, "schema") == {"attrs", "fqdn", "uri"}
    assert deps_of(result, "uri") == {"idna"}
    for pair in [("schema", "fqdn"), ("schema", "uri"), ("uri", "idna")]:
        assert found[pair].scope is Scope.REQUIRED
    fqdn = found[("schema", "fqdn")]
    assert fqdn.groups == ("format-nongpl",)
    # the extra's own line, then the dependent's line that asked for it
    assert [(Path(e.path).parent.name, Path(e.path).name, e.line) for e in fqdn.evidence] == [
        ("schema-1.0.dist-info", "METADATA", 10),
        ("events-1.0.dist-info", "METADATA", 7),
    ]
    idna = found[("uri", "idna")]
    assert any("schema-1.0.dist-info" in e.path for e in idna.evidence)
    # schema[test] is not active: pytest is no dependency of schema, it is installed
    assert ("schema", "pytest") not in found
    assert "pytest" in top_level(result)
    assert not any(d.scope is Scope.OPTIONAL for d in result.graph.dependencies())


def test_an_inactive_requirement_activates_nothing(tmp_path: Path) -> None:
    env = make_env(
        tmp_path,
        [
            Dist(
                "app",
                extras=["test"],
                requires=[
                    'lib[fast]; extra == "test"',  # app[test] is not active
                    'lib[win]; sys_platform == "win32"',  # false on Linux
                    'lib[old]; python_version < "3.10"',  # false in 3.11
                    "lib",
                ],
                requested=True,
            ),
            Dist(
                "lib",
                extras=["fast", "win", "old"],
                requires=[
                    'speedups; extra == "fast"',
                    'winreg2; extra == "win"',
                    'oldcompat; extra == "old"',
                ],
            ),
            Dist("speedups", requested=True),
            Dist("winreg2", requested=True),
            Dist("oldcompat", requested=True),
        ],
    )
    result = depchain.scan(env)
    assert deps_of(result, "app") == {"lib"}
    assert deps_of(result, "lib") == set()
    assert {"speedups", "winreg2", "oldcompat"} <= top_level(result)


def test_markers_with_an_extra_follow_the_environments_python_and_platform(
    tmp_path: Path,
) -> None:
    dists = [
        Dist("top", requires=["lib[x]"], requested=True),
        Dist(
            "lib",
            extras=["x"],
            requires=[
                'backport; extra == "x" and python_version < "3.12"',
                'winonly; extra == "x" and sys_platform == "win32"',
                'linuxonly; (extra == "x") and platform_system == "Linux"',
                'missing; extra == "x" and os_name == "posix"',
            ],
        ),
        Dist("backport"),
        Dist("winonly"),
        Dist("linuxonly"),
    ]
    result = depchain.scan(make_env(tmp_path / "a", dists, "3.11.7"))
    assert deps_of(result, "lib") == {"backport", "linuxonly", "missing"}
    # an active extra's requirement that is not installed is a required, missing one
    missing = next(c for c in result.graph.components() if c.name == "missing")
    assert dict(missing.properties)["depchain:not-installed"]
    assert edges(result)[("lib", "missing")].scope is Scope.REQUIRED
    result = depchain.scan(make_env(tmp_path / "b", dists, "3.12.1"))
    assert deps_of(result, "lib") == {"linuxonly", "missing"}
    # the version comes from lib/pythonX.Y where pyvenv.cfg does not say
    env = make_env(tmp_path / "c", dists, "3.12.1")
    (env / "pyvenv.cfg").write_text("home = /nonexistent/bin\n")
    assert deps_of(depchain.scan(env), "lib") == {"linuxonly", "missing"}


def test_the_platform_comes_from_the_installed_wheels() -> None:
    assert platform_of([f"{LINUX}.manylinux2014_x86_64", "py3-none-any"]) == {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
    }
    assert platform_of(["cp311-cp311-win_amd64"])["platform_machine"] == "AMD64"
    assert platform_of(["cp311-cp311-macosx_11_0_arm64"])["sys_platform"] == "darwin"
    assert platform_of(["py3-none-any"]) == {}
    assert platform_of([LINUX, "cp311-cp311-win_amd64"]) == {}  # no agreement: the host's
    env = locate(Path("/nonexistent"))
    assert markers_for(env, ["cp311-cp311-win_amd64"])["sys_platform"] == "win32"


def test_cycles_of_extras_end(tmp_path: Path) -> None:
    env = make_env(
        tmp_path,
        [
            Dist("root", requires=["a[x]"], requested=True),
            Dist("a", extras=["x", "y"], requires=['b[y]; extra == "x"', 'a[x]; extra == "y"']),
            Dist("b", extras=["y"], requires=['a[y]; extra == "y"', 'c; extra == "y"']),
            Dist("c"),
        ],
    )
    result = depchain.scan(env)
    assert "b" in deps_of(result, "a")  # a[y] -> a[x]: no edge of a to itself
    assert deps_of(result, "b") == {"a", "c"}


def _pip_env(root: Path, *extra: Dist, uvicorn_requested: bool = True) -> Path:
    """What ``pip install uvicorn[standard] psycopg[binary] sentry-sdk`` leaves: the named
    distributions ``REQUESTED``, what they pulled in not."""
    return make_env(
        root,
        [
            Dist(
                "uvicorn",
                extras=["standard"],
                requires=[
                    "click",
                    'httptools>=0.6; extra == "standard"',
                    'uvloop; sys_platform != "win32" and extra == "standard"',
                    'colorama; sys_platform == "win32" and extra == "standard"',
                ],
                requested=uvicorn_requested,
            ),
            Dist(
                "psycopg",
                "3.2.1",
                extras=["binary", "pool", "test"],
                requires=[
                    'psycopg-binary==3.2.1; implementation_name != "pypy" and extra == "binary"',
                    'psycopg-pool; extra == "pool"',
                    'pytest; extra == "test"',
                ],
                requested=True,
            ),
            Dist("sentry-sdk", extras=["celery"], requires=['celery; extra == "celery"']),
            Dist("click"),
            Dist("httptools", "0.6.1"),
            Dist("uvloop"),
            Dist("psycopg-binary", "3.2.1"),
            *extra,
        ],
    )


def test_an_extra_the_user_evidently_asked_for_is_inferred(tmp_path: Path) -> None:
    result = depchain.scan(_pip_env(tmp_path))
    found = edges(result)
    assert deps_of(result, "uvicorn") == {"click", "httptools", "uvloop"}
    assert deps_of(result, "psycopg") == {"psycopg-binary"}
    httptools = found[("uvicorn", "httptools")]
    assert httptools.scope is Scope.REQUIRED and httptools.groups == ("standard",)
    inferred = [e for e in httptools.evidence if e.resolver == INFERRED]
    assert len(inferred) == 1 and inferred[0].path.endswith("uvicorn-1.0.dist-info/REQUESTED")
    assert top_level(result) == {"uvicorn", "psycopg", "sentry-sdk", "native"}


@pytest.mark.parametrize(
    "case",
    ["not requested", "a requirement missing", "a version outside the specifier"],
)
def test_no_inference_without_the_evidence(tmp_path: Path, case: str) -> None:
    if case == "not requested":
        env = _pip_env(tmp_path, uvicorn_requested=False)
    else:
        env = _pip_env(tmp_path)
        info = env / "lib/python3.11/site-packages/httptools-0.6.1.dist-info"
        if case == "a requirement missing":
            for f in info.iterdir():
                f.unlink()
            info.rmdir()
        else:
            meta = info / "METADATA"
            meta.write_text(meta.read_text().replace("Version: 0.6.1", "Version: 0.5"))
    result = depchain.scan(env)
    assert deps_of(result, "uvicorn") == {"click"}
    assert "uvloop" in top_level(result)


def test_requested_targets_and_ambiguous_ones_are_no_evidence(tmp_path: Path) -> None:
    env = _pip_env(
        tmp_path,
        Dist("celery", requested=True),  # the user named celery: sentry-sdk[celery] is not
        Dist("tornado"),  # two extras could have brought it: neither is inferred
        Dist("web", extras=["async"], requires=['tornado; extra == "async"'], requested=True),
        Dist("notebook", extras=["serve"], requires=['tornado; extra == "serve"'], requested=True),
    )
    result = depchain.scan(env)
    assert deps_of(result, "sentry-sdk") == set()
    assert deps_of(result, "web") == deps_of(result, "notebook") == set()
    assert {"celery", "tornado"} <= top_level(result)


def test_a_frozen_install_infers_only_what_a_direct_request_cannot_explain(
    tmp_path: Path,
) -> None:
    """``pip install -r`` of a frozen list marks every distribution ``REQUESTED``; an
    extra named after the one distribution it adds, or a development extra, is then no
    evidence, but still stands for a user who installed that distribution."""
    env = _pip_env(
        tmp_path,
        Dist("celery"),
        Dist("pytest"),
        Dist("docopt"),
        Dist("parso", extras=["testing"], requires=['docopt; extra == "testing"']),
        Dist("lxml"),
        Dist("pandas", extras=["xml"], requires=['lxml; extra == "xml"']),
        Dist("soup", extras=["lxml"], requires=['lxml; extra == "lxml"']),
    )
    for info in env.glob("lib/python3.11/site-packages/*.dist-info"):
        (info / "REQUESTED").write_text("")
    result = depchain.scan(env)
    assert deps_of(result, "uvicorn") == {"click", "httptools", "uvloop"}
    assert deps_of(result, "psycopg") == {"psycopg-binary"}
    for name in ("sentry-sdk", "parso", "pandas", "soup"):
        assert deps_of(result, name) == set(), name
    assert {"celery", "pytest", "docopt", "lxml"} <= top_level(result)


def test_the_sbom_has_no_edge_of_an_inactive_extra(tmp_path: Path) -> None:
    from depchain.export import cyclonedx

    result = depchain.scan(_pip_env(tmp_path, Dist("pytest", requested=True)))
    doc = json.loads(cyclonedx.render(result))
    names = {c["bom-ref"]: c["name"] for c in doc["components"]}
    depends = {
        (names.get(d["ref"]), names.get(t))
        for d in doc["dependencies"]
        for t in d.get("dependsOn", [])
    }
    assert ("psycopg", "psycopg-binary") in depends
    assert ("uvicorn", "httptools") in depends
    assert ("psycopg", "pytest") not in depends
    assert ("sentry-sdk", "celery") not in depends
    scope = {c["name"]: c.get("scope") for c in doc["components"]}
    assert scope["httptools"] == scope["psycopg-binary"] == "required"


def test_a_wheel_still_lists_every_extra_as_optional(tmp_path: Path) -> None:
    from depchain.native.distribution import FolderSource, read_distribution
    from depchain.native.requires import requires_edges

    env = _pip_env(tmp_path)
    files = FolderSource(env / "lib/python3.11/site-packages", "site")
    dist = read_distribution(files, "psycopg-3.2.1.dist-info")
    from depchain.model import Evidence

    _, deps, errors = requires_edges(
        dist, "psycopg", Evidence("METADATA", None, "wheel"), None, lambda _: None, "x"
    )
    assert not errors
    assert {(d.target.split("/")[-1].split("@")[0], d.groups, d.scope) for d in deps} == {
        ("psycopg-binary", ("binary",), Scope.OPTIONAL),
        ("psycopg-pool", ("pool",), Scope.OPTIONAL),
        ("pytest", ("test",), Scope.OPTIONAL),
    }


BENCH = [
    Path(p)
    for p in (
        os.environ.get("DEPCHAIN_BENCH_ENV", ""),
        str(Path(__file__).resolve().parents[2] / ".bench-env"),
        str(Path(__file__).resolve().parents[3] / "bench-env"),
    )
    if p
]


@pytest.fixture(scope="module")
def bench() -> depchain.ScanResult:
    for path in BENCH:
        if (path / "pyvenv.cfg").is_file():
            return depchain.scan(path)
    pytest.skip(
        "the benchmark environment is not built: python3.11 -m venv .bench-env && "
        ".bench-env/bin/pip install -r ../shared/data/bench-env/requirements.txt "
        "(or set DEPCHAIN_BENCH_ENV)"
    )


def test_the_benchmark_environment(bench: depchain.ScanResult) -> None:
    found = edges(bench)
    lower = {(s.lower(), t.lower()): d for (s, t), d in found.items()}
    assert ("arrow", "pytest") not in lower
    assert not [d for d in bench.graph.dependencies() if d.scope is Scope.OPTIONAL]
    fmt = {t for (s, t), d in lower.items() if s == "jsonschema" and d.groups}
    assert fmt >= {"fqdn", "isoduration", "rfc3339-validator", "uri-template", "webcolors"}
    assert ("bleach", "tinycss2") in lower
    standard = {t for (s, t), d in lower.items() if s == "uvicorn" and d.groups == ("standard",)}
    assert standard >= {"httptools", "uvloop", "watchfiles", "websockets", "python-dotenv"}
    assert all(
        any(e.resolver == INFERRED for e in lower[("uvicorn", t)].evidence) for t in standard
    )
    assert lower[("psycopg", "psycopg-binary")].scope is Scope.REQUIRED
    with_extras = [d for d in found.values() if d.groups]
    assert len(with_extras) == 17, sorted((d.source, d.target) for d in with_extras)
