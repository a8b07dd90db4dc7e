"""The role each input file plays in its project, and which files a scan reads at all.

A repository holds more than what its project ships: tests and the fixtures they read
(manifests of imaginary projects), documentation, examples, packaging helpers, editor
and CI configuration. Only ``runtime`` inputs make runtime dependencies and services of
a project; see the README's "Roles" section for the rules, in the order they apply:

1. an override: ``--role GLOB=ROLE`` on the command line, then ``[tool.depchain.roles]``
   (the last matching pattern wins, as in ``.gitattributes``);
2. test data: a fixture folder, or a data folder or another project's manifest inside
   a test tree, is ``fixture``;
3. a requirements file something shipped installs (the project's metadata, a runtime
   Dockerfile) is ``runtime``;
4. the file's place: the folders on its path, relative to the scanned folder
   (``tests/``, ``docs/``, ``examples/``, ``scripts/``, ``.github/``, ``packaging/``...);
5. its name: ``requirements-dev.txt``, ``docker-compose.test.yml``, ``Dockerfile.dev``;
6. what else uses a requirements file: a runtime requirements file's ``-r`` makes it
   ``runtime``; tox, nox, CI or Read the Docs alone make it ``test``/``dev``/``docs``
   (unless its name is the runtime one: ``requirements.txt``); a file that only
   includes tooling files is ``dev``;
7. otherwise ``runtime``.

Nothing here reads a file larger than the scan's limit, and nothing is run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from depchain.model import Role

# -- the folders ----------------------------------------------------------------------

TEST_DIRS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "testsuite",
        "test-suite",
        "spec",
        "specs",
        "e2e",
        "integration",
        "integration-tests",
        "integration_tests",
        "functional",
        "functional-tests",
        "functional_tests",
        "unit-tests",
        "unit_tests",
        "unittests",
    }
)
FIXTURE_DIRS = frozenset(
    {
        "fixture",
        "fixtures",
        "__fixtures__",
        "test_data",
        "test-data",
        "testdata",
        "test_resources",
        "test-resources",
        "cassettes",
        "snapshots",
        "__snapshots__",
        "golden",
        "goldens",
    }
)
"""Test data anywhere in the tree."""
TEST_DATA_DIRS = frozenset(
    {"data", "resources", "samples", "sample", "cases", "inputs", "assets", "files", "projects"}
)
"""Test data when inside a test tree (``tests/data/``)."""
DOCS_DIRS = frozenset({"docs", "doc", "documentation", "_docs", "docsrc"})
EXAMPLE_DIRS = frozenset(
    {
        "examples",
        "example",
        "samples",
        "sample",
        "demo",
        "demos",
        "tutorial",
        "tutorials",
        "cookbook",
        "quickstart",
        "playground",
        "sandbox",
        "templates-examples",
    }
)
TEMPLATE_DIRS = frozenset(
    {
        "project_template",
        "project-template",
        "project_templates",
        "app_template",
        "app-template",
        "app_templates",
        "skeleton",
        "skeletons",
        "scaffold",
        "scaffolds",
        "boilerplate",
        "cookiecutter",
    }
)
"""Templates of the projects a tool generates (Django's ``startproject`` template,
``pdm init``'s): what a generated project would depend on, not this one: ``example``."""
_GENERIC_TEMPLATE_DIRS = frozenset({"templates", "template"})
"""Template folders that are a project template only for the Python manifests,
requirements files and Dockerfiles in them (a Helm chart's ``templates/`` are its
manifests)."""
DEV_DIRS = frozenset(
    {
        "scripts",
        "script",
        "tools",
        "tooling",
        "devtools",
        "dev",
        "hack",
        "benchmarks",
        "benchmark",
        "bench",
        "asv_bench",
        "perf",
        "contrib",
        "extras",
        "ci",
        ".ci",
        ".github",
        ".gitlab",
        ".circleci",
        ".buildkite",
        ".azure-pipelines",
        ".vscode",
        ".idea",
        ".devcontainer",
        ".husky",
        ".claude",
        ".gemini",
        ".cursor",
        ".codex",
        "workstation",
        "notebooks",
    }
)
BUILD_DIRS = frozenset(
    {
        "packaging",
        "package-build",
        "pyinstaller",
        "installer",
        "installers",
        "snap",
        "snapcraft",
        "debian",
        "rpm",
        "conda-recipe",
        "conda.recipe",
        "recipe",
        "recipes",
        "flatpak",
        "appimage",
        "nsis",
        "wix",
        "build-tools",
        "build_tools",
    }
)

_DIR_ROLES: tuple[tuple[frozenset[str], Role], ...] = (
    (FIXTURE_DIRS, Role.FIXTURE),
    (TEST_DIRS, Role.TEST),
    (DOCS_DIRS, Role.DOCS),
    (EXAMPLE_DIRS, Role.EXAMPLE),
    (BUILD_DIRS, Role.BUILD),
    (DEV_DIRS, Role.DEV),
)

PROJECT_FILES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        "uv.lock",
        "poetry.lock",
        "pdm.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "go.mod",
        "vendor.txt",
        ".gitmodules",
        "vcpkg.json",
        "conanfile.txt",
    }
)
"""Files that describe a whole project: inside a test tree, another (imaginary) one's."""


