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

cargo-auditable and Go build info inside a binary, and PEP 770 SBOMs in
``.dist-info/sboms/``, add ``static`` edges to what was linked in.
"""

from __future__ import annotations

import json
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
    Scope,
    merge_component,
    sort_key,
)
from depchain.native import buildinfo
from depchain.native.distribution import DistError, Distribution, FileSource, RecordEntry
from depchain.native.elf import BinaryFormat, ElfInfo, Reading, read_binary
from depchain.native.loader import SystemLoader, search_paths
from depchain.native.ospkg import OsPackage, PackageDatabases

if TYPE_CHECKING:
    from depchain.native.cache import NativeCache

_SHARED = re.compile(r"\.(so(\.\d+)*|pyd|dylib)$")
_SCRIPTS = re.compile(r"(^|/)(\.\./)*bin/[^/]+$|\.data/scripts/[^/]+$")
_PATH = itemgetter(0)
"""The path of a RECORD entry."""
_HASHES = {
    "SHA-256": "sha256",
    "SHA-512": "sha512",
    "SHA-1": "sha1",
    "MD5": "md5",
    "SHA-384": "sha384",
}


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
        self, source: str, target: str, kind: DependencyKind, mechanism: str, evidence: Evidence
    ) -> None:
        """A required edge, seen at ``evidence``. The same edge seen again (every shared
        object of a distribution needs libc) is one edge with the evidence of each time:
        see :meth:`finished`."""
        key = (source, target, kind, mechanism)
        at = self._edges.get(key)
        if at is not None:
            self._more.setdefault(at, []).append(evidence)
            return
        self._edges[key] = len(self.dependencies)
        self.dependencies.append(
            Dependency(source, target, kind, Scope.REQUIRED, mechanism, evidence=(evidence,))
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
    _db_noted: bool = False

    def owner(self, path: Path) -> OsPackage | None:
        key = str(path)
        if key not in self._owner_cache:
            self._owner_cache[key] = self.packages.owner(path)
        return self._owner_cache[key]


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
    queue: list[tuple[str, str]] = [
        (p, dist_id) for p in sorted(filter(is_binary_candidate, some)) if files.exists(p)
    ]
    # everything in auditwheel's <name>.libs/ is carried inside, needed or not
    for path in sorted(p for p in some if _in_libs_folder(p) and files.exists(p)):
        lib_id = out.add(bundled(path))
        out.edge(
            dist_id,
            lib_id,
            DependencyKind.STATIC,
            "bundled",
            Evidence(files.display(path), None, "elf"),
        )
        queue = [(p, lib_id) if p == path else (p, o) for p, o in queue]
    seen: set[str] = set()
    record = dist.files() if queue else set()  # (most distributions have no binary)
    while queue:
        path, owner = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        info = _read(files, path, out, ctx.cache)
        if info is None:
            continue
        evidence = Evidence(files.display(path), None, "elf")
        _linked_metadata(info, dist_id, evidence, out)
        origin = posixpath.dirname(path)
        for needed in info.needed:
            inside = _in_distribution(needed, info, origin, record, files, out, evidence, folders)
            if inside is not None:
                lib_id = out.add(bundled(inside))
                out.edge(dist_id, lib_id, DependencyKind.STATIC, "bundled", evidence)
                queue.append((inside, lib_id))
                continue
            elsewhere = _in_other_distribution(needed, info, origin, record, ctx)
            if elsewhere is not None:
                out.edge(owner, elsewhere, DependencyKind.DYNAMIC, "elf", evidence)
                continue
            target = _system_library(needed, info, origin, files, ctx, out)
            out.edge(owner, target, DependencyKind.DYNAMIC, "elf", evidence)
    for sbom in dist.sboms:
        _pep770(sbom, dist, dist_id, files, out)


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
    record: set[str],
    files: FileSource,
    out: NativeOutput,
    evidence: Evidence,
    folders: dict[str, bool] | None = None,
) -> str | None:
    """The distribution's own file that satisfies ``needed`` through RPATH/RUNPATH
    (``folders``: which folders exist, as found so far for this distribution)."""
    for folder in search_paths(info.rpath, info.runpath, origin or "."):
        if folder.startswith("/"):
            continue  # an absolute folder: the system's, looked at later
        candidate = posixpath.normpath(posixpath.join(folder, needed))
        if candidate in record or (not candidate.startswith("../") and files.exists(candidate)):
            return candidate
    for folder in search_paths(info.rpath, info.runpath, origin or "."):
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
    needed: str, info: ElfInfo, origin: str, record: set[str], ctx: NativeContext
) -> str | None:
    for folder in search_paths(info.rpath, info.runpath, origin or "."):
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
    origin: str,
    files: FileSource,
    ctx: NativeContext,
    out: NativeOutput,
) -> str:
    folders: list[str | None] = []
    for folder in search_paths(info.rpath, info.runpath, origin or "."):
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
        return out.add(_library_file(found, needed, "unknown (no package database read)"))
    package = ctx.owner(found)
    if package is None:
        unread = ctx.packages.unread()
        owner = f"unknown ({unread})" if unread else "none: no OS package owns this file"
        return out.add(_library_file(found, needed, owner))
    return out.add(os_package_component(package, Evidence(str(found), None, package.ptype)))


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
    )


def _library_file(found: Path, needed: str, owner: str) -> Component:
    ident = purl("generic", found.name, qualifiers=(("file", str(found)),))
    return Component(
        id=ident,
        name=found.name,
        ecosystem="generic",
        type=ComponentType.FILE,
        purl=ident,
        evidence=(Evidence(str(found), None, "elf"),),
        properties=(("depchain:owner", owner), ("depchain:needed-as", needed)),
    )


def _bundled_component(
    path: str, dist: Distribution, files: FileSource, hashes: tuple[Hash, ...]
) -> Component:
    """A library carried inside ``dist``; ``hashes``: what its RECORD says of it."""
    name = PurePosixPath(path).name
    ident = purl("generic", name)
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


def _pep770(
    sbom: str, dist: Distribution, dist_id: str, files: FileSource, out: NativeOutput
) -> None:
    """Components a PEP 770 SBOM declares (CycloneDX or SPDX JSON), as static
    dependencies of the distribution that carries them."""
    display = files.display(sbom)
    try:
        with files.open(sbom) as handle:
            data = json.loads(handle.read(32 * 1024 * 1024))
    except (OSError, ValueError, DistError) as exc:
        out.errors.append(InputError(display, f"unreadable SBOM: {str(exc).splitlines()[0]}"))
        return
    evidence = Evidence(display, None, "pep770")
    declared = (
        _cyclonedx_components(data)
        if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX"
        else _spdx_packages(data)
    )
    if declared is None:
        out.notes.append((display, "neither CycloneDX nor SPDX JSON: not read"))
        return
    bundled = {
        c.name: c
        for c in out.components.values()
        if ("depchain:bundled-in", f"{dist.name} {dist.version}") in c.properties
    }
    for name, version, ident, hashes in declared:
        if ident.startswith("pkg:pypi/") and name.lower().replace(
            "_", "-"
        ) == dist.name.lower().replace("_", "-"):
            continue  # the distribution itself
        matches = bundled_matches(name, bundled)
        for match in matches:  # the SBOM names where a bundled file came from: one node
            known = out.components[match.id]
            out.components[match.id] = replace(
                known,
                properties=tuple(sorted({*known.properties, ("depchain:provided-by", ident)})),
            )
        if matches:
            continue
        ecosystem = ident[4:].split("/", 1)[0] if ident.startswith("pkg:") else "generic"
        out.add(
            Component(
                id=ident,
                name=name,
                ecosystem=ecosystem,
                version=version,
                purl=ident if ident.startswith("pkg:") else None,
                hashes=hashes,
                evidence=(evidence,),
            )
        )
        out.edge(dist_id, ident, DependencyKind.STATIC, "pep770", evidence)


def _stem(name: str) -> str:
    """``libkrb5-fcafa220.so.3.3`` → ``krb5``; ``krb5-libs`` → ``krb5``; ``Little CMS 2``
    → ``littlecms``: the part of a library or package name that names the code."""
    name = name.lower().split(".so")[0]
    name = re.sub(r"-[0-9a-f]{8}$", "", name)  # auditwheel's hash
    name = re.sub(r"^lib", "", name)
    name = re.sub(r"[-_](libs?|devel|shim)$", "", name)
    return re.sub(r"[^a-z0-9]", "", name).rstrip("0123456789")


def bundled_matches(package: str, bundled: dict[str, Component]) -> list[Component]:
    """The bundled files a package named in a PEP 770 SBOM (auditwheel's OS packages,
    or the upstream projects a wheel declares) provides: one package, several files."""
    want = _stem(package)
    if len(want) < 3:
        return []
    found = []
    for file_name, component in sorted(bundled.items()):
        have = _stem(file_name)
        # libkrb5support and libgssapi_krb5 come from krb5-libs; libjpeg does not come
        # from OpenJPEG: a file's name may extend the package's, not the other way
        if len(have) >= 3 and (have == want or have.startswith(want) or have.endswith(want)):
            found.append(component)
    return found


SbomEntry = tuple[str, str | None, str, tuple[Hash, ...]]


def _cyclonedx_components(data: dict[str, object]) -> list[SbomEntry]:
    out: list[SbomEntry] = []
    stack: list[object] = list(data.get("components") or [])  # type: ignore[call-overload]
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
        stack.insert(0, metadata["component"])
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        version = item.get("version") if isinstance(item.get("version"), str) else None
        written = item.get("purl") if isinstance(item.get("purl"), str) else None
        ident = written.split("#")[0] if written else purl("generic", item["name"], version)
        hashes = tuple(
            Hash(_HASHES[h["alg"]], str(h["content"]).lower())
            for h in item.get("hashes") or []
            if isinstance(h, dict) and h.get("alg") in _HASHES
        )
        if not any(e[2] == ident for e in out):
            out.append((item["name"], version, ident, hashes))
        stack.extend(item.get("components") or [])
    return out


def _spdx_packages(data: object) -> list[SbomEntry] | None:
    if not isinstance(data, dict) or "spdxVersion" not in data:
        return None
    out: list[SbomEntry] = []
    for package in data.get("packages") or []:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        version = (
            package.get("versionInfo") if isinstance(package.get("versionInfo"), str) else None
        )
        ident = next(
            (
                str(r.get("referenceLocator"))
                for r in package.get("externalRefs") or []
                if isinstance(r, dict) and r.get("referenceType") == "purl"
            ),
            None,
        )
        out.append(
            (package["name"], version, ident or purl("generic", package["name"], version), ())
        )
    return out
