"""Dockerfiles and Containerfiles, read statically (nothing is built or pulled).

Read: parser directives (``# escape=`` included), comments, line continuations,
here-documents, case-insensitive instruction names, global ``ARG`` defaults substituted
into ``FROM`` (``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:+alt}``), ``FROM [--platform=...] image[:tag][@digest] [AS name]``, stage
references by name and by index, ``COPY --from``, ``RUN --mount=...,from=``, ``ADD`` of
URLs, and the packages that ``RUN`` installs with ``apt-get install``/``apt install``,
``apk add`` and ``pip install`` (``pip3``, ``python -m pip``, ``uv pip``).

Which stage ships: the last stage is the image that is built by default; it and the
stages it is built ``FROM`` (its base chain) are the *runtime* stages. Every other stage
only feeds later stages (or is an alternative ``--target``), so it is build-time.

- the base image at the root of the runtime chain: ``dynamic``, mechanism
  ``container-base`` (the platform the shipped program runs on);
- the base image of any other stage: ``build``, mechanism ``build-stage``;
- a package installed in a runtime stage: ``dynamic``, mechanism ``container-package``;
  in a build-only stage: ``build``, mechanism ``apt-get``, ``apk`` or ``pip``;
- files copied from another image (``COPY --from=image``) or fetched by ``ADD <url>``
  into a runtime stage are carried in the shipped image: ``static``, mechanism
  ``copy-from`` / ``add-url``; into a build-only stage: ``build``, same mechanisms;
  ``RUN --mount=from=image``: ``build``, mechanism ``mount-from``.

Images are ``pkg:docker/<namespace>/<name>@<tag>`` with the digest as the ``digest``
qualifier and a registry other than Docker Hub as ``repository_url``; Docker Hub's
official images have the namespace ``library`` (see :mod:`depchain.images`). OS packages
(``apt-get``/``apt``, ``apk``, ``dnf``/``yum``/``microdnf``/``tdnf``) are
``pkg:deb/<distribution>/<name>``, ``pkg:apk/<distribution>/<name>`` and
``pkg:rpm/<distribution>/<name>``, the distribution (os-release ID: ``debian``, ``ubuntu``,
``alpine``, ``fedora``...) being that of the image at the root of the stage's ``FROM``
chain (stages and ``ARG`` defaults followed), as its name or tag tells (see
:func:`distribution`); when they do not, the purl has no distribution and a note says
why. pip packages are ``pkg:pypi/<name>``. Every edge starts at the project that holds
the file.

What cannot be known without building (a ``FROM`` naming a build argument that has no
default, ``pip install -r file``, a local wheel, a package list held in a shell variable)
is listed in the fragment's notes; what is malformed (an unknown instruction, ``FROM``
without an image, a continuation that never ends) is an error naming the line, and the
rest of the file is still read.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from depchain.ids import parse_hash, purl, vcs_uri
from depchain.images import ImageRef, image_component, parse_image
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    Hash,
    IndexRef,
    InputError,
    Scope,
    Source,
    SourceKind,
)
from depchain.redaction import quote, redact_url
from depchain.resolvers.base import ResolveContext, name_from_url, requirement

NAME = "dockerfile"


# -- reading the file into instructions -----------------------------------------------

_INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"(?<!<)<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


@dataclass
class _Instruction:
    line: int
    keyword: str
    text: str
    parts: list[tuple[int, str]]
    """The physical lines (number, text) the instruction and its here-documents span."""
    heredocs: list[str] = field(default_factory=list)


def _instructions(text: str, display: str, errors: list[InputError]) -> list[_Instruction]:
    lines = text.splitlines()
    escape = "\\"
    number = 0
    # parser directives: only before any comment, blank line or instruction
    while number < len(lines):
        m = _DIRECTIVE.match(lines[number].strip())
        if not m:
            break
        if m.group(1).lower() == "escape":
            if m.group(2) not in {"\\", "`"}:
                errors.append(
                    InputError(
                        display, f"line {number + 1}: escape must be \\ or `, not {m.group(2)!r}"
                    )
                )
            else:
                escape = m.group(2)
        number += 1
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    out: list[_Instruction] = []
    parts: list[tuple[int, str]] = []
    start = 0
    while number < len(lines):
        raw = lines[number]
        number += 1
        stripped = raw.strip()
        if not parts:
            if not stripped or stripped.startswith("#"):
                continue
            start = number
        elif not stripped or stripped.startswith("#"):
            continue  # comments and blank lines inside a continuation are dropped
        m = continuation.search(raw)
        if m:
            parts.append((number, raw[: m.start()]))
            continue
        parts.append((number, raw))
        joined = "".join(p for _, p in parts).strip()
        parts_done, parts = parts, []
        head = re.match(r"([A-Za-z]+)(?:\s+(.*))?$", joined, re.S)
        if not head:
            errors.append(InputError(display, f"line {start}: cannot read {joined[:60]!r}"))
            continue
        instruction = _Instruction(start, head.group(1).upper(), head.group(2) or "", parts_done)
        out.append(instruction)
        if instruction.keyword in {"RUN", "COPY", "ADD"}:
            for marker in _HEREDOC.finditer(instruction.text):
                strip_tabs, terminator = marker.group(1) == "-", marker.group(3)
                body: list[str] = []
                while number < len(lines):
                    line = lines[number]
                    number += 1
                    instruction.parts.append((number, line))
                    if (line.lstrip("\t") if strip_tabs else line) == terminator:
                        break
                    body.append(line.lstrip("\t") if strip_tabs else line)
                else:
                    errors.append(
                        InputError(
                            display,
                            f"line {start}: here-document {terminator} is never closed; "
                            "the instruction is not read",
                        )
                    )
                    out.pop()
                    return out
                instruction.heredocs.append("\n".join(body))
    if parts:
        errors.append(
            InputError(
                display,
                f"line {start}: the file ends inside a line continuation "
                f"(a trailing {escape}); the instruction is not read",
            )
        )
    return out


# -- variables ------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def expand(text: str, variables: dict[str, str | None]) -> tuple[str, list[str]]:
    """``text`` with ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and
    ``${VAR:+alt}`` substituted; and the names that had no value."""
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "\\$":
            return "$"
        name = m.group(1) or m.group(4)
        value = variables.get(name)
        operator, word = m.group(2), m.group(3) or ""
        if operator == ":-":
            return value if value else expand(word, variables)[0]
        if operator == "-":
            return value if value is not None else expand(word, variables)[0]
        if operator == ":+":
            return expand(word, variables)[0] if value else ""
        if operator == "+":
            return expand(word, variables)[0] if value is not None else ""
        if value is None:
            missing.append(name)
            return ""
        return value

    return _VARIABLE.sub(sub, text), missing


def _assignments(text: str, legacy: bool) -> list[tuple[str, str | None]]:
    """``ARG A=1 B`` / ``ENV A=1 B=2`` / the legacy ``ENV A value with spaces``."""
    tokens = shlex.split(text, posix=True)
    if legacy and tokens and "=" not in tokens[0]:
        return [(tokens[0], " ".join(tokens[1:]))]
    out: list[tuple[str, str | None]] = []
    for token in tokens:
        name, eq, value = token.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{token!r} is not a variable name")
        out.append((name, value if eq else None))
    return out


# -- stages ---------------------------------------------------------------------------


@dataclass
class _Stage:
    index: int
    line: int
    name: str | None = None
    base: int | None = None
    """The earlier stage this one is built ``FROM``."""
    image: ImageRef | None = None
    variables: dict[str, str | None] = field(default_factory=dict)


@dataclass
class _Found:
    """A component found in a stage; its edge's kind waits for the stage's role."""

    stage: int
    component: Component
    dep: Dependency
    build_mechanism: str
    runtime: tuple[DependencyKind, str]


@dataclass
class _State:
    ctx: ResolveContext
    display: str
    subject: Component
    stages: list[_Stage] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    global_args: dict[str, str | None] = field(default_factory=dict)
    found: list[_Found] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        self.errors.append(InputError(self.display, f"line {line}: {message}"))

    def note(self, line: int, message: str) -> None:
        self.notes.append((self.display, f"line {line}: {message}"))

    def evidence(self, line: int) -> Evidence:
        return Evidence(self.display, line, NAME)

    def add(
        self,
        stage: _Stage,
        component: Component,
        line: int,
        build_mechanism: str,
        runtime: tuple[DependencyKind, str],
        specifier: str | None = None,
        hashes: tuple[Hash, ...] = (),
    ) -> None:
        dep = Dependency(
            source=self.subject.id,
            target=component.id,
            kind=DependencyKind.BUILD,
            scope=Scope.REQUIRED,
            mechanism=build_mechanism,
            evidence=(self.evidence(line),),
            specifier=specifier,
            hashes=hashes,
        )
        self.found.append(_Found(stage.index, component, dep, build_mechanism, runtime))


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    subject = ctx.subject_for(path)
    state = _State(ctx, display, subject)
    instructions = _instructions(text, display, state.errors)
    for instruction in instructions:
        try:
            _instruction(state, instruction)
        except ValueError as exc:
            state.error(instruction.line, f"{instruction.keyword}: {exc}")
    if not state.stages:
        state.errors.append(InputError(display, "no FROM instruction"))
    return _fragment(state)


def _instruction(state: _State, ins: _Instruction) -> None:
    keyword = ins.keyword
    if keyword not in _INSTRUCTIONS:
        state.error(ins.line, f"unknown instruction {keyword}")
        return
    if keyword == "FROM":
        _from(state, ins)
        return
    if not state.stages:
        if keyword == "ARG":
            for name, value in _assignments(ins.text, legacy=False):
                if value is not None:
                    # a default names the arguments declared above it (loki's
                    # ``ARG BUILD_IMAGE=golang:${GO_VERSION}``); one without a value
                    # stays written, so that FROM says which
                    expanded, missing = expand(value, state.global_args)
                    value = value if missing else expanded
                state.global_args[name] = value
        else:
            state.error(ins.line, f"{keyword} before the first FROM")
        return
    stage = state.stages[-1]
    if keyword == "ARG":
        for name, value in _assignments(ins.text, legacy=False):
            if value is None:
                value = state.global_args.get(name)
            else:
                value = expand(value, stage.variables)[0]
            stage.variables[name] = value
    elif keyword == "ENV":
        for name, value in _assignments(ins.text, legacy=True):
            if value is None:
                raise ValueError(f"{name} has no value")
            stage.variables[name] = expand(value, stage.variables)[0]
    elif keyword == "RUN":
        _run(state, stage, ins)
    elif keyword in {"COPY", "ADD"}:
        _copy(state, stage, ins)


def _from(state: _State, ins: _Instruction) -> None:
    stage = _Stage(index=len(state.stages), line=ins.line)
    state.stages.append(stage)
    tokens = ins.text.split()
    while tokens and tokens[0].startswith("--"):
        tokens.pop(0)
    if not tokens:
        state.error(ins.line, "FROM without an image")
        return
    if len(tokens) == 3 and tokens[1].lower() == "as":
        stage.name = tokens[2].lower()
        if stage.name in state.names:
            earlier = state.stages[state.names[stage.name]].line
            state.error(ins.line, f"stage name {tokens[2]} is already used (line {earlier})")
        state.names[stage.name] = stage.index
    elif len(tokens) != 1:
        state.error(ins.line, f"FROM takes 'image [AS name]', not {ins.text.strip()!r}")
        return
    written = tokens[0]
    image, missing = expand(written, state.global_args)
    if not missing and "$" in image:  # an argument whose default names one without a value
        missing = expand(image, state.global_args)[1]
    if missing:
        state.note(
            ins.line,
            f"FROM {written} names build argument {', '.join(sorted(set(missing)))} without "
            "a default; the base image is not known",
        )
        return
    if image.lower() == "scratch":
        return
    base = state.names.get(image.lower())
    if base is not None and base != stage.index:
        stage.base = base
        return
    try:
        stage.image = parse_image(image)
    except ValueError as exc:
        state.error(ins.line, f"FROM: {exc}")


def _stage_ref(state: _State, stage: _Stage, ref: str) -> int | None:
    """The earlier stage ``ref`` names (by name or index), or None for an image."""
    if ref.isdigit():
        return int(ref) if int(ref) < stage.index else None
    found = state.names.get(ref.lower())
    return found if found is not None and found != stage.index else None


def _root_image(state: _State, stage: _Stage) -> ImageRef | None:
    seen: set[int] = set()
    current: _Stage | None = stage
    while current is not None and current.index not in seen:
        seen.add(current.index)
        if current.base is None:
            return current.image
        current = state.stages[current.base]
    return None


def _from_image(
    state: _State, stage: _Stage, ref: str, line: int, mechanism: str, copied: bool
) -> None:
    """An image named by ``COPY --from`` or ``RUN --mount=from=``."""
    image, missing = expand(ref, stage.variables)
    if missing:
        state.note(line, f"--from={ref} names a variable without a value; not known")
        return
    if _stage_ref(state, stage, image) is not None:
        return  # an earlier stage feeds this one: its own base and packages are counted
    try:
        parsed = parse_image(image)
    except ValueError as exc:
        state.error(line, f"--from: {exc}")
        return
    runtime = (DependencyKind.STATIC, mechanism) if copied else (DependencyKind.BUILD, mechanism)
    state.add(stage, image_component(parsed, state.evidence(line)), line, mechanism, runtime)


def _copy(state: _State, stage: _Stage, ins: _Instruction) -> None:
    tokens = ins.text.split()
    checksum: Hash | None = None
    while tokens and tokens[0].startswith("--"):
        flag, _, value = tokens.pop(0).partition("=")
        if flag == "--from" and value:
            _from_image(state, stage, value, ins.line, "copy-from", copied=True)
        elif flag == "--checksum" and value:
            checksum = parse_hash(value)
            if checksum is None:
                raise ValueError(f"malformed --checksum {quote(value)}")
    if ins.keyword != "ADD" or not tokens:
        return
    sources = tokens[:-1]
    if tokens[0].startswith("["):
        try:
            listed = json.loads(" ".join(tokens))
        except json.JSONDecodeError:
            listed = None
        if isinstance(listed, list):
            sources = [s for s in listed[:-1] if isinstance(s, str)]
    for source in sources:
        url, missing = expand(source, stage.variables)
        if missing or not re.match(r"^(?:https?://|git@)", url):
            continue
        _add_url(state, stage, ins, url, checksum)


def _add_url(
    state: _State, stage: _Stage, ins: _Instruction, url: str, checksum: Hash | None
) -> None:
    is_git = url.startswith("git@") or url.split("#")[0].endswith(".git")
    clean = redact_url(vcs_uri(url) if is_git else url)
    name = name_from_url(clean.split("#")[0]) or clean.rstrip("/").rsplit("/", 1)[-1] or clean
    qualifier = ("vcs_url", clean) if is_git else ("download_url", clean)
    ident = purl("generic", name, qualifiers=(qualifier,))
    source = (
        Source(SourceKind.VCS, url=clean.split("#")[0], ref=clean.partition("#")[2] or None)
        if is_git
        else Source(SourceKind.URL, url=clean)
    )
    hashes = (checksum,) if checksum else ()
    component = Component(
        id=ident,
        name=name,
        ecosystem="generic",
        type=ComponentType.FILE,
        purl=ident,
        hashes=hashes,
        sources=(source,),
        evidence=(state.evidence(ins.line),),
    )
    runtime = (DependencyKind.STATIC, "add-url")
    state.add(stage, component, ins.line, "add-url", runtime, hashes=hashes)


# -- RUN ------------------------------------------------------------------------------

_INSTALLER = re.compile(r"\b(?:apt-get|apt|aptitude|apk|dnf|yum|microdnf|tdnf|pip[0-9.]*)\b")


def _run(state: _State, stage: _Stage, ins: _Instruction) -> None:
    rest = ins.text.strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        name, _, value = flag.partition("=")
        if name == "--mount":
            options = dict(o.partition("=")[::2] for o in value.split(","))
            if options.get("from"):
                _from_image(state, stage, options["from"], ins.line, "mount-from", copied=False)
    scripts: list[str] = []
    if rest.startswith("["):
        try:
            listed = json.loads(rest)
        except json.JSONDecodeError:
            listed = None
        if isinstance(listed, list) and all(isinstance(a, str) for a in listed):
            if len(listed) >= 3 and PurePosixPath(listed[0]).name in _SHELLS and listed[1] == "-c":
                scripts.append(listed[2])
            else:
                scripts.append(shlex.join(listed))
    if not scripts:
        if ins.heredocs:
            before = rest.split("<<", 1)[0].split()
            if not before or PurePosixPath(before[0]).name in _SHELLS:
                scripts.extend(_join_script(body) for body in ins.heredocs)
            else:
                scripts.append(_HEREDOC.sub(" ", rest))
        else:
            scripts.append(rest)
    words = _Words(state, stage, ins)
    for script in scripts:
        if not _INSTALLER.search(script):
            continue
        try:
            commands = _commands(script)
        except ValueError as exc:
            state.error(
                ins.line, f"cannot read the RUN command ({exc}); its packages are not known"
            )
            continue
        for command in commands:
            _command(words, command)


def _join_script(body: str) -> str:
    """A here-document script as one line: continuations joined, lines as ``;``."""
    return " ; ".join(re.sub(r"\\\n", " ", body).splitlines())


_SEPARATORS = re.compile(r"^[;&|()]+$")


_COMMENT_SUBSTITUTION = re.compile(r"`[ \t]*#[^`]*`")
"""A backtick substitution holding only a comment (`` `# why` ``): the shell expands it
to nothing, which is how a comment is written inside a command continued over lines."""


def _commands(script: str) -> list[list[str]]:
    script = _COMMENT_SUBSTITUTION.sub(" ", script)
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    tokens = list(lexer)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if _SEPARATORS.match(token):
            commands.append([])
        elif re.match(r"^[;&|()<>]+$", token):  # a redirection: drop it and its target
            if commands[-1] and commands[-1][-1].isdigit():
                commands[-1].pop()
            i += 1
        else:
            commands[-1].append(token)
        i += 1
    return [c for c in commands if c]


_WRAPPERS = frozenset({"sudo", "env", "command", "exec", "time", "nice", "nohup"})


@dataclass
class _Words:
    """One ``RUN`` instruction being read command by command: the stage whose variables
    its words are expanded with, and the physical lines they are found on."""

    state: _State
    stage: _Stage
    ins: _Instruction
    cursor: int = 0
    """The part the last word was found in: words are searched for in order."""
    shell: dict[str, str | None] = field(default_factory=dict)
    """Shell variables the ``RUN`` itself set (``RUN_DEPS="libpq5 curl" && ...``)."""

    def expand(self, word: str) -> tuple[str, list[str]]:
        """:func:`expand` with the stage's ``ARG`` and ``ENV`` values and the shell
        variables set earlier in the same ``RUN``."""
        if not self.shell:
            return expand(word, self.stage.variables)
        return expand(word, {**self.stage.variables, **self.shell})

    def line_of(self, word: str) -> int:
        """The physical line of ``word`` in the instruction, searching on from the last one."""
        parts = self.ins.parts
        for order in (range(self.cursor, len(parts)), range(len(parts))):
            for index in order:
                if word in parts[index][1]:
                    self.cursor = index
                    return parts[index][0]
        return self.ins.line


def _command(words: _Words, command: list[str]) -> None:
    if command and all(re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w) for w in command):
        for word in command:  # ``RUN_DEPS="a b"``: a shell variable for what follows
            name, _, value = word.partition("=")
            words.shell[name] = expand(value, {**words.stage.variables, **words.shell})[0]
        return
    i = 0
    while i < len(command) and (
        command[i] in _WRAPPERS
        or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", command[i])
        or (i > 0 and command[i - 1] in _WRAPPERS and command[i].startswith("-"))
    ):
        i += 1
    command = command[i:]
    if not command:
        return
    program = PurePosixPath(command[0]).name
    if program in {"apt-get", "apt", "aptitude"}:
        _apt(words, command[1:], program)
    elif program == "apk":
        _apk(words, command[1:])
    elif program in {"dnf", "yum", "microdnf", "tdnf"}:
        _dnf(words, command[1:], program)
    elif re.fullmatch(r"pip(?:3(?:\.\d+)?)?", program):
        _pip(words, command[1:], program)
    elif re.fullmatch(r"python(?:3(?:\.\d+)?)?", program):
        for j in range(1, min(len(command) - 1, 6)):
            if command[j] == "-m" and command[j + 1] in {"pip", "pip3"}:
                _pip(words, command[j + 2 :], f"{program} -m pip")
                break
    elif program == "uv" and len(command) > 1 and command[1] == "pip":
        _pip(words, command[2:], "uv pip")


def _split_args(
    args: list[str], with_value: frozenset[str]
) -> tuple[str | None, list[tuple[str, str]], list[str]]:
    """(subcommand, options with their values, operands) of a package manager's words."""
    subcommand: str | None = None
    options: list[tuple[str, str]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-") and len(arg) > 1:
            name, eq, value = arg.partition("=")
            if not eq and name not in with_value and name[:2] in with_value and len(name) > 2:
                name, value = name[:2], name[2:]  # -rfile
            elif not eq and name in with_value and i + 1 < len(args):
                i += 1
                value = args[i]
            options.append((name, value))
        elif subcommand is None:
            subcommand = arg
        else:
            operands.append(arg)
        i += 1
    return subcommand, options, operands


_CONTAINER_PACKAGE = (DependencyKind.DYNAMIC, "container-package")
"""The edge of a package installed in a stage that ships."""


def _packages(
    words: _Words, operands: list[str], pattern: re.Pattern[str], command: str
) -> Iterator[tuple[int, re.Match[str]]]:
    """Each operand of ``command`` that ``pattern`` reads as a package, with its line;
    the others are noted."""
    for word in operands:
        value, missing = words.expand(word)
        line = words.line_of(word)
        # an unquoted variable splits into words, as the shell splits it
        for one in value.split() if "$" in word and not missing else [value]:
            m = pattern.fullmatch(one)
            if missing or not m:
                words.state.note(
                    line, f"{command} argument {quote(word)} is not a package name; not read"
                )
                continue
            yield line, m


def _os_package(
    words: _Words,
    line: int,
    ecosystem: str,
    namespace: str | None,
    name: str,
    version: str | None,
    *,
    qualifiers: tuple[tuple[str, str], ...] = (),
    build_mechanism: str,
    specifier: str | None,
) -> None:
    """A package of the stage's distribution (``deb``/``apk``), written on ``line``."""
    ident = purl(ecosystem, name, version, namespace=namespace, qualifiers=qualifiers)
    component = Component(
        id=ident,
        name=name,
        ecosystem=ecosystem,
        version=version,
        purl=ident,
        evidence=(words.state.evidence(line),),
    )
    words.state.add(
        words.stage, component, line, build_mechanism, _CONTAINER_PACKAGE, specifier=specifier
    )


_APT_WITH_VALUE = frozenset(
    {
        "-o",
        "--option",
        "-t",
        "--target-release",
        "--default-release",
        "-c",
        "--config-file",
        "-a",
        "--host-architecture",
    }
)
_DEB = re.compile(
    r"([a-z0-9][a-z0-9+.-]+)(?::([a-z0-9-]+))?(?:=([A-Za-z0-9.+~:_-]+)|/([a-z0-9.-]+))?"
)


def _apt(words: _Words, args: list[str], program: str) -> None:
    subcommand, _, operands = _split_args(args, _APT_WITH_VALUE)
    if subcommand != "install":
        return
    vendor = _vendor(words, "deb", f"{program} install")
    for line, m in _packages(words, operands, _DEB, f"{program} install"):
        name, arch, version = m.group(1), m.group(2), m.group(3)
        _os_package(
            words,
            line,
            "deb",
            vendor,
            name,
            version,
            qualifiers=(("arch", arch),) if arch else (),
            build_mechanism="apt-get",
            specifier=f"={version}" if version else None,
        )


_APK_WITH_VALUE = frozenset(
    {
        "-t",
        "--virtual",
        "-X",
        "--repository",
        "-p",
        "--root",
        "--arch",
        "--keys-dir",
        "--repositories-file",
        "--cache-dir",
        "--cache-max-age",
    }
)
_APK = re.compile(
    r"([A-Za-z0-9][A-Za-z0-9+._-]*)(?:(=|~=|~|>=|<=|>|<)([^@\s]+))?(?:@([A-Za-z0-9._-]+))?"
)


def _apk(words: _Words, args: list[str]) -> None:
    subcommand, _, operands = _split_args(args, _APK_WITH_VALUE)
    if subcommand != "add":
        return
    vendor = _vendor(words, "apk", "apk add")
    for line, m in _packages(words, operands, _APK, "apk add"):
        name, operator, version = m.group(1), m.group(2), m.group(3)
        pinned = version if operator == "=" else None
        _os_package(
            words,
            line,
            "apk",
            vendor,
            name,
            pinned,
            build_mechanism="apk",
            specifier=f"{operator}{version}" if operator else None,
        )


_DNF_WITH_VALUE = frozenset(
    {
        "-c",
        "--config",
        "--installroot",
        "--releasever",
        "--repo",
        "--repoid",
        "--enablerepo",
        "--disablerepo",
        "--exclude",
        "-x",
        "--setopt",
        "--forcearch",
    }
)
_RPM_NAME = re.compile(
    r"([A-Za-z0-9][A-Za-z0-9+._-]*?)(?:\.(x86_64|aarch64|i686|i386|ppc64le|s390x|noarch))?"
)


def _dnf(words: _Words, args: list[str], program: str) -> None:
    """``dnf``/``yum``/``microdnf``/``tdnf install``: package names (a ``name-version``
    spec cannot be split without the repository, so versions are not read)."""
    subcommand, _, operands = _split_args(args, _DNF_WITH_VALUE)
    if subcommand != "install":
        return
    vendor = _vendor(words, "rpm", f"{program} install")
    named = []
    for word in operands:
        value = words.expand(word)[0]
        if value.startswith("@") or "/" in value or value.endswith(".rpm"):
            words.state.note(
                words.line_of(word),
                f"{program} install argument {word!r} is a group, path or URL; not read",
            )
        else:
            named.append(word)
    for line, m in _packages(words, named, _RPM_NAME, f"{program} install"):
        _os_package(
            words,
            line,
            "rpm",
            vendor,
            m.group(1),
            None,
            qualifiers=(("arch", m.group(2)),) if m.group(2) else (),
            build_mechanism=program,
            specifier=None,
        )


# -- the distribution of a stage ------------------------------------------------------

_FAMILIES = {
    "deb": frozenset({"debian", "ubuntu"}),
    "apk": frozenset({"alpine", "wolfi"}),
    "rpm": frozenset({"fedora", "centos", "rhel", "rocky", "almalinux", "amzn", "ol"}),
}
"""The distributions (os-release IDs, the purl namespace) each package format is read
for."""
_DISTRO_WORDS = {
    "debian": "debian",
    "ubuntu": "ubuntu",
    "alpine": "alpine",
    "wolfi": "wolfi",
    "fedora": "fedora",
    "centos": "centos",
    "stream": "centos",
    "ubi": "rhel",
    "rhel": "rhel",
    "rockylinux": "rocky",
    "rocky": "rocky",
    "almalinux": "almalinux",
    "amazonlinux": "amzn",
    "oraclelinux": "ol",
    # release code names in tags (python:3.12-slim-bookworm, eclipse-temurin:21-jammy)
    "trixie": "debian",
    "bookworm": "debian",
    "bullseye": "debian",
    "buster": "debian",
    "stretch": "debian",
    "noble": "ubuntu",
    "jammy": "ubuntu",
    "focal": "ubuntu",
    "bionic": "ubuntu",
}
_DEBIAN_OFFICIAL = frozenset(
    {
        "buildpack-deps",
        "golang",
        "httpd",
        "nginx",
        "node",
        "perl",
        "php",
        "postgres",
        "python",
        "redis",
        "ruby",
        "rust",
    }
)
"""Docker Hub official images whose variants are Debian unless the tag names another
distribution (``python:3.12-slim`` is Debian, ``python:3.12-alpine`` Alpine)."""


def distribution(image: ImageRef | None) -> str | None:
    """The distribution (os-release ID) an image is built on, as far as its name and tag
    tell: a distribution's own image (``ubuntu``, ``fedora``, ``redhat/ubi9``), a tag that
    names one (``nvidia/cuda:12.4.1-runtime-ubuntu22.04``, ``node:20-bookworm``,
    ``python:3.12-alpine``), or a Debian-based official image; None when unknown."""
    if image is None:
        return None
    for text in (image.name, image.tag or ""):
        for word in re.findall(r"[a-z]+", text.lower()):
            if word in _DISTRO_WORDS:
                return _DISTRO_WORDS[word]
    if image.registry is None and image.namespace == "library" and image.name in _DEBIAN_OFFICIAL:
        return "debian"
    return None


def _vendor(words: _Words, ecosystem: str, command: str) -> str | None:
    """The purl namespace of packages ``command`` installs in this stage: the
    distribution of the image at the root of its ``FROM`` chain, when that is known and
    uses this package format; None (and a note) otherwise, never a guess."""
    root = _root_image(words.state, words.stage)
    distro = distribution(root)
    if distro in _FAMILIES[ecosystem]:
        return distro
    if root is None:
        why = "the stage's base image is not known"
    elif distro is None:
        why = f"base image {root.display_name} does not tell its distribution"
    else:
        why = f"base image {root.display_name} is {distro}, which does not use {ecosystem}"
    words.state.note(
        words.ins.line,
        f"{command}: {why}; its packages are pkg:{ecosystem}/<name>, without a distribution",
    )
    return None


_PIP_WITH_VALUE = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--trusted-host",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--only-binary",
        "--no-binary",
        "--progress-bar",
        "--cache-dir",
        "--src",
        "--upgrade-strategy",
        "-C",
        "--config-settings",
        "--global-option",
        "--install-option",
        "--log",
        "--python",
        "-p",
        "--report",
        "--proxy",
        "--timeout",
        "--retries",
        "--exists-action",
        "--cert",
        "--client-cert",
        "--root-user-action",
        "--use-feature",
        "--use-deprecated",
        "--index-strategy",
        "--default-index",
        "--index",
        "--keyring-provider",
        "--resolution",
        "--prerelease",
        "--python-platform",
        "--exclude-newer",
        "--link-mode",
    }
)
_PIP_FILES = frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable"})
_PIP_INDEXES = {
    "-i": "primary",
    "--index-url": "primary",
    "--default-index": "primary",
    "--extra-index-url": "extra",
    "--index": "extra",
    "-f": "find-links",
    "--find-links": "find-links",
}
_ARCHIVES = (".whl", ".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tgz")


