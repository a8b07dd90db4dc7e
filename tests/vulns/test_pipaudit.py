"""pip-audit's services through :class:`PipAuditSource`, against an OSV API (and PyPI's
JSON API) served on 127.0.0.1 from the PyPA advisory database's records.

The server's matching is the test's own and deliberately simple: a record answers a
query when one of its ``affected`` entries names the package and lists the version in
its explicit ``versions``. What is checked is what the source makes of the answers
(ids, aliases, fixed versions, summaries, severity), how it fails (unreachable, slow,
an error for one package, an unusable pip-audit), and that nothing leaves the machine.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depchain.vulns import pipaudit
from depchain.vulns.interface import Advisory, NotAudited, Query, Severity, SourceError
from depchain.vulns.pipaudit import PipAuditSource
from tests.conftest import SHARED

PYPA = SHARED / "pypa-advisory-database" / "vulns"

OLD_PINS = [
    ("django", "3.2.0"),
    ("pillow", "8.0.0"),
    ("urllib3", "1.24.1"),
    ("pyyaml", "5.3"),
    ("jinja2", "2.10"),
]


@pytest.fixture(scope="module")
def pypa() -> Path:
    if not PYPA.is_dir():
        pytest.skip(f"the PyPA advisory database is not present at {PYPA}")
    return PYPA


# -- the server's own reading of the records ------------------------------------------------


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _plain(value: Any) -> Any:
    """YAML's timestamps as the RFC 3339 text OSV's JSON gives."""
    if isinstance(value, datetime.datetime):
        fraction = f".{value.microsecond:06d}" if value.microsecond else ""
        return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def records_for(root: Path, name: str, version: str) -> list[dict[str, Any]]:
    """The records under ``root`` that list ``version`` of ``name`` as affected, withdrawn
    ones left out: the OSV API's answer, by an independent (explicit-list) reading."""
    name = canonicalize_name(name)
    folder = root / name
    found: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        record = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected") or ():
            package = affected.get("package") or {}
            if package.get("ecosystem") != "PyPI":
                continue
            if canonicalize_name(package.get("name", "")) != name:
                continue
            if any(_same_version(str(v), version) for v in affected.get("versions") or ()):
                found.append(record)
                break
    return found


# -- a local OSV (and PyPI JSON) API -----------------------------------------------------


Answer = Callable[[str, str], "tuple[int, dict[str, Any]] | None"]
"""(package, version) -> (status, JSON body), or None for the records' answer."""


