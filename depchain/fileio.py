"""Bounded, safe reading of input files and atomic writing of output files."""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from depchain.errors import InputFileError, OutputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MAX_FILE_SIZE = 32 * 1024 * 1024
"""The largest input file read, in bytes. Real lockfiles are well under 10 MiB."""


def read_bytes(path: Path, display: str, max_size: int = MAX_FILE_SIZE) -> bytes:
    """The file's bytes, or an :class:`InputFileError` saying in one line what is wrong."""
    try:
        # non-blocking: opening a FIFO named like a manifest must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InputFileError(display, "not a regular file (a FIFO, device or socket)")
            size = info.st_size
            if size > max_size:
                raise InputFileError(
                    display, f"file is too large ({_mib(size)}; the limit is {_mib(max_size)})"
                )
            data = handle.read(max_size + 1)
    except InputFileError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputFileError(display, "symbolic link loop") from None
        if exc.errno == errno.EISDIR:
            raise InputFileError(display, "is a directory, not a file") from None
        raise InputFileError(display, exc.strerror or str(exc)) from None
    if len(data) > max_size:  # grew while we read it, or a special file
        raise InputFileError(display, f"file is too large (over {_mib(max_size)})")
    return data


def read_text(path: Path, display: str, max_size: int = MAX_FILE_SIZE) -> str:
    """The file as UTF-8 text (a leading BOM is dropped)."""
    data = read_bytes(path, display, max_size)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(
            display, f"not valid UTF-8 (line {line}, byte offset {exc.start})"
        ) from None
    return text.removeprefix("\ufeff")


MAX_DIGITS = 4000
"""Digits of an integer that a manifest may hold: Python refuses to convert more than
4300 (their conversion costs quadratic time), and no version, port or count needs them."""
_LONG_NUMBER = re.compile(r"\d[\d_]{" + str(MAX_DIGITS) + ",}")


