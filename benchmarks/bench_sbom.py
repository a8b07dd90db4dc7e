"""CycloneDX export at scale, each run a whole process, beside cyclonedx-py on the same
inputs:

- generated ``uv.lock`` projects of 1,000, 5,000 and 10,000 packages (bench_large_inputs'
  generator: three dependencies each, an sdist with its hash): ``depchain sbom --no-enrich
  --no-audit`` (CycloneDX 1.6 JSON, validated before it is written);
- the biggest lock's pins as a requirements file (``name==version --hash=sha256:...``,
  the lock's own hashes): ``depchain sbom`` and ``cyclonedx-py requirements
  --no-validate``, and with ``--peer-validation`` ``cyclonedx-py requirements`` as it
  runs by default, validating (about six minutes at 10,000 pins);
- an installed environment (``--venv``, default: bench_environment's, made from
  benchmarks/env-requirements.txt): ``depchain sbom`` (native layer included, warm cache,
  validated) against ``cyclonedx-py environment`` with its default validation and with
  ``--no-validate``.

Prints wall and CPU seconds (the process and what it waited for, from wait4) and peak
MiB of each, the ratios, the time per 1,000 packages at each size (linear growth keeps it
flat), and whether the targets hold: the 10,000-package lock in at most 10 s and 500 MiB
and at least 3x faster than ``cyclonedx-py requirements`` on the same pins (its default,
validating run when ``--peer-validation`` has it measured, else its ``--no-validate``
run, which a validated export is held to then); the environment's SBOM in at most 3 s
and faster than ``cyclonedx-py environment``. ``--check`` exits 1 on a miss.

    python3 benchmarks/bench_sbom.py [--venv DIR] [--sizes 1000,5000,10000] [--repeat N]

cyclonedx-py is installed in a virtual environment of its own under
``$DEPCHAIN_BENCH_DIR`` (default ``~/.cache/depchain-bench``), as bench_environment.py
does; that needs the package index once. The depchain package is byte-compiled first,
as an installed one is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_environment import (  # noqa: E402 (a sibling script, not a package)
    PEERS,
    PINS,
    REPO,
    Run,
    _bench_dir,
    _peer,
    _timed,
    _venv,
)
from bench_large_inputs import uv_lock  # noqa: E402

LOCK_S = 10.0
LOCK_MIB = 500.0
PEER_FACTOR = 3.0
ENV_S = 3.0


def requirements(folder: Path, lock: Path) -> tuple[Path, int]:
    """The pins of ``lock`` (every package but the project), hash-pinned, one per line,
    as pip-compile writes them."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    packages = tomllib.loads(lock.read_text())["package"]
    lines = [
        f"{p['name']}=={p['version']} --hash={p['sdist']['hash']}\n"
        for p in packages
        if "registry" in p["source"]
    ]
    path = folder / "reqproject" / "requirements.txt"
    path.parent.mkdir()
    path.write_text("".join(lines))
    return path, len(lines)


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.rss_mb for r in runs),
    )