def _is_project_file(name: str) -> bool:
    return (
        name in PROJECT_FILES
        or name.endswith(".whl")
        or (name.startswith("pylock.") and name.endswith(".toml"))
    )


def _is_template_dir(folder: str, file: str) -> bool:
    lower = folder.lower()
    if lower in TEMPLATE_DIRS or lower.startswith("{{"):  # {{cookiecutter.project_slug}}
        return True
    name = file.lower()
    return lower in _GENERIC_TEMPLATE_DIRS and (
        _is_project_file(file)
        or "requirements" in name
        or name in {"pipfile", "dockerfile", "containerfile"}
    )


def _is_test_dir(name: str) -> bool:
    lower = name.lower()
    return (
        lower in TEST_DIRS
        or lower.startswith(("test_", "tests_", "test-", "tests-"))
        or lower.endswith(("_test", "_tests", "-test", "-tests"))
    )


def role_from_place(rel: PurePosixPath) -> tuple[Role, str] | None:
    """The role the folders on ``rel`` (relative to the scanned folder) give it, with
    the reason; None when no folder says anything."""
    folders = rel.parts[:-1]
    found: tuple[Role, str] | None = None
    in_tests: str | None = None
    for i, part in enumerate(folders):
        lower = part.lower()
        where = "/".join(folders[: i + 1]) + "/"
        if lower in FIXTURE_DIRS:
            return Role.FIXTURE, f"test data under {where}"
        if in_tests is not None and lower in TEST_DATA_DIRS:
            return Role.FIXTURE, f"test data under {where}"
        if _is_test_dir(part):
            in_tests = in_tests or where
            found = (Role.TEST, f"under {in_tests}")
            continue
        for names, role in _DIR_ROLES[2:]:
            if lower in names:
                found = (role, f"under {where}")
                break
        else:
            if _is_template_dir(part, rel.name):
                found = (Role.EXAMPLE, f"a project template under {where}")
    if in_tests is not None and _is_project_file(rel.name):
        return Role.FIXTURE, f"another project's manifest inside the test tree {in_tests}"
    return found


_NAME_WORDS: dict[str, Role] = {
    "test": Role.TEST,
    "tests": Role.TEST,
    "testing": Role.TEST,
    "e2e": Role.TEST,
    "playwright": Role.TEST,
    "cypress": Role.TEST,
    "selenium": Role.TEST,
    "integration": Role.TEST,
    "ci": Role.TEST,
    "coverage": Role.TEST,
    "dev": Role.DEV,
    "develop": Role.DEV,
    "development": Role.DEV,
    "lint": Role.DEV,
    "linting": Role.DEV,
    "typing": Role.DEV,
    "mypy": Role.DEV,
    "bench": Role.DEV,
    "benchmark": Role.DEV,
    "benchmarks": Role.DEV,
    "debug": Role.DEV,
    "local": Role.DEV,
    "workstation": Role.DEV,
    "override": Role.DEV,
    "devcontainer": Role.DEV,
    "docs": Role.DOCS,
    "doc": Role.DOCS,
    "documentation": Role.DOCS,
    "example": Role.EXAMPLE,
    "examples": Role.EXAMPLE,
    "demo": Role.EXAMPLE,
}
_RUNTIME_WORDS = frozenset(
    {"base", "common", "main", "prod", "production", "runtime", "core", "install", "app"}
)
_NOISE_WORDS = frozenset(
    {
        "requirements",
        "requirement",
        "reqs",
        "constraints",
        "txt",
        "in",
        "yml",
        "yaml",
        "docker",
        "compose",
        "dockerfile",
        "containerfile",
        "env",
        "",
    }
)


