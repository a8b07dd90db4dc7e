"""Regressions from reviewing the deployment side on real repositories
(opentelemetry-demo, plausible/community-edition, mattermost/docker,
GoogleCloudPlatform/microservices-demo, ripgrep): each test is the smallest file that
showed the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from depchain.errors import InputFileError
from depchain.graph import DependencyGraph
from depchain.ids import generic_component
from depchain.model import Evidence, Fragment, Service
from depchain.resolvers import cargolock, compose, configurls, kubernetes
from depchain.resolvers.base import ResolveContext
from depchain.services import merge_deployment_endpoints
from depchain.trust.rules import find_gaps


def _ctx(root: Path) -> ResolveContext:
    subject = generic_component("project", Evidence(".", None, "test"))
    return ResolveContext(root=root, subject_for=lambda _: subject)


def _graph(*fragments: Fragment) -> DependencyGraph:
    graph = DependencyGraph()
    for fragment in fragments:
        graph.add_fragment(fragment)  # raises when an edge end is in no fragment
    return graph


def _compose(root: Path, *paths: Path) -> tuple[list[Fragment], DependencyGraph]:
    """Each compose file read on its own, as a scan does, and the graph they make."""
    ctx = _ctx(root)
    fragments = [compose.resolve(p, ctx) for p in paths]
    return fragments, _graph(*fragments)


def test_compose_overlay_depends_on_a_service_of_the_base_file(tmp_path: Path) -> None:
    """opentelemetry-demo's compose.agent.yaml is applied on top of compose.yaml
    (``-f compose.yaml -f compose.agent.yaml``): its depends_on named services of the
    base file and each was an error 'which is not defined'."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  otel-collector:\n    image: otel/collector:1\n"
    )
    (tmp_path / "compose.agent.yaml").write_text(
        "services:\n  agent:\n    image: agent:1\n    depends_on:\n"
        "      otel-collector:\n        condition: service_started\n      nowhere: {}\n"
    )
    (agent, _), graph = _compose(
        tmp_path, tmp_path / "compose.agent.yaml", tmp_path / "compose.yaml"
    )
    assert [e.message for e in agent.errors] == [
        "line 7: service 'agent' depends on 'nowhere', which is not defined"
    ]
    edges = graph.dependencies_of("service:compose:agent")
    assert [(d.target, d.mechanism) for d in edges] == [
        ("service:compose:otel-collector", "depends-on")
    ]
    collector = graph.node("service:compose:otel-collector")
    assert isinstance(collector, Service)
    assert collector.image == "otel/collector:1"
    assert collector.trust_boundary is False


def test_compose_override_in_a_subfolder_is_the_service_of_the_base(tmp_path: Path) -> None:
    """plausible's reverse-proxy/docker-compose.caddy-gen.yml adds labels to the
    root's ``plausible`` (``-f docker-compose.yml -f reverse-proxy/...``): it was a
    second service 'plausible (compose reverse-proxy/)' without an image."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  plausible:\n    image: plausible/analytics:v2.0\n"
    )
    proxy = tmp_path / "reverse-proxy"
    proxy.mkdir()
    (proxy / "docker-compose.caddy-gen.yml").write_text(
        "services:\n  caddy-gen:\n    image: caddy-gen:1\n    depends_on:\n      - plausible\n"
        "  plausible:\n    labels:\n      virtual.host: example.com\n"
    )
    (overlay, _), graph = _compose(
        tmp_path, proxy / "docker-compose.caddy-gen.yml", tmp_path / "docker-compose.yml"
    )
    assert not overlay.errors
    ids = sorted(s.id for s in graph.services())
    assert ids == ["service:compose:plausible", "service:compose:reverse-proxy/caddy-gen"]
    edges = graph.dependencies_of("service:compose:reverse-proxy/caddy-gen")
    assert [d.target for d in edges] == ["service:compose:plausible"]
    plausible = graph.node("service:compose:plausible")
    assert isinstance(plausible, Service) and plausible.image == "plausible/analytics:v2.0"


def test_compose_service_without_image_and_no_base_stays_its_own(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  lonely:\n    command: x\n")
    fragment = compose.resolve(tmp_path / "compose.yaml", _ctx(tmp_path))
    assert [s.id for s in fragment.services] == ["service:compose:lonely"]


def test_cargo_workspace_whose_member_is_dot(tmp_path: Path) -> None:
    """ripgrep's fuzz/Cargo.toml says ``[workspace] members = ["."]``: the scan of
    fuzz/Cargo.lock crashed (IndexError from Path.glob(".")), 'please report this
    input'."""
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "fuzz"\nversion = "0.0.1"\n\n[dependencies]\nmemchr = "2"\n\n'
        '[workspace]\nmembers = ["."]\n'
    )
    (tmp_path / "Cargo.lock").write_text(
        "version = 4\n\n"
        '[[package]]\nname = "fuzz"\nversion = "0.0.1"\ndependencies = ["memchr"]\n\n'
        '[[package]]\nname = "memchr"\nversion = "2.7.1"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        'checksum = "523dc4f511e55ab87b694dc30d0f820d60906ef06413f93d4d7a1385599cc149"\n'
    )
    fragment = cargolock.resolve(tmp_path / "Cargo.lock", _ctx(tmp_path))
    assert not fragment.errors
    assert "pkg:cargo/memchr@2.7.1" in {c.id for c in fragment.components}


