"""The offline OSV source on small hand-written records: the specification's evaluation
(events, limits, versions lists, GIT ranges, withdrawn records), alias merging, the
ecosystems, malformed files, archives, and the index cache."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from depchain.vulns import osv as osv_module
from depchain.vulns.interface import Advisory, NotAudited, Query, Severity, SourceError
from depchain.vulns.osv import OsvSource


def record(ident: str, ecosystem: str, name: str, *ranges: Any, **extra: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if ranges:
        affected["ranges"] = list(ranges)
    if "versions" in extra:
        affected["versions"] = extra.pop("versions")
    return {"id": ident, "modified": "2024-01-02T03:04:05Z", "affected": [affected], **extra}


def events(kind: str, *pairs: tuple[str, str]) -> dict[str, Any]:
    return {"type": kind, "events": [{k: v} for k, v in pairs]}


def write(folder: Path, *records: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for item in records:
        (folder / f"{item['id']}.json").write_text(json.dumps(item), encoding="utf-8")
    return folder


def ids(found: list[Advisory] | NotAudited) -> list[str]:
    assert isinstance(found, list), found
    return sorted(a.id for a in found)


def ask(source: OsvSource, ecosystem: str, name: str, version: str) -> list[Advisory] | NotAudited:
    return source.query(Query(f"pkg:x/{name}@{version}", ecosystem, name, version))


# -- the evaluation ----------------------------------------------------------------------


def test_introduced_fixed_and_several_ranges(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path / "db",
                record(
                    "PYSEC-1",
                    "PyPI",
                    "Some_Pkg",
                    # unsorted on purpose: evaluated in version order
                    events(
                        "ECOSYSTEM",
                        ("fixed", "2.5"),
                        ("introduced", "2.0"),
                        ("introduced", "0"),
                        ("fixed", "1.4"),
                    ),
                ),
            )
        ]
    )
    affected = ["0.1", "1.0", "1.3.9", "2.0", "2.4", "2.5rc1"]
    clean = ["1.4", "1.5", "1.9", "2.5", "3.0"]
    for version in affected:
        assert ids(ask(source, "PyPI", "some-pkg", version)) == ["PYSEC-1"], version
    for version in clean:
        assert ids(ask(source, "PyPI", "SOME.PKG", version)) == [], version
    found = ask(source, "PyPI", "some_pkg", "1.0")
    assert isinstance(found, list)
    assert found[0].fixed_in == ("1.4", "2.5")
    found = ask(source, "PyPI", "some_pkg", "2.0")
    assert isinstance(found, list)
    assert found[0].fixed_in == ("2.5",)


def test_last_affected(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path,
                record(
                    "RUSTSEC-1",
                    "crates.io",
                    "krate",
                    events("SEMVER", ("introduced", "1.0.0"), ("last_affected", "1.2.0")),
                ),
            )
        ]
    )
    assert ids(ask(source, "crates.io", "krate", "0.9.0")) == []
    assert ids(ask(source, "crates.io", "krate", "1.0.0")) == ["RUSTSEC-1"]
    assert ids(ask(source, "crates.io", "krate", "1.2.0")) == ["RUSTSEC-1"]
    assert ids(ask(source, "crates.io", "krate", "1.2.1-alpha")) == []
    assert ids(ask(source, "crates.io", "krate", "1.2.1")) == []
    assert ids(ask(source, "crates.io", "Krate", "1.1.0")) == []  # crate names are exact
    found = ask(source, "crates.io", "krate", "1.1.0")
    assert isinstance(found, list) and found[0].fixed_in == ()


def test_limit(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path,
                record(
                    "GO-1",
                    "Go",
                    "example.com/mod",
                    events("SEMVER", ("introduced", "0"), ("limit", "2.0.0")),
                ),
                record(
                    "GO-2",
                    "Go",
                    "example.com/mod",
                    events("SEMVER", ("introduced", "1.0.0"), ("limit", "*")),
                ),
                record(
                    "GO-3",
                    "Go",
                    "example.com/mod",
                    events(
                        "SEMVER",
                        ("introduced", "0"),
                        ("fixed", "3.0.0"),
                        ("limit", "1.5.0"),
                        ("limit", "2.5.0"),
                    ),
                ),
            )
        ]
    )
    assert ids(ask(source, "Go", "example.com/mod", "v0.1.0")) == ["GO-1", "GO-3"]
    assert ids(ask(source, "Go", "example.com/mod", "v1.9.9")) == ["GO-1", "GO-2", "GO-3"]
    assert ids(ask(source, "Go", "example.com/mod", "v2.0.0")) == ["GO-2", "GO-3"]
    assert ids(ask(source, "Go", "example.com/mod", "v2.6.0")) == ["GO-2"]
    assert ids(ask(source, "Go", "example.com/mod", "v3.1.0+incompatible")) == ["GO-2"]


def test_go_pseudo_versions(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path,
                record(
                    "GO-2020-1",
                    "Go",
                    "golang.org/x/crypto",
                    events(
                        "SEMVER",
                        ("introduced", "0"),
                        ("fixed", "0.0.0-20200220183623-bac4c82f6975"),
                    ),
                ),
            )
        ]
    )
    crypto = "golang.org/x/crypto"
    assert ids(ask(source, "Go", crypto, "v0.0.0-20190308221718-c2843e01d9a2")) == ["GO-2020-1"]
    assert ids(ask(source, "Go", crypto, "v0.0.0-20200220183623-bac4c82f6975")) == []
    assert ids(ask(source, "Go", crypto, "v0.1.0")) == []
    assert ids(ask(source, "Go", "golang.org/x/Crypto", "v0.0.0-20190308221718-c2843e01d9a2")) == []


def test_versions_lists_and_git_ranges(tmp_path: Path) -> None:
    git = {
        "type": "GIT",
        "repo": "https://example.com/repo",
        "events": [{"introduced": "a" * 40}, {"fixed": "b" * 40}],
    }
    source = OsvSource(
        [
            write(
                tmp_path,
                record("PYSEC-GIT", "PyPI", "pkg", git, versions=["1.0", "1.1"]),
                record("PYSEC-GITONLY", "PyPI", "other", git),
            )
        ]
    )
    assert ids(ask(source, "PyPI", "pkg", "1.0.0")) == ["PYSEC-GIT"]  # 1.0 is 1.0.0
    assert ids(ask(source, "PyPI", "pkg", "1.1")) == ["PYSEC-GIT"]
    assert ids(ask(source, "PyPI", "pkg", "1.2")) == []
    # a GIT range without a versions list says nothing of a version: no match
    assert ids(ask(source, "PyPI", "other", "1.0")) == []


def test_invalid_pypi_version_compares_by_versions_list_only(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path,
                record(
                    "PYSEC-A",
                    "PyPI",
                    "pkg",
                    events("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.0")),
                    versions=["1.0", "weird-1"],
                ),
                record(
                    "PYSEC-B",
                    "PyPI",
                    "nolist",
                    events("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.0")),
                ),
            )
        ]
    )
    assert ids(ask(source, "PyPI", "pkg", "weird-1")) == ["PYSEC-A"]
    assert ids(ask(source, "PyPI", "pkg", "weird-2")) == []
    # ranges only, and a version they cannot be compared with: not audited, not clean
    answer = ask(source, "PyPI", "nolist", "weird-2")
    assert isinstance(answer, NotAudited)
    assert "cannot be compared" in answer.reason
    assert isinstance(ask(source, "PyPI", "nolist", ""), NotAudited)


def test_withdrawn_records_are_skipped(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path,
                record(
                    "GHSA-gone",
                    "PyPI",
                    "pkg",
                    events("ECOSYSTEM", ("introduced", "0")),
                    withdrawn="2024-02-01T00:00:00Z",
                ),
                record("GHSA-kept", "PyPI", "pkg", events("ECOSYSTEM", ("introduced", "0"))),
            )
        ]
    )
    assert ids(ask(source, "PyPI", "pkg", "1.0")) == ["GHSA-kept"]
    assert source.info.records == 1


def test_several_affected_entries(tmp_path: Path) -> None:
    item = record(
        "PYSEC-M", "PyPI", "one", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.0"))
    )
    item["affected"] += [
        {
            "package": {"ecosystem": "PyPI", "name": "two"},
            "ranges": [events("ECOSYSTEM", ("introduced", "0"), ("fixed", "5.0"))],
        },
        {
            "package": {"ecosystem": "PyPI", "name": "one"},
            "ranges": [events("ECOSYSTEM", ("introduced", "2.0"), ("fixed", "2.3"))],
        },
        {
            "package": {"ecosystem": "crates.io", "name": "one"},
            "ranges": [events("SEMVER", ("introduced", "0"))],
        },
    ]
    source = OsvSource([write(tmp_path, item)])
    assert ids(ask(source, "PyPI", "one", "0.5")) == ["PYSEC-M"]
    assert ids(ask(source, "PyPI", "one", "1.5")) == []
    assert ids(ask(source, "PyPI", "one", "2.1")) == ["PYSEC-M"]
    assert ids(ask(source, "PyPI", "two", "4.0")) == ["PYSEC-M"]
    assert ids(ask(source, "crates.io", "one", "9.0.0")) == ["PYSEC-M"]
    found = ask(source, "PyPI", "one", "0.5")
    assert isinstance(found, list) and found[0].fixed_in == ("1.0", "2.3")
    assert source.info.ecosystems == ("PyPI", "crates.io")


# -- merging and what an advisory says -------------------------------------------------


def test_aliases_merge_into_one_advisory(tmp_path: Path) -> None:
    vulnerable = events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.5"))
    pysec = record(
        "PYSEC-2021-9",
        "PyPI",
        "pkg",
        vulnerable,
        aliases=["GHSA-aaaa-bbbb-cccc", "CVE-2021-1"],
        summary="",
        details="First paragraph\nwrapped.\n\nSecond paragraph.",
        published="2021-01-01T00:00:00Z",
        references=[{"type": "WEB", "url": "https://example.com/web"}],
    )
    ghsa = record(
        "GHSA-aaaa-bbbb-cccc",
        "PyPI",
        "pkg",
        events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.4.1")),
        aliases=["CVE-2021-1", "CVE-2021-2"],
        summary="A GitHub summary",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        database_specific={"severity": "MODERATE"},
        references=[
            {"type": "PACKAGE", "url": "https://example.com/pkg"},
            {"type": "ADVISORY", "url": "https://example.com/advisory"},
        ],
    )
    other = record("CVE-2021-3", "PyPI", "pkg", vulnerable, aliases=["CVE-2021-4"])
    source = OsvSource([write(tmp_path, pysec, ghsa, other)])
    found = ask(source, "PyPI", "pkg", "1.0")
    assert isinstance(found, list)
    assert sorted(a.id for a in found) == ["CVE-2021-3", "PYSEC-2021-9"]
    merged = next(a for a in found if a.id == "PYSEC-2021-9")
    assert set(merged.aliases) == {"GHSA-aaaa-bbbb-cccc", "CVE-2021-1", "CVE-2021-2"}
    assert merged.aliases[0] == "GHSA-aaaa-bbbb-cccc"  # GHSA before CVE
    assert merged.summary == "First paragraph wrapped."
    assert merged.severity is Severity.CRITICAL  # the vector's 9.8, not the word
    assert merged.cvss[0].score == 9.8
    assert merged.fixed_in == ("1.4.1", "1.5")
    assert merged.references[0] == "https://example.com/advisory"
    assert merged.published == "2021-01-01T00:00:00Z"
    lone = next(a for a in found if a.id == "CVE-2021-3")
    assert lone.aliases == ("CVE-2021-4",)
    assert lone.severity is Severity.UNKNOWN
    # only the GHSA record affects 1.4.5: it alone is reported, under its own id
    found = ask(source, "PyPI", "pkg", "1.4.5")
    assert isinstance(found, list)
    assert [a.id for a in found if "CVE-2021-1" in a.ids] == ["PYSEC-2021-9"]  # its alias


def test_ids_prefer_the_ecosystems_own_database(tmp_path: Path) -> None:
    every = events("SEMVER", ("introduced", "0"))
    source = OsvSource(
        [
            write(
                tmp_path,
                record("GHSA-1111-2222-3333", "crates.io", "a", every, aliases=["RUSTSEC-2020-1"]),
                record("CVE-2020-5", "crates.io", "b", every, aliases=["GHSA-4444-5555-6666"]),
                record("CVE-2020-6", "crates.io", "c", every),
            )
        ]
    )
    assert ids(ask(source, "crates.io", "a", "1.0.0")) == ["RUSTSEC-2020-1"]
    assert ids(ask(source, "crates.io", "b", "1.0.0")) == ["GHSA-4444-5555-6666"]
    assert ids(ask(source, "crates.io", "c", "1.0.0")) == ["CVE-2020-6"]


def test_severity_words(tmp_path: Path) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    source = OsvSource(
        [
            write(
                tmp_path,
                record("GHSA-w", "PyPI", "a", every, database_specific={"severity": "MODERATE"}),
                record(
                    "GHSA-v4",
                    "PyPI",
                    "b",
                    every,
                    severity=[{"type": "CVSS_V4", "score": v4}],
                    database_specific={"severity": "LOW"},
                ),
            )
        ]
    )
    found = ask(source, "PyPI", "a", "1")
    assert isinstance(found, list) and found[0].severity is Severity.MEDIUM
    found = ask(source, "PyPI", "b", "1")
    assert isinstance(found, list) and found[0].severity is Severity.LOW
    assert found[0].cvss[0].vector == v4 and found[0].cvss[0].score is None


def test_the_same_record_twice_keeps_the_newer(tmp_path: Path) -> None:
    old = record(
        "PYSEC-D", "PyPI", "pkg", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.0"))
    )
    new = dict(old, modified="2025-01-01T00:00:00Z", summary="newer")
    new["affected"] = [
        {
            "package": {"ecosystem": "PyPI", "name": "pkg"},
            "ranges": [events("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.0"))],
        }
    ]
    source = OsvSource([write(tmp_path / "a", new), write(tmp_path / "b", old)])
    found = ask(source, "PyPI", "pkg", "1.5")
    assert isinstance(found, list) and [a.summary for a in found] == ["newer"]
    assert source.info.records == 1
    assert source.info.updated == "2025-01-01T00:00:00Z"


def test_long_summaries_are_cut(tmp_path: Path) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    source = OsvSource(
        [write(tmp_path, record("PYSEC-L", "PyPI", "pkg", every, details="word " * 200))]
    )
    found = ask(source, "PyPI", "pkg", "1")
    assert isinstance(found, list)
    assert len(found[0].summary) <= 200 and found[0].summary.endswith("…")


# -- ecosystems ------------------------------------------------------------------------------


def test_debian_releases(tmp_path: Path) -> None:
    source = OsvSource(
        [
            write(
                tmp_path,
                record(
                    "DSA-1",
                    "Debian:12",
                    "openssl",
                    events("ECOSYSTEM", ("introduced", "0"), ("fixed", "3.0.11-1~deb12u1")),
                ),
                record(
                    "DSA-2",
                    "Debian:11",
                    "openssl",
                    events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.1.1w-0+deb11u1")),
                ),
            )
        ]
    )
    assert ids(ask(source, "Debian:12", "openssl", "3.0.9-1")) == ["DSA-1"]
    assert ids(ask(source, "Debian:12", "openssl", "3.0.11-1~deb12u1")) == []
    assert ids(ask(source, "Debian:12", "openssl", "3.0.11-1~deb12u0")) == ["DSA-1"]
    assert source.notes == []
    # no release known: every release's advisories, and a note saying so
    assert ids(ask(source, "Debian", "openssl", "1.1.1n-0+deb11u3")) == ["DSA-1", "DSA-2"]
    assert any("every Debian release" in note for note in source.notes)
    assert source.covers(Query("x", "Debian", "openssl", "1"))


def test_ecosystems_not_covered(tmp_path: Path) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    source = OsvSource([write(tmp_path, record("MAL-1", "Maven", "g:a", every))])
    maven = Query("x", "Maven", "g:a", "1.0")
    npm = Query("y", "npm", "left-pad", "1.0.0")
    assert not source.covers(maven) and not source.covers(npm)
    answers = source.query_all([maven, npm])
    not_maven, not_npm = answers[maven], answers[npm]
    assert isinstance(not_maven, NotAudited) and "cannot order" in not_maven.reason
    assert isinstance(not_npm, NotAudited) and "no npm advisories" in not_npm.reason


# -- malformed files, archives, paths -------------------------------------------------------


SECRET = "hunter2-do-not-echo"


def test_malformed_files_are_reported_by_path_and_skipped(tmp_path: Path) -> None:
    good = record("PYSEC-OK", "PyPI", "pkg", events("ECOSYSTEM", ("introduced", "0")))
    folder = write(tmp_path / "db", good)
    bad: dict[str, str | bytes] = {
        "broken.json": '{"id": "' + SECRET + '", ',
        "sub/dir/broken.yaml": f"id: {SECRET}\n  bad: [indent\n",
        "list.json": json.dumps([SECRET]),
        "noid.yaml": f"summary: {SECRET}\naffected: []\n",
        "badaffected.json": json.dumps({"id": "X-1", "affected": SECRET}),
        "latin1.json": b'{"id": "\xe9' + SECRET.encode() + b'"}',
        "dupkey.yaml": f"id: A\nid: {SECRET}\n",
    }
    for name, content in bad.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (folder / "README.md").write_text(SECRET, encoding="utf-8")  # not a record: not read
    partly = record("PYSEC-PART", "PyPI", "pkg", events("ECOSYSTEM", ("introduced", "0")))
    partly["affected"].append({"package": {"name": SECRET}})
    partly["affected"].append(
        {"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "ODD"}]}
    )
    write(folder, partly)
    source = OsvSource([folder])
    assert ids(ask(source, "PyPI", "pkg", "1.0")) == ["PYSEC-OK", "PYSEC-PART"]
    problems = source.problems
    assert len(problems) == len(bad) + 1
    for name in bad:
        line = next(p for p in problems if p.startswith(str(folder / name) + ": "))
        assert line.endswith("skipped"), line
    part = next(p for p in problems if "PYSEC-PART" in p)
    assert "affected[1] names no package" in part and "(and 1 more)" in part
    assert "the rest of the record is used" in part
    assert all(SECRET not in p and "\n" not in p for p in problems)


def test_a_yaml_record(tmp_path: Path) -> None:
    (tmp_path / "PYSEC-Y.yaml").write_text(
        "id: PYSEC-Y\n"
        "modified: 2024-10-09T23:22:49.818476Z\n"  # a YAML timestamp, not a string
        "published: 2024-10-01\n"
        "details: |\n  A details text.\n"
        "affected:\n"
        "- package: {ecosystem: PyPI, name: pkg}\n"
        "  ranges:\n"
        "  - type: ECOSYSTEM\n"
        "    events:\n"
        "    - introduced: 0\n"  # a YAML integer
        "    - fixed: '1.10'\n",
        encoding="utf-8",
    )
    source = OsvSource([tmp_path])
    found = ask(source, "PyPI", "pkg", "1.9")
    assert isinstance(found, list) and found[0].id == "PYSEC-Y"
    assert found[0].fixed_in == ("1.10",)
    assert found[0].summary == "A details text."
    assert source.info.updated == "2024-10-09T23:22:49Z"
    assert source.problems == []


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    archive = _zip(
        tmp_path / "all.zip",
        {
            "PYSEC-Z1.json": json.dumps(record("PYSEC-Z1", "PyPI", "pkg", every)).encode(),
            # a member named to escape: read in memory only, nothing is written anywhere
            "../../escape/PYSEC-Z2.json": json.dumps(
                record("PYSEC-Z2", "PyPI", "pkg", every)
            ).encode(),
            "nested/dir/PYSEC-Z3.yaml": b"id: PYSEC-Z3\naffected:\n"
            b"- package: {ecosystem: PyPI, name: pkg}\n  versions: ['1.0']\n",
            "bad.json": b"{",
            "big.json": b" " * 5000
            + json.dumps(record("PYSEC-BIG", "PyPI", "pkg", every)).encode(),
            "notes.txt": b"not a record",
        },
    )
    monkeypatch.setattr(osv_module, "MAX_FILE_SIZE", 4096)
    source = OsvSource([archive])
    assert ids(ask(source, "PyPI", "pkg", "1.0")) == ["PYSEC-Z1", "PYSEC-Z2", "PYSEC-Z3"]
    assert not (tmp_path.parent / "escape").exists()
    problems = source.problems
    assert len(problems) == 2
    assert any(p.startswith(f"{archive}:bad.json: invalid JSON") for p in problems)
    assert any(p.startswith(f"{archive}:big.json: member is too large") for p in problems)


def test_zip_members_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    members = {
        f"R-{n}.json": json.dumps(record(f"R-{n}", "PyPI", "pkg", every)).encode() for n in range(5)
    }
    archive = _zip(tmp_path / "all.zip", members)
    monkeypatch.setattr(osv_module, "MAX_FILES", 3)
    source = OsvSource([archive])
    assert ids(ask(source, "PyPI", "pkg", "1")) == ["R-0", "R-1", "R-2"]
    assert any("more than 3 members" in p for p in source.problems)


def test_a_zip_in_a_folder_and_a_damaged_one(tmp_path: Path) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    folder = tmp_path / "cache"
    folder.mkdir()
    _zip(folder / "PyPI.zip", {"A.json": json.dumps(record("A", "PyPI", "pkg", every)).encode()})
    # what `depchain db update` writes beside an archive is no record
    (folder / "PyPI.zip.json").write_text('{"ecosystem": "PyPI"}', encoding="utf-8")
    (folder / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    source = OsvSource([folder])
    assert ids(ask(source, "PyPI", "pkg", "1")) == ["A"]
    assert source.problems == [f"{folder / 'broken.zip'}: not a readable .zip archive; skipped"]
    # given directly, an archive that cannot be read is a source that cannot work
    with pytest.raises(SourceError, match="cannot read the archive"):
        OsvSource([folder / "broken.zip"])


def test_paths_that_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read the advisory data"):
        OsvSource([tmp_path / "absent"])
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("x", encoding="utf-8")
    with pytest.raises(SourceError, match="no OSV records"):
        OsvSource([empty])
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "x.json").write_text("{", encoding="utf-8")
    with pytest.raises(SourceError, match="no usable OSV records"):
        OsvSource([only_bad])
    with pytest.raises(SourceError):
        OsvSource([])


def test_info(tmp_path: Path) -> None:
    every = events("ECOSYSTEM", ("introduced", "0"))
    folder = write(
        tmp_path,
        record("A", "PyPI", "pkg", every, modified="2023-05-01T00:00:00Z"),
        record(
            "B",
            "Go",
            "mod",
            events("SEMVER", ("introduced", "0")),
            modified="2024-06-01T10:00:00+02:00",
        ),
        record(
            "C",
            "Go",
            "mod2",
            events("SEMVER", ("introduced", "0")),
            modified="0001-01-01T00:00:00Z",
        ),
    )
    info = OsvSource([folder]).info
    assert info.name == "osv-offline"
    assert info.location == str(folder)
    assert info.records == 3
    assert info.ecosystems == ("Go", "PyPI")
    assert info.updated == "2024-06-01T08:00:00Z"


# -- the cache ------------------------------------------------------------------------------


def _one_record_folder(tmp_path: Path) -> Path:
    return write(
        tmp_path / "db",
        record("PYSEC-C", "PyPI", "pkg", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "2"))),
    )


def test_cache_cold_then_warm(tmp_path: Path) -> None:
    folder, cache = _one_record_folder(tmp_path), tmp_path / "cache"
    cold = OsvSource([folder], cache_dir=cache)
    assert not cold.warm and cold.cache_file is not None and cold.cache_file.is_file()
    warm = OsvSource([folder], cache_dir=cache)
    assert warm.warm and warm.notes == []
    assert ids(ask(warm, "PyPI", "pkg", "1")) == ["PYSEC-C"]
    assert ask(warm, "PyPI", "pkg", "1") == ask(cold, "PyPI", "pkg", "1")
    # a record changed: another index
    (folder / "PYSEC-C.json").write_text(
        json.dumps(record("PYSEC-C", "PyPI", "pkg", events("ECOSYSTEM", ("introduced", "5")))),
        encoding="utf-8",
    )
    changed = OsvSource([folder], cache_dir=cache)
    assert not changed.warm
    assert ids(ask(changed, "PyPI", "pkg", "1")) == []


@pytest.mark.parametrize(
    "damage",
    ["truncated", "flipped", "garbage", "empty", "other-format", "not-json", "wrong-shape"],
)
def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path: Path, damage: str) -> None:
    folder, cache = _one_record_folder(tmp_path), tmp_path / "cache"
    first = OsvSource([folder], cache_dir=cache)
    assert first.cache_file is not None
    data = first.cache_file.read_bytes()
    header, _, body = data.partition(b"\n")

    def signed(new_body: bytes, fmt: bytes = str(osv_module.INDEX_FORMAT).encode()) -> bytes:
        return b"depchain-osv-index %s %s\n%s" % (
            fmt,
            hashlib.sha256(new_body).hexdigest().encode(),
            new_body,
        )

    damaged = {
        "truncated": data[: len(data) // 2],
        "flipped": header + b"\n" + body.replace(b"PYSEC-C", b"PYSEC-X"),
        "garbage": b"\x00\xff" * 100,
        "empty": b"",
        "other-format": signed(body, b"999"),
        "not-json": signed(b"{not json"),
        "wrong-shape": signed(json.dumps({"records": 5}).encode()),
    }[damage]
    first.cache_file.write_bytes(damaged)
    again = OsvSource([folder], cache_dir=cache)
    assert not again.warm
    assert any("could not be read and was rebuilt" in note for note in again.notes)
    assert ids(ask(again, "PyPI", "pkg", "1")) == ["PYSEC-C"]
    # and written again, whole
    assert OsvSource([folder], cache_dir=cache).warm


def test_a_signed_cache_with_bad_contents_is_rebuilt_when_read(tmp_path: Path) -> None:
    folder, cache = _one_record_folder(tmp_path), tmp_path / "cache"
    first = OsvSource([folder], cache_dir=cache)
    assert first.cache_file is not None
    body = json.loads(first.cache_file.read_bytes().partition(b"\n")[2])
    body["entries"] = {key: "[[99, 1, 2]]" for key in body["entries"]}  # checks, but lies
    raw = json.dumps(body).encode()
    first.cache_file.write_bytes(
        b"depchain-osv-index %d %s\n%s"
        % (osv_module.INDEX_FORMAT, hashlib.sha256(raw).hexdigest().encode(), raw)
    )
    tampered = OsvSource([folder], cache_dir=cache)
    assert tampered.warm
    assert ids(ask(tampered, "PyPI", "pkg", "1")) == ["PYSEC-C"]
    assert any("damaged and was rebuilt" in note for note in tampered.notes)


def test_an_unwritable_cache_is_a_note(tmp_path: Path) -> None:
    folder = _one_record_folder(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    source = OsvSource([folder], cache_dir=blocker / "cache")
    assert ids(ask(source, "PyPI", "pkg", "1")) == ["PYSEC-C"]
    assert any("could not be cached" in note for note in source.notes)
