"""GitHub Actions: workflows (``.github/workflows/*.yml``) and actions (``action.yml``).

Read: every ``uses:`` of ``jobs.<id>.steps[*]``, of ``jobs.<id>`` (reusable workflows)
and of a composite action's ``runs.steps[*]``; a Docker action's ``runs.image`` when it
is ``docker://``; job ``container:`` and ``services:`` images.

- ``owner/repo[/path]@ref``: ``pkg:githubactions/<owner>/<repo>@<ref>`` with the path as
  the purl subpath, a VCS source, ``depchain:ref-type`` (``sha`` for a full commit,
  ``tag`` for a version-looking ref, ``branch`` for anything else) and
  ``depchain:claimed-version`` from a trailing ``# v4.1.0`` comment; edge ``build``,
  mechanism ``github-action`` (``github-workflow`` for a reusable workflow);
- ``docker://image``, ``container:`` and ``services:`` images: ``pkg:docker/...``
  (see :mod:`depchain.images`), mechanism ``ci-container``
  (``github-action`` for a ``docker://`` step); images written as ``${{ }}``
  expressions are not known statically and are skipped;
- ``./path`` (a local action or reusable workflow): its ``action.yml`` (or the workflow
  file) is read from the repository, and what *it* uses is this repository's too, with
  evidence in that file.

Every edge starts at the project that holds the file; its evidence is the line of the
``uses:`` or ``image:`` key. A value of the wrong type is an error naming its line, and
the rest of the file is still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from depchain import yamlsafe
from depchain.errors import InputFileError
from depchain.images import image_component, parse_image
from depchain.model import (
    Component,
    Dependency,
    Evidence,
    Fragment,
    InputError,
    Scope,
)
from depchain.redaction import quote
from depchain.resolvers._refs import BuildLinks, claimed_version, pin_component
from depchain.resolvers.base import ResolveContext
from depchain.yamlpositions import YamlPositions, type_name

NAME = "github-actions"

_MAX_LOCAL_DEPTH = 8

# -- the resolver -----------------------------------------------------------------------

_ACTION = re.compile(
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9_.-]*)/(?P<repo>[A-Za-z0-9_.-]+)"
    r"(?:/(?P<path>[^@\s]+))?@(?P<ref>[^\s@]+)"
)


@dataclass
class _Doc:
    path: Path
    display: str
    positions: YamlPositions

    def evidence(self, path: tuple[str | int, ...]) -> Evidence:
        return Evidence(self.display, self.positions.line(path), NAME)


@dataclass
class _State(BuildLinks):
    scope = Scope.REQUIRED

    ctx: ResolveContext
    subject: Component
    repo_root: Path
    components: list[Component] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    visited: set[Path] = field(default_factory=set)

    def error(self, doc: _Doc, path: tuple[str | int, ...], message: str) -> None:
        self.errors.append(InputError(doc.display, f"{doc.positions.at(path)} {message}"))


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    text = ctx.read_text(path)
    data = yamlsafe.load(text, display)
    if not isinstance(data, dict):
        raise InputFileError(
            display, f"expected a workflow or action (a mapping), found {type_name(data)}"
        )
    subject = ctx.subject_for(path)
    state = _State(ctx, subject, _repository_root(path, ctx), components=[subject])
    state.visited.add(path.resolve())
    doc = _Doc(path, display, YamlPositions(text))
    if "jobs" not in data and "runs" not in data:
        state.notes.append((display, "no jobs: and no runs: (not a workflow or an action)"))
    _document(state, doc, data, depth=0)
    return Fragment(
        components=tuple(state.components),
        dependencies=tuple(state.dependencies),
        errors=tuple(state.errors),
        notes=tuple(state.notes),
    )


def _repository_root(path: Path, ctx: ResolveContext) -> Path:
    """Where ``./path`` in ``uses:`` is read from: the checkout's root."""
    if path.parent.name == "workflows" and path.parent.parent.name == ".github":
        return path.parent.parent.parent
    folder = path.parent
    root = ctx.root.resolve()
    for _ in range(32):
        if (folder / ".github").is_dir() or (folder / ".git").exists():
            return folder
        if folder.resolve() == root or folder.parent == folder:
            break
        folder = folder.parent
    return ctx.root


def _document(state: _State, doc: _Doc, data: dict[Any, Any], depth: int) -> None:
    jobs = data.get("jobs")
    if jobs is not None:
        if not isinstance(jobs, dict):
            state.error(doc, ("jobs",), f"is {type_name(jobs)}, expected a mapping of jobs")
        else:
            for job_id, job in jobs.items():
                _job(state, doc, job_id, job, depth)
    runs = data.get("runs")
    if runs is not None:
        if not isinstance(runs, dict):
            state.error(doc, ("runs",), f"is {type_name(runs)}, expected a mapping")
            return
        if "steps" in runs:
            _steps(state, doc, runs["steps"], ("runs", "steps"), depth)
        image = runs.get("image")
        if isinstance(image, str) and image.startswith("docker://"):
            _image(state, doc, image[len("docker://") :], ("runs", "image"), "ci-container")


def _job(state: _State, doc: _Doc, job_id: Any, job: Any, depth: int) -> None:
    base: tuple[str | int, ...] = ("jobs", str(job_id))
    if not isinstance(job, dict):
        state.error(doc, base, f"is {type_name(job)}, expected a mapping")
        return
    if "uses" in job:
        _uses(state, doc, job["uses"], (*base, "uses"), depth, workflow=True)
    if "steps" in job:
        _steps(state, doc, job["steps"], (*base, "steps"), depth)
    if "container" in job:
        _container(state, doc, job["container"], (*base, "container"))
    services = job.get("services")
    if services is not None:
        if not isinstance(services, dict):
            state.error(doc, (*base, "services"), f"is {type_name(services)}, expected a mapping")
        else:
            for name, service in services.items():
                _container(state, doc, service, (*base, "services", str(name)))


