"""Kubernetes manifests. The real-world data set holds none, so these are small,
realistic multi-document manifests written for the test."""

from __future__ import annotations

import base64
from pathlib import Path

import depchain
from depchain.export import cyclonedx, json_report
from depchain.ids import generic_component
from depchain.model import DependencyKind, Evidence, Fragment, Scope, Service
from depchain.resolvers import kubernetes
from depchain.resolvers.base import ResolveContext
from depchain.services import link_client_libraries

DIGEST = "sha256:" + "0123456789abcdef" * 4

MANIFEST = f"""\
# the shop: web, cache, a nightly job, its configuration
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/example/shop-migrations:1.4.2
      containers:
        - name: web
          image: ghcr.io/example/shop@{DIGEST}
          ports:
            - containerPort: 8000
          env:
            - name: CACHE_URL
              value: redis://cache.shop.svc.cluster.local:6379/0
            - name: PAYMENTS_API
              value: "https://api.payments.example.com/v2?api_key=K8STOKEN123"
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {{name: db, key: password}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: 8000
---
apiVersion: v1
kind: Service
metadata:
  name: cache
  namespace: shop
spec:
  selector:
    app: cache
  ports:
    - port: 6379
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cache
  namespace: shop
spec:
  serviceName: cache
  selector:
    matchLabels: {{app: cache}}
  template:
    metadata:
      labels: {{app: cache}}
    spec:
      containers:
        - name: redis
          image: redis:7.2-alpine
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
  namespace: shop
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: python:3.12-slim
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  namespace: shop
data:
  DATABASE_URL: postgresql://shop:K8SSECRET@db.prod.example.com:5432/shop?sslmode=verify-full
  LOG_LEVEL: info
"""


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _resolve(path: Path) -> Fragment:
    subject = generic_component("project", Evidence(".", None, "test"))
    return kubernetes.resolve(path, ResolveContext(root=path.parent, subject_for=lambda _: subject))


def test_workloads_services_and_configuration(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    manifest = tmp_path / "deploy" / "shop.yaml"
    manifest.write_text(MANIFEST)
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    assert [(i.path, i.resolver, i.role.value) for i in result.inputs] == [
        ("deploy/shop.yaml", "kubernetes", "runtime")
    ]
    graph = result.graph

    # every image of every workload kind, init containers included
    images = {c.id: c for c in graph.components() if c.ecosystem == "docker"}
    assert set(images) == {
        "pkg:docker/example/shop-migrations@1.4.2?repository_url=ghcr.io",
        f"pkg:docker/example/shop?digest={DIGEST}&repository_url=ghcr.io",
        "pkg:docker/library/redis@7.2-alpine",
        "pkg:docker/library/python@3.12-slim",  # the CronJob's job template
    }
    edges = [d for d in graph.dependencies() if d.mechanism == "container-image"]
    assert len(edges) == 4
    assert all(d.kind is DependencyKind.DYNAMIC and d.source == result.subject for d in edges)
    python = images["pkg:docker/library/python@3.12-slim"]
    assert python.evidence[0].line == _line(MANIFEST, "image: python:3.12-slim")
    shop = images[f"pkg:docker/example/shop?digest={DIGEST}&repository_url=ghcr.io"]
    assert dict(shop.properties)["depchain:image-digest"] == DIGEST

    # Service objects: inside the deployment, their endpoints and the image behind them
    web = graph.node(graph.canonical("service:k8s:shop/web"))
    assert isinstance(web, Service)
    assert "tcp://web.shop:80" in web.endpoints
    assert web.trust_boundary is False
    assert web.image == f"ghcr.io/example/shop@{DIGEST}"  # not the init container's
    assert ("depchain:k8s-service-type", "LoadBalancer") in web.properties
    assert web.evidence[0].line == 37  # ``name: web`` of the Service document
    link = next(d for d in graph.dependents(web.id) if d.mechanism == "kubernetes")
    assert (link.source, link.kind, link.scope) == (
        result.subject,
        DependencyKind.SERVICE,
        Scope.REQUIRED,
    )

    # URLs in env and in the ConfigMap
    db = graph.node(graph.canonical("service:postgresql:db.prod.example.com:5432"))
    assert isinstance(db, Service)
    assert db.trust_boundary is True
    assert db.evidence[0].line == _line(MANIFEST, "DATABASE_URL:")
    props = dict(db.properties)
    assert (props["depchain:tls"], props["depchain:credentials"]) == ("true", "present")
    payments = graph.node(graph.canonical("service:http:api.payments.example.com:443"))
    assert "https://api.payments.example.com/v2" in payments.endpoints  # type: ignore[union-attr]
    assert dict(payments.properties)["depchain:authentication"] == "token"
    cache_url = graph.node(graph.canonical("service:redis:cache.shop.svc.cluster.local:6379"))
    assert cache_url.trust_boundary is False  # type: ignore[union-attr]  # this cluster's

    # secrets reach no output
    out = json_report.render(result) + cyclonedx.render(result) + repr(graph.services())
    assert "K8SSECRET" not in out and "K8STOKEN123" not in out

    # once merged, the URL names the Service it reaches
    link_client_libraries(graph, result.subject)
    assert "service:redis:cache.shop.svc.cluster.local:6379" not in graph
    cache = graph.node(graph.canonical("service:k8s:shop/cache"))
    assert "redis://cache.shop.svc.cluster.local:6379/0" in cache.endpoints  # type: ignore[union-attr]
    assert cache.image == "redis:7.2-alpine"  # type: ignore[union-attr]


def test_secret_values_are_read_and_never_kept(tmp_path: Path) -> None:
    url = "mongodb+srv://app:MONGOSECRET@cluster0.example.mongodb.net/app"
    encoded = base64.b64encode(url.encode()).decode()
    path = tmp_path / "secret.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
        f"data:\n  MONGO_URL: {encoded}\n  BAD: '!!!notbase64'\n"
        "stringData:\n  AMQP_URL: amqp://guest:AMQPSECRET@rabbit:5672/\n"
    )
    fragment = _resolve(path)
    ids = {s.id for s in fragment.services}
    assert ids == {"service:mongodb:cluster0.example.mongodb.net", "service:amqp:rabbit:5672"}
    mongo = next(s for s in fragment.services if s.id.startswith("service:mongodb"))
    assert dict(mongo.properties)["depchain:tls"] == "true"
    assert mongo.evidence[0].line == 5
    assert "MONGOSECRET" not in repr(fragment) and "AMQPSECRET" not in repr(fragment)
    assert encoded not in repr(fragment)


