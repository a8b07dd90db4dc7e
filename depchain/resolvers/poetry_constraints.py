"""Poetry's dependency notation (``^1.2``, ``~1.2``, ``1.2.*``, tables with ``git``,
``path``, ``url``, ``source``) translated to PEP 508 so one parser reads them all."""

from __future__ import annotations

import re
from typing import Any

from depchain.model import Source, SourceKind
from depchain.redaction import quote
from depchain.resolvers.base import source_from_url

_VERSION = re.compile(r"^\d+(\.\d+)*([a-zA-Z0-9.+-]*)$")


def _bump(parts: list[int], index: int) -> str:
    upper = parts[: index + 1]
    upper[index] += 1
    return ".".join(str(p) for p in upper + [0] * (len(parts) - index - 1))


def _caret(version: str) -> str:
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]] or [0]
    first_nonzero = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
    return f">={version},<{_bump(parts, first_nonzero)}"


def _tilde(version: str) -> str:
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]] or [0]
    index = 0 if len(parts) == 1 else 1
    return f">={version},<{_bump(parts, index)}"


def constraint(text: str) -> str | None:
    """A Poetry version constraint as a PEP 440 specifier ('' for any); None for a
    union (``||``), which PEP 440 cannot express. Raises ``ValueError`` for text that
    is no constraint at all (``latest``, ``v1.2``)."""
    text = text.strip()
    if "||" in text or "|" in text:
        return None
    out: list[str] = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text):
        part = part.strip()
        if not part or part == "*":
            continue
        if part.startswith("^"):
            out.append(_caret(part[1:].strip()))
        elif part.startswith("~") and not part.startswith("~="):
            out.append(_tilde(part[1:].strip()))
        elif _VERSION.match(part) or (part.endswith(".*") and _VERSION.match(part[:-2])):
            out.append(f"=={part}")
        else:
            out.append(part.replace(" ", ""))
    joined = ",".join(out)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(joined)
    except InvalidSpecifier:
        raise ValueError(f"{quote(text)} is not a version constraint") from None
    return joined


def to_pep508(
    name: str, spec: Any, indexes: dict[Any, Any]
) -> tuple[str | None, Source | None, bool]:
    """(PEP 508 string, declared source, optional?) for one Poetry dependency entry."""
    if isinstance(spec, str):
        try:
            version = constraint(spec)
        except ValueError:
            return None, None, False
        return (f"{name}{version or ''}" if version is not None else name), None, False
    if not isinstance(spec, dict):
        return None, None, False
    extras = spec.get("extras") or []
    if not isinstance(extras, list):
        return None, None, False
    head = name + (f"[{','.join(str(e) for e in extras)}]" if extras else "")
    source: Source | None = None
    if "git" in spec:
        ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
        url = str(spec["git"])
        source = source_from_url(f"git+{url}" + (f"@{ref}" if ref else ""))
    elif "path" in spec:
        source = Source(SourceKind.PATH, url=str(spec["path"]), editable=bool(spec.get("develop")))
    elif "url" in spec:
        source = source_from_url(str(spec["url"]))
    elif isinstance(spec.get("source"), str):
        source = Source(SourceKind.REGISTRY, url=indexes.get(spec["source"], spec["source"]))
    try:
        version = constraint(str(spec.get("version", ""))) if "version" in spec else ""
    except ValueError:
        return None, None, False
    marker = spec.get("markers")
    text = head + (version or "") + (f"; {marker}" if isinstance(marker, str) else "")
    return text, source, bool(spec.get("optional"))
