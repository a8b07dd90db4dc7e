"""The trust surface: components and distinct owners per kind, explicit vs implicit,
unknown owners never explicit; and the Markdown report that shows it."""

from __future__ import annotations

from pathlib import Path

import depchain
from depchain.render import markdown
from depchain.trust.surface import trust_surface

WORKFLOW = (
    "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@0b93645e9fea7318ecaed2b359559ac225c90a2b # v4\n"
    "      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5\n"
    "      - uses: astral-sh/setup-uv@0b93645e9fea7318ecaed2b359559ac225c90a2b # v6\n"
)


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\nattrs==23.2.0\n")
    return tmp_path


def test_owners_per_kind_and_explicit_trust(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    surface = trust_surface(depchain.scan(repo).graph, None)
    build = surface["kinds"]["build"]
    assert build == {"components": 3, "owners": 2, "unknown_owner": 0, "explicit": 0, "implicit": 3}
    dynamic = surface["kinds"]["dynamic"]  # PyPI owners are unknown without the index
    assert dynamic["components"] == 2 and dynamic["unknown_owner"] == 2
    (repo / "depchain.toml").write_text('[trusted.githubactions]\nowners = ["actions"]\n')
    result = depchain.scan(repo)
    build = trust_surface(result.graph, result.policy)["kinds"]["build"]
    assert (build["explicit"], build["implicit"]) == (2, 1)  # astral-sh is not named
    (repo / "depchain.toml").write_text('[trusted.pypi]\nowners = ["six"]\n')
    result = depchain.scan(repo)
    dynamic = trust_surface(result.graph, result.policy)["kinds"]["dynamic"]
    assert dynamic["explicit"] == 0  # unknown is never trusted, whatever the policy says


def test_markdown_report(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "requirements.txt").write_text("requests\n")
    text = markdown.render(depchain.scan(repo))
    assert text.startswith("### depchain ")
    assert "| build | 3 | 3 | 2 | 0 | 0 |" in text
    assert "| medium | DC001 | requests (any version) is not pinned" in text
    assert "`requirements.txt:1`" in text


def test_ownership_and_provenance_in_the_report(tmp_path: Path) -> None:
    from depchain.export import json_report

    repo = _repo(tmp_path)
    (repo / "requirements.txt").write_text(
        "six==1.16.0\nflask @ git+https://github.com/pallets/flask@" + "c" * 40 + "\n"
    )
    report = json_report.build(depchain.scan(repo))
    by_name = {c["name"]: c for c in report["components"]}
    checkout = by_name["actions/checkout"]
    assert checkout["ownership"] == {
        "organization": "actions",
        "roles": [],
        "source": "github-namespace",
    }
    assert checkout["provenance"]["pin"] == "commit" and checkout["provenance"]["ref_type"] == "sha"
    six = by_name["six"]
    assert six["ownership"] == {"organization": None, "roles": [], "source": "unknown"}
    assert six["provenance"]["pin"] == "exact" and six["provenance"]["index"] == ["default"]
    assert by_name["flask"]["provenance"]["pin"] == "commit"