def test_dotenv_values_use_the_entries_above(tmp_path: Path) -> None:
    """opentelemetry-demo's .env: ``EMAIL_ADDR=http://email:${EMAIL_PORT}`` was a
    service 'HTTP at email:80' (the port variable dropped, the scheme's default put in
    its place, the host called unresolved), not the compose service ``email``."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  email:\n    image: email:1\n  collector:\n    image: c:1\n"
    )
    (tmp_path / ".env").write_text(
        "EMAIL_PORT=6060\nEMAIL_ADDR=http://email:${EMAIL_PORT}\n"
        "OTEL_HOST=collector\nOTEL_PORT=4317\nOTLP=http://${OTEL_HOST}:${OTEL_PORT}\n"
        "QUOTE=http://quote:${QUOTE_PORT}\n"
    )
    ctx = _ctx(tmp_path)
    env = configurls.resolve(tmp_path / ".env", ctx)
    assert sorted(s.id for s in env.services) == [
        "service:http:collector:4317",
        "service:http:email:6060",
        "service:http:quote",
    ]
    quote = next(s for s in env.services if s.id == "service:http:quote")
    assert quote.endpoints == ("http://quote:${QUOTE_PORT}",)  # the port is not 80
    assert "depchain:host-unresolved" not in dict(quote.properties)
    graph = _graph(env, compose.resolve(tmp_path / "compose.yaml", ctx))
    merge_deployment_endpoints(graph)
    ids = sorted(s.id for s in graph.services())
    assert ids == ["service:compose:collector", "service:compose:email", "service:http:quote"]
    assert all(s.trust_boundary is False for s in graph.services() if "compose" in s.id)


def test_dotenv_secrets_are_not_written_into_a_url(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "HOOK_TOKEN=abcdefgh\nPASSWORD=hunter2\nHOST=hooks.example.com\n"
        "HOOK=https://${HOST}/hook/${HOOK_TOKEN}\n"
        "DB=postgres://app:${PASSWORD}@db.example.com/app\n"
        "PLAIN=https://u:pw123@api.example.com/v1?token=zzz&region=eu\n"
    )
    env = configurls.resolve(tmp_path / ".env", _ctx(tmp_path))
    text = repr(env)
    for secret in ("abcdefgh", "hunter2", "pw123", "zzz"):
        assert secret not in text
    hook = next(s for s in env.services if s.id == "service:http:hooks.example.com:443")
    assert hook.endpoints == ("https://hooks.example.com/hook/${HOOK_TOKEN}",)


def test_opentelemetry_collector_env_provider_in_a_url(tmp_path: Path) -> None:
    """opentelemetry-demo's src/jaeger/config.yml: ``http://${env:HOST}:${env:PORT}``
    was an error 'its port is malformed (a password without an '@'?)'."""
    (tmp_path / "config.yml").write_text(
        "exporter:\n  endpoint: http://${env:OTEL_HOST}:${env:OTEL_PORT}\n"
        "prometheus:\n  endpoint: 'http://${env:PROMETHEUS_ADDR}'\n"
        "spring:\n  url: jdbc:postgresql://${DB_HOST:localhost}:${DB_PORT:5432}/app\n"
    )
    fragment = configurls.resolve(tmp_path / "config.yml", _ctx(tmp_path))
    assert not fragment.errors
    assert sorted(s.id for s in fragment.services) == [
        "service:http:${OTEL_HOST}",
        "service:http:${PROMETHEUS_ADDR}:80",
        "service:postgresql:${DB_HOST}",
    ]
    assert all(s.trust_boundary is None for s in fragment.services)


def test_an_image_tag_left_as_a_variable_is_not_called_latest(tmp_path: Path) -> None:
    """mattermost/docker: ``image: postgres:${POSTGRES_IMAGE_TAG}`` (the tag is set in
    env.example) was reported as 'image postgres:latest is not pinned by digest'."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: postgres:${POSTGRES_IMAGE_TAG}\n  web:\n    image: nginx\n"
    )
    graph = _graph(compose.resolve(tmp_path / "compose.yaml", _ctx(tmp_path)))
    messages = sorted(f.message for f in find_gaps(graph) if f.id == "DC010")
    assert messages == [
        "image nginx:latest is not pinned by digest",
        "image postgres:${POSTGRES_IMAGE_TAG} is not pinned by digest",
    ]