def _words(name: str) -> set[str]:
    return {w.rstrip("0123456789") for w in re.split(r"[/\\_.\-]+", name.lower())} - _NOISE_WORDS


_TOOLING_RESOLVERS = {"pre-commit": Role.DEV, "tox": Role.TEST, "github-actions": Role.DEV}
"""Files that configure tooling whatever their place: their edges are all build-time."""


def role_from_name(rel: PurePosixPath, resolver: str) -> tuple[Role, str] | None:
    """The role a file's own name gives it (``requirements-dev.txt``,
    ``docker-compose.test.yml``, ``Dockerfile.dev``, ``.env.test``)."""
    if resolver in _TOOLING_RESOLVERS:
        return _TOOLING_RESOLVERS[resolver], f"{resolver} configuration"
    if resolver not in {"requirements", "compose", "dockerfile", "config-urls"}:
        return None
    words = _words(rel.name)
    if resolver == "requirements" and rel.parent.name.lower() in {"requirements", "reqs"}:
        words |= _words(rel.stem)
    if resolver == "requirements" and "build" in words:
        return Role.BUILD, "named for building"
    roles = sorted({_NAME_WORDS[w] for w in words if w in _NAME_WORDS}, key=lambda r: r.value)
    if roles:
        return roles[0], f"named for {roles[0].value}"
    return None


def is_runtime_name(rel: PurePosixPath) -> bool:
    """``requirements.txt``, ``requirements/base.txt``, ``requirements-prod.in``: the
    name of the file a project installs to run."""
    words = _words(rel.name)
    return not words or words <= _RUNTIME_WORDS


# -- what uses a requirements file ----------------------------------------------------

_REQ_OPTION = re.compile(
    r"""(?:^|[\s"',(\[])(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s-]))["']?"""
    r"""([^\s"',)\]]+)"""
)
_RTD_REQUIREMENTS = re.compile(
    r"^[ \t]*(?:-[ \t]*)?requirements[ \t]*:[ \t]*[\"']?([^\s\"'#]+)", re.M
)
_SETUPTOOLS_FILE = re.compile(
    r"(?m)^\s*(?:dependencies|install_requires)\s*=\s*\{?\s*file\s*[:=]\s*\[?\s*([^\]\n}]+)"
)
"""The runtime requirements a project's metadata reads from files (setuptools'
``dependencies = {file = [...]}``, setup.cfg's ``install_requires = file: ...``); an
extra's (``optional-dependencies.dev = {file = ...}``) is no runtime claim."""

DEV_DECLARERS: dict[str, Role] = {
    "tox.ini": Role.TEST,
    "noxfile.py": Role.TEST,
    ".gitlab-ci.yml": Role.TEST,
    ".travis.yml": Role.TEST,
    "azure-pipelines.yml": Role.TEST,
    "appveyor.yml": Role.TEST,
    "Makefile": Role.DEV,
    "justfile": Role.DEV,
    ".readthedocs.yml": Role.DOCS,
    ".readthedocs.yaml": Role.DOCS,
    "readthedocs.yml": Role.DOCS,
    "readthedocs.yaml": Role.DOCS,
}
"""Files whose ``-r FILE`` installs tooling (besides CI workflows and configurations)."""


