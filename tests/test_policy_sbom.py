"""``sbom-author`` and ``sbom-manufacturer`` in the policy."""

from __future__ import annotations

from pathlib import Path

from depchain.trust.policy import load_policy


def test_sbom_keys(tmp_path: Path) -> None:
    (tmp_path / "depchain.toml").write_text(
        'sbom-author = "Platform  security team"\nsbom-manufacturer = "Example Corp"\n'
    )
    policy, errors = load_policy(tmp_path)
    assert not errors
    assert (policy.sbom_author, policy.sbom_manufacturer) == (
        "Platform security team",
        "Example Corp",
    )


def test_bad_sbom_keys_are_errors(tmp_path: Path) -> None:
    (tmp_path / "depchain.toml").write_text('sbom-author = 3\nsbom-manufacturer = "  "\n')
    policy, errors = load_policy(tmp_path)
    assert policy.sbom_author is None and policy.sbom_manufacturer is None
    assert len(errors) == 2
    assert all("is a name on one line" in e.message for e in errors)
