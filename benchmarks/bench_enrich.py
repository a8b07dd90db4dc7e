"""Enrichment speed: about 180 pinned packages (benchmarks/env-requirements.txt) asked
of the package index cold (a fresh cache, online, bounded concurrency), then warm (the
same cache, offline), in this process and in a fresh interpreter (imports included,
as a scan would pay them). The warm pass must add well under 0.5 s.

    python3 benchmarks/bench_enrich.py                 # 8 workers, a temporary cache
    python3 benchmarks/bench_enrich.py --workers 16
    python3 benchmarks/bench_enrich.py --cache-dir /tmp/c   # keep the cache afterwards

Exits 1 when the warm pass takes 0.5 s or more, 2 when the index cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from depchain.enrich.pypi import Enrichment

REPO = Path(__file__).resolve().parents[1]
PINS = REPO / "benchmarks" / "env-requirements.txt"
WARM_BUDGET = 0.5

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from depchain.enrich.pypi import enrich
t1 = time.perf_counter()
pins = [tuple(p) for p in json.loads(sys.argv[1])]
result = enrich(pins, index_url=sys.argv[2], cache_dir=sys.argv[3], offline=True)
t2 = time.perf_counter()
known = sum(e.ownership_known for e in result.values())
print(json.dumps({"import": t1 - t0, "enrich": t2 - t1, "known": known,
                  "requests_imported": "requests" in sys.modules}))
"""


def read_pins(path: Path) -> list[tuple[str, str | None]]:
    pins: list[tuple[str, str | None]] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        pins.append((name.strip(), version.strip() or None))
    return pins


def summary(result: dict[tuple[str, str | None], Enrichment]) -> str:
    items = list(result.values())
    states = Counter(f.attestation for e in items for f in e.files)
    verified = Counter(f.verified for e in items for f in e.files if f.attestation == "present")
    return (
        f"{len(items)} packages: ownership known {sum(e.ownership_known for e in items)}, "
        f"release found {sum(bool(e.release_found) for e in items)}, "
        f"{sum(len(e.files) for e in items)} files "
        f"(attestation present {states['present']}, absent {states['absent']}, "
        f"unknown {states['unknown']}; verified {verified[True]}, failed {verified[False]}), "
        f"name absent {sum(e.name_absent for e in items)}, "
        f"with errors {sum(bool(e.errors) for e in items)}"
    )


def _owners(e: Enrichment) -> tuple[object, ...]:
    return (e.ownership_source, e.organization, e.roles)


def _api(url: str) -> str:
    """Which API a request went to."""
    if "/integrity/" in url or url.endswith("/provenance"):
        return "provenance"
    return "project JSON" if "/pypi/" in url else "Simple API"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--pins", type=Path, default=PINS)
    args = parser.parse_args()

    from depchain.enrich.pypi import enrich

    pins = read_pins(args.pins)
    with tempfile.TemporaryDirectory(prefix="depchain-bench-") as tmp:
        cache = args.cache_dir or Path(tmp) / "cache"
        if (cache / "index-cache.sqlite3").exists():
            print(f"{cache} already holds a cache: give an empty --cache-dir for a cold pass")
            return 2

        import requests

        session = requests.Session()
        asked: Counter[str] = Counter()
        session.hooks["response"].append(lambda r, *_, **__: asked.update([_api(r.url)]))
        start = time.perf_counter()
        cold = enrich(
            pins,
            index_url=args.index_url,
            cache_dir=cache,
            workers=args.workers,
            session=session,
        )
        cold_s = time.perf_counter() - start
        if not any(e.ownership_known or e.name_absent for e in cold.values()):
            first = next((e.errors[0] for e in cold.values() if e.errors), "no answer")
            print(f"the index could not be reached: {first}")
            return 2
        print(f"cold  (online, {args.workers} workers, empty cache): {cold_s:7.2f} s")
        print(f"      {summary(cold)}")
        print(
            f"      {sum(asked.values())} requests: "
            + ", ".join(f"{what} {n}" for what, n in sorted(asked.items()))
        )
        errors = Counter(line for e in cold.values() for line in e.errors)
        for line, count in errors.most_common(5):
            print(f"      {count} x {line}")

        start = time.perf_counter()
        warm = enrich(pins, index_url=args.index_url, cache_dir=cache, offline=True)
        warm_s = time.perf_counter() - start
        print(f"warm  (offline, same cache, this process):     {warm_s:7.3f} s")
        print(f"      {summary(warm)}")

        child = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(pins), args.index_url, str(cache)],
            capture_output=True,
            text=True,
            check=True,
        )
        fresh = json.loads(child.stdout)
        fresh_s = fresh["import"] + fresh["enrich"]
        print(
            f"warm  (offline, fresh interpreter):            {fresh_s:7.3f} s "
            f"(import {fresh['import']:.3f} s + enrich {fresh['enrich']:.3f} s; "
            f"requests imported: {fresh['requests_imported']})"
        )
        size = (cache / "index-cache.sqlite3").stat().st_size
        print(f"cache: {size / 1024:.0f} KiB in {cache}")

        same = all(
            _owners(warm[k]) == _owners(cold[k]) and warm[k].files == cold[k].files
            for k in cold
            if not cold[k].errors
        )
        print(f"warm answers equal the cold ones: {same}")
        worst = max(warm_s, fresh_s)
        verdict = "OK" if worst < WARM_BUDGET else "TOO SLOW"
        print(f"warm pass adds {worst:.3f} s (budget {WARM_BUDGET} s): {verdict}")
        return 0 if worst < WARM_BUDGET and same else 1


if __name__ == "__main__":
    sys.exit(main())
