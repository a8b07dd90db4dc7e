"""Known vulnerabilities in every output, and never a false all-clear (issue 11).

The source here is a program's own (``VulnOptions.sources``), answering with the
advisory of a real PyPA record as it stands in ``../shared/data`` when present, else
with the same fields written out: what is tested is the plumbing from an answer to
every output, not the matching (tests/vulns does that against the real databases)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

import depchain
from depchain.cli import app
from depchain.scanner import VulnOptions
from depchain.vulns.interface import (
    Advisory,
    Cvss,
    NotAudited,
    Query,
    Severity,
    SourceError,
    SourceInfo,
)

ADVISORY = Advisory(
    id="PYSEC-2021-98",
    aliases=("CVE-2021-33203", "GHSA-68w8-qjq3-2gfm"),
    summary="Potential directory traversal via admindocs",
    severity=Severity.MEDIUM,
    cvss=(Cvss("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.4),),
    fixed_in=("3.2.4",),
    published="2021-06-08T18:15:00Z",
    references=("https://www.djangoproject.com/weblog/2021/jun/02/security-releases/",),
    source="test-source",
)
OTHER = Advisory(
    id="GHSA-68w8-qjq3-2gfm",
    aliases=("CVE-2021-33203",),
    summary="Django admindocs directory traversal",
    severity=Severity.UNKNOWN,
    fixed_in=("3.2.4",),
    source="another-source",
)


class Source:
    """Answers django 3.2.0 with two records of one advisory; everything else clean."""

    def __init__(self, fail: bool = False, ecosystems: tuple[str, ...] = ("PyPI",)) -> None:
        self.fail = fail
        self.ecosystems = ecosystems

    @property
    def info(self) -> SourceInfo:
        return SourceInfo("test-source", "in the test", "2024-10-10", 2, self.ecosystems)

    def covers(self, query: Query) -> bool:
        return query.ecosystem in self.ecosystems

    def query_all(self, queries: Sequence[Query]) -> Mapping[Query, list[Advisory] | NotAudited]:
        if self.fail:
            raise SourceError("the test service at http://127.0.0.1:9 cannot be reached")
        return {
            q: ([ADVISORY, OTHER] if (q.name, q.version) == ("django", "3.2.0") else [])
            for q in queries
        }


def _tree(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "requirements.txt").write_text("django==3.2.0\nsix==1.16.0\nflask>=3\n")
    if extra:
        (tmp_path / "depchain.toml").write_text(extra)
    return tmp_path


def test_found_in_the_report_and_as_a_finding(tmp_path: Path) -> None:
    result = depchain.scan(_tree(tmp_path), vulns=VulnOptions(use_cache=False, sources=(Source(),)))
    assert result.audit is not None
    (merged,) = result.audit.found["pkg:pypi/django@3.2.0"]  # two records, one advisory
    assert merged.id == "PYSEC-2021-98"
    assert set(merged.aliases) == {"CVE-2021-33203", "GHSA-68w8-qjq3-2gfm"}
    assert merged.severity is Severity.MEDIUM  # a rating beats "unknown"
    (finding,) = [f for f in result.findings if f.id == "DC024"]
    assert finding.severity == "medium"
    assert (finding.evidence[0].path, finding.evidence[0].line) == ("requirements.txt", 1)
    assert "fixed in 3.2.4" in finding.message
    # flask has no exact version: listed as not audited, so no all-clear
    assert "no exact version" in result.audit.not_audited["pkg:pypi/flask"]
    assert not result.audit.complete


def test_every_output_carries_it(tmp_path: Path) -> None:
    from depchain.export import cyclonedx, json_report, sarif
    from depchain.render import markdown, table

    result = depchain.scan(_tree(tmp_path), vulns=VulnOptions(use_cache=False, sources=(Source(),)))
    report = json.loads(json_report.render(result))
    (vuln,) = report["vulnerabilities"]
    assert vuln["id"] == "PYSEC-2021-98" and vuln["component"] == "pkg:pypi/django@3.2.0"
    assert vuln["cvss"] == [{"vector": ADVISORY.cvss[0].vector, "score": 4.4}]
    assert report["audit"]["sources"][0]["updated"] == "2024-10-10"
    assert {
        "component": "pkg:pypi/flask",
        "reason": "no exact version (pin or lock it to audit it)",
    } in report["audit"]["not_audited"]
    schema = json.loads(
        (Path(depchain.__file__).parent / "schemas" / "depchain-report-1.schema.json").read_text()
    )
    import jsonschema

    jsonschema.validate(report, schema)
    for fmt in (cyclonedx.Format("cyclonedx-json"), cyclonedx.Format("cyclonedx-xml")):
        text = cyclonedx.render(result, fmt, "1.6")  # validated before it is returned
        assert "PYSEC-2021-98" in text and "CVE-2021-33203" in text
    bom = json.loads(cyclonedx.render(result))
    (cdx,) = bom["vulnerabilities"]
    assert cdx["affects"] == [{"ref": "pkg:pypi/django@3.2.0"}]
    assert cdx["ratings"][0]["score"] == 4.4 and cdx["ratings"][0]["severity"] == "medium"
    assert cdx["recommendation"] == "Upgrade to 3.2.4"
    runs = json.loads(sarif.render(result))["runs"][0]
    (hit,) = [r for r in runs["results"] if r["properties"]["gap"] == "DC024"]
    assert hit["ruleId"] == "PYSEC-2021-98"
    rule = runs["tool"]["driver"]["rules"][hit["ruleIndex"]]
    assert rule["id"] == "PYSEC-2021-98" and rule["properties"]["security-severity"] == "4.4"
    text = table.render(result)
    head = text.split("PROJECT")[0]
    assert "KNOWN VULNERABILITIES (1)" in head and "PYSEC-2021-98" in head
    assert "no known vulnerabilities" not in text
    md = markdown.render(result)
    assert md.index("Known vulnerabilities") < md.index("| kind |")


def test_no_data_says_so_first_and_never_all_clear(tmp_path: Path) -> None:
    from depchain.render import table

    result = depchain.scan(_tree(tmp_path), vulns=VulnOptions(use_cache=False))
    text = table.render(result)
    lines = text.splitlines()
    # right after the summary (whose lines, naming a long temporary path, may wrap)
    trust = next(n for n, line in enumerate(lines) if line.startswith("trust:"))
    first = next(n for n, line in enumerate(lines) if line.startswith("vulnerabilities:"))
    assert first > trust and all(line.startswith(" ") for line in lines[trust + 1 : first])
    assert lines[first] == "vulnerabilities: NOT AUDITED: no advisory data at hand"
    assert "depchain db update" in lines[first + 1]
    assert "no known vulnerabilities" not in text.lower()
    assert result.audit is not None and len(result.audit.not_audited) == 3


def test_all_clear_only_when_everything_was_audited(tmp_path: Path) -> None:
    from depchain.render import table

    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path, vulns=VulnOptions(use_cache=False, sources=(Source(),)))
    assert result.audit is not None and result.audit.complete
    assert "vulnerabilities: no known vulnerabilities (1 components audited)" in table.render(
        result
    )


def test_a_failing_source_is_exit_3_unless_fail_on_never(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depchain import scanner

    root = _tree(tmp_path)
    real = scanner.vulnerability_sources

    def failing(options: VulnOptions, notes: list[str] | None = None):  # type: ignore[no-untyped-def]
        sources, problems = real(options, notes)
        return [*sources, Source(fail=True)], problems

    monkeypatch.setattr(scanner, "vulnerability_sources", failing)
    runner = CliRunner()
    done = runner.invoke(app, ["scan", str(root)])
    assert done.exit_code == 3 and isinstance(done.exception, SystemExit), done.output
    assert "cannot be reached" in done.output
    assert "no known vulnerabilities" not in done.output.lower()
    report = json.loads(runner.invoke(app, ["scan", str(root), "-f", "json"]).stdout)
    reasons = {n["component"]: n["reason"] for n in report["audit"]["not_audited"]}
    assert reasons["pkg:pypi/django@3.2.0"] == "test-source failed"
    assert report["audit"]["complete"] is False and report["vulnerabilities"] == []
    assert runner.invoke(app, ["scan", str(root), "--fail-on", "never"]).exit_code == 0


def test_ignores_by_any_id_with_a_reason_and_an_expiry(tmp_path: Path) -> None:
    policy = (
        '[[ignore]]\nid = "CVE-2021-33203"\nreason = "admindocs is not installed"\n'
        "expires = 2099-01-01\n\n"
        '[[ignore]]\nid = "GHSA-xxxx-old"\nreason = "was fine"\nexpires = 2020-01-01\n'
    )
    result = depchain.scan(
        _tree(tmp_path, policy), vulns=VulnOptions(use_cache=False, sources=(Source(),))
    )
    assert not result.errors, result.errors
    assert not [f for f in result.findings if f.id == "DC024"]
    assert ("pkg:pypi/django@3.2.0", "PYSEC-2021-98") in result.ignored
    (expired,) = [f for f in result.findings if f.id == "DC020"]
    assert "GHSA-xxxx-old expired on 2020-01-01" in expired.message
    from depchain.export import json_report

    (vuln,) = json.loads(json_report.render(result))["vulnerabilities"]
    assert vuln["ignored"] == {"reason": "admindocs is not installed", "expires": "2099-01-01"}


def test_fail_on_applies_to_vulnerabilities_by_severity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depchain import scanner

    root = _tree(tmp_path)
    (root / "requirements.txt").write_text("django==3.2.0\n")
    real = scanner.vulnerability_sources
    monkeypatch.setattr(
        scanner,
        "vulnerability_sources",
        lambda options, notes=None: (lambda s, p: ([*s, Source()], p))(*real(options, notes)),
    )
    runner = CliRunner()
    medium = runner.invoke(app, ["scan", str(root), "--fail-on", "medium"])
    assert medium.exit_code == 1 and isinstance(medium.exception, SystemExit)
    assert "PYSEC-2021-98" in medium.output
    high = runner.invoke(app, ["scan", str(root), "--fail-on", "high"])
    assert high.exit_code == 0 and not isinstance(high.exception, TypeError), high.output


def _semver(text: str) -> tuple[int, ...] | None:
    import re

    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(p) for p in m.groups()) if m else None


def test_the_crates_a_wheel_carries_are_audited(tmp_path: Path) -> None:
    """cryptography's wheel lists the Rust crates built into it in a PEP 770 SBOM: an
    installed copy of its .dist-info, scanned with the RustSec database, has every one
    of those crates audited, and reports exactly what a plain reading of the records
    says affects their versions."""
    import shutil
    import sys

    from tests.conftest import SHARED

    rustsec = SHARED / "rustsec-advisory-db-osv" / "crates"
    if not rustsec.is_dir():
        pytest.skip(f"the RustSec OSV advisories are not present at {rustsec}")
    found = sorted(Path(sys.prefix).glob("lib/python3*/site-packages/cryptography-*.dist-info"))
    if not found or not list((found[0] / "sboms").glob("*.json")):
        pytest.skip("no installed cryptography wheel with a PEP 770 SBOM in this environment")
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    shutil.copytree(found[0], site / found[0].name)
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    result = depchain.scan(tmp_path, vulns=VulnOptions(databases=(rustsec,), use_cache=False))
    assert result.audit is not None
    every = {c.id: c for c in result.graph.components() if c.ecosystem == "cargo"}
    # the wheel's own workspace crates are no crates.io releases: said, not asked
    own = {i for i in every if "download_url=file" in i}
    assert own and all("not a registry release" in result.audit.not_audited[i] for i in own)
    crates = {i: c for i, c in every.items() if i not in own}
    assert len(crates) > 20
    assert set(crates) <= set(result.audit.audited), set(crates) - set(result.audit.audited)
    # an independent, deliberately plain reading of the records
    expected: set[tuple[str, str]] = set()
    versions = {(c.name, c.version): c.id for c in crates.values() if c.version}
    for record_path in rustsec.glob("*.json"):
        record = json.loads(record_path.read_text())
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected", []):
            name = affected["package"]["name"]
            for (crate, version), ident in versions.items():
                if crate != name or _semver(version) is None:
                    continue
                hit = version in affected.get("versions", [])
                for r in affected.get("ranges", []):
                    if r["type"] != "SEMVER":
                        continue
                    inside = False
                    for event in r["events"]:
                        for key, at in event.items():
                            bound = (0, 0, 0) if at == "0" else _semver(at)
                            if bound is None:
                                continue
                            mine = _semver(version)
                            assert mine is not None
                            if key == "introduced" and mine >= bound:
                                inside = True
                            elif (key == "fixed" and mine >= bound) or (
                                key == "last_affected" and mine > bound
                            ):
                                inside = False
                    hit = hit or inside
                if hit:
                    expected.add((ident, record["id"]))
    by_component: dict[str, set[str]] = {}
    for ident, record_id in expected:
        by_component.setdefault(ident, set()).add(record_id)
    for component in crates:
        advisories = result.audit.found.get(component, [])
        reported_ids = {i for a in advisories for i in a.ids}
        # every record that affects it is reported, and every report is one of them
        assert by_component.get(component, set()) <= reported_ids, component
        assert all(set(a.ids) & by_component.get(component, set()) for a in advisories)


def test_review_findings(tmp_path: Path) -> None:
    """What a hostile review found: every advisory of a package its own finding and
    SARIF result; an unreadable --vuln-db sinks no other; a lone surrogate or a control
    character in a record crashes nothing; local crates are not asked by name."""
    from depchain.export import cyclonedx, sarif

    records = tmp_path / "records"
    records.mkdir()
    for n, text in enumerate(["x \\ud800 lone", "ctl \\u0001 here", "plain"]):
        (records / f"r{n}.json").write_text(
            '{"id": "GHSA-test-000' + str(n) + '", "summary": "' + text + '", '
            '"affected": [{"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, '
            '"versions": ["1.5"]}, {"package": {"ecosystem": "crates.io", "name": "time"}, '
            '"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}'
        )
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("demo-pkg==1.5\n")
    (project / "Cargo.lock").write_text(
        'version = 3\n\n[[package]]\nname = "time"\nversion = "0.1.0"\n'
    )
    result = depchain.scan(
        project,
        vulns=VulnOptions(databases=(records, tmp_path / "missing"), use_cache=False),
    )
    assert result.audit is not None
    assert any("missing" in e for e in result.audit.errors)  # its own error ...
    found = result.audit.found["pkg:pypi/demo-pkg@1.5"]  # ... and the others still used
    assert len(found) == 3
    assert len([f for f in result.findings if f.id == "DC024"]) == 3
    runs = json.loads(sarif.render(result))["runs"][0]
    assert len([r for r in runs["results"] if r["properties"]["gap"] == "DC024"]) == 3
    cyclonedx.render(result, cyclonedx.Format("cyclonedx-xml"), "1.6")  # valid XML
    json.loads(cyclonedx.render(result))
    (local,) = [c for c in result.graph.components() if c.ecosystem == "cargo"]
    assert "not a registry release" in result.audit.not_audited[local.id]
