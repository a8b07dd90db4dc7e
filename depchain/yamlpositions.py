"""Where values sit in a YAML text, for evidence and messages.

:func:`depchain.yamlsafe.load` gives the data without positions; :class:`YamlPositions`
finds the line (and the trailing comment) of a value by its path of keys and indexes,
:func:`where` writes that path as people read it (``jobs.build.steps[2].uses``) and
:func:`type_name` names what a value is when it is of the wrong type.
"""

from __future__ import annotations

import re
from typing import Any


def type_name(value: object, *, mapping: str = "a mapping", sequence: str = "a list") -> str:
    """``a mapping``, ``a list``, ``a string``, ...: for "is X, expected Y" messages
    (``mapping`` and ``sequence`` name those in the file's own terms: TOML says ``a
    table`` and ``an array``)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return mapping
    if isinstance(value, list):
        return sequence
    return type(value).__name__


def where(path: tuple[str | int, ...]) -> str:
    """``jobs.build.steps[2].uses``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


class YamlPositions:
    """Where values sit in a YAML text, found by their path of keys and indexes.

    Built from the same text :func:`depchain.yamlsafe.load` already accepted (so it is
    bounded); only the nodes along a path are visited.
    """

    def __init__(self, text: str) -> None:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.lines = text.splitlines()
        self._cache: dict[int, tuple[dict[str, tuple[Any, Any]], list[Any]]] = {}
        try:
            self._root: Any = yaml.compose(text, Loader=loader)  # a SafeLoader subclass
        except (yaml.YAMLError, RecursionError):
            self._root = None

    def _keys(self, node: Any) -> tuple[dict[str, tuple[Any, Any]], list[Any]]:
        """A mapping node's plain keys (the first of each) and its merged mappings."""
        cached = self._cache.get(id(node))
        if cached is None:
            keys: dict[str, tuple[Any, Any]] = {}
            merges: list[Any] = []
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merges.append(value_node)
                elif getattr(key_node, "id", None) == "scalar":
                    keys.setdefault(key_node.value, (key_node, value_node))
            cached = self._cache[id(node)] = (keys, merges)
        return cached

    def _lookup(self, node: Any, key: str | int, depth: int = 0) -> tuple[Any, Any] | None:
        if getattr(node, "id", None) != "mapping" or depth > 16:
            return None
        keys, merges = self._keys(node)
        found = keys.get(key if isinstance(key, str) else str(key))
        if found is not None:
            return found
        for merged in merges:
            for sub in merged.value if merged.id == "sequence" else [merged]:
                found = self._lookup(sub, key, depth + 1)
                if found is not None:
                    return found
        return None

    def find(self, path: tuple[str | int, ...]) -> tuple[Any, Any] | None:
        """(key node or None, value node) at ``path``."""
        node, key = self._root, None
        for step in path:
            if node is None:
                return None
            if isinstance(step, int) and getattr(node, "id", None) == "sequence":
                if not 0 <= step < len(node.value):
                    return None
                key, node = None, node.value[step]
            else:
                found = self._lookup(node, step)
                if found is None:
                    return None
                key, node = found
        return (key, node) if node is not None else None

    def line(self, path: tuple[str | int, ...]) -> int | None:
        """1-based line of the key at ``path`` (of the item, for a list index)."""
        found = self.find(path)
        if found is None:
            return None
        key, node = found
        return int((key or node).start_mark.line) + 1

    def at(self, path: tuple[str | int, ...]) -> str:
        """``path`` for a message: ``line 12: jobs.build.steps[2].uses`` (without the
        line when it is not found)."""
        line = self.line(path)
        return f"line {line}: {where(path)}" if line else where(path)

    def comment(self, path: tuple[str | int, ...]) -> str | None:
        """The comment that follows the value at ``path`` on its line."""
        found = self.find(path)
        if found is None:
            return None
        node = found[1]
        index = int(node.end_mark.line)
        if index >= len(self.lines):
            return None
        text = self.lines[index]
        tail = text[int(node.end_mark.column) :] if node.start_mark.line == index else text
        m = re.match(r"\s*#\s?(.*)$", tail) or re.search(r"\s#\s?(.*)$", text)
        return m.group(1).strip() if m else None
