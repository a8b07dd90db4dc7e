"""What compilers record inside binaries about the code they linked in statically.

- cargo-auditable: section ``.dep-v0``, zlib-compressed JSON
  ``{"packages": [{"name", "version", "source", "kind", "dependencies", "root"}]}``;
- Go: section ``.go.buildinfo``, the module list ``go version -m`` prints (Go 1.18+
  inline-string format; the older pointer format is reported as not read).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

_GO_MAGIC = b"\xff Go buildinf:"
_MAX_INFLATED = 16 * 1024 * 1024


class BuildInfoError(ValueError):
    """The section is there but cannot be read; the message says why in one line."""


@dataclass(frozen=True)
class LinkedPackage:
    ecosystem: str
    """``cargo`` or ``golang``."""
    name: str
    version: str | None
    source: str | None
    """cargo: ``crates.io``, ``git``, ``local``, ``registry``; Go: the module checksum."""
    build_only: bool = False
    """cargo ``kind = "build"``: a build script or proc-macro, not in the binary."""
    root: bool = False


def read_auditable(section: bytes) -> list[LinkedPackage]:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(section, _MAX_INFLATED)
        if inflater.unconsumed_tail:
            raise BuildInfoError(".dep-v0: inflates to more than 16 MiB")
        data = json.loads(raw)
    except zlib.error as exc:
        raise BuildInfoError(f".dep-v0: not zlib data ({exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BuildInfoError(f".dep-v0: not JSON ({exc})") from None
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, list):
        raise BuildInfoError(".dep-v0: no packages list")
    out: list[LinkedPackage] = []
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise BuildInfoError(".dep-v0: a package without a name")
        version = entry.get("version")
        out.append(
            LinkedPackage(
                ecosystem="cargo",
                name=entry["name"],
                version=version if isinstance(version, str) else None,
                source=str(entry.get("source")) if entry.get("source") else None,
                build_only=entry.get("kind") == "build",
                root=bool(entry.get("root")),
            )
        )
    return out


def _uvarint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if offset >= len(data) or shift > 63:
            raise BuildInfoError(".go.buildinfo: truncated")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def read_go_buildinfo(section: bytes) -> tuple[str, list[LinkedPackage]]:
    """(Go version, the main module and every dependency module)."""
    start = section.find(_GO_MAGIC)
    if start < 0 or len(section) < start + 32:
        raise BuildInfoError(".go.buildinfo: no build-info header")
    flags = section[start + 15]
    if not flags & 0x2:
        raise BuildInfoError(".go.buildinfo: pre-Go 1.18 pointer format, not read")
    offset = start + 32
    strings: list[str] = []
    for _ in range(2):
        length, offset = _uvarint(section, offset)
        if offset + length > len(section):
            raise BuildInfoError(".go.buildinfo: truncated")
        strings.append(section[offset : offset + length].decode("utf-8", "replace"))
        offset += length
    version, modinfo = strings
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]  # sentinels around the module list
    modules: list[LinkedPackage] = []
    for line in modinfo.splitlines():
        parts = line.split("\t")
        if parts[0] in {"mod", "dep"} and len(parts) >= 3:
            modules.append(
                LinkedPackage(
                    ecosystem="golang",
                    name=parts[1],
                    version=parts[2] if parts[2] not in {"", "(devel)"} else None,
                    source=parts[3] if len(parts) > 3 and parts[3] else None,
                    root=parts[0] == "mod",
                )
            )
        elif parts[0] == "=>" and len(parts) >= 3 and modules:
            # a replace directive: the code linked is the replacement's; the module
            # keeps its name and says where its code really came from
            last = modules[-1]
            local = parts[1].startswith((".", "/"))
            linked = None if local or parts[2] in {"", "(devel)"} else parts[2]
            modules[-1] = LinkedPackage(
                "golang",
                last.name,
                linked,
                f"replaced by {parts[1]} {parts[2]}".strip(),
                root=last.root,
            )
    return version, modules
