"""Per component: who owns it and where it came from, as the report states them.
Facts the files give are always there; what only the package index knows (roles,
attestations, artifact kinds) comes from enrichment, and is ``unknown`` without it."""

from __future__ import annotations

from typing import Any

from depchain.graph import DependencyGraph
from depchain.model import Component, SourceKind
from depchain.trust.surface import owner_of

_OWNER_SOURCES = {
    "githubactions": "github-namespace",
    "github": "github-namespace",
    "deb": "dpkg-maintainer",
    "rpm": "rpm-packager",
    "docker": "image-namespace",
}


def ownership(component: Component) -> dict[str, Any]:
    props = dict(component.properties)
    roles = [
        {"user": user, "role": role}
        for user, _, role in (
            item.partition(":")
            for item in props.get("depchain:owner-roles", "").split(", ")
            if item
        )
    ]
    if props.get("depchain:owner-organization") or roles:
        return {
            "organization": props.get("depchain:owner-organization"),
            "roles": roles,
            "source": props.get("depchain:owner-source", "index"),
        }
    owner = owner_of(component)
    if owner is None:
        return {"organization": None, "roles": [], "source": "unknown"}
    source = _OWNER_SOURCES.get(component.ecosystem, "vendoring package")
    if component.ecosystem in {"deb", "rpm"}:
        return {
            "organization": None,
            "roles": [{"user": owner, "role": "Maintainer"}],
            "source": source,
        }
    return {"organization": owner, "roles": [], "source": source}


def provenance(component: Component, graph: DependencyGraph) -> dict[str, Any]:
    props = dict(component.properties)
    incoming = graph.dependents(component.id)
    indexes = sorted({f"{i.role} {i.url}" for d in incoming for i in d.indexes})
    registry = sorted({s.url for s in component.sources if s.kind is SourceKind.REGISTRY and s.url})
    vcs = next((s for s in component.sources if s.kind is SourceKind.VCS), None)
    if component.ecosystem == "docker":
        pin = (
            "digest"
            if props.get("depchain:image-digest")
            else ("tag" if component.version else "none")
        )
    elif vcs is not None:
        pin = "commit" if vcs.commit else "ref"
    elif any(s.kind is SourceKind.PATH for s in component.sources):
        pin = "path"
    elif any(s.kind is SourceKind.URL for s in component.sources):
        pin = "url"
    else:
        pin = "exact" if component.version else "unpinned"
    ref_type = props.get("depchain:ref-type")
    if ref_type is None and vcs is not None:
        ref_type = "sha" if vcs.commit else "ref"
    # a Python distribution named by no index comes from the default one, unless its
    # bytes come from elsewhere (a VCS checkout, a path, a URL): then from no index
    elsewhere = any(s.kind is not SourceKind.REGISTRY for s in component.sources)
    return {
        "index": indexes or registry or ["default"]
        if component.ecosystem == "pypi" and not elsewhere
        else indexes or registry,
        "pin": pin,
        "hashes": len(component.hashes),
        "artifact": props.get("depchain:artifact-kind", "unknown"),
        "attestation": props.get("depchain:attestation", "unknown"),
        "attestation_verified": props.get("depchain:attestation-verified"),
        "publisher": props.get("depchain:publisher"),
        "ref_type": ref_type,
        "digest": props.get("depchain:image-digest"),
    }