def test_an_image_skaffold_builds_is_no_docker_hub_image(tmp_path: Path) -> None:
    """microservices-demo's kubernetes-manifests name ``image: adservice``, which its
    skaffold.yaml builds from src/adservice: it was pkg:docker/library/adservice,
    supplied by Docker Hub's official 'library', with a DC010 gap."""
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v3\nkind: Config\nbuild:\n  artifacts:\n"
        "  - image: adservice\n    context: src/adservice\n"
        "---\napiVersion: skaffold/v3\nkind: Config\nprofiles:\n- name: x\n  build:\n"
        "    artifacts:\n    - image: loadgenerator\n"
    )
    manifests = tmp_path / "kubernetes-manifests"
    manifests.mkdir()
    containers = [("a", "adservice"), ("b", "loadgenerator:v1"), ("c", "redis:7")]
    listed = "".join(f"      - name: {n}\n        image: {i}\n" for n, i in containers)
    (manifests / "ad.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ad\nspec:\n  template:\n"
        f"    spec:\n      containers:\n{listed}"
    )
    fragment = kubernetes.resolve(manifests / "ad.yaml", _ctx(tmp_path))
    images = sorted(c.id for c in fragment.components if c.ecosystem == "docker")
    assert images == ["pkg:docker/library/redis@7"]


# -- second round: appwrite, grafana/loki, zero-to-jupyterhub-k8s, temporalio/docker-compose


def test_compose_depends_on_entry_is_interpolated(tmp_path: Path) -> None:
    """appwrite's docker-compose.yml lists ``- ${_APP_DB_HOST:-postgresql}`` under
    depends_on: 21 errors 'depends on '${_APP_DB_HOST:-postgresql}', which is not
    defined'. Compose interpolates the entry (from .env, else the default)."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  app:\n    image: app:1\n    depends_on:\n"
        "      - ${DB_HOST:-postgresql}\n      - ${CACHE_HOST}\n      - ${QUEUE}\n"
        "  postgresql:\n    image: postgres:16\n"
        "  mariadb:\n    image: mariadb:11\n"
    )
    (tmp_path / ".env").write_text("CACHE_HOST=mariadb\n")
    (fragment,) = _compose(tmp_path, tmp_path / "docker-compose.yml")[0]
    assert fragment.errors == ()
    assert [n for _, n in fragment.notes] == [
        "line 7: service 'app' depends on '${QUEUE}', a variable without a value; "
        "the service it names is not known"
    ]
    edges = {
        (d.target, d.evidence[0].line) for d in fragment.dependencies if d.mechanism == "depends-on"
    }
    assert edges == {("service:compose:postgresql", 5), ("service:compose:mariadb", 6)}


def test_dockerfile_arg_default_names_an_earlier_arg(tmp_path: Path) -> None:
    """grafana/loki's clients/cmd/docker-driver/Dockerfile: ``ARG GO_VERSION=1.26``,
    ``ARG BUILD_IMAGE=golang:${GO_VERSION}``, ``FROM $BUILD_IMAGE``. The second default
    was taken as written: an error 'malformed tag '${GO_VERSION}'' and no base image."""
    import depchain

    (tmp_path / "Dockerfile").write_text(
        "ARG GO_VERSION=1.26\nARG BUILD_IMAGE=golang:${GO_VERSION}\n"
        "ARG OTHER=alpine:${NOWHERE}\n"
        "FROM $BUILD_IMAGE AS build\nARG BUILD_IMAGE\nFROM $OTHER\n"
    )
    result = depchain.scan(tmp_path / "Dockerfile")
    assert result.errors == []
    assert result.notes == [
        (
            "Dockerfile",
            "line 6: FROM $OTHER names build argument NOWHERE without a default; "
            "the base image is not known",
        )
    ]
    assert "pkg:docker/library/golang@1.26" in {c.id for c in result.graph.components()}


def test_dockerfile_pip_no_index_find_links_is_the_only_source(tmp_path: Path) -> None:
    """zero-to-jupyterhub-k8s's images/hub/Dockerfile: ``pip install --no-index
    --find-links=/tmp/wheels/ py-spy`` was a high DC003 'may be served by /tmp/wheels/
    as well as by the default index'; with --no-index there is no default index."""
    import depchain

    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\n"
        "RUN pip install --no-index --find-links=/tmp/wheels/ \\\n"
        "        --extra-index-url https://example.org/simple py-spy\n"
        "RUN pip install --find-links=/tmp/other/ pyyaml\n"
    )
    result = depchain.scan(tmp_path / "Dockerfile")
    gaps = [f for f in find_gaps(result.graph) if f.id == "DC003"]
    assert [(f.message, f.evidence[0].line) for f in gaps] == [
        (
            "1 requirement(s) from Dockerfile may be served by /tmp/other/ as well as by "
            "the default index",
            4,
        )
    ]
    spy = next(d for d in result.graph.dependencies() if d.target.startswith("pkg:pypi/py-spy"))
    assert [(i.role, i.url) for i in spy.indexes] == [("primary", "/tmp/wheels/")]


