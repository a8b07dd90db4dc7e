"""Where the system's dynamic loader would find a library: ``DT_RPATH``/``DT_RUNPATH``
(with ``$ORIGIN``) as glibc's loader reads them (:func:`loader_folders`: the RPATH of
the object that asks and of every object that loaded it), ``/etc/ld.so.cache``, then
the default folders. Read only; the loader is never asked."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_NEW_MAGIC = b"glibc-ld.so.cache1.1"
_FLAG_ELF_LIBC6 = 0x0003
# ld.so.cache's architecture flags, by pyelftools' e_machine and ELF class.
_ARCH_FLAGS = {
    ("EM_X86_64", 64): 0x0300,
    ("EM_AARCH64", 64): 0x0A00,
    ("EM_RISCV", 64): 0x1000,
    ("EM_PPC64", 64): 0x0500,
    ("EM_S390", 64): 0x0400,
    ("EM_386", 32): 0x0000,
    ("EM_ARM", 32): 0x0000,
}
_MULTIARCH = {
    ("EM_X86_64", 64): "x86_64-linux-gnu",
    ("EM_AARCH64", 64): "aarch64-linux-gnu",
    ("EM_386", 32): "i386-linux-gnu",
    ("EM_ARM", 32): "arm-linux-gnueabihf",
    ("EM_PPC64", 64): "powerpc64le-linux-gnu",
    ("EM_S390", 64): "s390x-linux-gnu",
    ("EM_RISCV", 64): "riscv64-linux-gnu",
}


def parse_ld_so_cache(data: bytes) -> dict[int, dict[str, str]]:
    """{architecture flags: {library name: path}} from an ``ld.so.cache`` (the glibc
    1.1 format, alone or after the old ``ld.so-1.7.0`` table). Unknown data: empty."""
    start = data.find(_NEW_MAGIC)
    if start < 0:
        return {}
    header = struct.Struct("<20sII")
    try:
        _, nlibs, _strings = header.unpack_from(data, start)
    except struct.error:
        return {}
    entries = start + 48
    entry = struct.Struct("<iIIIQ")
    found: dict[int, dict[str, str]] = {}
    for i in range(nlibs):
        try:
            flags, key, value, _os, _hwcap = entry.unpack_from(data, entries + i * entry.size)
        except struct.error:
            break
        if flags & 0xFF != _FLAG_ELF_LIBC6:
            continue
        name, path = _cstr(data, start + key), _cstr(data, start + value)
        if name and path:
            found.setdefault(flags & 0xFF00, {}).setdefault(name, path)
    return found


def _cstr(data: bytes, offset: int) -> str | None:
    end = data.find(b"\0", offset)
    if offset >= len(data) or end < 0:
        return None
    return data[offset:end].decode("utf-8", "replace")


@dataclass
class SystemLoader:
    """The loader's view of one root file system (``/`` or a chroot-like folder)."""

    root: Path = Path("/")
    _cache: dict[int, dict[str, str]] | None = field(default=None, repr=False)

    def cache(self) -> dict[int, dict[str, str]]:
        if self._cache is None:
            try:
                self._cache = parse_ld_so_cache((self.root / "etc/ld.so.cache").read_bytes())
            except OSError:
                self._cache = {}
        return self._cache

    def default_dirs(self, machine: str, elfclass: int) -> list[str]:
        dirs: list[str] = []
        triplet = _MULTIARCH.get((machine, elfclass))
        if triplet:
            dirs += [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
        dirs += ["/lib64", "/usr/lib64"] if elfclass == 64 else []
        return [*dirs, "/lib", "/usr/lib"]

    def find(self, name: str, machine: str, elfclass: int) -> Path | None:
        """The file the loader would map for DT_NEEDED ``name``, from the cache or the
        default folders; None when it is not on this system."""
        if "/" in name:
            candidate = self.root / name.lstrip("/")
            return candidate if candidate.is_file() else None
        arch = _ARCH_FLAGS.get((machine, elfclass))
        if arch is not None:
            hit = self.cache().get(arch, {}).get(name)
            if hit and (self.root / hit.lstrip("/")).exists():
                return Path(hit) if self.root == Path("/") else self.root / hit.lstrip("/")
        for folder in self.default_dirs(machine, elfclass):
            candidate = self.root / folder.lstrip("/") / name
            if candidate.is_file():
                return Path(folder) / name if self.root == Path("/") else candidate
        return None


def expand_origin(entry: str, origin: str) -> str:
    """``$ORIGIN`` and ``${ORIGIN}`` replaced by the folder of the object that asks."""
    return entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)


def search_paths(rpath: tuple[str, ...], runpath: tuple[str, ...], origin: str) -> list[str]:
    """The object's own search folders, in the loader's order: DT_RPATH only when there
    is no DT_RUNPATH (glibc ignores RPATH then)."""
    chosen = runpath if runpath else rpath
    return [os.path.normpath(expand_origin(e, origin)) for e in chosen]


Loader = tuple[tuple[str, ...], tuple[str, ...], str]
"""An object that loaded another: its (DT_RPATH, DT_RUNPATH, folder)."""


def loader_folders(
    rpath: tuple[str, ...],
    runpath: tuple[str, ...],
    origin: str,
    chain: tuple[Loader, ...] = (),
) -> list[str]:
    """The folders glibc's loader searches, in its order, for a ``DT_NEEDED`` library of
    an object (its RPATH, RUNPATH, folder) that ``chain`` loaded (the object that
    needed it first, then the one that needed that one, ...). Without a DT_RUNPATH of
    its own, the object's DT_RPATH, then the DT_RPATH of each object up the chain (an
    object's DT_RPATH counts only when it has no DT_RUNPATH); then its own DT_RUNPATH
    (``elf/dl-load.c``, ``_dl_map_object``). So a library bundled without an RPATH of
    its own (scipy's ``libgfortran``) still finds its neighbours through the RPATH of
    the extension module that loaded it."""
    folders: list[str] = []
    if not runpath:
        for own_rpath, own_runpath, folder in ((rpath, runpath, origin), *chain):
            if not own_runpath:
                folders += [os.path.normpath(expand_origin(e, folder)) for e in own_rpath]
    folders += [os.path.normpath(expand_origin(e, origin)) for e in runpath]
    return list(dict.fromkeys(folders))


@lru_cache(maxsize=1)
def host_loader() -> SystemLoader:
    return SystemLoader()
