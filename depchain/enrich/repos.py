"""Source repositories: which of a project's URLs declares where its code lives, and a
normal form so that a declared repository and an attestation publisher compare."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_SOURCE_LABELS = {
    "source",
    "sources",
    "sourcecode",
    "repository",
    "repo",
    "code",
    "github",
    "gitlab",
    "git",
    "sourcerepository",
    "vcs",
    "scm",
    "browsesource",
}
"""``project_urls`` labels (lower-case, letters only) that name the source repository."""

_HOME_LABELS = {"homepage", "home", "website"}

_CODE_HOSTS = {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"}
"""Hosts where a home page is the repository itself."""

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def declared_repository(
    project_urls: Iterable[tuple[str, str]], home_page: str | None
) -> str | None:
    """The source repository a project declares: a ``project_urls`` entry labelled
    Source, Source Code, Repository, GitHub, Code, ...; else a home page (labelled or
    the ``home_page`` field) on a code host such as github.com or gitlab.com."""
    urls = [(label, url) for label, url in project_urls if url and url.strip()]
    for label, url in urls:
        if _label(label) in _SOURCE_LABELS:
            return url.strip()
    homes = [url for label, url in urls if _label(label) in _HOME_LABELS]
    if home_page:
        homes.append(home_page)
    for url in homes:
        host = _host(url)
        if host in _CODE_HOSTS:
            return url.strip()
    return None


def normalize_repository(url: str) -> str:
    """A comparable form of a repository URL: ``https://github.com/owner/repo`` in lower
    case for GitHub and Bitbucket (``.git``, a trailing slash, ``/tree/main`` and the
    like dropped), the project path before ``/-/`` for GitLab, and scheme-less
    ``host/path`` lower-cased for other hosts. ``git@github.com:o/r.git`` and
    ``git+https://`` forms are understood."""
    text = url.strip()
    scp = _SCP_LIKE.match(text)
    if scp and "://" not in text:
        host, path = scp.group("host").lower(), scp.group("path")
    else:
        if text.startswith("git+"):
            text = text[4:]
        try:
            parts = urlsplit(text if "://" in text else f"https://{text}")
        except ValueError:
            return text.lower()
        host, path = (parts.hostname or "").lower(), parts.path
    host = host.removeprefix("www.")
    segments = [s for s in path.split("/") if s]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    if host in {"github.com", "bitbucket.org", "codeberg.org"}:
        segments = segments[:2]
    elif (host == "gitlab.com" or host.startswith("gitlab.")) and "-" in segments:
        segments = segments[: segments.index("-")]  # /group/project/-/tree/main
    path = "/".join(segments).lower()
    return f"https://{host}/{path}" if path else f"https://{host}"


def publisher_repository(kind: str, repository: str | None) -> str | None:
    """The repository URL of a trusted publisher (``GitHub`` + ``owner/repo``,
    ``GitLab`` + ``group/project``), or None for publishers that name none."""
    if not repository:
        return None
    kind = kind.lower()
    if kind == "github":
        return normalize_repository(f"https://github.com/{repository}")
    if kind == "gitlab":
        return normalize_repository(f"https://gitlab.com/{repository}")
    return None


def _label(label: str) -> str:
    return "".join(ch for ch in label.lower() if ch.isalpha())


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""
