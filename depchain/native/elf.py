"""What an ELF file says about its links: DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH,
the sections where build tools record what was linked in statically (``.dep-v0``
from cargo-auditable, ``.go.buildinfo`` from the Go linker), and the version strings
of well-known libraries it is or carries (:mod:`depchain.native.marks`).

Read with pyelftools; nothing is loaded or run. Mach-O and PE files are recognised by
their magic number and reported as not analysed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import BinaryIO

from depchain.native.marks import Mark, Sections, read_marks, section_bytes, section_table

ELF_MAGIC = b"\x7fELF"
_MACHO_MAGICS = {
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xbe\xba\xfe\xca",
}


class BinaryFormat(str, enum.Enum):
    ELF = "elf"
    MACHO = "mach-o"
    PE = "pe"
    OTHER = "other"


def sniff(head: bytes) -> BinaryFormat:
    """The binary format from a file's first bytes."""
    if head.startswith(ELF_MAGIC):
        return BinaryFormat.ELF
    if head[:4] in _MACHO_MAGICS:
        return BinaryFormat.MACHO
    if head.startswith(b"MZ"):
        return BinaryFormat.PE
    return BinaryFormat.OTHER


class ElfError(ValueError):
    """The file is not a readable ELF object; the message says why in one line."""


@dataclass(frozen=True)
class ElfInfo:
    machine: str
    """``EM_X86_64``, ``EM_AARCH64``, ... (pyelftools' names)."""
    elfclass: int
    """32 or 64."""
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    auditable: bytes | None = None
    """The raw ``.dep-v0`` section (zlib-compressed JSON), if present."""
    go_buildinfo: bytes | None = None
    """The raw ``.go.buildinfo`` section, if present."""
    marks: tuple[Mark, ...] = ()
    """Well-known libraries the file says it is or carries, and their versions."""


@dataclass(frozen=True)
class Reading:
    """What one file's bytes say: its format, and for an ELF file what :func:`read_elf`
    read from it or why it could not (``error``, one line)."""

    format: BinaryFormat
    info: ElfInfo | None = None
    error: str | None = None


def read_binary(stream: BinaryIO) -> Reading:
    """Sniff a file and read it when it is ELF; a corrupt ELF file is a
    :class:`Reading` with an ``error``, not an exception (an unreadable one still raises
    ``OSError``)."""
    kind = sniff(stream.read(4))
    if kind is not BinaryFormat.ELF:
        return Reading(kind)
    try:
        return Reading(kind, read_elf(stream))
    except ElfError as exc:
        return Reading(kind, error=str(exc))


def _split(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(":") if p)


def read_elf(stream: BinaryIO) -> ElfInfo:
    """Parse the dynamic segment and the static-link metadata sections of an ELF file.

    ``stream`` is a seekable binary file; only the headers and the few parts named
    above are read, so a 30 MB library costs what a 30 kB one does.
    """
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection, DynamicSegment
    from elftools.elf.elffile import ELFFile

    stream.seek(0)
    if not stream.read(4).startswith(ELF_MAGIC):
        raise ElfError("not an ELF file")
    stream.seek(0)
    try:
        elf = ELFFile(stream)
        needed: list[str] = []
        rpath: tuple[str, ...] = ()
        runpath: tuple[str, ...] = ()
        soname = None
        dynamic: DynamicSegment | DynamicSection | None = None
        for segment in elf.iter_segments("PT_DYNAMIC"):  # what the loader itself reads
            if isinstance(segment, DynamicSegment):
                dynamic = segment
                break
        if dynamic is None:
            found = elf.get_section_by_name(".dynamic")
            dynamic = found if isinstance(found, DynamicSection) else None
        if dynamic is not None:
            for tag in dynamic.iter_tags():
                kind = tag.entry.d_tag
                # pyelftools sets the string of each tag as an attribute of its name
                if kind == "DT_NEEDED":
                    needed.append(str(getattr(tag, "needed")))  # noqa: B009
                elif kind == "DT_SONAME":
                    soname = str(getattr(tag, "soname"))  # noqa: B009
                elif kind == "DT_RPATH":
                    rpath = _split(str(getattr(tag, "rpath")))  # noqa: B009
                elif kind == "DT_RUNPATH":
                    runpath = _split(str(getattr(tag, "runpath")))  # noqa: B009
        sections = section_table(elf, stream)
        auditable = _section(elf, stream, sections, ".dep-v0")
        go_buildinfo = _section(elf, stream, sections, ".go.buildinfo")
        marks = _marks(elf, stream, soname, sections)
        return ElfInfo(
            machine=str(elf["e_machine"]),
            elfclass=int(elf.elfclass),
            soname=soname,
            needed=tuple(needed),
            rpath=rpath,
            runpath=runpath,
            auditable=auditable,
            go_buildinfo=go_buildinfo,
            marks=marks,
        )
    except ElfError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, EOFError) as exc:
        raise ElfError(f"corrupt or truncated ELF ({_first_line(exc)})") from None
    except Exception as exc:  # construct's StreamError and friends: still bad input
        raise ElfError(
            f"corrupt or truncated ELF ({type(exc).__name__}: {_first_line(exc)})"
        ) from None


def _marks(
    elf: object, stream: BinaryIO, soname: str | None, sections: Sections
) -> tuple[Mark, ...]:
    """The file's marks; none where the sections they are read from are malformed (the
    links read above still hold)."""
    try:
        return read_marks(elf, stream, soname, sections)
    except Exception:  # pyelftools' and construct's errors on a malformed section
        return ()


def _section(elf: object, stream: BinaryIO, sections: Sections, name: str) -> bytes | None:
    if name not in sections:
        return None
    if sections[name][1] & 0x800:  # SHF_COMPRESSED: pyelftools inflates it
        section = elf.get_section_by_name(name)  # type: ignore[attr-defined]
        return None if section is None else bytes(section.data())
    return section_bytes(stream, sections, name, 1 << 40)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__
