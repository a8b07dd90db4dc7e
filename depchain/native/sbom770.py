"""PEP 770 SBOMs (``.dist-info/sboms/*.json``, CycloneDX or SPDX JSON): what each
declares, with its own identifiers (purl, ``bom-ref``, CPE), licences, hashes and
scope, read without changing them.

auditwheel writes one of its own (``auditwheel.cdx.json``): one component per OS
package that provided a library it copied into the wheel, whose ``bom-ref`` is the
package's purl followed by ``#`` and the SHA-256 of the path the library was copied
from (``pkg:rpm/almalinux/libXau@1.0.9-3.el8#ac77...``; auditwheel's ``sboms.py``,
``create_sbom_for_wheel``). The library's new name in the wheel keeps the old one with a
hash of its content inserted (``libXau.so.6.0.0`` → ``libXau-154567c4.so.6.0.0``;
``repair.py``, ``copylib``), so :func:`tie` finds which bundled file each package
produced by hashing the folders the library can have come from with its old name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from depchain.ids import purl as make_purl
from depchain.model import Hash
from depchain.native.libraries import original_names
from depchain.native.loader import _MULTIARCH

MAX_ENTRIES = 10_000
MAX_TEXT = 512
_HASHES = {
    "SHA-256": "sha256",
    "SHA-512": "sha512",
    "SHA-1": "sha1",
    "MD5": "md5",
    "SHA-384": "sha384",
    "SHA256": "sha256",
    "SHA512": "sha512",
    "SHA1": "sha1",
    "SHA384": "sha384",
}
_FRAGMENT = re.compile(r"^(pkg:[^#]+)#([0-9a-f]{64})$")
_SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,99}")

LIBRARY_FOLDERS: tuple[str, ...] = (
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib64",
    "/usr/local/lib",
    *(f"{prefix}/{triplet}" for triplet in _MULTIARCH.values() for prefix in ("/lib", "/usr/lib")),
    *(f"/opt/rh/devtoolset-{n}/root/usr/lib64" for n in range(7, 13)),
    *(f"/opt/rh/gcc-toolset-{n}/root/usr/lib64" for n in range(9, 16)),
)
"""Where auditwheel finds the libraries it copies: the manylinux and musllinux images'
library folders (and their compiler toolsets'), and Debian's multiarch ones."""


@dataclass(frozen=True)
class Declared:
    """One component an SBOM declares."""

    name: str
    version: str | None
    purl: str | None
    """Its Package URL as the SBOM writes it (a ``#`` fragment left out), else its
    ``bom-ref`` where that is one (without a fragment: ``pkg:pypi/pillow@13.0.0#
    thirdparty/raqm`` names a part of Pillow, not raqm), with the version added."""
    bom_ref: str | None
    hashes: tuple[Hash, ...] = ()
    license_ids: tuple[str, ...] = ()
    """The SPDX licence identifiers it lists (CycloneDX ``license.id``)."""
    licenses: tuple[str, ...] = ()
    """The SPDX licence expressions it gives (CycloneDX ``expression``, SPDX's
    ``licenseDeclared`` or ``licenseConcluded``)."""
    license_names: tuple[str, ...] = ()
    """Licences the SBOM names without an SPDX identifier."""
    cpe: str | None = None
    scope: str | None = None
    """CycloneDX ``scope``: ``required``, ``optional`` or ``excluded``."""
    provided: str | None = None
    """auditwheel: the SHA-256 of the path of the library this OS package provided."""


@dataclass(frozen=True)
class Sbom:
    auditwheel: bool
    """Written by auditwheel (or a tool that writes its format): OS packages."""
    entries: tuple[Declared, ...]


def _text(value: object) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value else None


def _is_purl(text: str | None) -> bool:
    if not text or not text.startswith("pkg:") or "/" not in text:
        return False
    from packageurl import PackageURL

    try:
        PackageURL.from_string(text)
    except ValueError:
        return False
    return True


def read(data: object, file_name: str) -> Sbom | None:
    """What the SBOM document ``data`` (parsed JSON) declares; None when it is neither
    CycloneDX nor SPDX JSON."""
    if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        return Sbom(_by_auditwheel(data, file_name), tuple(_cyclonedx(data)))
    if isinstance(data, dict) and "spdxVersion" in data:
        return Sbom(False, tuple(_spdx(data)))
    return None


def _by_auditwheel(data: dict[str, object], file_name: str) -> bool:
    if file_name == "auditwheel.cdx.json":
        return True
    metadata = data.get("metadata")
    tools = metadata.get("tools") if isinstance(metadata, dict) else None
    if isinstance(tools, dict):
        tools = tools.get("components")
    return isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("name") == "auditwheel" for t in tools
    )


def _licenses(value: object) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(SPDX ids, SPDX expressions, licence names) of a CycloneDX ``licenses`` list, as
    written (an id is one of SPDX's by the CycloneDX schema)."""
    ids: list[str] = []
    expressions: list[str] = []
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        expression = _text(item.get("expression"))
        license = item.get("license")
        if expression:
            expressions.append(expression)
        elif isinstance(license, dict):
            ident, name = _text(license.get("id")), _text(license.get("name"))
            if ident and _SPDX_ID.fullmatch(ident):
                ids.append(ident)
            elif name or ident:
                names.append(name or ident or "")
    return (
        tuple(dict.fromkeys(ids))[:16],
        tuple(dict.fromkeys(expressions))[:16],
        tuple(dict.fromkeys(names))[:16],
    )


def _cyclonedx(data: dict[str, object]) -> Iterable[Declared]:
    stack: list[object] = list(data.get("components") or [])  # type: ignore[call-overload]
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
        stack.insert(0, metadata["component"])
    seen: set[tuple[str | None, str | None, str]] = set()
    count = 0
    while stack and count < MAX_ENTRIES:
        item = stack.pop(0)
        count += 1
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        stack.extend(item.get("components") or [])
        name = item["name"][:MAX_TEXT]
        version = _text(item.get("version"))
        written, bom_ref = _text(item.get("purl")), _text(item.get("bom-ref"))
        provided = None
        found = _FRAGMENT.match(bom_ref or "")
        if found is not None:
            provided = found.group(2)
        ident = written.split("#")[0] if written else None
        if ident is None and bom_ref and "#" not in bom_ref and _is_purl(bom_ref):
            ident = _with_version(bom_ref, version)  # Pillow's pkg:generic/freetype2
        hashes = tuple(
            Hash(_HASHES[h["alg"]], str(h["content"]).lower())
            for h in item.get("hashes") or []
            if isinstance(h, dict) and h.get("alg") in _HASHES and isinstance(h.get("content"), str)
        )
        key = (ident, bom_ref, name)
        if key in seen:
            continue
        seen.add(key)
        scope = _text(item.get("scope"))
        ids, expressions, names = _licenses(item.get("licenses"))
        yield Declared(
            name,
            version,
            ident,
            bom_ref,
            hashes,
            ids,
            expressions,
            names,
            _text(item.get("cpe")),
            scope if scope in {"required", "optional", "excluded"} else None,
            provided,
        )


def _with_version(ident: str, version: str | None) -> str:
    """A ``bom-ref`` used as the purl: with the component's version where it has none."""
    if not version or "@" in ident.split("/")[-1]:
        return ident
    from packageurl import PackageURL

    parsed = PackageURL.from_string(ident)
    return make_purl(
        parsed.type,
        parsed.name,
        version,
        namespace=parsed.namespace,
        qualifiers=tuple(sorted((parsed.qualifiers or {}).items()))
        if isinstance(parsed.qualifiers, dict)
        else (),
    )


def _spdx(data: dict[str, object]) -> Iterable[Declared]:
    for package in (data.get("packages") or [])[:MAX_ENTRIES]:  # type: ignore[index]
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        refs = [r for r in package.get("externalRefs") or [] if isinstance(r, dict)]
        ident = next(
            (_text(r.get("referenceLocator")) for r in refs if r.get("referenceType") == "purl"),
            None,
        )
        cpe = next(
            (
                _text(r.get("referenceLocator"))
                for r in refs
                if r.get("referenceType") in {"cpe23Type", "cpe22Type"}
            ),
            None,
        )
        licenses = tuple(
            text
            for text in (
                _text(package.get("licenseDeclared")),
                _text(package.get("licenseConcluded")),
            )
            if text and text not in {"NOASSERTION", "NONE"}
        )
        hashes = tuple(
            Hash(_HASHES[c["algorithm"]], str(c["checksumValue"]).lower())
            for c in package.get("checksums") or []
            if isinstance(c, dict) and c.get("algorithm") in _HASHES and c.get("checksumValue")
        )
        yield Declared(
            package["name"][:MAX_TEXT],
            _text(package.get("versionInfo")),
            ident.split("#")[0] if ident else None,
            _text(package.get("SPDXID")),
            hashes,
            (),
            tuple(dict.fromkeys(licenses))[:1],
            (),
            cpe,
        )


def tie(provided: Iterable[Declared], bundled: Iterable[str]) -> dict[str, Declared]:
    """Bundled file name → the OS package auditwheel says provided it, found by the hash
    of the path it was copied from (:data:`LIBRARY_FOLDERS`, its name before bundling)."""
    wanted = {e.provided: e for e in provided if e.provided}
    found: dict[str, Declared] = {}
    if not wanted:
        return found
    for file_name in bundled:
        for name in original_names(file_name):
            for folder in LIBRARY_FOLDERS:
                digest = hashlib.sha256(f"{folder}/{name}".encode()).hexdigest()
                if digest in wanted:
                    found[file_name] = wanted[digest]
                    break
            if file_name in found:
                break
    return found
