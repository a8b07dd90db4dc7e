"""``depchain diff``: two reports, two SBOMs (CycloneDX JSON and XML, SPDX 2.3 from any
tool), mixed inputs, two git revisions; trust changes, exit codes, bounded and
one-line errors, redaction, deterministic output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from depchain import diff as diffing
from depchain.cli import main
from depchain.errors import InputFileError
from tests.conftest import real

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# -- helpers -------------------------------------------------------------------------


def _scan(folder: Path) -> Any:
    from depchain.scanner import VulnOptions, scan

    return scan(folder, vulns=VulnOptions(enabled=False))


def _report(folder: Path, out: Path) -> Path:
    from depchain.export import json_report

    out.write_text(json_report.render(_scan(folder)), encoding="utf-8")
    return out


def _sbom(folder: Path, out: Path, xml: bool = False) -> Path:
    from depchain.export import cyclonedx

    fmt = cyclonedx.Format.XML if xml else cyclonedx.Format.JSON
    out.write_text(cyclonedx.render(_scan(folder), fmt), encoding="utf-8")
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = _run(capsys, *args, "-f", "json")
    assert out, err
    return code, json.loads(out)


def _identities(items: list[dict[str, Any]]) -> set[str]:
    return {i["identity"] for i in items}


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user or system git configuration, and a temporary folder of the test's own
    (to see that every copy made is removed)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def _repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", "-b", "main")
    _commit(path, files, "first")
    return path


def _commit(repo: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


# -- acceptance: two git revisions ----------------------------------------------------


def test_rev_lists_an_added_requirement_and_its_gap(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "shop", {"requirements.txt": "requests==2.32.3\n"})
    _commit(repo, {"requirements.txt": "requests==2.32.3\nflask>=3\n"}, "add flask")
    status = _git(repo, "status", "--porcelain")

    code, out, err = _run(capsys, "--rev", "HEAD~1..HEAD", str(repo))
    assert code == 1, err
    assert err == ""
    added = out.split("components added (1)")[1]
    assert "flask" in added.splitlines()[1]
    gap = next(line for line in out.splitlines() if "DC001" in line)
    assert "medium" in gap and "requirements.txt:2" in gap and "flask >=3" in gap

    code, report = _json(capsys, "--rev", "HEAD~1..HEAD", str(repo))
    assert code == 1
    assert report["components"]["added"] == [
        {"ecosystem": "pypi", "identity": "pkg:pypi/flask", "name": "flask", "versions": [None]}
    ]
    assert report["components"]["removed"] == report["components"]["changed"] == []
    (gap_entry,) = report["trust"]["new_gaps"]
    assert (gap_entry["id"], gap_entry["subject"], gap_entry["severity"]) == (
        "DC001",
        "pkg:pypi/flask",
        "medium",
    )
    assert gap_entry["where"] == ["requirements.txt:2"]
    assert report["old"]["revision"] == _git(repo, "rev-parse", "HEAD~1").strip()
    assert report["new"]["revision"] == _git(repo, "rev-parse", "HEAD").strip()
    # the work tree is as it was, and every temporary copy is gone
    assert _git(repo, "status", "--porcelain") == status
    assert (repo / "requirements.txt").read_text() == "requests==2.32.3\nflask>=3\n"
    assert list(git_home.iterdir()) == []


def test_rev_without_a_change_passes(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "r", {"requirements.txt": "flask>=3\n"})
    _commit(repo, {"README.md": "docs only\n"}, "docs")
    code, out, _ = _run(capsys, "--rev", "HEAD~1..HEAD", str(repo))
    assert code == 0
    assert "no trust change" in out and "passes" in out


def test_rev_merge_base_and_fail_on(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "r", {"requirements.txt": "requests==2.32.3\n"})
    _git(repo, "checkout", "-q", "-b", "feature")
    _commit(repo, {"requirements.txt": "requests==2.32.3\nflask>=3\n"}, "feature")
    _git(repo, "checkout", "-q", "main")
    _commit(repo, {"requirements.txt": "requests==2.32.3\nsix>=1\n"}, "main moves on")
    # main...feature: only what the branch brings, not what main did since
    code, report = _json(capsys, "--rev", "main...feature", str(repo))
    assert code == 1
    assert _identities(report["components"]["added"]) == {"pkg:pypi/flask"}
    assert report["components"]["removed"] == []
    # a gap below the threshold is listed, and does not fail
    code, report = _json(capsys, "--rev", "main...feature", str(repo), "--fail-on", "high")
    assert code == 0 and report["summary"]["fails"] is False
    assert [g["id"] for g in report["trust"]["new_gaps"]] == ["DC001"]
    code, _, _ = _run(capsys, "--rev", "main...feature", str(repo), "--fail-on", "never")
    assert code == 0


def test_rev_of_a_sub_folder_and_the_work_tree_is_not_read(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "mono", {"svc/requirements.txt": "requests==2.32.3\n"})
    _commit(repo, {"svc/requirements.txt": "requests==2.32.3\nflask>=3\n"}, "flask")
    # an uncommitted change is not part of any revision
    (repo / "svc" / "requirements.txt").write_text("requests==2.32.3\nflask>=3\nevil>=1\n")
    code, report = _json(capsys, "--rev", "HEAD~1..HEAD", str(repo / "svc"))
    assert code == 1
    assert _identities(report["components"]["added"]) == {"pkg:pypi/flask"}


def test_rev_sees_through_gitattributes_and_runs_no_filter(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A revision that marks its manifest export-ignore does not hide it from the
    comparison; a filter driver the repository's configuration names is not run; a
    symbolic link is not materialised."""
    repo = _repo(tmp_path / "r", {"requirements.txt": "requests==2.32.3\n"})
    marker = tmp_path / "filter-ran"
    _git(repo, "config", "filter.evil.smudge", f"touch {marker}; cat")
    _git(repo, "config", "filter.evil.clean", "cat")
    _git(repo, "config", "filter.evil.required", "true")
    _commit(
        repo,
        {
            "requirements.txt": "requests==2.32.3\nflask>=3\n",
            ".gitattributes": "requirements.txt export-ignore\n*.cfg filter=evil\n",
            "data.cfg": "key = value\n",
        },
        "hide flask",
    )
    os.symlink("/etc/passwd", repo / "link.txt")
    _commit(repo, {}, "a link")
    code, report = _json(capsys, "--rev", "HEAD~2..HEAD", str(repo))
    assert code == 1
    assert _identities(report["components"]["added"]) == {"pkg:pypi/flask"}
    assert not marker.exists()
    notes = " ".join(report["new"]["notes"])
    assert "written as committed" in notes and "1 symbolic link" in notes


