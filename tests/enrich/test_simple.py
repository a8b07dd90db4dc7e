"""The Simple API (PEP 691 JSON, PEP 503 HTML), PEP 740 provenance links, PEP 792
project status, and attestations verified with pypi-attestations — from recorded
answers of the index (see recorded/README.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from depchain.enrich import simple
from depchain.enrich.cache import Cache
from depchain.enrich.pypi import Publisher, enrich
from tests.enrich.conftest import Run
from tests.enrich.fakeindex import INDEX, RECORDED, SIMPLE_JSON, FakeIndex, session_for

PAGE = "https://pypi.org/simple/requests/"
SIGSTORE_SDIST = "sigstore-3.6.1.tar.gz"
SIGSTORE_PROVENANCE = f"/integrity/sigstore/3.6.1/{SIGSTORE_SDIST}/provenance"


def _page(name: str) -> dict[str, Any]:
    data = json.loads((RECORDED / "simple" / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data


def _pep740(name: str, links: dict[str, str], **extra: Any) -> bytes:
    """The recorded page of ``name`` (Simple API 1.1) as an index implementing PEP 740
    serves it: API version 1.3 and a ``provenance`` key on every file, a URL for the
    files in ``links`` and null elsewhere. ``extra``: more top-level keys (PEP 792)."""
    data = _page(name)
    data["meta"]["api-version"] = "1.3"
    for item in data["files"]:
        item["provenance"] = links.get(item["filename"])
    data.update(extra)
    return json.dumps(data).encode()


# -- parsing ------------------------------------------------------------------------


def test_json_and_html_pages_of_requests_say_the_same() -> None:
    as_json = simple.parse((RECORDED / "simple" / "requests.json").read_bytes(), SIMPLE_JSON, PAGE)
    as_html = simple.parse((RECORDED / "simple" / "requests.html").read_bytes(), "text/html", PAGE)
    assert as_json.name == "requests" and as_json.api_version == "1.1"
    assert len(as_json.files) == len(as_html.files) == 244

    def same(f: dict[str, Any]) -> tuple[Any, ...]:
        return (f["filename"], f["kind"], f["version"], f["sha256"], f["yanked"])

    assert [same(f) for f in as_json.files] == [same(f) for f in as_html.files]
    yanked = {f["filename"]: f["yanked_reason"] for f in as_html.files if f["yanked"]}
    assert yanked["requests-2.32.0.tar.gz"] == (
        "Yanked due to conflicts with CVE-2024-35195 mitigation"
    )
    assert "provenance" not in as_json.files[0]  # 1.1 predates PEP 740: nothing is said
    assert not as_json.serves_provenance and not as_html.serves_provenance


def test_the_version_of_every_file_agrees_with_the_json_api() -> None:
    checked = 0
    for name in ("requests", "six", "sigstore", "pypi-attestations", "ply", "sampleproject"):
        releases = json.loads((RECORDED / "pypi" / f"{name}.json").read_text())["releases"]
        for version, files in releases.items():
            for item in files:
                got = simple.file_version(item["filename"])
                assert got == simple.normalize_version(version), item["filename"]
                checked += 1
    assert checked > 400


def test_hashes_of_the_simple_api_are_those_of_the_json_api() -> None:
    releases = json.loads((RECORDED / "pypi" / "requests.json").read_text())["releases"]
    listing = simple.parse((RECORDED / "simple" / "requests.json").read_bytes(), SIMPLE_JSON, PAGE)
    for version in ("2.32.3", "2.0.0", "0.10.0"):
        files = simple.release_files(listing.files, version)
        assert {f["sha256"] for f in files} == {f["digests"]["sha256"] for f in releases[version]}


def test_pep740_links_are_absolute_and_a_missing_link_means_none() -> None:
    body = _pep740("sigstore", {SIGSTORE_SDIST: "../../integrity/x/provenance"})
    listing = simple.parse(body, SIMPLE_JSON, "https://pypi.org/simple/sigstore/")
    assert listing.serves_provenance
    by_name = {f["filename"]: f for f in listing.files}
    assert by_name[SIGSTORE_SDIST]["provenance"] == "https://pypi.org/integrity/x/provenance"
    assert by_name["sigstore-3.6.1-py3-none-any.whl"]["provenance"] is None


def test_html_meta_gives_version_status_and_provenance() -> None:
    html = (RECORDED / "simple" / "six.html").read_text()
    html = html.replace(
        "<head>",
        '<head><meta name="pypi:repository-version" content="1.4">'
        '<meta name="pypi:project-status" content="archived">'
        '<meta name="pypi:project-status-reason" content="no longer maintained">',
    ).replace(
        'six-1.17.0.tar.gz#sha256=ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"',
        'six-1.17.0.tar.gz#sha256=ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"'
        ' data-provenance="/integrity/six/1.17.0/six-1.17.0.tar.gz/provenance"',
    )
    listing = simple.parse_html(html, "https://pypi.org/simple/six/")
    assert (listing.api_version, listing.status) == ("1.4", "archived")
    assert listing.status_reason == "no longer maintained"
    links = {f["filename"]: f["provenance"] for f in listing.files if f["version"] == "1.17.0"}
    assert links == {
        "six-1.17.0.tar.gz": "https://pypi.org/integrity/six/1.17.0/six-1.17.0.tar.gz/provenance",
        "six-1.17.0-py2.py3-none-any.whl": None,
    }


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"files": [', SIMPLE_JSON, "malformed JSON"),
        (b"[1, 2]", SIMPLE_JSON, "not an object"),
        (b'{"name": "x"}', SIMPLE_JSON, "no meta or files"),
        (b"\xff\xfe<html>", "text/html", "not UTF-8"),
        (b"just text", "text/html", "not a Simple API project page"),
        (b"<html><body>Sign in</body></html>", "text/html", "no links"),
        (b'{"meta": {"api-version": "2.0"}, "files": []}', SIMPLE_JSON, "reads 1.x"),
        (b"[" * 100_000, SIMPLE_JSON, "malformed JSON"),
        (b"%PDF-1.4", "application/pdf", "unexpected content type 'application/pdf'"),
    ],
)
def test_what_is_not_a_project_page_is_said(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(simple.SimpleError, match=message):
        simple.parse(body, content_type, PAGE)


# -- enrichment through the Simple API ----------------------------------------------


def test_pep740_links_are_followed_and_nothing_else_is_asked(run: Run, index: FakeIndex) -> None:
    index.script(
        "/simple/sigstore/",
        (
            200,
            _pep740("sigstore", {SIGSTORE_SDIST: f"https://pypi.org{SIGSTORE_PROVENANCE}"}),
            {"Content-Type": SIMPLE_JSON},
        ),
    )
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    # the wheel's null link is an answer: no attestation, and no request for it
    assert index.paths() == ["/simple/sigstore/", "/pypi/sigstore/json", SIGSTORE_PROVENANCE]
    by_name = {f.filename: f for f in got.files}
    assert by_name["sigstore-3.6.1-py3-none-any.whl"].attestation == "absent"
    sdist = by_name[SIGSTORE_SDIST]
    assert sdist.attestation == "present"
    assert sdist.publishers == (Publisher("GitHub", "sigstore/sigstore-python", "release.yml"),)
    assert sdist.verified is True
    assert got.verified == "verified"


def test_recorded_attestations_verify_against_the_listed_sha256(run: Run) -> None:
    got = run([("sigstore", "3.6.1"), ("pypi-attestations", "0.0.19")])
    for key, filename in [
        (("sigstore", "3.6.1"), SIGSTORE_SDIST),
        (("pypi-attestations", "0.0.19"), "pypi_attestations-0.0.19.tar.gz"),
    ]:
        [attested] = [f for f in got[key].files if f.attestation == "present"]
        assert attested.filename == filename
        assert attested.verified is True, attested.verification
        assert attested.verification == "1 attestation(s) verified against the file's sha256"


def test_an_attestation_for_other_bytes_does_not_verify(run: Run, index: FakeIndex) -> None:
    # the index lists a different sha256 for the file than the one the attestation signs
    page = _page("sigstore")
    for item in page["files"]:
        if item["filename"] == SIGSTORE_SDIST:
            item["hashes"]["sha256"] = "0" * 64
    index.script(
        "/simple/sigstore/", (200, json.dumps(page).encode(), {"Content-Type": SIMPLE_JSON})
    )
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    [sdist] = [f for f in got.files if f.filename == SIGSTORE_SDIST]
    assert (sdist.attestation, sdist.verified) == ("present", False)
    assert sdist.verification is not None
    assert "subject does not match distribution digest" in sdist.verification
    assert got.verified == "failed"


def test_a_publisher_the_certificate_does_not_name_does_not_verify(
    run: Run, index: FakeIndex
) -> None:
    # the real provenance object, its bundle's publisher claimed as another workflow
    data = json.loads(
        (RECORDED / "integrity" / "sigstore" / "3.6.1" / f"{SIGSTORE_SDIST}.provenance").read_text()
    )
    data["attestation_bundles"][0]["publisher"]["workflow"] = "innocent.yml"
    index.script(SIGSTORE_PROVENANCE, (200, json.dumps(data).encode()))
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    [sdist] = [f for f in got.files if f.filename == SIGSTORE_SDIST]
    assert sdist.publishers == (Publisher("GitHub", "sigstore/sigstore-python", "innocent.yml"),)
    assert sdist.verified is False
    assert sdist.verification == (
        "Verification failed: Certificate's Build Config URI does not match expected "
        "Trusted Publisher (innocent.yml @ sigstore/sigstore-python)"
    )


def test_a_changed_signature_does_not_verify(run: Run, index: FakeIndex) -> None:
    data = json.loads(
        (RECORDED / "integrity" / "sigstore" / "3.6.1" / f"{SIGSTORE_SDIST}.provenance").read_text()
    )
    envelope = data["attestation_bundles"][0]["attestations"][0]["envelope"]
    signature = bytearray(base64.b64decode(envelope["signature"]))
    signature[-1] ^= 1
    envelope["signature"] = base64.b64encode(bytes(signature)).decode()
    index.script(SIGSTORE_PROVENANCE, (200, json.dumps(data).encode()))
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    [sdist] = [f for f in got.files if f.filename == SIGSTORE_SDIST]
    assert sdist.verified is False


def test_verification_is_cached_with_the_provenance(
    run: Run, index: FakeIndex, cache_dir: Path
) -> None:
    run([("sigstore", "3.6.1")])
    offline = enrich([("sigstore", "3.6.1")], index_url=INDEX, cache_dir=cache_dir, offline=True)
    [sdist] = [f for f in offline[("sigstore", "3.6.1")].files if f.attestation == "present"]
    assert sdist.verified is True
    with Cache(cache_dir) as cache:
        entries = cache.get_project("https://pypi.org", "sigstore")
    stored = json.loads(entries[("3.6.1", f"provenance/{SIGSTORE_SDIST}")].body)
    assert stored["verified"] is True and stored["publishers"][0]["workflow"] == "release.yml"


def test_project_status_comes_from_the_simple_api(run: Run, index: FakeIndex) -> None:
    status = {"status": "quarantined", "reason": "malware reported"}
    index.script(
        "/simple/ply/",
        (200, _pep740("ply", {}, **{"project-status": status}), {"Content-Type": SIMPLE_JSON}),
    )
    got = run([("ply", "3.11")])[("ply", "3.11")]
    assert (got.project_status, got.project_status_reason) == ("quarantined", "malware reported")
    assert {f.attestation for f in got.files} == {"absent"}  # 1.3: null links are answers
    assert not any("/integrity/" in p for p in index.paths())


@pytest.mark.parametrize("html", [False, True])
def test_a_private_index_gives_files_but_not_owners(tmp_path: Path, html: bool) -> None:
    private = "https://alice:s3cret-token@pypi.internal.example.com/simple"
    index = FakeIndex(html=html)  # serving the recorded pages, as a mirror of PyPI would
    with session_for(index) as session:
        got = enrich(
            [("requests", "2.32.0"), ("six", "1.16.0"), ("internal-lib", "1.0")],
            index_url=private,
            cache_dir=tmp_path,
            session=session,
            backoff=0,
        )
    # the Simple API only: no JSON API, no Integrity API on an index that is not PyPI
    assert sorted(index.paths()) == [
        "/simple/internal-lib/",
        "/simple/requests/",
        "/simple/six/",
    ]
    requests_ = got[("requests", "2.32.0")]
    assert requests_.ownership_source == "unknown"
    assert requests_.ownership_reason is not None
    assert "not PyPI" in requests_.ownership_reason
    assert requests_.index == "https://***@pypi.internal.example.com/simple"
    assert requests_.yanked and requests_.release_found is True
    assert [f.kind for f in requests_.files] == ["wheel", "sdist"]
    assert {f.attestation for f in requests_.files} == {"unknown"}  # the index does not say
    six = got[("six", "1.16.0")]
    assert six.has_wheel and six.errors == ()
    internal = got[("internal-lib", "1.0")]
    # absent from a private index is not absent from the public one (DC014 is not said)
    assert not internal.name_absent and internal.release_found is False
    assert "s3cret" not in repr(got)
    assert b"s3cret" not in (tmp_path / "index-cache.sqlite3").read_bytes()
    again = enrich([("six", "1.16.0")], index_url=private, cache_dir=tmp_path, offline=True)
    assert again[("six", "1.16.0")].files == six.files


# -- hostile or odd answers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "project", "version"),
    [
        ("pkg-2-1.0.tar.bz2", "pkg-2", "1.0"),
        ("web-v2-tools-1.4.tar.bz2", "web-v2-tools", "1.4"),
        ("foo-1.0-1.tar.gz", "foo", "1.0.post1"),
        ("foo-1.0-rc1.tar.bz2", "foo", "1.0rc1"),
        ("pytz-2005k.tar.gz", "pytz", "2005k"),  # legacy, kept as written
        ("Foo_Bar-1.0-py2.7.egg", "foo-bar", "1.0"),
        ("foo-1.0.win32.exe", "foo", "1.0"),
        ("six-1.16.0-py2.py3-none-any.whl", "six", "1.16.0"),
        ("torch-2.3.0+cpu-cp311-cp311-linux_x86_64.whl", "torch", "2.3.0+cpu"),
        ("zope.interface-6.0.tar.gz", "zope-interface", "6.0"),
    ],
)
def test_versions_from_file_names(filename: str, project: str, version: str) -> None:
    assert simple.file_version(filename, project) == version


def test_malformed_links_are_dropped_not_fatal() -> None:
    page = {
        "meta": {"api-version": "1.3"},
        "files": [
            {"filename": "foo-1.0.tar.gz", "url": "x", "provenance": "http://[::1/x"},
            {"filename": "foo-1.0-py3-none-any.whl", "url": "x", "provenance": 7},
            {"filename": "foo-1.1.tar.gz", "url": "x", "provenance": "javascript:alert(1)"},
        ],
    }
    listing = simple.parse_json(page, "https://idx.example/simple/foo/", "foo")
    # a link that is not a URL says nothing: unknown, never "no attestation"
    assert all("provenance" not in f for f in listing.files)
    html = (
        '<html><a href="http://[::1/foo-1.0.tar.gz">x</a>'
        '<a href="/files/foo-1.0.zip#sha256=AB" data-provenance="https://[x">x</a></html>'
    )
    [only] = simple.parse_html(html, "https://idx.example/simple/foo/", "foo").files
    assert (only["filename"], only["sha256"], "provenance" in only) == ("foo-1.0.zip", "ab", False)


def test_a_hostile_html_page_is_read_in_one_pass() -> None:
    with pytest.raises(simple.SimpleError, match="no links"):
        simple.parse(b"<html>" + b"<a" * 300_000, "text/html", PAGE)
    listing = simple.parse(
        b"<html>" + b'<a href="/f/foo-1.0.tar.gz">' * simple.MAX_FILES, "text/html", PAGE, "foo"
    )
    assert [f["filename"] for f in listing.files] == ["foo-1.0.tar.gz"]
    # one more link than the bound, or a million, and the page is refused at once
    for count in (simple.MAX_FILES + 1, 1_000_000):
        with pytest.raises(simple.SimpleError, match="more than 20000 files"):
            simple.parse(b'<a href="/f/foo-1.0.tar.gz">' * count, "text/html", PAGE, "foo")


def test_the_file_name_comes_from_the_url_and_bare_data_yanked_is_yanked() -> None:
    html = '<a href="/f/foo-1.0.tar.gz#sha256=aa" data-yanked>foo-1.0-py3-none-any.whl</a>'
    [entry] = simple.parse_html(html, PAGE, "foo").files
    assert (entry["filename"], entry["kind"], entry["yanked"]) == ("foo-1.0.tar.gz", "sdist", True)
    assert entry["yanked_reason"] is None


def test_a_file_listed_twice_with_different_hashes_is_not_verified(
    run: Run, index: FakeIndex
) -> None:
    page = _page("sigstore")
    [sdist] = [f for f in page["files"] if f["filename"] == SIGSTORE_SDIST]
    page["files"].append({**sdist, "hashes": {"sha256": "0" * 64}})
    index.script(
        "/simple/sigstore/", (200, json.dumps(page).encode(), {"Content-Type": SIMPLE_JSON})
    )
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    [entry] = [f for f in got.files if f.filename == SIGSTORE_SDIST]
    assert (entry.sha256, entry.verified) == (None, None)
    assert entry.verification == "the index lists this file 2 times with different sha256"


def test_a_cached_verification_holds_only_for_the_sha256_it_checked(
    run: Run, index: FakeIndex, cache_dir: Path
) -> None:
    run([("sigstore", "3.6.1")])
    page = _page("sigstore")
    for item in page["files"]:
        if item["filename"] == SIGSTORE_SDIST:
            item["hashes"]["sha256"] = "0" * 64  # the file was replaced on the index
    index.script(
        "/simple/sigstore/", (200, json.dumps(page).encode(), {"Content-Type": SIMPLE_JSON})
    )
    index.calls.clear()
    # a new version asked makes the page be read again, within the cache's expiry
    got = run([("sigstore", "3.6.1"), ("sigstore", "3.6.0")])[("sigstore", "3.6.1")]
    assert SIGSTORE_PROVENANCE in index.paths()  # asked again, and verified again
    [entry] = [f for f in got.files if f.filename == SIGSTORE_SDIST]
    assert entry.verified is False
    assert entry.verification is not None and "digest" in entry.verification


def test_provenance_links_to_other_hosts_or_plain_http_are_not_followed(
    run: Run, index: FakeIndex
) -> None:
    links = {
        SIGSTORE_SDIST: "http://169.254.169.254/latest/meta-data/iam/",
        "sigstore-3.6.1-py3-none-any.whl": f"http://pypi.org{SIGSTORE_PROVENANCE}",
    }
    index.script(
        "/simple/sigstore/", (200, _pep740("sigstore", links), {"Content-Type": SIMPLE_JSON})
    )
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    assert all(urlsplit(url).hostname == "pypi.org" for url in index.calls)
    assert all(url.startswith("https://") for url in index.calls)
    assert {f.attestation for f in got.files} == {"unknown"}  # not asked: not known


def test_credentials_go_to_the_index_host_only_and_never_into_the_cache(
    tmp_path: Path,
) -> None:
    private = "https://alice:s3cret@idx.example/simple"
    index = FakeIndex()
    links = {SIGSTORE_SDIST: f"/{SIGSTORE_PROVENANCE.strip('/')}"}  # relative, same host
    index.script(
        "/simple/sigstore/", (200, _pep740("sigstore", links), {"Content-Type": SIMPLE_JSON})
    )
    with session_for(index) as session:
        got = enrich(
            [("sigstore", "3.6.1")], index_url=private, cache_dir=tmp_path, session=session
        )
    assert f"https://alice:s3cret@idx.example{SIGSTORE_PROVENANCE}" in index.calls
    [entry] = [f for f in got[("sigstore", "3.6.1")].files if f.attestation == "present"]
    assert entry.verified is True
    assert b"s3cret" not in (tmp_path / "index-cache.sqlite3").read_bytes()
    assert "s3cret" not in repr(got)


def test_a_quarantined_project_without_json_is_not_an_absent_name(
    run: Run, index: FakeIndex
) -> None:
    status = {"status": "quarantined", "reason": "malware"}
    index.script(
        "/simple/ply/",
        (200, _pep740("ply", {}, **{"project-status": status}), {"Content-Type": SIMPLE_JSON}),
    )
    index.script("/pypi/ply/json", (404, b""))
    got = run([("ply", "3.11")])[("ply", "3.11")]
    assert not got.name_absent
    assert got.project_status == "quarantined"
    assert got.ownership_reason == "pypi.org's JSON API has no answer for ply"
    assert got.release_found is True


def test_a_legacy_version_the_simple_api_misses_comes_from_the_json_api(
    run: Run, index: FakeIndex
) -> None:
    page = _page("six")
    page["files"] = [f for f in page["files"] if "1.16.0" not in f["filename"]]
    index.script("/simple/six/", (200, json.dumps(page).encode(), {"Content-Type": SIMPLE_JSON}))
    got = run([("six", "1.16.0")])[("six", "1.16.0")]
    assert [f.kind for f in got.files] == ["wheel", "sdist"]


def test_deeply_nested_provenance_is_an_error_of_its_component(run: Run, index: FakeIndex) -> None:
    index.script(SIGSTORE_PROVENANCE, *[(200, b"[" * 100_000)] * 3)
    got = run([("sigstore", "3.6.1")])[("sigstore", "3.6.1")]
    assert got.errors == (
        f"pypi.org: provenance of {SIGSTORE_SDIST}: malformed JSON after 3 tries",
    )
