"""The index's declared licence and project URLs (the JSON API's ``info``), for the
version it describes only."""

from __future__ import annotations

from depchain.enrich.pypi import index_metadata
from depchain.ids import pypi_component
from depchain.model import Evidence, License
from tests.enrich.conftest import Run


def test_the_latest_release_declares_its_licence(run: Run) -> None:
    facts = run([("packaging", "26.4"), ("requests", "2.34.2"), ("ply", "3.11")])
    assert facts[("packaging", "26.4")].license == License(
        expression="Apache-2.0 OR BSD-2-Clause", source="index:License-Expression"
    )
    assert facts[("requests", "2.34.2")].license == License(
        expression="Apache-2.0", source="index:License"
    )
    # ply says "BSD": which one, it does not say
    assert facts[("ply", "3.11")].license == License(names=("BSD",), source="index:License")


def test_another_version_is_not_told_the_latest_ones_licence(run: Run) -> None:
    facts = run([("requests", "2.32.3"), ("six", None)])
    assert facts[("requests", "2.32.3")].license is None
    assert facts[("six", None)].license is None


def test_index_metadata_adds_what_the_metadata_did_not_say(run: Run) -> None:
    found = run([("urllib3", "2.8.0")])[("urllib3", "2.8.0")]
    bare = pypi_component("urllib3", "2.8.0", Evidence("requirements.txt", 1, "requirements"))
    told = index_metadata(bare, found)
    assert told.license == License(expression="MIT", source="index:License-Expression")
    assert any(link.kind == "vcs" for link in told.links)
    # a licence the distribution's own metadata declared is kept
    own = License(expression="MIT", source="License-Expression")
    from dataclasses import replace

    assert index_metadata(replace(bare, license=own), found).license == own


def test_cached_answers_keep_the_licence_facts(run: Run) -> None:
    run([("idna", "3.20")])
    again = run([("idna", "3.20")], offline=True)[("idna", "3.20")]
    assert again.license == License(expression="BSD-3-Clause", source="index:License-Expression")
