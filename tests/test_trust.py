"""Trust gaps found from files: one finding per problem, at the right file and line;
SARIF that validates; exit codes by --fail-on; the catalogue explained."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import depchain
from depchain.cli import main
from depchain.export import sarif
from depchain.trust.catalogue import BY_ID, CATALOGUE
from tests.conftest import SHARED

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def risky_repo(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text(
        "--extra-index-url https://pypi.internal.example.com/simple\n"  # line 1
        "requests\n"  # 2: unpinned
        "internal-tool @ git+https://github.com/acme/internal-tool@main\n"  # 3: moving ref
        "six==1.16.0 --hash=sha256:" + "a" * 64 + "\n"  # 4: pinned and hashed: fine
    )
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"  # line 6: tag
        "      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0\n"
    )
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: .\n    environment:\n"
        "      API_URL: http://api.partner.example.com/v1\n"  # line 5: plain http, outside
        "  cache:\n    image: redis:7.2\n"  # line 7: no digest
        "  db:\n    image: postgres:16@sha256:" + "b" * 64 + "\n"
    )
    return tmp_path


def _by_id(result: depchain.ScanResult) -> dict[str, list[tuple[str, int | None]]]:
    found: dict[str, list[tuple[str, int | None]]] = {}
    for f in result.findings:
        found.setdefault(f.id, []).append((f.evidence[0].path, f.evidence[0].line))
    return found


def test_one_finding_per_problem_at_its_line(risky_repo: Path) -> None:
    result = depchain.scan(risky_repo)
    assert not result.errors, result.errors
    found = _by_id(result)
    assert found["DC003"] == [("requirements.txt", 1)]  # the --extra-index-url line
    assert found["DC001"] == [("requirements.txt", 2)]
    assert found["DC004"] == [("requirements.txt", 3)]
    assert found["DC009"] == [(".github/workflows/ci.yml", 6)]
    assert found["DC010"] == [("docker-compose.yml", 7)]
    assert found["DC019"] == [("docker-compose.yml", 5)]
    assert "DC002" not in found  # six is hashed; the others are not pins
    assert set(found) == {"DC001", "DC003", "DC004", "DC009", "DC010", "DC019"}


def test_sarif_validates_and_points_at_lines(risky_repo: Path) -> None:
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"SARIF schema not present at {SARIF_SCHEMA}")
    doc = sarif.build(depchain.scan(risky_repo))
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [g.id for g in CATALOGUE]
    located = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert ("DC009", ".github/workflows/ci.yml", 6) in located
    assert ("DC004", "requirements.txt", 3) in located


def test_fail_on_threshold_and_report(risky_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(risky_repo), "-o", "/dev/null"]) == 1  # high findings
    assert main(["scan", str(risky_repo), "--fail-on", "critical", "-o", "/dev/null"]) == 0
    assert main(["scan", str(risky_repo), "--fail-on", "never", "-o", "/dev/null"]) == 0
    assert main(["scan", str(risky_repo), "-f", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["findings"] == len(report["findings"]) == 6
    assert all(f["evidence"] for f in report["findings"])


def test_a_clean_tree_has_no_findings(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0 --hash=sha256:" + "a" * 64 + "\n")
    assert depchain.scan(tmp_path).findings == []
    assert main(["scan", str(tmp_path), "--fail-on", "info", "-o", "/dev/null"]) == 0


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == [g.id for g in CATALOGUE]
    assert main(["explain", "dc004"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("DC004 Direct URL or VCS reference") and "fix:" in text
    assert main(["explain", "DC999"]) == 2
    assert len(BY_ID) == len(CATALOGUE) and all(g.fix and g.explanation for g in CATALOGUE)


def test_readme_lists_every_gap() -> None:
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text()
    assert all(
        f"| `{gap.id}` | {gap.severity.value} | {gap.title} |" in readme for gap in CATALOGUE
    )


def test_branch_archives_can_move() -> None:
    from depchain.trust.rules import branch_archive

    assert branch_archive("https://github.com/pypa/pip/archive/main.zip") == "main"
    assert branch_archive("https://github.com/a/b/archive/refs/heads/master.tar.gz") == "master"
    assert branch_archive("https://gitlab.com/a/b/-/archive/develop/b-develop.tar.gz") == "develop"
    assert branch_archive("https://codeload.github.com/a/b/zip/refs/heads/main") == "main"
    assert branch_archive("https://github.com/a/b/archive/refs/tags/v1.2.tar.gz") is None
    assert branch_archive("https://github.com/a/b/archive/v1.2.3.zip") is None
    assert branch_archive("https://github.com/a/b/archive/" + "a" * 40 + ".zip") is None
    assert branch_archive("https://files.example/pkg-1.0.tar.gz") is None


def test_branch_archive_is_dc004_once_per_line(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("django>=5.0,<5.1\n")
    (tmp_path / "requirements" / "development.txt").write_text("-r base.txt\nruff==0.5.0\n")
    (tmp_path / "requirements" / "production.txt").write_text("-r base.txt\ngunicorn>=22\n")
    (tmp_path / "requirements.txt").write_text(
        "-r requirements/production.txt\nhttps://github.com/pypa/pip/archive/main.zip\n"
    )
    (tmp_path / "app" / "handlers").mkdir(parents=True)
    (tmp_path / "app" / "handlers" / "__init__.py").write_text("")
    (tmp_path / "app" / "handlers" / "setup.py").write_text("import flask\n")
    result = depchain.scan(tmp_path)
    assert not any(i.path.endswith("setup.py") for i in result.inputs)
    (dc004,) = [f for f in result.findings if f.id == "DC004"]
    assert "branch main" in dc004.message
    django = [f for f in result.findings if f.id == "DC001" and "django" in f.component]
    assert len(django) == 1 and django[0].severity == "medium"
