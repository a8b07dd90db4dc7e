"""What a hostile review of the trust layer found, each kept fixed: policies of the wrong
shape, suppressions and trusted indexes that matched too much or too little, the ledger
across an upgrade, Maintainers as publishers, images on other registries, output files
that are folders, links or devices, SARIF locations and fingerprints, and text from
files or indexes reaching a terminal or a pull-request comment."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

import depchain
from depchain.cli import main
from depchain.model import Component
from depchain.scanner import EnrichOptions
from depchain.trust.policy import Policy, Trusted, index_key
from depchain.trust.surface import owner_of
from tests.enrich.fakeindex import FakeIndex

WORKFLOW = (
    "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@v4\n"
)


def _repo(tmp_path: Path, policy: str, requirements: str = "requests==2.31.0\n") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "depchain.toml").write_text(policy)
    return tmp_path


# -- the policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ('trusted = ["actions"]', "trusted is an array, not a table"),
        ('severity = "off"', "severity is a string, not a table"),
        ('fail-on = ["high"]', "fail-on: ['high'] is not"),
        ('[severity]\nDC002 = ["off"]', "severity.DC002: ['off'] is not"),
        ('[[suppress]]\nid = ["DC009"]\ncomponent = "x"', "suppress: no gap ['DC009']"),
        ('suppress = {id = "DC002"}', "suppress is a table, not an array of tables"),
        ('fail_on = "never"', "unknown key 'fail_on'"),
        ('[severities]\nDC002 = "off"', "unknown key 'severities'"),
        ('[trusted.pypi]\norganisations = ["psf"]', "unknown key(s) organisations"),
        ('[trusted.github-actions]\nowners = ["actions"]', "trusted.github-actions: no such"),
        (
            '[[suppress]]\nid = "DC002"\ncomponent = "requests"\nversion = "2.31.0"\n'
            'reason = "r"\nexpires = 2099-01-01',
            "unknown key(s) version",
        ),
        ("broken = ", "invalid TOML"),
        ("[[suppress]]\nexpires = 2030-02-30", "invalid TOML"),
    ],
)
def test_a_policy_of_the_wrong_shape_is_an_error_not_a_crash_nor_silence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str, message: str
) -> None:
    _repo(tmp_path, policy)
    assert main(["scan", str(tmp_path), "-o", str(tmp_path / "out.json"), "-f", "json"]) == 3
    report = json.loads((tmp_path / "out.json").read_text())
    errors = [e for e in report["errors"] if e["path"] == "depchain.toml"]
    assert len(errors) == 1 and message in errors[0]["message"], errors
    assert "Traceback" not in capsys.readouterr().err


def test_an_expiry_with_a_time_is_its_date(tmp_path: Path) -> None:
    _repo(
        tmp_path,
        '[[suppress]]\nid = "DC002"\ncomponent = "requests"\nreason = "r"\n'
        "expires = 2099-01-01T00:00:00Z\n",
    )
    result = depchain.scan(tmp_path)
    assert not result.errors and "DC002" not in {f.id for f in result.findings}
    assert result.policy.suppressions[0].expires.isoformat() == "2099-01-01"


def test_dc020_off_drops_the_expired_suppression_finding(tmp_path: Path) -> None:
    _repo(
        tmp_path,
        '[severity]\nDC020 = "off"\n\n[[suppress]]\nid = "DC002"\ncomponent = "requests"\n'
        'reason = "r"\nexpires = 2020-01-01\n',
    )
    assert main(["scan", str(tmp_path), "-o", os.devnull, "--fail-on", "never"]) == 0
    ids = {f.id for f in depchain.scan(tmp_path).findings}
    assert "DC020" not in ids and "DC002" in ids  # expired: the gap is back, unhidden


@pytest.mark.parametrize(
    "component",
    ["requests", "Requests", "pkg:pypi/requests", "pkg:pypi/requests@2.31.0"],
)
def test_a_suppression_names_a_pypi_component_as_pip_would(tmp_path: Path, component: str) -> None:
    _repo(
        tmp_path,
        f'[[suppress]]\nid = "DC002"\ncomponent = "{component}"\nreason = "r"\n'
        "expires = 2099-01-01\n",
    )
    assert "DC002" not in {f.id for f in depchain.scan(tmp_path).findings}


def test_zope_interface_by_any_spelling_and_an_unused_suppression_is_said(
    tmp_path: Path,
) -> None:
    _repo(
        tmp_path,
        '[[suppress]]\nid = "DC002"\ncomponent = "Zope_Interface"\nreason = "r"\n'
        'expires = 2099-01-01\n\n[[suppress]]\nid = "DC009"\ncomponent = "nothing-here"\n'
        'reason = "r"\nexpires = 2099-01-01\n',
        requirements="zope.interface==6.0\n",
    )
    result = depchain.scan(tmp_path)
    assert "DC002" not in {f.id for f in result.findings}
    assert ("depchain.toml:7", "the suppression of DC009 for nothing-here matches no finding") in (
        result.notes
    )


@pytest.mark.parametrize(
    ("trusted", "used", "forgiven"),
    [
        (
            "https://pypi.internal.example.com",
            "https://pypi.internal.example.com.attacker.io/simple",
            False,
        ),
        ("/", "https://attacker.io/simple", False),
        ("requirements.txt", "https://attacker.io/simple", False),
        (
            "https://pypi.internal.example.com/simple",
            "https://user:pw@pypi.internal.example.com/simple",
            True,
        ),
        (
            "https://pypi.internal.example.com/simple",
            "https://PyPI.Internal.Example.com:443/simple/",
            True,
        ),
    ],
)
def test_trusted_indexes_are_compared_as_urls(
    tmp_path: Path, trusted: str, used: str, forgiven: bool
) -> None:
    _repo(
        tmp_path,
        f'[trusted.pypi]\nindexes = ["{trusted}"]\n',
        requirements=f"--extra-index-url {used}\nrequests==2.31.0\n",
    )
    assert ("DC003" not in {f.id for f in depchain.scan(tmp_path).findings}) is forgiven


def test_index_key() -> None:
    assert index_key("https://u:p@Host.Example:443/simple/") == "https://host.example/simple"
    assert index_key("http://host:8080/simple") == "http://host:8080/simple"


# -- owners ---------------------------------------------------------------------------


def _pypi(roles: str, organization: str | None = None) -> Component:
    props = [("depchain:owner-roles", roles)]
    if organization:
        props.append(("depchain:owner-organization", organization))
    return Component(
        "pkg:pypi/setuptools@69.0.0", "setuptools", "pypi", "69.0.0", properties=tuple(props)
    )


def test_maintainers_can_publish_and_are_owners_too() -> None:
    setuptools = _pypi("abravalheri:Maintainer, dstufft:Maintainer, jaraco:Owner")
    assert owner_of(setuptools) == "abravalheri, dstufft, jaraco"
    only_jaraco = Policy({"pypi": Trusted(owners=frozenset({"jaraco"}))})
    assert not only_jaraco.trusts(setuptools)
    everyone = Policy({"pypi": Trusted(owners=frozenset({"jaraco", "dstufft", "ABRAVALHERI"}))})
    assert everyone.trusts(setuptools)
    # an organization is trusted as an organization, not as an owner name
    org = _pypi("someone:Owner", organization="pypa")
    assert Policy({"pypi": Trusted(organizations=frozenset({"pypa"}))}).trusts(org)
    assert not Policy({"pypi": Trusted(owners=frozenset({"pypa"}))}).trusts(org)
    assert not Policy({"pypi": Trusted(owners=frozenset({"x"}))}).trusts(_pypi(""))


def test_an_image_on_another_registry_is_not_owned_by_its_hub_namespace(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM localhost:5000/python:3 AS a\nFROM evil.example.com:5000/bitnami/redis:7 AS b\n"
        "FROM bitnami/redis:7\nFROM python:3.12\n"
    )
    (tmp_path / "depchain.toml").write_text('[trusted.docker]\nowners = ["library", "bitnami"]\n')
    result = depchain.scan(tmp_path)
    owners = {c.purl: owner_of(c) for c in result.graph.components() if c.ecosystem == "docker"}
    assert sorted(owners.values()) == [
        "bitnami",
        "evil.example.com:5000/bitnami",
        "library",
        "localhost:5000",
    ]
    images = [c for c in result.graph.components() if c.ecosystem == "docker"]
    assert sorted(owner_of(c) or "" for c in images if result.policy.trusts(c)) == [
        "bitnami",
        "library",
    ]


def test_the_ledger_follows_a_package_across_an_upgrade(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\n")
    session = requests.Session()
    session.mount("https://", FakeIndex())
    options = EnrichOptions(
        cache_dir=tmp_path / "cache", session=session, index_url="https://pypi.org/simple"
    )
    result = depchain.scan(tmp_path, enrich=options)
    from depchain.trust import ledger

    rels = list(ledger.relationships(result.graph, result.findings, result.subject))
    written = json.loads(ledger.render(ledger.accept(None, rels).ledger))
    assert [e["to"] for e in written["edges"]] == ["pkg:pypi/requests"]
    [owned] = written["owners"]
    assert owned == {
        "component": "pkg:pypi/requests",
        "owner": "Lukasa, graffatcolmingov, nateprewitt",
    }
    owned["owner"] = "Lukasa, nateprewitt"
    (tmp_path / "depchain-ledger.json").write_text(json.dumps(written))
    (tmp_path / "requirements.txt").write_text("requests==2.32.0\n")  # an upgrade (or not)
    result = depchain.scan(tmp_path, enrich=options)
    [changed] = [f for f in result.findings if f.id == "DC017"]
    assert "graffatcolmingov" in changed.message


# -- outputs --------------------------------------------------------------------------


def test_output_to_a_folder_is_an_error_and_links_and_devices_are_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "r", "")
    assert main(["scan", str(repo), "-f", "json", "-o", str(tmp_path)]) == 3
    assert "is a folder" in capsys.readouterr().err
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert main(["scan", str(repo), "-f", "json", "-o", str(link), "--fail-on", "never"]) == 0
    assert link.is_symlink() and json.loads(real.read_text())["schema"]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # a FIFO stays a FIFO: written directly (read here by another open)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert main(["scan", str(repo), "-f", "sarif", "-o", str(fifo), "--fail-on", "never"]) == 0
        assert os.read(reader, 9) == b'{\n  "$sch'
    finally:
        os.close(reader)
    assert fifo.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.json", "r", "real.json"]


def test_sarif_uris_are_encoded_and_fingerprints_distinct(tmp_path: Path) -> None:
    folder = tmp_path / "my app#1"
    folder.mkdir()
    (folder / "requirements.txt").write_text(
        "--extra-index-url https://a.example/simple\n--extra-index-url https://b.example/simple\n"
        "requests==2.31.0\n"
    )
    out = tmp_path / "out.sarif"
    main(["scan", str(tmp_path), "-f", "sarif", "-o", str(out)])
    sarif = json.loads(out.read_text())
    results = sarif["runs"][0]["results"]
    dc003 = [r for r in results if r["ruleId"] == "DC003"]
    assert len(dc003) == 2
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        for loc in r["locations"]
    }
    assert uris == {"my%20app%231/requirements.txt"}
    prints = [r["partialFingerprints"]["depchain/v2"] for r in results]
    assert len(set(prints)) == len(prints)


def test_markdown_and_the_table_show_hostile_text_as_text(tmp_path: Path) -> None:
    repo = tmp_path / "a`b|c"
    _repo(
        repo,
        '[[suppress]]\nid = "DC002"\ncomponent = "requests\\u001b]8;;https://evil.example/\\u0007"\n'
        'reason = "<details><summary>x</summary> `tick`"\nexpires = 2020-01-01\n',
    )
    md = tmp_path / "out.md"
    main(["scan", str(repo), "-f", "markdown", "-o", str(md)])
    text = md.read_text()
    assert "<details><summary>x" not in text and "\\<details\\>" in text
    assert "\x1b" not in text and "\\x1b" in text
    assert "``" in text  # the backtick in the folder name is fenced, not closing the span
    table = tmp_path / "out.txt"
    main(["scan", str(repo), "-o", str(table)])
    assert "\x1b" not in table.read_text() and "\x07" not in table.read_text()


def test_an_internal_error_exits_4_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(depchain.scanner, "scan", broken)
    monkeypatch.delenv("DEPCHAIN_DEBUG", raising=False)
    assert main(["scan", str(tmp_path)]) == 4
    err = capsys.readouterr().err
    assert err.startswith("depchain: internal error: KeyError: 'boom'") and err.count("\n") == 1


def test_owner_not_trusted_outside_pypi(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        WORKFLOW + "      - uses: someone/setup-thing@0b93645e9fea7318ecaed2b359559ac225c90a2b\n"
    )
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nFROM bitnami/redis:7\n")
    (tmp_path / "depchain.toml").write_text(
        '[trusted.githubactions]\nowners = ["actions"]\n\n[trusted.docker]\nowners = ["library"]\n'
    )
    result = depchain.scan(tmp_path)
    dc015 = sorted(
        (f.message, f.evidence[0].path, f.evidence[0].line)
        for f in result.findings
        if f.id == "DC015"
    )
    assert dc015 == [
        ("bitnami/redis is owned by bitnami, not in the trusted owners of docker", "Dockerfile", 2),
        (
            "someone/setup-thing is owned by someone, not in the trusted owners of githubactions",
            ".github/workflows/ci.yml",
            7,
        ),
    ]


def test_the_policy_is_found_above_a_subfolder_and_can_be_named(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "depchain.toml").write_text('[severity]\nDC002 = "off"\n')
    service = tmp_path / "services" / "api"
    service.mkdir(parents=True)
    (service / "requirements.txt").write_text("requests==2.31.0\n")
    (tmp_path / "depchain-ledger.json").write_text('{"schema": "depchain-ledger/3"}')
    result = depchain.scan(service)
    assert result.policy is not None and result.policy.source == "../../depchain.toml"
    assert "DC002" not in {f.id for f in result.findings}
    assert result.ledger is not None and result.ledger.path == "../../depchain-ledger.json"
    # above the git work tree nothing is looked for
    outside = tmp_path / "services" / "depchain.toml"
    assert not outside.exists()
    (tmp_path / ".git").rmdir()
    assert depchain.scan(service).policy.source is None  # type: ignore[union-attr]
    # --policy names one, for any scan
    strict = tmp_path / "strict.toml"
    strict.write_text('fail-on = "low"\n\n[severity]\nDC002 = "critical"\n')
    result = depchain.scan(service, policy=strict)
    assert {f.id: f.severity for f in result.findings}["DC002"] == "critical"
    assert main(["scan", str(service), "--policy", str(strict), "-o", os.devnull]) == 1
    assert (
        main(["scan", str(service), "--policy", str(tmp_path / "nope.toml"), "-o", os.devnull]) == 3
    )


# -- second review --------------------------------------------------------------------


def test_dev_stdout_redirected_to_a_file_is_written_through_not_replaced(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = _repo(tmp_path / "r", "")
    out = tmp_path / "out.txt"
    script = (
        f"echo HEADER; {sys.executable} -m depchain scan {repo} -f json -o /dev/stdout "
        "--fail-on never; echo FOOTER"
    )
    with out.open("w") as handle:
        subprocess.run(["sh", "-c", script], stdout=handle, check=True)
    text = out.read_text()
    assert text.startswith("HEADER\n{") and text.endswith("}\nFOOTER\n")
    piped = subprocess.run(
        [
            sys.executable,
            "-m",
            "depchain",
            "scan",
            str(repo),
            "-f",
            "json",
            "-o",
            "-",
            "--fail-on",
            "never",
        ],
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and json.loads(piped.stdout)["schema"]
    assert not (Path.cwd() / "-").exists()


def test_a_symlink_loop_as_output_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "r", "")
    (tmp_path / "lp1").symlink_to(tmp_path / "lp2")
    (tmp_path / "lp2").symlink_to(tmp_path / "lp1")
    assert main(["scan", str(repo), "-o", str(tmp_path / "lp1")]) == 3
    assert "internal error" not in capsys.readouterr().err


def test_a_fifo_named_like_a_manifest_does_not_hang_the_scan(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "requirements.txt")
    result = depchain.scan(tmp_path)  # it would wait for a writer forever
    [error] = result.errors
    assert "not a regular file" in error.message


def test_the_policy_of_a_symlinked_root_names_its_file_as_seen_from_the_scan(
    tmp_path: Path,
) -> None:
    mono = tmp_path / "mono"
    (mono / ".git").mkdir(parents=True)
    _repo(
        mono,
        '[[suppress]]\nid = "DC002"\ncomponent = "requests"\nreason = "r"\nexpires = 2020-01-01\n',
    )
    link = tmp_path / "a" / "b" / "link"
    link.parent.mkdir(parents=True)
    link.symlink_to(mono)
    [expired] = [f for f in depchain.scan(link).findings if f.id == "DC020"]
    assert expired.evidence[0].path == "depchain.toml"


def test_suppressions_by_name_stay_in_one_ecosystem_and_ids_keep_the_registry(
    tmp_path: Path,
) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        WORKFLOW.replace(
            "actions/checkout@v4", "acme/tool@0b93645e9fea7318ecaed2b359559ac225c90a2b"
        )
    )
    (tmp_path / "Dockerfile").write_text(
        "FROM acme/tool:1 AS a\nFROM ghcr.io/evil/base:1 AS b\nFROM evil/base:1\n"
    )
    policy = (
        '[trusted.docker]\nowners = ["library"]\n\n[trusted.githubactions]\nowners = ["x"]\n\n'
        '[[suppress]]\nid = "DC015"\ncomponent = "acme/tool"\nreason = "r"\n'
        "expires = 2099-01-01\n\n"
        '[[suppress]]\nid = "DC015"\ncomponent = "pkg:docker/evil/base"\nreason = "r"\n'
        "expires = 2099-01-01\n"
    )
    (tmp_path / "depchain.toml").write_text(policy)
    result = depchain.scan(tmp_path)
    from depchain.ids import identity

    reported = {identity(f.component) for f in result.findings if f.id == "DC015"}
    assert reported == {
        # the bare name is ambiguous (an action and an image): it hides nothing, says so
        "pkg:githubactions/acme/tool",
        "pkg:docker/acme/tool",
        # the versionless id of Docker Hub's evil/base is not ghcr.io's evil/base
        "pkg:docker/evil/base?repository_url=ghcr.io",
    }
    notes = [m for _, m in result.notes if "acme/tool" in m]
    assert notes == [
        "the suppression of DC015 for acme/tool names components of several ecosystems "
        "(pkg:docker, pkg:githubactions): name it by its pkg: id; it hides nothing until then"
    ]


def test_the_ledger_key_drops_digests_and_an_old_ledger_is_refused_with_the_fix(
    tmp_path: Path,
) -> None:
    from depchain.trust import ledger

    (tmp_path / "Dockerfile").write_text(
        "FROM bitnami/redis:7@sha256:" + "0" * 64 + "\nFROM ghcr.io/o/img:1\n"
    )
    result = depchain.scan(tmp_path)
    keys = sorted(
        r.key.values[1]
        for r in ledger.relationships(result.graph, result.findings, result.subject)
        if r.key.section == "edges"
    )
    assert keys == ["pkg:docker/bitnami/redis", "pkg:docker/o/img?repository_url=ghcr.io"]
    for old in ("depchain-ledger/1", "depchain-ledger/2"):
        (tmp_path / "depchain-ledger.json").write_text(f'{{"schema": "{old}", "entries": {{}}}}')
        [error] = depchain.scan(tmp_path).errors
        assert old in error.message and "depchain accept" in error.message


def test_no_dc015_for_the_scanned_project_and_no_false_unused_notes(tmp_path: Path) -> None:
    _repo(
        tmp_path,
        '[trusted.generic]\nowners = ["me"]\n\n[severity]\nDC002 = "off"\n\n'
        '[[suppress]]\nid = "DC002"\ncomponent = "requests"\nreason = "r"\nexpires = 2099-01-01\n\n'
        '[[suppress]]\nid = "DC007"\ncomponent = "requests"\nreason = "r"\nexpires = 2099-01-01\n',
    )
    result = depchain.scan(tmp_path)
    assert "DC015" not in {f.id for f in result.findings}
    assert not [m for _, m in result.notes if "suppression" in m]


def test_an_explicit_policy_file_reads_tool_depchain_only(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", "")
    plain = tmp_path / "pyproject.toml"
    plain.write_text('[project]\nname = "x"\n')
    result = depchain.scan(repo, policy=plain)
    assert [e.message for e in result.errors] == ["names no policy (no [tool.depchain] keys)"]
    plain.write_text('[project]\nname = "x"\n\n[tool.depchain.severity]\nDC002 = "off"\n')
    result = depchain.scan(repo, policy=plain)
    assert not result.errors and "DC002" not in {f.id for f in result.findings}


def test_a_count_in_a_message_does_not_change_the_sarif_fingerprint(tmp_path: Path) -> None:
    def fingerprint(requirements: str) -> str:
        _repo(tmp_path, "", "--extra-index-url https://a.example/simple\n" + requirements)
        out = tmp_path / "out.sarif"
        main(["scan", str(tmp_path), "-f", "sarif", "-o", str(out)])
        [dc003] = [
            r for r in json.loads(out.read_text())["runs"][0]["results"] if r["ruleId"] == "DC003"
        ]
        return str(dc003["partialFingerprints"]["depchain/v2"])

    assert fingerprint("foo==1.0\n") == fingerprint("foo==1.0\nbar==2.0\n")
