"""``depchain db update``'s backend against OSV-shaped archives served on 127.0.0.1.

The archives are built here from a handful of real records: PyPA advisories (YAML,
converted to JSON as OSV's bucket holds them) and RustSec advisories (OSV JSON). What is
checked: the archive lands where the offline source looks, with its sidecar; a download
that fails in any way (cut short, too large, not a zip, too slow, a refused redirect)
leaves the previous archive and no temporary file; one ecosystem's 404 is that one's
error only.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from depchain.errors import UsageError
from depchain.vulns import dbupdate
from depchain.vulns.dbupdate import (
    archive_info,
    archive_path,
    cached_archives,
    ecosystem_name,
    osv_cache,
    update,
)
from tests.conftest import SHARED

PYPA = SHARED / "pypa-advisory-database" / "vulns"
RUSTSEC = SHARED / "rustsec-advisory-db-osv" / "crates"
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _zip(records: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pypi_zip() -> bytes:
    if not PYPA.is_dir():
        pytest.skip(f"the PyPA advisory database is not present at {PYPA}")
    paths = sorted((PYPA / "django").glob("*.yaml"))[:8] + sorted((PYPA / "jinja2").glob("*.yaml"))
    return _zip([_plain(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in paths])


@pytest.fixture(scope="module")
def crates_zip() -> bytes:
    if not RUSTSEC.is_dir():
        pytest.skip(f"the RustSec OSV advisories are not present at {RUSTSEC}")
    paths = sorted(RUSTSEC.glob("*.json"))[:6]
    return _zip([json.loads(p.read_text(encoding="utf-8")) for p in paths])


def _records(archive: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return len([n for n in z.namelist() if n.endswith(".json")])


# -- a bucket on 127.0.0.1 ------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


class Bucket:
    """Serves ``routes[path]``: bytes (a 200 with Last-Modified, or a 304 when the
    request's If-Modified-Since says so) or a handler function; 404 otherwise."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes | Route] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        bucket = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                bucket.seen.append((self.path, dict(self.headers.items())))
                route = bucket.routes.get(self.path)
                try:
                    if route is None:
                        send(self, 404, b"<Error>NoSuchKey</Error>")
                    elif callable(route):
                        route(self)
                    elif self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                        send(self, 304, b"")
                    else:
                        send(self, 200, route, {"Last-Modified": LAST_MODIFIED})
                except OSError:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def paths(self) -> list[str]:
        return [p for p, _ in self.seen]


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 304:
        handler.wfile.write(body)


@contextmanager
def bucket() -> Iterator[Bucket]:
    served = Bucket()
    served.thread.start()
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".depchain-tmp-")]


# -- downloads ------------------------------------------------------------------------------


def test_update_downloads_each_archive_with_its_sidecar(
    tmp_path: Path, pypi_zip: bytes, crates_zip: bytes
) -> None:
    seen: list[tuple[str, int, int | None]] = []
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        served.routes["/crates.io/all.zip"] = crates_zip
        results = update(
            ["PyPI", "crates.io"],
            base_url=served.base,
            cache_dir=tmp_path,
            progress=lambda e, d, t: seen.append((e, d, t)),
        )
    assert [r.ecosystem for r in results] == ["PyPI", "crates.io"]
    assert all(r.ok and not r.unchanged for r in results), [r.error for r in results]
    for result, body in zip(results, (pypi_zip, crates_zip), strict=True):
        assert result.path == tmp_path / "osv" / result.ecosystem / "all.zip"
        assert result.path.read_bytes() == body
        sidecar = json.loads(result.path.with_name("all.zip.json").read_text())
        assert sidecar["ecosystem"] == result.ecosystem
        assert sidecar["url"] == f"{served.base}/{result.ecosystem}/all.zip"
        assert sidecar["size"] == len(body)
        assert sidecar["sha256"] == hashlib.sha256(body).hexdigest()
        assert sidecar["records"] == _records(body)
        assert sidecar["last_modified"] == "2026-10-21T07:28:00Z"
        datetime.datetime.strptime(sidecar["downloaded"], "%Y-%m-%dT%H:%M:%SZ")
        assert archive_info(result.path) == result.info
        assert _temps(result.path.parent) == []
    assert cached_archives(tmp_path) == sorted(r.path for r in results)
    # progress: from 0 to the whole, with the declared total, for each
    for ecosystem, body in (("PyPI", pypi_zip), ("crates.io", crates_zip)):
        mine = [(d, t) for e, d, t in seen if e == ecosystem]
        assert mine[0] == (0, len(body)) and mine[-1] == (len(body), len(body))
        assert [d for d, _ in mine] == sorted(d for d, _ in mine)


