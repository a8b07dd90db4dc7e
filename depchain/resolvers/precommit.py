"""pre-commit configuration (``.pre-commit-config.yaml``).

Read: each ``repos[*]`` entry with its ``repo`` URL and ``rev``, and each hook's
``additional_dependencies``. pre-commit clones the hook repository at ``rev`` and runs
its code on every commit, so every remote repository is a build-time dependency:

- a GitHub repository: ``pkg:github/<owner>/<repo>@<rev>``; any other URL:
  ``pkg:generic/<name>@<rev>?vcs_url=<url>``; with a VCS source, ``depchain:ref-type``
  (``sha``, ``tag`` or ``branch``) and ``depchain:claimed-version`` from a trailing
  ``# frozen: v1.2.3`` (or ``# v1.2.3``) comment; edge ``build``/``dev``, mechanism
  ``pre-commit``, evidence the line of ``rev:``;
- ``additional_dependencies``: PEP 508 requirements (``pkg:pypi``) when the hook's
  ``language`` is Python or not given, otherwise (or when not PEP 508)
  ``pkg:generic/<name>`` (``name@version`` read as npm writes it); edge ``build``/``dev``,
  mechanism ``pre-commit-dependency``, evidence the line of the item.

``repo: local`` and ``repo: meta`` hold no remote code: only their hooks'
``additional_dependencies`` are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from depchain import yamlsafe
from depchain.errors import InputFileError, InvalidValue
from depchain.ids import purl, vcs_uri
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
)
from depchain.redaction import quote, redact_url
from depchain.resolvers._refs import BuildLinks, claimed_version, pin_component
from depchain.resolvers.base import ResolveContext, requirement
from depchain.yamlpositions import YamlPositions, type_name

NAME = "pre-commit"

_PYTHON_LANGUAGES = frozenset({"python", "python_venv"})
_GITHUB = re.compile(
    r"(?:https?://|git://|ssh://git@|git@)(?:www\.)?github\.com[/:]"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?"
)
_NPM_STYLE = re.compile(r"(?P<name>@?[A-Za-z0-9][A-Za-z0-9._/-]*)@(?P<version>[^\s@/:]+)")
_OTHER = re.compile(r"(?P<name>@?[A-Za-z0-9][A-Za-z0-9._/+-]*)(?:(?:@|:|==?)(?P<version>[^\s@]+))?")


@dataclass
class _State(BuildLinks):
    scope = Scope.DEV

    display: str
    subject: Component
    positions: YamlPositions
    components: list[Component] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    def evidence(self, path: tuple[str | int, ...]) -> Evidence:
        return Evidence(self.display, self.positions.line(path), NAME)

    def error(self, path: tuple[str | int, ...], message: str) -> None:
        self.errors.append(InputError(self.display, f"{self.positions.at(path)} {message}"))


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    data = yamlsafe.load(text, display)
    repos_path: tuple[str | int, ...] = ("repos",)
    repos: Any
    if isinstance(data, list):  # the old format: the list of repositories itself
        repos, repos_path = data, ()
    elif isinstance(data, dict):
        repos = data.get("repos")
    else:
        raise InputFileError(display, f"expected a mapping with repos:, found {type_name(data)}")
    subject = ctx.subject_for(path)
    state = _State(display, subject, YamlPositions(text), components=[subject])
    if repos is None:
        raise InputFileError(display, "no repos: (not a pre-commit configuration)")
    if not isinstance(repos, list):
        state.error(repos_path, f"is {type_name(repos)}, expected a list")
    else:
        for index, entry in enumerate(repos):
            _repo(state, entry, (*repos_path, index))
    return Fragment(
        components=tuple(state.components),
        dependencies=tuple(state.dependencies),
        errors=tuple(state.errors),
    )


def _repo(state: _State, entry: Any, path: tuple[str | int, ...]) -> None:
    if not isinstance(entry, dict):
        state.error(path, f"is {type_name(entry)}, expected a mapping with repo: and hooks:")
        return
    url = entry.get("repo")
    if not isinstance(url, str) or not url.strip():
        state.error((*path, "repo") if "repo" in entry else path, "needs a repository URL")
    elif url not in {"local", "meta"}:
        _remote(state, url.strip(), entry, path)
    hooks = entry.get("hooks")
    if hooks is None:
        return
    if not isinstance(hooks, list):
        state.error((*path, "hooks"), f"is {type_name(hooks)}, expected a list")
        return
    for index, hook in enumerate(hooks):
        if not isinstance(hook, dict):
            state.error((*path, "hooks", index), f"is {type_name(hook)}, expected a mapping")
            continue
        extra = hook.get("additional_dependencies")
        if extra is None:
            continue
        extra_path = (*path, "hooks", index, "additional_dependencies")
        if not isinstance(extra, list):
            state.error(extra_path, f"is {type_name(extra)}, expected a list")
            continue
        language = hook.get("language")
        python = language is None or language in _PYTHON_LANGUAGES
        for item_index, item in enumerate(extra):
            _additional(state, item, (*extra_path, item_index), python)


def _remote(state: _State, url: str, entry: dict[Any, Any], path: tuple[str | int, ...]) -> None:
    rev = entry.get("rev")
    if rev is None:
        state.error((*path, "repo"), f"{redact_url(url)} has no rev")
        return
    if not isinstance(rev, str) or not rev.strip():
        state.error((*path, "rev"), f"is {type_name(rev)}, expected a string (quote it)")
        return
    rev = rev.strip()
    rev_path = (*path, "rev")
    evidence = state.evidence(rev_path)
    claimed = claimed_version(state.positions.comment(rev_path))
    clean = redact_url(vcs_uri(url))
    github = _GITHUB.fullmatch(url)
    if github:
        owner, repo = github.group("owner").lower(), github.group("repo").lower()
        ident = purl("github", repo, rev, namespace=owner)
        name = f"{owner}/{repo}"
        ecosystem = "github"
    else:
        name = _repo_name(clean)
        try:
            ident = purl("generic", name, rev, qualifiers=(("vcs_url", f"{clean}@{rev}"),))
        except InvalidValue:
            state.error((*path, "repo"), f"{quote(url)} names no repository")
            return
        ecosystem = "generic"
    component = pin_component(ident, name, ecosystem, clean, rev, evidence, claimed)
    state.link(component, "pre-commit", evidence)


def _repo_name(url: str) -> str:
    try:
        tail = urlsplit(url).path if "://" in url else url.rpartition(":")[2]
    except ValueError:  # not a URL urllib can split (a malformed IPv6 host)
        tail = url.rpartition("/")[2]
    segments = [s for s in tail.split("/") if s]
    return segments[-1].removesuffix(".git") if segments else url


def _additional(state: _State, item: Any, path: tuple[str | int, ...], python: bool) -> None:
    if not isinstance(item, str) or not item.strip():
        state.error(path, f"is {type_name(item)}, expected a requirement string")
        return
    text = item.strip()
    evidence = state.evidence(path)
    if python:
        npm = _NPM_STYLE.fullmatch(text)
        if not npm:
            try:
                component, dep = requirement(
                    text,
                    state.subject.id,
                    evidence,
                    kind=DependencyKind.BUILD,
                    scope=Scope.DEV,
                    mechanism="pre-commit-dependency",
                )
            except ValueError:
                pass
            else:
                state.components.append(component)
                state.dependencies.append(dep)
                return
    other = _OTHER.fullmatch(text)
    if not other:
        state.error(path, f"{quote(text)} is not a package name")
        return
    name, version = other.group("name"), other.group("version")
    ident = purl("generic", name, version)
    component = Component(
        id=ident,
        name=name,
        ecosystem="generic",
        version=version,
        purl=ident,
        evidence=(evidence,),
    )
    state.link(component, "pre-commit-dependency", evidence)
