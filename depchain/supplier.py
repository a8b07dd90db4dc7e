"""Who supplies a component, for an SBOM's ``supplier`` (CycloneDX) or ``supplier``
(SPDX): whoever can publish a new version of it, as the scan knows it
(:func:`depchain.trust.surface.owner_of`), never the author named in its metadata
(who wrote it is not who ships it) and never a guess.

- a Python distribution: the index's organization, else the users with a role on it
  (people, not an organization);
- a GitHub action or repository: its owner; an image: its namespace (and registry);
- a Debian or RPM package: its ``Maintainer`` (``Name <address>``);
- a vendored tree: the project that vendored it.

Unknown is None: the SBOM then has no supplier, which a completeness check counts as
missing, as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from depchain.model import Component

_NAME_EMAIL = re.compile(r"\s*([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*")


@dataclass(frozen=True)
class Supplier:
    name: str
    """The organization's or the people's name, as one line."""
    kind: str
    """``organization`` or ``person`` (a PyPI project owned by users, not an org)."""
    source: str
    """What said so: ``index-organization``, ``index-roles``, ``maintainer``,
    ``github-owner``, ``image-namespace``, ``vendored-by``."""
    people: tuple[str, ...] = ()
    """The people (index users) who hold a role on it, when they are the supplier."""
    email: str | None = None
    url: str | None = None


_TEAM_WORDS = re.compile(
    r"\b(team|maintainers?|maintenance|group|packagers|packaging|strike force|authors|"
    r"developers|project|community|foundation)\b",
    re.IGNORECASE,
)
_LIST_DOMAINS = re.compile(
    r"@(lists\.|alioth-lists\.|tracker\.debian\.org$|packages\.debian\.org$)", re.IGNORECASE
)


def maintainer_kind(name: str, email: str | None) -> str:
    """``person`` or ``organization`` for an OS package's Maintainer: a team's list
    address (``…@lists.debian.org``, ``team+python@tracker.debian.org``) or a name that
    says team (``Debian Python Team``, ``GNU Libc Maintainers``) is an organization;
    anyone else (``Mark Brown <broonie@debian.org>``) is a person."""
    if email and (_LIST_DOMAINS.search(email) or email.lower().startswith("team+")):
        return "organization"
    return "organization" if _TEAM_WORDS.search(name) else "person"


def supplier_of(component: Component) -> Supplier | None:
    """The supplier of ``component``, or None when nobody knows it."""
    from depchain.trust.surface import owner_of, pypi_ownership

    owner = owner_of(component)
    if not owner:
        return None
    owner = " ".join(owner.split())
    props = dict(component.properties)
    if component.ecosystem == "pypi":
        organization, users = pypi_ownership(component)
        if organization is not None:
            return Supplier(organization, "organization", "index-organization")
        return Supplier(", ".join(users), "person", "index-roles", people=tuple(users))
    if component.ecosystem in {"githubactions", "github"}:
        return Supplier(owner, "organization", "github-owner", url=f"https://github.com/{owner}")
    if component.ecosystem in {"deb", "rpm"} and props.get("depchain:maintainer"):
        named = _NAME_EMAIL.fullmatch(owner)
        if named is not None:
            name, email = named.group(1) or named.group(2), named.group(2)
            return Supplier(name, maintainer_kind(name, email), "maintainer", email=email)
        return Supplier(owner, maintainer_kind(owner, None), "maintainer")
    if component.ecosystem == "docker":
        return Supplier(owner, "organization", "image-namespace")
    if props.get("depchain:vendored-in"):
        return Supplier(props["depchain:vendored-in"], "organization", "vendored-by")
    return Supplier(owner, "organization", "owner")
