"""Container image references: how a registry reads one, and the component it names.

``[registry/][namespace/]name[:tag][@digest]`` is split into its registry (None for
Docker Hub, whatever host name it is written with), namespace (``library`` for Docker
Hub's official images), name, tag and digest (:func:`parse_image`); the image is the
component ``pkg:docker/<namespace>/<name>@<tag>`` with the digest as the ``digest``
qualifier and a registry other than Docker Hub as ``repository_url``
(:func:`image_component`). Used wherever an image is named: Dockerfiles, GitHub Actions,
compose files and Kubernetes manifests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from depchain.ids import purl
from depchain.model import Component, ComponentType, Evidence, Source, SourceKind
from depchain.redaction import quote, redact_url

_DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_NAME_PART = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_REGISTRY = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?")


@dataclass(frozen=True)
class ImageRef:
    """A container image reference, split the way registries read it."""

    registry: str | None
    """The registry host (``ghcr.io``); None for Docker Hub."""
    namespace: str | None
    """The path before the last segment (``library`` for Docker Hub official images)."""
    name: str
    tag: str | None
    digest: str | None

    @property
    def display_name(self) -> str:
        """How people write the repository: ``python``, ``ghcr.io/owner/image``."""
        parts = [p for p in (self.registry, self.namespace) if p]
        if self.registry is None and self.namespace == "library":
            parts = []
        return "/".join([*parts, self.name])


def parse_image(text: str) -> ImageRef:
    """``[registry/][namespace/]name[:tag][@digest]``; ``ValueError`` when malformed."""
    reference = text.strip()
    digest = None
    if "@" in reference:
        reference, _, digest = reference.partition("@")
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"image {quote(text)} has a malformed digest {quote(digest)}")
        digest = digest.lower()
    tag = None
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        reference, tag = reference[:colon], reference[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ValueError(f"image {quote(text)} has a malformed tag {quote(tag)}")
    segments = reference.split("/")
    registry = None
    if len(segments) > 1 and (
        "." in segments[0] or ":" in segments[0] or segments[0] == "localhost"
    ):
        registry = segments.pop(0).lower()
        if not _REGISTRY.fullmatch(registry):
            raise ValueError(f"image {quote(text)} has a malformed registry {quote(registry)}")
        if registry in _DOCKER_HUB:
            registry = None
    if not segments or not all(_NAME_PART.fullmatch(s) for s in segments):
        raise ValueError(f"{quote(text)} is not an image reference")
    if registry is None and len(segments) == 1:
        segments.insert(0, "library")
    namespace = "/".join(segments[:-1]) or None
    return ImageRef(registry, namespace, segments[-1], tag, digest)


def parse_image_or_repository(text: str) -> tuple[ImageRef | None, bool]:
    """``(image, True)`` for a well-formed reference. When only the tag is not one (a
    placeholder: ``apache/airflow:|version|``, ``app:{{ .Values.tag }}``), the
    repository is still known: ``(image without tag or digest, False)``; else
    ``(None, False)``."""
    try:
        return parse_image(text), True
    except ValueError:
        pass
    repository = text.split("@")[0]
    if ":" in repository.rpartition("/")[2]:
        try:
            return parse_image(repository.rpartition(":")[0]), False
        except ValueError:
            pass
    return None, False


def image_component(ref: ImageRef, evidence: Evidence, unresolved: str | None = None) -> Component:
    """A container image: ``pkg:docker/...``, its tag as the version, its digest as a
    qualifier, and ``depchain:image-tag`` / ``depchain:image-digest`` properties; with
    ``unresolved`` (the reference as written, when only its repository could be read),
    ``depchain:image-unresolved`` too, without credentials."""
    qualifiers: list[tuple[str, str]] = []
    properties: list[tuple[str, str]] = []
    if ref.digest:
        qualifiers.append(("digest", ref.digest))
        properties.append(("depchain:image-digest", ref.digest))
    if ref.registry:
        qualifiers.append(("repository_url", ref.registry))
    if ref.tag:
        properties.append(("depchain:image-tag", ref.tag))
    if unresolved is not None:
        properties.append(("depchain:image-unresolved", redact_url(unresolved)))
    ident = purl("docker", ref.name, ref.tag, namespace=ref.namespace, qualifiers=tuple(qualifiers))
    return Component(
        id=ident,
        name=ref.display_name,
        ecosystem="docker",
        version=ref.tag,
        type=ComponentType.CONTAINER,
        purl=ident,
        sources=(Source(SourceKind.REGISTRY, url=ref.registry or "docker.io"),),
        evidence=(evidence,),
        properties=tuple(sorted(properties)),
    )
