"""A Debian package's licence, from its machine-readable ``copyright`` file
(``/usr/share/doc/<package>/copyright``, format
https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/): the ``License``
of the paragraph whose ``Files`` is ``*`` (else of the header paragraph), as an SPDX
licence expression.

Debian's short names are mostly SPDX identifiers already; the others are written as
SPDX writes them (``GPL-2+`` is ``GPL-2.0-or-later``, ``Expat`` is ``MIT``), in SPDX's
own spelling (``BSD-3-clause`` is ``BSD-3-Clause``), and a name SPDX does not know
becomes a ``LicenseRef-`` (``public-domain`` is ``LicenseRef-public-domain``). A file
that is not in the machine-readable format (free text, as glibc's and GCC's are) says
nothing depchain can read: no licence. At most :data:`MAX_BYTES` of the file are read,
never through a link that leaves the root file system.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

MAX_BYTES = 1024 * 1024
MAX_EXPRESSION = 512
"""The longest expression kept (a longer ``License`` line is not read)."""

_GPL = re.compile(r"^(A|L)?GPL-?(\d)(?:\.(\d))?(\+)?$", re.IGNORECASE)
_GFDL = re.compile(r"^GFDL(-NIV)?-(\d)\.(\d)(\+)?$", re.IGNORECASE)
_DEBIAN_NAMES = {
    "expat": "MIT",
    "artistic": "Artistic-1.0",
    "artistic-1": "Artistic-1.0",
    "artistic-2": "Artistic-2.0",
    "apache-2": "Apache-2.0",
    "cc0": "CC0-1.0",
    "python": "Python-2.0",
    "zope": "ZPL-2.1",
    "gpl": "GPL-1.0-or-later",
    "lgpl": "LGPL-2.0-or-later",
    "agpl": "AGPL-3.0-only",
    "mpl-1.1+": "MPL-1.1+",
    "psf-2": "PSF-2.0",
}
_REF = re.compile(r"[^A-Za-z0-9.-]+")


@lru_cache(maxsize=1)
def spdx_ids() -> dict[str, str]:
    """SPDX licence identifiers by their lower-case form (the list cyclonedx-python-lib
    ships for its schema)."""
    try:
        from cyclonedx.schema._res import SPDX_JSON

        with open(SPDX_JSON, encoding="utf-8") as handle:
            ids = json.load(handle).get("enum", [])
    except (ImportError, OSError, ValueError):
        return {}
    return {str(i).lower(): str(i) for i in ids}


def spdx_id(name: str) -> str:
    """One Debian (or SPDX) licence short name as an SPDX identifier, or a
    ``LicenseRef-`` where SPDX has none."""
    text = name.strip()
    ids = spdx_ids()
    m = _GPL.match(text)  # before the list: it still holds the deprecated GPL-2.0, GPL-2.0+
    if m is not None:
        family = (m.group(1) or "").upper() + "GPL"
        major, minor = m.group(2), m.group(3) or "0"
        if family == "LGPL" and major == "2" and not m.group(3):
            minor = "0"
        ident = f"{family}-{major}.{minor}"
        if ident.lower() + "-only" in ids:
            return ident + ("-or-later" if m.group(4) else "-only")
    if text.lower() in ids:
        return ids[text.lower()]
    mapped = _DEBIAN_NAMES.get(text.lower())
    if mapped is not None:
        return mapped
    m = _GFDL.match(text)
    if m is not None:
        ident = f"GFDL-{m.group(2)}.{m.group(3)}" + ("-no-invariants" if m.group(1) else "")
        if ident.lower() + "-only" in ids:
            return ident + ("-or-later" if m.group(4) else "-only")
    if text.endswith("+") and text[:-1].lower() in ids:
        return ids[text[:-1].lower()] + "+"
    return "LicenseRef-" + (_REF.sub("-", text).strip("-") or "unknown")


def expression(text: str) -> str | None:
    """A Debian ``License`` line (``GPL-2+ or Artistic``, ``MIT and BSD-3-clause``,
    ``GPL-2+ or Artistic, and BSD-3-clause``, ``GPL-2+ with OpenSSL exception``) as an
    SPDX expression; None where it is empty or too long."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_EXPRESSION:
        return None
    chunks = re.split(r",\s*(and|or)\s+", text, flags=re.IGNORECASE)  # the comma binds last
    rendered: list[str] = []
    for i in range(0, len(chunks), 2):
        inner = _inner(chunks[i])
        if inner is None:
            return None
        if i > 0:
            rendered.append(chunks[i - 1].upper())
        grouped = len(chunks) > 1 and (" AND " in inner or " OR " in inner)
        rendered.append(f"({inner})" if grouped else inner)
    return " ".join(rendered)


def _inner(text: str) -> str | None:
    tokens = re.split(r"\s+(and|or)\s+", text.strip(), flags=re.IGNORECASE)
    out: list[str] = []
    for j, token in enumerate(tokens):
        if j % 2:
            out.append(token.upper())
            continue
        words = token.strip(" ,").split()
        if not words:
            return None
        out.append(_term(words))
    return " ".join(out)


def _term(words: list[str]) -> str:
    """``GPL-2+`` or ``GPL-2+ with OpenSSL exception``."""
    lowered = [w.lower() for w in words]
    if "with" in lowered:
        at = lowered.index("with")
        base = spdx_id(" ".join(words[:at])).removeprefix("LicenseRef-")
        rest = " ".join(words[at + 1 :])
        return "LicenseRef-" + _REF.sub("-", f"{base} with {rest}").strip("-")
    return spdx_id(" ".join(words))


def _paragraphs(text: str) -> list[dict[str, str]]:
    """The paragraphs of a deb822 file: each field's first line, by lower-case name."""
    out: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                out.append(fields)
                fields = {}
            continue
        if line[0] in " \t" or line.startswith("#"):
            continue  # a continuation line (a licence text, a list of files) or comment
        name, sep, value = line.partition(":")
        if sep and name and " " not in name:
            fields.setdefault(name.strip().lower(), value.strip())
    if fields:
        out.append(fields)
    return out


def copyright_license(root: Path, package: str) -> str | None:
    """The SPDX expression of ``package``'s licence in the root file system ``root``,
    from its machine-readable ``copyright`` file; None where there is no such file or
    it says no licence in that format."""
    name = package.split(":")[0]
    if not name or "/" in name or name.startswith("."):
        return None
    path = root / "usr/share/doc" / name / "copyright"
    try:
        real = os.path.realpath(path)
        if root != Path("/") and not real.startswith(os.path.realpath(root) + os.sep):
            return None  # a link out of the root file system: not this system's file
        with open(real, "rb") as handle:
            raw = handle.read(MAX_BYTES)
    except (OSError, ValueError):
        return None
    paragraphs = _paragraphs(raw.decode("utf-8", "replace"))
    if not paragraphs or "copyright-format" not in paragraphs[0].get("format", ""):
        return None
    found = next(
        (
            f["license"]
            for f in paragraphs[1:]
            if "*" in f.get("files", "").split() and f.get("license")
        ),
        paragraphs[0].get("license"),
    )
    written = expression(found) if found else None
    if written is None:
        return None
    from depchain.licenses import normalize

    return normalize(written) or written
