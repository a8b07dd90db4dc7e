"""An installed Python environment: a virtual environment (a folder with
``pyvenv.cfg``), a ``site-packages`` folder, or the environment of an interpreter named
with ``--python``. Every ``*.dist-info`` is read; the environment's interpreter is never
run: its version comes from ``pyvenv.cfg`` or the ``lib/pythonX.Y`` folder name.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from depchain.discover import is_environment
from depchain.errors import UsageError
from depchain.ids import generic_component
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Fragment,
    InputError,
    Scope,
)
from depchain.native.analysis import (
    NativeContext,
    NativeOutput,
    analyse,
    os_package_component,
)
from depchain.native.distribution import (
    DistError,
    Distribution,
    FileSource,
    FolderSource,
    read_distribution,
)
from depchain.native.loader import host_loader
from depchain.native.ospkg import PackageDatabases
from depchain.native.requires import (
    Installed,
    MarkerCheck,
    active_extras,
    dist_component,
    requires_edges,
)
from depchain.resolvers.base import ResolveContext

if TYPE_CHECKING:
    from depchain.native.cache import NativeCache

NAME = "environment"
_PATH = itemgetter(0)
"""The path of a RECORD entry."""
_PYDIR = re.compile(r"^python(\d+)\.(\d+)t?$")


@dataclass(frozen=True)
class Environment:
    root: Path
    """The folder scanned: the virtual environment, or the site-packages folder."""
    site_packages: tuple[Path, ...]
    python_version: str | None
    """``3.11.7`` or ``3.11`` where known."""
    base_interpreter: Path | None = None


def _pyvenv(folder: Path) -> dict[str, str]:
    try:
        text = (folder / "pyvenv.cfg").read_text("utf-8", "replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def locate(folder: Path) -> Environment:
    """Where the distributions of the environment at ``folder`` live."""
    config = _pyvenv(folder)
    if (
        config
        or not is_environment(folder)
        or folder.name not in {"site-packages", "dist-packages"}
    ):
        found = sorted(
            {
                p.resolve(): p
                for pattern in (
                    "lib/python*/site-packages",
                    "lib64/python*/site-packages",
                    "Lib/site-packages",
                )
                for p in folder.glob(pattern)
                if p.is_dir()
            }.values()
        )
        if not found and is_environment(folder):
            found = [folder]
    else:
        found = [folder]
    version = config.get("version_info") or config.get("version")
    if version:
        version = ".".join(version.split(".")[:3])
    else:
        for sp in found:
            m = _PYDIR.match(sp.parent.name)
            if m:
                version = f"{m.group(1)}.{m.group(2)}"
                break
    home = config.get("home")
    base = None
    if home and version:
        major_minor = ".".join(version.split(".")[:2])
        for name in (f"python{major_minor}", "python3", "python"):
            if (Path(home) / name).exists():
                base = Path(home) / name
                break
    return Environment(folder, tuple(found), version, base)


def locate_interpreter(python: Path) -> Environment:
    """The environment an interpreter path belongs to, found from the path alone."""
    if not python.exists():
        raise UsageError(f"--python {python}: no such file")
    bindir = python.parent
    prefix = bindir.parent
    if (prefix / "pyvenv.cfg").is_file():
        return locate(prefix)
    m = re.match(r"^python(\d+)\.(\d+)", python.resolve().name) or re.match(
        r"^python(\d+)\.(\d+)", python.name
    )
    candidates = sorted(prefix.glob("lib/python*/site-packages"))
    if m:
        wanted = prefix / "lib" / f"python{m.group(1)}.{m.group(2)}" / "site-packages"
        candidates = [wanted] if wanted.is_dir() else candidates
    if len(candidates) != 1:
        raise UsageError(
            f"--python {python}: cannot tell its site-packages folder without "
            f"running it (found {len(candidates)} under {prefix}/lib)"
        )
    version = f"{m.group(1)}.{m.group(2)}" if m else None
    return Environment(candidates[0], (candidates[0],), version)


_PLATFORMS = (
    # a platform tag, its architecture as group 1: sys_platform, platform_system, os_name
    (
        re.compile(r"^(?:manylinux_\d+_\d+|musllinux_\d+_\d+|manylinux\d+|linux)_(.+)$"),
        ("linux", "Linux", "posix"),
    ),
    (re.compile(r"^macosx_\d+_\d+_(.+)$"), ("darwin", "Darwin", "posix")),
    (re.compile(r"^win(?:_(.+)|32)$"), ("win32", "Windows", "nt")),
)
_MACHINES = {"amd64": "AMD64", "arm64": "ARM64", None: "x86"}
"""Windows spells its machines its own way (``win32``: x86)."""


def platform_of(wheel_tags: Iterable[str]) -> dict[str, str]:
    """Platform markers the installed wheels agree on (``manylinux_2_17_x86_64``:
    Linux on x86_64); none where they are pure Python or disagree."""
    systems: set[tuple[str, str, str]] = set()
    machines: set[str] = set()
    for tag in wheel_tags:
        for platform in tag.split("-")[-1].split("."):
            for pattern, system in _PLATFORMS:
                m = pattern.match(platform)
                if m:
                    systems.add(system)
                    arch = m.group(1)
                    machines.add(_MACHINES.get(arch, arch) if system[2] == "nt" else arch)
                    break
    if len(systems) != 1:
        return {}
    sys_platform, platform_system, os_name = systems.pop()
    values = {"sys_platform": sys_platform, "platform_system": platform_system, "os_name": os_name}
    if len(machines) == 1 and sys_platform != "darwin":  # macOS: universal2 runs on both
        values["platform_machine"] = machines.pop()
    return values


def markers_for(env: Environment, wheel_tags: Iterable[str] = ()) -> dict[str, str]:
    """Marker values of the environment: the environment's Python version; the platform
    its installed wheels were built for where they agree on one, else this host's."""
    from packaging.markers import default_environment

    values: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    values.update(platform_of(wheel_tags))
    if env.python_version:
        parts = env.python_version.split(".")
        values["python_version"] = ".".join(parts[:2])
        values["python_full_version"] = (
            env.python_version if len(parts) > 2 else f"{env.python_version}.0"
        )
        values["implementation_version"] = values["python_full_version"]
    return values


