"""Kubernetes manifests: the images a cluster runs and the services it offers.

Read, in every document of a (multi-document) YAML file, also inside ``kind: List``:

- workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
  Job, CronJob, Pod): every image of ``containers``, ``initContainers`` and
  ``ephemeralContainers`` is a ``pkg:docker`` component the project runs (kind
  ``dynamic``, mechanism ``container-image``), except one that a ``skaffold.yaml`` of
  its folder or one above builds here (``build.artifacts``: the project's own);
  connection URLs in ``env`` values are services (mechanism ``connection-url``);
- ``Service`` objects: a service ``service:k8s:<namespace>/<name>`` inside the
  deployment, with endpoints ``<protocol>://<name>.<namespace>:<port>``, the image of
  the workload its selector picks (when one does), and its type; an ``ExternalName``
  service is as far away as the host it names;
- ``ConfigMap`` ``data`` and ``Secret`` ``stringData``/``data``: connection URLs, the
  credentials never kept.

A YAML file without any manifest (a Helm ``values.yaml``, any configuration in a
``deploy/`` folder) gives nothing, or, when it is named like a configuration file, is
read for connection URLs. A Helm template that is not YAML until rendered is one error.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depchain import yamlsafe
from depchain.errors import InputFileError
from depchain.images import image_component, parse_image, parse_image_or_repository
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    Scope,
    Service,
)
from depchain.redaction import redact_url
from depchain.resolvers._deployment import Deployment
from depchain.resolvers.base import ResolveContext
from depchain.resolvers.configurls import UrlCollector, is_own_address_key
from depchain.services import LineFinder, image_family, is_url_value, trust_boundary

NAME = "kubernetes"

WORKLOADS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Pod",
    }
)
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_MAX_ITEMS = 100_000
_SEPARATOR = re.compile(r"^---(?:\s|$)")


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class _Manifest:
    doc: dict[str, Any]
    start: int
    end: int
    """0-based line range of its document (the whole file when unsure)."""


@dataclass
class _Workload:
    namespace: str
    labels: dict[str, str]
    images: list[str]
    """The images of its regular containers (not its init containers)."""


@dataclass
class _State(Deployment):
    display: str
    subject: Component
    lines: LineFinder
    collector: UrlCollector
    components: dict[str, Component] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    dependencies: dict[tuple[str, str, str], Dependency] = field(default_factory=dict)
    local_images: frozenset[str] = frozenset()
    """Images a ``skaffold.yaml`` of the tree builds from this repository's sources."""

    def evidence(self, line: int | None) -> Evidence:
        return Evidence(self.display, line, NAME)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    try:
        documents = yamlsafe.load_all(text, display, skip_kind=_unread)
    except InputFileError as exc:
        if "{{" in text:
            return Fragment(
                notes=(
                    (
                        display,
                        "seen, not analysed: a Helm template ({{ ... }}), not YAML until it "
                        "is rendered (scan the output of `helm template` instead)",
                    ),
                )
            )
        raise InputFileError(display, exc.message) from None
    manifests = _manifests(documents, text)
    if not manifests:
        from depchain.resolvers import _is_config

        if _is_config(path):
            from depchain.resolvers import configurls

            return configurls.resolve(path, ctx)
        return Fragment()
    subject = ctx.subject_for(path)
    lines = LineFinder(text)
    default_namespace = _kustomize_namespace(path, ctx)
    for m in manifests:
        meta = m.doc.get("metadata")
        if default_namespace and isinstance(meta, dict) and not meta.get("namespace"):
            m.doc["metadata"] = {**meta, "namespace": default_namespace}
    known: set[str] = set()
    for m in manifests:
        if m.doc.get("kind") == "Service":
            name, namespace = _name(m.doc)
            if name:
                known.update(_hostnames(name, namespace))
    state = _State(display, subject, lines, UrlCollector(display, NAME, frozenset(known)))
    state.local_images = _skaffold_images(path, ctx)
    workloads: list[_Workload] = []
    for m in manifests:
        kind = m.doc["kind"]
        if kind in WORKLOADS:
            workloads.append(_workload(state, m))
        elif kind == "ConfigMap":
            _config_values(state, m, _dict(m.doc.get("data")))
        elif kind == "Secret":
            _config_values(state, m, _dict(m.doc.get("stringData")))
            _config_values(state, m, _dict(m.doc.get("data")), encoded=True)
    for m in manifests:
        if m.doc["kind"] == "Service":
            _service(state, m, workloads)
    return state.fragment()


_READ = WORKLOADS | {"ConfigMap", "Secret", "Service"}


def _unread(kind: str) -> bool:
    """A kind nothing is read from (``CustomResourceDefinition``, ``Role``, ...): its
    document is not built into objects (see :func:`depchain.yamlsafe.load_all`)."""
    return kind not in _READ and not kind.endswith("List")


