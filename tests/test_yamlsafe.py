from __future__ import annotations

import pytest

from depchain.errors import InputFileError
from depchain.yamlsafe import load, load_all

LAUGHS = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(
        f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(InputFileError, match="aliases expand to more than"):
        load(LAUGHS, "bomb.yml")


def test_too_deep() -> None:
    with pytest.raises(InputFileError, match="nested deeper than 200"):
        load("x: " + "[" * 300 + "]" * 300, "deep.yml")


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(InputFileError) as caught:
        load("services:\n  db:\n    image: a\n  db:\n    image: b\n", "compose.yml")
    assert str(caught.value) == "compose.yml: invalid YAML: duplicate key 'db' (lines 2 and 4)"


def test_merge_keys_anchors_and_several_documents() -> None:
    doc = load("base: &b {image: x, ports: [1]}\nsvc:\n  <<: *b\n  image: y\n", "c.yml")
    assert doc["svc"] == {"image": "y", "ports": [1]}
    assert [d["kind"] for d in load_all("kind: A\n---\nkind: B\n", "k.yml")] == ["A", "B"]
    with pytest.raises(InputFileError, match="2 documents"):
        load("a: 1\n---\nb: 2\n", "one.yml")


def test_safe_loader_builds_no_objects() -> None:
    with pytest.raises(InputFileError, match="invalid YAML"):
        load("x: !!python/object/apply:os.system ['true']\n", "evil.yml")