def test_an_unchanged_archive_is_not_downloaded_again(tmp_path: Path, pypi_zip: bytes) -> None:
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        [first] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
        [second] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
        [forced] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path, force=True)
    assert first.ok and not first.unchanged
    assert second.ok and second.unchanged and second.info == first.info
    assert served.seen[1][1].get("If-Modified-Since") == LAST_MODIFIED
    assert forced.ok and not forced.unchanged
    assert "If-Modified-Since" not in served.seen[2][1]


def test_a_404_for_one_ecosystem_is_that_one_s_error_only(
    tmp_path: Path, pypi_zip: bytes, crates_zip: bytes
) -> None:
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        served.routes["/crates.io/all.zip"] = crates_zip
        results = update(base_url=served.base, cache_dir=tmp_path)  # PyPI, crates.io, Go
    by = {r.ecosystem: r for r in results}
    assert list(by) == ["PyPI", "crates.io", "Go"]
    assert by["PyPI"].ok and by["crates.io"].ok
    go = by["Go"]
    assert not go.ok and go.error is not None
    assert "HTTP 404" in go.error and "/Go/all.zip" in go.error
    assert not go.path.exists()
    assert cached_archives(tmp_path) == sorted([by["PyPI"].path, by["crates.io"].path])


def _cut(body: bytes) -> Route:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.close_connection = True

    return handler


def test_a_download_cut_mid_way_keeps_the_previous_archive(
    tmp_path: Path, pypi_zip: bytes, crates_zip: bytes
) -> None:
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        [first] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
        sidecar = first.path.with_name("all.zip.json").read_text()
        served.routes["/PyPI/all.zip"] = _cut(crates_zip)
        [cut] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
    assert not cut.ok and cut.error is not None
    assert "cut short" in cut.error
    assert first.path.read_bytes() == pypi_zip
    assert first.path.with_name("all.zip.json").read_text() == sidecar
    assert _temps(first.path.parent) == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"<html>not a zip</html>", "not a zip archive"),
        (_zip([]), "no .json records"),
        (b"", "not a zip archive"),
    ],
)
def test_what_is_not_an_osv_archive_is_not_kept(
    tmp_path: Path, pypi_zip: bytes, body: bytes, said: str
) -> None:
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
        served.routes["/PyPI/all.zip"] = lambda h: send(h, 200, body)
        [bad] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
    assert bad.error is not None and said in bad.error
    assert archive_path("PyPI", tmp_path).read_bytes() == pypi_zip
    assert _temps(archive_path("PyPI", tmp_path).parent) == []


