"""Against the live index: the owners of requests that enrichment reports are the live
JSON API's ownership roles. Marked ``online``; skipped, with the reason, when pypi.org
cannot be reached."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

import depchain
from depchain.enrich.pypi import enrich
from depchain.export import json_report
from depchain.scanner import EnrichOptions

pytestmark = pytest.mark.online


def _live_ownership() -> dict[str, object]:
    try:
        response = requests.get("https://pypi.org/pypi/requests/json", timeout=(3.05, 20))
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        pytest.skip(f"pypi.org is unreachable ({type(exc).__name__}): the live test needs it")
    ownership = data.get("ownership")
    if not isinstance(ownership, dict):
        pytest.skip("pypi.org's JSON API for requests carries no ownership object")
    return ownership


def test_owners_of_requests_are_the_live_ownership_roles(tmp_path: Path) -> None:
    ownership = _live_ownership()
    got = enrich([("requests", None)], index_url="https://pypi.org/simple", cache_dir=tmp_path)
    item = got[("requests", None)]
    assert item.errors == ()
    assert item.ownership_source == "pypi-json"
    roles = ownership["roles"]
    assert isinstance(roles, list)
    assert sorted(item.roles) == sorted((r["user"], r["role"]) for r in roles)
    assert item.organization == ownership.get("organization")
    # and so in the report a scan writes
    (tmp_path / "requirements.txt").write_text("requests\n")
    result = depchain.scan(
        tmp_path,
        enrich=EnrichOptions(cache_dir=tmp_path / "cache", index_url="https://pypi.org/simple"),
    )
    [component] = [c for c in json_report.build(result)["components"] if c["name"] == "requests"]
    assert component["ownership"]["source"] == "pypi-json"
    assert sorted((r["user"], r["role"]) for r in component["ownership"]["roles"]) == sorted(
        (r["user"], r["role"]) for r in roles
    )


def test_files_and_attestations_of_sigstore_agree_with_the_live_simple_api(
    tmp_path: Path,
) -> None:
    try:
        response = requests.get(
            "https://pypi.org/simple/sigstore/",
            headers={"Accept": "application/vnd.pypi.simple.v1+json"},
            timeout=(3.05, 20),
        )
        response.raise_for_status()
        page = response.json()
    except (requests.RequestException, ValueError) as exc:
        pytest.skip(f"pypi.org is unreachable ({type(exc).__name__}): the live test needs it")
    live = {f["filename"]: f for f in page["files"] if f["filename"].startswith("sigstore-3.6.1")}
    got = enrich([("sigstore", "3.6.1")], index_url="https://pypi.org/simple", cache_dir=tmp_path)
    item = got[("sigstore", "3.6.1")]
    assert {f.filename: f.sha256 for f in item.files} == {
        name: f["hashes"]["sha256"] for name, f in live.items()
    }
    for f in item.files:
        link = live[f.filename].get("provenance")
        if "provenance" not in live[f.filename]:
            continue  # this index does not implement PEP 740 links
        # a link is followed and verified; null means the index has no attestation
        assert f.attestation == ("present" if link else "absent")
        if link:
            assert f.verified is True, f.verification