def _manifests(documents: list[Any], text: str) -> list[_Manifest]:
    """The Kubernetes objects (``apiVersion`` and ``kind``), each with its document's
    line range; ``kind: List`` items are the list's own objects."""
    ranges = _document_ranges(text, len(documents))
    found: list[_Manifest] = []
    for doc, (start, end) in zip(documents, ranges, strict=True):
        stack: list[object] = [doc]
        while stack and len(found) < _MAX_ITEMS:
            item = stack.pop()
            if not isinstance(item, dict):
                continue
            if not (_str(item.get("apiVersion")) and _str(item.get("kind"))):
                continue
            if item["kind"].endswith("List") and isinstance(item.get("items"), list):
                stack.extend(reversed(item["items"]))
                continue
            found.append(_Manifest(item, start, end))
    return found


def _document_ranges(text: str, count: int) -> list[tuple[int, int]]:
    """Line ranges of the documents, from the ``---`` separators; the whole file for
    each when they do not line up with what the parser found."""
    lines = text.splitlines()
    cuts = [i for i, line in enumerate(lines) if _SEPARATOR.match(line)]
    bounds: list[tuple[int, int]] = []
    first_end = cuts[0] if cuts else len(lines)
    if any(line.strip() and not line.lstrip().startswith(("#", "%")) for line in lines[:first_end]):
        bounds.append((0, first_end))
    for n, cut in enumerate(cuts):
        bounds.append((cut, cuts[n + 1] if n + 1 < len(cuts) else len(lines)))
    if len(bounds) != count:
        return [(0, len(lines))] * count
    return bounds


_KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_SKAFFOLD = ("skaffold.yaml", "skaffold.yml")


def _skaffold_images(path: Path, ctx: ResolveContext) -> frozenset[str]:
    """The images the ``skaffold.yaml`` files of the manifest's folder and the folders
    above it (inside the scan) build from this repository (``build.artifacts``, also
    under ``profiles``): microservices-demo's manifests name ``image: adservice``, which
    skaffold builds from src/adservice, not Docker Hub's ``library/adservice``."""
    names: set[str] = set()
    folder = path.parent
    root = ctx.root.resolve()
    for _ in range(32):
        for name in _SKAFFOLD:
            candidate = folder / name
            if not candidate.is_file():
                continue
            try:
                docs = yamlsafe.load_all(ctx.read_text(candidate), ctx.display(candidate))
            except InputFileError:
                continue  # not read here; what is wrong with it is not this file's
            for doc in docs:
                doc = _dict(doc)
                builds = [_dict(doc.get("build"))]
                builds += [_dict(_dict(p).get("build")) for p in _list(doc.get("profiles"))]
                for build in builds:
                    for artifact in _list(build.get("artifacts")):
                        image = _str(_dict(artifact).get("image"))
                        if image:
                            names.add(image)
        if folder.resolve() == root or folder == folder.parent:
            break
        folder = folder.parent
    return frozenset(names)


def _kustomize_namespace(path: Path, ctx: ResolveContext) -> str | None:
    """The ``namespace:`` a kustomization in the manifest's folder (or the nearest
    folder above it, inside the scan) sets for the objects that name none."""
    folder = path.parent
    root = ctx.root.resolve()
    for _ in range(32):
        for name in _KUSTOMIZATIONS:
            candidate = folder / name
            if candidate.is_file():
                try:
                    docs = yamlsafe.load_all(ctx.read_text(candidate), ctx.display(candidate))
                except InputFileError:
                    return None
                first = docs[0] if docs and isinstance(docs[0], dict) else {}
                namespace = first.get("namespace")
                return namespace if isinstance(namespace, str) and namespace else None
        if folder.resolve() == root or folder == folder.parent:
            return None
        folder = folder.parent
    return None


def _name(doc: dict[str, Any]) -> tuple[str | None, str]:
    meta = _dict(doc.get("metadata"))
    return _str(meta.get("name")), _str(meta.get("namespace")) or "default"


def _hostnames(name: str, namespace: str) -> list[str]:
    return [
        name,
        f"{name}.{namespace}",
        f"{name}.{namespace}.svc",
        f"{name}.{namespace}.svc.cluster.local",
    ]


