"""The commits a git index pins for submodules (gitlink entries, mode 160000), read
from ``.git/index`` as a file; git is never run. Index versions 2 and 3 are read;
version 4 (prefix-compressed paths) is reported as not read."""

from __future__ import annotations

import io
import struct
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

_GITLINK = 0o160000


class GitIndexError(ValueError):
    """The index cannot be read; the message says why in one line."""


def gitlinks(
    index: bytes | BinaryIO, wanted: Collection[str] | None = None, max_bytes: int | None = None
) -> dict[str, str]:
    """{path: commit} for the submodule entries of a git index, read entry by entry
    from a file (or bytes): it stops as soon as every ``wanted`` path is found, and
    raises rather than read past ``max_bytes`` (an index of a huge monorepo is never
    read whole)."""
    stream = io.BytesIO(index) if isinstance(index, bytes) else index
    header = stream.read(12)
    if len(header) < 12 or header[:4] != b"DIRC":
        raise GitIndexError("not a git index")
    version, count = struct.unpack(">II", header[4:12])
    if version not in (2, 3):
        raise GitIndexError(f"git index version {version} is not read (2 and 3 are)")
    missing = set(wanted) if wanted is not None else None
    found: dict[str, str] = {}
    read = 12
    for _ in range(count):
        if missing is not None and not missing:
            break
        fixed = stream.read(62)
        if len(fixed) < 62:
            raise GitIndexError("git index truncated")
        mode = struct.unpack(">I", fixed[24:28])[0]
        flags = struct.unpack(">H", fixed[60:62])[0]
        head = 62
        if version == 3 and flags & 0x4000:
            if len(stream.read(2)) < 2:
                raise GitIndexError("git index truncated")
            head += 2
        length = flags & 0xFFF
        if length < 0xFFF:
            rest = stream.read((head + length + 8) // 8 * 8 - head)
            name = rest[:length]
            if len(rest) <= length or rest[length] != 0:
                raise GitIndexError("git index truncated or malformed")
        else:  # a name of 4095 bytes or more: up to its NUL, then the padding
            chunks = []
            while True:
                byte = stream.read(1)
                if not byte:
                    raise GitIndexError("git index truncated")
                if byte == b"\0":
                    break
                chunks.append(byte)
            name = b"".join(chunks)
            stream.read((head + len(name) + 8) // 8 * 8 - head - len(name) - 1)
        read += (head + len(name) + 8) // 8 * 8
        if max_bytes is not None and read > max_bytes:
            raise GitIndexError(
                f"git index larger than {max_bytes // (1024 * 1024)} MiB before every "
                "submodule was found; the rest not read"
            )
        if mode == _GITLINK:
            path = name.decode("utf-8", "replace")
            found[path] = fixed[40:60].hex()
            if missing is not None:
                missing.discard(path)
    return found


def git_dir(worktree: Path) -> Path | None:
    """The repository folder of a work tree: ``.git``, or where a ``.git`` file points."""
    dot = worktree / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text("utf-8", "replace").strip()
        if text.startswith("gitdir:"):
            target = (worktree / text[len("gitdir:") :].strip()).resolve()
            return target if target.is_dir() else None
    return None
