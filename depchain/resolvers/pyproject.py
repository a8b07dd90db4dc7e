"""``pyproject.toml``: PEP 621 project metadata, PEP 735 dependency groups, PEP 517/518
``[build-system]``, Poetry's ``[tool.poetry]``, and the index and source tables of uv,
Poetry and PDM.

Nothing here runs a build backend: the file is only parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from depchain.errors import InputFileError
from depchain.ids import pypi_component
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    IndexRef,
    InputError,
    Scope,
    Source,
    SourceKind,
    sort_key,
)
from depchain.redaction import quote
from depchain.resolvers import poetry_constraints
from depchain.resolvers.base import LineIndex, ResolveContext, requirement, source_from_url

NAME = "pyproject"

BACKEND_PROVIDERS = {
    "setuptools.build_meta": "setuptools",
    "setuptools.build_meta:__legacy__": "setuptools",
    "hatchling.build": "hatchling",
    "flit_core.buildapi": "flit-core",
    "poetry.core.masonry.api": "poetry-core",
    "pdm.backend": "pdm-backend",
    "pdm.pep517.api": "pdm-pep517",
    "maturin": "maturin",
    "mesonpy": "meson-python",
    "scikit_build_core.build": "scikit-build-core",
    "uv_build": "uv-build",
    "sipbuild.api": "sip",
    "enscons.api": "enscons",
    "whey": "whey",
}
"""Which distribution provides a PEP 517 backend module."""


@dataclass
class _Builder:
    path: Path
    display: str
    lines: LineIndex
    subject: Component
    components: list[Component] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    indexes: tuple[IndexRef, ...] = ()
    sources: dict[str, Source] = field(default_factory=dict)

    def evidence(self, line: int | None) -> Evidence:
        return Evidence(self.display, line, NAME)

    def add(
        self,
        text: str,
        *,
        kind: DependencyKind,
        scope: Scope,
        mechanism: str,
        group: str | None = None,
        tables: tuple[str, ...] = (),
        key: str | None = None,
    ) -> Dependency | None:
        if not isinstance(text, str):
            self.errors.append(
                InputError(self.display, f"{'.'.join(tables[:1])}: not a string: {quote(text)}")
            )
            return None
        line = self.lines.find(text, tables=tables, key=key)
        try:
            component, dep = requirement(
                text,
                self.subject.id,
                self.evidence(line),
                kind=kind,
                scope=scope,
                mechanism=mechanism,
                group=group,
                indexes=self.indexes,
            )
        except ValueError as exc:
            where = f"line {line}" if line else "?"
            self.errors.append(
                InputError(self.display, f"{where}: invalid requirement {quote(text)}: {exc}")
            )
            return None
        component, dep = self._with_declared_source(component, dep)
        self.components.append(component)
        self.dependencies.append(dep)
        return dep

    def add_group(self, text: str, group: str, tables: tuple[str, ...], key: str) -> None:
        """A requirement of a development group: build-time, scope dev."""
        self.add(
            text,
            kind=DependencyKind.BUILD,
            scope=Scope.DEV,
            mechanism="dependency-group",
            group=group,
            tables=tables,
            key=key,
        )

    def _with_declared_source(
        self, component: Component, dep: Dependency
    ) -> tuple[Component, Dependency]:
        source = self.sources.get(canonicalize_name(component.name))
        if source is None or component.sources:
            return component, dep
        if source.kind is SourceKind.REGISTRY:  # pinned to one named index, and only it
            return component, replace(dep, indexes=(IndexRef("pinned", source.url or ""),))
        evidence = component.evidence[0]
        sourced = pypi_component(component.name, component.version, evidence, sources=(source,))
        return sourced, replace(dep, target=sourced.id)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    text = ctx.read_text(path)
    display = ctx.display(path)
    data = _parse(text, display)
    lines = LineIndex(text)
    project = data.get("project")
    if project is not None and not isinstance(project, dict):
        raise InputFileError(display, "[project] is not a table")
    poetry = _table(data, "tool", "poetry")
    subject, is_project = _subject(path, ctx, display, lines, project, poetry)
    b = _Builder(path, display, lines, subject)
    b.indexes, b.sources = _indexes_and_sources(data, display, b.errors)
    b.components.append(subject)

    if isinstance(project, dict):
        _pep621(b, project)
    if poetry:
        _poetry(b, poetry)
    _dependency_groups(b, data.get("dependency-groups"))
    _legacy_dev_groups(b, data)
    _build_system(b, data, declares_project=isinstance(project, dict) or bool(poetry))
    return Fragment(
        components=tuple(b.components),
        dependencies=tuple(b.dependencies),
        errors=tuple(b.errors),
        subjects=(subject.id,) if is_project else (),
    )


def _parse(text: str, display: str) -> dict[str, Any]:
    from depchain.fileio import parse_toml

    return parse_toml(text, display)


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = data
    for k in keys:
        node = node.get(k) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def _subject(
    path: Path,
    ctx: ResolveContext,
    display: str,
    lines: LineIndex,
    project: Any,
    poetry: dict[str, Any],
) -> tuple[Component, bool]:
    name = version = None
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        name = project["name"]
        version = project.get("version") if isinstance(project.get("version"), str) else None
        line = lines.find(name, tables=("project",), key="name")
        if not _VALID_NAME.match(name):
            raise InputFileError(
                display,
                f"line {line}: [project] name {name!r} is not a valid project name (PEP 508)",
            )
        if "version" in project and version is None:
            raise InputFileError(display, "[project] version is not a string")
    elif isinstance(poetry.get("name"), str):
        name = poetry["name"]
        version = poetry.get("version") if isinstance(poetry.get("version"), str) else None
        line = lines.find(name, tables=("tool.poetry",), key="name")
    if name is None:
        if isinstance(project, dict):
            raise InputFileError(display, "[project] has no name (PEP 621 requires one)")
        return ctx.subject_for(path), False
    evidence = Evidence(display, line, NAME)
    folder = ctx.display(path.parent) if path.parent != ctx.root else "."
    component = pypi_component(
        name,
        version,
        evidence,
        sources=(Source(SourceKind.PATH, url=folder),),
        ctype=ComponentType.APPLICATION,
    )
    # A project is this tree's own code: name it by its purl without the path qualifier.
    plain = component.id.split("?")[0]
    component = replace(component, id=plain, purl=plain)
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return _declared_pep621(component, project), True
    return _declared_poetry(component, poetry), True


def _declared_pep621(component: Component, project: dict[str, Any]) -> Component:
    """What ``[project]`` declares of the project itself: ``license`` (a PEP 639 SPDX
    expression, or the older ``{text = ...}`` / ``{file = ...}`` table), the licence
    classifiers, ``authors`` and ``maintainers``, ``description`` and ``urls``."""
    from depchain import licenses
    from depchain.declared import contacts, project_links, summary
    from depchain.model import License

    classifiers = [c for c in _string_list(project.get("classifiers")) if c.startswith("License")]
    value = project.get("license")
    found: License | None
    if isinstance(value, str):
        found = licenses.declared(value, None, classifiers, origin="pyproject:")
    elif isinstance(value, dict) and isinstance(value.get("text"), str):
        found = licenses.declared(None, value["text"], classifiers, origin="pyproject:")
    elif isinstance(value, dict) and isinstance(value.get("file"), str):
        found = licenses.declared(None, None, classifiers, origin="pyproject:") or License(
            source="pyproject:license.file",
            unknown=f"declared in the file {value['file']}, which is not read as a licence",
        )
    else:
        found = licenses.declared(None, None, classifiers, origin="pyproject:")
    people: list[Any] = []
    for key, role in (("authors", "author"), ("maintainers", "maintainer")):
        entries = project.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            name, email = entry.get("name"), entry.get("email")
            people.extend(
                contacts(
                    name if isinstance(name, str) else None,
                    email if isinstance(email, str) else None,
                    role,
                )
            )
    urls = project.get("urls")
    pairs = [
        (str(k), v)
        for k, v in (urls.items() if isinstance(urls, dict) else [])
        if isinstance(v, str)
    ]
    description = project.get("description")
    return replace(
        component,
        license=found,
        authors=tuple(sorted(set(people), key=sort_key)),
        description=summary(description) if isinstance(description, str) else None,
        links=project_links(pairs),
    )


def _declared_poetry(component: Component, poetry: dict[str, Any]) -> Component:
    """What ``[tool.poetry]`` declares of the project itself: ``license`` (an SPDX
    expression or a name), licence classifiers, ``authors`` and ``maintainers`` (``Name
    <address>`` strings), ``description``, ``homepage``, ``repository``,
    ``documentation`` and ``urls``."""
    from depchain import licenses
    from depchain.declared import contacts, link, project_links, summary

    classifiers = [c for c in _string_list(poetry.get("classifiers")) if c.startswith("License")]
    value = poetry.get("license")
    found = licenses.declared(
        value if isinstance(value, str) else None, None, classifiers, origin="pyproject:"
    )
    people = [
        c
        for key, role in (("authors", "author"), ("maintainers", "maintainer"))
        for text in _string_list(poetry.get(key))
        for c in contacts(None, text, role)
    ]
    urls = poetry.get("urls")
    pairs = [
        (str(k), v)
        for k, v in (urls.items() if isinstance(urls, dict) else [])
        if isinstance(v, str)
    ]
    links = list(project_links(pairs))
    for key, kind in (
        ("homepage", "website"),
        ("repository", "vcs"),
        ("documentation", "documentation"),
    ):
        if isinstance(poetry.get(key), str):
            made = link(key, poetry[key], kind)
            if made is not None:
                links.append(made)
    description = poetry.get("description")
    return replace(
        component,
        license=found,
        authors=tuple(sorted(set(people), key=sort_key)),
        description=summary(description) if isinstance(description, str) else None,
        links=tuple(sorted(set(links), key=sort_key)),
    )


def _url_pairs(urls: Any) -> list[tuple[str, str]]:
    items = urls.items() if isinstance(urls, dict) else []
    return [(str(k), v) for k, v in items if isinstance(v, str)]


def _string_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _pep621(b: _Builder, project: dict[str, Any]) -> None:
    for text in _strings(b, project.get("dependencies", []), "project.dependencies"):
        b.add(
            text,
            kind=DependencyKind.DYNAMIC,
            scope=Scope.REQUIRED,
            mechanism="requirement",
            tables=("project",),
            key="dependencies",
        )
    extras = project.get("optional-dependencies", {})
    if not isinstance(extras, dict):
        b.errors.append(InputError(b.display, "[project] optional-dependencies is not a table"))
        return
    for extra in sorted(extras):
        for text in _strings(b, extras[extra], f"project.optional-dependencies.{extra}"):
            b.add(
                text,
                kind=DependencyKind.DYNAMIC,
                scope=Scope.OPTIONAL,
                mechanism="extra",
                group=extra,
                tables=("project.optional-dependencies", "project"),
                key=extra,
            )


def _strings(b: _Builder, value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        b.errors.append(InputError(b.display, f"{where} is not an array of strings"))
        return []
    return list(value)


def _dependency_groups(b: _Builder, groups: Any) -> None:
    """PEP 735: each group's requirements, with ``{include-group = ...}`` expanded."""
    if groups is None:
        return
    if not isinstance(groups, dict):
        b.errors.append(InputError(b.display, "[dependency-groups] is not a table"))
        return
    by_name = {canonicalize_name(k): k for k in groups}
    done: dict[str, list[Any]] = {}

    def expand(group: str, stack: tuple[str, ...]) -> list[Any]:
        """The group's requirements, each once, its includes expanded once each (a
        diamond of includes costs what its groups do, not two to the depth)."""
        if group in done:
            return done[group]
        out: list[Any] = []
        seen: set[str] = set()

        def take(values: list[Any]) -> None:
            for value in values:
                if not isinstance(value, str):
                    out.append(value)  # add_group says what is wrong with it
                elif value not in seen:
                    seen.add(value)
                    out.append(value)

        for item in _strings(b, groups[group], f"dependency-groups.{group}"):
            if isinstance(item, dict) and "include-group" in item:
                wanted = canonicalize_name(str(item["include-group"]))
                if wanted in stack:
                    chain = " -> ".join((*stack, wanted))
                    b.errors.append(InputError(b.display, f"dependency group cycle: {chain}"))
                elif wanted not in by_name:
                    b.errors.append(
                        InputError(
                            b.display,
                            f"dependency group {quote(group)} includes unknown group "
                            f"{quote(item['include-group'])}",
                        )
                    )
                elif len(stack) > 64:
                    b.errors.append(
                        InputError(b.display, f"dependency group {quote(group)}: nested too deep")
                    )
                else:
                    take(expand(by_name[wanted], (*stack, wanted)))
            else:
                take([item])
        done[group] = out
        return out

    for group in sorted(groups):
        for text in expand(group, (canonicalize_name(group),)):
            b.add_group(text, group, ("dependency-groups",), group)