def test_rev_errors_are_one_line(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, err = _run(capsys, "--rev", "HEAD~1..HEAD", str(plain))
    assert (code, out) == (3, "")
    assert err.count("\n") == 1 and "not in a git work tree" in err and str(plain) in err

    repo = _repo(tmp_path / "r", {"requirements.txt": "six==1.16.0\n"})
    code, out, err = _run(capsys, "--rev", "HEAD~5..HEAD", str(repo))
    assert (code, out) == (3, "") and err.count("\n") == 1 and "no commit 'HEAD~5'" in err

    for bad in ("HEAD", "..", "--output=x..HEAD", "HEAD..a b"):
        code, _, err = _run(capsys, "--rev", bad, str(repo))
        assert code == 2, bad
        assert "Traceback" not in err

    (repo / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    _commit(repo, {}, "big")
    code, out, err = _run(capsys, "--rev", "HEAD~1..HEAD", str(repo), "--max-tree-size", "1")
    assert (code, out) == (3, "")
    assert err.count("\n") == 1 and "larger than 1 MiB" in err
    assert list(git_home.iterdir()) == []


# -- real report and SBOM pairs --------------------------------------------------------


def _lock_versions(path: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {str(canonicalize_name(p["name"])): p["version"] for p in data["package"]}


@pytest.fixture(scope="module")
def poetry_pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Poetry's repository with its 2022 lock (format 1.1) and with today's, as depchain
    reports, CycloneDX JSON and CycloneDX XML."""
    old, new = real("python-poetry__poetry__lock-v1.1"), real("python-poetry__poetry")
    out = tmp_path_factory.mktemp("poetry")
    return {
        "old": old,
        "new": new,
        "old.json": _report(old, out / "old.json"),
        "new.json": _report(new, out / "new.json"),
        "old.cdx.json": _sbom(old, out / "old.cdx.json"),
        "new.cdx.json": _sbom(new, out / "new.cdx.json"),
        "new.cdx.xml": _sbom(new, out / "new.cdx.xml", xml=True),
    }


def test_two_real_reports(poetry_pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _json(capsys, str(poetry_pair["old.json"]), str(poetry_pair["new.json"]))
    assert code == 1
    before = _lock_versions(poetry_pair["old"] / "poetry.lock")
    after = _lock_versions(poetry_pair["new"] / "poetry.lock")
    changed = {c["identity"]: c for c in report["components"]["changed"]}
    added = _identities(report["components"]["added"])
    removed = _identities(report["components"]["removed"])
    # every package both locks pin at different versions is a version change to the new one
    bumped = {n for n in before.keys() & after.keys() if before[n] != after[n]}
    assert bumped
    for name in bumped:
        entry = changed[f"pkg:pypi/{name}"]
        assert after[name] in entry["new_versions"] and before[name] in entry["old_versions"]
    # what only one lock holds is added or removed (or changed: also named elsewhere)
    for name in after.keys() - before.keys():
        assert f"pkg:pypi/{name}" in added | changed.keys(), name
    for name in before.keys() - after.keys():
        assert f"pkg:pypi/{name}" in removed | changed.keys(), name
    # poetry-core moved from a hashed release on PyPI to a git checkout (poetry.lock says
    # so): its hashes are gone, its repository is a new source, and DC004 a new gap
    lock = (poetry_pair["new"] / "poetry.lock").read_text()
    assert 'url = "https://github.com/python-poetry/poetry-core.git"' in lock
    hashes = {h["identity"]: h["change"] for h in report["trust"]["hashes"]}
    assert hashes.get("pkg:pypi/poetry-core") == "lost"
    sources = {s["source"]: s for s in report["trust"]["new_sources"]}
    repository = sources["vcs git+https://github.com/python-poetry/poetry-core.git"]
    assert repository == {
        "components": ["pkg:pypi/poetry-core"],
        "source": "vcs git+https://github.com/python-poetry/poetry-core.git",
        "via": "new",
    }
    assert any(
        g["id"] == "DC004" and g["subject"] == "pkg:pypi/poetry-core"
        for g in report["trust"]["new_gaps"]
    )
    # the GitHub actions of today's workflows bring their owners
    owners = {o["owner"] for o in report["trust"]["new_owners"]}
    assert "actions" in owners and all(
        o["origin"] == "derived" for o in report["trust"]["new_owners"]
    )
    assert report["not_compared"] == []


def test_two_real_sboms_agree_with_the_reports(
    poetry_pair: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, reports = _json(capsys, str(poetry_pair["old.json"]), str(poetry_pair["new.json"]))
    code, sboms = _json(capsys, str(poetry_pair["old.cdx.json"]), str(poetry_pair["new.cdx.json"]))
    assert code == 1
    assert sboms["components"] == reports["components"]
    for facet in ("new_owners", "new_sources", "hashes", "new_native", "services"):
        assert sboms["trust"][facet] == reports["trust"][facet], facet
    # CycloneDX carries known vulnerabilities, not depchain's trust gaps
    assert sboms["trust"]["new_gaps"] == []
    # mixed: a report on one side, an SBOM (XML) on the other
    code, mixed = _json(capsys, str(poetry_pair["old.json"]), str(poetry_pair["new.cdx.xml"]))
    assert code == 1
    assert mixed["new"]["format"] == "cyclonedx-xml"
    assert mixed["components"] == reports["components"]
    assert mixed["trust"]["new_owners"] == reports["trust"]["new_owners"]
    assert [n["facet"] for n in mixed["not_compared"]] == ["gaps"]
    # the same scan on both sides: nothing changed, whatever the formats
    code, same = _json(capsys, str(poetry_pair["new.json"]), str(poetry_pair["new.cdx.xml"]))
    assert code == 0
    assert same["summary"]["added"] == same["summary"]["changed"] == 0
    assert same["summary"]["trust_changes"] == 0


def test_native_components_of_a_rust_extension(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """requests (pure Python) -> bcrypt (a Rust extension): the crates compiled into it
    are new static native components; the procedural macros, which run at build time
    and are not shipped, are not."""
    old = _report(real("psf__requests"), tmp_path / "requests.json")
    new_dir = real("pyca__bcrypt")
    new = _sbom(new_dir, tmp_path / "bcrypt.cdx.json")
    lock = tomllib.loads((new_dir / "src/_bcrypt/Cargo.lock").read_text(encoding="utf-8"))
    crates = {f"pkg:cargo/{p['name']}" for p in lock["package"]}
    code, report = _json(capsys, str(old), str(new))
    assert code == 1
    native = {n["identity"]: n for n in report["trust"]["new_native"]}
    assert native.keys() <= crates
    shipped = {"bcrypt", "base64", "blowfish", "subtle", "zeroize", "pyo3"}
    assert {f"pkg:cargo/{c}" for c in shipped} <= native.keys()
    assert all(native[f"pkg:cargo/{c}"]["kinds"] == ["static"] for c in shipped)
    macros = {"quote", "syn", "proc-macro2", "pyo3-macros"}
    assert {f"pkg:cargo/{c}" for c in macros} <= crates
    assert not {f"pkg:cargo/{c}" for c in macros} & native.keys()
    # crates.io is one new index, whatever the number of crates it serves
    (index,) = [s for s in report["trust"]["new_sources"] if "crates.io" in s["source"]]
    registry = {f"pkg:cargo/{p['name']}" for p in lock["package"] if "source" in p}
    assert index["via"] == "new" and set(index["components"]) >= native.keys() & registry


def test_table_and_markdown_of_a_real_pair(
    poetry_pair: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = str(poetry_pair["old.json"]), str(poetry_pair["new.json"])
    code, table, _ = _run(capsys, old, new)
    assert code == 1
    assert all(len(line) <= 80 for line in table.splitlines()[:3])
    assert "hashes lost" in table and "poetry-core" in table and "new gaps (" in table
    code, markdown, _ = _run(capsys, old, new, "-f", "markdown")
    lines = markdown.splitlines()
    assert lines[0].startswith("### depchain diff: `")
    assert lines[2].startswith("**Fails (exit 1): ")
    assert "#### Trust changes: " in markdown and "| change | component | detail |" in markdown
    assert "#### New trust gaps: " in markdown and "| high ❗ | DC004 |" in markdown
    assert "<details><summary>Components: " in markdown
    # deterministic: byte for byte, whatever the format
    for fmt in ("table", "json", "markdown"):
        first = _run(capsys, old, new, "-f", fmt)
        assert _run(capsys, old, new, "-f", fmt) == first


def test_json_is_sorted_and_written_atomically(
    poetry_pair: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "diff.json"
    code = main(
        [
            "diff",
            str(poetry_pair["old.json"]),
            str(poetry_pair["new.json"]),
            "-f",
            "json",
            "-o",
            str(target),
        ]
    )
    assert code == 1 and capsys.readouterr().out == ""
    text = target.read_text()
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert data["schema"] == "depchain-diff/1"
    assert set(data) == {
        "schema",
        "tool",
        "old",
        "new",
        "compared",
        "not_compared",
        "summary",
        "components",
        "trust",
    }
    for name, items in data["components"].items():
        assert items == sorted(items, key=lambda i: i["identity"]), name
    assert data["summary"]["fails"] is True and data["summary"]["fail_on"] == "medium"


# -- other tools' SBOMs ----------------------------------------------------------------


def _spdx_package(
    name: str,
    version: str,
    purl: str,
    sha256: str | None = None,
    supplier: str = "NOASSERTION",
    location: str = "NOASSERTION",
) -> dict[str, Any]:
    package: dict[str, Any] = {
        "SPDXID": f"SPDXRef-{name}-{version}",
        "name": name,
        "versionInfo": version,
        "downloadLocation": location,
        "supplier": supplier,
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }
        ],
    }
    if sha256:
        package["checksums"] = [{"algorithm": "SHA256", "checksumValue": sha256}]
    return package


def _spdx(packages: list[dict[str, Any]], links: list[tuple[str, str, str]]) -> dict[str, Any]:
    root = {
        "SPDXID": "SPDXRef-shop",
        "name": "com.github.acme/shop",
        "versionInfo": "",
        "downloadLocation": "git+https://github.com/acme/shop",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE_MANAGER",
                "referenceType": "purl",
                "referenceLocator": "pkg:github/acme/shop",
            }
        ],
    }
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-shop",
        }
    ]
    relationships += [
        {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}
        for a, kind, b in links
    ]
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "com.github.acme/shop",
        "documentNamespace": "https://spdx.org/spdxdocs/shop-1",
        "creationInfo": {
            "created": "2025-01-01T00:00:00Z",
            "creators": ["Tool: protobom-v0.1", "Tool: GitHub.com-Dependency-Graph"],
        },
        "packages": [root, *packages],
        "relationships": relationships,
    }


A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_two_spdx_documents_from_another_tool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _spdx(
        [
            _spdx_package("requests", "2.31.0", "pkg:pypi/requests@2.31.0", A, "Organization: PSF"),
            _spdx_package("urllib3", "2.0.7", "pkg:pypi/urllib3@2.0.7", B, "Organization: PSF"),
        ],
        [("SPDXRef-shop", "DEPENDS_ON", "SPDXRef-requests-2.31.0")],
    )
    new = _spdx(
        [
            _spdx_package("Requests", "2.32.3", "pkg:pypi/Requests@2.32.3", A, "Organization: PSF"),
            _spdx_package("urllib3", "2.0.7", "pkg:pypi/urllib3@2.0.7", C, "Organization: PSF"),
            _spdx_package(
                "libssl3",
                "3.0.15-1",
                "pkg:deb/debian/libssl3@3.0.15-1?arch=amd64",
                supplier="Organization: Debian (debian@example.org)",
                location="https://mirror:s3cretT0ken@deb.example.org/libssl3.deb",
            ),
        ],
        [("SPDXRef-shop", "DYNAMIC_LINK", "SPDXRef-libssl3-3.0.15-1")],
    )
    (tmp_path / "old.spdx.json").write_text(json.dumps(old))
    (tmp_path / "new.spdx.json").write_text(json.dumps(new))
    args = (str(tmp_path / "old.spdx.json"), str(tmp_path / "new.spdx.json"))
    code, report = _json(capsys, *args)
    assert code == 1
    assert report["new"]["format"] == "spdx-json" and "protobom-v0.1" in report["new"]["tool"]
    assert report["components"]["changed"] == [
        {
            "ecosystem": "pypi",
            "identity": "pkg:pypi/requests",
            "name": "Requests",
            "new_versions": ["2.32.3"],
            "old_versions": ["2.31.0"],
        }
    ]
    assert _identities(report["components"]["added"]) == {"pkg:deb/debian/libssl3"}
    trust = report["trust"]
    assert trust["hashes"] == [
        {
            "change": "changed",
            "identity": "pkg:pypi/urllib3",
            "name": "urllib3",
            "versions": ["2.0.7"],
        }
    ]
    assert [(o["owner"], o["origin"]) for o in trust["new_owners"]] == [("Debian", "supplier")]
    assert [n["identity"] for n in trust["new_native"]] == ["pkg:deb/debian/libssl3"]
    assert trust["new_native"][0]["kinds"] == ["dynamic"]
    assert trust["new_sources"] == [
        {
            "components": ["pkg:deb/debian/libssl3"],
            "source": "url https://***@deb.example.org/libssl3.deb",
            "via": "new",
        }
    ]
    # gaps and services: SPDX carries neither
    assert {n["facet"] for n in report["not_compared"]} == set()
    assert "gaps" not in report["compared"] and "services" not in report["compared"]
    for fmt in ("table", "json", "markdown"):
        _, out, err = _run(capsys, *args, "-f", fmt)
        assert "s3cretT0ken" not in out + err


def _cyclonedx(
    components: list[dict[str, Any]], vulnerabilities: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "syft", "version": "1.0"}]}
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    }


def test_another_tools_cyclonedx_vulnerabilities_are_gaps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jinja = {
        "bom-ref": "j-1",
        "type": "library",
        "name": "jinja2",
        "version": "2.10",
        "purl": "pkg:pypi/jinja2@2.10",
        "supplier": {"name": "Pallets"},
    }
    old = _cyclonedx([jinja], [])
    vulnerable = {
        "id": "GHSA-462w-v97r-4m45",
        "ratings": [{"severity": "high"}],
        "affects": [{"ref": "j-1"}],
    }
    accepted = {
        "id": "PYSEC-2019-217",
        "ratings": [{"severity": "critical"}],
        "analysis": {"state": "not_affected"},
        "affects": [{"ref": "j-1"}],
    }
    new = _cyclonedx(
        [{**jinja, "bom-ref": "other-ref"}],
        [{**vulnerable, "affects": [{"ref": "other-ref"}]}, accepted],
    )
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    code, report = _json(capsys, str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    assert code == 1
    assert report["components"] == {"added": [], "changed": [], "removed": []}
    (gap,) = report["trust"]["new_gaps"]
    assert (gap["id"], gap["advisory"], gap["subject"], gap["severity"]) == (
        "DC024",
        "GHSA-462w-v97r-4m45",
        "pkg:pypi/jinja2",
        "high",
    )
    code, _, _ = _run(
        capsys, str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--fail-on", "critical"
    )
    assert code == 0
    # the other way round: the advisory is gone, and nothing fails
    code, report = _json(capsys, str(tmp_path / "new.json"), str(tmp_path / "old.json"))
    assert code == 0 and [g["advisory"] for g in report["trust"]["gaps_gone"]] == [
        "GHSA-462w-v97r-4m45"
    ]


def test_report_against_another_tools_sbom_says_what_is_not_compared(
    poetry_pair: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spdx = _spdx(
        [_spdx_package("requests", "2.32.3", "pkg:pypi/requests@2.32.3", A, "Organization: PSF")],
        [],
    )
    (tmp_path / "new.spdx.json").write_text(json.dumps(spdx))
    code, report = _json(capsys, str(poetry_pair["new.json"]), str(tmp_path / "new.spdx.json"))
    skipped = {n["facet"]: n["reason"] for n in report["not_compared"]}
    assert "not comparable" in skipped["owners"] and "not comparable" in skipped["sources"]
    assert skipped["gaps"].startswith("only OLD (depchain-report) carries gaps")
    assert report["trust"]["new_owners"] == report["trust"]["new_gaps"] == []
    assert code == 0  # everything in it was in OLD, or is not comparable


# -- services, and what never leaves -----------------------------------------------------


def test_a_new_service_across_the_trust_boundary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    for folder in (old_dir, new_dir):
        folder.mkdir()
        (folder / "requirements.txt").write_text("requests==2.32.3\n")
    (new_dir / ".env").write_text(
        "DATABASE_URL=postgresql://app:hunter2pass@db.example.com:5432/shop\n"
    )
    old = _report(old_dir, tmp_path / "old.json")
    new = _report(new_dir, tmp_path / "new.json")
    code, report = _json(capsys, str(old), str(new))
    assert code == 1
    (service,) = report["trust"]["services"]
    assert service["change"] == "added" and service["trust_boundary"] is True
    assert any("db.example.com" in e for e in service["endpoints"])
    for fmt in ("table", "json", "markdown"):
        _, out, err = _run(capsys, str(old), str(new), "-f", fmt)
        assert "hunter2pass" not in out + err
    code, report = _json(capsys, str(new), str(old))
    assert [s["change"] for s in report["trust"]["services_gone"]] == ["removed"]


def test_a_credential_in_a_foreign_sbom_never_leaves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    component = {
        "type": "library",
        "name": "internal-lib\x1b[31m",
        "version": "1.0",
        "purl": "pkg:pypi/internal-lib@1.0?repository_url=https://ci:gh_pAt0123456789@pkgs.example.com/simple",
        "externalReferences": [
            {"type": "distribution", "url": "https://pkgs.example.com/simple?token=tok_9876543210"}
        ],
    }
    (tmp_path / "old.json").write_text(json.dumps(_cyclonedx([], [])))
    (tmp_path / "new.json").write_text(json.dumps(_cyclonedx([component], [])))
    for fmt in ("table", "json", "markdown"):
        code, out, err = _run(
            capsys, str(tmp_path / "old.json"), str(tmp_path / "new.json"), "-f", fmt
        )
        assert code == 1
        assert "gh_pAt0123456789" not in out + err and "tok_9876543210" not in out + err
        if fmt != "json":
            assert "\x1b" not in out


# -- malformed inputs ---------------------------------------------------------------------


BAD_INPUTS: dict[str, bytes] = {
    "not-json.json": b"{'components': [}",
    "array.json": b"[1, 2, 3]",
    "unknown.json": b'{"hello": "world"}',
    "empty.json": b"",
    "latin1.json": '{"bomFormat": "CycloneDX", "x": "caf\u00e9"}'.encode("latin-1"),
    "nested.json": b"[" * 100_000 + b"]" * 100_000,
    "components-string.cdx.json": b'{"bomFormat": "CycloneDX", "components": "flask"}',
    "component-number.cdx.json": b'{"bomFormat": "CycloneDX", "components": [42]}',
    "purl-object.cdx.json": b'{"bomFormat": "CycloneDX", "components": [{"purl": {}}]}',
    "report-v2.json": b'{"schema": "depchain-report/2"}',
    "report-no-id.json": b'{"schema": "depchain-report/1", "components": [{"name": "x"}]}',
    "spdx3.json": b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}',
    "spdx-packages.json": b'{"spdxVersion": "SPDX-2.3", "packages": {"a": 1}}',
    "not-cyclonedx.xml": b'<?xml version="1.0"?><project><dependencies/></project>',
    "entities.cdx.xml": (
        b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">'
        b"<name>&b;</name></component></components></bom>"
    ),
    "broken.cdx.xml": b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>',
    "diff.json": b'{"schema": "depchain-diff/1"}',
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_a_malformed_input_is_one_line_and_exit_3(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_cyclonedx([], [])))
    bad = tmp_path / name
    bad.write_bytes(BAD_INPUTS[name])
    for args in ((str(bad), str(good)), (str(good), str(bad))):
        code, out, err = _run(capsys, *args)
        assert (code, out) == (3, ""), err
        assert err.count("\n") == 1 and err.startswith(f"depchain: {bad}: "), err
        assert "Traceback" not in err and "internal error" not in err


def test_missing_folder_and_huge_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_cyclonedx([], [])))
    for other in (tmp_path / "absent.json", tmp_path):
        code, _, err = _run(capsys, str(good), str(other))
        assert code == 3 and err.count("\n") == 1 and str(other) in err
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps(_cyclonedx([{"name": "x" * 1000, "type": "library"}] * 2000, [])))
    assert huge.stat().st_size > 1024 * 1024
    code, _, err = _run(capsys, str(good), str(huge), "--max-file-size", "1")
    assert code == 3 and "too large" in err and err.count("\n") == 1
    with pytest.raises(InputFileError, match="nest more than"):
        deep: dict[str, Any] = {"name": "leaf", "type": "library"}
        for _ in range(40):
            deep = {"name": "n", "type": "library", "components": [deep]}
        diffing.from_dict({"bomFormat": "CycloneDX", "components": [deep]}, "deep.json")


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_cyclonedx([], [])))
    assert _run(capsys, str(good))[0] == 2
    assert _run(capsys)[0] == 2
    assert _run(capsys, str(good), str(good), "-f", "sarif")[0] == 2
    assert _run(capsys, "--rev", "HEAD~1..HEAD", str(good), str(good))[0] == 2
    code, out, _ = _run(capsys, str(good), str(good))
    assert code == 0 and "passes" in out


# -- incomplete scans, worse gaps, mirrors ----------------------------------------------------


def _workflow(folder: Path, ref: str) -> Path:
    (folder / ".github" / "workflows").mkdir(parents=True)
    (folder / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: actions/checkout@{ref}\n"
    )
    return folder


def test_a_gap_that_got_worse_is_new_and_folder_names_do_not_matter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """actions/checkout from a tag (DC009, medium) to a branch (DC009, high): the gap's
    key is the same, its severity rose. The two folders' names differ, and the scanned
    folder (no project: ``pkg:generic/<name>``) is still the same thing."""
    old = _report(_workflow(tmp_path / "checkout-a", "v4"), tmp_path / "old.json")
    new = _report(_workflow(tmp_path / "checkout-b", "main"), tmp_path / "new.json")
    code, report = _json(capsys, str(old), str(new), "--fail-on", "high")
    assert code == 1
    assert report["components"]["added"] == report["components"]["removed"] == []
    assert [
        (c["name"], c["old_versions"], c["new_versions"]) for c in report["components"]["changed"]
    ] == [("actions/checkout", ["v4"], ["main"])]
    (gap,) = report["trust"]["new_gaps"]
    assert (gap["id"], gap["severity"], gap["was"]) == ("DC009", "high", "medium")
    assert gap["where"] == [".github/workflows/ci.yml:6"]


def test_an_incomplete_new_scan_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What NEW's scan could not read may look fixed: exit 3, one line per file. What
    OLD's could not read is a note on stderr; the exit code is the comparison's."""
    good = _report(_workflow(tmp_path / "good", "v4"), tmp_path / "good.json")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[project\nname = 'x'\n")
    bad = _report(broken, tmp_path / "bad.json")
    code, out, err = _run(capsys, str(good), str(bad))
    assert code == 3 and "gaps gone (1)" in out
    assert err == (
        f"depchain: {bad}: cannot read pyproject.toml: invalid TOML: Expected ']' at the end "
        "of a table declaration (at line 1, column 9)\n"
    )
    code, out, err = _run(capsys, str(bad), str(good))
    assert code == 1 and err.startswith(f"depchain: {bad}: note: OLD's scan could not read")


def test_rev_in_a_bare_mirror(
    tmp_path: Path, git_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "work", {"requirements.txt": "requests==2.32.3\n"})
    _commit(repo, {"requirements.txt": "requests==2.33.0\n"}, "bump")
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(mirror)], check=True)
    code, report = _json(capsys, "--rev", "HEAD~1..HEAD", str(mirror))
    assert code == 0
    assert report["components"]["changed"] == [
        {
            "ecosystem": "pypi",
            "identity": "pkg:pypi/requests",
            "name": "requests",
            "new_versions": ["2.33.0"],
            "old_versions": ["2.32.3"],
        }
    ]
    assert report["old"]["subject"] == report["new"]["subject"] == "pkg:generic/mirror"
