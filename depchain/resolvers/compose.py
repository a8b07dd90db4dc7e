"""docker compose files: each service, the image that runs it, and what it talks to.

Read: ``services`` (YAML anchors and ``<<`` merge keys, through the safe loader),
``extends`` (a service of the same file, or of another file inside the scanned tree;
cycles and depth bounded), ``profiles``, ``image``, ``build``,
``pull_policy``, ``ports`` and ``expose``, ``depends_on`` (list or mapping),
``environment`` (list or mapping) and ``env_file`` (read when inside the scanned tree).

Variables are interpolated as compose does (see :func:`interpolate`) with the values of
the ``.env`` file beside the compose file, and as unset otherwise (the shell's
environment is never read): ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?message}``, ``${VAR?message}``, ``${VAR:+alt}`` and ``$$``. What stays
unresolved in a URL is kept as ``${VAR}``: a connection URL with placeholders for its
user and password is still a service with credentials present (and redacted), and one
whose host is a variable says ``depchain:host-unresolved`` (a port that is one:
``depchain:port-unresolved``, and no port is guessed).

- each compose service is a service ``service:compose:<name>`` (``<folder>/<name>``
  when the file is not in the scanned root), inside the deployment (no trust
  boundary), with endpoints ``tcp://<name>:<container port>``; the project links it
  (kind ``service``, mechanism ``compose``; scope ``optional`` when it only runs under
  a profile, the profiles as its groups);
- a pulled image is a ``pkg:docker`` component the project depends on at run time
  (kind ``dynamic``, mechanism ``container-image``); an image that is built here
  (``build``, or the tag such a service gives its result, or ``pull_policy: never``)
  is the project's own and no component; an image that stays unresolved
  (``${VAR}`` without default, a documentation placeholder such as
  ``apache/airflow:|version|``) is kept as written, with ``depchain:image-unresolved``;
- ``depends_on``: an edge between the two services (mechanism ``depends-on``), its
  evidence the line of the entry in ``depends_on``;
- a file applied on top of others (``-f compose.yaml -f compose.agent.yaml``): a
  service it depends on, or only overrides (neither ``image`` nor ``build``), that a
  compose file of its folder or of an enclosing one defines is that service;
- connection URLs in the environment: a service per endpoint, linked from the compose
  service that holds them (mechanism ``connection-url``).

Build arguments and environment values are never copied into the model: only what a
URL in them names, without its credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from depchain import yamlsafe
from depchain.errors import InputFileError
from depchain.images import image_component, parse_image_or_repository
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
    Service,
    redact_url,
)
from depchain.redaction import quote
from depchain.resolvers._deployment import Deployment
from depchain.resolvers.base import ResolveContext
from depchain.resolvers.configurls import (
    UrlCollector,
    interpolated_dotenv,
    is_own_address_key,
    parse_dotenv,
)
from depchain.services import LineFinder, image_family, name_family

NAME = "compose"

MAX_EXTENDS = 10
"""How many ``extends`` a service may chain through."""
MAX_NESTING = 10
"""How deeply ``${A:-${B:-...}}`` defaults may nest."""
_LOCAL_PULL = frozenset({"never", "build"})
"""Pull policies under which the image is never pulled: it is built here."""

# -- interpolation --------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(
    value: str, variables: Mapping[str, str] | None = None, _depth: int = 0
) -> tuple[str, bool]:
    """``value`` with compose's variables resolved from ``variables`` (the ``.env`` file
    of the compose project; the shell's environment is never read), every other
    variable taken as not set:

    - ``${VAR}``, ``$VAR``: its value, else unresolved;
    - ``${VAR:-default}`` (unset or empty) and ``${VAR-default}`` (unset): the default;
    - ``${VAR:+alt}`` and ``${VAR+alt}``: ``alt`` when set, else nothing;
    - ``${VAR:?message}`` and ``${VAR?message}``: its value, else unresolved (compose
      would stop with the message);
    - ``$$``: a ``$``.

    What stays unresolved is written ``${VAR}`` (``$VAR`` as written), without any
    default or message, so that a URL holding it can still be read (``?`` in a message
    would end a URL's authority). The flag says whether everything was resolved."""
    env = variables or {}
    out: list[str] = []
    resolved = True
    i = 0
    while i < len(value):
        c = value[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        following = value[i + 1 : i + 2]
        if following == "$":
            out.append("$")
            i += 2
            continue
        if following == "{":
            end = _closing_brace(value, i + 2)
            if end < 0 or _depth >= MAX_NESTING:
                out.append(value[i:])
                return "".join(out), False
            inner = value[i + 2 : end]
            text, ok = _expand(inner, env, _depth)
            if text is None:
                name = _NAME.match(inner)
                out.append(f"${{{name.group(0)}}}" if name else value[i : end + 1])
                resolved = False
            else:
                out.append(text)
                resolved = resolved and ok
            i = end + 1
            continue
        m = _NAME.match(value, i + 1)
        if m:
            if m.group(0) in env:
                out.append(env[m.group(0)])
            else:
                out.append(value[i : m.end()])
                resolved = False
            i = m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out), resolved


def _closing_brace(value: str, start: int) -> int:
    depth = 1
    for i in range(start, len(value)):
        if value[i] == "{":
            depth += 1
        elif value[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _expand(inner: str, env: Mapping[str, str], depth: int) -> tuple[str | None, bool]:
    m = _NAME.match(inner)
    if not m:
        return None, False
    name, rest = m.group(0), inner[m.end() :]
    is_set, non_empty = name in env, bool(env.get(name))
    if not rest:
        return (env[name], True) if is_set else (None, False)
    for op, present in ((":-", non_empty), ("-", is_set)):
        if rest.startswith(op):
            return (env[name], True) if present else interpolate(rest[len(op) :], env, depth + 1)
    for op, present in ((":+", non_empty), ("+", is_set)):
        if rest.startswith(op):
            return interpolate(rest[len(op) :], env, depth + 1) if present else ("", True)
    for op, present in ((":?", non_empty), ("?", is_set)):
        if rest.startswith(op):
            return (env[name], True) if present else (None, False)
    return None, False  # not a compose modifier: kept as written


def _interpolated(value: object, env: Mapping[str, str]) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return interpolate(value, env)[0]
    return None


def _project_variables(path: Path, ctx: ResolveContext) -> dict[str, str]:
    """The variables compose interpolates the file with: the ``.env`` file of its project
    folder (the compose file's own), read when it is inside the scanned tree. Its own
    problems are reported where it is read as an input, not here."""
    dotenv = path.parent / ".env"
    try:
        if not dotenv.resolve().is_relative_to(ctx.root.resolve()) or not dotenv.is_file():
            return {}
        text = ctx.read_text(dotenv)
    except (OSError, InputFileError):
        return {}
    entries, _ = parse_dotenv(text, ctx.display(dotenv))
    return {e.key: v for e, v in zip(entries, interpolated_dotenv(entries), strict=True)}


# -- where things are written ---------------------------------------------------------

_KEY = re.compile(
    r"^( *)(?:\"([^\"]+)\"|'([^']+)'|([^\s#'\"\-][^:#]*?|-[^\s:#][^:#]*?))\s*:(?:\s|$)"
)


def _indent_of(line: str) -> int | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    return len(line) - len(line.lstrip(" "))


def mapping_keys(lines: list[str], start: int, end: int) -> dict[str, tuple[int, int]]:
    """The keys of the block mapping written in ``lines[start:end]`` (0-based): each key
    with its line and the end of its block (the next key at the same indentation)."""
    indent: int | None = None
    found: list[tuple[str, int]] = []
    for i in range(start, min(end, len(lines))):
        line = lines[i]
        level = _indent_of(line)
        if level is None or line.lstrip().startswith(("---", "...")):
            continue
        if indent is None:
            indent = level
        if level < indent:
            break
        if level != indent:
            continue
        m = _KEY.match(line)
        if m:
            found.append((m.group(2) or m.group(3) or m.group(4), i))
    keys: dict[str, tuple[int, int]] = {}
    for n, (key, line_no) in enumerate(found):
        block_end = found[n + 1][1] if n + 1 < len(found) else _block_end(lines, line_no, end)
        keys.setdefault(key, (line_no, block_end))
    return keys


def _block_end(lines: list[str], start: int, end: int) -> int:
    level = _indent_of(lines[start]) or 0
    for i in range(start + 1, min(end, len(lines))):
        other = _indent_of(lines[i])
        if other is not None and other <= level:
            return i
    return min(end, len(lines))


# -- resolving ------------------------------------------------------------------------


@dataclass
class _Compose(Deployment):
    path: Path
    ctx: ResolveContext
    display: str
    subject: Component
    prefix: str
    lines: LineFinder
    service_blocks: dict[str, tuple[int, int]]
    collector: UrlCollector
    components: dict[str, Component] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    dependencies: dict[tuple[str, str, str], Dependency] = field(default_factory=dict)
    image_uses: dict[str, list[tuple[Scope, Evidence]]] = field(default_factory=dict)
    pending_depends: list[tuple[str, object]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    loaded: dict[Path, dict[str, Any]] = field(default_factory=dict)
    env_files: dict[Path, list[tuple[str, str, int]] | None] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    """The project's ``.env`` values compose interpolates the file with."""
    homes: dict[str, str] = field(default_factory=dict)
    """Services this file only overrides (neither ``image`` nor ``build``), by the
    prefix of the folder whose compose file defines them."""
    _elsewhere: dict[str, str] | None = None

    def elsewhere(self) -> dict[str, str]:
        """The services other compose files define, by name, with the prefix of their
        folder: those of this folder, then of each enclosing folder inside the tree (a
        file such as ``compose.agent.yaml`` or ``reverse-proxy/compose.caddy.yml`` is
        applied on top of them with several ``-f``)."""
        if self._elsewhere is None:
            self._elsewhere = _other_compose_services(self)
        return self._elsewhere

    def evidence(self, line: int | None) -> Evidence:
        return Evidence(self.display, line, NAME)

    def error(self, line: int | None, message: str) -> None:
        message = redact_url(message)  # a name written where a URL with a token was
        self.errors.append(InputError(self.display, f"line {line}: {message}" if line else message))

    def service_id(self, name: str) -> str:
        return f"service:compose:{self.homes.get(name, self.prefix)}{name}"

    def service_line(self, name: str) -> int | None:
        block = self.service_blocks.get(name)
        return block[0] + 1 if block else None

    def key_line(self, name: str, key: str) -> int | None:
        """The line of ``key`` inside service ``name``'s own block."""
        block = self.service_blocks.get(name)
        if block is None:
            return None
        keys = mapping_keys(self.lines.lines, block[0] + 1, block[1])
        found = keys.get(key)
        return found[0] + 1 if found else None

    def line_in_service(
        self, name: str, needle: str, *, key: bool = False, fallback: bool = True
    ) -> int | None:
        """Where ``needle`` is written: in the service's block, else anywhere in the file
        (an anchor or an ``extends`` base), else (``fallback``) the service's own line."""
        block = self.service_blocks.get(name)
        find = self.lines.key if key else self.lines.find
        if block is not None:
            found = find(needle, block[0], block[1])
            if found:
                return found
        return find(needle) or (self.service_line(name) if fallback else None)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    data = yamlsafe.load(text, display)
    subject = ctx.subject_for(path)
    if data is None:
        return Fragment(components=(subject,))
    if not isinstance(data, dict):
        raise InputFileError(display, "not a compose file: the top level is not a mapping")
    services = data.get("services")
    if services is None:
        return Fragment(components=(subject,))
    if not isinstance(services, dict):
        raise InputFileError(display, "not a compose file: `services` is not a mapping")
    names = {str(n) for n in services if isinstance(n, (str, int))}
    folder = PurePosixPath(display).parent.as_posix()
    finder = LineFinder(text)
    top = mapping_keys(finder.lines, 0, len(finder.lines))
    blocks: dict[str, tuple[int, int]] = {}
    if "services" in top:
        start, end = top["services"]
        blocks = mapping_keys(finder.lines, start + 1, end)
    variables = _project_variables(path, ctx)
    state = _Compose(
        path=path,
        ctx=ctx,
        display=display,
        subject=subject,
        prefix="" if folder in {"", "."} else f"{folder}/",
        lines=finder,
        service_blocks=blocks,
        collector=UrlCollector(display, NAME, frozenset(names)),
        variables=variables,
    )
    local_images = {
        interpolate(spec["image"], variables)[0]
        for spec in services.values()
        if isinstance(spec, dict) and "build" in spec and isinstance(spec.get("image"), str)
    }
    for raw_name, raw_spec in services.items():
        if not isinstance(raw_name, (str, int)) or isinstance(raw_name, bool):
            state.error(None, "a service name that is not a string")
            continue
        name = str(raw_name)
        if raw_spec is None:
            raw_spec = {}
        if not isinstance(raw_spec, dict):
            state.error(state.service_line(name), f"service {name!r} is not a mapping")
            continue
        spec = _extended(state, name, raw_spec, path, services, ())
        if "image" not in spec and "build" not in spec:
            home = state.elsewhere().get(name)
            if home is not None:
                state.homes[name] = home  # an override of a service defined there
        _service(state, name, spec, local_images)
    built = {s.name for s in state.services.values()}
    for name, depends in state.pending_depends:
        _depends_on(state, name, depends, names, built)
    for image_id, uses in state.image_uses.items():
        scope = Scope.REQUIRED if any(s is Scope.REQUIRED for s, _ in uses) else Scope.OPTIONAL
        state.add_edge(
            Dependency(
                source=subject.id,
                target=image_id,
                kind=DependencyKind.DYNAMIC,
                scope=scope,
                mechanism="container-image",
                evidence=tuple(sorted({e for _, e in uses})),
            )
        )
    return state.fragment(state.errors, state.notes)


def _service(
    state: _Compose,
    name: str,
    spec: dict[str, Any],
    local_images: set[str],
) -> None:
    sid = state.service_id(name)
    line = state.service_line(name)
    properties: list[tuple[str, str]] = [
        ("depchain:deployment", "compose"),
        ("depchain:hostname", name),
    ]
    for extra in ("hostname", "container_name"):
        alias = spec.get(extra)
        if isinstance(alias, str) and alias:
            properties.append(("depchain:hostname", interpolate(alias, state.variables)[0]))

    profiles = [str(p) for p in _as_list(spec.get("profiles")) if isinstance(p, (str, int))]
    scope = Scope.OPTIONAL if profiles else Scope.REQUIRED
    if profiles:
        properties.append(("depchain:compose-profiles", ",".join(sorted(profiles))))

    build = spec.get("build")
    if build is not None:
        context = build if isinstance(build, str) else None
        if isinstance(build, dict):
            context = build.get("context") if isinstance(build.get("context"), str) else "."
            target = build.get("target")
            if isinstance(target, str):
                properties.append(
                    ("depchain:build-target", interpolate(target, state.variables)[0])
                )
            dockerfile = build.get("dockerfile")
            if isinstance(dockerfile, str):
                properties.append(
                    ("depchain:build-dockerfile", interpolate(dockerfile, state.variables)[0])
                )
        properties.append(("depchain:build", interpolate(context or ".", state.variables)[0]))

    image: str | None = None
    family: str | None = None
    raw_image = spec.get("image")
    if raw_image is not None and not isinstance(raw_image, str):
        state.error(
            state.key_line(name, "image") or line, f"service {name!r}: image is not a string"
        )
    elif isinstance(raw_image, str):
        image, family = _image(state, name, raw_image, spec, local_images, scope, properties)
    family = family or name_family(name)
    if family:
        properties.append(("depchain:family", family))

    endpoints, published = _ports(spec, name, state.variables)
    if published:
        properties.append(("depchain:published-ports", ",".join(published)))
    pull = spec.get("pull_policy")
    if isinstance(pull, str):
        properties.append(("depchain:pull-policy", pull))

    state.services[sid] = Service(
        id=sid,
        name=name,
        endpoints=tuple(endpoints),
        evidence=(state.evidence(line),),
        image=redact_url(image) if image else None,
        trust_boundary=False,
        properties=tuple(sorted({(k, redact_url(v)) for k, v in properties})),
    )
    state.add_edge(
        Dependency(
            source=state.subject.id,
            target=sid,
            kind=DependencyKind.SERVICE,
            scope=scope,
            mechanism="compose",
            evidence=(state.evidence(line),),
            groups=tuple(sorted(redact_url(p) for p in profiles)),
        )
    )
    state.pending_depends.append((name, spec.get("depends_on")))
    _environment(state, name, spec)


def _image(
    state: _Compose,
    name: str,
    raw: str,
    spec: dict[str, Any],
    local_images: set[str],
    scope: Scope,
    properties: list[tuple[str, str]],
) -> tuple[str, str | None]:
    """The image as the service names it; the component for a pulled image; the
    service family the image runs (``postgres:*`` is PostgreSQL)."""
    # what stays unresolved keeps its ``$``, which no image reference holds: such an
    # image is never complete, and only its repository may be known
    text, _ = interpolate(raw, state.variables)
    line = state.key_line(name, "image") or state.line_in_service(name, raw)
    evidence = state.evidence(line)
    ref, complete = parse_image_or_repository(text)
    if not complete:
        properties.append(("depchain:image-unresolved", raw))
    pull = spec.get("pull_policy")
    if "build" in spec or text in local_images or (isinstance(pull, str) and pull in _LOCAL_PULL):
        properties.append(("depchain:image-source", "local-build"))
        return text, None
    if ref is None:
        if text.strip() and "$" not in text:  # no variable left unresolved: not an image
            state.error(
                line, f"service {quote(name)}: image {quote(text)} is not an image reference"
            )
        return text, None
    component = image_component(ref, evidence, unresolved=None if complete else raw)
    state.add_component(component)
    state.image_uses.setdefault(component.id, []).append((scope, evidence))
    return text, image_family(ref.display_name)


def _ports(spec: dict[str, Any], name: str, env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Endpoints ``tcp://<name>:<container port>`` and published ``host:container/proto``."""
    endpoints: list[str] = []
    published: list[str] = []
    for entry in [*_as_list(spec.get("ports")), *_as_list(spec.get("expose"))]:
        target: str | None = None
        host: str | None = None
        protocol = "tcp"
        if isinstance(entry, bool):
            continue
        if isinstance(entry, int):
            target = str(entry)
        elif isinstance(entry, str):
            text = interpolate(entry, env)[0].strip()
            text, _, proto = text.partition("/")
            protocol = proto.lower() or "tcp"
            before, _, target = text.rpartition(":")
            host = before or None
        elif isinstance(entry, dict):
            raw_target = entry.get("target")
            target = _interpolated(raw_target, env)
            raw_published = entry.get("published")
            host = _interpolated(raw_published, env) if raw_published is not None else None
            if isinstance(entry.get("protocol"), str):
                protocol = entry["protocol"].lower()
        if not target or not re.fullmatch(r"\d{1,5}(?:-\d{1,5})?", target):
            continue
        endpoints.append(f"{protocol}://{name}:{target}")
        if host:
            published.append(f"{host}:{target}/{protocol}")
    return sorted(set(endpoints)), sorted(set(published))


def _depends_on(
    state: _Compose, name: str, value: object, names: set[str], built: set[str]
) -> None:
    # (as written, the service it names, scope): a list's entries are values, which
    # compose interpolates (appwrite's ``- ${_APP_DB_HOST:-postgresql}``); a mapping's
    # keys are not
    entries: list[tuple[str, str | None, Scope]] = []
    if isinstance(value, list):
        for v in value:
            if isinstance(v, (str, int)) and not isinstance(v, bool):
                written = str(v)
                text, resolved = interpolate(written, state.variables)
                entries.append((written, text if resolved else None, Scope.REQUIRED))
    elif isinstance(value, dict):
        for target, options in value.items():
            optional = isinstance(options, dict) and options.get("required") is False
            scope = Scope.OPTIONAL if optional else Scope.REQUIRED
            entries.append((str(target), str(target), scope))
    elif value is not None:
        state.error(
            state.key_line(name, "depends_on"), f"service {name!r}: depends_on is malformed"
        )
    for written, target, scope in entries:
        line = _depends_on_line(state, name, written)
        if target is None:
            state.notes.append(
                (
                    state.display,
                    f"line {line}: service {quote(name)} depends on {quote(written)}, "
                    "a variable without a value; the service it names is not known",
                )
            )
            continue
        if target not in names:
            home = state.elsewhere().get(target)
            if home is None:
                state.error(line, f"service {name!r} depends on {target!r}, which is not defined")
                continue
            # defined by a compose file this one is applied with: the same service
            state.homes[target] = home
            state.add_service(
                Service(
                    id=state.service_id(target),
                    name=target,
                    evidence=(state.evidence(line),),
                    trust_boundary=False,
                    properties=(("depchain:deployment", "compose"), ("depchain:hostname", target)),
                )
            )
            built.add(target)
        if target not in built:
            continue  # defined, but unreadable: that is said where it is defined
        state.add_edge(
            Dependency(
                source=state.service_id(name),
                target=state.service_id(target),
                kind=DependencyKind.SERVICE,
                scope=scope,
                mechanism="depends-on",
                evidence=(state.evidence(line),),
            )
        )


def _depends_on_line(state: _Compose, name: str, target: str) -> int | None:
    """The line of ``target``'s entry in service ``name``'s ``depends_on`` (``- db``,
    ``db:`` or ``[db, cache]``), else the ``depends_on`` line itself, else (it came from
    an anchor or ``extends``) the service's line."""
    block = state.service_blocks.get(name)
    if block is None:
        return state.service_line(name)
    key = mapping_keys(state.lines.lines, block[0] + 1, block[1]).get("depends_on")
    if key is None:
        return state.service_line(name)
    start, end = key
    quoted = re.escape(target)
    entry = re.compile(
        rf"^\s*(?:-\s*(?:\"{quoted}\"|'{quoted}'|{quoted})\s*(?:#.*)?$"
        rf"|(?:\"{quoted}\"|'{quoted}'|{quoted})\s*:(?:\s|$))"
    )
    for index in range(start + 1, end):
        if entry.match(state.lines.lines[index]):
            return index + 1
    return start + 1


def _environment(state: _Compose, name: str, spec: dict[str, Any]) -> None:
    source = state.service_id(name)
    for key, value in _env_pairs(spec.get("environment"), state.variables):
        if value is None or "://" not in value or is_own_address_key(key, value):
            continue
        line = state.line_in_service(name, key, key=True)
        state.collector.add(source, value, line)
    for env_path, required in _env_files(spec.get("env_file"), state.variables):
        read = _read_env_file(state, name, env_path, required)
        if read is None:
            continue
        env_display, entries = read
        for key, value, line in entries:
            if "://" in value and not is_own_address_key(key, value):
                # compose interpolates env_file values too
                text = interpolate(value, state.variables)[0]
                state.collector.add(source, text, line, path=env_display)


def _env_pairs(value: object, env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    if isinstance(value, dict):
        for key, val in value.items():
            pairs.append((str(key), _interpolated(val, env)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                key, eq, val = item.partition("=")
                pairs.append((key.strip(), interpolate(val, env)[0] if eq else None))
    return pairs


def _env_files(value: object, env: Mapping[str, str]) -> list[tuple[str, bool]]:
    files: list[tuple[str, bool]] = []
    for item in _as_list(value):
        if isinstance(item, str):
            files.append((interpolate(item, env)[0], True))
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            path = interpolate(item["path"], env)[0]
            files.append((path, item.get("required") is not False))
    return files


def _read_env_file(
    state: _Compose, name: str, written: str, required: bool
) -> tuple[str, list[tuple[str, str, int]]] | None:
    """(its path as shown, its ``KEY=VALUE`` entries) when it can be read."""
    line = state.line_in_service(name, written) or state.key_line(name, "env_file")
    said = redact_url(written)
    shown = Path(os.path.normpath(state.path.parent / written))
    target = shown.resolve()
    if target in state.env_files:
        cached = state.env_files[target]
        return None if cached is None else (state.ctx.display(shown), cached)
    state.env_files[target] = None
    if not target.is_relative_to(state.ctx.root.resolve()):
        state.notes.append(
            (
                state.display,
                f"line {line}: env_file {said} is outside the scanned tree; not read",
            )
        )
        return None
    if not target.is_file():
        if required:
            state.notes.append(
                (
                    state.display,
                    f"line {line}: env_file {said} does not exist; its variables were not read",
                )
            )
        return None
    env_display = state.ctx.display(shown)
    try:
        text = state.ctx.read_text(target)
    except InputFileError as exc:
        state.errors.append(InputError(env_display, exc.message))
        return None
    entries, errors = parse_dotenv(text, env_display)
    state.errors.extend(errors)
    result = [(e.key, e.value, e.line) for e in entries]
    state.env_files[target] = result
    return env_display, result


# -- other compose files --------------------------------------------------------------


def _other_compose_services(state: _Compose) -> dict[str, str]:
    from fnmatch import fnmatch

    from depchain.resolvers import _COMPOSE

    root = state.ctx.root.resolve()
    here = state.path.resolve()
    found: dict[str, str] = {}
    folder = here.parent
    while folder.is_relative_to(root):
        try:
            candidates = sorted(
                p for p in folder.iterdir() if any(fnmatch(p.name, g) for g in _COMPOSE)
            )
        except OSError:
            candidates = []
        relative = state.ctx.display(folder) if folder != root else ""
        prefix = "" if relative in {"", "."} else f"{relative}/"
        for candidate in candidates:
            if candidate == here or candidate.is_symlink() or not candidate.is_file():
                continue
            try:
                data = yamlsafe.load(state.ctx.read_text(candidate), state.ctx.display(candidate))
            except InputFileError:
                continue  # said when that file is read itself
            services = data.get("services") if isinstance(data, dict) else None
            if not isinstance(services, dict):
                continue
            for key, spec in services.items():
                # an override there names no image either: not where it is defined
                if (
                    isinstance(key, (str, int))
                    and not isinstance(key, bool)
                    and isinstance(spec, dict)
                    and ("image" in spec or "build" in spec)
                ):
                    found.setdefault(str(key), prefix)
        if folder == root:
            break
        folder = folder.parent
    return found


# -- extends --------------------------------------------------------------------------


def _extended(
    state: _Compose,
    name: str,
    spec: dict[str, Any],
    file: Path,
    services: dict[Any, Any],
    chain: tuple[tuple[Path, str], ...],
) -> dict[str, Any]:
    """``spec`` with what it ``extends`` merged beneath it."""
    ext = spec.get("extends")
    if ext is None:
        return spec
    own = {k: v for k, v in spec.items() if k != "extends"}
    line = state.key_line(name, "extends") if not chain else state.service_line(chain[0][1])
    base_name: object = ext
    base_file: object = None
    if isinstance(ext, dict):
        base_name, base_file = ext.get("service"), ext.get("file")
    if not isinstance(base_name, str) or (base_file is not None and not isinstance(base_file, str)):
        state.error(line, f"service {name!r}: extends is malformed")
        return own
    if len(chain) >= MAX_EXTENDS:
        state.error(line, f"service {name!r}: extends is chained deeper than {MAX_EXTENDS}")
        return own
    target_file = file
    target_services = services
    if base_file is not None:
        target_file = (file.parent / interpolate(base_file, state.variables)[0]).resolve()
        loaded = _load_other(state, target_file, line, name)
        if loaded is None:
            return own
        target_services = loaded
    here = (file.resolve(), name)
    there = (target_file.resolve(), base_name)
    if there in chain or there == here:
        state.error(line, f"service {name!r}: extends forms a cycle through {base_name!r}")
        return own
    base = target_services.get(base_name)
    if not isinstance(base, dict):
        state.error(line, f"service {name!r} extends {base_name!r}, which is not defined")
        return own
    base = _extended(state, base_name, base, target_file, target_services, (*chain, here))
    return _merge(base, own)


def _load_other(
    state: _Compose, target: Path, line: int | None, name: str
) -> dict[Any, Any] | None:
    if target in state.loaded:
        return state.loaded[target]
    root = state.ctx.root.resolve()
    written = state.ctx.display(target)
    if not target.is_relative_to(root):
        state.error(line, f"service {name!r}: extends a file outside the scanned tree; not read")
        return None
    if not target.is_file():
        state.error(line, f"service {name!r}: extends {written}, which does not exist")
        return None
    try:
        data = yamlsafe.load(state.ctx.read_text(target), written)
    except InputFileError as exc:
        state.errors.append(InputError(exc.path, exc.message))
        return None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        state.error(line, f"service {name!r}: extends {written}, which has no services")
        return None
    state.loaded[target] = services
    return services


def _merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge for ``extends``: mappings merge, lists of ports and files add up,
    anything else is replaced by the extending service."""
    merged = dict(base)
    merged.pop("extends", None)
    for key, value in own.items():
        old = merged.get(key)
        if key in {"environment", "labels"} and old is not None:
            merged[key] = {**_as_mapping(old), **_as_mapping(value)}
        elif key in {"ports", "expose", "env_file", "volumes", "profiles"} and old is not None:
            merged[key] = [*_as_list(old), *_as_list(value)]
        elif key == "depends_on" and isinstance(old, (dict, list)):
            merged[key] = {**_as_mapping(old, none=True), **_as_mapping(value, none=True)}
        else:
            merged[key] = value
    return merged


def _as_mapping(value: object, none: bool = False) -> dict[str, Any]:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    result: dict[str, Any] = {}
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, (str, int)):
                continue
            if none:
                result[str(item)] = None
            else:
                key, eq, val = str(item).partition("=")
                result[key] = val if eq else None
    return result


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
