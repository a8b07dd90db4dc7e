"""PEP 740 attestations with and without the ``attest`` extra (pypi-attestations).

With it, a provenance object is verified (True, False, or None with a reason). Without
it (simulated: ``sys.modules['pypi_attestations'] = None`` makes its import fail, as on
an install without the extra), the object is still read for its publishers, and every
attestation is ``verified`` None with "install depchain[attest] to verify": never True,
never a crash.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from depchain.enrich import attestations
from depchain.enrich.attestations import EXTRA_HINT, MalformedProvenance, read
from tests.enrich.fakeindex import INDEX, RECORDED, FakeIndex, session_for

SDIST = "sigstore-3.6.1.tar.gz"
PROVENANCE = RECORDED / "integrity" / "sigstore" / "3.6.1" / f"{SDIST}.provenance"
PUBLISHER = {
    "kind": "GitHub",
    "repository": "sigstore/sigstore-python",
    "workflow": "release.yml",
    "environment": None,
}


def _provenance() -> dict[str, Any]:
    data = json.loads(PROVENANCE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _sha256() -> str:
    """The sha256 the recorded Simple API page lists for the sdist (what it signs)."""
    page = json.loads((RECORDED / "simple" / "sigstore.json").read_text(encoding="utf-8"))
    [item] = [f for f in page["files"] if f["filename"] == SDIST]
    sha = item["hashes"]["sha256"]
    assert isinstance(sha, str)
    return sha


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """pypi-attestations cannot be imported, as when depchain[attest] is not installed."""
    monkeypatch.setitem(sys.modules, "pypi_attestations", None)


# -- with the extra ---------------------------------------------------------------------


def test_with_the_extra_the_recorded_attestation_verifies() -> None:
    assert attestations.verifier_available()
    got = read(_provenance(), SDIST, _sha256())
    assert got == {
        "publishers": [PUBLISHER],
        "verified": True,
        "verification": "1 attestation(s) verified against the file's sha256",
    }


def test_with_the_extra_other_bytes_do_not_verify() -> None:
    got = read(_provenance(), SDIST, "0" * 64)
    assert got["verified"] is False
    assert "subject does not match distribution digest" in got["verification"]


# -- without it ---------------------------------------------------------------------------


@pytest.mark.usefixtures("without_extra")
def test_without_the_extra_the_same_object_is_unverified_never_verified() -> None:
    assert not attestations.verifier_available()
    got = read(_provenance(), SDIST, _sha256())
    assert got == {
        "publishers": [PUBLISHER],
        "verified": None,
        "verification": f"not verified: pypi-attestations is not installed; {EXTRA_HINT}",
    }
    assert EXTRA_HINT == "install depchain[attest] to verify"


@pytest.mark.usefixtures("without_extra")
@pytest.mark.parametrize("sha256", [None, "0" * 64, "not a digest"])
def test_without_the_extra_nothing_is_decided(sha256: str | None) -> None:
    """Neither True nor False: the verifier is what could tell, and it is not here."""
    assert read(_provenance(), SDIST, sha256)["verified"] is None


@pytest.mark.usefixtures("without_extra")
def test_without_the_extra_an_altered_publisher_is_reported_as_claimed_and_unverified() -> None:
    data = _provenance()
    data["attestation_bundles"][0]["publisher"]["workflow"] = "innocent.yml"
    got = read(data, SDIST, _sha256())
    assert got["publishers"] == [{**PUBLISHER, "workflow": "innocent.yml"}]
    assert got["verified"] is None


def test_publishers_of_every_kind_are_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """GitLab's workflow is ``workflow_filepath``; both paths name it the workflow."""
    bundle = {
        "publisher": {
            "kind": "GitLab",
            "repository": "group/project",
            "workflow_filepath": ".gitlab-ci.yml",
            "environment": "release",
        },
        "attestations": [],
    }
    data = {"version": 1, "attestation_bundles": [bundle]}
    with_extra = read(data, "x-1.0.tar.gz", "0" * 64)
    monkeypatch.setitem(sys.modules, "pypi_attestations", None)
    without = read(data, "x-1.0.tar.gz", "0" * 64)
    assert with_extra == without
    assert without == {
        "publishers": [
            {
                "kind": "GitLab",
                "repository": "group/project",
                "workflow": ".gitlab-ci.yml",
                "environment": "release",
            }
        ],
        "verified": None,
        "verification": "no attestations",
    }


