"""The commits a git index pins for submodules (gitlink entries, mode 160000), read
from ``.git/index`` as a file; git is never run. Index versions 2 and 3 are read;
version 4 (prefix-compressed paths) is reported as not read."""

from __future__ import annotations

import struct
from pathlib import Path

_GITLINK = 0o160000


class GitIndexError(ValueError):
    """The index cannot be read; the message says why in one line."""


def gitlinks(index: bytes) -> dict[str, str]:
    """{path: commit} for every submodule entry of a git index."""
    if len(index) < 12 or index[:4] != b"DIRC":
        raise GitIndexError("not a git index")
    version, count = struct.unpack(">II", index[4:12])
    if version not in (2, 3):
        raise GitIndexError(f"git index version {version} is not read (2 and 3 are)")
    found: dict[str, str] = {}
    at = 12
    for _ in range(count):
        if at + 62 > len(index):
            raise GitIndexError("git index truncated")
        mode = struct.unpack(">I", index[at + 24 : at + 28])[0]
        sha = index[at + 40 : at + 60].hex()
        flags = struct.unpack(">H", index[at + 60 : at + 62])[0]
        head = 62 + (2 if version == 3 and flags & 0x4000 else 0)
        end = index.find(b"\0", at + head)
        if end < 0:
            raise GitIndexError("git index truncated")
        path = index[at + head : end].decode("utf-8", "replace")
        if mode == _GITLINK:
            found[path] = sha
        entry = end - at + 1
        at += (entry + 7) // 8 * 8  # entries are NUL-padded to a multiple of eight
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