def _pod_spec(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod spec, pod template metadata) of a workload."""
    spec = _dict(doc.get("spec"))
    if doc.get("kind") == "Pod":
        return spec, _dict(doc.get("metadata"))
    if doc.get("kind") == "CronJob":
        spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    template = _dict(spec.get("template"))
    return _dict(template.get("spec")), _dict(template.get("metadata"))


def _workload(state: _State, m: _Manifest) -> _Workload:
    _, namespace = _name(m.doc)
    pod, meta = _pod_spec(m.doc)
    labels = {str(k): str(v) for k, v in _dict(meta.get("labels")).items()}
    images: list[str] = []
    for key in _CONTAINER_LISTS:
        for container in _list(pod.get(key)):
            container = _dict(container)
            image = _str(container.get("image"))
            if image is not None:
                if key == "containers":
                    images.append(image)
                _image(state, m, image)
            for env in _list(container.get("env")):
                env = _dict(env)
                value, env_name = env.get("value"), _str(env.get("name"))
                if (
                    isinstance(value, str)
                    and "://" in value
                    and is_url_value(value)
                    and not is_own_address_key(env_name or "", value)
                ):
                    line = state.lines.find(value.strip().split("\n")[0], m.start, m.end)
                    if line is None and env_name:
                        line = state.lines.find(env_name, m.start, m.end)
                    state.collector.add(state.subject.id, value, line)
    return _Workload(namespace, labels, images)


def _image(state: _State, m: _Manifest, image: str) -> None:
    line = state.lines.find(image, m.start, m.end)
    evidence = state.evidence(line)
    # not complete: a template (``{{ .Values.image }}``), a variable
    ref, complete = parse_image_or_repository(image)
    if ref is None:
        return
    repository = image.split("@")[0]
    if ":" in repository.rpartition("/")[2]:
        repository = repository.rpartition(":")[0]
    if repository in state.local_images:
        return  # built here (skaffold puts what it built in its place): no supplier
    component = image_component(ref, evidence, unresolved=None if complete else image)
    state.add_component(component)
    state.add_edge(
        Dependency(
            source=state.subject.id,
            target=component.id,
            kind=DependencyKind.DYNAMIC,
            scope=Scope.REQUIRED,
            mechanism="container-image",
            evidence=(evidence,),
        )
    )


def _config_values(
    state: _State, m: _Manifest, data: dict[str, Any], encoded: bool = False
) -> None:
    for key, raw in data.items():
        if not isinstance(raw, str):
            continue
        value = raw
        if encoded:
            try:
                value = base64.b64decode(raw, validate=False).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
        if "://" not in value or not is_url_value(value) or str(key).startswith("_"):
            continue  # prose that mentions a URL, or an ``_example`` block
        line = state.lines.key(str(key), m.start, m.end)
        state.collector.add(state.subject.id, value, line)


def _service(state: _State, m: _Manifest, workloads: list[_Workload]) -> None:
    name, namespace = _name(m.doc)
    if name is None:
        return
    spec = _dict(m.doc.get("spec"))
    kind = _str(spec.get("type")) or "ClusterIP"
    endpoints: list[str] = []
    for port in _list(spec.get("ports")):
        port = _dict(port)
        number = port.get("port")
        if isinstance(number, bool) or not isinstance(number, int):
            continue
        protocol = (_str(port.get("protocol")) or "TCP").lower()
        endpoints.append(f"{protocol}://{name}.{namespace}:{number}")
    properties = [
        ("depchain:deployment", "kubernetes"),
        ("depchain:k8s-namespace", namespace),
        *(
            [("depchain:k8s-namespace-unset", "true")]
            if not _dict(m.doc.get("metadata")).get("namespace")
            else []
        ),
        ("depchain:k8s-service-type", kind),
        *(("depchain:hostname", h) for h in _hostnames(name, namespace)),
    ]
    boundary: bool | None = False
    external = _str(spec.get("externalName"))
    if kind == "ExternalName" and external:
        properties.append(("depchain:external-name", external))
        boundary = trust_boundary(external)
    selector = {str(k): str(v) for k, v in _dict(spec.get("selector")).items()}
    image = None
    if selector:
        picked = [
            w
            for w in workloads
            if w.namespace == namespace
            and w.images
            and all(w.labels.get(k) == v for k, v in selector.items())
        ]
        if len(picked) == 1:
            image = picked[0].images[0]  # the first regular container serves
            try:
                family = image_family(parse_image(image).display_name)
            except ValueError:
                family = None
            if family:
                properties.append(("depchain:family", family))
    line = state.lines.find(f"name: {name}", m.start, m.end)
    evidence = state.evidence(line)
    sid = f"service:k8s:{namespace}/{name}"
    service = Service(
        id=sid,
        name=name,
        endpoints=tuple(sorted(set(endpoints))),
        evidence=(evidence,),
        image=redact_url(image) if image else None,
        trust_boundary=boundary,
        properties=tuple(sorted({(k, redact_url(v)) for k, v in properties})),
    )
    state.add_service(service)
    state.add_edge(
        Dependency(
            source=state.subject.id,
            target=sid,
            kind=DependencyKind.SERVICE,
            scope=Scope.REQUIRED,
            mechanism="kubernetes",
            evidence=(evidence,),
        )
    )
