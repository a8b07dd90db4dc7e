"""The figures unit tests used to assert as wall-clock limits, measured and printed
here instead (a loaded CI machine made them flaky, and a unit test proves behaviour,
not speed). The tests keep the behaviour: the YAML bomb is refused, offline
enrichment answers "unknown" and sends nothing, an atomic write leaves no temporary
file.

    python3 benchmarks/bench_unit_timings.py            # each case 5 times
    python3 benchmarks/bench_unit_timings.py --runs 20

Prints, per case, the best, median and worst of the runs in milliseconds, and the
limit the unit test used to assert, for comparison. Exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from depchain.errors import InputFileError  # noqa: E402

LAUGHS = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(
        f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def billion_laughs() -> None:
    """tests/test_yamlsafe.py: the bomb is refused (the test asserted < 2 s)."""
    from depchain.yamlsafe import load

    try:
        load(LAUGHS, "bomb.yml")
    except InputFileError:
        return
    raise SystemExit("the YAML bomb was not refused")


def _session() -> Any:
    """A requests session that ends the benchmark if anything is sent."""
    import requests

    class NoNetwork(requests.adapters.BaseAdapter):
        def send(self, *args: object, **kwargs: object) -> requests.Response:
            raise SystemExit("offline enrichment sent a request")

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("https://", NoNetwork())
    session.mount("http://", NoNetwork())
    return session


def offline_enrich_200() -> None:
    """tests/enrich/test_pypi.py: 200 packages offline with an empty cache (< 1 s)."""
    from depchain.enrich.pypi import enrich

    keys: list[tuple[str, str | None]] = [(f"package-{i}", "1.0") for i in range(200)]
    with tempfile.TemporaryDirectory() as folder:
        got = enrich(
            keys,
            index_url="https://pypi.org/simple",
            cache_dir=Path(folder) / "c",
            offline=True,
            session=_session(),
        )
    assert len(got) == 200


def offline_scan() -> None:
    """tests/enrich/test_scan_enriched.py: a scan offline with an empty cache (< 5 s)."""
    import depchain
    from depchain.scanner import EnrichOptions

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "requirements.txt").write_text("requests==2.32.3\nsix==1.16.0\n")
        options = EnrichOptions(offline=True, cache_dir=root / "empty", session=_session())
        depchain.scan(root, enrich=options)


def atomic_write_1mb() -> None:
    """depchain/fileio.py: one atomic write of 1 MiB, stale-temp sweep included."""
    from depchain.fileio import write_text_atomic

    with tempfile.TemporaryDirectory() as folder:
        write_text_atomic(Path(folder) / "bom.json", "x" * (1 << 20))


CASES: list[tuple[str, Callable[[], None], str]] = [
    ("yaml billion laughs refused", billion_laughs, "< 2 s"),
    ("enrich 200 packages offline, empty cache", offline_enrich_200, "< 1 s"),
    ("scan offline, empty cache", offline_scan, "< 5 s"),
    ("atomic write of 1 MiB", atomic_write_1mb, "-"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'case':44} {'best':>9} {'median':>9} {'worst':>9}  was asserted")
    for name, case, limit in CASES:
        times = []
        for _ in range(max(1, args.runs)):
            start = time.perf_counter()
            case()
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{name:44} {min(times):7.1f}ms {statistics.median(times):7.1f}ms "
            f"{max(times):7.1f}ms  {limit}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
