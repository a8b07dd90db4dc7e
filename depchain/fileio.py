"""Bounded, safe reading of input files and atomic writing of output files."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
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


def parse_toml(text: str, display: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(display, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise InputFileError(display, "invalid TOML: nested too deeply") from None


def load_toml(path: Path, display: str) -> dict[str, Any]:
    return parse_toml(read_text(path, display), display)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


@contextmanager
def atomic_writer(target: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write ``target`` through a temporary file in the same folder, renamed on success.

    On any error the temporary file is removed and ``target`` is left as it was. A
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
    if special or (target.exists() and not target.is_file()):
        try:
            with open(target, mode, encoding=encoding, newline=newline) as direct:
                yield direct
        except OSError as exc:
            raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write here: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
