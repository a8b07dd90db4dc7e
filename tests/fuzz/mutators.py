"""Structure-aware mutation of depchain's inputs, deterministic for a seeded ``random.Random``.

A case is a small tree of files (``{relative path: bytes}``): the mutated seed and, for
some mutations, the files it includes (``-r`` cycles and diamonds). Each format is
mutated the way it is structured:

- TOML, JSON and YAML are parsed, one value (or a few) is replaced by something hostile
  (a 5,000-digit integer, deep nesting, a value of the wrong type, an empty value, a very
  long string, control and unusual Unicode characters, a credential-bearing URL, a
  cycle), and written back; or the text is changed where the parser cares (duplicated
  keys and tables, swapped table headers, unbalanced brackets);
- line formats (requirements, Dockerfile, go.mod, .env, INI files, setup.py) have lines
  duplicated, dropped, swapped, cut, or options and directives of their own inserted;
- any file gets byte-level damage: flipped bits, invalid UTF-8, NUL bytes, a BOM,
  truncation.
"""

from __future__ import annotations

import io
import json
import math
import random
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Files = dict[str, bytes]


@dataclass
class Case:
    """One mutated input: the files to write and what was done to them."""

    files: Files
    target: str
    """The file that was mutated (relative path)."""
    steps: list[str] = field(default_factory=list)


class Raw(str):
    """Text written verbatim by the serialisers: what Python cannot round-trip (a
    5,000-digit integer is above ``sys.get_int_max_str_digits``) or a parser's edge."""

    __slots__ = ()


# --------------------------------------------------------------------------- formats


def kind_of(path: str) -> str:
    """The structure a file is mutated by."""
    p = PurePosixPath(path)
    name, lower = p.name, p.name.lower()
    if name.endswith(".whl"):
        return "wheel"
    if name == "Pipfile.lock" or lower.endswith(".json"):
        return "json"
    if lower.endswith((".toml", ".lock")):
        return "toml"
    if lower.endswith((".yml", ".yaml")):
        return "yaml"
    if name in {"setup.cfg", "tox.ini", ".gitmodules"} or lower.endswith((".ini", ".cfg")):
        return "ini"
    if name.startswith(("Dockerfile", "Containerfile")) or lower.endswith(".dockerfile"):
        return "dockerfile"
    if name == "go.mod":
        return "gomod"
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return "env"
    if name == "conanfile.txt":
        return "ini"
    if name == "setup.py":
        return "python"
    return "requirements"  # requirements files, vendor.txt


# --------------------------------------------------------------------------- values

SECRET = "fuzzS3cr3tT0ken"

_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "\x1b]0;title\x07x",
    "\x1b[31mred\x1b[0m",
    "a\nb",
    "a\r\nb\rc",
    "\t\v\f",
    "\u202egnp.exe",
    "\ufeffname",
    "é\u0301\u0301\u0301",
    "\uff30\uff39\uff34\uff28\uff2f\uff2e\uff11\uff12\uff13",  # full-width
    "🐍==1.0",
    "\ufffd",
    "==",
    "*",
    ">=",
    "latest",
    "1.0.0.0.0.0.0.0.0.0.0.0.0",
    "1.0+" + "a" * 300,
    "v" + "9" * 400,
    "../../../../../../etc/passwd",
    "/etc/hostname",
    "C:\\Windows\\system32",
    "file:///etc/passwd",
    "${HOME}",
    "${VAR:-${VAR:-${VAR}}}",
    "$$",
    "{[testenv]deps}",
    "{env:X:{env:Y}}",
    "%(here)s",
    "pkg @ file:///etc",
    "pkg[extra1,extra2]>=1; python_version < '3' and",
    "pkg ; ; ;",
    f"git+https://user:{SECRET}@github.com/org/repo.git@" + "f" * 40,
    f"https://files.example/pkg-1.0.whl?token={SECRET}#sha256=abc",
    f"https://u:{SECRET}@index.example/simple?private_token={SECRET}",
    "registry+https://github.com/rust-lang/crates.io-index",
    "git+https://github.com/org/repo?rev=" + "0" * 40 + "#" + "0" * 40,
    "sha256:" + "z" * 64,
    "sha256:" + "a" * 63,
    "docker://" + "a" * 200,
    "./",
    "./.github/actions/fuzz",
    "owner/repo@" + "x" * 200,
    "actions/checkout@",
    "@",
    ":",
    "//",
    "https://",
    "http://[::1",
    "http://169.254.169.254/latest/meta-data/",
    "python:3.12@sha256:",
    "true",
    "null",
    "~",
    "0x10",
    "1e400",
    "-0",
)


