"""The Simple API (PEP 691 JSON, PEP 503 HTML), PEP 740 provenance links, PEP 792
project status, and attestations verified with pypi-attestations — from recorded
answers of the index (see recorded/README.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

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
        (b"just text", "text/html", "not an HTML page"),
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
    assert got.provenance_json()["attestation_verified"] == "verified"


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