def test_kubernetes_documents_of_unread_kinds_are_not_built(tmp_path: Path) -> None:
    """argo-cd's manifests/install.yaml is 2 MB, most of it CustomResourceDefinition
    schemas that nothing is read from: building them into objects was 80% of the scan
    (6.3 s, now 2.7 s). They are skipped before parsing; every other document keeps
    its lines, and a template's document is still parsed (and said to be one)."""
    from depchain import yamlsafe

    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: a\n  name: b\nspec:\n  x: &a [1, 2]\n  y: *a\n"
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: web\n"
        "          image: nginx:1.27\n"
    )
    text = crd + "---\n" + crd.replace("\n", "\r\n") + "--- # a comment\n" + deployment
    docs = yamlsafe.load_all(text, "install.yaml", skip_kind=kubernetes._unread)
    assert [d["kind"] for d in docs] == [
        "CustomResourceDefinition",
        "CustomResourceDefinition",
        "Deployment",
    ]
    assert docs[0] == {"apiVersion": "depchain.skipped", "kind": "CustomResourceDefinition"}
    assert docs[2] == yamlsafe.load(deployment, "d.yaml")
    (tmp_path / "install.yaml").write_text(text)
    fragment = kubernetes.resolve(tmp_path / "install.yaml", _ctx(tmp_path))
    assert fragment.errors == ()
    (nginx,) = [c for c in fragment.components if c.id.startswith("pkg:docker/")]
    assert nginx.evidence[0].line == text.count("\n")  # the image's line, the last
    # an error after skipped documents names its own line
    broken = text + "---\n" + deployment.replace("name: web\n", "name: web\n  name: x\n", 1)
    with pytest.raises(InputFileError, match=r"lines 33 and 34"):
        yamlsafe.load_all(broken, "install.yaml", skip_kind=kubernetes._unread)
    assert broken.splitlines()[32:34] == ["  name: web", "  name: x"]
    # the duplicate key is still an error where the document is read
    with pytest.raises(InputFileError, match=r"duplicate key 'name' \(lines 4 and 5\)"):
        yamlsafe.load_all(crd.replace("CustomResourceDefinition", "Service"), "s.yaml")
    helm = "{{- if .Values.crds }}\n" + crd + "{{- end }}\n"
    (tmp_path / "crd.yaml").write_text(helm)
    notes = kubernetes.resolve(tmp_path / "crd.yaml", _ctx(tmp_path)).notes
    assert [n for _, n in notes] == [
        "seen, not analysed: a Helm template ({{ ... }}), not YAML until it is rendered "
        "(scan the output of `helm template` instead)"
    ]


def test_addresses_browsers_use_are_no_services(tmp_path: Path) -> None:
    """temporalio/docker-compose's ``TEMPORAL_CORS_ORIGINS=http://localhost:3000`` (the
    origin the UI's browsers come from) was a service 'HTTP at localhost:3000', and
    grafana/loki's operator/website/config.toml ``baseURL = "https://loki-operator.dev/"``
    (Hugo's own address) a service across a trust boundary."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  ui:\n    image: temporalio/ui:2\n    environment:\n"
        "      - TEMPORAL_CORS_ORIGINS=http://localhost:3000\n"
        "      - OAUTH_REDIRECT_URI=https://ui.example.com/callback\n"
        "      - TEMPORAL_ADDRESS=http://temporal:7233\n"
    )
    (tmp_path / "config.toml").write_text(
        'baseURL = "https://loki-operator.dev/"\napi_base_url = "https://api.example.com/"\n'
    )
    (tmp_path / ".env").write_text(
        "ALLOWED_ORIGIN=https://app.example.com\nCDN_ORIGIN=https://origin.example.com\n"
    )
    ctx = _ctx(tmp_path)
    found = {
        s.name
        for path in ("docker-compose.yml",)
        for s in compose.resolve(tmp_path / path, ctx).services
    } | {
        s.name
        for path in ("config.toml", ".env")
        for s in configurls.resolve(tmp_path / path, ctx).services
    }
    assert found == {
        "ui",
        "HTTP at temporal:7233",
        "HTTPS at api.example.com:443",
        "HTTPS at origin.example.com:443",
    }