def _legacy_dev_groups(b: _Builder, data: dict[str, Any]) -> None:
    """``[tool.uv] dev-dependencies`` and ``[tool.pdm.dev-dependencies]``."""
    uv_dev = _table(data, "tool", "uv").get("dev-dependencies")
    if uv_dev is not None:
        for text in _strings(b, uv_dev, "tool.uv.dev-dependencies"):
            b.add_group(text, "dev", ("tool.uv",), "dev-dependencies")
    pdm_dev = _table(data, "tool", "pdm", "dev-dependencies")
    for group in sorted(pdm_dev):
        for text in _strings(b, pdm_dev[group], f"tool.pdm.dev-dependencies.{group}"):
            if isinstance(text, str) and text.startswith("-e "):
                text = text[3:].strip()
                if "@" not in text:
                    continue  # ``-e file:///${PROJECT_ROOT}/...``: a local path, the project
            b.add_group(text, group, ("tool.pdm.dev-dependencies",), group)


def _build_system(b: _Builder, data: dict[str, Any], declares_project: bool) -> None:
    build = data.get("build-system")
    if build is None:
        if declares_project:
            # PEP 517: no [build-system] means the legacy setuptools backend.
            b.add(
                "setuptools>=40.8.0",
                kind=DependencyKind.BUILD,
                scope=Scope.REQUIRED,
                mechanism="build-system-default",
            )
        return
    if not isinstance(build, dict):
        b.errors.append(InputError(b.display, "[build-system] is not a table"))
        return
    backend = build.get("build-backend")
    if backend is not None and not isinstance(backend, str):
        b.errors.append(InputError(b.display, "[build-system] build-backend is not a string"))
    provider = BACKEND_PROVIDERS.get(backend) if isinstance(backend, str) else None
    if isinstance(backend, str):
        b.subject = replace(
            b.subject,
            properties=tuple(sorted({*b.subject.properties, ("depchain:build-backend", backend)})),
        )
        b.components[0] = b.subject
    for text in _strings(b, build.get("requires", []), "build-system.requires"):
        dep = b.add(
            text,
            kind=DependencyKind.BUILD,
            scope=Scope.REQUIRED,
            mechanism="build-system",
            tables=("build-system",),
            key="requires",
        )
        if (
            dep is not None
            and provider
            and canonicalize_name(b.components[-1].name) == canonicalize_name(provider)
        ):
            b.dependencies[-1] = replace(dep, mechanism="build-backend")


