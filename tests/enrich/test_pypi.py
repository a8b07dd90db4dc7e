"""Enrichment from recorded PyPI answers: what is read, what is cached, how failures are
retried and reported per component, and offline never touching the network."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from depchain.enrich.cache import FILENAME, Cache
from depchain.enrich.pypi import Publisher, enrich, packages_of
from depchain.model import Component, ComponentType, Source, SourceKind
from tests.enrich.conftest import Run
from tests.enrich.fakeindex import INDEX, RECORDED, FakeIndex, NoNetwork, session_for

ABSENT = "depchain-internal-name-that-does-not-exist"
REQUESTS_JSON = "/pypi/requests/json"


def _recorded(name: str) -> dict[str, object]:
    data = json.loads((RECORDED / "pypi" / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data


def test_ownership_urls_and_files_of_requests(run: Run, index: FakeIndex) -> None:
    got = run([("requests", "2.32.3")])[("requests", "2.32.3")]
    live = _recorded("requests")
    ownership = live["ownership"]
    assert isinstance(ownership, dict)
    assert got.ownership_source == "pypi-json"
    assert got.organization is None
    assert got.roles == tuple((r["user"], r["role"]) for r in ownership["roles"])
    assert got.roles == (
        ("Lukasa", "Owner"),
        ("graffatcolmingov", "Owner"),
        ("nateprewitt", "Owner"),
    )
    assert got.source_repository == "https://github.com/psf/requests"
    assert ("Documentation", "https://requests.readthedocs.io") in got.project_urls
    assert got.release_found is True
    assert [f.kind for f in got.files] == ["wheel", "sdist"]
    releases = live["releases"]
    assert isinstance(releases, dict)
    assert {f.sha256 for f in got.files} == {f["digests"]["sha256"] for f in releases["2.32.3"]}
    assert all(f.upload_time and f.upload_time.startswith("2024-05-29") for f in got.files)
    assert got.has_wheel and not got.sdist_only and not got.yanked
    # the recording index serves no provenance: every file answered 404
    assert {f.attestation for f in got.files} == {"absent"}
    assert got.errors == ()
    # the recording index serves Simple API 1.1, without PEP 740 links: on Warehouse the
    # Integrity API is asked for each file instead
    assert sorted(index.paths()) == [
        "/integrity/requests/2.32.3/requests-2.32.3-py3-none-any.whl/provenance",
        "/integrity/requests/2.32.3/requests-2.32.3.tar.gz/provenance",
        REQUESTS_JSON,
        "/simple/requests/",
    ]
    assert all(t == (3.05, 10) for t in index.timeouts)  # every request has a timeout


def test_yanked_sdist_only_single_owner_organization_no_source(run: Run) -> None:
    got = run(
        [
            ("requests", "2.32.0"),
            ("requests", "0.10.0"),
            ("six", "1.16.0"),
            ("six", "1.4.1"),
            ("sampleproject", "4.0.0"),
            ("ply", "3.11"),
            ("ply", None),
            ("six", "99.0"),
        ]
    )
    yanked = got[("requests", "2.32.0")]
    assert yanked.yanked
    assert yanked.yanked_reason == "Yanked due to conflicts with CVE-2024-35195 mitigation"
    old = got[("requests", "0.10.0")]
    assert old.sdist_only and [f.kind for f in old.files] == ["sdist"]
    six = got[("six", "1.16.0")]
    assert (six.organization, six.roles) == (None, (("gutworth", "Owner"),))
    assert six.source_repository == "https://github.com/benjaminp/six"  # from Homepage
    assert got[("six", "1.4.1")].sdist_only
    sample = got[("sampleproject", "4.0.0")]
    assert (sample.organization, sample.roles) == ("pypa", ())
    ply = got[("ply", "3.11")]
    assert ply.project_known and ply.source_repository is None
    unversioned = got[("ply", None)]
    assert unversioned.ownership_source == "pypi-json"
    assert (unversioned.release_found, unversioned.files) == (None, ())
    missing = got[("six", "99.0")]
    assert missing.release_found is False and missing.files == ()
    assert missing.ownership_source == "pypi-json"  # the project is there


def test_attestation_publishers_from_the_integrity_api(run: Run) -> None:
    got = run([("sigstore", "3.6.1"), ("pypi-attestations", "0.0.19")])
    sigstore = got[("sigstore", "3.6.1")]
    by_name = {f.filename: f for f in sigstore.files}
    sdist = by_name["sigstore-3.6.1.tar.gz"]
    assert sdist.attestation == "present"
    assert sdist.publishers == (
        Publisher("GitHub", "sigstore/sigstore-python", "release.yml", None),
    )
    assert by_name["sigstore-3.6.1-py3-none-any.whl"].attestation == "absent"
    assert sigstore.organization == "Sigstore"
    assert sigstore.attestation == "present"
    moved = got[("pypi-attestations", "0.0.19")]
    assert moved.publishers == (
        Publisher("GitHub", "trailofbits/pypi-attestations", "release.yml", None),
    )
    assert moved.source_repository == "https://github.com/pypi/pypi-attestations"


def test_absent_name(run: Run, cache_dir: Path) -> None:
    got = run([(ABSENT, "1.0")])[(ABSENT, "1.0")]
    assert got.name_absent
    assert got.ownership_source == "unknown"
    assert got.ownership_reason == f"{ABSENT} is not on pypi.org"
    again = enrich([(ABSENT, "1.0")], index_url=INDEX, cache_dir=cache_dir, offline=True)
    assert again[(ABSENT, "1.0")].name_absent  # the 404 was cached as a fact


def test_cache_hit_serves_without_network(run: Run, cache_dir: Path) -> None:
    keys: list[tuple[str, str | None]] = [("requests", "2.32.3"), ("sigstore", "3.6.1")]
    first = run(keys)
    with NoNetwork() as session:
        online_again = enrich(keys, index_url=INDEX, cache_dir=cache_dir, session=session)
        offline = enrich(keys, index_url=INDEX, cache_dir=cache_dir, offline=True, session=session)
    assert online_again == first == offline


def test_expired_entries_are_asked_again(run: Run, index: FakeIndex, cache_dir: Path) -> None:
    run([("six", "1.16.0")])
    asked = len(index.calls)
    run([("six", "1.16.0")])
    assert len(index.calls) == asked  # fresh: nothing asked
    run([("six", "1.16.0")], ttl=0)
    assert len(index.calls) == 2 * asked  # expired: all asked again


def test_nothing_is_cached_from_a_failure(run: Run, index: FakeIndex, cache_dir: Path) -> None:
    index.script(REQUESTS_JSON, *[(500, b"oops")] * 3)
    index.script("/pypi/six/json", *[requests.ReadTimeout("read timed out")] * 3)
    index.script("/pypi/sampleproject/json", *[(200, b'{"info": {"name": "sampleproje')] * 3)
    index.script("/pypi/ply/json", (200, b"[1, 2, 3]"))
    keys: list[tuple[str, str | None]] = [
        ("requests", "2.32.3"),
        ("six", "1.16.0"),
        ("sampleproject", "4.0.0"),
        ("ply", "3.11"),
    ]
    got = run(keys, retries=3)
    assert got[("requests", "2.32.3")].errors == (
        "pypi.org: /pypi/requests/json HTTP 500 after 3 tries",
    )
    assert got[("six", "1.16.0")].errors == ("pypi.org: /pypi/six/json timed out after 3 tries",)
    assert got[("sampleproject", "4.0.0")].errors == (
        "pypi.org: /pypi/sampleproject/json malformed JSON after 3 tries",
    )
    for key in keys[:3]:
        assert got[key].ownership_source == "unknown"
        assert got[key].ownership_reason == got[key].errors[0]
    assert got[("ply", "3.11")].errors == ()  # the second try answered well
    with Cache(cache_dir) as cache:
        for name in ("requests", "six", "sampleproject"):
            # the Simple API answered well and is kept; the failed JSON answer is not
            assert ("", "project") not in cache.get_project("https://pypi.org", name)
            assert ("", "listing") in cache.get_project("https://pypi.org", name)
        assert ("", "project") in cache.get_project("https://pypi.org", "ply")


def test_503_twice_then_200_is_retried(run: Run, index: FakeIndex) -> None:
    index.script("/pypi/six/json", (503, b""), (503, b"", {"Retry-After": "1"}))
    got = run([("six", "1.16.0")])[("six", "1.16.0")]
    assert got.errors == ()
    assert got.roles == (("gutworth", "Owner"),)
    assert index.paths().count("/pypi/six/json") == 3


def test_backoff_waits_between_tries(
    session: requests.Session, index: FakeIndex, tmp_path: Path
) -> None:
    index.script("/pypi/six/json", (429, b""), (503, b""))
    start = time.perf_counter()
    got = enrich(
        [("six", None)], index_url=INDEX, cache_dir=tmp_path, session=session, backoff=0.05
    )
    waited = time.perf_counter() - start
    assert got[("six", None)].errors == ()
    assert waited >= 0.05  # about 0.025-0.05 then 0.05-0.1 seconds (benchmarks time it)


def test_no_retry_on_404_or_another_4xx(run: Run, index: FakeIndex) -> None:
    index.script("/pypi/six/json", (403, b"forbidden"))
    got = run([(ABSENT, None), ("six", None)], retries=5)
    assert index.paths().count(f"/pypi/{ABSENT}/json") == 1
    assert index.paths().count("/pypi/six/json") == 1
    assert got[("six", None)].errors == ("pypi.org: /pypi/six/json HTTP 403",)


def test_connection_errors_and_timeouts_then_give_up(run: Run, index: FakeIndex) -> None:
    index.script(
        REQUESTS_JSON,
        requests.ConnectTimeout("connect timed out"),
        requests.ConnectionError("refused"),
    )
    got = run([("requests", "2.32.3")], retries=2)[("requests", "2.32.3")]
    assert got.errors == ("pypi.org: /pypi/requests/json could not connect after 2 tries",)
    assert got.ownership_source == "unknown"


def test_failures_stay_with_their_component(run: Run, index: FakeIndex) -> None:
    index.script(REQUESTS_JSON, *[(502, b"")] * 3)
    index.script(
        "/integrity/sigstore/3.6.1/sigstore-3.6.1-py3-none-any.whl/provenance",
        *[requests.ReadTimeout("read timed out")] * 3,
    )
    got = run([("requests", "2.32.3"), ("six", "1.16.0"), ("sigstore", "3.6.1")])
    assert got[("requests", "2.32.3")].ownership_source == "unknown"
    assert got[("six", "1.16.0")].errors == ()
    assert got[("six", "1.16.0")].ownership_source == "pypi-json"
    sigstore = got[("sigstore", "3.6.1")]
    assert sigstore.ownership_source == "pypi-json"
    assert sigstore.errors == (
        "pypi.org: provenance of sigstore-3.6.1-py3-none-any.whl: timed out after 3 tries",
    )
    states = {f.filename: f.attestation for f in sigstore.files}
    assert states == {
        "sigstore-3.6.1-py3-none-any.whl": "unknown",
        "sigstore-3.6.1.tar.gz": "present",
    }


def test_stale_answer_is_used_when_the_index_fails(run: Run, index: FakeIndex) -> None:
    run([("six", "1.16.0")])
    index.script("/pypi/six/json", *[(503, b"")] * 3)
    got = run([("six", "1.16.0")], ttl=0)[("six", "1.16.0")]
    assert got.ownership_source == "pypi-json"
    assert len(got.errors) == 1
    assert got.errors[0].startswith("pypi.org: /pypi/six/json HTTP 503 after 3 tries; the answer")


def test_offline_with_an_empty_cache_is_fast_unknown_and_never_sends(tmp_path: Path) -> None:
    keys: list[tuple[str, str | None]] = [(f"package-{i}", "1.0") for i in range(200)]
    with NoNetwork() as session:
        got = enrich(keys, index_url=INDEX, cache_dir=tmp_path / "c", offline=True, session=session)
    assert len(got) == 200
    for item in got.values():
        assert item.ownership_source == "unknown"
        assert item.ownership_reason == f"offline: nothing cached for {item.name} from pypi.org"
        assert not item.ownership_known and not item.name_absent and item.files == ()
    assert not (tmp_path / "c").exists()  # offline writes nothing


def test_offline_does_not_import_requests(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from depchain.enrich.pypi import enrich\n"
        f"r = enrich([('six', '1.16.0')], cache_dir={str(tmp_path)!r}, offline=True)\n"
        "assert r[('six', '1.16.0')].ownership_source == 'unknown'\n"
        "assert 'requests' not in sys.modules, 'requests imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_concurrency_is_bounded(cache_dir: Path) -> None:
    slow = FakeIndex(delay=0.02)
    names = ["requests", "six", "sampleproject", "sigstore", "ply"]
    keys: list[tuple[str, str | None]] = [
        (n, None) for n in names + [f"absent-{i}" for i in range(10)]
    ]
    with session_for(slow) as session:
        enrich(keys, index_url=INDEX, cache_dir=cache_dir, session=session, workers=3)
    assert len(slow.calls) == 30  # the Simple API page and the project JSON of each
    assert 1 < slow.max_in_flight <= 3


def test_credentials_of_the_index_never_appear(tmp_path: Path, index: FakeIndex) -> None:
    index.script("/pypi/six/json", *[(500, b"")] * 3)
    with session_for(index) as session:
        got = enrich(
            [("six", "1.16.0"), ("requests", "2.32.3")],
            index_url="https://__token__:pypi-SECRET@pypi.org/simple",
            cache_dir=tmp_path,
            session=session,
            backoff=0,
        )
    assert "SECRET" not in repr(got)
    assert got[("six", "1.16.0")].index == "https://***@pypi.org/simple"
    assert "SECRET" not in (tmp_path / FILENAME).read_bytes().decode("utf-8", "replace")
    assert all("SECRET" not in url for url in index.calls)  # the API base carries none


def test_an_unusable_cache_does_not_stop_enrichment(run: Run, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / FILENAME).write_bytes(b"not a database" * 100)
    got = run([("six", "1.16.0")], cache_dir=broken)[("six", "1.16.0")]
    assert got.ownership_source == "pypi-json"
    assert len(got.errors) == 1 and "not a usable cache" in got.errors[0]


def test_packages_of_skips_the_project_and_non_registry_sources() -> None:
    components = [
        Component("pkg:pypi/six@1.16.0", "six", "pypi", "1.16.0"),
        Component("pkg:pypi/requests", "requests", "pypi"),
        Component("pkg:pypi/me@0.1", "me", "pypi", "0.1", type=ComponentType.APPLICATION),
        Component(
            "pkg:pypi/tool", "tool", "pypi", sources=(Source(SourceKind.VCS, "https://x/t.git"),)
        ),
        Component("pkg:cargo/serde@1.0.0", "serde", "cargo", "1.0.0"),
    ]
    assert packages_of(components) == [("requests", None), ("six", "1.16.0")]


@pytest.mark.parametrize("workers", [1, 8])
def test_same_answers_whatever_the_concurrency(
    workers: int, tmp_path: Path, session: requests.Session
) -> None:
    keys: list[tuple[str, str | None]] = [
        ("requests", "2.32.0"),
        ("sigstore", "3.6.1"),
        ("six", "1.4.1"),
        (ABSENT, "0.1"),
    ]
    got = enrich(
        keys, index_url=INDEX, cache_dir=tmp_path, session=session, workers=workers, backoff=0
    )
    summary = {
        k: (v.ownership_source, v.roles, tuple((f.filename, f.attestation) for f in v.files))
        for k, v in got.items()
    }
    assert summary[("sigstore", "3.6.1")][2] == (
        ("sigstore-3.6.1-py3-none-any.whl", "absent"),
        ("sigstore-3.6.1.tar.gz", "present"),
    )
    assert summary[(ABSENT, "0.1")] == ("unknown", (), ())


def test_provenance_failures_are_summed_up_and_a_malformed_one_is_not_cached(
    run: Run, index: FakeIndex, cache_dir: Path
) -> None:
    for filename in ("requests-2.32.3-py3-none-any.whl", "requests-2.32.3.tar.gz"):
        index.script(f"/integrity/requests/2.32.3/{filename}/provenance", *[(503, b"")] * 3)
    index.script(
        "/integrity/sigstore/3.6.1/sigstore-3.6.1.tar.gz/provenance", (200, b'{"version": 1}')
    )
    got = run([("requests", "2.32.3"), ("sigstore", "3.6.1")])
    assert got[("requests", "2.32.3")].errors == (
        "pypi.org: provenance of 2 files of requests 2.32.3: HTTP 503 after 3 tries",
    )
    sigstore = got[("sigstore", "3.6.1")]
    assert sigstore.errors == (
        "pypi.org: provenance of sigstore-3.6.1.tar.gz: "
        "malformed provenance (attestation_bundles: Field required)",
    )
    with Cache(cache_dir) as cache:
        kinds = {kind for _, kind in cache.get_project("https://pypi.org", "sigstore")}
    assert "provenance/sigstore-3.6.1.tar.gz" not in kinds
    assert "provenance/sigstore-3.6.1-py3-none-any.whl" in kinds


def test_an_index_without_releases_in_the_project_json_is_asked_per_version(
    run: Run, index: FakeIndex
) -> None:
    # the real project JSON of six without its "releases" (which Warehouse has said it
    # may drop), and the real files of 1.16.0 as the per-version JSON's "urls"
    data = _recorded("six")
    releases = data.pop("releases")
    assert isinstance(releases, dict)
    index.script("/pypi/six/json", (200, json.dumps(data).encode()))
    index.script("/simple/six/", (503, b""), (503, b""), (503, b""))  # and no Simple API
    index.script("/pypi/six/1.16.0/json", (200, json.dumps({"urls": releases["1.16.0"]}).encode()))
    got = run([("six", "1.16.0"), ("six", "2.0.0")])
    assert got[("six", "1.16.0")].release_found is True
    assert [f.kind for f in got[("six", "1.16.0")].files] == ["wheel", "sdist"]
    assert got[("six", "2.0.0")].release_found is False  # the recording's 404


def test_a_broken_pip_configuration_is_said(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("index-url = https://example.invalid/simple\n")  # no [global] header
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    got = enrich([("six", None)], cache_dir=tmp_path / "c", offline=True)
    [warning] = [e for e in got[("six", None)].errors if str(conf) in e]
    assert "not a valid pip configuration file" in warning
    assert got[("six", None)].index == "https://pypi.org/simple"
