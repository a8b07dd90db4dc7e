"""Enrichment against a hostile index on 127.0.0.1: deadlines per request and per scan,
size and count caps, redirects, and no secret of the index URL in any message or in the
cache. Every server here is started by the test, on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from depchain.enrich import fetch
from depchain.enrich.cache import FILENAME
from depchain.enrich.fetch import Reach
from depchain.enrich.pypi import enrich
from depchain.enrich.simple import MAX_FILES
from tests.enrich.fakeindex import RECORDED
from tests.enrich.localserver import answer, drip, large, local_index, send, timed

SIX_PAGE = (RECORDED / "simple" / "six.json").read_bytes()
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def _rows(cache_dir: Path) -> list[tuple[object, ...]]:
    path = cache_dir / FILENAME
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return list(db.execute("SELECT idx, project, release, kind, status, body FROM answers"))
    finally:
        db.close()


def _cached_projects(cache_dir: Path) -> set[object]:
    return {row[1] for row in _rows(cache_dir)}


# -- deadlines --------------------------------------------------------------------------


def test_a_slowloris_body_ends_at_the_request_deadline(tmp_path: Path) -> None:
    with local_index() as index:
        index.route("/simple/slow/", drip(every=0.5))
        index.route("/simple/six/", answer(200, SIX_PAGE, SIMPLE_JSON))
        got, took = timed(
            lambda: enrich(
                [("slow", "1.0"), ("six", "1.16.0")],
                index_url=f"{index.url}/simple",
                cache_dir=tmp_path,
                request_timeout=2,
                backoff=0,
            )
        )
    assert took < 4, took  # one byte every 0.5 s would hold a read for ever
    slow = got[("slow", "1.0")]
    assert slow.errors == ("127.0.0.1: /simple/slow/ no answer within 2 s (1 try)",)
    assert slow.release_found is None and slow.files == ()
    assert got[("six", "1.16.0")].release_found is True  # the other package is unharmed
    assert _cached_projects(tmp_path) == {"six"}  # nothing cached from the failure


def test_slow_headers_end_at_the_request_deadline_too(tmp_path: Path) -> None:
    with local_index() as index:
        index.route("/simple/slow/", drip(every=0.3, headers_too=True))
        got, took = timed(
            lambda: enrich(
                [("slow", "1.0")],
                index_url=f"{index.url}/simple",
                cache_dir=tmp_path,
                request_timeout=1.5,
                backoff=0,
            )
        )
    assert took < 3.5, took
    assert got[("slow", "1.0")].errors == (
        "127.0.0.1: /simple/slow/ no answer within 1.5 s (1 try)",
    )
    assert _rows(tmp_path) == []


def test_the_scan_budget_ends_every_request_with_a_note_per_package(tmp_path: Path) -> None:
    packages: list[tuple[str, str | None]] = [(f"slow-{i}", "1.0") for i in range(40)]
    with local_index() as index:
        index.route("*", drip(every=0.5))
        got, took = timed(
            lambda: enrich(
                packages,
                index_url=f"{index.url}/simple",
                cache_dir=tmp_path,
                timeout=2,
                request_timeout=15,
                workers=4,
                backoff=0,
            )
        )
    assert took < 4.5, took  # 40 slow pages, 4 at a time: the budget of 2 s holds
    assert len(got) == 40
    for item in got.values():
        [error] = item.errors
        assert error.startswith(f"127.0.0.1: /simple/{item.name}/ ")
        assert "index time budget (2 s)" in error
    assert _rows(tmp_path) == []


# -- sizes and counts -------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_30_mb_page_is_refused_quickly(tmp_path: Path, declared: bool) -> None:
    with local_index() as index:
        index.route("/simple/big/", large(30 * 10**6, declared=declared))
        got, took = timed(
            lambda: enrich(
                [("big", "1.0")], index_url=f"{index.url}/simple", cache_dir=tmp_path, backoff=0
            )
        )
    assert took < 5, took  # it took 138 s and 1.2 GB
    assert got[("big", "1.0")].errors == (
        "127.0.0.1: /simple/big/ answer larger than 16 MiB: not read",
    )
    assert _rows(tmp_path) == []


@pytest.mark.parametrize("links", [200_000, 1_000_000])
@pytest.mark.parametrize("media", ["text/html", SIMPLE_JSON])
def test_pages_with_too_many_links_end_quickly_and_nothing_is_cached(
    tmp_path: Path, links: int, media: str
) -> None:
    if media == "text/html":
        body = b"<a href=f-1.0.tar.gz>" * links
    else:
        files = [{"filename": "f-1.0.tar.gz", "url": "f", "hashes": {}}] * links
        body = json.dumps({"meta": {"api-version": "1.1"}, "files": files}).encode()
    if len(body) > fetch.MAX_BODY:
        body = body[: fetch.MAX_BODY - 4096] + b"]}"  # the link cap is what is tried here
        if media != "text/html":
            body = body.rsplit(b"},", 1)[0] + b"}]}"
    with local_index() as index:
        index.route("/simple/f/", answer(200, body, media))
        got, took = timed(
            lambda: enrich(
                [("f", "1.0")], index_url=f"{index.url}/simple", cache_dir=tmp_path, backoff=0
            )
        )
    assert took < 5, took
    assert got[("f", "1.0")].errors == (
        f"127.0.0.1: /simple/f/ the page lists more than {MAX_FILES} files: not read",
    )
    assert _rows(tmp_path) == []


def test_provenance_asked_for_at_most_50_files_per_project(tmp_path: Path) -> None:
    names = [f"many-1.0-py3-none-{i}.whl" for i in range(120)]
    page = {
        "meta": {"api-version": "1.3"},
        "name": "many",
        "files": [
            {"filename": n, "url": n, "hashes": {}, "provenance": f"/prov/{n}"} for n in names
        ],
    }
    with local_index() as index:
        index.route("/simple/many/", answer(200, json.dumps(page).encode(), SIMPLE_JSON))
        index.route("*", answer(404))
        got = enrich(
            [("many", "1.0")], index_url=f"{index.url}/simple", cache_dir=tmp_path, backoff=0
        )
    asked = [p for p in index.paths() if p.startswith("/prov/")]
    assert len(asked) == 50
    item = got[("many", "1.0")]
    assert item.errors == (
        "127.0.0.1: provenance of 70 more files of many not asked (at most 50 per project and run)",
    )
    assert sorted(f.attestation for f in item.files) == ["absent"] * 50 + ["unknown"] * 70


# -- redirects --------------------------------------------------------------------------


def test_a_redirect_to_the_metadata_address_is_refused(tmp_path: Path) -> None:
    with local_index() as index:
        index.route(
            "/simple/meta/",
            answer(302, Location="http://169.254.169.254/latest/meta-data/?x=1"),
        )
        got = enrich(
            [("meta", "1.0")], index_url=f"{index.url}/simple", cache_dir=tmp_path, backoff=0
        )
    assert got[("meta", "1.0")].errors == (
        "127.0.0.1: /simple/meta/ redirect to http://169.254.169.254/latest/meta-data/ "
        "refused (not https)",
    )
    assert index.paths() == ["/simple/meta/"]  # asked once: a refusal is not retried
    assert _rows(tmp_path) == []


def test_redirects_on_the_index_host_are_followed_with_a_bound(tmp_path: Path) -> None:
    with local_index() as index:
        index.route("/simple/Six/", answer(301, Location="/simple/six/"))
        index.route("/simple/six/", answer(200, SIX_PAGE, SIMPLE_JSON))
        index.route("/simple/loop/", answer(302, Location="/simple/loop/"))
        index.route("/simple/away/", answer(307, Location="https://example.org/simple/away/"))
        index.route("/simple/other-port/", answer(302, Location="http://127.0.0.1:1/x/"))
        index.route("/simple/localhost/", answer(302, Location="https://localhost/x/"))
        got = enrich(
            [
                ("Six", "1.16.0"),
                ("loop", "1"),
                ("away", "1"),
                ("other-port", "1"),
                ("localhost", "1"),
            ],
            index_url=f"{index.url}/simple",
            cache_dir=tmp_path,
            backoff=0,
        )
    assert got[("Six", "1.16.0")].release_found is True
    assert got[("loop", "1")].errors == ("127.0.0.1: /simple/loop/ more than 5 redirects",)
    assert got[("away", "1")].errors == (
        "127.0.0.1: /simple/away/ redirect to https://example.org/simple/away/ refused "
        "(not the index's host)",
    )
    assert got[("other-port", "1")].errors == (
        "127.0.0.1: /simple/other-port/ redirect to http://127.0.0.1:1/x/ refused (not https)",
    )
    assert got[("localhost", "1")].errors == (
        "127.0.0.1: /simple/localhost/ redirect to https://localhost/x/ refused "
        "(not the index's host)",
    )
    assert index.paths().count("/simple/loop/") == 6


def test_reach_refuses_internal_addresses_even_on_a_file_host() -> None:
    pypi = Reach("https://pypi.org/simple")
    assert pypi.refusal("https://files.pythonhosted.org/packages/x.whl") is None
    assert pypi.refusal("https://pypi.org/integrity/x") is None
    assert pypi.refusal("http://pypi.org/simple/x/") == "not https"
    assert pypi.refusal("https://169.254.169.254/") == "not the index's host"
    assert pypi.refusal("file:///etc/passwd") == "not an http(s) URL"
    assert pypi.refusal("https://pypi.org:99999/") == "not a valid URL"
    hosts = [
        "169.254.169.254",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "localhost",
        "a.localhost",
        "10.0.0.1",
        "192.168.1.1",
        "[::1]",
        "[::ffff:169.254.169.254]",
        "[fe80::1]",
        "metadata.google.internal",
        "0.0.0.0",
    ]
    trusted = [h.strip("[]") for h in hosts] + ["files.pythonhosted.org"]
    lax = Reach("https://pypi.org/simple", file_hosts=trusted)
    for host in hosts:
        why = lax.refusal(f"https://{host}/latest/")
        assert why is not None and why.startswith("a "), (host, why)
    assert lax.refusal("https://files.pythonhosted.org/x") is None
    # an index on loopback (the tests') may be redirected on its own host, http included
    local = Reach("http://127.0.0.1:8080/simple")
    assert local.refusal("http://127.0.0.1:8080/other/") is None
    assert local.refusal("http://127.0.0.1:8081/other/") == "not https"
    # an index on a private address keeps its own host, and nothing else inside
    private = Reach("https://10.1.2.3/simple", file_hosts=["10.9.9.9"])
    assert private.refusal("https://10.1.2.3/simple/x/") is None
    assert private.refusal("https://10.9.9.9/x") == "a private address"


# -- secrets ----------------------------------------------------------------------------

SECRET = "SECRETpassword42"
TOKEN = "SECRETtoken2-abc"


def _no_secret(text: str) -> None:
    for secret in (SECRET, TOKEN, "SECRETpassword42".lower()):
        assert secret not in text


def test_no_secret_of_the_index_url_in_any_message_or_the_cache(tmp_path: Path) -> None:
    """A token in the user info and in the query: used for the requests to the index's
    own host, in no message, no Enrichment field and no byte of the cache."""
    page = json.loads(SIX_PAGE)
    page["meta"]["api-version"] = "1.3"
    for item in page["files"]:  # links that echo the token, and one with credentials
        item["provenance"] = f"/prov/{item['filename']}?token={TOKEN}"
    page["files"][0]["provenance"] = f"http://u:{SECRET}@127.0.0.1:1/p?token={TOKEN}"
    echoed = json.dumps(page).encode()

    def echo_reason(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        send(
            h,
            200,
            json.dumps(
                {
                    "meta": {"api-version": "1.1"},
                    "files": [],
                    "project-status": {"status": "archived", "reason": f"see ?token={TOKEN}"},
                }
            ).encode(),
            SIMPLE_JSON,
        )

    cache = tmp_path / "cache"
    with local_index() as index:
        index.route("/simple/six/", answer(200, echoed, SIMPLE_JSON))
        index.route("/simple/echo/", echo_reason)
        index.route("/simple/fails/", answer(503))
        index.route("/simple/moved/", answer(302, Location=f"https://x.example/?t={TOKEN}"))
        index.route("/simple/slow/", drip(every=0.5))
        index.route("/simple/big/", large(20 * 2**20))
        index.route("*", answer(404))
        url = f"http://user:{SECRET}@127.0.0.1:{index.port}/simple?token={TOKEN}"
        keys: list[tuple[str, str | None]] = [
            ("six", "1.16.0"),
            ("echo", "1.0"),
            ("fails", "1.0"),
            ("moved", "1.0"),
            ("slow", "1.0"),
            ("big", "1.0"),
            ("absent", "1.0"),
        ]
        got = enrich(keys, index_url=url, cache_dir=cache, request_timeout=2, backoff=0)
        # and over https to a server that speaks http: a TLS failure, said without them
        tls = f"https://user:{SECRET}@127.0.0.1:{index.port}/simple?token={TOKEN}"
        got_tls = enrich([("six", "1.0")], index_url=tls, cache_dir=cache, backoff=0)
    # the credentials were used: on the index's own host, the token and the user info
    six_request = next(h for p, h in index.seen if p.startswith("/simple/six/"))
    assert ("/simple/six/?token=" + TOKEN) in index.paths()
    assert six_request["Authorization"].startswith("Basic ")
    everything = repr(got) + repr(got_tls)
    _no_secret(everything)
    assert got[("six", "1.16.0")].index == (f"http://***@127.0.0.1:{index.port}/simple?token=***")
    assert got[("echo", "1.0")].project_status_reason == "see ?token=***"
    assert got[("fails", "1.0")].errors[0].startswith("127.0.0.1: /simple/fails/ HTTP 503")
    assert got_tls[("six", "1.0")].errors[0].startswith("127.0.0.1: /simple/six/ ")
    # not a byte of the cache (nor of its journal) holds them
    for file in cache.iterdir():
        data = file.read_bytes()
        assert SECRET.encode() not in data and TOKEN.encode() not in data, file.name
    projects = _cached_projects(cache)
    assert "absent" in projects and "fails" not in projects and "slow" not in projects
    assert "six" not in {r[1] for r in _rows(cache) if r[3] == "release"}  # echoed the token
    for row in _rows(cache):
        assert row[0] == f"http://***@127.0.0.1:{index.port}/simple?token=***"


# -- host names ---------------------------------------------------------------------------


def _resolver(table: dict[str, str], slow: set[str]) -> object:
    """A getaddrinfo that answers ``table`` at once and never answers ``slow`` names."""
    import socket
    import time

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[object]:
        if host in slow:
            time.sleep(30)  # a resolver that does not answer (it runs in a left thread)
        address = table.get(host, host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(str(port))))]

    return getaddrinfo


def test_a_host_name_is_looked_up_within_the_request_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setattr(
        socket, "getaddrinfo", _resolver({"index.test": "127.0.0.1"}, {"slow.test"})
    )
    with local_index() as index:
        index.route("/simple/six/", answer(200, SIX_PAGE, SIMPLE_JSON))
        port = index.url.rpartition(":")[2]
        # a name that resolves at once is asked at the address it resolves to
        got = enrich(
            [("six", "1.16.0")],
            index_url=f"http://index.test:{port}/simple",
            cache_dir=tmp_path / "a",
            request_timeout=5,
            backoff=0,
        )
        assert got[("six", "1.16.0")].release_found is True
        # a resolver that never answers holds the request no longer than its deadline
        got, took = timed(
            lambda: enrich(
                [("six", "1.16.0")],
                index_url=f"http://slow.test:{port}/simple",
                cache_dir=tmp_path / "b",
                request_timeout=1.5,
                backoff=0,
            )
        )
    assert took < 3.5, took
    [error] = got[("six", "1.16.0")].errors
    assert "within 1.5 s" in error and "slow.test" in error
    assert _rows(tmp_path / "b") == []


def test_a_name_that_resolves_to_an_internal_address_is_refused_unless_it_is_the_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import time

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        _resolver({"files.pythonhosted.org": "169.254.169.254", "pypi.org": "10.0.0.5"}, set()),
    )
    exchange = fetch._Exchange(time.monotonic() + 5, Reach("https://pypi.org/simple"))
    with pytest.raises(OSError, match="resolves to a link-local address"):
        fetch.resolve("files.pythonhosted.org", 443, exchange)
    assert fetch.resolve("pypi.org", 443, exchange) == ["10.0.0.5"]  # the index's own host
    # through a proxy the connection is to the proxy, the user's choice
    assert fetch.resolve("files.pythonhosted.org", 443, exchange, check=False) == [
        "169.254.169.254"
    ]


def test_progress_is_told_each_answer_and_ends_at_its_total(tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    with local_index() as index:
        index.route("/simple/six/", answer(200, SIX_PAGE, SIMPLE_JSON))
        index.route("/simple/gone/", answer(404, b"", "text/plain"))
        enrich(
            [("six", "1.16.0"), ("gone", "1.0")],
            index_url=f"{index.url}/simple",
            cache_dir=tmp_path,
            backoff=0,
            progress=lambda done, total, name: seen.append((done, total, name)),
        )
    assert [done for done, _, _ in seen] == list(range(1, len(seen) + 1))
    assert seen[-1][0] == seen[-1][1] >= 2
    assert {name for _, _, name in seen} == {"six", "gone"}
