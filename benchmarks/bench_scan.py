"""Scan and CycloneDX-export speed and memory, printed as a table.

Cases: pydantic's real uv.lock (176 packages), warehouse's real hash-pinned
requirements (2,000+ hashes), and generated uv.lock files of 1k, 5k and 10k packages
(to show that time grows linearly). Each case runs in a fresh interpreter, so its
figures include imports and its peak RSS is its own.

    python3 benchmarks/bench_scan.py            # all cases
    python3 benchmarks/bench_scan.py --quick    # 1k only for the generated lock
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real-world"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import depchain
from depchain.export import cyclonedx
t1 = time.perf_counter()
result = depchain.scan(sys.argv[1])
t2 = time.perf_counter()
text = cyclonedx.render(result)  # includes schema validation
t3 = time.perf_counter()
print(json.dumps({
    "components": len(result.graph.components()),
    "edges": len(result.graph.dependencies()),
    "hashes": sum(len(c.hashes) for c in result.graph.components()),
    "errors": len(result.errors),
    "import": t1 - t0, "scan": t2 - t1, "export": t3 - t2, "total": t3 - t0,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "bytes": len(text),
}))
"""


FLOOR = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from cyclonedx.model.dependency import Dependency
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL
n = int(sys.argv[1])
t0 = time.perf_counter()
comps = [Component(name=f"pkg-{i}", version="1.0", bom_ref=f"pkg:pypi/pkg-{i}@1.0",
                   purl=PackageURL("pypi", None, f"pkg-{i}", "1.0"),
                   hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f"{i:064x}")])
         for i in range(n)]
bom = Bom(components=comps)
bom.dependencies.update(Dependency(ref=c.bom_ref) for c in comps)
t1 = time.perf_counter()
make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
t2 = time.perf_counter()
print(json.dumps({"model": t1 - t0, "serialise": t2 - t1,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
"""cyclonedx-python-lib alone: n bare components (name, version, purl, one hash), no
edges, no properties, no validation. The floor under any export through the library."""


def generate_uv_lock(n: int, folder: Path) -> Path:
    """A uv.lock of ``n`` registry packages, each with an sdist, two wheels and up to
    four dependencies on earlier packages: the shape of a real one, at scale."""
    lines = ["version = 1", "revision = 3", 'requires-python = ">=3.10"', ""]
    lines += [
        "[[package]]",
        'name = "root-app"',
        'version = "1.0.0"',
        'source = { editable = "." }',
        "dependencies = [",
    ]
    lines += [f'    {{ name = "pkg-{i:05d}" }},' for i in range(0, n, 50)]
    lines += ["]", ""]
    for i in range(n):
        h = [hashlib.sha256(f"{i}-{k}".encode()).hexdigest() for k in range(3)]
        name = f"pkg-{i:05d}"
        lines += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{1 + i % 7}.{i % 13}.{i % 5}"',
            'source = { registry = "https://pypi.org/simple" }',
        ]
        deps = sorted({(i * 7 + k * 13) % i for k in range(4)} if i > 4 else set())
        if deps:
            lines.append("dependencies = [")
            lines += [f'    {{ name = "pkg-{d:05d}" }},' for d in deps]
            lines.append("]")
        url = f"https://files.pythonhosted.org/packages/{h[0][:2]}/{name}"
        lines.append(f'sdist = {{ url = "{url}.tar.gz", hash = "sha256:{h[0]}", size = 1000 }}')
        lines.append("wheels = [")
        lines.append(
            f'    {{ url = "{url}-py3-none-any.whl", hash = "sha256:{h[1]}", size = 900 }},'
        )
        lines.append(f'    {{ url = "{url}-cp312-abi3.whl", hash = "sha256:{h[2]}", size = 950 }},')
        lines += ["]", ""]
    path = folder / f"uv-{n}" / "uv.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def run(label: str, target: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(target)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    figures: dict[str, float] = json.loads(out.stdout)
    print(
        f"{label:<34} {int(figures['components']):>6} {int(figures['edges']):>6} "
        f"{int(figures['hashes']):>6} {figures['scan']:>7.2f} {figures['export']:>7.2f} "
        f"{figures['total']:>7.2f} {figures['rss_mb']:>7.0f}",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(
        f"{'case':<34} {'comps':>6} {'edges':>6} {'hashes':>6} {'scan s':>7} "
        f"{'cdx s':>7} {'total s':>7} {'RSS MB':>7}"
    )
    if REAL.is_dir():
        run("pydantic uv.lock (real)", REAL / "pydantic__pydantic" / "uv.lock")
        run(
            "warehouse main.txt (real, hashed)",
            REAL / "pypi__warehouse" / "requirements" / "main.txt",
        )
        run("warehouse folder (real)", REAL / "pypi__warehouse")
    else:
        print(f"(real-world data not found at {REAL}: real cases skipped)")
    sizes = (1000,) if args.quick else (1000, 5000, 10000)
    totals = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            totals[n] = run(f"generated uv.lock, {n} packages", generate_uv_lock(n, Path(tmp)))
    if len(sizes) > 1:
        base = totals[sizes[0]]["scan"] + totals[sizes[0]]["export"]
        for n in sizes[1:]:
            work = totals[n]["scan"] + totals[n]["export"]
            print(
                f"scale {sizes[0]} -> {n}: x{n / sizes[0]:.0f} packages, x{work / base:.1f} time "
                "(scan + export, imports excluded)"
            )
    print("targets: 10k packages scanned and exported in < 5 s and < 500 MB")
    print()
    print("cyclonedx-python-lib floor (bare components, no validation):")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", FLOOR, str(n)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        f = json.loads(out.stdout)
        print(
            f"  {n:>6} components: model {f['model']:.2f} s, serialise {f['serialise']:.2f} s, "
            f"RSS {f['rss_mb']:.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
