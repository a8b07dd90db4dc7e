"""What every resolver shares: the context it is given and the requirement helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from depchain import fileio
from depchain.ids import pypi_component, vcs_uri
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Hash,
    IndexRef,
    Scope,
    Source,
    SourceKind,
)

_FULL_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


@dataclass
class ResolveContext:
    """What a resolver may know besides its own file."""

    root: Path
    """The scanned folder (for a single file: the folder that holds it)."""
    subject_for: Callable[[Path], Component] = field(repr=False)
    """The project that a file at this path belongs to (nearest enclosing project)."""
    max_file_size: int = fileio.MAX_FILE_SIZE
    texts: dict[Path, str] = field(default_factory=dict, repr=False)
    """Small files already read in this scan (a Dockerfile the roles read, then its
    resolver; a requirements file several others include): each is read once."""
    read: set[Path] = field(default_factory=set, repr=False)
    """Every file read through this context (what a result depends on)."""

    def display(self, path: Path) -> str:
        """``path`` relative to the scan root, POSIX style; absolute when outside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def read_text(self, path: Path) -> str:
        known = self.texts.get(path)
        if known is not None:
            return known
        self.read.add(path)
        text = fileio.read_text(path, self.display(path), self.max_file_size)
        if len(text) <= _KEPT_TEXT:
            self.texts[path] = text
        return text

    def load_toml(self, path: Path) -> dict[str, Any]:
        return fileio.parse_toml(self.read_text(path), self.display(path))


_KEPT_TEXT = 256 * 1024
"""Files larger than this are read again when asked again rather than kept."""


def is_full_commit(ref: str | None) -> bool:
    return bool(ref) and _FULL_SHA.fullmatch(ref or "") is not None


def source_from_url(url: str, editable: bool = False) -> Source:
    """Classify a direct reference: ``git+https://h/r@ref#subdirectory=x``, an archive
    URL, a ``file:`` URL or a plain local path."""
    scheme, _, rest = url.partition("+") if re.match(r"^[a-z]+\+", url) else ("", "", url)
    if scheme in {"git", "hg", "svn", "bzr"}:
        rest = vcs_uri(rest)  # git+git@host:owner/repo.git: pip reads it as ssh://
    parts = urlsplit(rest)
    fragment = dict(p.split("=", 1) for p in parts.fragment.split("&") if "=" in p)
    subdirectory = fragment.get("subdirectory")
    if scheme in {"git", "hg", "svn", "bzr"}:
        path, ref = parts.path, None
        if "@" in path:
            path, _, ref = path.rpartition("@")
        repo = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        return Source(
            SourceKind.VCS,
            url=f"{scheme}+{repo}",
            ref=ref,
            commit=ref if is_full_commit(ref) else None,
            editable=editable,
            subdirectory=subdirectory,
        )
    if parts.scheme == "file":
        return Source(
            SourceKind.PATH, url=unquote(parts.path), editable=editable, subdirectory=subdirectory
        )
    if parts.scheme in {"http", "https", "ftp"}:
        clean = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        return Source(SourceKind.URL, url=clean, editable=editable, subdirectory=subdirectory)
    return Source(SourceKind.PATH, url=url, editable=editable, subdirectory=subdirectory)