def _show(name: str, run: Run) -> None:
    print(f"{name:<52} {run.wall:8.2f} {run.cpu:8.2f} {run.rss_mb:9.0f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, help="an existing environment for its SBOM")
    parser.add_argument("--sizes", default="1000,5000,10000", help="uv.lock sizes")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each environment tool")
    parser.add_argument(
        "--peer-validation",
        action="store_true",
        help="also run cyclonedx-py requirements with its default validation (minutes)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    if not sizes:
        parser.error("--sizes names no size")

    bench = _bench_dir()
    venv = (args.venv or _venv(bench / "env-venv", requirements=PINS).parent.parent).absolute()
    tools = _venv(bench / "cdx-tool", *PEERS.values()).parent.parent
    cdx = str(_peer(tools, "cyclonedx-py"))

    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)
    env = {**os.environ, "PYTHONPATH": path, "SOURCE_DATE_EPOCH": "0"}
    where = [sys.executable, "-c", "import depchain, os; print(os.path.dirname(depchain.__file__))"]
    package = subprocess.run(where, env=env, check=True, capture_output=True, text=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package.stdout.strip()], check=True)
    depchain = [sys.executable, "-m", "depchain", "sbom"]
    quiet = ["--no-enrich", "--no-audit"]

    print(f"{'what':<52} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory(prefix="depchain-bench-sbom-") as tmp:
        folder = Path(tmp)
        env["DEPCHAIN_CACHE_DIR"] = str(folder / "cache")
        out = str(folder / "out.json")

        locks: dict[int, Run] = {}
        for n in sizes:
            project = folder / f"lock-{n}"
            project.mkdir()
            lock = uv_lock(project, n) / "uv.lock"
            locks[n] = _timed([*depchain, str(lock), *quiet, "-o", out], env)
            _show(f"depchain sbom uv.lock, {n} packages", locks[n])

        pins, count = requirements(folder, lock)
        ours_req = _timed([*depchain, str(pins), *quiet, "-o", out], env)
        _show(f"depchain sbom requirements.txt, the same {count} pins", ours_req)
        peer_req = _timed([cdx, "requirements", "--no-validate", str(pins), "-o", os.devnull])
        _show(f"cyclonedx-py requirements --no-validate, {count} pins", peer_req)
        peer_req_valid = None
        if args.peer_validation:
            peer_req_valid = _timed([cdx, "requirements", str(pins), "-o", os.devnull])
            _show(f"cyclonedx-py requirements (validating), {count} pins", peer_req_valid)

        # the environment: warm (the native cache filled by a first run), as a CI re-run
        _timed([*depchain, str(venv), *quiet, "-o", out], env)
        ours_env: list[Run] = []
        peer_env: list[Run] = []
        peer_env_nv: list[Run] = []
        python = str(venv / "bin" / "python")
        for _ in range(max(1, args.repeat)):
            ours_env.append(_timed([*depchain, str(venv), *quiet, "-o", out], env))
            peer_env.append(_timed([cdx, "environment", python, "-o", os.devnull]))
            peer_env_nv.append(
                _timed([cdx, "environment", "--no-validate", python, "-o", os.devnull])
            )
        dists = len(list(venv.glob("lib/python*/site-packages/*.dist-info")))
        e, pe, pn = _median(ours_env), _median(peer_env), _median(peer_env_nv)
        _show(f"depchain sbom --venv ({dists} dists), median of {len(ours_env)}", e)
        _show("cyclonedx-py environment (validating)", pe)
        _show("cyclonedx-py environment --no-validate", pn)

    print()
    for n, run in locks.items():
        print(f"uv.lock {n:>6}: {1000 * run.cpu / n:6.3f} CPU s per 1,000 packages")
    biggest, smallest = max(locks), min(locks)
    big = locks[biggest]
    if len(locks) > 1:
        growth = (big.cpu / locks[smallest].cpu) / (biggest / smallest)
        print(f"growth {smallest} -> {biggest}: {growth:.2f}x linear (CPU)")
    peers = {"--no-validate": peer_req}
    if peer_req_valid is not None:
        peers["validating"] = peer_req_valid
    for how, run in peers.items():
        print(
            f"cyclonedx-py requirements {how} ({count} pins) / depchain: "
            f"{run.wall / big.wall:.1f}x the uv.lock's export, "
            f"{run.wall / ours_req.wall:.1f}x the requirements file's"
        )
    peer_how, peer = list(peers.items())[-1]
    ratio = peer.wall / big.wall
    print(f"depchain environment / cyclonedx-py environment: {e.wall / pe.wall:.2f} wall")
    print(f"depchain environment / cyclonedx-py --no-validate: {e.wall / pn.wall:.2f} wall")

    met = {
        f"uv.lock {biggest} in at most {LOCK_S:.0f} s ({big.wall:.2f} s wall)": big.wall <= LOCK_S,
        f"uv.lock {biggest} in at most {LOCK_MIB:.0f} MiB ({big.rss_mb:.0f})": (
            big.rss_mb <= LOCK_MIB
        ),
        f"uv.lock {biggest} at least {PEER_FACTOR:.0f}x faster than cyclonedx-py requirements "
        f"{peer_how} on its pins ({ratio:.1f}x)": ratio >= PEER_FACTOR,
    }
    met[f"environment SBOM in at most {ENV_S:.0f} s ({e.wall:.2f} s wall)"] = e.wall <= ENV_S
    met[
        f"environment SBOM faster than cyclonedx-py environment ({e.wall:.2f} vs {pe.wall:.2f})"
    ] = e.wall < pe.wall
    for what, ok in met.items():
        print(f"target: {what}: {'met' if ok else 'MISSED'}")
    print(
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})"
    )
    return 1 if args.check and not all(met.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