def _is_ci_config(rel: PurePosixPath) -> bool:
    parts = rel.parts
    return rel.suffix in {".yml", ".yaml"} and (
        (len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows")
        or (len(parts) >= 2 and parts[-2] in {".circleci", ".buildkite"})
    )


_EDITABLE_SELF = re.compile(
    r"""(?m)^[ \t]*(?:-e|--editable)(?:[ \t]*=[ \t]*|[ \t]+)["']?(?:file:)?\.{1,2}/?"""
    r"""(?:\[[^\]\n]*\])?["']?[ \t]*(?:\#.*)?$"""
)
"""``-e .``, ``-e .[dev,test]``, ``--editable=file:.``: the project itself, installed in
pip's development mode."""


def editable_self(text: str) -> int | None:
    """The line where a requirements file installs the project it sits in (``.`` or
    ``..``) in editable, development mode, if it does."""
    m = _EDITABLE_SELF.search(text)
    return None if m is None else text.count("\n", 0, m.start()) + 1


@dataclass
class Uses:
    """Which requirements files tooling installs, and which something shipped installs."""

    dev: dict[str, tuple[Role, str]] = field(default_factory=dict)
    runtime: dict[str, str] = field(default_factory=dict)
    """Installed by what is shipped: the project's metadata, a runtime Dockerfile."""
    included: dict[str, str] = field(default_factory=dict)
    """Included (``-r``) by a runtime requirements file."""
    includes: dict[str, list[str]] = field(default_factory=dict)
    """What each requirements file includes."""
    editable: dict[str, str] = field(default_factory=dict)
    """Requirements files that install their own project editable (``-e .``): a
    developer's environment (httpx's requirements.txt), not what the project ships."""

    def add(self, target: str, role: Role | None, reason: str, declarer: str = "") -> None:
        if declarer.endswith((".txt", ".in")):
            self.includes.setdefault(declarer, []).append(target)
            if role is None:
                self.included.setdefault(target, reason)
                return
        if role is None:
            self.runtime.setdefault(target, reason)
        else:
            self.dev.setdefault(target, (role, reason))


def _references(text: str, pattern: re.Pattern[str]) -> Iterable[tuple[str, int]]:
    for m in pattern.finditer(text):
        yield m.group(1), text.count("\n", 0, m.start(1)) + 1


def _resolve_ref(ref: str, declarer: PurePosixPath, known: set[str]) -> str | None:
    """The scanned file a ``-r`` reference names: relative to the declaring file's
    folder (tox, pip), else to the top (a CI job runs there)."""
    ref = ref.strip().strip("\"'")
    if not ref or "://" in ref or "{" in ref or "$" in ref:
        return None
    if ref.startswith("/"):
        # a path inside an image (``COPY requirements.txt /app/`` then ``-r /app/...``):
        # the one scanned file whose path ends as it does, longest tail first
        parts = PurePosixPath(ref).parts[1:]
        for k in range(len(parts), 0, -1):
            tail = "/".join(parts[-k:])
            found = [f for f in known if f == tail or f.endswith("/" + tail)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                near = [f for f in found if PurePosixPath(f).parent == declarer.parent]
                return near[0] if len(near) == 1 else None
        return None
    for base in (declarer.parent, PurePosixPath(".")):
        candidate = _normal(base / ref)
        if candidate in known:
            return candidate
    return None


def _normal(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part in {"", "."}:
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def find_uses(
    root: Path,
    requirement_files: Sequence[str],
    declarers: Sequence[tuple[str, Role | None]],
    read: Callable[[Path], str | None],
) -> Uses:
    """Who installs each requirements file: ``declarers`` are (path, role) pairs where
    ``None`` means a shipped file (a runtime Dockerfile, the project's own metadata)."""
    known = set(requirement_files)
    uses = Uses()
    for rel in requirement_files:
        text = read(root / rel)
        line = editable_self(text) if text is not None else None
        if line is not None:
            uses.editable[rel] = (
                f"installs its own project editable (line {line}): a development environment"
            )
    for rel, role in declarers:
        text = read(root / rel)
        if text is None:
            continue
        declarer = PurePosixPath(rel)
        patterns = [_REQ_OPTION]
        if role is Role.DOCS:
            patterns.append(_RTD_REQUIREMENTS)
        if declarer.name in {"pyproject.toml", "setup.cfg"}:
            patterns = [_SETUPTOOLS_FILE]
        for pattern in patterns:
            for ref, line in _references(text, pattern):
                for one in re.split(r"[\s,\"']+", ref) if pattern is _SETUPTOOLS_FILE else [ref]:
                    target = _resolve_ref(one, declarer, known)
                    if target is not None and target != rel:
                        uses.add(target, role, f"installed by {rel}:{line}", rel)
    return uses


# -- groups a shipped image installs --------------------------------------------------

_GROUP_INSTALL = re.compile(
    r"\b(?:uv\s+sync|poetry\s+(?:install|sync)|pdm\s+(?:install|sync)|hatch\s+env)\b"
    r"[^\n;&|]*"
)
_GROUP_OPTION = re.compile(
    r"(?:^|\s)(--group|--extra|--with|--only|-G|--dev-group)(?:=|\s+)[\"']?([\w.,-]+)"
)
_ALL_GROUPS = re.compile(r"(?:^|\s)(--all-groups|--all-extras|-G\s*:all)\b")


def installed_groups(text: str) -> dict[str, int]:
    """The dependency groups and extras a Dockerfile's ``uv sync --group X``, ``poetry
    install --with X``, ``pdm install -G X`` install, each with the line that says so
    (``*`` for ``--all-groups``)."""
    found: dict[str, int] = {}
    for m in _GROUP_INSTALL.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        command = m.group(0)
        for option in _GROUP_OPTION.finditer(command):
            for name in option.group(2).split(","):
                if name:
                    found.setdefault(canonical_group(name), line)
        if _ALL_GROUPS.search(command):
            found.setdefault("*", line)
    return found


def canonical_group(name: str) -> str:
    """A group or extra name as PEP 735 and PEP 685 compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


# -- globs ----------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``**`` any folders, ``*`` and ``?`` within one name; a pattern with no ``/``
    matches a name at any depth; a folder that matches takes everything below it."""
    pattern = pattern.strip().removeprefix("./")
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/")
    if pattern.endswith("/**"):
        pattern = pattern[:-3]  # ``dir/**`` is the folder and all below it
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:[^/]+/)*"
    return re.compile(f"{prefix}{body}(?:/.*)?")


def glob_match(pattern: str, rel: str) -> bool:
    return _glob_regex(pattern).fullmatch(rel) is not None


# -- putting it together --------------------------------------------------------------


@dataclass(frozen=True)
class RoleRule:
    """``pattern = role`` from the command line or ``[tool.depchain.roles]``."""

    pattern: str
    role: Role
    origin: str
    """Where the rule was written (``--role``, ``pyproject.toml:12``)."""


@dataclass(frozen=True)
class Assignment:
    role: Role
    reason: str


@dataclass
class RoleAssigner:
    """Gives each input its role, from the rules above."""

    rules: Sequence[RoleRule] = ()
    uses: Uses = field(default_factory=Uses)

    def role_for(self, resolver: str) -> Callable[[str], Role]:
        """The role of each path an input of ``resolver`` names in its evidence."""
        return lambda rel: self.assign(rel, resolver).role

    def assign(self, rel: str, resolver: str, _seen: frozenset[str] = frozenset()) -> Assignment:
        for rule in reversed(self.rules):
            if glob_match(rule.pattern, rel):
                return Assignment(rule.role, f"{rule.origin}: {rule.pattern} = {rule.role.value}")
        path = PurePosixPath(rel)
        placed = role_from_place(path)
        if placed is not None and placed[0] is Role.FIXTURE:
            return Assignment(*placed)
        requirements = resolver == "requirements"
        if requirements and rel in self.uses.runtime:
            return Assignment(Role.RUNTIME, self.uses.runtime[rel])  # shipped: it decides
        if placed is not None:
            return Assignment(*placed)
        named = role_from_name(path, resolver)
        if named is not None:
            return Assignment(*named)
        if requirements:
            if rel in self.uses.editable and not _words(path.name) & _RUNTIME_WORDS:
                # requirements/prod.txt's '-e .' is still the production install
                return Assignment(Role.DEV, self.uses.editable[rel])
            if rel in self.uses.included:
                return Assignment(Role.RUNTIME, self.uses.included[rel])
            if rel in self.uses.dev and not is_runtime_name(path):
                return Assignment(*self.uses.dev[rel])
            included = self.uses.includes.get(rel, [])
            if included and rel not in _seen and len(_seen) < 64:
                roles = [self.assign(i, resolver, _seen | {rel}).role for i in included]
                if all(r is not Role.RUNTIME for r in roles):
                    shown = ", ".join(included[:3]) + (", ..." if len(included) > 3 else "")
                    return Assignment(Role.DEV, f"includes only tooling files ({shown})")
        return Assignment(Role.RUNTIME, "default")


def declarers_of(paths: Iterable[str]) -> list[tuple[str, Role | None]]:
    """Of every file in the tree (relative paths), the ones that install requirements
    files, with the role they give them (None: a shipped use)."""
    found: list[tuple[str, Role | None]] = []
    for rel in paths:
        path = PurePosixPath(rel)
        if path.name in DEV_DECLARERS:
            found.append((rel, DEV_DECLARERS[path.name]))
        elif _is_ci_config(path):
            found.append((rel, Role.TEST))
        elif path.name in {"pyproject.toml", "setup.cfg"}:
            found.append((rel, None))
    return found
