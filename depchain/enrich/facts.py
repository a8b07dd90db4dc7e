"""What a cached entry may hold, checked every time one is read back.

The cache is a file others can write (a CI cache shared between jobs, a home directory
on a shared machine): an entry is used only when its body is exactly what
:mod:`depchain.enrich.pypi` writes for its kind, with the types it writes. Anything
else is malformed: the reader drops the row and asks the index again, as for a miss.

Kinds: ``listing`` (the Simple API's facts about a project), ``project`` (the JSON
API's), ``release`` (one version's files) and ``provenance/<filename>``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from depchain.enrich.cache import Entry
from depchain.enrich.simple import MAX_FILES

FUTURE_SLACK = 3600.0
"""Seconds an entry's time may be ahead of this machine's clock (another machine's
clock); an entry from further in the future would stay fresh for ever."""

_PUBLISHER_KEYS = frozenset({"kind", "repository", "workflow", "environment"})
_FILE_KEYS = frozenset(
    {"filename", "kind", "upload_time", "yanked", "yanked_reason", "sha256", "provenance"}
)


def problem(kind: str, entry: Entry, now: float) -> str | None:
    """Why ``entry`` may not be used as a ``kind`` entry, or None when it may."""
    if not isinstance(entry.status, int) or not (200 <= entry.status < 300 or entry.status == 404):
        return "not an answer that is cached"
    if not isinstance(entry.stored_at, float) or not math.isfinite(entry.stored_at):
        return "no time"
    if entry.stored_at > now + FUTURE_SLACK:
        return "stored in the future"
    if not isinstance(entry.body, str):
        return "not text"
    if entry.status == 404:
        return None if entry.body == "" else "an absence with a body"
    try:
        data = json.loads(entry.body)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(data, dict):
        return "not a JSON object"
    if kind == "listing":
        ok = _listing(data)
    elif kind == "project":
        ok = _project(data)
    elif kind == "release":
        ok = _release(data)
    elif kind.startswith("provenance/") and kind != "provenance/":
        ok = _provenance(data)
    else:
        return "an unknown kind"
    return None if ok else f"not a {kind.split('/')[0]} entry"


def _listing(data: dict[str, Any]) -> bool:
    return all(_opt_str(data.get(k)) for k in ("name", "api_version", "status", "status_reason"))


def _project(data: dict[str, Any]) -> bool:
    ownership = data.get("ownership")
    if ownership is not None and not (
        isinstance(ownership, dict)
        and _opt_str(ownership.get("organization"))
        and _pairs(ownership.get("roles", []))
    ):
        return False
    classifiers = data.get("license_classifiers", [])
    return (
        _opt_str(data.get("name"))
        and _pairs(data.get("project_urls", []))
        and _opt_str(data.get("home_page"))
        and all(_opt_str(data.get(k)) for k in ("version", "license_expression", "license"))
        and isinstance(data.get("license_text", False), bool)
        and isinstance(classifiers, list)
        and all(isinstance(c, str) for c in classifiers)
    )


def _release(data: dict[str, Any]) -> bool:
    found = data.get("found")
    if not isinstance(found, bool):
        return False
    if not found:
        return True
    files = data.get("files")
    return (
        isinstance(data.get("version"), str)
        and bool(data["version"])
        and _opt_str(data.get("listing"))
        and isinstance(files, list)
        and len(files) <= MAX_FILES
        and all(_file(f) for f in files)
    )


def _file(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    name = item.get("filename")
    return (
        isinstance(name, str)
        and bool(name)
        and isinstance(item.get("kind"), str)
        and isinstance(item.get("yanked", False), bool)
        and all(_opt_str(item.get(k)) for k in ("upload_time", "yanked_reason", "sha256"))
        and _opt_str(item.get("provenance"))
        and _opt_str(item.get("conflict"))
        and set(item) <= _FILE_KEYS | {"conflict"}
    )


def _provenance(data: dict[str, Any]) -> bool:
    publishers = data.get("publishers", [])
    return (
        isinstance(publishers, list)
        and all(
            isinstance(p, dict)
            and set(p) <= _PUBLISHER_KEYS
            and isinstance(p.get("kind"), str)
            and all(_opt_str(p.get(k)) for k in ("repository", "workflow", "environment"))
            for p in publishers
        )
        and (data.get("verified") is None or isinstance(data.get("verified"), bool))
        and _opt_str(data.get("verification"))
        and _opt_str(data.get("sha256"))
    )


def _opt_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _pairs(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    )