def parse_toml(text: str, display: str) -> dict[str, Any]:
    """TOML, where an integer of any size is read (one of more than
    :data:`MAX_DIGITS` digits becomes the string of its first digits and ``...``: no
    manifest means it, and the rest of the file is still read)."""
    if len(text) > MAX_DIGITS and _LONG_NUMBER.search(text):
        text = _LONG_NUMBER.sub(lambda m: f'"{m.group()[:20]}..."', text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(display, f"invalid TOML: {exc}") from None
    except (RecursionError, MemoryError):
        raise InputFileError(display, "invalid TOML: nested too deeply") from None
    except ValueError as exc:  # a number tomllib cannot convert
        raise InputFileError(display, f"invalid TOML: {str(exc)[:80]}") from None


def _json_int(digits: str) -> int | str:
    return int(digits) if len(digits) <= MAX_DIGITS else digits[:20] + "..."


def parse_json(text: str | bytes, display: str) -> Any:
    """JSON, with its problems as one :class:`InputFileError` naming the line and
    column (never the text), and integers of any size read (see :func:`parse_toml`)."""
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:  # its message quotes no input
        raise InputFileError(
            display, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (RecursionError, MemoryError):
        raise InputFileError(display, "invalid JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(display, f"invalid JSON: {str(exc)[:80]}") from None


def load_toml(path: Path, display: str) -> dict[str, Any]:
    return parse_toml(read_text(path, display), display)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


TEMP_PREFIX = ".depchain-tmp-"
"""How every temporary output file's name begins: ``.depchain-tmp-<name>.<random>.tmp``,
beside the file it becomes."""
_TEMP_NAME = re.compile(r"\.depchain-tmp-.*\.[0-9a-f]{8}\.tmp", re.DOTALL)
STALE_AFTER = 10 * 60
"""Seconds after which a temporary output file no run is still writing (its process was
killed) is removed by the next run that writes into the same folder."""
_NEW_FILE_MODE = 0o666  # the kernel applies the umask (and a folder's default ACL)
_TEMP_ATTEMPTS = 100


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of depchain's own temporary output files."""
    return _TEMP_NAME.fullmatch(name) is not None


def remove_stale_temps(folder: Path, max_age: float = STALE_AFTER) -> list[str]:
    """Remove depchain's temporary output files in ``folder`` last written more than
    ``max_age`` seconds ago (left by a run that was killed); the names removed.

    Only regular files whose names match :data:`TEMP_PREFIX`'s pattern, and owned by this
    user, are touched; anything else (a link, a folder, another program's file) is left
    alone, and no failure is raised: this is housekeeping."""
    removed: list[str] = []
    now = time.time()
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    try:
        entries = os.scandir(folder)
    except OSError:
        return removed
    with entries:
        for entry in entries:
            if not entry.name.startswith(TEMP_PREFIX) or not is_temp_name(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode) or now - info.st_mtime <= max_age:
                    continue
                if uid is not None and info.st_uid != uid:
                    continue
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(entry.name)
    return removed


def _create_temp(folder: Path, name: str, mode: int) -> tuple[int, str]:
    """A new file in ``folder`` named like :data:`TEMP_PREFIX`, opened for writing and
    created with ``mode`` (less the umask); its descriptor and path."""
    stem = name[:100]  # the whole name stays well within NAME_MAX
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    for _ in range(_TEMP_ATTEMPTS):
        path = os.path.join(folder, f"{TEMP_PREFIX}{stem}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(path, flags, mode), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name")


@contextmanager
def atomic_writer(target: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write ``target`` through a temporary file in the same folder, renamed on success.

    The file written keeps the permissions of the one it replaces (a 0600 file stays
    0600); a new one gets 0666 less the umask, as any program's would. The temporary file
    is named ``.depchain-tmp-<name>.<random>.tmp``; it is removed on any error, and those
    left by a killed run are removed by the next write into the folder (see
    :func:`remove_stale_temps`). On any error ``target`` is left as it was. A
    symbolic link is written through (its destination is replaced, the link stays); a
    target that is not a regular file (``/dev/stdout``, a FIFO) is written directly, as
    nothing can be renamed over it. Failures are :class:`OutputError` (one line)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name")
    # /dev/stdout and /proc/self/fd/N lead to whatever the descriptor is (a pipe, or a
    # file the shell opened): written through, never renamed over
    special = target.is_absolute() and target.parts[1:2] in (("dev",), ("proc",))
    if target.is_symlink() and not special:
        try:
            target = target.resolve(strict=False)
        except (OSError, RuntimeError) as exc:
            raise OutputError(f"{target}: cannot write: {exc}") from None
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else "\n"
    descriptor = _descriptor(target) if special else None
    if descriptor is not None:
        # the process's own descriptor, not the path opened again: /dev/stdout redirected
        # to a file must go on at the shell's offset, not start over at the first byte
        try:
            with os.fdopen(os.dup(descriptor), mode, encoding=encoding, newline=newline) as direct:
                yield direct
        except OSError as exc:
            raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return
    try:
        existing: os.stat_result | None = os.stat(target)
    except OSError:
        existing = None
    if special or (existing is not None and not stat.S_ISREG(existing.st_mode)):
        try:
            with open(target, mode, encoding=encoding, newline=newline) as direct:
                yield direct
        except OSError as exc:
            raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temps(folder)
    try:
        # a file replaced: created private, then given the old file's permissions before
        # a byte is written; a new file: the umask decides, as for any other program
        fd, tmp = _create_temp(folder, target.name, _NEW_FILE_MODE if existing is None else 0o600)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write here: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            if existing is not None:
                _keep_owner_and_mode(handle.fileno(), existing)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _keep_owner_and_mode(fd: int, existing: os.stat_result) -> None:
    """Give the temporary file behind ``fd`` the replaced file's group and owner (where
    this user may: root, or a group it is in) and its permission bits (never set-id)."""
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != _owner(fd):
        with suppress(OSError):
            os.fchown(fd, existing.st_uid, existing.st_gid)
        with suppress(OSError):
            os.fchown(fd, -1, existing.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)


def _owner(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_uid, info.st_gid


def _descriptor(target: Path) -> int | None:
    """The descriptor a /dev/stdout-like path names: ``/dev/stdout``, ``/dev/stderr``,
    ``/dev/fd/N``, ``/proc/self/fd/N``; None for any other path."""
    text = target.as_posix()
    named = {"/dev/stdout": 1, "/dev/stderr": 2, "/dev/stdin": 0}
    if text in named:
        return named[text]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        number = text.removeprefix(prefix)
        if text.startswith(prefix) and number.isdigit():
            return int(number)
    return None


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_writer(target) as handle:
        handle.write(text)
