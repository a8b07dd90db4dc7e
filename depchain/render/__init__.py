"""Renderers for people: each turns a scan result into text."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (but the newline), and the Unicode line separators and
bidirectional overrides: what could move a terminal's cursor, recolour it, hide a link
or reorder a line. Names, messages and reasons come from files and indexes nobody
here wrote."""


def printable(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)