def _steps(state: _State, doc: _Doc, steps: Any, path: tuple[str | int, ...], depth: int) -> None:
    if not isinstance(steps, list):
        state.error(doc, path, f"is {type_name(steps)}, expected a list of steps")
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            state.error(doc, (*path, index), f"is {type_name(step)}, expected a mapping")
            continue
        if "uses" in step:
            _uses(state, doc, step["uses"], (*path, index, "uses"), depth, workflow=False)


def _container(state: _State, doc: _Doc, spec: Any, path: tuple[str | int, ...]) -> None:
    image_path = path
    if isinstance(spec, dict):
        spec, image_path = spec.get("image"), (*path, "image")
    if spec is None or spec == "":
        return
    if not isinstance(spec, str):
        state.error(doc, image_path, f"is {type_name(spec)}, expected an image name")
        return
    if "${{" in spec:
        return  # an expression: which image runs is only known when the workflow runs
    _image(state, doc, spec.removeprefix("docker://"), image_path, "ci-container")


def _image(
    state: _State, doc: _Doc, reference: str, path: tuple[str | int, ...], mechanism: str
) -> None:
    try:
        image = parse_image(reference)
    except ValueError as exc:
        state.error(doc, path, str(exc))
        return
    evidence = doc.evidence(path)
    state.link(image_component(image, evidence), mechanism, evidence)


def _uses(
    state: _State,
    doc: _Doc,
    value: Any,
    path: tuple[str | int, ...],
    depth: int,
    workflow: bool,
) -> None:
    if not isinstance(value, str):
        state.error(doc, path, f"is {type_name(value)}, expected a string")
        return
    value = value.strip()
    if value.startswith("docker://"):
        _image(state, doc, value[len("docker://") :], path, "github-action")
        return
    if value.startswith("./"):
        _local(state, doc, value, path, depth)
        return
    m = _ACTION.fullmatch(value)
    subpath = m.group("path") if m else None
    if not m or "${{" in value or (subpath and ({"", ".", ".."} & set(subpath.split("/")))):
        state.error(
            doc, path, f"{quote(value)} is not owner/repo[/path]@ref, ./path or docker://image"
        )
        return
    owner, repo, ref = m.group("owner").lower(), m.group("repo").lower(), m.group("ref")
    claimed = claimed_version(doc.positions.comment(path))
    evidence = doc.evidence(path)
    reusable = workflow or bool(subpath and re.match(r"\.github/workflows/[^/]+\.ya?ml$", subpath))
    state.link(
        action_component(owner, repo, subpath, ref, evidence, claimed),
        "github-workflow" if reusable else "github-action",
        evidence,
    )


@lru_cache(maxsize=4096)
def _action_purl(owner: str, repo: str, ref: str, subpath: str | None) -> str:
    from packageurl import PackageURL  # deferred: not needed on the fast path

    purl = PackageURL(
        type="githubactions", namespace=owner, name=repo, version=ref, subpath=subpath
    )
    return str(purl.to_string())


def action_component(
    owner: str,
    repo: str,
    subpath: str | None,
    ref: str,
    evidence: Evidence,
    claimed: str | None = None,
) -> Component:
    """``pkg:githubactions/<owner>/<repo>@<ref>#<subpath>`` with its ref's type."""
    return pin_component(
        _action_purl(owner, repo, ref, subpath or None),
        f"{owner}/{repo}" + (f"/{subpath}" if subpath else ""),
        "githubactions",
        f"https://github.com/{owner}/{repo}",
        ref,
        evidence,
        claimed,
        subdirectory=subpath or None,
    )


def _local(state: _State, doc: _Doc, value: str, path: tuple[str | int, ...], depth: int) -> None:
    """``./path``: a local action (its ``action.yml``) or a local reusable workflow."""
    target = state.repo_root / value
    if value.rstrip("/").endswith((".yml", ".yaml")):
        candidates = [target]
    else:
        candidates = [target / "action.yml", target / "action.yaml"]
    found = next((c for c in candidates if c.is_file()), None)
    line = doc.positions.line(path)
    at = f"line {line}: " if line else ""
    if found is None:
        state.notes.append(
            (doc.display, f"{at}local action {value} not found in the repository; not read")
        )
        return
    root = state.repo_root.resolve()
    resolved = found.resolve()
    if not resolved.is_relative_to(root):
        state.errors.append(
            InputError(doc.display, f"{at}local action {value} is outside the repository")
        )
        return
    if resolved in state.visited:
        return
    if depth >= _MAX_LOCAL_DEPTH:
        state.errors.append(
            InputError(doc.display, f"{at}local actions nested deeper than {_MAX_LOCAL_DEPTH}")
        )
        return
    state.visited.add(resolved)
    display = state.ctx.display(found)
    try:
        text = state.ctx.read_text(found)
        data = yamlsafe.load(text, display)
    except InputFileError as exc:
        state.errors.append(InputError(doc.display, f"{at}local action {value}: {exc}"))
        return
    if not isinstance(data, dict):
        state.errors.append(
            InputError(doc.display, f"{at}local action {value} is {type_name(data)}")
        )
        return
    _document(state, _Doc(found, display, YamlPositions(text)), data, depth + 1)