def test_a_list_of_objects_and_a_pod(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: debug}\n"
        "    spec:\n      containers:\n        - name: shell\n          image: busybox:1.36\n"
        "      ephemeralContainers:\n        - name: dbg\n          image: nicolaka/netshoot\n"
    )
    fragment = _resolve(path)
    assert {c.id for c in fragment.components if c.ecosystem == "docker"} == {
        "pkg:docker/library/busybox@1.36",
        "pkg:docker/nicolaka/netshoot",
    }


def test_yaml_that_is_no_manifest_gives_nothing(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "values.yaml").write_text(
        "image:\n  repository: example/app\n  tag: 1.0\nreplicas: 2\n"
    )
    (tmp_path / "deploy" / "settings.yaml").write_text(
        "database:\n  url: postgresql://app:CFGSECRET@db.example.com/app\n"
    )
    (tmp_path / "deploy" / "empty.yaml").write_text("")
    assert _resolve(tmp_path / "deploy" / "values.yaml") == Fragment()
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    # a configuration file in a deploy folder is still read for connection URLs
    assert [s.id for s in result.graph.services()] == ["service:postgresql:db.example.com:5432"]
    assert "CFGSECRET" not in json_report.render(result)


def test_a_helm_template_is_one_note_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    path = tmp_path / "templates" / "deployment.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - image: {{ .Values.image }}:{{ .Values.tag }}\n"
        "          env:\n{{- toYaml .Values.env | nindent 12 }}\n"
    )
    fragment = _resolve(path)
    ((where, note),) = fragment.notes
    assert "Helm template" in note and "\n" not in note and where.endswith("deployment.yaml")
    result = depchain.scan(tmp_path)
    assert not result.errors  # a known format not read is no failure to read (exit 3)
    assert dict(result.notes)["templates/deployment.yaml"].startswith("seen, not analysed")


def test_prose_and_example_blocks_are_not_services(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
        "  _example: |\n    # see http://logging.example.com/x for the format\n"
        "  logo: '<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>'\n"
        "  help: Read https://docs.example.org/setup before you start\n"
        "  backend: http://api.example.net:8080/v1\n"
    )
    result = depchain.scan(tmp_path)
    hosts = {e for s in result.graph.services() for e in s.endpoints}
    assert hosts == {"http://api.example.net:8080/v1"}


def test_a_quoted_template_image_is_kept_as_unresolved(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        '    - name: a\n      image: "example/app:{{ .Values.tag }}"\n'
        "    - name: b\n      image: 42\n"
    )
    fragment = _resolve(path)
    (image,) = [c for c in fragment.components if c.ecosystem == "docker"]
    assert image.id == "pkg:docker/example/app" and image.version is None
    assert dict(image.properties)["depchain:image-unresolved"] == "example/app:{{ .Values.tag }}"
