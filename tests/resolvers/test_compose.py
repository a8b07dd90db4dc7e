"""docker compose files: the real files of warehouse and airflow, counted independently
from the YAML, and small files for extends, env_file, interpolation and bad input."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import depchain
from depchain.errors import InputFileError
from depchain.export import cyclonedx, json_report
from depchain.graph import DependencyGraph
from depchain.ids import generic_component
from depchain.model import Component, DependencyKind, Evidence, Fragment, Scope, Service
from depchain.resolvers import compose
from depchain.resolvers.base import ResolveContext
from depchain.resolvers.compose import interpolate
from tests.conftest import real


def _resolve(path: Path, root: Path | None = None) -> Fragment:
    subject = generic_component("project", Evidence(".", None, "test"))
    ctx = ResolveContext(root=root or path.parent, subject_for=lambda _: subject)
    return compose.resolve(path, ctx)


def _graph(fragment: Fragment) -> DependencyGraph:
    graph = DependencyGraph()
    graph.add_fragment(fragment)  # every edge end is in the fragment, or this raises
    return graph


def _props(item: Service | Component) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in item.properties:
        found.setdefault(key, []).append(value)
    return found


def _compose_services(graph: DependencyGraph) -> dict[str, Service]:
    return {s.name: s for s in graph.services() if s.id.startswith("service:compose:")}


def _service_line(text: str, name: str) -> int:
    lines = text.splitlines()
    start = lines.index("services:")
    for i in range(start, len(lines)):
        if re.match(rf"^  {re.escape(name)}:\s*$", lines[i]):
            return i + 1
    raise AssertionError(name)


# -- warehouse ------------------------------------------------------------------------


def test_warehouse_every_service_with_its_image() -> None:
    path = real("pypi__warehouse/docker-compose.yml")
    text = path.read_text()
    spec: dict[str, dict[str, Any]] = yaml.safe_load(text)["services"]
    assert len(spec) == 19
    built = {s["image"] for s in spec.values() if "build" in s and "image" in s}
    pulled = {
        s["image"]
        for s in spec.values()
        if "image" in s
        and "build" not in s
        and s["image"] not in built
        and s.get("pull_policy") != "never"
    }
    assert "postgres:17.5" in pulled and "redis:7.0" in pulled

    result = depchain.scan(path)
    assert not result.errors, result.errors
    graph = result.graph
    services = _compose_services(graph)
    assert set(services) == set(spec)
    for name, s in services.items():
        assert s.id == f"service:compose:{name}"
        assert s.image == spec[name].get("image")
        assert s.trust_boundary is False
        # its own line, plus those of the URLs that reach it (folded in by the scan)
        assert Evidence("docker-compose.yml", _service_line(text, name), "compose") in s.evidence
        built_here = "build" in spec[name]
        assert ("depchain:build" in _props(s)) is built_here
        if "image" in spec[name] and (built_here or spec[name]["image"] in built):
            assert _props(s)["depchain:image-source"] == ["local-build"]

    # built only, no image
    assert services["opensearch"].image is None
    assert _props(services["opensearch"])["depchain:build"] == ["./dev/compose/opensearch"]

    # one component per pulled image, linked from the project at run time
    images = {c for c in graph.components() if c.ecosystem == "docker"}
    written = {c.name if c.version is None else f"{c.name}:{c.version}" for c in images}
    assert written == pulled
    by_name = {c.name: c for c in images}
    assert by_name["postgres"].id == "pkg:docker/library/postgres@17.5"
    assert by_name["redis"].version == "7.0"
    no_tag = by_name["ewjoachim/notgithub-token-scanning"]
    assert no_tag.version is None and "depchain:image-tag" not in _props(no_tag)
    ghcr = by_name["ghcr.io/repository-service-tuf/repository-service-tuf-api"]
    assert ghcr.version == "v0.12.0b1" and "repository_url=ghcr.io" in ghcr.id
    image_edges = [d for d in graph.dependencies() if d.mechanism == "container-image"]
    assert {d.target for d in image_edges} == {c.id for c in images}
    assert all(d.kind is DependencyKind.DYNAMIC and d.source == result.subject for d in image_edges)
    db_image = next(d for d in image_edges if d.target == by_name["postgres"].id)
    assert db_image.evidence[0].line == text.splitlines().index("    image: postgres:17.5") + 1

    # the project runs every service
    compose_edges = [d for d in graph.dependencies() if d.mechanism == "compose"]
    assert {d.target for d in compose_edges} == {s.id for s in services.values()}
    assert all(
        d.kind is DependencyKind.SERVICE and d.scope is Scope.REQUIRED for d in compose_edges
    )

    # depends_on, both spellings
    depends = {
        (graph.node(d.source).name, graph.node(d.target).name)
        for d in graph.dependencies()
        if d.mechanism == "depends-on"
    }
    expected = {
        (name, str(target)) for name, s in spec.items() for target in (s.get("depends_on") or {})
    }
    assert depends == expected and ("web", "opensearch") in depends

    # ports: container ports as endpoints, the published ones as a property
    assert "tcp://db:5432" in services["db"].endpoints
    assert _props(services["db"])["depchain:published-ports"] == ["5433:5432/tcp"]
    assert "udp://notdatadog:8125" in services["notdatadog"].endpoints
    assert "tcp://web:8000" in services["web"].endpoints  # ${WEB_PORT:-80}:8000
    assert set(services["mailpit"].endpoints) == {"tcp://mailpit:8025", "tcp://mailpit:1025"}

    # connection URLs in the environment, linked from the service that holds them
    pg = graph.node(graph.canonical("service:postgresql:db:5432"))
    assert isinstance(pg, Service)
    assert pg.trust_boundary is False  # ``db`` is a service of this compose file
    assert "postgresql://***@db:5432/rstuf" in pg.endpoints
    assert _props(pg)["depchain:credentials"] == ["absent"]
    assert _props(pg)["depchain:authentication"] == ["username"]
    url_edges = {
        (d.source, d.target) for d in graph.dependencies() if d.mechanism == "connection-url"
    }
    # the URL names the compose service db: the scan folds it into that service
    assert ("service:compose:rstuf-worker", "service:compose:db") in url_edges
    assert ("service:compose:rstuf-api", "service:compose:redis") in url_edges
    camo = graph.node(graph.canonical("service:http:warehouse-camo.ingress.cmh1.psfhosted.org:443"))
    assert camo.trust_boundary is True  # type: ignore[union-attr]
    assert "d1e139dd79d95783a48690c79813071314e45a69" not in str(camo)  # a signature

    # the env_file the snapshot lacks is said, not fatal
    assert any("dev/environment does not exist" in m for _, m in result.notes)

    # the file's own secrets reach no output
    outputs = json_report.render(result) + cyclonedx.render(result) + repr(graph.services())
    for secret in ("gqYeDIzbEwTTYmB7", "insecurecamokey"):
        assert secret in text
        assert secret not in outputs


# -- airflow --------------------------------------------------------------------------


def test_airflow_anchors_merge_keys_placeholder_and_profiles() -> None:
    path = real("apache__airflow/airflow-core/docs/howto/docker-compose/docker-compose.yaml")
    text = path.read_text()
    spec: dict[str, dict[str, Any]] = yaml.safe_load(text)["services"]
    result = depchain.scan(path)
    assert not result.errors, result.errors
    graph = result.graph
    services = _compose_services(graph)
    assert set(services) == set(spec)

    assert services["postgres"].image == "postgres:16"
    assert services["redis"].image == "redis:7.2-bookworm"
    assert _props(services["postgres"])["depchain:family"] == ["postgresql"]
    assert "tcp://redis:6379" in services["redis"].endpoints  # from expose
    components = {c.id: c for c in graph.components()}
    assert "pkg:docker/library/postgres@16" in components
    assert "pkg:docker/library/redis@7.2-bookworm" in components

    # merge keys: every airflow service has the common image, kept with its placeholder
    airflow = {n: s for n, s in services.items() if n.startswith("airflow-") or n == "flower"}
    assert len(airflow) == len(spec) - 2
    raw = "${AIRFLOW_IMAGE_NAME:-apache/airflow:|version|}"
    for s in airflow.values():
        assert s.image == "apache/airflow:|version|"
        assert _props(s)["depchain:image-unresolved"] == [raw]
    image = components["pkg:docker/apache/airflow"]
    assert image.version is None and _props(image)["depchain:image-unresolved"] == [raw]
    anchor_line = next(i for i, line in enumerate(text.splitlines(), 1) if raw in line)
    assert image.evidence[0].line == anchor_line

    # profiles: optional services, their profiles named
    edges = {d.target: d for d in graph.dependencies() if d.mechanism == "compose"}
    assert edges["service:compose:flower"].scope is Scope.OPTIONAL
    assert edges["service:compose:flower"].groups == ("flower",)
    assert edges["service:compose:airflow-cli"].groups == ("debug",)
    assert _props(services["flower"])["depchain:compose-profiles"] == ["flower"]
    assert edges["service:compose:airflow-worker"].scope is Scope.REQUIRED

    # the environment anchor: every airflow service reaches postgres and redis by URL
    pg = graph.node(graph.canonical("service:postgresql:postgres:5432"))
    assert isinstance(pg, Service) and pg.trust_boundary is False
    assert set(pg.endpoints) == {
        "postgresql+psycopg2://***@postgres/airflow",
        "db+postgresql://***@postgres/airflow",
    }
    assert _props(pg)["depchain:credentials"] == ["present"]
    linked = {
        d.source
        for d in graph.dependencies()
        if d.target == pg.id and d.mechanism == "connection-url"
    }
    assert linked == {s.id for s in airflow.values()}
    redis = graph.node(graph.canonical("service:redis:redis:6379"))
    assert _props(redis)["depchain:credentials"] == ["absent"]

    # merged anchors keep their depends_on
    depends = {
        (graph.node(d.source).name, graph.node(d.target).name)
        for d in graph.dependencies()
        if d.mechanism == "depends-on"
    }
    assert ("airflow-worker", "postgres") in depends and ("flower", "airflow-init") in depends


# -- small files ----------------------------------------------------------------------


def test_interpolation() -> None:
    assert interpolate("${TAG:-1.2}") == ("1.2", True)
    assert interpolate("${TAG-1.2}") == ("1.2", True)
    assert interpolate("app:${A:-${B:-3}}") == ("app:3", True)
    assert interpolate("${A:+x}y") == ("y", True)
    assert interpolate("${A}") == ("${A}", False)
    assert interpolate("$A/b") == ("$A/b", False)
    assert interpolate("${A:?set it}") == ("${A}", False)  # the message is no value
    assert interpolate("a$$b") == ("a$b", True)
    assert interpolate("${A:-x") == ("${A:-x", False)
    deep = "${A:-" * 50 + "x" + "}" * 50
    assert interpolate(deep)[1] is False  # bounded nesting


def test_extends_same_file_other_file_cycles_and_bounds(tmp_path: Path) -> None:
    (tmp_path / "common.yml").write_text(
        "services:\n"
        "  app:\n"
        "    image: python:3.12-slim\n"
        "    environment:\n"
        "      CACHE_URL: redis://cache:6379/0\n"
        "    ports: ['8000']\n"
    )
    (tmp_path.parent / "outside.yml").write_text("services:\n  x:\n    image: evil:1\n")
    path = tmp_path / "compose.yaml"
    path.write_text(
        "services:\n"
        "  cache:\n"
        "    image: redis:7\n"
        "  web:\n"
        "    extends:\n"
        "      file: common.yml\n"
        "      service: app\n"
        "    environment:\n"
        "      - EXTRA=1\n"
        "  worker:\n"
        "    extends: web\n"
        "    image: python:3.13-slim\n"
        "  a:\n"
        "    extends: b\n"
        "  b:\n"
        "    extends: a\n"
        "    image: busybox:1\n"
        "  escape:\n"
        "    extends: {file: ../outside.yml, service: x}\n"
        "  missing:\n"
        "    extends: {service: nowhere}\n"
    )
    fragment = _resolve(path)
    graph = _graph(fragment)
    services = _compose_services(graph)
    assert services["web"].image == "python:3.12-slim"
    assert "tcp://web:8000" in services["web"].endpoints
    assert services["worker"].image == "python:3.13-slim"
    url_edges = {
        (d.source, d.target) for d in graph.dependencies() if d.mechanism == "connection-url"
    }
    assert ("service:compose:web", "service:redis:cache:6379") in url_edges
    assert ("service:compose:worker", "service:redis:cache:6379") in url_edges
    assert graph.node(graph.canonical("service:redis:cache:6379")).trust_boundary is False  # type: ignore[union-attr]
    messages = sorted(e.message for e in fragment.errors)
    assert any("extends forms a cycle" in m for m in messages)
    assert any("outside the scanned tree" in m for m in messages)
    assert any("'nowhere', which is not defined" in m for m in messages)
    assert all(m.startswith("line ") and "\n" not in m for m in messages)
    assert "evil" not in repr(fragment)


def test_extends_chain_is_bounded(tmp_path: Path) -> None:
    lines = ["services:"]
    for i in range(30):
        lines += [f"  s{i}:", f"    extends: s{i + 1}"]
    lines += ["  s30:", "    image: busybox:1"]
    path = tmp_path / "compose.yaml"
    path.write_text("\n".join(lines) + "\n")
    fragment = _resolve(path)
    assert any("deeper than" in e.message for e in fragment.errors)
    assert len(_compose_services(_graph(fragment))) == 31


def test_env_file_inside_the_tree_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "env").mkdir(parents=True)
    (project / "env" / "app.env").write_text(
        "# app\nDATABASE_URL=postgresql://app:ENVSECRET@db:5432/app\n"
    )
    (tmp_path / "outside.env").write_text("X=postgresql://a:b@far.example.com/x\n")
    (project / "docker-compose.yml").write_text(
        "services:\n"
        "  db:\n"
        "    image: postgres:16\n"
        "  app:\n"
        "    image: example/app:1.0\n"
        "    env_file:\n"
        "      - env/app.env\n"
        "      - ../outside.env\n"
        "      - path: env/optional.env\n"
        "        required: false\n"
    )
    result = depchain.scan(project)
    assert not result.errors, result.errors
    graph = result.graph
    pg = graph.node(graph.canonical("service:postgresql:db:5432"))
    # read as the service's env_file, and on its own as a .env file
    assert set(pg.evidence) >= {
        Evidence("env/app.env", 2, "compose"),
        Evidence("env/app.env", 2, "config-urls"),
    }
    assert pg.trust_boundary is False  # type: ignore[union-attr]
    assert {d.source for d in graph.dependents(pg.id)} == {"service:compose:app", result.subject}
    assert "service:postgresql:far.example.com:5432" not in graph
    assert [m for _, m in result.notes] == [
        "line 8: env_file ../outside.env is outside the scanned tree; not read"
    ]
    assert "ENVSECRET" not in json_report.render(result)


def test_ids_are_unique_per_folder_and_shared_by_override_files(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "compose.yaml").write_text(
            "services:\n  db:\n    image: postgres:16\n"
        )
    (tmp_path / "a" / "compose.prod.yaml").write_text(
        "services:\n  db:\n    ports: ['5432:5432']\n"
    )
    # compose.override.yaml is the local developer's (role dev): it adds no service
    (tmp_path / "b" / "compose.override.yaml").write_text(
        "services:\n  mailpit:\n    image: axllent/mailpit\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    ids = {s.id for s in result.graph.services()}
    assert ids == {"service:compose:a/db", "service:compose:b/db"}
    db = result.graph.node(result.graph.canonical("service:compose:a/db"))
    assert "tcp://db:5432" in db.endpoints  # type: ignore[union-attr]
    assert len(db.evidence) == 2


def test_ports_long_syntax_unresolved_image_and_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "compose.yml"
    path.write_text(
        "services:\n"
        "  api:\n"
        "    image: ${REGISTRY}/api:${TAG}\n"
        "    ports:\n"
        "      - target: 8080\n"
        "        published: 80\n"
        "        protocol: tcp\n"
        "      - 127.0.0.1:9000-9001:9000-9001\n"
        "      - 53:53/udp\n"
        "    depends_on: [db, ghost]\n"
        "  db:\n"
        "    image: postgres@sha256:" + "a" * 64 + "\n"
        "  odd: [not, a, mapping]\n"
        "  pinned:\n"
        "    image: ${PINNED_IMAGE-postgres:16.4}\n"
    )
    fragment = _resolve(path)
    graph = _graph(fragment)
    services = _compose_services(graph)
    api = services["api"]
    assert api.image == "${REGISTRY}/api:${TAG}"
    assert _props(api)["depchain:image-unresolved"] == ["${REGISTRY}/api:${TAG}"]
    assert set(api.endpoints) == {"tcp://api:8080", "tcp://api:9000-9001", "udp://api:53"}
    assert "pkg:docker/library/postgres@16.4" in graph
    digest = next(c for c in graph.components() if c.name == "postgres" and c.version is None)
    assert _props(digest)["depchain:image-digest"] == ["sha256:" + "a" * 64]
    assert not any(c.name.endswith("api") for c in graph.components())  # nothing to name
    messages = sorted(e.message for e in fragment.errors)
    assert messages == [
        "line 10: service 'api' depends on 'ghost', which is not defined",
        "line 13: service 'odd' is not a mapping",
    ]


def test_no_services_and_wrong_shapes(tmp_path: Path) -> None:
    path = tmp_path / "compose.yml"
    path.write_text("volumes:\n  data:\n")
    assert _resolve(path).services == ()
    path.write_text("- a\n- b\n")
    with pytest.raises(InputFileError, match="not a mapping"):
        _resolve(path)
    path.write_text("services: [a, b]\n")
    with pytest.raises(InputFileError, match="not a mapping"):
        _resolve(path)


# -- bad input: one error naming the file, the scan goes on ---------------------------

_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    + "services:\n  x:\n    image: *i\n"
)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("docker-compose.yml", _BOMB.encode(), "billion-laughs"),
        (
            "docker-compose.yml",
            b"services:\n  db:\n    image: postgres:16\n  db:\n    image: redis:7\n",
            "duplicate key 'db' (lines 2 and 4)",
        ),
        ("compose.yaml", b"services:\n  db:\n    image: caf\xe9\n", "not valid UTF-8 (line 3"),
        ("deploy/app.yaml", _BOMB.replace("services", "kind").encode(), "billion-laughs"),
        ("config.yaml", b"url: a\nurl: b\n", "duplicate key 'url'"),
        (".env", b"A=postgresql://u:SECRET\xff@h/db\n", "not valid UTF-8 (line 1"),
    ],
)
def test_bad_input_is_one_error_and_the_scan_goes_on(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\nattrs==23.2.0\n")
    result = depchain.scan(tmp_path)
    assert {"six", "attrs"} <= {c.name for c in result.graph.components()}
    errors = [e for e in result.errors if e.path == name]
    assert len(errors) == 1, result.errors
    assert expected in errors[0].message and "\n" not in errors[0].message
    assert "SECRET" not in errors[0].message


def test_huge_compose_file_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "docker-compose.yml"
    with open(huge, "wb") as handle:  # sparse: 40 MB on paper
        handle.truncate(40 * 1024 * 1024)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    assert "six" in {c.name for c in result.graph.components()}
    (error,) = result.errors
    assert error.path == "docker-compose.yml"
    assert error.message == "file is too large (40.0 MiB; the limit is 32.0 MiB)"


def test_an_image_that_is_no_reference_is_an_error_on_its_line(tmp_path: Path) -> None:
    """Found in review: an image field holding markup and a bidirectional override was
    dropped without a word; a variable left unresolved stays quiet (its repository may
    still be read), and the rest of the file is read."""
    path = tmp_path / "compose.yaml"
    path.write_text(
        "services:\n"
        "  web:\n"
        '    image: "evil</script>\\u202eimage:1"\n'
        "  api:\n"
        '    image: "${REGISTRY}/api:1"\n'
        "  db:\n"
        "    image: postgres:16\n"
    )
    fragment = _resolve(path)
    (error,) = fragment.errors
    assert error.path == "compose.yaml"
    assert error.message == (
        "line 3: service 'web': image 'evil</script>\\u202eimage:1' is not an image reference"
    )
    assert "\u202e" not in error.message and "\\\\" not in error.message  # escaped once
    assert any(c.name == "postgres" for c in fragment.components)
