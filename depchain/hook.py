"""``depchain check``, the pre-commit hook: its own small command line, so that a commit
that changes nothing depchain reads costs a Python start and a few ``stat`` calls.

A check that passed leaves a stamp in the cache: the options, and the size and
modification time of every folder walked and every file read. The next check with the
same options, while none of them changed, passes at once. Anything else runs the check
(:func:`depchain.check.check`). Only the standard library is imported before that.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from depchain.check import Checked

STAMP_SCHEMA = 1
RACY_NS = 2_000_000_000
"""A file changed this close before a stamp was written may change again within the
same clock tick unseen: such a stamp is not trusted (git's "racy clean" rule)."""
SEVERITIES = ("info", "low", "medium", "high", "critical", "never")


def repository_root(start: Path) -> Path:
    """The work tree ``start`` is in (the nearest folder above with ``.git``), else
    ``start`` itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="depchain check",
        description="Fail only on a trust relationship or gap that the trust ledger "
        "(depchain-ledger.json) does not hold: new dependencies, new indexes, new gaps, "
        "owners that changed. With FILES (as pre-commit passes them), read only what "
        "they need; without, the whole repository. Offline unless --online. Prints "
        "nothing when everything is accepted.",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILES")
    from depchain import __version__

    parser.add_argument("-V", "--version", action="version", version=f"depchain {__version__}")
    parser.add_argument(
        "--online",
        action="store_true",
        help="Ask the package index (owners, provenance); by default only the cache.",
    )
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=None,
        help="Fail on what is new at or above this severity (default: low with a "
        "ledger, so every new relationship; without one, the policy's fail-on, else high).",
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="Where answers are cached.")
    parser.add_argument(
        "--index-timeout", type=float, default=20.0, help="Seconds for all index requests."
    )
    parser.add_argument(
        "--max-file-size", type=int, default=32, help="Largest input file read, in MiB."
    )
    parser.add_argument(
        "--no-stamp", action="store_true", help="Check even when nothing changed since a pass."
    )
    return parser


def _cache_dir(explicit: Path | None) -> Path:
    from depchain.enrich.cache import cache_dir

    return cache_dir(explicit)


def _stamp_path(cache: Path, root: Path) -> Path:
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return cache / "check" / f"{digest}.json"


def _stat(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _fresh(stamp: Path, key: str) -> bool:
    """The stamp is for these options and nothing it watches changed."""
    try:
        if os.stat(stamp).st_size > 64 * 1024 * 1024:
            return False
        data = json.loads(stamp.read_text(encoding="utf-8"))
        if data.get("schema") != STAMP_SCHEMA or data.get("key") != key:
            return False
        written = int(data["written"])
        for name, recorded in data["watched"].items():
            now = _stat(Path(name))
            if now != recorded or (now is not None and now[1] >= written - RACY_NS):
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # no stamp, or a broken one: check


def _write_stamp(stamp: Path, key: str, watched: Iterable[Path]) -> None:
    from depchain.fileio import atomic_writer

    data = {
        "schema": STAMP_SCHEMA,
        "key": key,
        "written": time.time_ns(),
        "watched": {str(p): _stat(p) for p in sorted(set(watched))},
    }
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(stamp) as handle:
            json.dump(data, handle)
    except Exception:
        pass


def _key(root: Path, args: argparse.Namespace, files: Sequence[Path]) -> str:
    from depchain import __version__

    return json.dumps(
        [
            __version__,
            str(root),
            sorted(str(f) for f in files) if args.files else None,
            args.online,
            args.fail_on,
            args.max_file_size,
        ]
    )


def _policy_files(root: Path) -> list[Path]:
    """Files whose appearance changes the check though no scan reads them: the policy and
    the ledger in the root and the folders above it, up to the work tree's top."""
    names = ("depchain.toml", "pyproject.toml", "depchain-ledger.json")
    found = []
    for folder in (root, *root.parents):
        found += [folder / n for n in names]
        if (folder / ".git").exists():
            break
    return found


def run(argv: Sequence[str]) -> int:
    """``depchain check ARGV``: its exit code (0 accepted, 1 something new, 2 usage, 3
    unreadable input, 4 a bug in depchain, said in one line)."""
    try:
        return main(argv)
    except SystemExit as exc:  # argparse: usage errors and --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: never exit 1, which a hook reads as "findings"
        if os.environ.get("DEPCHAIN_DEBUG"):
            raise
        said = (str(exc).strip().splitlines() or [""])[0][:160]
        from depchain.redaction import redact_text
        from depchain.render import printable

        sys.stderr.write(
            printable(
                redact_text(
                    f"depchain check: internal error: {type(exc).__name__}: {said} (a bug "
                    "in depchain; DEPCHAIN_DEBUG=1 shows the traceback)"
                )
            )
            + "\n"
        )
        return 4


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    root = repository_root(Path.cwd())
    files = [f if f.is_absolute() else Path.cwd() / f for f in args.files]
    key = _key(root, args, files)
    stamp = None
    if not args.no_stamp:
        try:
            stamp = _stamp_path(_cache_dir(args.cache_dir), root)
        except (OSError, RuntimeError):
            stamp = None
        if stamp is not None and _fresh(stamp, key):
            return 0
    code, watched = _run(root, files if args.files else None, args)
    if code == 0 and stamp is not None and watched:
        _write_stamp(stamp, key, [*watched, *_policy_files(root)])
    return code


def _run(root: Path, files: list[Path] | None, args: argparse.Namespace) -> tuple[int, list[Path]]:
    from depchain.check import check
    from depchain.errors import DepchainError
    from depchain.redaction import redact_text
    from depchain.render import printable
    from depchain.scanner import EnrichOptions
    from depchain.trust.catalogue import Severity

    def say(line: str) -> None:
        sys.stderr.write(printable(redact_text(line)) + "\n")

    if args.fail_on == "never":
        threshold = Severity.CRITICAL
    elif args.fail_on:
        threshold = Severity(args.fail_on)
    else:
        threshold = None
    try:
        checked = check(
            root,
            files,
            fail_on=threshold,
            enrich=EnrichOptions(
                offline=not args.online
                or os.environ.get("DEPCHAIN_OFFLINE", "").strip().lower()
                not in {"", "0", "false", "no"},
                cache_dir=str(args.cache_dir) if args.cache_dir else None,
                timeout=args.index_timeout,
            ),
            max_file_size=args.max_file_size * 1024 * 1024,
        )
    except DepchainError as exc:
        say(f"depchain check: {exc}")
        return 3, []
    code = _report(checked, args, say)
    return code, checked.result.watched if checked.has_ledger else []


def _report(checked: Checked, args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from depchain.trust.catalogue import BY_ID

    for error in checked.errors:
        say(f"{error.path}: {error.message}")
    failing = [] if args.fail_on == "never" else checked.failing
    # by place, the new relationship before the gaps it brings
    failing = sorted(
        failing,
        key=lambda f: (
            (f.evidence[0].path, f.evidence[0].line or 0) if f.evidence else ("", 0),
            f.id != "DC025",
            f.id,
            f.message,
        ),
    )
    for finding in failing:
        gap = BY_ID[finding.id]
        where = finding.evidence[0] if finding.evidence else None
        place = (
            f"{where.path}:{where.line}" if where and where.line else (where.path if where else ".")
        )
        say(f"{place}: {finding.message} [{finding.id} {finding.severity}: {gap.title}]")
        say(f"  why: {gap.explanation}")
        say(f"  fix: {gap.fix}")
        if checked.has_ledger and finding.id != "DC025":
            say("  or accept it: depchain accept --why '<your reason>'")
    if failing:
        if checked.has_ledger:
            say(
                f"depchain check: {len(failing)} trust relationship(s) or gap(s) not in "
                "the trust ledger; review them, then 'depchain accept --why ...' and commit "
                "depchain-ledger.json"
            )
        return 1
    if not checked.has_ledger:
        say(
            "depchain check: no trust ledger, so judged by the policy alone; run "
            "'depchain accept' to record what you trust, review and commit "
            "depchain-ledger.json, and from then on only what is new fails"
        )
    return 3 if checked.errors else 0
