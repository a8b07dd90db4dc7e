"""The offline OSV source against the real advisory databases of ../shared/data.

Each expected set is computed here by a deliberately simple, independent reading of the
records (PyYAML or json, packaging's Version or a few lines of version splitting, the
events in the order the record gives them): not by depchain's matcher."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import InvalidVersion, Version

from depchain.vulns.interface import Advisory, Query
from depchain.vulns.osv import OsvSource
from tests.conftest import REAL_WORLD, SHARED

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPA = SHARED / "pypa-advisory-database"
RUSTSEC = SHARED / "rustsec-advisory-db-osv"
GOVULNDB = SHARED / "go-vulndb-osv"


def _need(path: Path) -> Path:
    if not path.is_dir():
        pytest.skip(f"advisory data not present at {path} (../shared/data is not checked out)")
    return path


@pytest.fixture(scope="module")
def all_sources(tmp_path_factory: pytest.TempPathFactory) -> OsvSource:
    for path in (PYPA, RUSTSEC, GOVULNDB):
        _need(path)
    cache = tmp_path_factory.mktemp("osv-cache")
    return OsvSource([PYPA, RUSTSEC, GOVULNDB], cache_dir=cache)


def _check(found: list[Advisory], expected: set[str], label: str) -> None:
    """Every expected record is in exactly one advisory (by its id or an alias), and
    every advisory reported holds at least one expected record."""
    for record in expected:
        holders = [a.id for a in found if record in a.ids]
        assert len(holders) == 1, f"{label}: {record} reported {len(holders)} times"
    for advisory in found:
        assert set(advisory.ids) & expected, f"{label}: {advisory.id} is not expected"
        assert advisory.source == "osv-offline"
    assert len({a.id for a in found}) == len(found)


# -- PyPI -----------------------------------------------------------------------------


def _pypi_affected(record: dict[str, Any], name: str, version: Version) -> bool:
    for affected in record.get("affected") or []:
        package = affected.get("package") or {}
        if package.get("ecosystem") != "PyPI":
            continue
        if re.sub(r"[-_.]+", "-", str(package.get("name"))).lower() != name:
            continue
        for listed in affected.get("versions") or []:
            try:
                if Version(str(listed)) == version:
                    return True
            except InvalidVersion:
                pass
        for range_ in affected.get("ranges") or []:
            if range_.get("type") != "ECOSYSTEM":
                continue
            start: Version | None = None
            for event in range_.get("events") or []:
                ((kind, value),) = event.items()
                value = str(value)
                if kind == "introduced":
                    start = Version("0") if value == "0" else Version(value)
                    if value == "0" and version < start:  # 0.dev versions
                        start = version
                elif start is not None and kind == "fixed":
                    if start <= version < Version(value):
                        return True
                    start = None
                elif start is not None and kind == "last_affected":
                    if start <= version <= Version(value):
                        return True
                    start = None
            if start is not None and version >= start:
                return True
    return False


PINS = [
    ("django", "3.2.0"),
    ("pillow", "8.0.0"),
    ("urllib3", "1.24.1"),
    ("pyyaml", "5.3"),
    ("jinja2", "2.10"),
]


@pytest.mark.parametrize(("name", "version"), PINS)
def test_old_pypi_releases_get_every_advisory_and_no_other(
    all_sources: OsvSource, name: str, version: str
) -> None:
    expected: set[str] = set()
    for path in sorted((PYPA / "vulns").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if name not in text.lower():
            continue
        record = yaml.safe_load(text)
        if record.get("withdrawn"):
            continue
        if _pypi_affected(record, name, Version(version)):
            expected.add(record["id"])
    assert expected, f"no advisory affects {name} {version}: the test data changed"
    query = Query(f"pkg:pypi/{name}@{version}", "PyPI", name.capitalize(), version)
    found = all_sources.query_all([query])[query]
    assert isinstance(found, list)
    _check(found, expected, f"{name} {version}")


def test_pypi_advisory_details(all_sources: OsvSource) -> None:
    query = Query("pkg:pypi/django@3.2.0", "PyPI", "Django", "3.2.0")
    found = all_sources.query(query)
    assert isinstance(found, list)
    advisory = next(a for a in found if "PYSEC-2021-109" in a.ids)
    assert advisory.id == "PYSEC-2021-109"
    assert set(advisory.aliases) == {"CVE-2021-35042", "GHSA-xpfp-f569-q3p2"}
    assert advisory.fixed_in == ("3.2.5",)  # 3.1.13 is no upgrade from 3.2.0
    assert advisory.summary.startswith("Django 3.1.x before 3.1.13 and 3.2.x before 3.2.5")
    assert advisory.published == "2021-07-02T10:15:00Z"
    assert advisory.references[0] == "https://github.com/advisories/GHSA-xpfp-f569-q3p2"
    assert len(advisory.references) <= 5
    assert advisory.severity.value == "unknown"  # no vector, no word


def test_pypi_cvss_scores(all_sources: OsvSource) -> None:
    found = all_sources.query(Query("pkg:pypi/urllib3@1.24.1", "PyPI", "urllib3", "1.24.1"))
    assert isinstance(found, list)
    advisory = next(a for a in found if a.id == "PYSEC-2023-192")  # CVE-2023-43804
    assert [(c.vector, c.score) for c in advisory.cvss] == [
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 8.1)
    ]
    assert advisory.severity.value == "high"


# -- crates.io ------------------------------------------------------------------------


def _semver(text: str) -> tuple[Any, ...]:
    """Enough of SemVer for released crate versions compared with event versions."""
    core, _, pre = text.partition("-")
    numbers = tuple(int(part) for part in core.split("+")[0].split("."))
    return (*numbers, 0 if pre else 1, pre)


def _semver_affected(record: dict[str, Any], ecosystem: str, name: str, version: str) -> bool:
    current = _semver(version.removeprefix("v"))
    for affected in record.get("affected") or []:
        package = affected.get("package") or {}
        if package.get("ecosystem") != ecosystem or package.get("name") != name:
            continue
        if version in (affected.get("versions") or []):
            return True
        for range_ in affected.get("ranges") or []:
            if range_.get("type") != "SEMVER":
                continue
            start = None
            for event in range_.get("events") or []:
                ((kind, value),) = event.items()
                if kind == "introduced":
                    start = (0,) if value == "0" else _semver(value)
                elif start is not None and kind == "fixed":
                    if start <= current < _semver(value):
                        return True
                    start = None
                elif start is not None and kind == "last_affected":
                    if start <= current <= _semver(value):
                        return True
                    start = None
            if start is not None and current >= start:
                return True
    return False


def test_crates_of_real_cargo_locks(all_sources: OsvSource) -> None:
    locks = sorted(REAL_WORLD.glob("*/Cargo.lock")) if REAL_WORLD.is_dir() else []
    if not locks:
        pytest.skip(f"no Cargo.lock in {REAL_WORLD} (../shared/data is not checked out)")
    records = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((RUSTSEC / "crates").glob("*.json"))
    ]
    crates = {
        (package["name"], package["version"])
        for lock in locks
        for package in tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
    }
    queries = [Query(f"pkg:cargo/{n}@{v}", "crates.io", n, v) for n, v in sorted(crates)]
    answers = all_sources.query_all(queries)
    hits = 0
    for query in queries:
        expected = {
            r["id"]
            for r in records
            if not r.get("withdrawn")
            and _semver_affected(r, "crates.io", query.name, query.version)
        }
        found = answers[query]
        assert isinstance(found, list), f"{query.name}: {found}"
        _check(found, expected, f"{query.name} {query.version}")
        hits += len(expected)
    assert hits, "no crate of the real Cargo.lock files has an advisory: the test is void"


# -- Go -------------------------------------------------------------------------------

GO_PINS = [
    ("golang.org/x/net", "v0.7.0"),
    ("golang.org/x/crypto", "v0.0.0-20190308221718-c2843e01d9a2"),
]


@pytest.mark.parametrize(("module", "version"), GO_PINS)
def test_go_modules(all_sources: OsvSource, module: str, version: str) -> None:
    expected = set()
    for path in sorted((GOVULNDB / "osv").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        if f'"{module}"' not in text:
            continue
        record = json.loads(text)
        if not record.get("withdrawn") and _semver_affected(record, "Go", module, version):
            expected.add(record["id"])
    assert expected
    query = Query(f"pkg:golang/{module}@{version}", "Go", module, version)
    found = all_sources.query(query)
    assert isinstance(found, list)
    _check(found, expected, f"{module} {version}")
    ids = {i for a in found for i in a.ids}
    if module == "golang.org/x/net":
        assert "GO-2023-1571" not in ids  # fixed in 0.7.0 itself
    else:
        assert "GO-2020-0012" in ids  # fixed by a 2020 pseudo-version
        advisory = next(a for a in found if a.id == "GO-2020-0012")
        assert advisory.fixed_in == ("0.0.0-20200220183623-bac4c82f6975",)


def test_info_of_the_three_databases(all_sources: OsvSource) -> None:
    info = all_sources.info
    assert info.name == "osv-offline"
    assert set(info.ecosystems) == {"PyPI", "crates.io", "Go"}
    assert info.records is not None and info.records > 8000
    assert info.updated is not None and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info.updated
    )
    assert str(PYPA) in info.location
    # two pypa records with a version no PEP 440 parser orders: reported, the rest used
    assert all(": " in line for line in all_sources.problems)
    assert len(all_sources.problems) < 10
    assert all_sources.covers(Query("x", "PyPI", "django", "1"))
    assert not all_sources.covers(Query("x", "npm", "left-pad", "1.0.0"))


def test_warm_load_is_the_same(all_sources: OsvSource) -> None:
    assert all_sources.cache_dir is not None
    warm = OsvSource(all_sources.paths, cache_dir=all_sources.cache_dir)
    assert warm.warm
    query = Query("pkg:pypi/pillow@8.0.0", "PyPI", "pillow", "8.0.0")
    assert warm.query(query) == all_sources.query(query)
    assert warm.info == all_sources.info
    assert warm.problems == all_sources.problems