def _pip(words: _Words, args: list[str], program: str) -> None:
    subcommand, options, operands = _split_args(args, _PIP_WITH_VALUE)
    if subcommand != "install":
        return
    state = words.state
    indexes: list[IndexRef] = []
    for option, value in options:
        if option in _PIP_FILES:
            state.note(
                words.line_of(value),
                f"{program} install {option} {value}: the file is not read here",
            )
        elif option in _PIP_INDEXES and value:
            indexes.append(IndexRef(_PIP_INDEXES[option], words.expand(value)[0]))
    if any(option == "--no-index" for option, _ in options):
        # no index at all: the --find-links locations are the only source
        # (zero-to-jupyterhub's images/hub/Dockerfile installs its build stage's wheels)
        indexes = [IndexRef("primary", i.url) for i in indexes if i.role == "find-links"]
    for word in operands:
        value, missing = words.expand(word)
        line = words.line_of(word)
        evidence = state.evidence(line)
        location = value.split(";")[0].strip()
        if missing:
            state.note(line, f"{program} install {word!r} names a variable without a value")
            continue
        if "://" not in location and (
            location in {".", ".."}
            or location.startswith(("./", "../", "/", "~"))
            or "*" in location
            or location.lower().endswith(_ARCHIVES)
        ):
            state.note(line, f"{program} install {word}: a local path or archive; not read")
            continue
        text = value
        if re.match(r"^[a-z][a-z0-9+.-]*://", location):
            try:
                url_name = name_from_url(location)
            except ValueError:  # a URL urllib cannot split
                url_name = None
            if url_name is None:
                state.note(line, f"{program} install {word}: cannot tell the project name")
                continue
            text = f"{url_name} @ {value}"
        try:
            component, dep = requirement(
                text,
                state.subject.id,
                evidence,
                kind=DependencyKind.BUILD,
                scope=Scope.REQUIRED,
                mechanism="pip",
                indexes=tuple(indexes),
            )
        except ValueError as exc:
            state.error(line, f"{program} install {word!r}: {exc}")
            continue
        state.found.append(_Found(words.stage.index, component, dep, "pip", _CONTAINER_PACKAGE))


