"""The trust surface ("how big is my TCB?"): how many components and distinct owners a
scan trusts, per dependency kind, and how many of those trusts are explicit (the
policy names the owner) rather than implicit. An owner nobody knows counts as unknown
and is never explicit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from depchain.graph import DependencyGraph
from depchain.model import Component, DependencyKind
from depchain.trust.policy import Policy

if TYPE_CHECKING:
    from depchain.trust.ledger import Ledger


def pypi_ownership(component: Component) -> tuple[str | None, list[str]]:
    """The index's organization of a Python distribution, and every user with a role on
    it (Owners and Maintainers alike: both can upload a release), as enrichment found
    them."""
    props = dict(component.properties)
    users = sorted(
        {
            item.partition(":")[0]
            for item in props.get("depchain:owner-roles", "").split(", ")
            if item.partition(":")[0]
        }
    )
    return props.get("depchain:owner-organization") or None, users


def owner_of(component: Component) -> str | None:
    """Who can publish a new version of this, as far as the scan knows."""
    props = dict(component.properties)
    if component.ecosystem == "pypi":
        organization, users = pypi_ownership(component)
        if organization is not None or users:
            return organization or ", ".join(users)
    if component.ecosystem in {"githubactions", "github"} and component.purl:
        return component.purl.split("/")[1]
    if component.ecosystem in {"deb", "rpm"}:
        return props.get("depchain:maintainer")
    if component.ecosystem == "docker" and component.purl:
        return _image_owner(component.purl)
    if props.get("depchain:vendored-in"):
        return f"vendored by {props['depchain:vendored-in']}"
    return None


def _image_owner(purl: str) -> str:
    """The namespace of a Docker Hub image (``library`` for official images); on another
    registry the registry comes first: ``ghcr.io/owner``, ``localhost:5000``."""
    from packageurl import PackageURL

    parsed = PackageURL.from_string(purl)
    registry = (
        parsed.qualifiers.get("repository_url") if isinstance(parsed.qualifiers, dict) else None
    )
    hub = registry in {None, "", "docker.io", "index.docker.io", "registry-1.docker.io"}
    namespace = parsed.namespace or ("library" if hub else None)
    if hub:
        return namespace or "library"
    return f"{registry}/{namespace}" if namespace else str(registry)


@dataclass
class Tally:
    components: int = 0
    owners: set[str] = field(default_factory=set)
    unknown_owner: int = 0
    explicit: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "components": self.components,
            "owners": len(self.owners),
            "unknown_owner": self.unknown_owner,
            "explicit": self.explicit,
            "implicit": self.components - self.explicit,
        }


def explicitly_trusted(
    component: Component, policy: Policy | None, ledger: Ledger | None, owner: str | None
) -> bool:
    """The policy trusts ``component``'s owner, or the ledger accepted it with the owner
    (``owner``, as :func:`owner_of` gives it) it has now. Unknown is never trusted."""
    from depchain.trust.ledger import accepted

    return (policy or Policy()).trusts(component) or (
        owner is not None and accepted(component, ledger)
    )


def trust_surface(
    graph: DependencyGraph, policy: Policy | None, ledger: Ledger | None = None
) -> dict[str, Any]:
    """Explicit: the policy trusts the owner, or the ledger accepted the component with
    the owner it has now."""
    policy = policy or Policy()
    per_kind: dict[str, Tally] = {
        k.value: Tally() for k in DependencyKind if k is not DependencyKind.SERVICE
    }
    total = Tally()
    counted: set[str] = set()
    for kind in per_kind:
        reached = {d.target for d in graph.dependencies(DependencyKind(kind))}
        for node_id in sorted(reached):
            node = graph.node(node_id)
            if not isinstance(node, Component):
                continue
            owner = owner_of(node)
            explicit = explicitly_trusted(node, policy, ledger, owner)
            for tally in (per_kind[kind], total) if node_id not in counted else (per_kind[kind],):
                tally.components += 1
                if owner is None:
                    tally.unknown_owner += 1
                else:
                    tally.owners.add(owner)
                tally.explicit += explicit
            counted.add(node_id)
    services = graph.services()
    return {
        "kinds": {k: t.as_dict() for k, t in per_kind.items()},
        "total": total.as_dict(),
        "services": {
            "total": len(services),
            "across_trust_boundary": sum(1 for s in services if s.trust_boundary),
            "boundary_unknown": sum(1 for s in services if s.trust_boundary is None),
        },
    }