def long_string(rng: random.Random) -> str:
    size = rng.choice((300, 4_096, 70_000, 300_000))
    unit = rng.choice(("a", "é", "-", " ", "a ", "/", "[", "${A}", "0"))
    return (unit * size)[:size]


def huge_int(rng: random.Random) -> Raw:
    digits = rng.choice((4_301, 5_000, 20_000))
    return Raw(rng.choice(("", "-", "+")) + "9" * digits)


def deep(rng: random.Random, depth: int | None = None) -> Any:
    """A nested list or table, as a value (not text): depth within what the serialisers
    can write recursively."""
    depth = depth or rng.choice((30, 200, 600))
    value: Any = rng.choice(([], {}, "x", 1))
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def hostile_value(rng: random.Random, old: Any = None) -> Any:
    """A value to put where ``old`` was."""
    roll = rng.random()
    if roll < 0.12:
        return huge_int(rng)
    if roll < 0.2:
        return deep(rng)
    if roll < 0.35:  # the wrong type
        return rng.choice(
            (
                0,
                -1,
                2**63,
                1.5,
                Raw("nan"),
                Raw("inf"),
                True,
                False,
                None,
                [],
                {},
                [1, 2],
                [None],
                [[]],
                {"": ""},
                {"name": 1},
                ["a", {"b": [1]}],
                "string",
            )
        )
    if roll < 0.45:
        return long_string(rng)
    if roll < 0.55:
        return rng.choice((None, "", [], {}))
    if roll < 0.8:
        return rng.choice(_STRINGS)
    if isinstance(old, str) and old:  # the old value, damaged
        return damage_text(rng, old)
    if isinstance(old, list):
        return old * rng.choice((0, 2, 50, 2_000))
    if isinstance(old, dict) and old:
        key = rng.choice(list(old))
        return {**old, key + rng.choice(("", " ", "-", "_", ".")): old[key], key.upper(): old[key]}
    return rng.choice(_STRINGS)


def damage_text(rng: random.Random, text: str) -> str:
    """A string with characters inserted, dropped or doubled."""
    if not text:
        return rng.choice(_STRINGS)
    i = rng.randrange(len(text) + 1)
    op = rng.randrange(6)
    if op == 0:
        return text[:i]
    if op == 1:
        return text[:i] + rng.choice(_STRINGS) + text[i:]
    if op == 2:
        return text[:i] + text[i:] * rng.choice((2, 100))
    if op == 3:
        return text.upper() if text.islower() else text.lower() + " "
    if op == 4:
        return text[:i] + chr(rng.choice((0, 7, 8, 0x1B, 0x7F, 0x85, 0x2028, 0xFEFF))) + text[i:]
    return text[::-1]


# --------------------------------------------------------------------------- trees


