"""What a binary says about the well-known libraries it is or carries: version
strings in its read-only data (``OpenSSL 3.2.1 30 Jan 2024``, `` deflate 1.3.1
Copyright``, ``libpng version 1.6.43``), the value of a symbol that holds a version
(libxml2's ``xmlParserVersion``, libpq's ``PQlibVersion()``, SQLite's
``sqlite3_libversion_number()``), and, for GCC's run-time libraries, the compiler that
built them (``.comment``, the ``.gnu_debuglink`` name of a distribution's build).

Read with pyelftools from the sections alone, each read bounded
(:data:`MAX_RODATA` of ``.rodata``, :data:`MAX_SMALL` of the others); nothing is
loaded or run. A function's value is read only where its first instructions return a
constant (x86-64 and AArch64), the shape every compiler gives these one-line functions.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO

MAX_RODATA = 64 * 1024 * 1024
"""Bytes of ``.rodata`` and ``.data`` searched per file (the largest in the benchmark
environment, pyarrow's libarrow_flight, has 2.4 MB)."""
MAX_SMALL = 4 * 1024 * 1024
"""Bytes read of ``.dynstr``, ``.comment`` and ``.gnu_debuglink``."""
MAX_TEXT = 160
"""The longest text a mark keeps of what was found."""
MAX_MARKS = 32


@dataclass(frozen=True, slots=True)
class Mark:
    """A well-known library a binary says it is or contains."""

    library: str
    """Its key in :data:`depchain.native.libraries.BY_KEY`."""
    version: str | None
    """Its release, where what was found says it."""
    text: str
    """What was found, as found (printable, at most :data:`MAX_TEXT` characters):
    ``OpenSSL 3.5.9 29 Sep 2026``, ``PQlibVersion() returns 180006``."""


_MONTH = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_PATTERNS: tuple[tuple[str, bytes], ...] = (
    # OPENSSL_VERSION_TEXT: "OpenSSL 3.0.13 30 Jan 2024", "OpenSSL 1.1.1w  11 Sep 2023"
    (
        "openssl",
        rb"OpenSSL (\d{1,2}\.\d{1,2}\.\d{1,3}[a-z]{0,2})(?:-[A-Za-z0-9.]{1,16})? {1,2}"
        rb"\d{1,2} " + _MONTH + rb" \d{4}",
    ),
    ("boringssl", rb"OpenSSL \d\.\d\.\d \(compatible; BoringSSL\)()"),
    ("boringssl", rb"/boringssl[A-Za-z0-9_-]{0,24}/(?:src/)?(?:crypto|ssl)/()"),
    ("libressl", rb"LibreSSL (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    # deflate_copyright and inflate_copyright
    ("zlib", rb" (?:de|in)flate (\d\.\d{1,2}(?:\.\d{1,2}){0,2}) Copyright 1995-\d{4}"),
    # zlib-ng built as zlib's replacement: zlibVersion() is zlib's API version with a
    # suffix ("1.3.1.zlib-ng"), not zlib-ng's own release
    ("zlib-ng", rb"\x00\d\.\d{1,2}\.\d{1,2}(?:\.\d{1,2})?\.zlib-ng\x00()"),
    ("openblas", rb"OpenBLAS (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    ("libjpeg-turbo", rb"libjpeg-turbo version (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    ("libpng", rb"libpng version (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    ("libtiff", rb"LIBTIFF, Version (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    ("krb5", rb"KRB5_BRAND: krb5-(\d{1,2}\.\d{1,2}(?:\.\d{1,3})?)-"),
    ("hdf5", rb"HDF5 library version: (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    (
        "glibc",
        rb"GNU C Library \([^)\x00]{0,80}\) (?:stable|development) release version "
        rb"(\d\.\d{1,2}(?:\.\d{1,2})?)",
    ),
    ("curl", rb"CLIENT libcurl (\d{1,2}\.\d{1,2}\.\d{1,3})"),
    ("curl", rb"\x00libcurl/(\d{1,2}\.\d{1,2}\.\d{1,3})\x00"),
    ("libxml2", rb"program compiled against libxml %d using libxml %d()"),
    # a vcpkg build's source paths: ".../buildtrees/libxml2/src/v2.15.4-af70ac4ff8.clean/"
    (
        "vcpkg",
        rb"/buildtrees/([a-z0-9-]{2,24})/src/v?(\d{1,3}(?:\.\d{1,3}){1,3})-[0-9a-f]+\.clean/",
    ),
)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[bytes]], ...]:
    """The patterns, compiled when first needed (a warm scan reads no file)."""
    return tuple((key, re.compile(pattern)) for key, pattern in _PATTERNS)


_ANCHORS: tuple[tuple[bytes, tuple[str, ...]], ...] = (
    (b"OpenSSL ", ("openssl", "boringssl")),
    (b"BoringSSL", ("boringssl",)),
    (b"/boringssl", ("boringssl",)),
    (b"LibreSSL ", ("libressl",)),
    (b"flate ", ("zlib",)),
    (b".zlib-ng\x00", ("zlib-ng",)),
    (b"OpenBLAS ", ("openblas",)),
    (b"libjpeg-turbo version", ("libjpeg-turbo",)),
    (b"libpng version", ("libpng",)),
    (b"LIBTIFF, Version", ("libtiff",)),
    (b"KRB5_BRAND", ("krb5",)),
    (b"libcurl", ("curl",)),
    (b"compiled against libxml", ("libxml2",)),
    (b"/buildtrees/", ("vcpkg",)),
    (b"HDF5 library version", ("hdf5",)),
    (b"GNU C Library", ("glibc",)),
)
"""Literal parts of the patterns above: found with ``bytes.find`` (a regular expression
that looks for any of them is ten times slower), the patterns tried only there."""
MAX_HITS = 512
"""Places looked at per anchor and section (an error message naming OpenSSL, repeated)."""

_SYMBOLS = {
    # name: (library, how its value is read)
    b"xmlParserVersion": ("libxml2", "string-pointer"),
    b"xsltEngineVersion": ("libxslt", "string-pointer"),
    b"PQlibVersion": ("postgresql", "int-function"),
    b"sqlite3_libversion_number": ("sqlite", "int-function"),
    b"ffi_get_version": ("libffi", "string-function"),
    b"sodium_version_string": ("libsodium", "string-function"),
}
_GCC_RUNTIME = re.compile(r"^lib(gfortran|quadmath|gomp|stdc\+\+|gcc_s|atomic)[-.]")
_GCC_KEYS = {
    "gfortran": "libgfortran",
    "quadmath": "libquadmath",
    "gomp": "libgomp",
    "stdc++": "libstdc++",
    "gcc_s": "libgcc",
    "atomic": "libgcc",
}
_DEBUGLINK = re.compile(rb"^lib[a-z_+]+\.so[0-9.]*-(\d{1,2}\.\d{1,2}\.\d{1,2})-")
_GCC_COMMENT = re.compile(rb"GCC: \([^)]{1,80}\) (\d{1,2}\.\d{1,2}\.\d{1,2})")


def _order(mark: Mark) -> tuple[str, str, str]:
    return (mark.library, mark.version or "", mark.text)


def _printable(raw: bytes) -> str:
    text = raw.decode("latin-1")
    return "".join(c if " " <= c <= "~" else " " for c in text).strip()[:MAX_TEXT]


def _vcpkg_key(port: str) -> str | None:
    from depchain.native.libraries import by_name

    lib = by_name(port)
    return lib.key if lib is not None else None


def scan_strings(data: bytes) -> list[Mark]:
    """Marks in read-only data: the version strings of the libraries above."""
    found: dict[tuple[str, str | None], Mark] = {}
    starts: dict[str, set[int]] = {}
    for anchor, keys in _ANCHORS:
        at = data.find(anchor)
        hits = 0
        while at >= 0 and hits < MAX_HITS:
            for key in keys:
                starts.setdefault(key, set()).add(max(0, at - 64))
            hits += 1
            at = data.find(anchor, at + 1)
    for key, pattern in _compiled() if starts else ():
        for start in sorted(starts.get(key, ())):
            window = data[start : start + 256]
            for m in pattern.finditer(window):
                library, version = key, m.group(1) or None
                if key == "vcpkg":
                    port_key = _vcpkg_key(m.group(1).decode("ascii"))
                    if port_key is None:
                        continue
                    library, version = port_key, m.group(2)
                text = _printable(m.group(0))
                ver = version.decode("ascii") if isinstance(version, bytes) else version
                found.setdefault((library, ver), Mark(library, ver, text))
    if b"SQLite format 3\x00" in data:
        found.update({(m.library, m.version): m for m in _sqlite(data)})
    return sorted(found.values(), key=_order)[:MAX_MARKS]


_SQLITE_VERSION = re.compile(rb"\x00(3\.\d{1,2}\.\d{1,2})\x00")


def _sqlite(data: bytes) -> list[Mark]:
    """SQLite writes ``SQLite format 3`` at the head of every database it makes; its
    version (``sqlite3_version``) is a string of its own, taken when it is the only
    ``3.x.y`` in the data."""
    versions = {v.decode() for v in _SQLITE_VERSION.findall(data)}
    if len(versions) == 1:
        version = versions.pop()
        return [Mark("sqlite", version, f"SQLite format 3; {version!r}")]
    return [Mark("sqlite", None, "SQLite format 3")]


def _dotted(number: int, library: str) -> str | None:
    """A version written as one number, as each library writes it."""
    if library == "postgresql":  # PG_VERSION_NUM: 180006 is 18.6, 90624 is 9.6.24
        if number >= 100000:
            return f"{number // 10000}.{number % 10000}"
        if number >= 80000:
            return f"{number // 10000}.{number // 100 % 100}.{number % 100}"
        return None
    if library == "sqlite":  # SQLITE_VERSION_NUMBER: 3040001 is 3.40.1
        if 3_000_000 <= number < 4_000_000:
            return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"
        return None
    return None


def _dotted_text(text: str, library: str) -> str | None:
    """libxml2's ``21406`` is 2.14.6, libxslt's ``10143`` 1.1.43; libffi writes dots."""
    if library in {"libxml2", "libxslt"} and text.isdigit() and len(text) == 5:
        number = int(text)
        return f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    if library in {"libffi", "libsodium"} and re.fullmatch(r"\d{1,2}\.\d{1,2}(\.\d{1,2})?", text):
        return text
    return None


class _Image:
    """Reads of an ELF file by virtual address, bounded."""

    def __init__(self, elf: Any, stream: BinaryIO) -> None:
        self.elf = elf
        self.stream = stream
        self.little = bool(elf.little_endian)
        self.wide = int(elf.elfclass) == 64
        self._loads: list[tuple[int, int, int]] | None = None

    def read(self, address: int, size: int) -> bytes | None:
        if self._loads is None:
            self._loads = [
                (int(s["p_vaddr"]), int(s["p_filesz"]), int(s["p_offset"]))
                for s in self.elf.iter_segments("PT_LOAD")
            ]
        for start, length, offset in self._loads:
            if start <= address and address + size <= start + length:
                self.stream.seek(offset + address - start)
                data: bytes = self.stream.read(size)
                return data if len(data) == size else None
        return None

    def cstring(self, address: int, limit: int = 32) -> str | None:
        for size in (limit, 8):
            raw = self.read(address, size)
            if raw is not None:
                end = raw.find(b"\0")
                return raw[:end].decode("ascii", "replace") if end > 0 else None
        return None

    def pointer(self, address: int) -> int | None:
        """The address stored at ``address``: as written, or where the linker left it
        to a relative relocation (AArch64's default), that relocation's addend."""
        raw = self.read(address, 8 if self.wide else 4)
        if raw is None:
            return None
        value = int.from_bytes(raw, "little" if self.little else "big")
        return value or self._relocated(address)

    def _relocated(self, address: int) -> int | None:
        section = self.elf.get_section_by_name(".rela.dyn")
        if section is None or not self.wide or section["sh_size"] > MAX_RODATA:
            return None
        self.stream.seek(int(section["sh_offset"]))
        data = self.stream.read(int(section["sh_size"]))
        entry = struct.Struct("<QQq" if self.little else ">QQq")
        for offset, _info, addend in entry.iter_unpack(data[: len(data) // 24 * 24]):
            if offset == address:
                return int(addend)
        return None


def _returned(image: _Image, address: int, machine: str) -> tuple[str, int] | None:
    """What the function at ``address`` returns when its first instructions return a
    constant: ("int", value) or ("address", where)."""
    code = image.read(address, 24)
    if code is None:
        return None
    if machine == "EM_X86_64":
        at = 4 if code.startswith(b"\xf3\x0f\x1e\xfa") else 0  # endbr64
        if code[at] == 0xB8 and code[at + 5] == 0xC3:  # mov eax, imm32; ret
            return "int", int.from_bytes(code[at + 1 : at + 5], "little")
        if code[at : at + 3] == b"\x48\x8d\x05" and code[at + 7] == 0xC3:  # lea rax,[rip+d]
            disp = int.from_bytes(code[at + 3 : at + 7], "little", signed=True)
            return "address", address + at + 7 + disp
        return None
    if machine == "EM_AARCH64":
        words = list(struct.unpack("<6I", code))
        if words and words[0] in (0xD503245F, 0xD503233F):  # bti c, paciasp
            words = words[1:]
        ret = 0xD65F03C0
        # movz w0/x0, #imm{, lsl 16}; [movk w0/x0, #imm, lsl 16]; ret
        if (words[0] & 0x7F80001F) == 0x52800000:
            value = ((words[0] >> 5) & 0xFFFF) << (16 * ((words[0] >> 21) & 3))
            if (words[1] & 0x7F80001F) == 0x72800000 and words[2] == ret:
                value |= ((words[1] >> 5) & 0xFFFF) << (16 * ((words[1] >> 21) & 3))
                return "int", value
            if words[1] == ret:
                return "int", value
        # adrp x0, page; add x0, x0, #imm; ret
        if (
            (words[0] & 0x9F00001F) == 0x90000000
            and (words[1] & 0xFFC003FF) == 0x91000000
            and words[2] == ret
        ):
            immlo, immhi = (words[0] >> 29) & 3, (words[0] >> 5) & 0x7FFFF
            page = ((immhi << 2) | immlo) << 12
            if page & (1 << 32):
                page -= 1 << 33
            base = (address + 4 * (len(code) // 4 - len(words))) & ~0xFFF
            return "address", base + page + ((words[1] >> 10) & 0xFFF)
    return None


def _symbol_marks(elf: Any, image: _Image, dynstr: bytes) -> Iterator[Mark]:
    wanted = [name for name in _SYMBOLS if name + b"\x00" in dynstr]  # (tail-merged too)
    if not wanted:
        return
    table = elf.get_section_by_name(".gnu.hash") or elf.get_section_by_name(".hash")
    if table is None or not hasattr(table, "get_symbol"):
        return
    machine = str(elf["e_machine"])
    for name in wanted:
        library, how = _SYMBOLS[name]
        symbol = table.get_symbol(name.decode("ascii"))
        if symbol is None or symbol["st_shndx"] == "SHN_UNDEF" or not symbol["st_value"]:
            continue
        address = int(symbol["st_value"])
        version = shown = None
        if how == "string-pointer":
            target = image.pointer(address)
            shown = image.cstring(target) if target else None
            version = _dotted_text(shown, library) if shown else None
        else:
            returned = _returned(image, address, machine)
            if returned is None:
                continue
            kind, value = returned
            if how == "int-function" and kind == "int":
                shown, version = str(value), _dotted(value, library)
            elif how == "string-function" and kind == "address":
                shown = image.cstring(value)
                version = _dotted_text(shown, library) if shown else None
        if version is not None:
            what = (
                f"{name.decode()} = {shown!r}"
                if how == "string-pointer"
                else (f"{name.decode()}() returns {shown}")
            )
            yield Mark(library, version, what[:MAX_TEXT])


SHT_NOBITS = 8
SHF_COMPRESSED = 0x800
Sections = dict[str, tuple[int, int, int, int]]
"""Section name → (type, flags, file offset, size): the first section of each name."""


def section_table(elf: Any, stream: BinaryIO) -> Sections:
    """The section headers, read in one go with :mod:`struct` (pyelftools builds an
    object per section to find one by name: most of the time of reading a file)."""
    header = elf.header
    shoff, entsize = int(header["e_shoff"]), int(header["e_shentsize"])
    count, names_at = int(header["e_shnum"]), int(header["e_shstrndx"])
    wide, little = int(elf.elfclass) == 64, bool(elf.little_endian)
    layout = struct.Struct(("<" if little else ">") + ("IIQQQQIIQQ" if wide else "10I"))
    if not shoff or not count or entsize < layout.size or names_at >= count:
        return {}  # none, or extended numbering (more than 65279 sections): no marks
    stream.seek(shoff)
    raw = stream.read(count * entsize)
    rows = [layout.unpack_from(raw, i * entsize) for i in range(len(raw) // entsize)]
    if names_at >= len(rows):
        return {}
    _, _, _, _, names_offset, names_size, *_ = rows[names_at]
    stream.seek(names_offset)
    names = stream.read(min(names_size, MAX_SMALL))
    table: Sections = {}
    for name_at, kind, flags, _addr, offset, size, *_ in rows:
        end = names.find(b"\0", name_at)
        if end < 0:
            continue
        name = names[name_at:end].decode("latin-1")
        table.setdefault(name, (kind, flags, offset, size))
    return table


def section_bytes(stream: BinaryIO, sections: Sections, name: str, limit: int) -> bytes | None:
    """The bytes of section ``name`` (at most ``limit``); None where there is none, it
    takes no room in the file, or it is compressed (ELF section compression)."""
    found = sections.get(name)
    if found is None or found[0] == SHT_NOBITS or found[1] & SHF_COMPRESSED:
        return None
    stream.seek(found[2])
    data: bytes = stream.read(min(found[3], limit))
    return data


def _section_bytes(elf: Any, stream: BinaryIO, name: str, limit: int) -> bytes:
    return section_bytes(stream, section_table(elf, stream), name, limit) or b""


def _gcc_marks(stream: BinaryIO, sections: Sections, soname: str) -> Iterator[Mark]:
    """GCC's run-time libraries are GCC's release: the distribution build their debug
    link names, else the newest compiler ``.comment`` names."""
    m = _GCC_RUNTIME.match(soname)
    if m is None:
        return
    key = _GCC_KEYS[m.group(1)]
    link = section_bytes(stream, sections, ".gnu_debuglink", 4096) or b""
    found = _DEBUGLINK.match(link)
    if found is not None:
        yield Mark(key, found.group(1).decode(), _printable(link.split(b"\0")[0]))
        return
    comment = section_bytes(stream, sections, ".comment", MAX_SMALL) or b""
    versions = [(tuple(int(p) for p in v.split(b".")), v) for v in _GCC_COMMENT.findall(comment)]
    if versions:
        newest = max(versions)[1].decode()
        yield Mark(key, newest, f"built by GCC {newest} (.comment)")


def read_marks(
    elf: Any, stream: BinaryIO, soname: str | None, sections: Sections | None = None
) -> tuple[Mark, ...]:
    """Every mark of the ELF file open as ``elf`` (a pyelftools ``ELFFile`` on
    ``stream``); ``sections``: its :func:`section_table`, if already read."""
    if sections is None:
        sections = section_table(elf, stream)
    marks: set[Mark] = set()
    remaining = MAX_RODATA
    for name in sections:
        # constants, and the few version strings written as arrays (krb5's KRB5_BRAND)
        if remaining <= 0 or not (name in {".rodata", ".data"} or name.startswith(".rodata.")):
            continue
        data = section_bytes(stream, sections, name, remaining)
        if data:
            remaining -= len(data)
            marks.update(scan_strings(data))
    dynstr = section_bytes(stream, sections, ".dynstr", MAX_SMALL)
    if dynstr:
        image = _Image(elf, stream)
        marks.update(_symbol_marks(elf, image, dynstr))
        if b"\x00krb5int_" in dynstr:  # krb5's own libraries call one another's
            marks.add(Mark("krb5", None, "uses krb5int_* symbols"))
    if soname:
        marks.update(_gcc_marks(stream, sections, soname))
    return tuple(sorted(marks, key=_order)[:MAX_MARKS])
