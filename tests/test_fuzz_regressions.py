"""What the fuzzer found with a longer budget (DEPCHAIN_FUZZ_SECONDS=1200, seed 778),
each from a minimal file: values that made a whole file 'please report this input', or
a whole SBOM unwritable."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import depchain
from depchain.export import cyclonedx
from depchain.ids import normalize_version, purl

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "examples" / "webapp"


def test_a_repository_that_names_nothing_is_an_error_on_its_line(tmp_path: Path) -> None:
    """pre-commit 'repo: /////' crashed the Package URL (TypeError), and the whole file
    was lost with 'please report this input'."""
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: //////////\n    rev: v1.0.0\n    hooks:\n      - id: x\n"
        "  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n"
        "      - id: black\n"
    )
    result = depchain.scan(tmp_path)
    assert [str(e) for e in result.errors] == [
        ".pre-commit-config.yaml: line 2: repos[0].repo '//////////' names no repository"
    ]
    assert "psf/black" in {c.name for c in result.graph.components()}


def test_a_name_of_slashes_is_no_package_name() -> None:
    from depchain.errors import InvalidValue

    for bad in ("////", "/"):
        try:
            purl("pypi", bad, "1.0", qualifiers=(("vcs_url", "x"),))
        except InvalidValue as exc:
            assert "is not a package name" in str(exc)
        else:
            raise AssertionError(bad)


def test_a_version_of_more_digits_than_int_takes_stays_as_written() -> None:
    """A wheel's METADATA 'Version: 1.2.3000...' (68,519 digits) raised ValueError from
    int() inside packaging's Version: the wheel was lost."""
    long = "1.2.3" + "0" * 70_000
    assert normalize_version(long) == long
    assert normalize_version("1." + "9" * 5000) == "1." + "9" * 5000
    assert normalize_version("3.2.0.dev") == "3.2.0.dev0"


def test_sboms_are_written_whatever_a_name_or_version_holds() -> None:
    """Text XML cannot hold (C0 controls from a go.mod, a pylock, a .gitmodules) made
    the XML writer fail (ExpatError, exit 4), and a version longer than the schema's
    1,024 characters failed both CycloneDX formats: no SBOM at all."""
    result = depchain.scan(WEBAPP)
    (flask,) = [c for c in result.graph.components() if c.name == "flask"]
    (redis,) = [c for c in result.graph.components() if c.name == "redis"]
    result.graph.replace_node(dataclasses.replace(flask, description="bad\x01\x1b[31m\ufffe"))
    result.graph.replace_node(dataclasses.replace(redis, version="1." + "0" * 2000))
    for fmt in cyclonedx.Format:
        text = cyclonedx.render(result, fmt)  # validated against the schema
        assert "\x01" not in text and "\ufffe" not in text
        assert "0" * 2000 not in text and "depchain:version-omitted" in text
    xml = cyclonedx.render(result, cyclonedx.Format.XML)
    assert "bad\\x01\\x1b[31m\\ufffe" in xml  # shown, as the terminal shows it
    document = json.loads(cyclonedx.render(result, cyclonedx.Format.JSON))
    (shown,) = [c for c in document["components"] if c["name"] == "redis"]
    assert "version" not in shown


def test_an_editable_path_too_long_for_the_system_is_no_crash(tmp_path: Path) -> None:
    """'-e ./<300 characters>' made is_file() raise ENAMETOOLONG: the requirements file
    was lost with 'please report this input' (seed 779)."""
    (tmp_path / "requirements.txt").write_text("-e ./" + "a" * 300 + "/b\nsix==1.16.0\n")
    result = depchain.scan(tmp_path)
    assert not [e for e in result.errors if "please report" in str(e)]
    assert "six" in {c.name for c in result.graph.components()}