def _slots(tree: Any, limit: int = 20_000) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in a parsed document, breadth first."""
    out: list[tuple[Any, Any]] = []
    queue = [tree]
    while queue and len(out) < limit:
        node = queue.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                out.append((node, key))
                queue.append(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                out.append((node, i))
                queue.append(value)
    return out


def mutate_tree(rng: random.Random, tree: Any, steps: list[str]) -> Any:
    """Change one to three places of a parsed document, in place where possible."""
    if not isinstance(tree, (dict, list)):
        return hostile_value(rng, tree)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        slots = _slots(tree)
        if not slots:
            if isinstance(tree, dict):
                tree["fuzz"] = hostile_value(rng)
            continue
        container, key = rng.choice(slots)
        op = rng.random()
        if op < 0.6:
            new = hostile_value(rng, container[key])
            steps.append(f"value {key!r} -> {_short(new)}")
            container[key] = new
        elif op < 0.7:
            steps.append(f"delete {key!r}")
            del container[key]
        elif op < 0.8 and isinstance(container, dict):  # a swapped table or value
            other_container, other_key = rng.choice(slots)
            if other_container is not container or other_key != key:
                steps.append(f"swap {key!r} <-> {other_key!r}")
                a, b = container[key], other_container[other_key]
                container[key], other_container[other_key] = b, a
        elif op < 0.9 and isinstance(container, dict):  # a renamed key
            new_key = hostile_key(rng, str(key))
            steps.append(f"rename {key!r} -> {_short(new_key)}")
            container[new_key] = container.pop(key)
        elif isinstance(container, list):  # repeated elements
            times = rng.choice((2, 100, 3_000))
            steps.append(f"repeat [{key}] x{times}")
            container[key + 1 : key + 1] = [container[key]] * times
        else:
            container[hostile_key(rng, "")] = hostile_value(rng)
            steps.append("add key")
    return tree


def hostile_key(rng: random.Random, old: str) -> str:
    return rng.choice(
        (
            "",
            " ",
            old.upper(),
            old + "\x00",
            old + " ",
            "é" + old,
            "a" * 2_000,
            "a.b",
            '"',
            "[",
            "<<",
            "on",
            "0",
        )
    )


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, Raw) else f"raw({value[:12]}…{len(value)})"
    return text if len(text) <= 40 else f"{text[:30]}…({len(text)} chars)"


# --------------------------------------------------------------------------- writers

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: Any) -> str:
    key = str(key)
    return key if _BARE.match(key) else _toml_str(key)


def _toml_str(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else "inf")
    if value is None:
        return '""'  # TOML has no null
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return _toml_str(str(value))  # dates and times: as strings


def dump_toml(doc: dict[str, Any]) -> str:
    """TOML with tables and arrays of tables written as headers, as the real files are."""
    _check_size(doc)
    lines: list[str] = []
    budget = [MAX_WRITTEN]

    def table(prefix: list[str], node: dict[str, Any]) -> None:
        _spend(budget)
        scalars = [
            (k, v)
            for k, v in node.items()
            if not (isinstance(v, dict) and v)
            and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))
        ]
        for k, v in scalars:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in node.items():
            path = [*prefix, _toml_key(k)]
            if isinstance(v, dict) and v:
                lines.append(f"\n[{'.'.join(path)}]")
                table(path, v)
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                for item in v:
                    lines.append(f"\n[[{'.'.join(path)}]]")
                    table(path, item)

    table([], doc)
    return "\n".join(lines) + "\n"


MAX_WRITTEN = 200_000
"""Nodes a mutated document may be written with: a mutation that copies a subtree into
itself by reference doubles it each time, and writing 2**40 nodes never ends (the
harness hung on seed 779). Past this the mutation is dropped (ValueError)."""


def _spend(budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("mutated document too large to write")


def dump_json(value: Any, indent: int = 0, budget: list[int] | None = None) -> str:
    if budget is None:
        _check_size(value)
    budget = [MAX_WRITTEN] if budget is None else budget
    _spend(budget)
    pad = "  " * (indent + 1)
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{pad}{json.dumps(str(k))}: {dump_json(v, indent + 1, budget)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return (
            "[\n"
            + ",\n".join(pad + dump_json(v, indent + 1, budget) for v in value)
            + "\n"
            + "  " * indent
            + "]"
        )
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN"
    return json.dumps(value, default=str)


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


def _raw_yaml(dumper: yaml.SafeDumper, data: Raw) -> yaml.Node:
    if data.lstrip("+-").isdigit():
        return dumper.represent_scalar("tag:yaml.org,2002:int", str(data))
    return dumper.represent_scalar("tag:yaml.org,2002:float", ".nan" if "nan" in data else ".inf")


_Dumper.add_representer(Raw, _raw_yaml)


MAX_WRITTEN_CHARS = 8 * 1024 * 1024
"""Characters of text a mutated document may hold in all (a long token copied into
every item of a list copied into itself grows past any file depchain would be given)."""


def _check_size(value: Any) -> None:
    """ValueError when writing ``value`` out in full would take more than
    :data:`MAX_WRITTEN` nodes or :data:`MAX_WRITTEN_CHARS` characters (shared subtrees
    counted each time they are written)."""
    nodes, chars = 0, 0
    stack = [value]
    while stack:
        item = stack.pop()
        nodes += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            chars += len(item)
        if nodes > MAX_WRITTEN or chars > MAX_WRITTEN_CHARS:
            raise ValueError("mutated document too large to write")


def dump_yaml(documents: list[Any]) -> str:
    _check_size(documents)
    text: str = yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120
    )
    return text


# --------------------------------------------------------------------------- text


_LINE_INSERTS: dict[str, tuple[str, ...]] = {
    "requirements": (
        "-r requirements.txt",
        "-r fuzz-a.txt",
        "-c fuzz-a.txt",
        "-r " + "a" * 300 + ".txt",
        "-r",
        "-r ../../../../etc/hostname",
        "-r /dev/zero",
        "-r https://u:" + SECRET + "@host/r.txt",
        "-r \x1b]0;title\x07x.txt",
        "--Index-Url https://user:" + SECRET + "@idx.example/simple",
        "--index-url https://idx.example/simple?private_token=" + SECRET,
        "--extra-index-url",
        "-i",
        "--find-links .",
        "--no-binary :all:",
        "--only-binary=:none:",
        "--pre --prefer-binary",
        "-Z",
        "--trusted-host",
        "--hash=sha256:" + "0" * 64,
        "six==1.16.0 --hash=sha256:zz",
        "six==1.16.0 \\",
        "\\",
        "-e .",
        "-e git+https://github.com/org/x.git#egg=x",
        "-e",
        "./",
        "pkg @ https://files.example/pkg.whl?token=" + SECRET,
        "${PRIVATE_URL}/pkg.tar.gz",
        "pkg[" + "e," * 500 + "]",
        "pkg==1 ; python_version < '3' and",
        "pkg ===arbitrary",
        "pkg (>=1)",
        "Pkg_Name.Sub==1.0.post1.dev2+local.7",
        "# comment with " + SECRET,
        "-",
        "--",
        "=",
        "@",
    ),
    "dockerfile": (
        "FROM",
        "FROM ${BASE}",
        "FROM $UNSET AS x",
        "ARG BASE",
        "ARG BASE=",
        "FROM runtime AS runtime",
        "FROM a AS b\nFROM b AS a",
        "FROM scratch",
        "FROM python:3.12@sha256:zz",
        "COPY --from=nowhere /a /b",
        "COPY --from=",
        "RUN pip install -r /app/requirements.txt",
        "RUN pip install -r",
        "RUN pip install --index-url https://u:" + SECRET + "@idx/simple pkg",
        "RUN pip install 'pkg @ https://x/y.whl?X-Amz-Signature=" + SECRET + "'",
        "RUN uv sync --group",
        "RUN poetry install --with ''",
        "RUN pdm install -G",
        "RUN apt-get install -y $RUN_DEPS ${X} $(cat list)",
        "RUN X=$X$X$X && apt-get install $X",
        "RUN \\",
        "RUN <<EOF",
        "RUN <<EOF\npip install six\nEOF",
        "ONBUILD RUN pip install x",
        "# syntax=",
        "# escape=`",
        "\\",
        "ENV A=${A}${A}",
        "ADD --checksum=sha256:zz https://x/y /y",
    ),
    "gomod": (
        "module",
        'module "quoted/mod"',
        "go",
        "go 1.22.0.0",
        "require (",
        ")",
        "require x",
        "require x v1",
        "require x v1.2.3 // indirect",
        'require "x" "v1.0.0"',
        "replace x => y",
        "replace x => ../y",
        "replace x v1 => x v1",
        "replace a => a",
        "replace a => https://u:" + SECRET + "@host/a.git",
        "replace (",
        "replace x =>",
        "exclude (",
        "retract [v1, v2",
        "retract (",
        "toolchain",
        "godebug default=go1.21",
        "tool example.com/cmd",
        "// Deprecated: use x",
        "/* block",
    ),
    "env": (
        "A=",
        "=x",
        "export",
        "export A",
        "A='unterminated",
        'A="unterminated',
        'A="a\\',
        "A=${A}",
        "A=${B}\nB=${A}",
        "A=${A:-${A:-${A}}}",
        "DATABASE_URL=postgres://u:" + SECRET + "@h/db",
        "URL=http://[::1",
        "URL=redis://" + "a" * 5_000,
        "A=$(cat /etc/passwd)",
        "A B C",
    ),
    "ini": (
        "[options]",
        "[metadata]",
        "[testenv]",
        "[testenv:fuzz]",
        "[tox]",
        '[submodule "x"]',
        '[submodule "x"]\npath = x\nurl = ../x',
        "[requires]",
        "[",
        "]",
        "install_requires = file: requirements.txt",
        "install_requires = file: ../../../../etc/hostname",
        "install_requires =\n    six\n    ${X}",
        "extras_require =\n    dev = pytest",
        "deps = {[testenv]deps}",
        "deps = {[testenv:fuzz]deps}",
        "deps = -r requirements.txt",
        "deps = -r{toxinidir}/" + "a" * 300,
        "deps = {env:X:{env:Y:{posargs}}}",
        "%(here)s = %(here)s",
        "key = %(key)s",
        "url = https://u:" + SECRET + "@host/x.git",
        "url =",
        "path =",
        "path = ../../outside",
        "  continuation",
        "\tcontinuation",
        "key",
        "= value",
        "; comment",
        "a" * 5_000 + " = 1",
    ),
    "python": (
        "setup(",
        ")",
        "install_requires=[x for x in open('r.txt')],",
        "install_requires=['six==1.16.0'] * 10000,",
        "import os; os.system('touch /tmp/fuzz-pwned')",
        "setup(**{'install_requires': ['six']})",
        "'''",
        '"' * 3,
        "\\",
        "(" * 200,
        "[" * 5_000,
        "def f(:",
        "# -*- coding: latin-1 -*-",
        "# -*- coding: nosuch -*-",
    ),
}
_LINE_INSERTS["yaml"] = (
    "<<: *nosuch",
    "a: &a [*a]",
    "key: value\nkey: other",
    "- item",
    "? complex key",
    "!!python/object/apply:os.system ['true']",
    "x: !!binary QUJD",
    "x: !custom 1",
    "%YAML 1.1",
    "---",
    "...",
    "\t: tab",
    "x: {",
    "x: [",
    "x: '",
    "x: |",
    "x: >-",
    "x: 9" + "9" * 5_000,
    "x: 0o" + "7" * 3_000,
    "x: 1_000_000",
    "x: 2024-13-45",
    "x: .nan",
    "on: yes",
    "x: " + "[" * 2_000 + "]" * 2_000,
    "x: " + "{a: " * 1_000 + "1" + "}" * 1_000,
)
_LINE_INSERTS["toml"] = (
    "[project]",
    "[[package]]",
    "[[packages]]",
    "[tool.poetry]",
    "[tool]\npoetry = 1",
    "version = 1",
    "version = 9" + "9" * 5_000,
    "x = 0x" + "f" * 5_000,
    "x = " + "[" * 3_000 + "]" * 3_000,
    "x = " + "{a = " * 500 + "1" + "}" * 500,
    'name = "a"\nname = "b"',
    "[a]\n[a]",
    "[[a]]\n[a]",
    "a.b.c = 1\na.b = 2",
    "x = 1979-05-27T07:32:00Z",
    "x = 1979-05-99",
    "x = inf",
    "x = '''",
    'x = """',
    'x = "\\uD800"',
    "x = [",
    "=",
    "[",
    "[]",
    "x = 'a' 'b'",
)
_LINE_INSERTS["json"] = (
    "{",
    "}",
    "[",
    "]",
    ",",
    '"a": 1, "a": 2,',
    '"_meta": null,',
    '"default": [],',
    "9" * 5_000 + ",",
    "[" * 50_000,
    '"\\ud800",',
    "NaN,",
    "Infinity,",
    "//",
)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def mutate_lines(rng: random.Random, kind: str, data: bytes, steps: list[str]) -> bytes:
    """Line-level changes: duplicate, drop, swap, cut, insert a directive of the format."""
    lines = _lines(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        i = rng.randrange(len(lines))
        op = rng.randrange(8)
        if op == 0:
            times = rng.choice((1, 2, 50, 5_000))
            steps.append(f"duplicate line {i + 1} x{times}")
            lines[i + 1 : i + 1] = [lines[i]] * times
        elif op == 1 and len(lines) > 1:
            steps.append(f"drop line {i + 1}")
            del lines[i]
        elif op == 2:
            j = rng.randrange(len(lines))
            steps.append(f"swap lines {i + 1} and {j + 1}")
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3 and lines[i]:
            cut = rng.randrange(len(lines[i]))
            steps.append(f"cut line {i + 1} at {cut}")
            lines[i] = lines[i][:cut]
        elif op == 4:
            token = long_string(rng).encode()
            at = rng.randrange(len(lines[i]) + 1)
            steps.append(f"long token in line {i + 1}")
            lines[i] = lines[i][:at] + token + lines[i][at:]
        elif op == 5:
            text = damage_text(rng, lines[i].decode("utf-8", "replace"))
            steps.append(f"damage line {i + 1}")
            lines[i] = text.encode("utf-8", "surrogatepass")
        else:
            insert = rng.choice(_LINE_INSERTS.get(kind, _LINE_INSERTS["requirements"]))
            indent = b""
            if kind in {"yaml", "ini", "gomod"} and lines[i][:1] in {b" ", b"\t"}:
                indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            steps.append(f"insert at {i + 1}: {_short(insert)}")
            lines.insert(i, indent + insert.encode("utf-8", "surrogatepass"))
    return b"\n".join(lines)


def mutate_bytes(rng: random.Random, data: bytes, steps: list[str]) -> bytes:
    """Byte-level damage, a few places at most (the rest of the file stays readable)."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4))):
        i = rng.randrange(len(buf) + 1)
        op = rng.randrange(9)
        if op == 0 and buf:
            i = min(i, len(buf) - 1)
            buf[i] ^= 1 << rng.randrange(8)
            steps.append(f"flip bit at {i}")
        elif op == 1:
            buf[i:i] = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xe2\x80\xae"))
            steps.append(f"bad bytes at {i}")
        elif op == 2:
            steps.append(f"truncate at {i}")
            del buf[i:]
        elif op == 3:
            steps.append("BOM")
            buf[0:0] = rng.choice((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
        elif op == 4:
            steps.append("CRLF" if buf.count(b"\n") else "CR")
            buf = bytearray(bytes(buf).replace(b"\n", rng.choice((b"\r\n", b"\r"))))
        elif op == 5:
            j = min(len(buf), i + rng.randrange(1, 200))
            steps.append(f"delete {i}:{j}")
            del buf[i:j]
        elif op == 6:
            j = min(len(buf), i + rng.randrange(1, 200))
            times = rng.choice((2, 10, 1_000))
            steps.append(f"repeat {i}:{j} x{times}")
            buf[i:j] = bytes(buf[i:j]) * times
        elif op == 7:
            steps.append(f"random bytes at {i}")
            buf[i:i] = rng.randbytes(rng.randrange(1, 64))
        else:
            steps.append("UTF-16")
            buf = bytearray(bytes(buf).decode("utf-8", "replace").encode("utf-16"))
    return bytes(buf)


# --------------------------------------------------------------------------- structured


def mutate_structured(rng: random.Random, kind: str, data: bytes, steps: list[str]) -> bytes | None:
    """Parse, mutate, write back; ``None`` when the seed does not parse (the caller falls
    back to line and byte mutations)."""
    text = data.decode("utf-8", "replace")
    try:
        if kind == "toml":
            doc: Any = tomllib.loads(text)
            return dump_toml(mutate_tree(rng, doc, steps)).encode("utf-8", "surrogatepass")
        if kind == "json":
            doc = json.loads(text)
            return dump_json(mutate_tree(rng, doc, steps)).encode("utf-8", "surrogatepass")
        if kind == "yaml":
            docs = list(yaml.safe_load_all(text))
            if not docs:
                return None
            at = rng.randrange(len(docs))
            docs[at] = mutate_tree(rng, docs[at], steps)
            return dump_yaml(docs).encode("utf-8", "surrogatepass")
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
    return None


def mutate_table_text(rng: random.Random, data: bytes, steps: list[str]) -> bytes:
    """TOML/INI text: duplicate or swap table headers, duplicate keys."""
    lines = _lines(data)
    headers = [i for i, line in enumerate(lines) if line.lstrip().startswith(b"[")]
    keys = [i for i, line in enumerate(lines) if b"=" in line and not line.startswith(b"[")]
    op = rng.randrange(3)
    if op == 0 and len(headers) >= 2:
        i, j = rng.sample(headers, 2)
        steps.append(f"swap headers {i + 1}, {j + 1}")
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 1 and headers:
        i = rng.choice(headers)
        steps.append(f"duplicate header {i + 1}")
        lines.append(lines[i])
        lines.extend(lines[i + 1 : i + 4])
    elif keys:
        i = rng.choice(keys)
        steps.append(f"duplicate key line {i + 1}")
        lines.insert(i + 1, lines[i])
    return b"\n".join(lines)


def include_graph(rng: random.Random, target: str, steps: list[str]) -> Files:
    """Requirements files that include each other: a cycle, a self-include or a diamond
    (each file includes the next one twice), beside ``target``."""
    folder = PurePosixPath(target).parent
    name = PurePosixPath(target).name
    shape = rng.randrange(3)
    files: Files = {}
    if shape == 0:
        depth = rng.choice((16, 30))
        steps.append(f"-r diamond of depth {depth}")
        for level in range(depth):
            nxt = f"fuzz-{level + 1}-requirements.txt"
            files[f"fuzz-{level}-requirements.txt"] = f"-r {nxt}\n-r {nxt}\nsix=={level}\n".encode()
        files[f"fuzz-{depth}-requirements.txt"] = b"six==1.16.0\n"
        head = b"-r fuzz-0-requirements.txt\n"
    elif shape == 1:
        steps.append("-r cycle")
        files["fuzz-a-requirements.txt"] = f"-r {name}\n-c fuzz-b-requirements.txt\n".encode()
        files["fuzz-b-requirements.txt"] = b"-r fuzz-a-requirements.txt\nattrs\n"
        head = b"-r fuzz-a-requirements.txt\n"
    else:
        steps.append("self include")
        head = f"-r {name}\n-c {name}\n-r ./{name}\n".encode()
    prefix = "" if str(folder) == "." else f"{folder}/"
    return {prefix + k: v for k, v in files.items()} | {"__head__": head}


def dependency_group_graph(rng: random.Random, doc: dict[str, Any], steps: list[str]) -> None:
    """PEP 735 ``include-group`` cycles and diamonds in a pyproject document."""
    depth = rng.choice((3, 20, 30))
    groups: dict[str, Any] = {}
    if rng.random() < 0.5:
        steps.append(f"include-group diamond of depth {depth}")
        for level in range(depth):
            groups[f"g{level}"] = [{"include-group": f"g{level + 1}"}] * 2 + [f"six=={level}"]
        groups[f"g{depth}"] = ["attrs"]
    else:
        steps.append("include-group cycle")
        groups = {"a": [{"include-group": "b"}], "b": [{"include-group": "a"}, "six"]}
        groups["c"] = [{"include-group": "c"}, {"include-group": "nosuch"}, {"bad": 1}]
    doc["dependency-groups"] = groups


def compose_cycle(rng: random.Random, doc: Any, target: str, steps: list[str]) -> Any:
    if not isinstance(doc, dict):
        doc = {}
    services = doc.get("services")
    if not isinstance(services, dict):
        services = doc["services"] = {}
    name = PurePosixPath(target).name
    steps.append("compose extends cycle")
    services["fuzz-a"] = {"extends": {"service": "fuzz-b"}, "image": "redis:7"}
    services["fuzz-b"] = {"extends": {"service": "fuzz-a", "file": name}}
    services["fuzz-c"] = {"extends": "fuzz-c"}
    return doc


# --------------------------------------------------------------------------- wheel


def build_wheel(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def mutate_wheel(rng: random.Random, members: dict[str, str], steps: list[str]) -> bytes:
    data = {k: v.encode() for k, v in members.items()}
    roll = rng.random()
    if roll < 0.75:
        name = rng.choice([k for k in data if "dist-info" in k])
        steps.append(f"member {name}")
        data[name] = mutate_lines(rng, "requirements", data[name], steps)
        if rng.random() < 0.3:
            data[name] = mutate_bytes(rng, data[name], steps)
    elif roll < 0.85:
        steps.append("second dist-info")
        data["other-1.0.dist-info/METADATA"] = b"Name: other\n"
    elif roll < 0.92:
        steps.append("member with a hostile name")
        data[rng.choice(("../../evil.so", "/abs/x.so", "a/" * 100 + "x.so", "lib\x00.so"))] = (
            b"\x7fELF" + rng.randbytes(60)
        )
    else:
        name = rng.choice(list(data))
        steps.append(f"drop member {name}")
        del data[name]
    wheel = build_wheel(data)
    if rng.random() < 0.15:
        wheel = mutate_bytes(rng, wheel, steps)
    return wheel


# --------------------------------------------------------------------------- entry point


def mutate(rng: random.Random, target: str, seed: bytes, side: Files | None = None) -> Case:
    """One mutated case from the seed file ``target``."""
    kind = kind_of(target)
    steps: list[str] = []
    files: Files = dict(side or {})
    data = seed
    roll = rng.random()
    name = PurePosixPath(target).name
    if kind in {"toml", "json", "yaml"} and roll < 0.5:
        changed = None
        if kind == "toml" and name == "pyproject.toml" and rng.random() < 0.15:
            try:
                doc = tomllib.loads(seed.decode("utf-8", "replace"))
                dependency_group_graph(rng, doc, steps)
                changed = dump_toml(doc).encode()
            except ValueError:
                changed = None
        elif kind == "yaml" and "compose" in name and rng.random() < 0.2:
            docs = list(yaml.safe_load_all(seed.decode("utf-8", "replace")))
            docs[0] = compose_cycle(rng, docs[0] if docs else {}, target, steps)
            changed = dump_yaml(docs).encode()
        if changed is None:
            changed = mutate_structured(rng, kind, seed, steps)
        data = changed if changed is not None else mutate_lines(rng, kind, seed, steps)
    elif kind in {"toml", "ini"} and roll < 0.65:
        data = mutate_table_text(rng, seed, steps)
    elif kind == "requirements" and roll < 0.12:
        graph = include_graph(rng, target, steps)
        head = graph.pop("__head__")
        files.update(graph)
        data = head + seed
    elif roll < 0.85:
        data = mutate_lines(rng, kind, seed, steps)
    else:
        data = mutate_bytes(rng, seed, steps)
    if rng.random() < 0.1:  # and sometimes a little byte damage on top
        data = mutate_bytes(rng, data, steps)
    files[target] = data
    return Case(files, target, steps)
