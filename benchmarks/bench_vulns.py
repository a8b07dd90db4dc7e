"""Offline OSV source speed: the three advisory folders of ../shared/data (PyPA, RustSec,
Go: about 8,000 records) loaded cold (no index: every file parsed, the index built and
cached) and warm (the cached index), then 200 PyPI packages and 100 crates audited,
each in a fresh interpreter (imports included, as a scan would pay them).

    python3 benchmarks/bench_vulns.py              # a temporary cache folder
    python3 benchmarks/bench_vulns.py --runs 5     # warm runs to take the best and worst of
    python3 benchmarks/bench_vulns.py --cache-dir /tmp/c   # keep the index afterwards

The 200 PyPI packages are those the PyPA records name (each at the oldest version any
of its records names, so most have advisories); the 100 crates are the first the RustSec
records name, at 0.1.0. Exits 1 when a warm load and audit takes 1 s or more, 2 when the
data is not there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FOLDERS = [
    DATA / "pypa-advisory-database",
    DATA / "rustsec-advisory-db-osv",
    DATA / "go-vulndb-osv",
]
WARM_BUDGET = 1.0

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from depchain.vulns.interface import Query
from depchain.vulns.osv import OsvSource
t1 = time.perf_counter()
folders, cache, pins = json.loads(sys.argv[1])
source = OsvSource([Path(p) for p in folders], cache_dir=Path(cache))
t2 = time.perf_counter()
queries = [Query(f"{e}/{n}@{v}", e, n, v) for e, n, v in pins]
answers = source.query_all(queries)
t3 = time.perf_counter()
found = sum(len(a) for a in answers.values() if isinstance(a, list))
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "audit": t3 - t2, "warm": source.warm,
                  "records": source.info.records, "advisories": found,
                  "not_audited": sum(not isinstance(a, list) for a in answers.values())}))
"""


def _pins() -> list[tuple[str, str, str]]:
    import yaml

    pypi: list[tuple[str, str, str]] = []
    for folder in sorted((FOLDERS[0] / "vulns").iterdir()):
        if len(pypi) == 200:
            break
        versions: list[str] = []
        for path in sorted(folder.glob("*.yaml")):
            record = yaml.safe_load(path.read_text(encoding="utf-8"))
            for affected in record.get("affected") or []:
                versions += [str(v) for v in affected.get("versions") or []]
        if versions:
            pypi.append(("PyPI", folder.name, versions[0]))
    crates: list[str] = []
    for path in sorted((FOLDERS[1] / "crates").glob("*.json")):
        for affected in json.loads(path.read_text(encoding="utf-8")).get("affected") or []:
            name = affected["package"]["name"]
            if name not in crates:
                crates.append(name)
        if len(crates) >= 100:
            break
    return pypi + [("crates.io", name, "0.1.0") for name in crates[:100]]


def _run(cache: Path, pins: list[tuple[str, str, str]]) -> dict[str, float]:
    argument = json.dumps([[str(f) for f in FOLDERS], str(cache), pins])
    done = subprocess.run(
        [sys.executable, "-c", CHILD, argument], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path)
    args = parser.parse_args()
    if not all(folder.is_dir() for folder in FOLDERS):
        print(f"advisory data not present under {DATA}", file=sys.stderr)
        return 2
    pins = _pins()
    with tempfile.TemporaryDirectory() as temporary:
        cache = args.cache_dir or Path(temporary)
        for stale in cache.glob("osv-index-*.json"):
            stale.unlink()
        cold = _run(cache, pins)
        warm = [_run(cache, pins) for _ in range(max(1, args.runs))]
    print(
        f"{cold['records']:.0f} records; {len(pins)} packages "
        f"({sum(e == 'PyPI' for e, _, _ in pins)} PyPI, "
        f"{sum(e == 'crates.io' for e, _, _ in pins)} crates): "
        f"{cold['advisories']:.0f} advisories, {cold['not_audited']:.0f} not audited"
    )
    print(
        f"cold: load {cold['load']:.2f} s, audit {cold['audit']:.3f} s "
        f"(imports {cold['imports']:.2f} s)"
    )
    totals = sorted(w["load"] + w["audit"] for w in warm)
    for w in warm:
        assert w["warm"], "the warm run did not use the cached index"
    best = min(warm, key=lambda w: w["load"] + w["audit"])
    print(
        f"warm: load {best['load']:.3f} s, audit {best['audit']:.3f} s; load and audit "
        f"best {totals[0]:.3f} s, worst {totals[-1]:.3f} s of {len(warm)} "
        f"(imports {best['imports']:.2f} s; budget {WARM_BUDGET:.1f} s)"
    )
    return 0 if totals[-1] < WARM_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
