"""Scan an installed environment of about 180 distributions and 500 ELF files (made
once from benchmarks/env-requirements.txt, a pinned list) and print the time; in the
same run, time ``cyclonedx-py environment`` on it (which does no native analysis) and
print the ratio. Both are timed warm (second of two runs), each in a fresh process.

    python3 benchmarks/bench_environment.py [--venv DIR]

The environment and the cyclonedx-py tool are installed under
``$DEPCHAIN_BENCH_DIR`` (default ``~/.cache/depchain-bench``) on first use, which needs
the package index; later runs are offline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PINS = HERE / "env-requirements.txt"
TARGET_S = 3.0

CHILD = r"""
import json, resource, sys, time
from collections import Counter
t0 = time.perf_counter()
import depchain
result = depchain.scan(sys.argv[1])
t1 = time.perf_counter()
deps = result.graph.dependencies()
print(json.dumps({
    "seconds": t1 - t0,
    "components": len(result.graph.components()),
    "pypi": sum(1 for c in result.graph.components() if c.ecosystem == "pypi" and c.version),
    "kinds": Counter(f"{d.kind.value}/{d.mechanism}" for d in deps),
    "errors": len(result.errors),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def _bench_dir() -> Path:
    return Path(os.environ.get("DEPCHAIN_BENCH_DIR", Path.home() / ".cache" / "depchain-bench"))


def _venv(path: Path, *packages: str, requirements: Path | None = None) -> Path:
    python = path / "bin" / "python"
    if python.exists():
        return python
    print(f"creating {path} (needs the package index once)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    args = ["-r", str(requirements)] if requirements else list(packages)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--only-binary", ":all:", *args], check=True
    )
    return python


def _elf_files(venv: Path) -> int:
    count = 0
    for so in venv.glob("lib/python*/site-packages/**/*.so*"):
        try:
            with open(so, "rb") as handle:
                count += handle.read(4) == b"\x7fELF"
        except OSError:
            pass
    return count


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--venv", type=Path, help="an existing environment to scan instead")
    args = parser.parse_args()
    venv = args.venv or _venv(_bench_dir() / "env-venv", requirements=PINS).parent.parent
    dists = len(list(venv.glob("lib/python*/site-packages/*.dist-info")))
    print(f"environment: {venv} ({dists} distributions, {_elf_files(venv)} ELF files)")

    runs = []
    for _ in range(2):  # the second run is warm
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(venv)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        runs.append(json.loads(out.stdout))
    warm = runs[-1]
    process = _timed([sys.executable, "-c", f"import depchain; depchain.scan({str(venv)!r})"])
    print(
        f"depchain scan, warm: {warm['seconds']:.2f} s in-process, {process:.2f} s as a "
        f"process (with imports), {warm['rss_mb']:.0f} MB RSS; target < {TARGET_S:.0f} s"
    )
    print(
        f"  {warm['components']} components ({warm['pypi']} distributions), "
        f"{warm['errors']} unreadable inputs"
    )
    for key, n in sorted(warm["kinds"].items()):
        print(f"  {key:<28} {n:>6}")

    tool = _venv(_bench_dir() / "cdx-tool", "cyclonedx-bom")
    cdx = [
        str(tool.parent / "cyclonedx-py"),
        "environment",
        str(venv / "bin" / "python"),
        "-o",
        os.devnull,
    ]
    _timed(cdx)
    cdx_time = _timed(cdx)
    print(
        f"cyclonedx-py environment, warm: {cdx_time:.2f} s (Python metadata only, no native "
        "analysis)"
    )
    print(f"ratio depchain / cyclonedx-py: {process / cdx_time:.2f}")


if __name__ == "__main__":
    main()
