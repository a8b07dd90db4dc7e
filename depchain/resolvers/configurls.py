"""Connection URLs in configuration: ``.env`` files and YAML, TOML, INI and JSON
configuration files (``settings.toml``, ``config.yaml``, ``alembic.ini``, ...).

Every string value is searched for URLs whose scheme names a server (PostgreSQL, Redis,
AMQP, HTTP, S3, ...: :data:`depchain.services.SCHEMES`); each distinct endpoint becomes
one service, linked from the project that holds the file (kind ``service``, mechanism
``connection-url``). Credentials are never kept (see :mod:`depchain.services`).

A host without a dot is not known to be inside or outside the deployment from this
file alone (``None``); ``localhost`` is inside; a name with a dot or a public address is
across a trust boundary. The merged graph later folds a URL whose host is a compose
service of the same project into that service (:func:`depchain.services.link_client_libraries`).
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depchain import fileio, yamlsafe
from depchain.errors import InputFileError
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
    Service,
)
from depchain.resolvers.base import ResolveContext, ini_problem, refuse_long_ini_lines
from depchain.services import LineFinder, is_url_value, scan_urls, url_service

NAME = "config-urls"

_MAX_VALUES = 200_000
"""Values searched per file: a bound on what a generated file can make us do."""


def is_dotenv(path: Path) -> bool:
    name = path.name.lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


# -- .env files -----------------------------------------------------------------------


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str
    line: int
    literal: bool = False
    """Single-quoted: no variable in it is replaced."""


_ADDRESS = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.\-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|sig|credential|auth|cookie|salt", re.I)


def interpolated_dotenv(entries: list[EnvEntry], addresses_only: bool = False) -> list[str]:
    """The value of each entry of a ``.env`` file as compose reads it: ``${VAR}`` in a
    value is the value of an entry above it (opentelemetry-demo's
    ``EMAIL_ADDR=http://email:${EMAIL_PORT}``); what no entry above gives stays
    ``${VAR}``; a single-quoted value is taken as written.

    ``addresses_only``: only values that are a host, a port or ``host:port`` under a
    name that says no secret are put in (what finds the server a URL names); any other
    stays ``${VAR}``, so that no password or token is written into a URL's path."""
    from depchain.resolvers.compose import interpolate  # compose reads this module

    values: dict[str, str] = {}
    found: list[str] = []
    for entry in entries:
        value = entry.value if entry.literal else interpolate(entry.value, values)[0]
        if not addresses_only or (_ADDRESS.fullmatch(value) and not _SECRET_KEY.search(entry.key)):
            values[entry.key] = value
        else:
            values.pop(entry.key, None)
        found.append(value)
    return found


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_dotenv(text: str, display: str) -> tuple[list[EnvEntry], list[InputError]]:
    """``KEY=VALUE`` lines as docker compose and python-dotenv read them: ``export``,
    single quotes (literal), double quotes (escapes, several lines), unquoted values
    ending at `` #``, comments and blank lines. A bad line is an error naming its number
    (never its text: it may hold a secret)."""
    entries: list[EnvEntry] = []
    errors: list[InputError] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number = i + 1
        stripped = lines[i].strip()
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, eq, rest = stripped.partition("=")
        key = key.strip()
        if not eq or not key or not _is_env_name(key):
            errors.append(InputError(display, f"line {number}: not a KEY=VALUE line"))
            continue
        rest = rest.lstrip()
        if rest[:1] in {"'", '"'}:
            quote = rest[0]
            body = rest[1:]
            parts: list[str] = []
            while True:
                end = _closing(body, quote)
                if end >= 0:
                    parts.append(body[:end])
                    break
                parts.append(body)
                if i >= len(lines):
                    errors.append(
                        InputError(display, f"line {number}: {quote}-quoted value never ends")
                    )
                    return entries, errors
                body = lines[i]
                i += 1
            value = "\n".join(parts)
            if quote == '"':
                value = _unescape(value)
            literal = quote == "'"
        else:
            literal = False
            value = rest
            for marker in (" #", "\t#"):
                if marker in value:
                    value = value[: value.index(marker)]
            value = value.strip()
        entries.append(EnvEntry(key, value, number, literal))
    return entries, errors


def _is_env_name(key: str) -> bool:
    return key.replace("_", "a").replace(".", "a").replace("-", "a").isalnum() and not (
        key[0].isdigit()
    )


def _closing(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in _ESCAPES:
            out.append(_ESCAPES[value[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


# -- structured files -----------------------------------------------------------------


_SCHEMA_KEYS = frozenset({"$schema", "$id", "$ref", "@context", "@id", "@type", "xmlns"})
_REFERENCE_WORDS = frozenset(
    {
        "about",
        "changelog",
        "contact",
        "doc",
        "docs",
        "documentation",
        "help",
        "home",
        "homepage",
        "href",
        "issues",
        "license",
        "link",
        "links",
        "readme",
        "repo",
        "repository",
        "schema",
        "source",
        "support",
        "tracker",
        "website",
        "wiki",
    }
)


_OWN_ADDRESS_WORDS = frozenset({"cors", "origins", "redirect", "callback"})


def is_own_address_key(key: str, value: str) -> bool:
    """A web address under a name that says it is where *browsers* reach this program,
    or may come from, not a server it talks to: temporal's ``TEMPORAL_CORS_ORIGINS``,
    ``ALLOWED_ORIGINS``, OAuth ``REDIRECT_URI`` and ``CALLBACK_URL``."""
    if not value.lstrip().lower().startswith(("http://", "https://")):
        return False
    words = {w for w in re.split(r"[^a-z]+", key.lower()) if w}
    return bool(words & _OWN_ADDRESS_WORDS) or {"allowed", "origin"} <= words


_SITE_KEYS = frozenset({"baseurl", "siteurl"})
"""A static site generator's own address (Hugo's ``baseURL``, MkDocs' ``site_url``)."""


def is_reference_key(key: str, value: str) -> bool:
    """A URL that names a document, not a server the program talks to: a JSON Schema
    ``$schema``/``$id``, or a web link under a key such as ``docs``, ``homepage``,
    ``contact_links`` or ``repository_url``."""
    if key in _SCHEMA_KEYS or key.lower().endswith(("$schema", "schema_url", "schemaurl")):
        return True
    if not value.lstrip().lower().startswith(("http://", "https://")):
        return False
    if is_own_address_key(key, value) or re.sub(r"[^a-z]", "", key.lower()) in _SITE_KEYS:
        return True
    words = {w for w in re.split(r"[^a-z]+", key.lower()) if w}
    return bool(words & _REFERENCE_WORDS)


def walk_strings(data: object) -> Iterator[tuple[str, str]]:
    """(nearest key, string) for every string in nested mappings and lists, without
    recursion (a deep document cannot exhaust the stack), at most :data:`_MAX_VALUES`."""
    stack: list[tuple[str, object]] = [("", data)]
    count = 0
    while stack and count < _MAX_VALUES:
        key, value = stack.pop()
        count += 1
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, dict):
            stack.extend((str(k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((key, v) for v in reversed(value))


def _ini_values(text: str, display: str) -> list[tuple[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    refuse_long_ini_lines(text, display)
    try:
        parser.read_string(text, source=display)
    except configparser.MissingSectionHeaderError as exc:
        raise InputFileError(
            display, f"invalid INI: line {exc.lineno}: a setting before any [section]"
        ) from None
    except configparser.DuplicateSectionError as exc:
        raise InputFileError(
            display, f"invalid INI: line {exc.lineno}: section [{exc.section}] twice"
        ) from None
    except configparser.DuplicateOptionError as exc:
        raise InputFileError(
            display,
            f"invalid INI: line {exc.lineno}: option {exc.option!r} twice in [{exc.section}]",
        ) from None
    except configparser.ParsingError as exc:
        where = ", ".join(str(n) for n, _ in exc.errors[:5])
        raise InputFileError(display, f"invalid INI: line {where}: not a setting") from None
    except configparser.Error as exc:
        raise InputFileError(display, f"invalid INI: {ini_problem(exc)}") from None
    values: list[tuple[str, str]] = []
    for section in [parser.default_section, *parser.sections()]:
        for key, value in parser[section].items():
            if section != parser.default_section and key in parser.defaults():
                continue
            if value is not None:
                values.append((key, value))
    return values


def _text_values(text: str) -> list[tuple[str, str, int]]:
    """A configuration format we do not parse (nginx, pgbouncer): its non-comment lines."""
    return [
        ("", line, number)
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith(("#", ";", "//"))
    ]


# -- resolving ------------------------------------------------------------------------


@dataclass
class UrlCollector:
    """Services found by URL, deduplicated by id, and the edges to them."""

    display: str
    resolver: str
    known_internal_hosts: frozenset[str] = frozenset()
    services: dict[str, Service] = field(default_factory=dict)
    dependencies: dict[tuple[str, str], Dependency] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)

    def add(self, source: str, value: object, line: int | None, path: str | None = None) -> None:
        """Every URL in ``value`` (found on ``line`` of ``path``, this file by default)
        as a service, linked from ``source``."""
        found, problems = scan_urls(value)
        where = path or self.display
        for problem in problems:
            self.errors.append(InputError(where, f"line {line}: {problem}" if line else problem))
        for url in found:
            evidence = Evidence(where, line, self.resolver)
            service = url_service(url, evidence, self.known_internal_hosts)
            if service is None:
                continue
            old = self.services.get(service.id)
            self.services[service.id] = old.merged(service) if old else service
            dep = Dependency(
                source=source,
                target=service.id,
                kind=DependencyKind.SERVICE,
                scope=Scope.REQUIRED,
                mechanism="connection-url",
                evidence=(evidence,),
            )
            key = (source, service.id)
            known = self.dependencies.get(key)
            self.dependencies[key] = known.merged(dep) if known else dep


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    subject = ctx.subject_for(path)
    collector = UrlCollector(display, NAME)
    errors: list[InputError] = []
    suffix = path.suffix.lower()
    if is_dotenv(path):
        entries, errors = parse_dotenv(text, display)
        values = interpolated_dotenv(entries, addresses_only=True)
        for entry, value in zip(entries, values, strict=True):
            if not is_own_address_key(entry.key, value):
                collector.add(subject.id, value, entry.line)
    elif suffix in {".yml", ".yaml", ".toml", ".json"}:
        data = _load(text, display, suffix)
        lines = LineFinder(text)
        for key, value in walk_strings(data):
            if "://" in value and is_url_value(value) and not is_reference_key(key, value):
                collector.add(subject.id, value, _line(lines, key, value))
    elif suffix in {".ini", ".cfg", ".conf"}:
        try:
            pairs = _ini_values(text, display)
        except InputFileError:
            if suffix != ".conf":
                raise
            # ``.conf`` is many formats; not INI: read it line by line
            for _, value, number in _text_values(text):
                collector.add(subject.id, value, number)
        else:
            lines = LineFinder(text)
            for key, value in pairs:
                if "://" in value and is_url_value(value) and not is_reference_key(key, value):
                    collector.add(subject.id, value, _line(lines, key, value))
    return fragment_of(subject, collector, errors)


def fragment_of(
    subject: Component, collector: UrlCollector, errors: list[InputError] | None = None
) -> Fragment:
    return Fragment(
        components=(subject,),
        services=tuple(collector.services.values()),
        dependencies=tuple(collector.dependencies.values()),
        errors=tuple(errors or ()) + tuple(collector.errors),
    )


def _load(text: str, display: str, suffix: str) -> Any:
    if suffix in {".yml", ".yaml"}:
        return yamlsafe.load_all(text, display)
    if suffix == ".toml":
        return fileio.parse_toml(text, display)
    return fileio.parse_json(text, display)


def _line(lines: LineFinder, key: str, value: str) -> int | None:
    first = value.strip().splitlines()[0] if value.strip() else value
    return lines.find(first) or (lines.key(key) if key else None)