_POETRY_ROLES = {
    "primary": "primary",
    "default": "primary",
    "secondary": "extra",
    "supplemental": "extra",
    "explicit": None,
}


def _indexes_and_sources(
    data: dict[str, Any], display: str, errors: list[InputError]
) -> tuple[tuple[IndexRef, ...], dict[str, Source]]:
    """The indexes every requirement of the project may come from (uv, Poetry, PDM),
    and the sources pinned per name. An explicit index serves only the names pinned
    to it, so it is not among the first."""
    named: dict[str, str] = {}
    general: list[IndexRef] = []
    keys: tuple[tuple[str, str, str], ...] = (
        ("tool", "uv", "index"),
        ("tool", "poetry", "source"),
        ("tool", "pdm", "source"),
    )
    for key in keys:
        node: Any = data
        for k in key:
            node = node.get(k) if isinstance(node, dict) else None
        if node is not None and not isinstance(node, list):
            errors.append(InputError(display, f"{'.'.join(key)}: not an array of tables"))
            continue
        for entry in node or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                errors.append(InputError(display, f"{'.'.join(key)}: an entry without a url"))
                continue
            url = entry["url"]
            named[str(entry.get("name", url))] = url
            if key[1] == "uv":
                role = (
                    None
                    if entry.get("explicit")
                    else ("primary" if entry.get("default") else "extra")
                )
            elif key[1] == "poetry":
                role = _POETRY_ROLES.get(str(entry.get("priority", "primary")), "extra")
            else:  # PDM: a source named pypi replaces the default index
                role = "primary" if entry.get("name") == "pypi" else "extra"
            if role is not None:
                general.append(IndexRef(role, url))
    sources: dict[str, Source] = {}
    uv_sources = _table(data, "tool", "uv", "sources")
    for name, spec in uv_sources.items():
        source = _source_table(spec, named)
        if source is not None:
            sources[canonicalize_name(name)] = source
        else:
            errors.append(InputError(display, f"tool.uv.sources.{name}: not a source table"))
    return tuple(dict.fromkeys(general)), sources


