"""The ``depchain`` command. ``depchain check``, the pre-commit hook, goes to its own
small command line (:mod:`depchain.hook`) before anything heavy is imported: typer and
what it pulls in cost more than the whole check of an unchanged repository. Every
other command goes to the typer CLI (:mod:`depchain.cli`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        from depchain.hook import run

        code = run(args[1:])
    else:
        from depchain.cli import main as cli

        code = cli(args)
    if argv is None:
        _leave(code)
    return code


def _leave(code: int) -> None:
    """End the process now that everything is written: what remains is the
    interpreter's teardown of every object a large scan made (a tenth of a second for an
    environment of 188 distributions), and nothing of depchain's waits on it: output
    files are renamed into place, caches committed and closed, thread pools joined
    before this point. Standard output and error are flushed first; a flush that fails
    is exit 3, as any failed write is."""
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 3
    os._exit(code)
