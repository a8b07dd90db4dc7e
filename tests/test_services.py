"""The shared service helpers: URL finding, trust boundaries, and linking client
libraries to the servers they imply on the merged graph."""

from __future__ import annotations

from pathlib import Path

import pytest

import depchain
from depchain.graph import DependencyGraph
from depchain.ids import generic_component, pypi_component
from depchain.model import Dependency, DependencyKind, Evidence, Scope, Service
from depchain.services import (
    client_family,
    find_urls,
    link_client_libraries,
    scan_urls,
    trust_boundary,
    url_service,
)

EV = Evidence("requirements.txt", 1, "test")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgresql+psycopg2://u:pw@db:5432/app",
            [("postgresql", "db", 5432, "postgresql+psycopg2://***@db:5432/app")],
        ),
        ("jdbc:postgresql://db/x", [("postgresql", "db", 5432, "postgresql://db/x")]),
        ("db+postgresql://u:pw@pg/app", [("postgresql", "pg", 5432, "db+postgresql://***@pg/app")]),
        (
            "mongodb://u:p@h1:27017,h2/db?replicaSet=rs&authSource=admin",
            [
                ("mongodb", "h1", 27017, "mongodb://***@h1:27017/db?replicaSet=rs"),
                ("mongodb", "h2", 27017, "mongodb://***@h2/db?replicaSet=rs"),
            ],
        ),
        ("rediss://:pw@cache.example.com", [("redis", "cache.example.com", 6379, None)]),
        ("s3://my-bucket/prefix", [("s3", "my-bucket", None, "s3://my-bucket/prefix")]),
        ("sqs://", [("sqs", "", None, "sqs://")]),
        ("http://[::1]:8080/x", [("http", "::1", 8080, "http://[::1]:8080/x")]),
        ("postgresql:///socketdb", [("postgresql", "localhost", 5432, None)]),
        ("see https://docs.example.com/page.", [("http", "docs.example.com", 443, None)]),
        ("git+https://github.com/a/b@v1", []),
        ("sqlite:///x.db and file:///etc/passwd", []),
        ("http://*.example.com http://%s/", []),
        (12345, []),
    ],
)
def test_find_urls(text: object, expected: list[tuple[str, str, int | None, str | None]]) -> None:
    found = find_urls(text)
    got = [(u.info.kind, u.host, u.port, u.endpoint) for u in found]
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    for g, e in zip(got, expected, strict=True):
        if e[3] is not None:
            assert g[3] == e[3]


def test_tls_credentials_and_authentication() -> None:
    def facts(url: str) -> tuple[bool, bool, tuple[str, ...]]:
        (found,) = find_urls(url)
        return found.tls, found.credentials, found.authentication

    assert facts("postgresql://u:p@h/db?sslmode=verify-full") == (True, True, ("password",))
    assert facts("postgresql://u@h/db?sslmode=disable") == (False, False, ("username",))
    assert facts("mongodb://h/db?tls=true") == (True, False, ("none",))
    assert facts("amqp://h?ssl=1") == (True, False, ("none",))
    assert facts("https://TOKEN@api.example.com") == (True, True, ("token",))
    assert facts("https://api.example.com/x?X-Amz-Signature=abc&X-Amz-Date=1") == (
        True,
        True,
        ("token",),
    )
    assert facts("postgresql://h/db?password=x") == (False, True, ("password",))
    assert facts("postgresql://h/db?sslcert=/c.pem&sslkey=/k.pem") == (
        False,
        False,
        ("certificate",),
    )
    assert facts("redis://:@redis:6379/0") == (False, False, ("none",))


def test_secrets_never_reach_the_endpoint() -> None:
    secrets = ["PW1secret", "TOK2secret", "SIG3secret", "k" * 30 + "99"]
    url = (
        f"https://user:{secrets[0]}@api.example.com/hooks/{secrets[3]}/x"
        f"?api_key={secrets[1]}&sig={secrets[2]}&page=2"
    )
    (found,) = find_urls(url)
    service = url_service(found, EV)
    assert service is not None
    assert found.endpoint == "https://***@api.example.com/hooks/***/x?page=2"
    for secret in secrets:
        assert secret not in repr(found) and secret not in repr(service)
    # a password that is not percent-encoded: skipped, and said without the value
    found_list, problems = scan_urls("postgresql://u:12/34@db.example.com/x")
    assert found_list == [] and len(problems) == 1 and "34" not in problems[0]


def test_trust_boundary() -> None:
    assert trust_boundary("localhost") is False
    assert trust_boundary("127.0.0.5") is False
    assert trust_boundary("::1") is False
    assert trust_boundary("db") is None
    assert trust_boundary("db", known_internal_hosts={"db"}) is False
    assert trust_boundary("10.0.0.4") is None
    assert trust_boundary("8.8.8.8") is True
    assert trust_boundary("db.example.com") is True
    assert trust_boundary("${DB_HOST}") is None


def test_client_families() -> None:
    assert client_family("psycopg2-binary") == "postgresql"
    assert client_family("Psycopg2_Binary") == "postgresql"
    assert client_family("redis") == "redis"
    assert client_family("aio-pika") == "amqp"
    assert client_family("boto3") == "aws"
    assert client_family("google-cloud-storage") == "gcp"
    assert client_family("azure-storage-blob") == "azure"
    assert client_family("confluent-kafka") == "kafka"
    assert client_family("sqlalchemy") is None
    assert client_family("requests") is None


