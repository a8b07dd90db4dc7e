from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import depchain
from depchain.cli import main
from depchain.export import cyclonedx
from tests.conftest import real


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.mark.parametrize("spec", cyclonedx.SPEC_VERSIONS)
@pytest.mark.parametrize("fmt", list(cyclonedx.Format))
def test_pydantic_folder_validates(spec: str, fmt: cyclonedx.Format, epoch: None) -> None:
    result = depchain.scan(real("pydantic__pydantic"))
    text = cyclonedx.render(result, fmt, spec)
    cyclonedx.validate(text, fmt, spec)  # render validated already; say it again, loudly
    if fmt is cyclonedx.Format.JSON:
        doc = json.loads(text)
        assert doc["specVersion"] == spec
        assert doc["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")
        refs = {c["bom-ref"] for c in doc["components"]}
        assert len(refs) == len(result.graph.components()) - 1  # the subject is metadata
        assert doc["metadata"]["component"]["bom-ref"] == result.subject


def test_two_runs_give_identical_bytes(tmp_path: Path, epoch: None) -> None:
    target = real("pydantic__pydantic")
    for fmt in ("cyclonedx-json", "cyclonedx-xml"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        assert main(["sbom", str(target), "--format", fmt, "-o", str(a)]) == 0
        assert main(["sbom", str(target), "--format", fmt, "-o", str(b)]) == 0
        assert a.read_bytes() == b.read_bytes()


def test_kinds_scopes_and_evidence_are_carried(epoch: None) -> None:
    result = depchain.scan(real("pydantic__pydantic/pyproject.toml"))
    doc = json.loads(cyclonedx.render(result))
    by_name = {c["name"]: c for c in doc["components"]}
    hatchling = by_name["hatchling"]
    assert hatchling["scope"] == "excluded"  # build-time only
    props = {(p["name"], p["value"]) for p in hatchling["properties"]}
    assert ("depchain:kinds", "build") in props
    edge = next(v for n, v in props if n == "depchain:dependency")
    assert "kind=build" in edge and "mechanism=build-backend" in edge
    assert "evidence=pyproject.toml:2" in edge
    assert hatchling["evidence"]["occurrences"] == [
        {"bom-ref": "pkg:pypi/hatchling#pyproject.toml:2", "location": "pyproject.toml", "line": 2}
    ]
    assert by_name["email-validator"]["scope"] == "optional"
    assert by_name["typing-extensions"]["scope"] == "required"
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert "pkg:pypi/hatchling" in deps[result.subject]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, epoch: None) -> None:
    target = tmp_path / "out" / "bom.json"
    target.parent.mkdir()
    target.write_text("previous")
    os.chmod(target.parent, 0o500)
    try:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        code = main(["sbom", str(real("pydantic__pydantic")), "-o", str(target)])
    finally:
        os.chmod(target.parent, 0o700)
    assert code == 3
    assert target.read_text() == "previous"
    assert list(target.parent.iterdir()) == [target]


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_a_failed_write_leaves_nothing_behind_as_root_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: None, code: int
) -> None:
    """The test above as root, who may write into a read-only folder: the folder's
    refusal injected where the temporary file is created."""
    target = tmp_path / "out" / "bom.json"
    target.parent.mkdir()
    target.write_text("previous")
    real_open = os.open

    def refusing(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if Path(path).parent == target.parent and Path(path).name != target.name:
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", refusing)
    assert main(["sbom", str(real("pydantic__pydantic")), "-o", str(target)]) == 3
    assert target.read_text() == "previous"
    assert list(target.parent.iterdir()) == [target]


FULL_DISK = """
set -u
mount -t tmpfs -o size=8k,mode=0755 tmpfs "$OUT" || exit 99
printf previous > "$OUT/bom.json"
"$PYTHON" -m depchain sbom "$SCANNED" -o "$OUT/bom.json" 2>"$LOG"
echo "exit=$?"
ls -A "$OUT"
echo "content=$(cat "$OUT/bom.json")"
"""


def test_a_full_filesystem_leaves_the_old_file_whole(tmp_path: Path) -> None:
    """A real full disk: a tmpfs of 8 KiB, in a mount namespace of its own, where the
    report does not fit. Runs where ``unshare -m`` may (root, or user namespaces)."""
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        pytest.skip("needs unshare(1) on Linux")
    probe = subprocess.run([unshare, "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no mount namespace here: {probe.stderr.decode(errors='replace')[:80]}")
    out = tmp_path / "out"
    out.mkdir()
    env = {
        **os.environ,
        "OUT": str(out),
        "PYTHON": sys.executable,
        "SCANNED": str(real("pydantic__pydantic")),
        "LOG": str(tmp_path / "stderr.txt"),
        "SOURCE_DATE_EPOCH": "1700000000",
    }
    done = subprocess.run(
        [unshare, "-m", "sh", "-c", FULL_DISK], env=env, capture_output=True, text=True
    )
    if done.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr[:80]}")
    assert done.stdout.splitlines() == ["exit=3", "bom.json", "content=previous"]
    message = (tmp_path / "stderr.txt").read_text()
    assert "No space left on device" in message and len(message.splitlines()) == 1
    assert list(out.iterdir()) == []  # the tmpfs went with its namespace


def test_invalid_document_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: None
) -> None:
    """If validation fails, the CLI exits 3 and the old file stays as it was."""
    target = tmp_path / "bom.json"
    target.write_text("previous")

    def refuse(text: str, fmt: cyclonedx.Format, spec: str) -> None:
        raise cyclonedx.ExportError("CycloneDX 1.6 output failed schema validation: test")

    monkeypatch.setattr(cyclonedx, "validate", refuse)
    assert main(["sbom", str(real("psf__requests")), "-o", str(target)]) == 3
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["bom.json"]


def test_spec_version_outside_the_choices_is_a_usage_error(tmp_path: Path) -> None:
    assert (
        main(
            [
                "sbom",
                str(real("psf__requests")),
                "--spec-version",
                "1.2",
                "-o",
                str(tmp_path / "x.json"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.json").exists()