def resolve_environment(
    env: Environment,
    ctx: ResolveContext,
    packages: PackageDatabases | None = None,
    *,
    cache: NativeCache | bool | None = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> Fragment:
    """The environment's distributions, what each requires and links, and its
    interpreter. ``cache``: what earlier scans read from unchanged files (True: the one
    in the cache folder, see :mod:`depchain.native.cache`; False or None: none);
    ``packages``: the OS package databases to ask (default: this host's, through the
    cache); ``progress``: called as ``progress(done, total, name)`` as each distribution's
    requirements and native files are read, and ``progress(total, total, "")`` at the
    end."""
    native_cache = open_cache(cache)
    if packages is None:
        from depchain.native.cache import CachedPackageDatabases

        packages = (
            CachedPackageDatabases(Path("/"), native_cache)
            if native_cache is not None
            else PackageDatabases()
        )
    # Tens of thousands of small objects and next to no reference cycles: the cyclic
    # collector would walk the growing heap again and again for nothing (a quarter of
    # this function's time, warm, on 188 distributions); it runs again once done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        fragment = _resolve(env, ctx, packages, native_cache, progress)
        if native_cache is not None:
            native_cache.save()
    finally:
        if collecting:
            gc.enable()
    return fragment


def open_cache(cache: NativeCache | bool | None) -> NativeCache | None:
    """The native cache ``cache`` names: itself, the default one (True) or none."""
    if cache is True:
        from depchain.native.cache import open_default

        return open_default()
    return cache if cache is not None and cache is not False else None


def _resolve(
    env: Environment,
    ctx: ResolveContext,
    packages: PackageDatabases,
    cache: NativeCache | None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Fragment:
    out = NativeOutput()
    native = NativeContext(loader=host_loader(), packages=packages, cache=cache)
    by_name: dict[str, Component] = {}
    dists: list[tuple[Distribution, Component, FolderSource, Evidence]] = []
    installed: dict[str, Installed] = {}
    for sp in env.site_packages:
        files = FolderSource(sp, ctx.display(sp))
        legacy = files.egg_infos()
        if legacy:  # Debian's dist-packages: 24 of its 31 distributions
            shown = ", ".join(n.removesuffix(".egg-info") for n in legacy[:10])
            more = f" and {len(legacy) - 10} more" if len(legacy) > 10 else ""
            out.notes.append(
                (
                    files.display("."),
                    f"{len(legacy)} legacy .egg-info distributions are not read, so they are "
                    f"missing from the graph: {shown}{more}",
                )
            )
        for dist_info in files.dist_infos():
            evidence = Evidence(files.display(f"{dist_info}/METADATA"), None, NAME)
            try:
                dist = read_distribution(files, dist_info)
            except (DistError, OSError) as exc:
                out.errors.append(InputError(files.display(dist_info), str(exc)))
                continue
            for problem in dist.problems:
                out.notes.append((files.display(dist_info), problem))
            component = declared_by(dist, files, dist_component(dist, evidence))
            out.add(component)
            key = str(canonicalize_name(dist.name))
            by_name.setdefault(key, component)
            requested = f"{dist_info}/REQUESTED"
            installed.setdefault(
                key,
                Installed(
                    dist,
                    evidence,
                    Evidence(files.display(requested), None, NAME)
                    if files.exists(requested)
                    else None,
                    dict(dist.requires_lines),
                ),
            )
            dists.append((dist, component, files, evidence))
    subject = _subject(env, ctx, [(d, c) for d, c, *_ in dists])
    out.add(subject)
    # every RECORD path -> the first distribution that lists it (the last update wins)
    for dist, component, *_ in reversed(dists):
        native.file_owners.update(dict.fromkeys(map(_PATH, dist.record), (dist, component.id)))
    markers = markers_for(env, (t for d, *_ in dists for t in d.wheel_tags))
    check = MarkerCheck(markers)
    active = active_extras(installed, markers, check)
    required: set[str] = set()
    for done, (dist, component, files, evidence) in enumerate(dists):
        if progress is not None:
            progress(done, len(dists), dist.name)
        key = str(canonicalize_name(dist.name))
        own = installed[key].dist is dist
        comps, deps, errors = requires_edges(
            dist,
            component.id,
            evidence,
            markers,
            by_name.get,
            "import",
            active=active[key] if own else None,
            lines=installed[key].lines if own else None,
            check=check,
        )
        for c in comps:
            out.add(c)
        out.dependencies.extend(deps)
        out.errors.extend(errors)
        required.update(d.target for d in deps)
        analyse(dist, component.id, files, native, out)
    if progress is not None:
        progress(len(dists), len(dists), "")
    for _dist, component, _files, evidence in dists:
        if component.id not in required:
            out.dependencies.append(
                Dependency(
                    subject.id,
                    component.id,
                    DependencyKind.DYNAMIC,
                    Scope.REQUIRED,
                    "installed",
                    (evidence,),
                )
            )
    if env.base_interpreter is not None:
        _interpreter(env, subject.id, native, out, ctx)
    return Fragment(
        components=tuple(out.components.values()),
        dependencies=out.finished(),
        errors=tuple(out.errors),
        subjects=(subject.id,),
        notes=tuple(out.notes),
    )


def declared_by(dist: Distribution, files: FileSource, component: Component) -> Component:
    """``component`` with what ``dist``'s METADATA declares: licence, authors, summary
    and URLs (:func:`depchain.declared.from_core_metadata`). The trove classifiers are
    read again from METADATA only when they could say more of the licence than its
    ``License-Expression`` and ``License`` fields do (a quarter of a typical
    environment)."""
    from depchain.declared import from_core_metadata, wants_classifiers

    classifiers: tuple[str, ...] = ()
    if wants_classifiers(dist.metadata):
        classifiers = _classifiers(files, dist.dist_info)
    return from_core_metadata(component, dist.metadata, classifiers)


def _classifiers(files: FileSource, dist_info: str) -> tuple[str, ...]:
    """The ``Classifier`` headers of a distribution's METADATA (none when unreadable:
    the distribution was read already, and says why elsewhere)."""
    from depchain.native.distribution import MAX_METADATA, headers_of

    name = f"{dist_info}/METADATA"
    try:
        if isinstance(files, FolderSource):
            raw = files.read_small(name, MAX_METADATA)
        elif files.exists(name) and files.size(name) <= MAX_METADATA:
            with files.open(name) as handle:
                raw = handle.read()
        else:
            raw = None
    except (OSError, DistError, ValueError):
        return ()
    if raw is None:
        return ()
    end = raw.find(b"\n\n")
    head = raw if end < 0 else raw[: end + 1]
    if head.isascii() and b"\r" not in head:  # the plain case: a line each (see headers_of)
        return tuple(m.decode("ascii").strip() for m in _LICENSE_CLASSIFIER.findall(head))
    return tuple(
        str(v) for k, v in headers_of(head) if k.lower() == "classifier" and "License" in str(v)
    )


_LICENSE_CLASSIFIER = re.compile(rb"^Classifier:[ \t]*(License ::[^\n]*)$", re.MULTILINE)


def _subject(
    env: Environment, ctx: ResolveContext, dists: list[tuple[Distribution, Component]]
) -> Component:
    """The environment as the SBOM's root: named after the project it was made for,
    where its own metadata says which (the one distribution installed from a local
    folder, PEP 610: the project being developed in it), with that version; else after
    its folder, without a version (a venv's folder name is the only name it has)."""
    from depchain.ids import purl
    from depchain.model import SourceKind

    evidence = Evidence(ctx.display(env.root), None, NAME)
    local = sorted(
        {
            (c.name, c.version or "")
            for d, c in dists
            if d.direct_url is not None and d.direct_url.kind is SourceKind.PATH
        }
    )
    props: list[tuple[str, str]] = []
    if env.python_version:
        props.append(("depchain:python-version", env.python_version))
    if len(local) == 1:
        name, version = local[0]
        ident = purl("generic", name, version or None)
        props.append(
            (
                "depchain:named-after",
                f"{name} {version}: the one distribution installed "
                "from a local folder (direct_url.json)",
            )
        )
        return Component(
            id=ident,
            name=name,
            ecosystem="generic",
            version=version or None,
            type=ComponentType.APPLICATION,
            purl=ident,
            evidence=(evidence,),
            properties=tuple(sorted(props)),
        )
    subject = generic_component(
        env.root.resolve().name or "environment", evidence, ComponentType.APPLICATION
    )
    why = (
        "the folder: no distribution was installed from a local folder"
        if not local
        else f"the folder: {len(local)} distributions were installed from local folders"
    )
    props.append(("depchain:named-after", why))
    return replace(subject, properties=tuple(sorted(props)))


def _interpreter(
    env: Environment, subject: str, native: NativeContext, out: NativeOutput, ctx: ResolveContext
) -> None:
    """The base interpreter a virtual environment runs on (``pyvenv.cfg`` ``home``)."""
    assert env.base_interpreter is not None
    path = Path(os.path.realpath(env.base_interpreter))
    evidence = Evidence(ctx.display(env.root / "pyvenv.cfg"), None, NAME)
    package = native.owner(path) if native.packages.available else None
    if package is not None:
        component = os_package_component(package, Evidence(str(path), None, package.ptype))
    else:
        from depchain.ids import purl

        ident = purl("generic", "cpython", env.python_version, qualifiers=(("file", str(path)),))
        component = Component(
            id=ident,
            name="cpython",
            ecosystem="generic",
            version=env.python_version,
            purl=ident,
            evidence=(Evidence(str(path), None, NAME),),
            properties=(
                (
                    "depchain:owner",
                    "none: no OS package owns this interpreter"
                    if native.packages.available
                    else "unknown (no package database read)",
                ),
            ),
        )
    out.add(component)
    out.dependencies.append(
        Dependency(
            subject,
            component.id,
            DependencyKind.DYNAMIC,
            Scope.REQUIRED,
            "interpreter",
            (evidence,),
        )
    )


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    """Registry entry: ``path`` is the environment folder."""
    return resolve_environment(locate(path), ctx)
