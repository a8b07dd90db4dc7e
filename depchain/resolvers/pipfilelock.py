"""``Pipfile.lock`` (pipenv): the ``default`` and ``develop`` package maps, and any other
category pipenv wrote, with their hashes, markers and the index each comes from.

A Pipfile.lock records no edges between packages: the project that owns the file depends
on each package directly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depchain.errors import InputFileError
from depchain.fileio import parse_json
from depchain.ids import pypi_component, vcs_uri
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    IndexRef,
    InputError,
    Scope,
    Source,
    SourceKind,
    merge_component,
)
from depchain.resolvers._lock import hashes, local_path
from depchain.resolvers.base import (
    ResolveContext,
    is_full_commit,
    pinned_version,
    source_from_url,
)

NAME = "pipfile-lock"

_MAIN = "default"
_VCS = ("git", "hg", "svn", "bzr")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"(\s*:)?|[{}\[\]]')
"""Every JSON string (a key when a colon follows) and bracket: enough to find lines."""


@dataclass
class _Lock:
    display: str
    folder: str
    subject: Component
    indexes: dict[str, str]
    """Source name -> index URL, from ``_meta.sources``."""
    lines: dict[tuple[str, str], int]
    components: dict[str, Component] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    def error(self, line: int | None, message: str) -> None:
        where = f"line {line}: " if line else ""
        self.errors.append(InputError(self.display, f"{where}{message}"))


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    data = _parse(text, display)
    lock = _Lock(
        display,
        ctx.display(path.parent),
        ctx.subject_for(path),
        _indexes(data.get("_meta")),
        _entry_lines(text),
    )
    lock.components[lock.subject.id] = lock.subject
    for section, packages in data.items():
        if section == "_meta":
            continue
        if not isinstance(packages, dict):
            lock.error(lock.lines.get(("", section)), f"{section!r} is not an object")
            continue
        for name, spec in packages.items():
            _package(lock, section, name, spec)
    return Fragment(
        components=tuple(lock.components.values()),
        dependencies=tuple(lock.dependencies),
        errors=tuple(lock.errors),
    )


def _parse(text: str, display: str) -> dict[str, Any]:
    data = parse_json(text, display)
    if not isinstance(data, dict) or not {"_meta", _MAIN, "develop"} & data.keys():
        raise InputFileError(display, "no _meta, default or develop: not a Pipfile.lock")
    return data


def _indexes(meta: Any) -> dict[str, str]:
    sources = meta.get("sources") if isinstance(meta, dict) else None
    return (
        {
            str(s["name"]): s["url"]
            for s in sources
            if isinstance(s, dict) and isinstance(s.get("url"), str) and "name" in s
        }
        if isinstance(sources, list)
        else {}
    )


def _entry_lines(text: str) -> dict[tuple[str, str], int]:
    """1-based line of each key at depth one (``("", section)``) and two
    (``(section, name)``), found in one pass over the text."""
    found: dict[tuple[str, str], int] = {}
    depth, line, last, section = 0, 1, 0, ""
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token[0] in "{[":
            depth += 1
        elif token[0] in "}]":
            depth -= 1
        elif m.group(1) and depth in (1, 2):
            line += text.count("\n", last, m.start())
            last = m.start()
            key = json.loads(token[: m.start(1) - m.start()])
            if depth == 1:
                section = key
                found[("", key)] = line
            else:
                found.setdefault((section, key), line)
    return found


def _package(lock: _Lock, section: str, name: str, spec: Any) -> None:
    line = lock.lines.get((section, name))
    if not isinstance(spec, dict):
        lock.error(line, f"{section}.{name}: not an object")
        return
    if not name.strip():
        lock.error(line, f"{section}: a package without a name")
        return
    version = spec.get("version")
    evidence = Evidence(lock.display, line, NAME)
    source, indexes = _source(lock, spec, line)
    hash_list = spec.get("hashes")
    component = pypi_component(
        name,
        pinned_version(version) if isinstance(version, str) else None,
        evidence,
        sources=(source,) if source else (),
        hashes=hashes(hash_list) if isinstance(hash_list, list) else (),
    )
    merge_component(lock.components, component)
    main = section == _MAIN
    markers, extras = spec.get("markers"), spec.get("extras")
    lock.dependencies.append(
        Dependency(
            source=lock.subject.id,
            target=component.id,
            kind=DependencyKind.DYNAMIC if main else DependencyKind.BUILD,
            scope=Scope.REQUIRED if main else Scope.DEV,
            mechanism="lock",
            evidence=(evidence,),
            specifier=version if isinstance(version, str) else None,
            marker=markers if isinstance(markers, str) else None,
            extras=tuple(str(e) for e in extras) if isinstance(extras, list) else (),
            groups=() if main else (section,),
            indexes=indexes,
        )
    )


def _source(
    lock: _Lock, spec: dict[str, Any], line: int | None
) -> tuple[Source | None, tuple[IndexRef, ...]]:
    """Where a package comes from, and the indexes its edge may use."""
    for vcs in _VCS:
        url = spec.get(vcs)
        if isinstance(url, str):
            ref = spec.get("ref") if isinstance(spec.get("ref"), str) else None
            sub = spec.get("subdirectory")
            return Source(
                SourceKind.VCS,
                url=vcs_uri(url if url.startswith(f"{vcs}+") else f"{vcs}+{url}"),
                ref=ref,
                commit=ref.lower() if ref and is_full_commit(ref.lower()) else None,
                editable=spec.get("editable") is True,
                subdirectory=sub if isinstance(sub, str) else None,
            ), ()
    if isinstance(spec.get("path"), str):
        return Source(
            SourceKind.PATH,
            url=local_path(lock.folder, spec["path"]),
            editable=spec.get("editable") is True,
        ), ()
    if isinstance(spec.get("file"), str):
        return source_from_url(spec["file"], editable=spec.get("editable") is True), ()
    index = spec.get("index")
    if isinstance(index, str):
        url = lock.indexes.get(index)
        if url is None:
            lock.error(line, f"index {index!r} is not one of _meta.sources")
            return Source(SourceKind.REGISTRY), ()
        return Source(SourceKind.REGISTRY, url=url), (IndexRef("pinned", url),)
    urls = tuple(lock.indexes.values())
    # Pipfile sources: the first is where pipenv looks first, the others besides it
    refs = tuple(IndexRef("primary" if i == 0 else "extra", u) for i, u in enumerate(urls))
    return Source(SourceKind.REGISTRY, url=urls[0] if len(urls) == 1 else None), refs