def test_a_zip_of_other_json_is_not_an_osv_archive(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("package.json", json.dumps({"name": "left-pad"}))
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = buffer.getvalue()
        [bad] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
    assert bad.error is not None and "is not an OSV record" in bad.error
    assert not bad.path.exists()


def test_an_archive_over_the_size_bound_is_refused(tmp_path: Path, pypi_zip: bytes) -> None:
    def no_length(h: BaseHTTPRequestHandler) -> None:  # the bound found while reading
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(pypi_zip)
        h.close_connection = True

    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        served.routes["/crates.io/all.zip"] = no_length
        results = update(
            ["PyPI", "crates.io"], base_url=served.base, cache_dir=tmp_path, max_size=1000
        )
    for result in results:
        assert result.error is not None and "larger than 1000 bytes" in result.error
        assert not result.path.exists()
        assert _temps(result.path.parent) == []


def test_a_download_that_passes_its_deadline_is_cut(tmp_path: Path, pypi_zip: bytes) -> None:
    stop = threading.Event()

    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(pypi_zip)))
        h.end_headers()
        for i in range(len(pypi_zip)):
            if stop.is_set():
                return
            h.wfile.write(pypi_zip[i : i + 1])
            h.wfile.flush()
            time.sleep(0.05)

    with bucket() as served:
        served.routes["/PyPI/all.zip"] = drip
        start = time.monotonic()
        [late] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path, deadline=1, timeout=5)
        took = time.monotonic() - start
        stop.set()
    assert took < 3
    assert late.error == "not downloaded within 1 s"
    assert not late.path.exists()
    assert _temps(late.path.parent) == []


def test_redirects_are_followed_within_bounds(tmp_path: Path, pypi_zip: bytes) -> None:
    def to(location: str) -> Route:
        return lambda h: send(h, 302, b"", {"Location": location})

    with bucket() as served:
        served.routes["/PyPI/all.zip"] = to("/mirror/PyPI/all.zip")
        served.routes["/mirror/PyPI/all.zip"] = pypi_zip
        served.routes["/crates.io/all.zip"] = to("http://198.51.100.7/crates.io/all.zip")
        served.routes["/Go/all.zip"] = to("/Go/all.zip")  # a loop
        served.routes["/npm/all.zip"] = to("ftp://127.0.0.1/npm/all.zip")
        results = update(
            ["PyPI", "crates.io", "Go", "npm"], base_url=served.base, cache_dir=tmp_path
        )
    by = {r.ecosystem: r for r in results}
    assert by["PyPI"].ok and by["PyPI"].path.read_bytes() == pypi_zip
    assert by["crates.io"].error is not None
    assert "refused: not https" in by["crates.io"].error
    assert by["Go"].error is not None and "more than 5 redirects" in by["Go"].error
    assert by["npm"].error is not None and "not an http(s) URL" in by["npm"].error
    assert served.paths().count("/Go/all.zip") == 6


def test_a_public_server_may_not_redirect_to_a_private_address() -> None:
    refusal = dbupdate._refusal
    assert refusal("https://10.0.0.8/x/all.zip", origin_public=True) == "a private address"
    assert refusal("https://169.254.169.254/x", origin_public=True) == "a link-local address"
    assert refusal("https://127.0.0.1/x", origin_public=True) == "a loopback address"
    assert refusal("https://mirror.example/x", origin_public=True) is None
    assert refusal("https://10.0.0.8/x/all.zip", origin_public=False) is None
    assert refusal("http://127.0.0.1:8000/x", origin_public=False) is None
    assert refusal("http://mirror.example/x", origin_public=False) is not None


def test_credentials_in_the_base_url_are_never_recorded(tmp_path: Path, pypi_zip: bytes) -> None:
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        base = served.base.replace("http://", "http://reader:s3cret@") + "/"
        [result] = update(["pypi"], base_url=base, cache_dir=tmp_path)
    assert result.ok, result.error
    assert "Authorization" in served.seen[0][1]  # the credentials were used...
    sidecar = result.path.with_name("all.zip.json").read_text()
    assert "s3cret" not in sidecar and "s3cret" not in result.url  # ...and not written
    assert result.info is not None and "***@" in result.info.url


def test_an_unreachable_server_is_each_ecosystem_s_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = update(["PyPI", "Go"], base_url=f"http://127.0.0.1:{port}", cache_dir=tmp_path)
    assert [r.error for r in results] == [
        f"cannot download http://127.0.0.1:{port}/{e}/all.zip: connection refused"
        for e in ("PyPI", "Go")
    ]


