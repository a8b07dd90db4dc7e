"""Native code identified, not just located: which project and release each bundled or
system library is, and which well-known libraries a binary carries statically.

The evidence, strongest first (``depchain:version-source`` says which one held):

- ``auditwheel``: auditwheel's SBOM ties the file to the OS package it was copied from
  (:func:`depchain.native.sbom770.tie`): the component's purl is that package's
  (``pkg:rpm/almalinux/libXau@1.0.9-3.el8``);
- ``pep770``: the wheel's own SBOM names the project the file is built from (FreeType
  2.14.3): its name, version, purl (or ``bom-ref``), licences and CPE are kept;
- ``binary``: the file says it (``OpenSSL 3.5.9 29 Sep 2026``, ``PQlibVersion()``
  returns 180006; :mod:`depchain.native.marks`);
- ``own-distribution``: the distribution is the project's own (pyarrow's
  ``libarrow.so.2600`` is Apache Arrow 26.0.1, pyarrow's version);
- ``same-build``: another file of the same project in the same distribution, linked to
  this one, says it (libssl beside the libcrypto it needs, krb5's libk5crypto beside
  the libkrb5 that needs it; never another copy of the same file);
- ``file-name``: the file's version is the project's release (``libzstd.so.1.5.7``);
- ``distribution-package``: an OS package's upstream version (``12.2.0-14`` is 12.2.0);
- ``abi-version``: only the file's own (ABI) version is known (``libgfortran.so.5.0.0``):
  it is kept as ``depchain:abi-version``; the component has no version, no release is
  claimed and no CPE is made.

Every known library gets ``depchain:upstream`` (``pkg:generic/openssl@3.5.9``, the
release where known) and, with a release, ``depchain:cpe`` (CPE 2.3), the identifiers
vulnerability databases match.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from depchain.ids import purl
from depchain.model import (
    Component,
    ComponentType,
    DependencyKind,
    Evidence,
    InputError,
    License,
)
from depchain.native import sbom770
from depchain.native.distribution import DistError, Distribution, FileSource
from depchain.native.libraries import (
    BY_KEY,
    Library,
    by_file,
    by_name,
    cpe,
    file_parts,
    release_from_file,
)
from depchain.native.marks import Mark
from depchain.native.ospkg import OsPackage

if TYPE_CHECKING:
    from depchain.native.analysis import NativeOutput

MAX_SBOM = 32 * 1024 * 1024
RANK = {
    "auditwheel": 6,
    "pep770": 6,
    "binary": 5,
    "own-distribution": 4,
    "same-build": 4,
    "file-name": 3,
    "distribution-package": 2,
    "abi-version": 1,
}
"""How firmly each kind of evidence says the version (a firmer one is never replaced)."""
CONFIRMS = {"zlib-ng": {"zlib"}}
"""A library found in a binary that an SBOM may declare under another name: zlib-ng
built as zlib's replacement is the ``zlib`` its wheel's SBOM names."""


@dataclass(frozen=True)
class Identity:
    name: str
    version: str | None
    source: str
    """The ``depchain:version-source`` (see the module's documentation)."""
    evidence: str
    """What said it, in words (``depchain:version-evidence``)."""
    purl: str | None = None
    """The component's identifier where it is more than its file (None: keep it)."""
    library: Library | None = None
    release: str | None = None
    """The project's release (never an ABI version)."""
    props: tuple[tuple[str, str], ...] = ()
    license: License | None = None


def upstream(lib: Library, release: str | None) -> str:
    return purl("generic", lib.key, release)


def identity_properties(identity: Identity) -> list[tuple[str, str]]:
    props = [
        ("depchain:version-source", identity.source),
        ("depchain:version-evidence", identity.evidence),
        *identity.props,
    ]
    if identity.library is not None:
        props.append(("depchain:upstream", upstream(identity.library, identity.release)))
        found = cpe(identity.library, identity.release)
        if found and not any(k == "depchain:cpe" for k, _ in identity.props):  # the SBOM's
            props.append(("depchain:cpe", found))
    return props


def rank(component: Component) -> int:
    return max(
        (RANK.get(v, 0) for k, v in component.properties if k == "depchain:version-source"),
        default=0,
    )


def best(marks: Iterable[Mark], key: str) -> Mark | None:
    """The mark that says most of library ``key``: one with a version first."""
    found = [m for m in marks if m.library == key]
    return next((m for m in found if m.version), found[0] if found else None)


def distro_release(version: str) -> str | None:
    """The upstream release in an OS package's version: no epoch, no revision, no
    repackaging suffix (``1:1.2.13.dfsg-1`` is 1.2.13, ``1.15.1-55.el7_9`` is 1.15.1)."""
    text = version.split(":", 1)[-1]
    if "-" in text:
        text = text.rsplit("-", 1)[0]
    text = re.split(r"[+~]|\.dfsg|\.ds\b", text)[0]
    return text if re.fullmatch(r"\d+(\.\d+)*[a-z]?", text) else None


def of_file(
    file_name: str,
    soname: str | None,
    marks: tuple[Mark, ...],
    *,
    sibling: tuple[str, str] | None = None,
    distribution: tuple[str, str] | None = None,
) -> Identity:
    """What a library file says it is by itself (its marks, its name), with what another
    file of the same project in the same distribution said (``sibling``: (release, file
    name)), where the file says no release; ``distribution``: (name, version) of the
    distribution that carries it."""
    lib = by_file(file_name, soname)
    _, file_version = file_parts(file_name)
    if lib is None:
        # a file named like no known library that says it is one (libfoo.so holding
        # "OpenSSL 3.2.1 ..." and nothing else) is still only a container of it
        return Identity(
            file_name,
            None,
            "abi-version",
            f"the file's version ({file_version})" if file_version else "no version recorded",
            props=_abi(file_version),
        )
    mark = best(marks, lib.key)
    if mark is not None and mark.version:
        return Identity(
            lib.name, mark.version, "binary", mark.text, library=lib, release=mark.version
        )
    release = release_from_file(lib, file_name)
    if (
        distribution is not None
        and by_name(distribution[0]) is lib
        and (release is None or distribution[1].startswith(release))
    ):
        name, version = distribution
        return Identity(
            lib.name,
            version,
            "own-distribution",
            f"{name} {version} ships its own {lib.name} libraries",
            library=lib,
            release=version,
        )
    if sibling is not None:
        return Identity(
            lib.name,
            sibling[0],
            "same-build",
            f"{sibling[1]}, of the same project in the same distribution",
            library=lib,
            release=sibling[0],
        )
    if release is not None:
        return Identity(
            lib.name,
            release,
            "file-name",
            f"{file_name}: {lib.name} {release}",
            library=lib,
            release=release,
        )
    return Identity(
        lib.name,
        None,
        "abi-version",
        f"the file's ABI version ({file_version}); the release is not recorded"
        if file_version
        else "no version recorded",
        library=lib,
        props=_abi(file_version),
    )


def _abi(file_version: str | None) -> tuple[tuple[str, str], ...]:
    """The file's own (ABI) version, kept as ``depchain:abi-version``: never the
    component's version, which readers and vulnerability databases take for a release
    (numpy's ``libquadmath-96973f99-934c22de.so.0.0.0`` is no libquadmath 0.0.0, its
    ``libgfortran...so.5.0.0`` no GCC 5.0.0, pyzmq's ``libzmq...so.5.2.5`` no ZeroMQ
    5.2.5)."""
    return (("depchain:abi-version", file_version),) if file_version else ()


_PACKAGE_ECOSYSTEMS = frozenset(
    {"cargo", "pypi", "npm", "golang", "gem", "maven", "nuget", "composer", "hex", "pub"}
)
"""Package URL types of language packages: a Rust crate named ``openssl`` is no
OpenSSL."""


def library_of(entry: sbom770.Declared) -> Library | None:
    """The well-known native library an SBOM entry is, by its name, its purl's or its
    ``bom-ref``'s name (``pkg:generic/freetype2``); never a language package's."""
    idents = [i for i in (entry.purl, entry.bom_ref) if i and i.startswith("pkg:")]
    if any(i[4:].split("/", 1)[0].lower() in _PACKAGE_ECOSYSTEMS for i in idents):
        return None
    for name in (entry.name, *(re.split(r"[@?#]", i)[0].rsplit("/", 1)[-1] for i in idents)):
        lib = by_name(name)
        if lib is not None:
            return lib
    return None


def of_os_package(entry: sbom770.Declared, display: str, by_itself: Identity) -> Identity:
    """A bundled file auditwheel's SBOM ties to the OS package it came from."""
    lib = by_itself.library or library_of(entry)
    release = by_itself.release if by_itself.source == "binary" else None
    if release is None and entry.version:
        release = distro_release(entry.version)
    return Identity(
        entry.name,
        entry.version,
        "auditwheel",
        f"{display}: {entry.bom_ref or entry.purl}",
        purl=entry.purl,
        library=lib,
        release=release if lib is not None else None,
    )


def of_declared(entry: sbom770.Declared, display: str, ident: str, by_itself: Identity) -> Identity:
    """A bundled file the wheel's own SBOM names the project of."""
    lib = library_of(entry) or by_itself.library
    props = []
    if entry.bom_ref:
        props.append(("depchain:sbom-bom-ref", entry.bom_ref))
    if entry.cpe:
        props.append(("depchain:cpe", entry.cpe))
    props += [("depchain:sbom-hash", f"{h.algorithm}:{h.value}") for h in entry.hashes]
    return Identity(
        entry.name,
        entry.version,
        "pep770",
        f"{display}: {entry.name} {entry.version or '(no version)'}",
        purl=ident,
        library=lib,
        release=entry.version if lib is not None else None,
        props=tuple(props),
        license=license_of(entry),
    )


def license_of(entry: sbom770.Declared) -> License | None:
    """The licence an SBOM declares for a component: one SPDX id or expression as the
    expression; several entries as ids and names (an SBOM's list does not say how they
    combine); None where it declares none. An id is taken as written (CycloneDX's
    schema holds it to SPDX's list), an expression normalised."""
    from depchain.licenses import normalize

    written = [(text, normalize(text)) for text in entry.licenses]
    spdx = [*entry.license_ids, *(normal for _, normal in written if normal)]
    names = [text for text, normal in written if not normal] + list(entry.license_names)
    if not spdx and not names:
        return None
    if len(spdx) == 1 and not names:
        return License(expression=spdx[0], source="pep770")
    return License(ids=tuple(sorted(set(spdx))), names=tuple(sorted(set(names))), source="pep770")


def apply(component: Component, identity: Identity, file_name: str | None) -> Component:
    """``component`` named, versioned and identified as ``identity`` says, unless a
    firmer identification is already on it."""
    if rank(component) > RANK[identity.source]:
        return component
    kept = [
        (k, v)
        for k, v in component.properties
        if k
        not in {
            "depchain:version-source",
            "depchain:version-evidence",
            "depchain:upstream",
            "depchain:cpe",
        }
    ]
    props = kept + identity_properties(identity)
    if file_name is not None and file_name != identity.name:
        props.append(("depchain:file", file_name))
    ecosystem = component.ecosystem
    if identity.purl is not None and identity.purl.startswith("pkg:"):
        ecosystem = identity.purl[4:].split("/", 1)[0]
    elif identity.library is not None and identity.release is not None:
        ecosystem = "generic"
    made = (
        identity.purl
        or (
            upstream(identity.library, identity.release)
            if identity.library and identity.release
            else None
        )
        or component.purl
    )
    return replace(
        component,
        name=identity.name,
        version=identity.version,
        ecosystem=ecosystem,
        purl=made,
        properties=tuple(sorted(set(props))),
        license=identity.license or component.license,
    )


IDENTITY_KEYS = frozenset(
    {"depchain:version-source", "depchain:version-evidence", "depchain:upstream", "depchain:cpe"}
)


def with_identity(component: Component, props: Iterable[tuple[str, str]]) -> Component:
    """An OS package ``component`` with what identifies one more of its files: the
    firmer identification is kept (libc.so.6 says glibc 2.36; libm.so.6 only has its
    package's version); other properties (its licence) are added."""
    props = list(props)
    mine = {k: v for k, v in component.properties if k == "depchain:version-source"}
    theirs = dict(p for p in props if p[0] == "depchain:version-source")
    new_rank = RANK.get(theirs.get("depchain:version-source", ""), 0)
    old_rank = RANK.get(mine.get("depchain:version-source", ""), 0)
    kept = set(component.properties)
    if new_rank > old_rank:
        kept = {p for p in kept if p[0] not in IDENTITY_KEYS}
    else:
        props = [p for p in props if p[0] not in IDENTITY_KEYS]
    merged = tuple(sorted(kept | set(props)))
    return component if merged == component.properties else replace(component, properties=merged)


def system_properties(
    info_marks: tuple[Mark, ...], file_name: str, soname: str | None, package: OsPackage | None
) -> list[tuple[str, str]]:
    """What identifies an OS package's library file: the well-known project it is, its
    release (from the file, else the package's version), its CPE."""
    props: list[tuple[str, str]] = []
    lib = by_file(file_name, soname)
    if lib is None:
        return props
    mark = best(info_marks, lib.key)
    if mark is not None and mark.version:
        identity = Identity(
            lib.name, mark.version, "binary", mark.text, library=lib, release=mark.version
        )
    else:
        release = release_from_file(lib, file_name)
        if release is not None:
            identity = Identity(
                lib.name, release, "file-name", file_name, library=lib, release=release
            )
        elif package is not None and distro_release(package.version):
            release = distro_release(package.version)
            identity = Identity(
                lib.name,
                release,
                "distribution-package",
                f"{package.name} {package.version}",
                library=lib,
                release=release,
            )
        else:
            return props
    return props + identity_properties(identity)


@dataclass
class Binary:
    """An ELF file of a distribution, as the analysis met it."""

    path: str
    owner: str
    """The component it belongs to: the distribution, or the bundled library it is."""
    soname: str | None
    marks: tuple[Mark, ...]
    bundled: bool
    needed: tuple[str, ...] = ()


@dataclass
class Seen:
    """What the analysis of one distribution found, for :func:`identify`."""

    binaries: list[Binary] = field(default_factory=list)


def identify(
    dist: Distribution,
    dist_id: str,
    files: FileSource,
    out: NativeOutput,
    seen: Seen,
) -> None:
    """Name and version the distribution's bundled libraries; add what its SBOMs
    declare and what its binaries carry statically (``out``: the
    :class:`~depchain.native.analysis.NativeOutput`)."""
    if not dist.sboms and not any(b.marks or b.bundled for b in seen.binaries):
        return  # nothing to identify (most distributions)
    sboms = _read_sboms(dist, files, out)
    bundled = [b for b in seen.binaries if b.bundled]
    names = {b.path: posixpath.basename(b.path) for b in bundled}
    carrier = (dist.name, dist.version)
    by_itself = {
        b.path: of_file(names[b.path], b.soname, b.marks, distribution=carrier) for b in bundled
    }
    # auditwheel: each OS package on the file it produced, by the path it was copied from
    os_entries = [(d, e) for d, s in sboms if s.auditwheel for e in s.entries if e.provided]
    tied = sbom770.tie((e for _, e in os_entries), names.values())
    where = {id(e): d for d, e in os_entries}
    declared = [
        (d, e) for d, s in sboms if not s.auditwheel for e in s.entries if not _is_itself(e, dist)
    ]
    used: set[int] = set()
    identities: dict[str, Identity] = {}
    for b in bundled:
        entry = tied.get(names[b.path])
        if entry is not None:
            identities[b.path] = of_os_package(entry, where[id(entry)], by_itself[b.path])
            used.add(id(entry))
    for display, entry in declared:
        matches = _bundled_matches(entry, bundled, by_itself, names)
        for b in matches:
            if b.path not in identities:
                identities[b.path] = of_declared(
                    entry, display, _ident(entry, dist), by_itself[b.path]
                )
        if matches:
            used.add(id(entry))
    final = {b.path: identities.get(b.path, by_itself[b.path]) for b in bundled}
    for b in bundled:
        if final[b.path].release is None and final[b.path].library is not None:
            sibling = _sibling(b, bundled, final, names)
            if sibling is not None:
                final[b.path] = of_file(names[b.path], b.soname, b.marks, sibling=sibling)
    for b in bundled:
        component = out.components.get(b.owner)
        if component is not None:
            out.components[b.owner] = apply(component, final[b.path], names[b.path])
    for display, sbom in sboms:
        for entry in sbom.entries:
            if id(entry) in used or _is_itself(entry, dist):
                continue
            _declared_component(entry, display, dist, dist_id, out)
    _static(dist, dist_id, files, out, seen, by_itself, declared, used)


def _sibling(
    b: Binary, bundled: list[Binary], final: dict[str, Identity], names: dict[str, str]
) -> tuple[str, str] | None:
    """(release, file name) of the one release the other files of ``b``'s project in
    the distribution that are linked to it (either needs the other) have: a file of
    another name (libssl beside libcrypto; never another copy of the same library)."""
    lib = final[b.path].library
    stem = file_parts(names[b.path])[0]
    found: dict[str, str] = {}
    for other in bundled:
        ident = final[other.path]
        if other is b or ident.library is not lib or ident.release is None:
            continue
        if RANK[ident.source] < RANK["file-name"] or file_parts(names[other.path])[0] == stem:
            continue
        linked = names[other.path] in b.needed or names[b.path] in other.needed
        if linked:
            found.setdefault(ident.release, names[other.path])
    return next(iter(found.items())) if len(found) == 1 else None


def _read_sboms(
    dist: Distribution, files: FileSource, out: NativeOutput
) -> list[tuple[str, sbom770.Sbom]]:
    found = []
    for path in dist.sboms:
        display = files.display(path)
        try:
            with files.open(path) as handle:
                data = json.loads(handle.read(MAX_SBOM))
        except (OSError, ValueError, DistError, RecursionError) as exc:
            out.errors.append(InputError(display, f"unreadable SBOM: {str(exc).splitlines()[0]}"))
            continue
        sbom = sbom770.read(data, posixpath.basename(path))
        if sbom is None:
            out.notes.append((display, "neither CycloneDX nor SPDX JSON: not read"))
            continue
        found.append((display, sbom))
    return found


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_itself(entry: sbom770.Declared, dist: Distribution) -> bool:
    """The distribution itself, or a part of it (Pillow's ``PIL._imaging``, written
    ``pkg:pypi/pillow@13.0.0#c-ext/PIL._imaging``)."""
    ident = entry.purl or ""
    if not ident.startswith("pkg:pypi/"):
        return False
    name = re.split(r"[@?#]", ident[len("pkg:pypi/") :], maxsplit=1)[0]
    return _canon(name) == _canon(dist.name)


def _ident(entry: sbom770.Declared, dist: Distribution) -> str:
    """The id of a component an SBOM declares: its own purl (or ``bom-ref``, where that
    is one), else a generic one from its name."""
    if entry.purl and not _is_itself(entry, dist):
        return entry.purl
    return purl("generic", entry.name, entry.version)


def _bundled_matches(
    entry: sbom770.Declared,
    bundled: list[Binary],
    by_itself: dict[str, Identity],
    names: dict[str, str],
) -> list[Binary]:
    """The bundled files a project an SBOM names is built into: the files of the same
    known library, else those whose stem is the project's name."""
    lib = library_of(entry)
    if lib is not None:
        return [b for b in bundled if by_itself[b.path].library is lib]
    want = re.sub(r"[^a-z0-9]", "", entry.name.lower()).removeprefix("lib")
    return [
        b
        for b in bundled
        if len(want) >= 3 and re.sub(r"[^a-z0-9]", "", file_parts(names[b.path])[0].lower()) == want
    ]


def _declared_component(
    entry: sbom770.Declared, display: str, dist: Distribution, dist_id: str, out: NativeOutput
) -> None:
    """A component an SBOM declares that is no bundled file: a static dependency of the
    distribution (a build one where the SBOM's scope is ``excluded``: not shipped; its
    scope is kept as ``depchain:sbom-scope``)."""
    ident = _ident(entry, dist)
    lib = library_of(entry)
    props: list[tuple[str, str]] = []
    if entry.bom_ref:
        props.append(("depchain:sbom-bom-ref", entry.bom_ref))
    if entry.cpe:
        props.append(("depchain:cpe", entry.cpe))
    if entry.scope:
        props.append(("depchain:sbom-scope", entry.scope))
    if lib is not None:
        props.append(("depchain:upstream", upstream(lib, entry.version)))
        made = cpe(lib, entry.version)
        if made and not entry.cpe:
            props.append(("depchain:cpe", made))
    if entry.version:
        props += [
            ("depchain:version-source", "pep770"),
            ("depchain:version-evidence", f"{display}: {entry.name} {entry.version}"),
        ]
    evidence = Evidence(display, None, "pep770")
    ecosystem = ident[4:].split("/", 1)[0] if ident.startswith("pkg:") else "generic"
    out.add(
        Component(
            id=ident,
            name=entry.name,
            ecosystem=ecosystem,
            version=entry.version,
            purl=ident if ident.startswith("pkg:") else None,
            hashes=entry.hashes,
            evidence=(evidence,),
            properties=tuple(sorted(set(props))),
            license=license_of(entry),
        )
    )
    kind = DependencyKind.BUILD if entry.scope == "excluded" else DependencyKind.STATIC
    out.edge(dist_id, ident, kind, "pep770", evidence)


def _static(
    dist: Distribution,
    dist_id: str,
    files: FileSource,
    out: NativeOutput,
    seen: Seen,
    by_itself: dict[str, Identity],
    declared: list[tuple[str, sbom770.Declared]],
    used: set[int],
) -> None:
    """Well-known libraries a binary carries statically, found by their version
    strings: the component the distribution's SBOM declares for it, where it does
    (the binary is more evidence of it), else a ``static`` component of their own
    (mechanism ``version-string``) from the binary's owner."""
    for b in seen.binaries:
        own = by_itself.get(b.path)
        own_key = own.library.key if own is not None and own.library is not None else None
        if own is None and b.bundled is False:
            lib = by_file(posixpath.basename(b.path), b.soname)
            own_key = lib.key if lib is not None else None
        # a library the binary links dynamically is no library it carries: its version
        # string is the headers' it was built against (Debian's python3-cryptography
        # 38.0.4 _openssl.abi3.so holds "OpenSSL 3.0.14 4 Jun 2024" and loads
        # libssl3 3.0.19's libcrypto.so.3)
        linked = {lib.key for lib in map(by_file, b.needed) if lib is not None}
        keys = {m.library for m in b.marks if m.library != own_key and m.library not in linked}
        evidence = Evidence(files.display(b.path), None, "elf")
        for key in sorted(keys):
            lib = BY_KEY.get(key)
            if lib is None:
                continue
            marks = [m for m in b.marks if m.library == key]
            versioned = [m for m in marks if m.version] or marks[:1]
            for mark in versioned:
                match = _declared_for(mark, declared, dist)
                if match is None:
                    target = _static_component(lib, mark, evidence, out)
                else:
                    target = match[0]
                    _confirm(target, match[1], mark, evidence, out)
                    if b.owner == dist_id:
                        continue  # the SBOM's edge says it; the binary is its evidence
                out.edge(b.owner, target, DependencyKind.STATIC, "version-string", evidence)


def _declared_for(
    mark: Mark, declared: list[tuple[str, sbom770.Declared]], dist: Distribution
) -> tuple[str, Library] | None:
    """The component the distribution's SBOM declares for what ``mark`` found, and the
    library the SBOM calls it (another than the mark's for a library built as another's
    replacement: :data:`CONFIRMS`)."""
    for _display, entry in declared:
        lib = library_of(entry)
        if lib is None:
            continue
        if lib.key == mark.library:
            if mark.version and entry.version and mark.version != entry.version:
                continue
        elif lib.key not in CONFIRMS.get(mark.library, set()):
            continue
        return _ident(entry, dist), lib
    return None


def _static_component(lib: Library, mark: Mark, evidence: Evidence, out: NativeOutput) -> str:
    ident = upstream(lib, mark.version)
    identity = Identity(
        lib.name,
        mark.version,
        "binary",
        mark.text,
        library=lib,
        release=mark.version,
    )
    out.add(
        Component(
            id=ident,
            name=lib.name,
            ecosystem="generic",
            version=mark.version,
            type=ComponentType.LIBRARY,
            purl=ident,
            evidence=(evidence,),
            properties=tuple(
                sorted({*identity_properties(identity), ("depchain:found-in", evidence.path)})
            ),
        )
    )
    return ident


def _confirm(
    target: str, named: Library, mark: Mark, evidence: Evidence, out: NativeOutput
) -> None:
    """The binary at ``evidence`` carries what the SBOM declared as ``target`` (and
    called ``named``): more evidence of it; where the binary says it is another library
    (zlib-ng built as zlib), its identifiers are that library's."""
    known = out.components.get(target)
    if known is None:
        return
    props = {
        *known.properties,
        ("depchain:found-in", evidence.path),
        ("depchain:version-string", mark.text),
    }
    lib = BY_KEY[mark.library]
    if lib is not named:
        props = {(k, v) for k, v in props if k not in {"depchain:upstream", "depchain:cpe"}}
        props.add(("depchain:upstream", upstream(lib, known.version)))
        made = cpe(lib, known.version)
        if made:
            props.add(("depchain:cpe", made))
    out.components[target] = replace(
        known,
        evidence=tuple(sorted({*known.evidence, evidence}))[:64],
        properties=tuple(sorted(props)),
    )
