"""Enrichment against a hostile index on 127.0.0.1, with the default limits (15 s per
request, 60 s per scan, 16 MiB per answer, 20,000 files per page): how long each case
takes to end, its peak memory (this process's high-water mark, which only grows), and
the note it leaves.

    python3 benchmarks/bench_hostile_index.py
    python3 benchmarks/bench_hostile_index.py --scan 30 --packages 200

Cases: a slowloris (one byte every 2 s), a 30 MB page, pages of 200,000 and 1,000,000
links (HTML and PEP 691 JSON), a redirect to the cloud metadata address, and
``--packages`` slow projects at once, which the scan budget ends. Exits 1 when a case
outlives its deadline by more than 3 s or leaves anything in the cache.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from depchain.enrich.cache import FILENAME  # noqa: E402
from depchain.enrich.pypi import enrich  # noqa: E402
from tests.enrich.localserver import answer, drip, large, local_index  # noqa: E402

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def _links(count: int, media: str) -> bytes:
    if media == "text/html":  # short links: a million fit in 16 MiB
        return b"<a href=f.tgz>" * count
    item = b'{"filename": "f-1.0.tar.gz", "url": "f", "hashes": {}}'
    return b'{"meta": {"api-version": "1.1"}, "files": [' + b", ".join([item] * count) + b"]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", type=float, default=60.0, help="the scan budget, seconds")
    parser.add_argument("--request", type=float, default=15.0, help="per request, seconds")
    parser.add_argument("--packages", type=int, default=100, help="slow projects at once")
    args = parser.parse_args()
    cases = [
        ("slowloris, 1 byte / 2 s", "/simple/case/", drip(every=2.0), 1, args.request),
        ("30 MB page", "/simple/case/", large(30 * 10**6), 1, args.request),
        (
            "200k links, HTML",
            "/simple/case/",
            answer(200, _links(200_000, "text/html"), "text/html"),
            1,
            args.request,
        ),
        (
            "1e6 links, HTML",
            "/simple/case/",
            answer(200, _links(1_000_000, "text/html"), "text/html"),
            1,
            args.request,
        ),
        (
            "200k links, JSON",
            "/simple/case/",
            answer(200, _links(200_000, SIMPLE_JSON), SIMPLE_JSON),
            1,
            args.request,
        ),
        (
            "302 to 169.254.169.254",
            "/simple/case/",
            answer(302, Location="http://169.254.169.254/latest/meta-data/"),
            1,
            args.request,
        ),
        (
            f"{args.packages} slowloris projects",
            "*",
            drip(every=2.0),
            args.packages,
            args.scan,
        ),
    ]
    failed = False
    print(f"{'case':32} {'seconds':>8} {'peak MB':>8}  note")
    for title, path, handler, count, deadline in cases:
        with tempfile.TemporaryDirectory() as tmp, local_index() as index:
            index.route(path, handler)
            keys: list[tuple[str, str | None]] = (
                [("case", "1.0")] if count == 1 else [(f"p{i}", "1.0") for i in range(count)]
            )
            start = time.perf_counter()
            got = enrich(
                keys,
                index_url=f"{index.url}/simple",
                cache_dir=tmp,
                timeout=args.scan,
                request_timeout=args.request,
            )
            took = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows = _rows(Path(tmp))
        notes = {e for item in got.values() for e in item.errors}
        noted = all(item.errors for item in got.values())
        ok = took <= deadline + 3 and rows == 0 and noted
        failed |= not ok
        note = next(iter(sorted(notes)), "(none)")
        print(f"{title:32} {took:8.2f} {peak:8.0f}  {note}{'' if ok else '  <-- FAILED'}")
    return 1 if failed else 0


def _rows(cache: Path) -> int:
    if not (cache / FILENAME).exists():
        return 0
    db = sqlite3.connect(cache / FILENAME)
    try:
        return int(db.execute("SELECT count(*) FROM answers").fetchone()[0])
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