class FakeApi:
    """``POST /v1/query`` as OSV answers it, ``GET /pypi/<name>/<version>/json`` as PyPI
    does, from the records under ``root``; ``override`` replaces the answer for some
    packages (a 500, a delay)."""

    def __init__(self, root: Path, override: Answer | None = None) -> None:
        self.root = root
        self.override = override
        self.queries: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/v1/query":
                    self._send(404, {})
                    return
                name, version = body["package"]["name"], body["version"]
                assert body["package"]["ecosystem"] == "PyPI"
                status, data = api.answer(name, version, lambda rs: {"vulns": rs} if rs else {})
                self._send(status, data)

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "pypi" or parts[3] != "json":
                    self._send(404, {})
                    return
                status, data = api.answer(parts[1], parts[2], _pypi_json)
                self._send(status, data)

            def _send(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(
        self, name: str, version: str, shape: Callable[[list[dict[str, Any]]], dict[str, Any]]
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.queries.append((name, version))
        if self.override is not None:
            given = self.override(name, version)
            if given is not None:
                return given
        return 200, shape(records_for(self.root, name, version))

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pypi_json(records: list[dict[str, Any]]) -> dict[str, Any]:
    """PyPI's JSON API shape: ``vulnerabilities`` with ``fixed_in`` per record."""
    vulns = []
    for record in records:
        fixed = [
            event["fixed"]
            for affected in record.get("affected") or ()
            for r in affected.get("ranges") or ()
            if r.get("type") == "ECOSYSTEM"
            for event in r.get("events") or ()
            if "fixed" in event
        ]
        vulns.append(
            {
                "id": record["id"],
                "aliases": record.get("aliases") or [],
                "details": record.get("details"),
                "summary": record.get("summary"),
                "fixed_in": fixed,
                "link": f"https://osv.dev/vulnerability/{record['id']}",
                "source": "osv",
                "withdrawn": None,
            }
        )
    return {"info": {}, "vulnerabilities": vulns}


@contextmanager
def fake_api(root: Path, override: Answer | None = None) -> Iterator[FakeApi]:
    with FakeApi(root, override) as api:
        yield api


def _queries(pins: list[tuple[str, str]]) -> list[Query]:
    return [Query(f"pkg:pypi/{n}@{v}", "PyPI", n, v) for n, v in pins]


def _ids(advisories: list[Advisory]) -> set[str]:
    return {a.id for a in advisories}


# -- what is found ------------------------------------------------------------------------


def test_osv_service_finds_every_advisory_the_records_give(pypa: Path, tmp_path: Path) -> None:
    queries = _queries(OLD_PINS)
    with fake_api(pypa) as api:
        source = PipAuditSource(
            "osv", timeout=5, cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        )
        answers = source.query_all(queries)
    assert sorted(api.queries) == sorted(OLD_PINS)  # each asked once
    total = 0
    for query in queries:
        answer = answers[query]
        assert isinstance(answer, list), (query.name, answer)
        expected = records_for(pypa, query.name, query.version)
        assert _ids(answer) == {r["id"] for r in expected}, query.name
        by_id = {a.id: a for a in answer}
        for record in expected:
            advisory = by_id[record["id"]]
            assert set(advisory.aliases) == set(record.get("aliases") or ())
            assert advisory.summary
            assert "\n" not in advisory.summary
            assert advisory.source == "pip-audit-osv"
            assert advisory.published == record.get("published")
            assert advisory.modified == record.get("modified")
        total += len(answer)
    assert total >= 12  # the "12 known vulnerabilities" of old pins, at least
    django = {a.id: a for a in answers[queries[0]]}
    assert "PYSEC-2021-98" in django
    assert "3.2.4" in django["PYSEC-2021-98"].fixed_in
    assert django["PYSEC-2021-98"].severity is Severity.UNKNOWN
    assert source.info.name == "pip-audit-osv"
    assert source.info.location == api.base + "/v1/query"
    assert source.info.updated is None


def test_cvss_vectors_and_references_come_from_the_answer(pypa: Path, tmp_path: Path) -> None:
    pins = [("werkzeug", "2.3.0")]
    with fake_api(pypa) as api:
        answers = PipAuditSource(
            "osv", cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        ).query_all(_queries(pins))
    [answer] = answers.values()
    assert isinstance(answer, list)
    by_id = {a.id: a for a in answer}
    advisory = by_id["PYSEC-2023-221"]
    assert [(c.vector, c.score) for c in advisory.cvss] == [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5)
    ]
    assert advisory.severity is Severity.HIGH  # the vector's rating
    assert "https://github.com/pallets/werkzeug/security/advisories/GHSA-hrfv-mqp8-q5rw" in (
        advisory.references
    )
    assert "3.0.1" in advisory.fixed_in


def test_a_record_s_own_id_and_severity_word_are_kept(tmp_path: Path) -> None:
    """pip-audit puts a PYSEC alias first; the advisory keeps the record's own id; the
    record's own severity word (GHSA's MODERATE) counts only where no vector scores."""
    record = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "aliases": ["CVE-2099-1", "PYSEC-2099-1"],
        "summary": "Something bad\nover two lines",
        "published": "2099-01-02T03:04:05Z",
        "affected": [
            {
                "package": {"name": "demo", "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}
                ],
                "versions": ["1.0"],
            }
        ],
        "database_specific": {"severity": "MODERATE"},
        "severity": [
            {
                "type": "CVSS_V4",
                "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            }
        ],
    }
    folder = tmp_path / "db" / "demo"
    folder.mkdir(parents=True)
    (folder / "GHSA-aaaa-bbbb-cccc.yaml").write_text(yaml.safe_dump(record))
    with fake_api(tmp_path / "db") as api:
        answers = PipAuditSource(
            "osv", cache_dir=tmp_path / "cache", endpoint=api.base + "/v1/query"
        ).query_all(_queries([("demo", "1.0")]))
    [[advisory]] = answers.values()  # type: ignore[misc]
    assert isinstance(advisory, Advisory)
    assert advisory.id == "GHSA-aaaa-bbbb-cccc"
    assert advisory.aliases == ("CVE-2099-1", "PYSEC-2099-1")
    assert advisory.severity is Severity.MEDIUM
    assert advisory.cvss[0].vector.startswith("CVSS:4.0/AV:N/AC:L")
    assert advisory.cvss[0].score is None  # v4 is not scored: the word decides
    assert advisory.summary == "Something bad over two lines"
    assert advisory.fixed_in == ("1.2",)
    assert advisory.published == "2099-01-02T03:04:05Z"


def test_pypi_service_through_its_endpoint(pypa: Path, tmp_path: Path) -> None:
    pins = [("django", "3.2.0"), ("jinja2", "2.10"), ("no-such-thing", "1.0")]

    def missing(name: str, version: str) -> tuple[int, dict[str, Any]] | None:
        return (404, {"message": "Not Found"}) if name == "no-such-thing" else None

    with fake_api(pypa, missing) as api:
        source = PipAuditSource("pypi", timeout=5, cache_dir=tmp_path, endpoint=api.base)
        answers = source.query_all(_queries(pins))
    django, jinja2, absent = (answers[q] for q in _queries(pins))
    assert isinstance(django, list) and isinstance(jinja2, list)
    assert _ids(django) == {r["id"] for r in records_for(pypa, "django", "3.2.0")}
    assert _ids(jinja2) == {r["id"] for r in records_for(pypa, "jinja2", "2.10")}
    assert all(a.source == "pip-audit-pypi" for a in django)
    assert any(r.startswith("https://osv.dev/vulnerability/") for r in django[0].references)
    assert isinstance(absent, NotAudited)
    assert "not found on PyPI" in absent.reason
    assert source.info.name == "pip-audit-pypi"


def test_a_pip_audit_without_osv_url_is_pointed_at_the_endpoint_by_an_adapter(
    pypa: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip-audit before 2.10 posts to a fixed URL: an adapter on its session sends it to
    the endpoint (the socket guard fails the test if anything reaches api.osv.dev)."""
    real = pipaudit.load_pip_audit()
    monkeypatch.setattr(
        pipaudit, "load_pip_audit", lambda: dataclasses.replace(real, osv_takes_url=False)
    )
    with fake_api(pypa) as api:
        answers = PipAuditSource(
            "osv", cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        ).query_all(_queries([("django", "3.2.0")]))
    assert api.queries == [("django", "3.2.0")]
    [answer] = answers.values()
    assert isinstance(answer, list)
    assert "PYSEC-2021-98" in _ids(answer)


def test_a_caller_s_session_is_used_and_left_as_it_was(pypa: Path, tmp_path: Path) -> None:
    import requests

    session = requests.Session()
    hooks_before = dict(session.hooks)
    adapters_before = list(session.adapters)
    seen: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.url))
    try:
        with fake_api(pypa) as api:
            PipAuditSource(
                "pypi", session=session, cache_dir=tmp_path, endpoint=api.base
            ).query_all(_queries([("django", "3.2.0")]))
        assert seen == [api.base + "/pypi/django/3.2.0/json"]
        assert len(session.hooks["response"]) == 1  # ours is gone
        assert list(session.adapters) == adapters_before
        assert set(session.hooks) == set(hooks_before)
    finally:
        session.close()


# -- what is not asked ----------------------------------------------------------------------


def test_only_pypi_components_with_an_exact_version_are_asked(tmp_path: Path) -> None:
    queries = [
        Query("pkg:cargo/time@0.1.0", "crates.io", "time", "0.1.0"),
        Query("pkg:pypi/django", "PyPI", "django", ""),
        Query("pkg:pypi/django@%3E%3D3", "PyPI", "django", ">=3"),
    ]
    source = PipAuditSource("osv", cache_dir=tmp_path, endpoint="http://127.0.0.1:9/v1/query")
    answers = source.query_all(queries)  # nothing to ask: no request, no error
    assert answers[queries[0]] == NotAudited("pip-audit's services cover PyPI only")
    assert answers[queries[1]] == NotAudited("no exact version")
    reason = answers[queries[2]]
    assert isinstance(reason, NotAudited) and reason.reason.startswith("no exact version")
    assert not source.covers(queries[0]) and source.covers(queries[1])


def test_the_same_package_under_two_components_is_asked_once(pypa: Path, tmp_path: Path) -> None:
    queries = [
        Query("pkg:pypi/django@3.2.0", "PyPI", "django", "3.2.0"),
        Query("pkg:pypi/Django@3.2", "PyPI", "Django", "3.2"),
    ]
    with fake_api(pypa) as api:
        answers = PipAuditSource(
            "osv", cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        ).query_all(queries)
    assert len(api.queries) == 1
    assert answers[queries[0]] == answers[queries[1]]


# -- how it fails ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_service_is_a_source_error_at_once(tmp_path: Path) -> None:
    endpoint = f"http://user:secret@127.0.0.1:{_free_port()}/v1/query"
    source = PipAuditSource("osv", timeout=2, cache_dir=tmp_path, endpoint=endpoint)
    start = time.monotonic()
    with pytest.raises(SourceError) as caught:
        source.query_all(_queries(OLD_PINS))
    assert time.monotonic() - start < 2
    message = str(caught.value)
    assert "cannot be reached: connection refused" in message
    assert "--vuln-db" in message and "depchain db update" in message
    assert "secret" not in message
    assert "\n" not in message
    assert "secret" not in source.info.location


def test_a_service_that_never_answers_is_a_source_error_within_the_timeout(
    tmp_path: Path,
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts (the kernel does), never answers
    try:
        port = listener.getsockname()[1]
        source = PipAuditSource(
            "osv", timeout=0.5, cache_dir=tmp_path, endpoint=f"http://127.0.0.1:{port}/v1/query"
        )
        start = time.monotonic()
        with pytest.raises(SourceError, match=r"cannot be reached: no answer within 0\.5 s"):
            source.query_all(_queries(OLD_PINS))
        assert time.monotonic() - start < 3
    finally:
        listener.close()


def test_an_error_for_one_package_leaves_the_others_audited(pypa: Path, tmp_path: Path) -> None:
    def broken(name: str, version: str) -> tuple[int, dict[str, Any]] | None:
        return (500, {"error": "boom"}) if name == "pillow" else None

    queries = _queries(OLD_PINS)
    with fake_api(pypa, broken) as api:
        answers = PipAuditSource(
            "osv", cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        ).query_all(queries)
    for query in queries:
        answer = answers[query]
        if query.name == "pillow":
            assert answer == NotAudited("the lookup failed: the service answered HTTP 500")
        else:
            assert isinstance(answer, list) and answer, query.name


def test_a_malformed_answer_is_not_audited_with_a_reason(pypa: Path, tmp_path: Path) -> None:
    def odd(name: str, version: str) -> tuple[int, dict[str, Any]] | None:
        return (200, {"vulns": [{"no": "id"}]}) if name == "jinja2" else None

    queries = _queries(OLD_PINS)
    with fake_api(pypa, odd) as api:
        answers = PipAuditSource(
            "osv", cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        ).query_all(queries)
    jinja2 = answers[queries[-1]]
    assert isinstance(jinja2, NotAudited)
    assert jinja2.reason.startswith("the lookup failed:")
    assert isinstance(answers[queries[0]], list)


def test_what_is_not_answered_by_the_deadline_is_not_audited(pypa: Path, tmp_path: Path) -> None:
    release = threading.Event()

    def slow(name: str, version: str) -> tuple[int, dict[str, Any]] | None:
        if name == "urllib3":
            release.wait(15)
        return None

    queries = _queries(OLD_PINS)
    with fake_api(pypa, slow) as api:
        source = PipAuditSource(
            "osv", timeout=10, deadline=4, cache_dir=tmp_path, endpoint=api.base + "/v1/query"
        )
        start = time.monotonic()
        answers = source.query_all(queries)
        took = time.monotonic() - start
        release.set()
    assert took < 8  # the deadline and a little: on a loaded machine too
    assert answers[queries[2]] == NotAudited("no answer within the deadline (4 s)")
    assert all(isinstance(answers[q], list) for q in queries if q.name != "urllib3")


def test_an_unknown_service_name_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="osv or pypi"):
        PipAuditSource("nvd")


def test_a_pip_audit_outside_the_supported_range_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from importlib import metadata

    real_version = metadata.version
    monkeypatch.setattr(
        metadata, "version", lambda name: "2.6.3" if name == "pip-audit" else real_version(name)
    )
    source = PipAuditSource("osv", cache_dir=tmp_path, endpoint="http://127.0.0.1:9/v1/query")
    with pytest.raises(SourceError) as caught:
        source.query_all(_queries(OLD_PINS))
    assert "pip-audit 2.6.3" in str(caught.value)
    assert pipaudit.SUPPORTED_PIP_AUDIT in str(caught.value)


def test_a_pip_audit_without_the_service_interface_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from importlib import metadata

    import pip_audit._service

    monkeypatch.delattr(pip_audit._service, "OsvService")
    source = PipAuditSource("osv", cache_dir=tmp_path, endpoint="http://127.0.0.1:9/v1/query")
    with pytest.raises(SourceError) as caught:
        source.query_all(_queries(OLD_PINS))
    message = str(caught.value)
    assert f"pip-audit {metadata.version('pip-audit')} lacks the service interface" in message
    assert "OsvService" in message


# -- the real service -----------------------------------------------------------------------


@pytest.mark.online
def test_the_live_osv_service_knows_django_3_2_0(tmp_path: Path) -> None:
    source = PipAuditSource("osv", timeout=10, cache_dir=tmp_path)
    query = Query("pkg:pypi/django@3.2.0", "PyPI", "django", "3.2.0")
    try:
        answers = source.query_all([query])
    except SourceError as exc:
        pytest.skip(f"api.osv.dev is unreachable: {exc}")
    answer = answers[query]
    assert isinstance(answer, list)
    assert "PYSEC-2021-98" in {i for a in answer for i in a.ids}
