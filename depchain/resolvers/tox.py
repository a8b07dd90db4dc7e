"""tox configuration (``tox.ini``), read with ``configparser`` without interpolation.

Read: ``deps`` of ``[testenv]`` and of every ``[testenv:<name>]``, one requirement a
line, and ``requires`` of ``[tox]`` (the plugins tox provisions for itself). tox installs
these into its environments to test, lint and build the project, so each is a
build-time dependency: ``build``/``dev``, mechanism ``tox`` with the environment's name
as its group (``testenv`` for the base section), mechanism ``tox-requires`` for
``[tox] requires``.

- a factor-conditional line (``py38,min: pkg``, ``!dev: pkg``) is read without its
  factor prefix;
- ``-r file`` / ``-c file`` (and their long forms) are not read here (the requirements
  resolver reads those files): they are listed in the notes, as are local paths and
  lines holding substitutions other than ``{[section]deps}`` (which is read where it is
  defined);
- ``-i``/``--index-url``/``--extra-index-url`` lines set the indexes of the
  environment's other requirements;
- a line that is not PEP 508 is an error naming its line; the scan goes on.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field
from pathlib import Path

from depchain.errors import InputFileError
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    IndexRef,
    InputError,
    Scope,
)
from depchain.redaction import quote
from depchain.resolvers.base import (
    ResolveContext,
    ini_problem,
    name_from_url,
    refuse_long_ini_lines,
    requirement,
)

NAME = "tox"

_FACTORS = re.compile(r"^([\w{}.!,-]+):\s+(.*)$")
_SECTION_REF = re.compile(r"^\{\[[^\]]+\][A-Za-z_]+\}$")
_INDEX_OPTIONS = {
    "-i": "primary",
    "--index-url": "primary",
    "--extra-index-url": "extra",
    "-f": "find-links",
    "--find-links": "find-links",
}
_FILE_OPTIONS = ("--requirement", "--constraint", "--editable", "-r", "-c", "-e")


@dataclass
class _State:
    display: str
    subject: Component
    lines: list[str]
    components: list[Component] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    refuse_long_ini_lines(text, display)
    try:
        parser.read_string(text, source=display)
    except configparser.Error as exc:
        raise InputFileError(display, _one_line(exc)) from None
    subject = ctx.subject_for(path)
    state = _State(display, subject, text.splitlines(), components=[subject])
    for section in parser.sections():
        if section == "testenv" or section.startswith("testenv:"):
            env = section.partition(":")[2].strip() or "testenv"
            if parser.has_option(section, "deps"):
                _values(state, section, "deps", parser.get(section, "deps"), env, "tox")
        elif section == "tox" and parser.has_option(section, "requires"):
            value = parser.get(section, "requires")
            _values(state, section, "requires", value, "tox", "tox-requires")
    return Fragment(
        components=tuple(state.components),
        dependencies=tuple(state.dependencies),
        errors=tuple(state.errors),
        notes=tuple(sorted(dict.fromkeys(state.notes), key=_note_order)),
    )


def _note_order(note: tuple[str, str]) -> tuple[int, str]:
    m = re.match(r"line (\d+):", note[1])
    return (int(m.group(1)) if m else 0, note[1])


def _one_line(exc: configparser.Error) -> str:
    return ini_problem(exc)


def _key_line(state: _State, section: str, key: str) -> int:
    """0-based index of the ``key =`` line in ``[section]`` (where value lines start)."""
    header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]")
    option = re.compile(r"^" + re.escape(key) + r"\s*[=:]", re.I)
    in_section = False
    for index, line in enumerate(state.lines):
        if line.lstrip().startswith("["):
            in_section = bool(header.match(line))
        elif in_section and option.match(line):
            return index
    return 0


def _values(state: _State, section: str, key: str, value: str, group: str, mechanism: str) -> None:
    start = cursor = _key_line(state, section, key)
    indexes: list[IndexRef] = []
    pending: list[tuple[int, str]] = []
    for raw in value.splitlines():
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        # the physical line: the next one, from the key on, that holds this text
        for index in range(start, len(state.lines)):
            if text in state.lines[index]:
                cursor, start = index, index + 1
                break
        number = cursor + 1
        text = re.sub(r"\s+#.*$", "", text)
        factors = _FACTORS.match(text)
        if factors:
            text = factors.group(2).strip()
        if text.startswith("-"):
            _option(state, text, number, indexes)
        else:
            pending.append((number, text))
    for number, text in pending:
        _requirement(state, section, text, number, group, mechanism, indexes)


def _note(state: _State, number: int, message: str) -> None:
    state.notes.append((state.display, f"line {number}: {message}"))


def _option(state: _State, text: str, number: int, indexes: list[IndexRef]) -> None:
    m = re.match(r"^(--?[A-Za-z][A-Za-z-]*)(?:=|\s+)?(.*)$", text)
    option, argument = (m.group(1), m.group(2).strip()) if m else (text, "")
    for name in _FILE_OPTIONS:  # -rfile, -r file, --requirement=file
        if option == name or (len(name) == 2 and option.startswith(name)):
            if option != name:
                argument = option[2:] + argument
            what = "an editable install" if name in {"-e", "--editable"} else "the file"
            _note(state, number, f"{name} {argument}: {what} is not read here")
            return
    if option in _INDEX_OPTIONS and argument:
        indexes.append(IndexRef(_INDEX_OPTIONS[option], argument.split()[0]))
        return
    _note(state, number, f"option {quote(text)} is not read")


def _requirement(
    state: _State,
    section: str,
    text: str,
    number: int,
    group: str,
    mechanism: str,
    indexes: list[IndexRef],
) -> None:
    if _SECTION_REF.match(text):
        return  # {[testenv]deps}: read in the section that defines them
    if "{" in text:
        _note(state, number, f"{quote(text)}: tox substitutions are not expanded; not read")
        return
    location = text.split(";")[0].strip()
    if "://" not in location and re.match(r"^(?:\.{1,2}(?:[/\\\[]|$)|/|~)", location):
        _note(state, number, f"{quote(text)}: a local path; not read")
        return
    evidence = Evidence(state.display, number, NAME)
    if re.match(r"^(?:[a-z]+\+)?[a-z][a-z0-9.+-]*://", location):
        # a bare URL, as pip reads it: the name from #egg= or the archive or repository
        name = name_from_url(location)
        if name is None:
            _note(state, number, "a URL that names no project (no #egg=); not read")
            return
        text = f"{name} @ {text}"
    try:
        component, dep = requirement(
            text,
            state.subject.id,
            evidence,
            kind=DependencyKind.BUILD,
            scope=Scope.DEV,
            mechanism=mechanism,
            group=group,
            indexes=tuple(indexes),
        )
    except ValueError as exc:
        message = f"line {number}: [{section}] {quote(text)}: {exc}"
        state.errors.append(InputError(state.display, message))
        return
    state.components.append(component)
    state.dependencies.append(dep)
