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
        sys.exit(code)
    return code
