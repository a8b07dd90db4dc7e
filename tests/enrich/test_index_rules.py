"""The index-based gaps, on enrichment built from recorded PyPI answers: each gap where
the real data shows it, nowhere else, with the evidence of the manifest entry."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from depchain.enrich.pypi import Enrichment, ReleaseFile
from depchain.model import Component, ComponentType, Evidence, Finding, Source, SourceKind
from depchain.trust.index_rules import index_gaps
from tests.enrich.conftest import Run
from tests.enrich.fakeindex import RECORDED, SIMPLE_JSON, FakeIndex

ABSENT = "depchain-internal-name-that-does-not-exist"
PINS: list[tuple[str, str | None]] = [
    ("requests", "2.32.3"),  # three owners, wheel, source declared
    ("requests", "2.32.0"),  # yanked
    ("six", "1.4.1"),  # sdist only, single owner
    ("sampleproject", "4.0.0"),  # organization pypa
    ("sigstore", "3.6.1"),  # attested from its declared repository
    ("pypi-attestations", "0.0.19"),  # attested from the repository it moved from
    ("ply", "3.11"),  # single owner, no source repository
    (ABSENT, "1.0"),  # nobody registered it
]


def _component(name: str, version: str | None, line: int) -> Component:
    return Component(
        f"pkg:pypi/{name}@{version}",
        name,
        "pypi",
        version,
        evidence=(Evidence("requirements.txt", line, "requirements"),),
    )


COMPONENTS = [_component(n, v, i + 1) for i, (n, v) in enumerate(PINS)]


def _owned_x(files: tuple[ReleaseFile, ...], source: str = "https://github.com/o/x") -> Enrichment:
    """x 1.0 on pypi.org, owned by organization o, declaring ``source``."""
    return Enrichment(
        "x",
        "1.0",
        "https://pypi.org/simple",
        "pypi-json",
        organization="o",
        project_known=True,
        source_repository=source,
        files=files,
    )


def _gaps_of_x(e: Enrichment) -> list[Finding]:
    return index_gaps([_component("x", "1.0", 1)], {("x", "1.0"): e}, _evidence)


def _evidence(component_id: str) -> tuple[Evidence, ...]:
    return (Evidence("requirements.txt", 100, "requirements"),) if "ply" in component_id else ()


@pytest.fixture
def enrichment(run: Run) -> dict[tuple[str, str | None], Enrichment]:
    return run(PINS)


def _by_gap(findings: list[Finding]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in findings:
        out.setdefault(f.id, set()).add(f.component.removeprefix("pkg:pypi/"))
    return out


def test_each_gap_where_the_data_shows_it(
    enrichment: dict[tuple[str, str | None], Enrichment],
) -> None:
    findings = index_gaps(COMPONENTS, enrichment, _evidence)
    assert _by_gap(findings) == {
        "DC006": {"six@1.4.1"},
        # the recording index served no provenance except for the two recorded files
        "DC007": {
            "requests@2.32.3",
            "requests@2.32.0",
            "six@1.4.1",
            "sampleproject@4.0.0",
            "ply@3.11",
        },
        "DC008": {"pypi-attestations@0.0.19"},
        "DC013": {"requests@2.32.0"},
        "DC014": {f"{ABSENT}@1.0"},
        "DC016": {"six@1.4.1", "ply@3.11"},
        "DC018": {"ply@3.11"},
    }
    messages = {(f.id, f.component): f for f in findings}
    moved = messages[("DC008", "pkg:pypi/pypi-attestations@0.0.19")]
    assert "https://github.com/trailofbits/pypi-attestations" in moved.message
    assert "https://github.com/pypi/pypi-attestations" in moved.message
    assert moved.severity == "high"
    assert "CVE-2024-35195" in messages[("DC013", "pkg:pypi/requests@2.32.0")].message
    assert "gutworth" in messages[("DC016", "pkg:pypi/six@1.4.1")].message
    # evidence: what evidence_of gives, else the component's own
    assert messages[("DC018", "pkg:pypi/ply@3.11")].evidence == (
        Evidence("requirements.txt", 100, "requirements"),
    )
    assert messages[("DC006", "pkg:pypi/six@1.4.1")].evidence == (
        Evidence("requirements.txt", 3, "requirements"),
    )
    assert findings[0].severity == "high"  # most severe first


def test_no_dc015_without_a_policy_and_with_one_unknown_is_never_trusted(
    enrichment: dict[tuple[str, str | None], Enrichment],
) -> None:
    assert "DC015" not in _by_gap(index_gaps(COMPONENTS, enrichment, _evidence))
    unknown = Enrichment("mystery", "1.0", "https://pypi.org/simple", ownership_reason="offline")
    components = [*COMPONENTS, _component("mystery", "1.0", 50)]
    both = {**enrichment, ("mystery", "1.0"): unknown}
    findings = index_gaps(
        components,
        both,
        _evidence,
        trusted_owners={"NatePrewitt", "Lukasa", "graffatcolmingov", "beazley"},
        trusted_orgs={"pypa"},
    )
    untrusted = _by_gap(findings)["DC015"]
    # requests: all three owners trusted (case-insensitive); sampleproject: its org;
    # ply: its one owner. six's owner, the organizations Sigstore and trailofbits, and
    # the unknown owner of mystery are not trusted.
    assert untrusted == {
        "six@1.4.1",
        "sigstore@3.6.1",
        "pypi-attestations@0.0.19",
        "mystery@1.0",
    }
    message = {f.component: f.message for f in findings if f.id == "DC015"}
    assert "unknown" in message["pkg:pypi/mystery@1.0"]
    assert "never trusted" in message["pkg:pypi/mystery@1.0"]
    assert "organization Sigstore" in message["pkg:pypi/sigstore@3.6.1"]
    # unknown ownership is never a single owner, and gives no release gaps
    assert not {g for g, names in _by_gap(findings).items() if "mystery@1.0" in names} - {"DC015"}


def test_the_absent_name_is_not_also_an_untrusted_owner(
    enrichment: dict[tuple[str, str | None], Enrichment],
) -> None:
    findings = index_gaps(COMPONENTS, enrichment, _evidence, trusted_orgs={"psf"})
    absent = {f.id for f in findings if f.component == f"pkg:pypi/{ABSENT}@1.0"}
    assert absent == {"DC014"}


def test_attestation_unknown_is_said_and_present_anywhere_is_enough() -> None:
    files = (
        ReleaseFile("x-1.0.tar.gz", "sdist", attestation="unknown"),
        ReleaseFile("x-1.0-py3-none-any.whl", "wheel", attestation="absent"),
    )
    e = Enrichment(
        "x",
        "1.0",
        "https://pypi.org/simple",
        "pypi-json",
        roles=(("a", "Owner"), ("b", "Owner")),
        project_known=True,
        source_repository="https://github.com/o/x",
        files=files,
    )
    [finding] = _gaps_of_x(e)
    assert finding.id == "DC007"
    assert "(1 could not be checked)" in finding.message


def test_publisher_compared_in_normal_form() -> None:
    from depchain.enrich.pypi import Publisher

    files = (
        ReleaseFile(
            "x-1.0-py3-none-any.whl",
            "wheel",
            attestation="present",
            publishers=(Publisher("GitHub", "Owner/X", "release.yml"),),
            verified=True,
        ),
    )
    for declared in (
        "https://github.com/owner/x",
        "https://www.github.com/Owner/X.git",
        "git+https://github.com/owner/x/tree/main",
        "git@github.com:owner/x.git",
    ):
        e = _owned_x(files, declared)
        assert _gaps_of_x(e) == []
    e = _owned_x(files, "https://gitlab.com/owner/x")
    [finding] = _gaps_of_x(e)
    assert finding.id == "DC008"


def test_skipped_components_and_findings_without_evidence() -> None:
    e = Enrichment("x", "1.0", "https://pypi.org/simple", name_absent=True)
    enrichment: dict[tuple[str, str | None], Enrichment] = {("x", "1.0"): e, ("X", "1.0"): e}
    no_evidence = Component("pkg:pypi/x@1.0", "x", "pypi", "1.0")
    assert index_gaps([no_evidence], enrichment, lambda _: ()) == []
    vcs = Component(
        "pkg:pypi/x@1.0",
        "x",
        "pypi",
        "1.0",
        sources=(Source(SourceKind.VCS, "https://github.com/o/x", commit="a" * 40),),
        evidence=(Evidence("requirements.txt", 1, "requirements"),),
    )
    project = Component(
        "pkg:pypi/x@1.0",
        "x",
        "pypi",
        "1.0",
        type=ComponentType.APPLICATION,
        evidence=(Evidence("pyproject.toml", 1, "pyproject"),),
    )
    assert index_gaps([vcs, project], enrichment, lambda _: ()) == []
    # names are matched in PEP 503 form
    spelled = Component(
        "pkg:pypi/x@1.0", "X", "pypi", "1.0", evidence=(Evidence("r.txt", 2, "requirements"),)
    )
    lower: dict[tuple[str, str | None], Enrichment] = {("x", "1.0"): e}
    assert [f.id for f in index_gaps([spelled], lower, lambda _: ())] == ["DC014"]


def test_an_attestation_that_does_not_verify_and_the_project_status(
    run: Run, index: FakeIndex
) -> None:
    # sigstore: the index lists another sha256 for the attested sdist than the one the
    # attestation signs; six: archived, ply: quarantined (PEP 792, on the recorded pages)
    sigstore = json.loads((RECORDED / "simple" / "sigstore.json").read_text())
    for item in sigstore["files"]:
        if item["filename"] == "sigstore-3.6.1.tar.gz":
            item["hashes"]["sha256"] = "f" * 64
    pages = {"sigstore": sigstore}
    for name, status in (("six", "archived"), ("ply", "quarantined")):
        page = json.loads((RECORDED / "simple" / f"{name}.json").read_text())
        page["meta"]["api-version"] = "1.4"
        page["project-status"] = {"status": status, "reason": f"{name} test reason"}
        pages[name] = page
    for name, page in pages.items():
        index.script(
            f"/simple/{name}/", (200, json.dumps(page).encode(), {"Content-Type": SIMPLE_JSON})
        )
    enrichment = run(PINS)
    findings = index_gaps(COMPONENTS, enrichment, _evidence)
    by_gap = _by_gap(findings)
    assert by_gap["DC021"] == {"sigstore@3.6.1"}
    assert by_gap["DC022"] == {"ply@3.11"}
    assert by_gap["DC023"] == {"six@1.4.1"}
    messages = {(f.id, f.component): f for f in findings}
    failed = messages[("DC021", "pkg:pypi/sigstore@3.6.1")]
    assert failed.severity == "high"
    assert "sigstore-3.6.1.tar.gz" in failed.message
    assert "subject does not match distribution digest" in failed.message
    assert failed.evidence == (Evidence("requirements.txt", 5, "requirements"),)
    quarantined = messages[("DC022", "pkg:pypi/ply@3.11")]
    assert quarantined.severity == "critical"
    assert quarantined.message == "ply is quarantined on pypi.org: ply test reason"
    assert findings[0].id == "DC022"  # most severe first
    # 1.4 pages say every file without a link has no attestation: no request made
    assert not any(p.startswith("/integrity/six/") for p in index.paths())


def test_an_attestation_that_could_not_be_checked_is_not_trusted() -> None:
    files = (
        ReleaseFile(
            "x-1.0-py3-none-any.whl",
            "wheel",
            attestation="present",
            verified=None,
            verification="the index lists no sha256 for the file",
        ),
    )
    e = _owned_x(files)
    [finding] = _gaps_of_x(e)
    assert (finding.id, finding.message) == (
        "DC007",
        "the attestation of x 1.0 on pypi.org could not be verified: the index lists no "
        "sha256 for the file",
    )
    assert _gaps_of_x(_owned_x((replace(files[0], verified=True),))) == []
