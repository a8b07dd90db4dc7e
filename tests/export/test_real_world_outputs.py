"""Every output of every real-world folder validates: the JSON report (through the CLI,
as a user runs it) against the shipped schema, the CycloneDX XML export against the
CycloneDX schema with cyclonedx-python-lib's own validator."""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from depchain.cli import main
from tests.conftest import REAL_WORLD

_FOLDERS = sorted(p.name for p in REAL_WORLD.iterdir() if p.is_dir()) if REAL_WORLD.is_dir() else []
_ABSENT = f"real-world data not present at {REAL_WORLD} (../shared/data is not checked out)"


def _validator() -> jsonschema.Draft202012Validator:
    text = resources.files("depchain").joinpath("schemas/depchain-report-1.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _report(folder: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "report.json"
    assert main(["scan", str(folder), "--format", "json", "-o", str(out)]) in {0, 1}
    report: dict[str, Any] = json.loads(out.read_text())
    return report


@pytest.mark.skipif(not _FOLDERS, reason=_ABSENT)
@pytest.mark.parametrize("name", _FOLDERS or ["-"])
def test_json_report_of_every_real_world_folder_fits_the_schema(name: str, tmp_path: Path) -> None:
    report = _report(REAL_WORLD / name, tmp_path)
    errors = sorted(_validator().iter_errors(report), key=lambda e: list(e.absolute_path))
    assert not errors, [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


@pytest.mark.skipif(not _FOLDERS, reason=_ABSENT)
@pytest.mark.parametrize("name", _FOLDERS or ["-"])
def test_cyclonedx_xml_of_every_real_world_folder_validates(name: str, tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    out = tmp_path / "bom.xml"
    assert main(["sbom", str(REAL_WORLD / name), "-f", "cyclonedx-xml", "-o", str(out)]) == 0
    error = XmlValidator(SchemaVersion.V1_6).validate_str(out.read_text())
    assert error is None, str(error)


def test_go_sum_h1_hashes_fit_the_schema(tmp_path: Path) -> None:
    h1 = "7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0="
    (tmp_path / "go.mod").write_text(
        "module example.com/tool\n\ngo 1.22\n\nrequire github.com/spf13/cobra v1.8.0\n"
    )
    (tmp_path / "go.sum").write_text(
        f"github.com/spf13/cobra v1.8.0 h1:{h1}\n"
        "github.com/spf13/cobra v1.8.0/go.mod h1:WXLWApfZ71AjXPya3WOlMsY9yMs7YeiHhFVlvLyhcho=\n"
    )
    (tmp_path / "out").mkdir()
    report = _report(tmp_path, tmp_path / "out")
    assert not list(_validator().iter_errors(report))
    (cobra,) = [c for c in report["components"] if c["name"] == "github.com/spf13/cobra"]
    # Go's own name for it, not sha256: it is no digest of a file one downloads
    assert cobra["hashes"] == [{"algorithm": "go-h1", "value": base64.b64decode(h1).hex()}]
    bom = tmp_path / "bom.xml"
    assert main(["sbom", str(tmp_path / "go.mod"), "-f", "cyclonedx-xml", "-o", str(bom)]) == 0
    assert "SHA-256" not in bom.read_text()
