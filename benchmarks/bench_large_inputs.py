"""Time and peak memory of depchain on large inputs, each as a whole process.

- a 30 MB requirements file (hashed pins, one per line, about 290k packages): `scan`;
- a 20,000-package `uv.lock`: `scan` and `sbom` (CycloneDX 1.6 JSON, validated).

Peak memory is the child's maximum resident set size (``getrusage``). The package index
is not asked (``--no-enrich``): these are the scan's own figures, and the inputs' names
are invented. Run from the
repository root: ``python3 benchmarks/bench_large_inputs.py [--mib 30] [--packages 20000]``.
Issue 10's targets: the requirements file in under 30 s and 500 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def requirements_file(folder: Path, mib: int) -> tuple[Path, int]:
    rng = random.Random(7)
    path = folder / "requirements.txt"
    count = size = 0
    limit = mib * 1024 * 1024
    with path.open("w") as out:
        while size < limit:
            line = (
                f"package-number-{count}=={count % 100}.{count % 7}.{count % 13} "
                f"--hash=sha256:{rng.getrandbits(256):064x}\n"
            )
            out.write(line)
            size += len(line)
            count += 1
    return path, count


def uv_lock(folder: Path, packages: int) -> Path:
    rng = random.Random(11)
    project = folder / "lockproject"
    project.mkdir()
    names = [f"pkg-{i:05d}" for i in range(packages)]
    (project / "pyproject.toml").write_text(
        '[project]\nname = "big"\nversion = "1.0"\ndependencies = [\n'
        + "".join(f'    "{n}",\n' for n in names[:50])
        + "]\n"
    )
    parts = [
        'version = 1\nrevision = 2\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "big"\nversion = "1.0"\nsource = { editable = "." }\n'
        "dependencies = [\n" + "".join(f'    {{ name = "{n}" }},\n' for n in names[:50]) + "]\n"
    ]
    for i, name in enumerate(names):
        deps = sorted(
            {names[j] for j in (rng.randrange(i + 1, packages) for _ in range(3))}
            if i + 1 < packages
            else set()
        )
        digest = f"{rng.getrandbits(256):064x}"
        parts.append(
            f'\n[[package]]\nname = "{name}"\nversion = "1.{i % 50}.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            + (
                "dependencies = [\n" + "".join(f'    {{ name = "{d}" }},\n' for d in deps) + "]\n"
                if deps
                else ""
            )
            + f'sdist = {{ url = "https://files.example/{name}-1.0.tar.gz", '
            + f'hash = "sha256:{digest}", size = 1 }}\n'
        )
    (project / "uv.lock").write_text("".join(parts))
    return project


def run(argv: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit code) of one whole process (its own rusage)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=30)
    parser.add_argument("--packages", type=int, default=20_000)
    args = parser.parse_args()
    depchain = [sys.executable, "-m", "depchain"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lock = uv_lock(folder, args.packages)
        req, count = requirements_file(folder, args.mib)
        out = folder / "out"
        rows = [
            (
                f"scan uv.lock, {args.packages} packages",
                [*depchain, "scan", str(lock / "uv.lock"), "--no-enrich", "-o", str(out)],
            ),
            (
                f"sbom uv.lock, {args.packages} packages",
                [*depchain, "sbom", str(lock / "uv.lock"), "--no-enrich", "-o", str(out)],
            ),
            (
                f"scan requirements.txt, {args.mib} MiB ({count} pins)",
                [*depchain, "scan", str(req), "--no-enrich", "-o", str(out)],
            ),
        ]
        print(f"{'what':<48} {'seconds':>8} {'peak MiB':>9} {'exit':>5}")
        for name, argv in rows:
            seconds, peak, code = run(argv)
            print(f"{name:<48} {seconds:>8.1f} {peak:>9.0f} {code:>5}", flush=True)
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
