"""Enrichment inside a scan: a name absent from the public index is a finding at its
line; offline with an empty cache the scan is quick, owners unknown, none trusted."""

from __future__ import annotations

from pathlib import Path

import requests

import depchain
from depchain.scanner import EnrichOptions
from depchain.trust.surface import trust_surface
from tests.enrich.fakeindex import FakeIndex


def test_absent_name_and_owners_in_a_scan(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\nacme-internal-billing==1.0\n")
    session = requests.Session()
    index = FakeIndex()
    session.mount("https://", index)
    result = depchain.scan(
        tmp_path,
        enrich=EnrichOptions(
            cache_dir=tmp_path / "cache", session=session, index_url="https://pypi.org/simple"
        ),
    )
    assert index.max_in_flight >= 1  # the scan asked through the session it was given
    absent = [f for f in result.findings if f.id == "DC014"]
    assert len(absent) == 1 and absent[0].component == "pkg:pypi/acme-internal-billing@1.0"
    assert (absent[0].evidence[0].path, absent[0].evidence[0].line) == ("requirements.txt", 2)
    requests_node = next(c for c in result.graph.components() if c.name == "requests")
    props = dict(requests_node.properties)
    assert (
        props["depchain:owner-source"] == "pypi-json"
        and "nateprewitt:Owner" in props["depchain:owner-roles"]
    )


def test_offline_with_an_empty_cache(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\nsix==1.16.0\n")
    (tmp_path / "depchain.toml").write_text('[trusted.pypi]\nowners = ["nateprewitt"]\n')

    class NoNetwork(requests.adapters.BaseAdapter):
        def send(self, *args: object, **kwargs: object) -> requests.Response:
            raise AssertionError("offline must not reach the network")

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("https://", NoNetwork())
    result = depchain.scan(
        tmp_path, enrich=EnrichOptions(offline=True, cache_dir=tmp_path / "empty", session=session)
    )
    owners = {
        c.name: dict(c.properties).get("depchain:owner-source")
        for c in result.graph.components()
        if c.ecosystem == "pypi"
    }
    assert owners == {"requests": "unknown", "six": "unknown"}
    surface = trust_surface(result.graph, result.policy)["total"]
    assert surface["explicit"] == 0 and surface["unknown_owner"] == 2


def test_the_index_licence_and_project_urls_reach_the_scan(tmp_path: Path) -> None:
    """A requirements file says nothing of licences; the index does, for the version it
    describes (urllib3 2.8.0 declares MIT in License-Expression)."""
    import requests

    import depchain
    from depchain.scanner import EnrichOptions
    from tests.enrich.fakeindex import FakeIndex

    (tmp_path / "requirements.txt").write_text("urllib3==2.8.0\n")
    session = requests.Session()
    session.mount("https://", FakeIndex())
    options = EnrichOptions(
        cache_dir=tmp_path / "cache", session=session, index_url="https://pypi.org/simple"
    )
    [urllib3] = [
        c for c in depchain.scan(tmp_path, enrich=options).graph.components() if c.name == "urllib3"
    ]
    assert urllib3.license is not None and urllib3.license.expression == "MIT"
    assert urllib3.links  # the project's URLs, from the index


def test_an_installed_distribution_gets_the_sha256_of_the_wheel_it_came_from(
    tmp_path: Path,
) -> None:
    """RECORD hashes the files, not the wheel; the index lists the wheel's sha256, and
    the installed WHEEL file's tags say which of the release's files it was."""
    import requests

    import depchain
    from depchain.scanner import EnrichOptions
    from tests.enrich.fakeindex import FakeIndex

    venv = tmp_path / "venv"
    info = venv / "lib" / "python3.11" / "site-packages" / "six-1.16.0.dist-info"
    info.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py2-none-any\nTag: py3-none-any\n")
    (info / "RECORD").write_text("six-1.16.0.dist-info/METADATA,,\n")
    session = requests.Session()
    session.mount("https://", FakeIndex())
    options = EnrichOptions(
        cache_dir=tmp_path / "cache", session=session, index_url="https://pypi.org/simple"
    )
    [six] = [c for c in depchain.scan(venv, enrich=options).graph.components() if c.name == "six"]
    assert [(h.algorithm, h.value) for h in six.hashes] == [
        ("sha256", "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254")
    ]
    assert ("depchain:hash-source", "index: six-1.16.0-py2.py3-none-any.whl") in six.properties
    # another tag set than any file of the release: no hash is guessed
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    [six] = [c for c in depchain.scan(venv, enrich=options).graph.components() if c.name == "six"]
    assert six.hashes == ()