# -- the fragment ---------------------------------------------------------------------


def _runtime_stages(state: _State) -> set[int]:
    """The last stage and the stages it is built ``FROM``."""
    if not state.stages:
        return set()
    chain: set[int] = set()
    current: _Stage | None = state.stages[-1]
    while current is not None and current.index not in chain:
        chain.add(current.index)
        current = state.stages[current.base] if current.base is not None else None
    return chain


def _fragment(state: _State) -> Fragment:
    runtime = _runtime_stages(state)
    components: list[Component] = [state.subject]
    deps: list[Dependency] = []
    for stage in state.stages:
        if stage.image is None:
            continue
        component = image_component(stage.image, state.evidence(stage.line))
        shipped = stage.index in runtime
        components.append(component)
        deps.append(
            Dependency(
                source=state.subject.id,
                target=component.id,
                kind=DependencyKind.DYNAMIC if shipped else DependencyKind.BUILD,
                scope=Scope.REQUIRED,
                mechanism="container-base" if shipped else "build-stage",
                evidence=(state.evidence(stage.line),),
            )
        )
    for found in state.found:
        shipped = found.stage in runtime
        kind, mechanism = (
            found.runtime if shipped else (DependencyKind.BUILD, found.build_mechanism)
        )
        components.append(found.component)
        deps.append(replace(found.dep, kind=kind, mechanism=mechanism))
    return Fragment(
        components=tuple(components),
        dependencies=tuple(deps),
        errors=tuple(state.errors),
        notes=tuple(state.notes),
    )
