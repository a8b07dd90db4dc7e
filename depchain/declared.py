"""What a Python distribution declares about itself, onto its component: the licence
(:mod:`depchain.licenses`), the authors and maintainers, the summary, and the URLs it
names (``Project-URL``, ``Home-page``, ``Download-URL``; pyproject's ``[project.urls]``;
the index's ``project_urls``), each by what it is.

Readers call :func:`from_core_metadata` with the fields they read (an installed
distribution's METADATA, a wheel's, the index's copy); pyproject.toml has its own
tables and uses the pieces (:func:`contacts`, :func:`link`) directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from depchain.model import Component, Contact, License, Link, sort_key

MAX_SUMMARY = 512
"""A description is one line; longer summaries are cut (with an ellipsis)."""

_LABEL = re.compile(r"[^a-z0-9]")
_URL = re.compile(r"^(?:https?|git|ssh|git\+[a-z]+)://[^\s<>\"{}|\\^`]+$", re.IGNORECASE)
_ONE_ADDRESS = re.compile(
    r"^\s*(?:([^<>,\"@]*?)\s*<([^<>,\s@]+@[^<>,\s@]+)>|([^<>,\s@\"]+@[^<>,\s@\"]+))\s*$"
)
"""``Name <address>`` or a bare ``address``: what most email fields hold, read without
the email package (a scan of an environment reads hundreds)."""
_KINDS = {
    "homepage": "website",
    "home": "website",
    "website": "website",
    "source": "vcs",
    "sourcecode": "vcs",
    "code": "vcs",
    "repository": "vcs",
    "repo": "vcs",
    "github": "vcs",
    "gitlab": "vcs",
    "git": "vcs",
    "issues": "issue-tracker",
    "issue": "issue-tracker",
    "issuetracker": "issue-tracker",
    "tracker": "issue-tracker",
    "bugs": "issue-tracker",
    "bugtracker": "issue-tracker",
    "bugreports": "issue-tracker",
    "documentation": "documentation",
    "docs": "documentation",
    "changelog": "release-notes",
    "changes": "release-notes",
    "releasenotes": "release-notes",
    "whatsnew": "release-notes",
    "history": "release-notes",
    "download": "distribution",
    "chat": "chat",
    "discord": "chat",
    "gitter": "chat",
    "slack": "chat",
    "mailinglist": "mailing-list",
    "support": "support",
    "forum": "support",
    "discussions": "support",
    "twitter": "social",
    "mastodon": "social",
}
"""PEP 753's well-known labels (normalised: lower case, letters and digits only) and
their common variants, to CycloneDX external reference types (those CycloneDX 1.5 has,
the oldest version written). Anything else (funding, a blog) is ``other``."""


def link_kind(label: str) -> str:
    return _KINDS.get(_LABEL.sub("", label.lower()), "other")


def link(label: str | None, url: str, kind: str | None = None) -> Link | None:
    """A declared URL as a link, or None when it is no absolute http(s) or git URL."""
    url = url.strip()
    if not _URL.match(url):
        return None
    return Link(kind or (link_kind(label) if label else "other"), url, label or None)


def project_links(
    project_urls: Iterable[tuple[str, str]],
    home_page: str | None = None,
    download_url: str | None = None,
) -> tuple[Link, ...]:
    """``Project-URL`` pairs (label, URL), ``Home-page`` and ``Download-URL`` as links."""
    found: list[Link] = []
    for label, url in project_urls:
        made = link(label, url)
        if made is not None:
            found.append(made)
    for label, given, kind in (
        ("Home-page", home_page, "website"),
        ("Download-URL", download_url, "distribution"),
    ):
        if given:
            made = link(label, given, kind)
            if made is not None and all(x.url != made.url for x in found):
                found.append(made)
    return tuple(sorted(set(found), key=sort_key))


def project_url_pairs(values: Iterable[str]) -> list[tuple[str, str]]:
    """``Project-URL`` header values (``Label, https://...``) as (label, URL) pairs."""
    pairs = []
    for value in values:
        label, sep, url = value.partition(",")
        if sep:
            pairs.append((label.strip(), url.strip()))
        elif value.strip():
            pairs.append(("", value.strip()))
    return pairs


def contacts(names: str | None, emails: str | None, role: str = "author") -> tuple[Contact, ...]:
    """People as ``Author`` / ``Author-email`` (or the maintainer pair) name them: the
    email field is an address list (``A <a@x>, b@y``); the name field free text. A name
    with no address of its own is paired with a lone bare address."""
    from email.utils import getaddresses

    found: list[Contact] = []
    bare: list[str] = []
    one = _ONE_ADDRESS.match(emails) if emails else None
    if one is not None:
        pairs = [(one.group(1) or "", one.group(2) or one.group(3))]
    else:
        pairs = getaddresses([emails]) if emails else []
    for name, address in pairs:
        name, address = _one_line(name), address.strip()
        if not address or "@" not in address:
            if name:
                found.append(Contact(name, None, role))
            continue
        if name:
            found.append(Contact(name, address, role))
        else:
            bare.append(address)
    name = _one_line(names or "")
    if name and not any(c.name == name for c in found):
        if len(bare) == 1:
            found.append(Contact(name, bare.pop(), role))
        else:
            found.append(Contact(name, None, role))
    found.extend(Contact(None, a, role) for a in bare)
    return tuple(dict.fromkeys(found))


def summary(text: str | None) -> str | None:
    line = _one_line(text or "")
    if not line or line.upper() == "UNKNOWN":
        return None
    return line if len(line) <= MAX_SUMMARY else line[: MAX_SUMMARY - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def from_core_metadata(
    component: Component,
    fields: Iterable[tuple[str, str]],
    classifiers: Iterable[str] = (),
    *,
    origin: str = "",
) -> Component:
    """``component`` with what core metadata ``fields`` ((name, value) pairs as written:
    ``License-Expression``, ``License``, ``Author``, ``Author-email``, ``Maintainer``,
    ``Maintainer-email``, ``Summary``, ``Home-page``, ``Download-URL``, ``Project-URL``)
    and the trove ``classifiers`` declare."""
    from depchain import licenses

    values: dict[str, list[str]] = {}
    for key, value in fields:
        values.setdefault(key.lower(), []).append(value)

    def first(key: str) -> str | None:
        got = values.get(key.lower())
        return got[0] if got else None

    license: License | None = licenses.declared(
        first("License-Expression"),
        first("License"),
        [c for c in classifiers if c.startswith("License ::")],
        origin=origin,
    )
    people = contacts(first("Author"), first("Author-email"), "author") + contacts(
        first("Maintainer"), first("Maintainer-email"), "maintainer"
    )
    links = project_links(
        project_url_pairs(values.get("project-url", [])),
        first("Home-page"),
        first("Download-URL"),
    )
    merged = component.merged(
        replace(
            component,
            license=license,
            authors=tuple(sorted(set(people), key=sort_key)),
            description=summary(first("Summary")),
            links=links,
        )
    )
    return merged


def wants_classifiers(fields: Iterable[tuple[str, str]]) -> bool:
    """Whether the classifiers could add to what ``fields`` say of the licence: no
    ``License-Expression``, and a ``License`` field that is no SPDX expression."""
    from depchain import licenses

    expression = text = None
    for key, value in fields:
        low = key.lower()
        if low == "license-expression" and expression is None:
            expression = value
        elif low == "license" and text is None:
            text = value
    if expression and licenses.normalize(expression):
        return False
    return not (text and licenses.is_name(text) and licenses.from_name(text))