def name_from_url(url: str) -> str | None:
    """The project name a name-less URL requirement implies: ``#egg=name``, the
    repository of a GitHub/GitLab archive or VCS URL, or an archive's file name."""
    m = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", url)
    if m:
        return m.group(1)
    parts = urlsplit(url.split("+", 1)[1] if re.match(r"^[a-z]+\+", url) else url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.netloc in {"github.com", "gitlab.com", "codeberg.org"} and len(segments) >= 2:
        return segments[1].removesuffix(".git").split("@")[0]
    if segments:
        last = PurePosixPath(unquote(segments[-1])).name.split("@")[0]
        if last.endswith(".whl"):
            return last.split("-")[0]
        for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tgz", ".git"):
            if last.endswith(suffix):
                stem = last[: -len(suffix)]
                m = re.match(r"(.+?)-\d", stem)
                return m.group(1) if m else stem
    return None


def pinned_version(specifier: str) -> str | None:
    """The exact version a specifier pins (``==1.2.3``, ``===1.2.3``), else None.
    ``==1.*`` is a range, not a pin."""
    m = re.fullmatch(r"\s*===?\s*([^\s,;*]+)\s*", specifier)
    return m.group(1) if m else None


_SIMPLE_PIN: re.Pattern[str] | None = None


def _parse_requirement(
    text: str,
) -> tuple[str, str | None, str | None, str | None, tuple[str, ...]]:
    """(name, url, specifier, marker, extras) of a PEP 508 string, as packaging reads
    them. ``name==version``, the form of nearly every line of a pinned file, is read by
    one regular expression (packaging's own version pattern) at a twentieth of the cost
    of packaging's parser, which reads everything else."""
    global _SIMPLE_PIN
    if _SIMPLE_PIN is None:
        from packaging.version import VERSION_PATTERN

        _SIMPLE_PIN = re.compile(
            r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*==\s*(" + VERSION_PATTERN + r")\s*",
            re.VERBOSE | re.IGNORECASE,
        )
    m = _SIMPLE_PIN.fullmatch(text)
    if m:
        return m.group(1), None, "==" + m.group(2), None, ()
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    return (
        req.name,
        req.url or None,
        str(req.specifier) or None,
        str(req.marker) if req.marker else None,
        tuple(sorted(req.extras)),
    )


def requirement(
    text: str,
    subject: str,
    evidence: Evidence,
    *,
    kind: DependencyKind,
    scope: Scope,
    mechanism: str,
    group: str | None = None,
    indexes: tuple[IndexRef, ...] = (),
    hashes: tuple[Hash, ...] = (),
    editable: bool = False,
) -> tuple[Component, Dependency]:
    """One PEP 508 requirement string as a component and the edge to it.

    Raises ``ValueError`` with packaging's own message when the string is not PEP 508.
    """
    name, url, specifier, marker, extras = _parse_requirement(text)
    sources: tuple[Source, ...] = ()
    if url:
        sources = (source_from_url(url, editable=editable),)
    version = pinned_version(specifier) if specifier else None
    component = pypi_component(name, version, evidence, sources=sources, hashes=hashes)
    dep = Dependency(
        source=subject,
        target=component.id,
        kind=kind,
        scope=scope,
        mechanism=mechanism,
        evidence=(evidence,),
        specifier=specifier or url,
        marker=marker,
        extras=extras,
        groups=(group,) if group else (),
        indexes=indexes,
        hashes=hashes,
    )
    return component, dep


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


class LineIndex:
    """Finds the line of a value in a TOML (or INI) text, by table, key and value."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {}
        self._starts: list[int] = []
        for i, line in enumerate(self.lines):
            if "[" not in line or len(line) > 4096:  # a header is short
                continue
            m = _HEADER.match(line)
            if m:
                name = m.group(1).replace('"', "").replace("'", "").replace(" ", "")
                self.headers.setdefault(name, []).append(i)
                self._starts.append(i)

    def table(self, *names: str, nth: int = 0) -> int | None:
        """0-based line of the first of ``names`` that is a header (``nth`` occurrence)."""
        for name in names:
            found = self.headers.get(name)
            if found and nth < len(found):
                return found[nth]
        return None

    def _end(self, start: int) -> int:
        for s in self._starts:
            if s > start:
                return s
        return len(self.lines)

    def find(
        self, value: str | None = None, *, tables: tuple[str, ...] = (), key: str | None = None
    ) -> int | None:
        """1-based line: of the quoted ``value`` after ``key`` inside the first of
        ``tables`` found; of the key when no value is given; None when not found."""
        found_table = self.table(*tables) if tables else 0
        start = found_table or 0
        end = self._end(start) if tables and found_table is not None else len(self.lines)
        key_line = None
        if key is not None:
            for i in range(start, end):
                stripped = self.lines[i].lstrip().replace('"', "").replace("'", "")
                if stripped.startswith(key) and stripped[len(key) :].lstrip().startswith("="):
                    key_line = start = i
                    break
        if value is None:
            if key is not None:
                return None if key_line is None else key_line + 1
            return None if found_table is None else start + 1
        # as written in a basic string, where quotes and backslashes are escaped
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        quoted = (f'"{value}"', f"'{value}'", f'"{escaped}"')
        for lo, hi in ((start, end), (0, len(self.lines))):
            for i in range(lo, hi):
                line = self.lines[i]
                if any(q in line for q in quoted):
                    return i + 1
        return None


def _bare(name: str) -> str:
    from depchain.redaction import quote

    return quote(name)[1:-1]


MAX_INI_LINE = 20_000
"""Longest line an INI file may have: configparser's option pattern backtracks
quadratically on a long run of blanks (300,000 of them: over 5 s)."""


def refuse_long_ini_lines(text: str, display: str) -> None:
    """Raise :class:`InputFileError` naming the first line longer than
    :data:`MAX_INI_LINE` characters, before configparser reads the text."""
    if len(text) <= MAX_INI_LINE:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_INI_LINE:
            from depchain.errors import InputFileError

            raise InputFileError(
                display, f"line {number}: longer than {MAX_INI_LINE:,} characters; not read"
            )


def ini_problem(exc: Exception) -> str:
    """What is wrong with an INI file (``setup.cfg``, ``tox.ini``, ``.gitmodules``), in
    one line with its line number, never quoting the text (a line may hold a token)."""
    import configparser

    from depchain.redaction import quote

    if isinstance(exc, configparser.DuplicateOptionError):
        where = f"line {exc.lineno}: " if exc.lineno else ""
        return f"{where}option {quote(exc.option)} repeated in section [{_bare(exc.section)}]"
    if isinstance(exc, configparser.DuplicateSectionError):
        where = f"line {exc.lineno}: " if exc.lineno else ""
        return f"{where}section [{_bare(exc.section)}] repeated"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno}: text before the first [section] header"
    if isinstance(exc, configparser.ParsingError) and exc.errors:
        numbers = ", ".join(str(n) for n, _ in exc.errors[:5])
        more = f" and {len(exc.errors) - 5} more" if len(exc.errors) > 5 else ""
        return f"line {numbers}{more}: neither a [section], a key = value nor a continuation"
    return f"cannot be read as INI ({type(exc).__name__})"
