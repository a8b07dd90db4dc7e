"""What the GitHub Actions and pre-commit resolvers share: a repository pinned at a ref.

Both read ``owner/repo@ref``-like pins of code that runs at build time: the ref's type
(:func:`ref_type`), the version a trailing comment claims for it
(:func:`claimed_version`), the component of the pinned repository
(:func:`pin_component`) and the ``build`` edge to it (:class:`BuildLinks`).
"""

from __future__ import annotations

import re
from typing import ClassVar

from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Scope,
    Source,
    SourceKind,
)
from depchain.resolvers.base import is_full_commit

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_VERSION_LIKE = re.compile(r"v?\d+(?:\.\d+)*(?:[-+._]?[0-9A-Za-z][0-9A-Za-z.+_-]*)?")
_CLAIMED = re.compile(
    r"(?:frozen:\s*|tag\s*[=:]\s*|pin\s*@?\s*|ratchet:\S*@|@)?"
    r"(v?\d+(?:\.\d+)*(?:[-+.]?[0-9A-Za-z][0-9A-Za-z.+-]*)?)(?=$|[\s,;)])"
)


def ref_type(ref: str) -> str:
    """``sha`` (a full 40-hex commit), ``tag`` (looks like a version: v1, v1.2.3, 1.2),
    or ``branch`` (anything else: main, stable, release/v1)."""
    if _SHA.fullmatch(ref):
        return "sha"
    if _VERSION_LIKE.fullmatch(ref):
        return "tag"
    return "branch"


def claimed_version(comment: str | None) -> str | None:
    """The version a pin's comment claims: ``v4.1.0``, ``frozen: v0.15.9``, ``tag=v3``."""
    if not comment:
        return None
    m = _CLAIMED.match(comment.strip())
    return m.group(1) if m else None


def pin_component(
    ident: str,
    name: str,
    ecosystem: str,
    url: str,
    ref: str,
    evidence: Evidence,
    claimed: str | None = None,
    subdirectory: str | None = None,
) -> Component:
    """The repository at ``url`` pinned at ``ref``: an application with a VCS source (the
    commit too when ``ref`` is one), ``depchain:ref-type`` and, when a comment claims one,
    ``depchain:claimed-version``."""
    properties = [("depchain:ref-type", ref_type(ref))]
    if claimed:
        properties.append(("depchain:claimed-version", claimed))
    source = Source(
        SourceKind.VCS,
        url=url,
        ref=ref,
        commit=ref.lower() if is_full_commit(ref.lower()) else None,
        subdirectory=subdirectory,
    )
    return Component(
        id=ident,
        name=name,
        ecosystem=ecosystem,
        version=ref,
        type=ComponentType.APPLICATION,
        purl=ident,
        sources=(source,),
        evidence=(evidence,),
        properties=tuple(sorted(properties)),
    )


class BuildLinks:
    """A resolver's state that links its project to build-time components, in the
    ``scope`` the resolver sets (mixed into its dataclass, which holds the fields)."""

    scope: ClassVar[Scope]
    subject: Component
    components: list[Component]
    dependencies: list[Dependency]

    def link(self, component: Component, mechanism: str, evidence: Evidence) -> None:
        self.components.append(component)
        self.dependencies.append(
            Dependency(
                source=self.subject.id,
                target=component.id,
                kind=DependencyKind.BUILD,
                scope=self.scope,
                mechanism=mechanism,
                evidence=(evidence,),
            )
        )
