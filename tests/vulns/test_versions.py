"""Version ordering: SemVer 2.0 (with Go's prefixes and pseudo-versions), dpkg, PEP 440,
and CVSS v3 base scores."""

from __future__ import annotations

import pytest

from depchain.vulns.cvss import cvss3_base_score, rating, severity_word
from depchain.vulns.interface import Severity
from depchain.vulns.versions import (
    dpkg_compare,
    equal_versions,
    parse_dpkg,
    parse_semver,
    scheme_for,
    version_key,
)

# SemVer 2.0, section 11's own example, in order
SEMVER_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.10.0",
    "2.0.0",
]


def test_semver_precedence() -> None:
    keys = [parse_semver(v) for v in SEMVER_ORDER]
    assert all(k is not None for k in keys)
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0.0+build.1", "1.0.0"),  # build metadata takes no part
        ("v2.0.0+incompatible", "2.0.0"),  # Go
        ("v1.2.3", "1.2.3"),
        ("1.21", "1.21.0"),  # Go's toolchain versions
    ],
)
def test_semver_equal(a: str, b: str) -> None:
    assert parse_semver(a) == parse_semver(b)
    assert equal_versions("semver", a, b)


def test_go_pseudo_versions_order_as_go_does() -> None:
    ordered = [
        "v0.0.0-20190308221718-c2843e01d9a2",  # vX.0.0-timestamp-commit
        "v0.0.0-20200220183623-bac4c82f6975",
        "v0.0.0",
        "v0.1.0-rc.1",
        "v0.1.0-rc.1.0.20210101000000-abcdefabcdef",  # vX.Y.Z-pre.0.timestamp-commit
        "v0.1.0",
        "v0.1.1-0.20220101000000-abcdefabcdef",  # vX.Y.(Z+1)-0.timestamp-commit
        "v0.1.1",
    ]
    keys = [parse_semver(v) for v in ordered]
    assert all(k is not None for k in keys)
    assert keys == sorted(keys)  # type: ignore[type-var]


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3.4", "1..2", "1.2.3-", "1.2.3-a..b", "x" * 300])
def test_not_semver(bad: str) -> None:
    assert parse_semver(bad) is None


# `dpkg --compare-versions a lt b` is true for each pair
DPKG_LESS = [
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0~", "1.0"),
    ("1.0", "1.0a"),
    ("1.0a", "1.0+b1"),  # letters before other characters
    ("1.0", "1.0.1"),
    ("1.0a", "1.0.1"),
    ("1.2", "1.10"),  # digits as numbers
    ("9.9", "1:0.1"),  # the epoch first
    ("1.0-1", "1.0-2"),
    ("1.0-1", "1.0-1+deb12u1"),
    ("1.0-9", "1.0-10"),
    ("2.36.1-8", "2.36.1-8+deb12u1"),
    ("1.0-1~bpo11+1", "1.0-1"),
]


@pytest.mark.parametrize(("a", "b"), DPKG_LESS)
def test_dpkg_order(a: str, b: str) -> None:
    assert dpkg_compare(a, b) < 0
    assert dpkg_compare(b, a) > 0
    pa, pb = parse_dpkg(a), parse_dpkg(b)
    assert pa is not None and pb is not None and pa < pb


@pytest.mark.parametrize(("a", "b"), [("1.0", "1.0-0"), ("1.0", "1.00"), ("0:1.0", "1.0")])
def test_dpkg_equal(a: str, b: str) -> None:
    assert dpkg_compare(a, b) == 0
    assert equal_versions("dpkg", a, b)


@pytest.mark.parametrize("bad", ["", "a:1.0", "1.0-", "1.0 2", "1.0-a_b"])
def test_not_dpkg(bad: str) -> None:
    assert parse_dpkg(bad) is None
    with pytest.raises(ValueError):
        dpkg_compare(bad, "1.0")


def test_schemes() -> None:
    assert scheme_for("PyPI") == "pep440"
    assert scheme_for("crates.io") == "semver"
    assert scheme_for("Go") == "semver"
    assert scheme_for("Debian:12") == "dpkg"
    assert scheme_for("Maven") is None
    assert equal_versions("pep440", "3.2", "3.2.0")
    assert not equal_versions("pep440", "3.2", "3.2.1")
    assert not equal_versions(None, "3.2", "3.2.0")
    assert version_key("pep440", "not a version") is None
    assert version_key("unknown", "1.0") is None


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N", 2.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:N/E:P/RL:O", 5.5),  # temporal ignored
    ],
)
def test_cvss3_base_scores(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # repeated
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # unknown value
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
    ],
)
def test_cvss3_refuses(vector: str) -> None:
    assert cvss3_base_score(vector) is None


def test_ratings_and_words() -> None:
    assert [rating(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        Severity.NONE,
        Severity.LOW,
        Severity.LOW,
        Severity.MEDIUM,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.HIGH,
        Severity.CRITICAL,
        Severity.CRITICAL,
    ]
    assert severity_word("MODERATE") is Severity.MEDIUM
    assert severity_word("critical") is Severity.CRITICAL
    assert severity_word("whatever") is None
    assert severity_word(3) is None
