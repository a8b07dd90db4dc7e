"""The terminal: how wide it is, whether to colour, what the user asked to hear (``-q``,
``-v``), and transient progress bars on standard error.

Only the typer CLI uses this (``depchain check``, the pre-commit hook, never does), and
rich is imported where it is used: a scan written to a file or a pipe never imports
``rich.progress``.

Colour is for people at a terminal: never into an output file (``-o``) or a regular
file, never when ``NO_COLOR`` is set to anything or ``--no-color`` is given, nor on a
``TERM=dumb`` terminal; ``FORCE_COLOR`` (any non-empty value) asks for it into a pipe
too (``depchain scan | less -R``), still never into a file.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

WIDTH = 80
"""Columns when the output is not a terminal (a file, a pipe) and ``COLUMNS`` is unset."""


@dataclass
class Settings:
    """What the global options asked for; set afresh by the CLI for each run."""

    quiet: bool = False
    """``-q``: findings only; no progress."""
    verbose: bool = False
    """``-v``: say on standard error what was read and what was skipped, and why."""
    no_color: bool = False
    """``--no-color``."""


SETTINGS = Settings()


def output_width(output: Path | str | None, stream: IO[str] | None = None) -> int:
    """The columns a table written to ``output`` (None or ``-``: ``stream``, standard
    output by default) may use: the terminal's width when it goes to one (``COLUMNS``
    first, as the shell sets it), ``COLUMNS`` when set, else 80."""
    if output is not None and str(output) != "-":
        return WIDTH
    stream = sys.stdout if stream is None else stream
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if not _isatty(stream):
        return WIDTH
    import shutil

    return shutil.get_terminal_size((WIDTH, 24)).columns


def color_wanted(output: Path | str | None = None, stream: IO[str] | None = None) -> bool:
    """Whether text written to ``output`` (None or ``-``: ``stream``, standard output by
    default) may carry colour: see the module's docstring."""
    if output is not None and str(output) != "-":
        return False
    if SETTINGS.no_color or os.environ.get("NO_COLOR", ""):
        return False
    stream = sys.stdout if stream is None else stream
    if _isatty(stream):
        return os.environ.get("TERM", "") != "dumb"
    if os.environ.get("FORCE_COLOR", ""):
        return _is_pipe(stream)
    return False


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _is_pipe(stream: IO[str]) -> bool:
    """A pipe or a socket, never a regular file (nor anything unknown)."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, ValueError, OSError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


SEVERITY_STYLES = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "unknown": "magenta",
    "info": "dim",
    "none": "dim",
}
"""The colour of each severity (trust gaps' and advisories')."""

_SGR = {"bold": "1", "dim": "2"}


def paint(text: str, style: str, color: bool) -> str:
    """``text`` in ``style`` (``bold`` or ``dim``) when ``color``: for the lines of a table
    streamed without rich. ``text`` must already be escaped (:func:`printable`)."""
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if color and text else text


def rich_console(
    file: IO[str], width: int | None, color: bool, terminal: bool | None = None
) -> Console:
    """A rich console that writes ``file``, coloured only when ``color`` (no escape code at
    all otherwise), that never reads markup, emoji codes or highlights, and that ignores
    the environment (``FORCE_COLOR``, ``COLUMNS``...: the caller decided). ``terminal``:
    whether ``file`` is one (for live displays; None: ask it)."""
    from rich.console import Console

    return Console(
        file=file,
        width=width,
        color_system="standard" if color else None,
        force_terminal=True if color else terminal,
        no_color=not color,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
        legacy_windows=False,
        _environ={},
    )


DELAY = 0.3
"""Seconds of work before a progress bar is shown for fewer than :data:`AT_ONCE` items
(a scan of three files shows none)."""
AT_ONCE = 10
"""Items (files, distributions, packages) from which a bar is shown at once."""


class Bars:
    """Transient rich progress bars on standard error, one for each kind of work
    (resolving files, asking the index, reading distributions, downloading), shown only
    when standard error is a terminal and not with ``-q``, and cleared once the work is
    done or output is written (:meth:`stop`)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._since = time.monotonic()

    def enabled(self) -> bool:
        stream = sys.stderr if self._stream is None else self._stream
        return not SETTINGS.quiet and _isatty(stream)

    def counter(self, what: str) -> Callable[[int, int, str], None] | None:
        """A ``progress(done, total, item)`` callback that shows ``what``, or None when no
        bar would be shown."""
        if not self.enabled():
            return None
        self._since = time.monotonic()

        def show(done: int, total: int, item: str) -> None:
            self.update(what, done, total, item)

        return show

    def downloads(self) -> Callable[[str, int, int | None], None] | None:
        """A ``progress(name, bytes_done, bytes_total)`` callback, or None."""
        if not self.enabled():
            return None
        self._since = time.monotonic()

        def show(name: str, done: int, total: int | None) -> None:
            self.update(f"{name} ", done, total, "", download=True)

        return show

    def update(
        self, what: str, done: int, total: int | None, item: str, download: bool = False
    ) -> None:
        if total is not None and done >= total:
            self._finish(what)
            return
        if (
            self._progress is None
            and (download or total is None or total < AT_ONCE)
            and time.monotonic() - self._since < DELAY
        ):
            return
        progress = self._start()
        new = what not in self._tasks
        if new:
            self._tasks[what] = progress.add_task(what, total=total, item="", bytes=download)
        progress.update(
            self._tasks[what], completed=done, total=total, item=_shown(item), refresh=new
        )

    def _start(self) -> Progress:
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                MofNCompleteColumn,
                Progress,
                ProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.text import Text

            class Count(ProgressColumn):
                """``12/188`` for files and packages, ``3.2/25.0 MB`` for downloads."""

                def __init__(self) -> None:
                    super().__init__()
                    self._count, self._bytes = MofNCompleteColumn(), DownloadColumn()

                def render(self, task: Any) -> Text:
                    return (self._bytes if task.fields.get("bytes") else self._count).render(task)

            stream = sys.stderr if self._stream is None else self._stream
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                Count(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[item]}", markup=False),
                console=rich_console(
                    stream, None, not SETTINGS.no_color and _colour_env(), terminal=True
                ),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.start()
        return self._progress

    def _finish(self, what: str) -> None:
        task = self._tasks.pop(what, None)
        if self._progress is not None and task is not None:
            self._progress.remove_task(task)
        if self._progress is not None and not self._tasks:
            self.stop()
        self._since = time.monotonic()

    def stop(self) -> None:
        """Clear every bar (before output is written, and at the end of a run)."""
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._tasks.clear()


def _colour_env() -> bool:
    return not os.environ.get("NO_COLOR", "") and os.environ.get("TERM", "") != "dumb"


def _shown(item: str) -> str:
    """A file or package name from the input, safe on a terminal and short."""
    from depchain.redaction import redact_text
    from depchain.render import printable

    text = printable(redact_text(item))
    return text if len(text) <= 60 else "..." + text[-57:]


BARS = Bars()
"""The run's progress bars (the CLI stops them before it writes output)."""
