"""Scan an installed environment (about 190 distributions and 500 ELF files) with
``depchain scan --format json --no-audit --no-enrich``, cold (an empty cache folder)
and warm (the second of two runs, after the first filled the cache), each a fresh
process; in the same run, time the graph-only peers on the same environment:
``cyclonedx-py environment --no-validate`` (Python metadata only, no native analysis)
and, as it is cheap, ``pipdeptree --json``. Prints wall and CPU seconds (user +
system, the process and what it waited for) of each, the ratios, and whether the
targets hold: warm no slower than cyclonedx-py, and at most 1 s.

    python3 benchmarks/bench_environment.py [--venv DIR] [--repeat N] [--check]

The tools run interleaved, ``--repeat`` times (default 5), and the medians are compared,
so that a machine busy with other work slows every tool alike; the minimum is shown
too. The cold and warm reports must be the same bytes (``SOURCE_DATE_EPOCH=0``). The
depchain package is byte-compiled first, as an installed one is.

Without ``--venv``, the environment is made once from benchmarks/env-requirements.txt (a
pinned list); the peers are installed in a virtual environment of their own. Both live
under ``$DEPCHAIN_BENCH_DIR`` (default ``~/.cache/depchain-bench``), made on first use,
which needs the package index; later runs are offline. ``--check`` exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PINS = HERE / "env-requirements.txt"
TARGET_S = 1.0
"""A warm scan of the benchmark environment takes at most this long (wall seconds)."""
PEERS = {"cyclonedx-py": "cyclonedx-bom", "pipdeptree": "pipdeptree"}
"""Peer executables and the distributions that provide them."""


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float


def _bench_dir() -> Path:
    return Path(os.environ.get("DEPCHAIN_BENCH_DIR", Path.home() / ".cache" / "depchain-bench"))


def _venv(path: Path, *packages: str, requirements: Path | None = None) -> Path:
    """The interpreter of the virtual environment at ``path``, made (and the packages
    installed from wheels) when it is not there yet."""
    python = path / "bin" / "python"
    if not python.exists():
        print(f"creating {path} (needs the package index once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        args = ["-r", str(requirements)] if requirements else list(packages)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--only-binary", ":all:", *args],
            check=True,
        )
    return python


def _peer(tools: Path, executable: str) -> Path:
    """A peer's executable in the tools' environment, installed when missing."""
    path = tools / "bin" / executable
    if not path.exists():
        print(f"installing {PEERS[executable]} into {tools}...", flush=True)
        subprocess.run(
            [str(tools / "bin" / "python"), "-m", "pip", "install", "-q", PEERS[executable]],
            check=True,
        )
    return path


def _elf_files(venv: Path) -> int:
    count = 0
    for so in venv.glob("lib/python*/site-packages/**/*.so*"):
        try:
            with open(so, "rb") as handle:
                count += handle.read(4) == b"\x7fELF"
        except OSError:
            pass
    return count


def _timed(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``command`` to its end; its wall time, and the CPU time and peak memory of
    the process (with the children it waited for), from wait4."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in (0, 1):  # 1: depchain's findings at --fail-on
        sys.exit(f"{command[0]} failed ({process.returncode}):\n{errors.decode(errors='replace')}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.rss_mb for r in runs),
    )


def _line(name: str, runs: list[Run]) -> str:
    m = _median(runs)
    return (
        f"{name:<22} {m.wall:6.2f} s wall {m.cpu:6.2f} s CPU   (min {min(r.wall for r in runs):.2f}"
        f" / {min(r.cpu for r in runs):.2f}; {m.rss_mb:.0f} MB peak)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, help="an existing environment to scan")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each tool (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    bench = _bench_dir()
    venv = (args.venv or _venv(bench / "env-venv", requirements=PINS).parent.parent).absolute()
    dists = len(list(venv.glob("lib/python*/site-packages/*.dist-info")))
    print(f"environment: {venv} ({dists} distributions, {_elf_files(venv)} ELF files)")
    tools = _venv(bench / "cdx-tool", *PEERS.values()).parent.parent
    cdx = [
        str(_peer(tools, "cyclonedx-py")),
        "environment",
        "--no-validate",
        str(venv / "bin" / "python"),
        "-o",
        os.devnull,
    ]
    pipdeptree = [str(_peer(tools, "pipdeptree")), "--python", str(venv / "bin" / "python")]
    pipdeptree.append("--json")

    cold: list[Run] = []
    warm: list[Run] = []
    peers: dict[str, list[Run]] = {"cyclonedx-py": [], "pipdeptree": []}
    reports: list[bytes] = []
    # the depchain this checkout holds, unless PYTHONPATH names another
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)
    with tempfile.TemporaryDirectory(prefix="depchain-bench-") as tmp:

        def scan(cache: str, out: str) -> Run:
            env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "PYTHONPATH": path}
            env["DEPCHAIN_CACHE_DIR"] = str(Path(tmp) / cache)
            command = [sys.executable, "-m", "depchain", "scan", str(venv), "--format", "json"]
            flags = ["--no-audit", "--no-enrich"]  # the graph only, offline, as the peers
            return _timed([*command, *flags, "-o", str(Path(tmp) / out)], env)

        # installed packages have their bytecode (pip compiles it); so has this one here,
        # whatever PYTHONDONTWRITEBYTECODE says: the timings are of the work, not of it
        env = {**os.environ, "PYTHONPATH": path}
        where = [
            sys.executable,
            "-c",
            "import depchain, os; print(os.path.dirname(depchain.__file__))",
        ]
        package = subprocess.run(where, env=env, check=True, capture_output=True, text=True)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", package.stdout.strip()], check=True
        )
        # the page cache holds the environment and the tools before anything is timed
        _timed(cdx)
        scan("warm-up", "warm-up.json")
        for i in range(max(1, args.repeat)):
            for runs in (cold, warm):  # a cache folder of its own: empty for the cold run
                out = f"report-{i}-{len(runs)}.json"
                runs.append(scan(f"cache-{i}", out))
                reports.append((Path(tmp) / out).read_bytes())
            peers["cyclonedx-py"].append(_timed(cdx))
            peers["pipdeptree"].append(_timed(pipdeptree))

    report = json.loads(reports[-1])
    kinds = Counter(f"{d['kind']}/{d['mechanism']}" for d in report["dependencies"])
    pypi = sum(1 for c in report["components"] if c["ecosystem"] == "pypi" and c["version"])
    print(
        f"depchain report: {len(report['components'])} components ({pypi} distributions), "
        f"{len(report['dependencies'])} dependencies, {len(report['errors'])} unreadable inputs"
    )
    for key, n in sorted(kinds.items()):
        print(f"  {key:<28} {n:>6}")
    identical = all(r == reports[0] for r in reports)
    print(f"cold and warm reports identical: {'yes' if identical else 'NO'}")
    print(f"medians of {len(cold)} runs each:")
    print(_line("depchain scan, cold", cold))
    print(_line("depchain scan, warm", warm))
    for name, runs in peers.items():
        print(_line(name, runs))
    w, c = _median(warm), _median(peers["cyclonedx-py"])
    print(
        f"ratio depchain warm / cyclonedx-py: {w.wall / c.wall:.2f} wall, {w.cpu / c.cpu:.2f} CPU"
    )
    print(f"ratio depchain cold / warm: {_median(cold).wall / w.wall:.2f} wall")
    met = {
        f"warm no slower than cyclonedx-py ({w.wall:.2f} vs {c.wall:.2f} s wall)": (
            w.wall <= c.wall
        ),
        f"warm at most {TARGET_S:.0f} s ({w.wall:.2f} s wall)": w.wall <= TARGET_S,
        "cold and warm reports identical": identical,
    }
    for what, ok in met.items():
        print(f"target: {what}: {'met' if ok else 'MISSED'}")
    return 1 if args.check and not all(met.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
