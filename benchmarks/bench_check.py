"""The pre-commit hook's cost, as whole processes, against a bare interpreter start.

In a temporary git repository holding a copy of the bundled example
(``examples/webapp``: a pyproject, a uv.lock and hash-pinned requirements files), after
``depchain accept``:

- ``depchain check`` with nothing changed (the stamp of the last pass holds);
- ``depchain check requirements/prod.txt`` after a change to that file (a version
  bumped: each run reads the file, its includes, its project and the lock beside it).

Each figure is the median of ``--runs`` runs; the ratio is to ``python -c pass`` with the
same interpreter, measured in the same run. Issue 12's targets: at most 5x and 10x.

    python3 benchmarks/bench_check.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "webapp"


def _median(
    argv: list[str],
    runs: int,
    cwd: Path,
    env: dict[str, str],
    before: Callable[[int], None] | None = None,
) -> float:
    times = []
    for i in range(runs):
        if before is not None:
            before(i)
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    depchain = [sys.executable, "-m", "depchain"]
    script = Path(sys.executable).with_name("depchain")
    if script.exists():
        depchain = [str(script)]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(EXAMPLE, repo)
        env = {**os.environ, "DEPCHAIN_CACHE_DIR": str(Path(tmp) / "cache")}
        env["DEPCHAIN_OFFLINE"] = "1"
        # as installed: with bytecode (pip compiles it; the first run writes it here)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "depchain")])
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        subprocess.run([*depchain, "accept"], cwd=repo, env=env, check=True, capture_output=True)
        changed = repo / "requirements" / "prod.txt"
        if not changed.exists():
            changed = next(repo.rglob("*.txt"))
        original = changed.read_text()
        first = subprocess.run(
            [*depchain, "check"], cwd=repo, env=env, capture_output=True, text=True
        )
        if first.returncode != 0:
            sys.exit(f"depchain check fails on the accepted example: {first.stderr}")
        time.sleep(2.2)  # past the racy window: the stamp of the next pass is trusted
        subprocess.run([*depchain, "check"], cwd=repo, env=env, check=True)

        bare = _median([sys.executable, "-c", "pass"], args.runs, repo, env)
        unchanged = _median([*depchain, "check"], args.runs, repo, env)

        def touch(i: int) -> None:  # a new text every run: never the stamp of a pass
            changed.write_text(original + f"# edit {i}\n")

        one_file = _median(
            [*depchain, "check", str(changed.relative_to(repo))], args.runs, repo, env, touch
        )
        last = subprocess.run(
            [*depchain, "check", str(changed.relative_to(repo))],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        )
        if last.returncode != 0:  # a comment changed: nothing new, or the figure is wrong
            sys.exit(f"depchain check of the edited file failed: {last.stderr}")
    print(f"{'what':<48} {'seconds':>8} {'x bare':>7}  target")
    print(f"{'python -c pass':<48} {bare:8.3f} {1:7.1f}")
    print(f"{'depchain check, nothing changed':<48} {unchanged:8.3f} {unchanged / bare:7.1f}  <= 5")
    print(
        f"{'depchain check ' + changed.name + ', one file changed':<48} {one_file:8.3f} "
        f"{one_file / bare:7.1f}  <= 10"
    )
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.runs})")


if __name__ == "__main__":
    main()