MALFORMED: list[tuple[Any, str]] = [
    ({"version": 1}, "malformed provenance (attestation_bundles: Field required)"),
    ({}, "malformed provenance (attestation_bundles: Field required)"),
    (
        {"version": 2, "attestation_bundles": []},
        "malformed provenance (version: Input should be 1)",
    ),
    ({"attestation_bundles": {}}, "attestation_bundles"),
    ({"attestation_bundles": [5]}, "attestation_bundles.0"),
    ({"attestation_bundles": [{"attestations": []}]}, "attestation_bundles.0.publisher"),
    ({"attestation_bundles": [{"publisher": {"kind": 5}, "attestations": []}]}, "publisher"),
    ({"attestation_bundles": [{"publisher": {"kind": "GitHub"}}]}, ".attestations"),
    ({"attestation_bundles": [{"publisher": [], "attestations": []}]}, "publisher"),
    ([], "malformed provenance (provenance"),
    ("provenance", "malformed provenance (provenance"),
    (None, "malformed provenance (provenance"),
]


@pytest.mark.usefixtures("without_extra")
@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_without_the_extra_a_malformed_object_is_one_line_never_a_crash(
    data: Any, message: str
) -> None:
    with pytest.raises(MalformedProvenance) as raised:
        read(data, SDIST, _sha256())
    text = str(raised.value)
    assert message in text and "\n" not in text


def test_the_malformed_messages_are_the_verifiers_own_where_they_can_be() -> None:
    for data in ({"version": 1}, {"version": 2, "attestation_bundles": []}):
        with pytest.raises(MalformedProvenance) as with_extra:
            read(data, SDIST, None)
        saved = sys.modules.get("pypi_attestations")
        sys.modules["pypi_attestations"] = None  # type: ignore[assignment]
        try:
            with pytest.raises(MalformedProvenance) as without:
                read(data, SDIST, None)
        finally:
            sys.modules["pypi_attestations"] = saved  # type: ignore[assignment]
        assert str(with_extra.value) == str(without.value)


def test_a_verifier_that_cannot_be_imported_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """pypi-attestations is installed, but what it needs (sigstore) cannot be imported:
    unverified, with the import error and the hint."""
    for name in [m for m in sys.modules if m.split(".")[0] == "pypi_attestations"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sigstore", None)
    got = read(_provenance(), SDIST, _sha256())
    assert got["verified"] is None
    assert got["verification"].startswith(
        "not verified: pypi-attestations could not be imported (ModuleNotFoundError: "
    )
    assert got["verification"].endswith(EXTRA_HINT)
    assert got["publishers"] == [PUBLISHER]


def test_an_answer_read_without_the_verifier_is_read_again_once_it_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pypi_attestations", None)
    unverified = read(_provenance(), SDIST, _sha256())
    assert not attestations.awaits_verifier(unverified)  # still absent
    monkeypatch.undo()
    assert attestations.awaits_verifier(unverified)
    assert not attestations.awaits_verifier(read(_provenance(), SDIST, _sha256()))
    assert not attestations.awaits_verifier(
        {"verified": None, "verification": "the index lists no sha256 for the file"}
    )


# -- through enrichment: what a scan reports --------------------------------------------


@pytest.fixture
def enrich_sigstore(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[], Any]:
    from depchain.enrich.pypi import enrich

    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)

    def run() -> Any:
        with session_for(FakeIndex()) as session:
            got = enrich(
                [("sigstore", "3.6.1")],
                index_url=INDEX,
                cache_dir=tmp_path / "cache",
                session=session,
                backoff=0,
            )
        return got[("sigstore", "3.6.1")]

    return run


def _gaps(release: Any) -> dict[str, str]:
    """The index-based gaps of sigstore 3.6.1 with this enrichment: ID -> message."""
    from depchain.model import Component, Evidence
    from depchain.trust.index_rules import index_gaps

    component = Component(
        "pkg:pypi/sigstore@3.6.1",
        "sigstore",
        "pypi",
        "3.6.1",
        evidence=(Evidence("requirements.txt", 1, "requirements"),),
    )
    found = index_gaps([component], {("sigstore", "3.6.1"): release}, lambda _: ())
    return {f.id: f.message for f in found}


def test_enrichment_with_the_extra_says_verified(enrich_sigstore: Callable[[], Any]) -> None:
    release = enrich_sigstore()
    assert release.verified == "verified"
    assert "DC007" not in _gaps(release)


@pytest.mark.usefixtures("without_extra")
def test_enrichment_without_the_extra_says_unverified(enrich_sigstore: Callable[[], Any]) -> None:
    release = enrich_sigstore()
    [sdist] = [f for f in release.files if f.attestation == "present"]
    assert sdist.filename == SDIST
    assert sdist.verified is None
    assert sdist.verification is not None and sdist.verification.endswith(EXTRA_HINT)
    assert release.verified == "unverified"
    assert release.publishers == (
        type(release.publishers[0])("GitHub", "sigstore/sigstore-python", "release.yml"),
    )
    gaps = _gaps(release)
    assert "could not be verified" in gaps["DC007"] and EXTRA_HINT in gaps["DC007"]
    assert "DC021" not in gaps  # not "failed" either: only the verifier can tell