# -- names, URLs and where archives live ---------------------------------------------------


def test_ecosystem_names() -> None:
    assert ecosystem_name("pypi") == "PyPI"
    assert ecosystem_name(" cargo ") == "crates.io"
    assert ecosystem_name("golang") == "Go"
    assert ecosystem_name("GO") == "Go"
    assert ecosystem_name("Debian:12") == "Debian:12"
    for bad in ("", "../etc", "a/b", "x" * 100, "Debian\n12"):
        with pytest.raises(UsageError):
            ecosystem_name(bad)
    assert dbupdate.folder_name("Debian:12") == "Debian_12"


def test_a_base_url_that_is_not_https_is_a_usage_error(tmp_path: Path) -> None:
    for base in ("http://osv.example", "ftp://127.0.0.1", "file:///tmp", "not a url"):
        with pytest.raises(UsageError, match="cannot download from"):
            update(["PyPI"], base_url=base, cache_dir=tmp_path)
    assert not (tmp_path / "osv").exists()


def test_the_cache_is_the_enrichment_cache_s_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depchain.enrich.cache import cache_dir

    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(tmp_path / "env"))
    assert osv_cache() == cache_dir() / "osv" == tmp_path / "env" / "osv"
    assert osv_cache(tmp_path / "given") == tmp_path / "given" / "osv"
    assert archive_path("crates.io") == tmp_path / "env" / "osv" / "crates.io" / "all.zip"
    assert cached_archives() == []  # no cache at all: nothing, and no error


def test_a_tampered_sidecar_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "osv" / "PyPI"
    folder.mkdir(parents=True)
    (folder / "all.zip").write_bytes(_zip([{"id": "X-1"}]))
    for text in ("{", "[]", '{"size": -1}', json.dumps({"x": "y" * 100_000})):
        (folder / "all.zip.json").write_text(text)
        assert archive_info(folder / "all.zip") is None
    assert cached_archives(tmp_path) == [folder / "all.zip"]


def test_a_stale_temporary_file_of_a_killed_run_is_removed(tmp_path: Path, pypi_zip: bytes) -> None:
    import os

    folder = tmp_path / "osv" / "PyPI"
    folder.mkdir(parents=True)
    stale = folder / ".depchain-tmp-all.zip.0123abcd.tmp"
    stale.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        [result] = update(["PyPI"], base_url=served.base, cache_dir=tmp_path)
    assert result.ok
    assert _temps(folder) == []


def test_the_cli_updates_then_a_scan_audits_offline_from_the_cache(
    tmp_path: Path, pypi_zip: bytes
) -> None:
    """As a new user would: `depchain db update`, then `depchain scan` with no network
    and no --vuln-db finds the advisories, says how old the data is, and an archive
    that failed to come keeps the run at exit 3."""
    from typer.testing import CliRunner

    from depchain.cli import app

    cache = tmp_path / "cache"
    runner = CliRunner()
    with bucket() as served:
        served.routes["/PyPI/all.zip"] = pypi_zip
        done = runner.invoke(app, ["db", "update", "--url", served.base, "--cache-dir", str(cache)])
    assert done.exit_code == 3  # crates.io and Go are not served: their own errors
    assert "PyPI: updated (" in done.output and "data of 2026-10-21" in done.output
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("jinja2==2.10\n")  # the archive holds jinja2's
    scanned = runner.invoke(app, ["scan", str(project), "--cache-dir", str(cache), "-f", "json"])
    report = json.loads(scanned.stdout)
    ids = {v["id"] for v in report["vulnerabilities"]}
    assert "PYSEC-2019-217" in ids, ids  # str.format_map sandbox escape, fixed in 2.10.1
    assert report["audit"]["sources"][0]["name"] == "osv-offline"
    assert report["audit"]["complete"] is True