def _graph() -> tuple[DependencyGraph, str]:
    graph = DependencyGraph()
    subject = generic_component("app", Evidence(".", None, "test"))
    graph.add_node(subject)
    for name in ("psycopg2-binary", "redis", "celery", "sqlalchemy"):
        component = pypi_component(name, "1.0", Evidence("requirements.txt", 3, "requirements"))
        graph.add_node(component)
        graph.add_dependency(
            Dependency(
                subject.id, component.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "requirement"
            )
        )
    # a transitive client: celery -> kombu
    kombu = pypi_component("kombu", "5.3", Evidence("uv.lock", 9, "uv-lock"))
    graph.add_node(kombu)
    graph.add_dependency(
        Dependency("pkg:pypi/celery@1.0", kombu.id, DependencyKind.DYNAMIC, Scope.REQUIRED, "lock")
    )
    # a build tool is no client of anything at run time
    boto = pypi_component("boto3", "1.0", EV)
    graph.add_node(boto)
    graph.add_dependency(Dependency(subject.id, boto.id, DependencyKind.BUILD, Scope.DEV, "group"))
    (url,) = find_urls("postgresql://app:SECRETPASS@db.example.com:5432/app")
    service = url_service(url, Evidence(".env", 1, "config-urls"))
    assert service is not None
    graph.add_node(service)
    graph.add_dependency(
        Dependency(subject.id, service.id, DependencyKind.SERVICE, Scope.REQUIRED, "connection-url")
    )
    return graph, subject.id


def _client_edges(graph: DependencyGraph) -> set[tuple[str, str]]:
    return {
        (d.source, d.target)
        for d in graph.dependencies(DependencyKind.SERVICE)
        if d.mechanism == "client-library"
    }


def test_link_client_libraries_concrete_generic_and_idempotent() -> None:
    graph, subject = _graph()
    link_client_libraries(graph, subject)
    first = _client_edges(graph)
    assert first == {
        ("pkg:pypi/psycopg2-binary@1.0", "service:postgresql:db.example.com:5432"),
        ("pkg:pypi/redis@1.0", "service:redis"),
        ("pkg:pypi/kombu@5.3", "service:amqp"),
    }
    generic = graph.node(graph.canonical("service:redis"))
    assert isinstance(generic, Service)
    assert generic.name == "Redis (endpoint not found)" and generic.trust_boundary is None
    edge = next(d for d in graph.dependencies_of("pkg:pypi/redis@1.0"))
    assert edge.kind is DependencyKind.SERVICE and edge.scope is Scope.REQUIRED
    assert edge.evidence == (Evidence("requirements.txt", 3, "requirements"),)
    services_before = graph.services()
    edges_before = graph.dependencies()

    link_client_libraries(graph, subject)  # idempotent
    assert _client_edges(graph) == first
    assert graph.services() == services_before
    assert graph.dependencies() == edges_before


def test_link_to_a_compose_service_by_image_and_fold_urls_into_it(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("psycopg[binary]==3.2.1\nredis==5.0.0\n")
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  db:\n"
        "    image: postgres:16\n"
        "  cache:\n"
        "    image: redis:7\n"
        "  app:\n"
        "    build: .\n"
        "    environment:\n"
        "      DATABASE_URL: postgresql://app:SECRETPASS@db:5432/app\n"
    )
    (tmp_path / ".env").write_text("CACHE_URL=redis://cache:6379/0\n")
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    graph = result.graph
    # folded into the compose service cache: inside the deployment
    assert graph.node(graph.canonical("service:redis:cache:6379")).trust_boundary is False  # type: ignore[union-attr]
    link_client_libraries(graph, result.subject)

    # the URLs named services of this deployment: one service per endpoint
    assert "service:postgresql:db:5432" not in graph
    assert "service:redis:cache:6379" not in graph
    db = graph.node(graph.canonical("service:compose:db"))
    assert isinstance(db, Service)
    assert "postgresql://***@db:5432/app" in db.endpoints and db.trust_boundary is False
    assert ("depchain:credentials", "present") in db.properties
    app_edges = {(d.target, d.mechanism) for d in graph.dependencies_of("service:compose:app")}
    assert ("service:compose:db", "connection-url") in app_edges
    cache = graph.node(graph.canonical("service:compose:cache"))
    assert cache.trust_boundary is False  # type: ignore[union-attr]
    assert (result.subject, "connection-url") in {
        (d.source, d.mechanism) for d in graph.dependents("service:compose:cache")
    }

    assert _client_edges(graph) == {
        ("pkg:pypi/psycopg@3.2.1", "service:compose:db"),
        ("pkg:pypi/redis@5.0.0", "service:compose:cache"),
    }
    link_client_libraries(graph, result.subject)
    assert len(_client_edges(graph)) == 2
    assert "SECRETPASS" not in repr(graph.services())


def test_an_unknown_subject_is_no_error() -> None:
    graph = DependencyGraph()
    link_client_libraries(graph, "pkg:generic/nothing")
    assert len(graph) == 0
