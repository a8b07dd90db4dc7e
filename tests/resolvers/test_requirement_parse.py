"""The fast reading of ``name==version`` agrees with packaging's parser on every line it
takes, and leaves every other line to packaging."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement

from depchain.resolvers.base import _parse_requirement

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-world"

CASES = [
    "a==1",
    "A.b_c-d == 1.0.0",
    "pkg==1.0+local.1",
    "pkg==1!2.0rc1.post3.dev4",
    " pkg==1.0 ",
    "pkg==1.*",
    "pkg==1.0abc",
    "pkg==v1.0",
    "x==1.0.post",
    "-bad==1",
    "pkg-==1",
    "pkg[extra]==1.0",
    "pkg==1.0; python_version<'3.11'",
    "pkg===1.0",
    "pkg==1.0,!=1.0.1",
    "pkg @ https://files.example/pkg-1.0.whl",
    "pkg==1.0 ==2.0",
    "pkg==1.0.0.0.0.0.0",
    "pkg==1.0-1",
    "pkg ==1.0_rc1",
    "pkg==1.0RC1",
]


def _packaging(text: str) -> tuple[object, ...]:
    try:
        r = Requirement(text)
    except InvalidRequirement:
        return ("invalid",)
    return (
        r.name,
        r.url or None,
        str(r.specifier) or None,
        str(r.marker) if r.marker else None,
        tuple(sorted(r.extras)),
    )


def _ours(text: str) -> tuple[object, ...]:
    try:
        return _parse_requirement(text)
    except ValueError:
        return ("invalid",)


@pytest.mark.parametrize("text", CASES)
def test_same_reading_as_packaging(text: str) -> None:
    assert _ours(text) == _packaging(text)


def test_same_reading_on_real_requirements_files() -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (../shared/data holds the real-world files)")
    lines = {
        line.split("#")[0].split(" --hash")[0].strip().rstrip("\\").strip()
        for path in REAL.rglob("*requirements*.txt")
        for line in path.read_text(errors="replace").splitlines()
    }
    lines = {t for t in lines if t and not t.startswith("-")}
    assert len(lines) > 100
    for text in sorted(lines):
        assert _ours(text) == _packaging(text), text