def _source_table(spec: Any, indexes: dict[str, str]) -> Source | None:
    """A uv or Poetry source table: git, path, url, workspace or a named index."""
    if isinstance(spec, list):  # several sources by marker: the first describes it
        spec = spec[0] if spec else None
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("git"), str):
        ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
        url = spec["git"]
        return source_from_url(f"git+{url}" + (f"@{ref}" if isinstance(ref, str) else ""))
    if isinstance(spec.get("path"), str):
        return Source(
            SourceKind.PATH,
            url=str(spec["path"]),
            editable=bool(spec.get("editable") or spec.get("develop")),
        )
    if isinstance(spec.get("url"), str):
        return source_from_url(spec["url"])
    if spec.get("workspace"):
        return Source(SourceKind.PATH, url="workspace", editable=True)
    index = spec.get("index") or spec.get("source")
    if isinstance(index, str):
        return Source(SourceKind.REGISTRY, url=indexes.get(index, index))
    return None


def _poetry(b: _Builder, poetry: dict[str, Any]) -> None:
    """Poetry's own tables: dependencies, legacy dev-dependencies, groups, extras."""
    declared = poetry.get("source", [])
    if not isinstance(declared, list):
        b.errors.append(InputError(b.display, "tool.poetry.source is not an array of tables"))
        declared = []
    indexes = {e.get("name"): e.get("url") for e in declared if isinstance(e, dict)}
    extras_of: dict[str, str] = {}
    for extra, names in sorted(_table(poetry, "extras").items()):
        for n in names if isinstance(names, list) else []:
            extras_of.setdefault(canonicalize_name(str(n).split("[")[0]), extra)

    tables: list[tuple[str, dict[str, Any], str | None]] = [
        ("tool.poetry.dependencies", _table(poetry, "dependencies"), None),
        ("tool.poetry.dev-dependencies", _table(poetry, "dev-dependencies"), "dev"),
    ]
    for group_name in sorted(_table(poetry, "group")):
        tables.append(
            (
                f"tool.poetry.group.{group_name}.dependencies",
                _table(poetry, "group", group_name, "dependencies"),
                group_name,
            )
        )
    for table_name, deps, group in tables:
        for name in sorted(deps):
            if name.lower() == "python":
                continue  # the interpreter constraint, not a distribution
            for spec in deps[name] if isinstance(deps[name], list) else [deps[name]]:
                pep508, source, optional = poetry_constraints.to_pep508(name, spec, indexes)
                if pep508 is None:
                    b.errors.append(
                        InputError(b.display, f"{table_name}.{name}: cannot read {spec!r}")
                    )
                    continue
                grp: str | None
                if group is not None:
                    kind, scope, mech, grp = (
                        DependencyKind.BUILD,
                        Scope.DEV,
                        "dependency-group",
                        group,
                    )
                elif optional:
                    kind, scope, mech = DependencyKind.DYNAMIC, Scope.OPTIONAL, "extra"
                    grp = extras_of.get(canonicalize_name(name))
                else:
                    kind, scope, mech, grp = (
                        DependencyKind.DYNAMIC,
                        Scope.REQUIRED,
                        "requirement",
                        None,
                    )
                saved = b.sources.get(canonicalize_name(name))
                if source is not None:
                    b.sources[canonicalize_name(name)] = source
                line = b.lines.find(tables=(table_name,), key=name)
                if line is None:  # written as its own table: [tool.poetry.dependencies.foo]
                    header = b.lines.table(f"{table_name}.{name}")
                    line = None if header is None else header + 1
                dep = b.add(pep508, kind=kind, scope=scope, mechanism=mech, group=grp)
                if dep is not None and line is not None:
                    b.dependencies[-1] = replace(dep, evidence=(b.evidence(line),))
                    b.components[-1] = replace(b.components[-1], evidence=(b.evidence(line),))
                if saved is not None:
                    b.sources[canonicalize_name(name)] = saved
                else:
                    b.sources.pop(canonicalize_name(name), None)
