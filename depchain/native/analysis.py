"""The native layer of distributions: their shared objects, what each needs, and where
the needed library comes from.

- found inside the distribution (auditwheel's ``<name>.libs/``, or through the object's
  RPATH/RUNPATH with ``$ORIGIN``) → a bundled-library component, joined by a ``static``
  edge (mechanism ``bundled``), and analysed in turn;
- found inside another installed distribution → a ``dynamic`` edge to it (``elf``);
- otherwise where the system loader finds it (``ld.so.cache``, default folders) → a
  ``dynamic`` edge (``elf``) to the OS package that owns the file, or to an explicit
  unowned-library component when no package does;
- not found anywhere → an unresolved-library component (a fact, never a crash).

The folders are searched as glibc's loader searches them: the RPATH of the object that
needs the library and of every object up the chain that loaded it, then its RUNPATH
(:func:`depchain.native.loader.loader_folders`).

cargo-auditable and Go build info inside a binary, PEP 770 SBOMs in
``.dist-info/sboms/``, and the version strings of well-known libraries linked in
statically add ``static`` edges to what was linked in; every bundled and system library
is identified (project, release, purl, CPE) by :mod:`depchain.native.identify`.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from depchain.ids import purl
from depchain.model import (
    MAX_EVIDENCE,
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Evidence,
    Hash,
    InputError,
    License,
    Scope,
    merge_component,
    sort_key,
)
from depchain.native import buildinfo, identify
from depchain.native.distribution import DistError, Distribution, FileSource, RecordEntry
from depchain.native.elf import BinaryFormat, ElfInfo, Reading, read_binary
from depchain.native.loader import Loader, SystemLoader, loader_folders
from depchain.native.ospkg import OsPackage, PackageDatabases

if TYPE_CHECKING:
    from depchain.native.cache import NativeCache

_SHARED = re.compile(r"\.(so(\.\d+)*|pyd|dylib)$")
_SCRIPTS = re.compile(r"(^|/)(\.\./)*bin/[^/]+$|\.data/scripts/[^/]+$")
_PATH = itemgetter(0)
"""The path of a RECORD entry."""


@dataclass
class NativeOutput:
    """What the analysis of one or more distributions adds to the graph."""

    components: dict[str, Component] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    """Appended to, never reordered (:meth:`edge` keeps positions in it)."""
    errors: list[InputError] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    _edges: dict[tuple[str, str, DependencyKind, str], int] = field(
        default_factory=dict, repr=False
    )
    _more: dict[int, list[Evidence]] = field(default_factory=dict, repr=False)
    _added: set[Component] = field(default_factory=set, repr=False)

    def add(self, component: Component) -> str:
        # the same component again (the OS package of libc, for each object that needs
        # it) changes nothing: merging is idempotent, and the merge is not free
        if component in self._added:
            return component.id
        self._added.add(component)
        return merge_component(self.components, component).id

    def edge(
        self,
        source: str,
        target: str,
        kind: DependencyKind,
        mechanism: str,
        evidence: Evidence,
        scope: Scope = Scope.REQUIRED,
    ) -> None:
        """An edge (required unless ``scope`` says otherwise), seen at ``evidence``. The
        same edge seen again (every shared object of a distribution needs libc) is one
        edge with the evidence of each time: see :meth:`finished`."""
        if source == target:
            return  # a library that carries itself (its own version string): no edge
        key = (source, target, kind, mechanism)
        at = self._edges.get(key)
        if at is not None:
            self._more.setdefault(at, []).append(evidence)
            return
        self._edges[key] = len(self.dependencies)
        self.dependencies.append(
            Dependency(source, target, kind, scope, mechanism, evidence=(evidence,))
        )

    def finished(self) -> tuple[Dependency, ...]:
        """The dependencies, an edge made several times by :meth:`edge` once, with the
        evidence the graph would give it by merging them one by one
        (:meth:`Dependency.merged`: the sorted union, its first :data:`MAX_EVIDENCE`),
        sorted once instead of at every merge."""
        deps = list(self.dependencies)
        for at, more in self._more.items():
            dep = deps[at]
            union = sorted(dict.fromkeys((*dep.evidence, *more)), key=sort_key)
            deps[at] = replace(dep, evidence=tuple(union[:MAX_EVIDENCE]))
        return tuple(deps)


@dataclass
class NativeContext:
    loader: SystemLoader
    packages: PackageDatabases
    file_owners: dict[str, tuple[Distribution, str]] = field(default_factory=dict)
    """Every RECORD path of every distribution in this install root → (dist, id)."""
    cache: NativeCache | None = None
    """What earlier scans read from files that have not changed since (None: none)."""
    _owner_cache: dict[str, OsPackage | None] = field(default_factory=dict)
    _found: dict[tuple[str, str, int, tuple[str | None, ...]], Path | None] = field(
        default_factory=dict
    )
    """The system library each (DT_NEEDED, machine, class, search folders) found."""
    _system: dict[Path, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """What identifies each system library file read (see :meth:`identified`)."""
    _applied: set[tuple[str, Path]] = field(default_factory=set)
    """(package component, file) whose identification is on the component already."""
    _packaged: dict[tuple[OsPackage, Path], Component] = field(default_factory=dict)
    """The component of each (package, file) made so far."""
    _db_noted: bool = False

    def owner(self, path: Path) -> OsPackage | None:
        key = str(path)
        if key not in self._owner_cache:
            self._owner_cache[key] = self.packages.owner(path)
        return self._owner_cache[key]

    def identified(
        self, path: Path, package: OsPackage | None, files: FileSource
    ) -> tuple[tuple[str, str], ...]:
        """The properties that identify the system library at ``path`` (owned by
        ``package``, or by none): read once per scan, through the cache."""
        known = self._system.get(path)
        if known is None:
            info = _read_system(path, files, self.cache)
            marks = info.marks if info is not None else ()
            soname = info.soname if info is not None else None
            known = tuple(identify.system_properties(marks, path.name, soname, package))
            self._system[path] = known
        return known


_EXTENSION = re.compile(r"\.(cpython-|abi3\.|pypy)")
"""A Python extension module's tag (``x.cpython-311-x86_64-linux-gnu.so``,
``x.abi3.so``): what the interpreter loads, not what another object needs."""


def _loaded_first(path: str) -> bool:
    """An object the program itself loads (an extension module, an executable), as
    opposed to a library some other object needs (``libarrow.so.2600``)."""
    if _SCRIPTS.search(path):
        return True
    return not posixpath.basename(path).startswith("lib") or bool(_EXTENSION.search(path))


def _in_libs_folder(path: str) -> bool:
    if ".libs/" not in path:  # most paths: no regular expression, no dirname
        return False
    parent = posixpath.dirname(path)
    return parent.endswith(".libs") and "/" not in parent and bool(_SHARED.search(path))


def is_binary_candidate(path: str) -> bool:
    """Files whose links matter: shared objects, and executables installed as scripts."""
    # each path the expressions match holds one of these: most paths need no search
    if not (
        ".so" in path or "bin/" in path or "scripts/" in path or ".pyd" in path or ".dylib" in path
    ):
        return False
    return bool(_SHARED.search(path) or _SCRIPTS.search(path))


def analyse(
    dist: Distribution,
    dist_id: str,
    files: FileSource,
    ctx: NativeContext,
    out: NativeOutput,
) -> None:
    """Add the native dependencies of one distribution to ``out``."""
    folders: dict[str, bool] = {}
    entries: dict[str, list[RecordEntry]] | None = None

    def bundled(path: str) -> Component:
        nonlocal entries
        if entries is None:  # the record by path, once a distribution bundles anything
            entries = {}
            for entry in dist.record:
                entries.setdefault(entry.path, []).append(entry)
        hashes = (e.hash for e in entries.get(path, ()))
        return _bundled_component(path, dist, files, tuple(h for h in hashes if h is not None))

    # every path either test below takes holds one of these (most paths: none)
    some = [
        p
        for p in map(_PATH, dist.record)
        if ".so" in p or "bin/" in p or "scripts/" in p or ".pyd" in p or ".dylib" in p
    ]
    some = list(dict.fromkeys(some))  # a path RECORD lists twice is one file
    candidates = [p for p in sorted(filter(is_binary_candidate, some)) if files.exists(p)]
    libs = sorted(p for p in some if _in_libs_folder(p) and files.exists(p))
    # everything in auditwheel's <name>.libs/ is carried inside, needed or not
    owners: dict[str, str] = {}
    for path in libs:
        lib_id = out.add(bundled(path))
        out.edge(
            dist_id,
            lib_id,
            DependencyKind.STATIC,
            "bundled",
            Evidence(files.display(path), None, "elf"),
        )
        owners[path] = lib_id
    # what the program loads first (extension modules, executables), then what they
    # need, each with the chain of objects that loaded it; a library nothing loads last
    first = [p for p in candidates if p not in owners and _loaded_first(p)]
    queue: list[tuple[str, str, tuple[Loader, ...]]] = [(p, dist_id, ()) for p in first]
    later = [(p, owners.get(p, dist_id), ()) for p in candidates if p not in set(first)]
    seen: set[str] = set()
    found = identify.Seen()
    record = dist.files() if queue or later else set()  # (most distributions: no binary)
    while queue or later:
        path, owner, chain = queue.pop(0) if queue else later.pop(0)
        if path in seen:
            continue
        seen.add(path)
        info = _read(files, path, out, ctx.cache)
        if info is None:
            continue
        evidence = Evidence(files.display(path), None, "elf")
        _linked_metadata(info, dist_id, evidence, out)
        found.binaries.append(
            identify.Binary(path, owner, info.soname, info.marks, owner != dist_id, info.needed)
        )
        origin = posixpath.dirname(path) or "."
        search = loader_folders(info.rpath, info.runpath, origin, chain)
        loaded = ((info.rpath, info.runpath, origin), *chain)
        for needed in info.needed:
            within = _in_distribution(
                needed, info, origin, search, record, files, out, evidence, folders
            )
            if within is not None:
                lib_id = out.add(bundled(within))
                out.edge(dist_id, lib_id, DependencyKind.STATIC, "bundled", evidence)
                queue.append((within, lib_id, loaded))
                continue
            elsewhere = _in_other_distribution(needed, search, record, ctx)
            if elsewhere is not None:
                out.edge(owner, elsewhere, DependencyKind.DYNAMIC, "elf", evidence)
                continue
            target = _system_library(needed, info, search, files, ctx, out)
            out.edge(owner, target, DependencyKind.DYNAMIC, "elf", evidence)
    identify.identify(dist, dist_id, files, out, found)


def _read(
    files: FileSource, path: str, out: NativeOutput, cache: NativeCache | None = None
) -> ElfInfo | None:
    display = files.display(path)
    try:
        reading = _reading(files, path, cache)
    except (OSError, DistError) as exc:
        message = getattr(exc, "strerror", None) or str(exc)
        if "loop" in str(message).lower() or getattr(exc, "errno", None) == 40:
            message = "symbolic link loop"
        out.errors.append(InputError(display, f"cannot read: {message}"))
        return None
    kind = reading.format
    if kind is BinaryFormat.MACHO or kind is BinaryFormat.PE:
        out.notes.append(
            (display, f"{kind.value} binary: recognised, not analysed (depchain analyses ELF)")
        )
        return None
    if kind is not BinaryFormat.ELF:
        if _SHARED.search(path) and ".so" in path:
            out.errors.append(InputError(display, "named like a shared object but not an ELF file"))
        return None
    if reading.error is not None:
        out.errors.append(InputError(display, reading.error))
    return reading.info


def _reading(files: FileSource, path: str, cache: NativeCache | None) -> Reading:
    """What the file's bytes say: from the cache when the file on disk is unchanged,
    else read (and stored, with the ``stat`` of the very file read)."""
    real = files.real_path(path) if cache is not None else None
    base = files.real_path("") if real is not None else None  # the install root
    key = os.path.abspath(real) if real is not None else None
    root = os.path.abspath(base) if base is not None else None
    if cache is not None and key is not None and root is not None:
        known = cache.reading(root, key)
        if known is not None:
            return known
    with files.open(path) as handle:
        reading = read_binary(handle)
        if cache is not None and key is not None and root is not None:
            cache.store(root, key, os.fstat(handle.fileno()), reading)
    return reading


def _in_distribution(
    needed: str,
    info: ElfInfo,
    origin: str,
    search: list[str],
    record: set[str],
    files: FileSource,
    out: NativeOutput,
    evidence: Evidence,
    folders: dict[str, bool] | None = None,
) -> str | None:
    """The distribution's own file that satisfies ``needed`` through the folders the
    loader searches (``search``), and a note for each of the object's own RPATH/RUNPATH
    folders that does not exist (``folders``: which folders exist, as found so far for
    this distribution)."""
    for folder in search:
        if folder.startswith("/"):
            continue  # an absolute folder: the system's, looked at later
        candidate = posixpath.normpath(posixpath.join(folder, needed))
        if candidate in record or (not candidate.startswith("../") and files.exists(candidate)):
            return candidate
    for folder in loader_folders(info.rpath, info.runpath, origin):
        if (
            not folder.startswith("/")
            and not folder.startswith("../")
            and not _folder_exists(files, folder, record, folders)
        ):
            out.notes.append((evidence.path, f"RPATH/RUNPATH folder {folder} does not exist"))
    return None


def _folder_exists(
    files: FileSource, folder: str, record: set[str], known: dict[str, bool] | None = None
) -> bool:
    if known is not None and folder in known:
        return known[folder]
    prefix = folder.rstrip("/") + "/"
    exists = any(p.startswith(prefix) for p in record)
    if not exists:
        real = files.real_path(folder)
        exists = real is not None and real.is_dir()
    if known is not None:
        known[folder] = exists
    return exists


def _in_other_distribution(
    needed: str, search: list[str], record: set[str], ctx: NativeContext
) -> str | None:
    for folder in search:
        if folder.startswith("/"):
            continue
        candidate = posixpath.normpath(posixpath.join(folder, needed))
        owner = ctx.file_owners.get(candidate)
        if owner is not None and candidate not in record:
            return owner[1]
    return None


def _system_library(
    needed: str,
    info: ElfInfo,
    search: list[str],
    files: FileSource,
    ctx: NativeContext,
    out: NativeOutput,
) -> str:
    folders: list[str | None] = []
    for folder in search:
        if folder.startswith("/"):
            folders.append(folder)
        else:  # relative to the install root, but outside every distribution
            base = files.real_path(folder)
            folders.append(str(base) if base is not None else None)
    key = (needed, info.machine, info.elfclass, tuple(folders))
    if key in ctx._found:  # the same library, looked for in the same places: found there
        found = ctx._found[key]
    else:
        found = _find_system_library(needed, info, folders, ctx.loader)
        ctx._found[key] = found
    if found is None:
        return out.add(
            Component(
                id=purl("generic", needed),
                name=needed,
                ecosystem="generic",
                purl=purl("generic", needed),
                evidence=(Evidence(needed, None, "elf"),),
                properties=(
                    (
                        "depchain:unresolved",
                        "not found in RPATH/RUNPATH, ld.so.cache or the default folders",
                    ),
                ),
            )
        )
    if not ctx.packages.available:
        if not ctx._db_noted:
            ctx._db_noted = True
            out.notes.append(
                (
                    str(ctx.packages.root),
                    f"{ctx.packages.problem}: owners of system libraries are unknown",
                )
            )
        return out.add(
            _library_file(
                found,
                needed,
                "unknown (no package database read)",
                ctx.identified(found, None, files),
            )
        )
    package = ctx.owner(found)
    if package is None:
        unread = ctx.packages.unread()
        owner = f"unknown ({unread})" if unread else "none: no OS package owns this file"
        return out.add(_library_file(found, needed, owner, ctx.identified(found, None, files)))
    component = ctx._packaged.get((package, found))
    if component is None:
        component = os_package_component(package, Evidence(str(found), None, package.ptype))
        ctx._packaged[(package, found)] = component
    ident = out.add(component)
    if (ident, found) not in ctx._applied:  # once per file (every object needs libc)
        ctx._applied.add((ident, found))
        extra = ctx.identified(found, package, files)
        if extra:
            out.components[ident] = identify.with_identity(out.components[ident], extra)
    return ident


def _find_system_library(
    needed: str, info: ElfInfo, folders: list[str | None], loader: SystemLoader
) -> Path | None:
    """The file the loader maps for ``needed``: in the object's own search folders
    (None: a relative one that does not exist), else where the system loader looks."""
    for folder in folders:
        candidate = Path(folder) / needed if folder is not None else Path("/nonexistent")
        if candidate.is_file():
            return candidate
    return loader.find(needed, info.machine, info.elfclass)


def os_package_component(package: OsPackage, evidence: Evidence) -> Component:
    """An operating-system package (deb or rpm) as a component."""
    props = [("depchain:os-package-source", package.source)] if package.source else []
    if package.maintainer:
        props.append(("depchain:maintainer", package.maintainer))
    return Component(
        id=package.purl,
        name=package.name,
        ecosystem=package.ptype,
        version=package.version,
        type=ComponentType.LIBRARY,
        purl=package.purl,
        evidence=(evidence,),
        properties=tuple(sorted(props)),
        license=License(
            expression=package.license,
            source="debian-copyright" if package.ptype == "deb" else package.ptype,
        )
        if package.license
        else None,
    )


def _library_file(
    found: Path, needed: str, owner: str, identified: tuple[tuple[str, str], ...] = ()
) -> Component:
    """A system library file no package database vouches for, with what identifies it
    (``identified``: its project and release, where the file says them)."""
    ident = purl("generic", found.name, qualifiers=(("file", str(found)),))
    props = {("depchain:owner", owner), ("depchain:needed-as", needed), *identified}
    values = dict(identified)
    version = None
    if values.get("depchain:version-source") in {"binary", "file-name"}:
        upstream = values.get("depchain:upstream", "")
        version = upstream.rpartition("@")[2] if "@" in upstream else None
    return Component(
        id=ident,
        name=found.name,
        ecosystem="generic",
        version=version,
        type=ComponentType.FILE,
        purl=ident,
        evidence=(Evidence(str(found), None, "elf"),),
        properties=tuple(sorted(props)),
    )


def _bundled_component(
    path: str, dist: Distribution, files: FileSource, hashes: tuple[Hash, ...]
) -> Component:
    """A library carried inside ``dist``; ``hashes``: what its RECORD says of it. Its id
    holds its SHA-256 (purl's ``checksum`` qualifier) where RECORD gives one: copies of
    one file in several distributions are one component, different files of one name
    are not (psycopg2-binary 2.9.13's and psycopg-binary 3.3.9's
    ``libsasl2-84219a89.so.3.0.0``, patched apart by auditwheel, were one component
    with two SHA-256 digests, neither of them true of both files)."""
    name = PurePosixPath(path).name
    sha256 = sorted(h.value for h in hashes if h.algorithm == "sha256" and h.well_formed)
    qualifiers = (("checksum", f"sha256:{sha256[0]}"),) if len(sha256) == 1 else ()
    ident = purl("generic", name, qualifiers=qualifiers)
    return Component(
        id=ident,
        name=name,
        ecosystem="generic",
        type=ComponentType.LIBRARY,
        purl=ident,
        hashes=hashes,
        evidence=(Evidence(files.display(path), None, "elf"),),
        properties=(("depchain:bundled-in", f"{dist.name} {dist.version}"),),
    )


def _read_system(path: Path, files: FileSource, cache: NativeCache | None) -> ElfInfo | None:
    """What a system library file says (through the cache, under the install root of
    ``files``, when there is one); None when it cannot be read or is no ELF file."""
    base = files.real_path("") if cache is not None else None
    root = os.path.abspath(base) if base is not None else None
    key = os.path.abspath(path)
    if cache is not None and root is not None:
        known = cache.reading(root, key)
        if known is not None:
            return known.info
    try:
        with open(path, "rb") as handle:
            reading = read_binary(handle)
            if cache is not None and root is not None:
                cache.store(root, key, os.fstat(handle.fileno()), reading)
    except OSError:
        return None
    return reading.info


def _linked_metadata(info: ElfInfo, dist_id: str, evidence: Evidence, out: NativeOutput) -> None:
    packages: list[buildinfo.LinkedPackage] = []
    mechanism = "auditable"
    try:
        if info.auditable is not None:
            packages = buildinfo.read_auditable(info.auditable)
        if info.go_buildinfo is not None:
            _, modules = buildinfo.read_go_buildinfo(info.go_buildinfo)
            packages += modules
            mechanism = "auditable" if info.auditable is not None else "go-buildinfo"
    except buildinfo.BuildInfoError as exc:
        out.errors.append(InputError(evidence.path, str(exc)))
        return
    for p in packages:
        namespace, name = (None, p.name)
        if p.ecosystem == "golang" and "/" in p.name:
            namespace, name = p.name.rsplit("/", 1)
        ident = purl(p.ecosystem, name, p.version, namespace=namespace)
        props = [("depchain:linked-source", p.source)] if p.source else []
        out.add(
            Component(
                id=ident,
                name=p.name,
                ecosystem=p.ecosystem,
                version=p.version,
                purl=ident,
                evidence=(evidence,),
                properties=tuple(props),
            )
        )
        kind = DependencyKind.BUILD if p.build_only else DependencyKind.STATIC
        mech = "go-buildinfo" if p.ecosystem == "golang" else mechanism
        out.edge(dist_id, ident, kind, mech, evidence)
