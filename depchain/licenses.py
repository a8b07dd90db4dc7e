"""Declared licences as SPDX expressions, read from what a distribution says of itself.

The one place that turns a declaration into a :class:`~depchain.model.License`, in the
order core metadata gives them weight (PEP 639):

1. ``License-Expression`` (PEP 639), or pyproject's ``license = "..."`` string: an SPDX
   expression by definition, normalised (case, deprecated ids such as ``GPL-2.0+``);
2. else the ``License`` field, when its text is an SPDX id or expression, or one of a
   few names that stand for exactly one SPDX licence (``MIT License``, ``Apache 2.0``,
   :data:`NAMES`). A whole licence text, or a name that could be several licences
   (``BSD``, ``GPL``), is no identifier: it is kept as a name only when short;
3. else the trove classifiers ``License :: ...`` (:data:`CLASSIFIERS`): a classifier
   that names one licence maps to its SPDX id; one that does not say which version or
   variant (``Apache Software License``, ``BSD License``) is kept as a name. PEP 639:
   several licence classifiers do not say whether all apply or one may be chosen, so
   several ids are never joined into an expression.

Nothing here guesses: what cannot be read as SPDX is kept as declared (a named licence)
or reported unknown with the reason. Each id of an expression must be on the SPDX
licence list (deprecated ids included, as cyclonedx-python-lib ships it with the
CycloneDX schemas, so that what is written validates); the expression is then parsed
and normalised with the ``license-expression`` library. ``LicenseRef-`` and
``DocumentRef-`` references (PEP 639 allows them) are kept as written. The common
single ids are recognised without loading the library, which costs about 60 ms on
first use (the pre-commit hook reads pyproject.toml).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from depchain.model import License

MAX_NAME = 64
"""A ``License`` field longer than this (or on several lines) is a licence text, not
a name."""

PLACEHOLDERS = frozenset({"", "unknown", "none", "n/a", "na", "-", "license", "see license"})
"""``License`` values that declare nothing (setuptools wrote ``UNKNOWN`` for years)."""

_COMMON = frozenset(
    {
        "0BSD",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Apache-2.0",
        "Artistic-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "BSL-1.0",
        "CC0-1.0",
        "EPL-2.0",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "HPND",
        "ISC",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "MIT",
        "MIT-0",
        "MPL-2.0",
        "PSF-2.0",
        "Python-2.0",
        "Unlicense",
        "Zlib",
    }
)
"""SPDX ids written exactly so are their own normal form: no library needed."""

NAMES = {
    "mit license": "MIT",
    "the mit license": "MIT",
    "the mit license (mit)": "MIT",
    "mit license (mit)": "MIT",
    "expat": "MIT",
    "apache 2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "apache software license, version 2.0": "Apache-2.0",
    "isc license": "ISC",
    "isc license (iscl)": "ISC",
    "bsd 3-clause": "BSD-3-Clause",
    "bsd 3-clause license": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "3-clause bsd license": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd license": "BSD-3-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "bsd 2-clause license": "BSD-2-Clause",
    "2-clause bsd": "BSD-2-Clause",
    "2-clause bsd license": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause",
    "simplified bsd license": "BSD-2-Clause",
    "mpl 2.0": "MPL-2.0",
    "mpl-2": "MPL-2.0",
    "mozilla public license 2.0": "MPL-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "the unlicense": "Unlicense",
    "unlicense": "Unlicense",
    "python software foundation license 2.0": "PSF-2.0",
    "boost software license 1.0": "BSL-1.0",
    "zlib license": "Zlib",
    "zlib/libpng license": "Zlib",
    "cc0 1.0 universal": "CC0-1.0",
    "creative commons zero v1.0 universal": "CC0-1.0",
}
"""``License`` field texts (compared without case, blanks squeezed) that name exactly
one SPDX licence: the SPDX list's own full names, and the short forms of them authors
write. Names that fit several licences (``BSD``, ``GPL``, ``LGPL``, ``PSF``, ``Apache``)
are not here: they stay names."""

CLASSIFIERS = {
    # not OSI approved
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: CeCILL-B Free Software License Agreement (CECILL-B)": "CECILL-B",
    "License :: CeCILL-C Free Software License Agreement (CECILL-C)": "CECILL-C",
    "License :: Aladdin Free Public License (AFPL)": "Aladdin",
    "License :: Nokia Open Source License (NOKOS)": "Nokia",
    # OSI approved, one licence each
    "License :: OSI Approved :: Attribution Assurance License": "AAL",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: CEA CNRS Inria Logiciel Libre License, version 2.1 (CeCILL-2.1)": (
        "CECILL-2.1"
    ),
    "License :: OSI Approved :: Common Development and Distribution License 1.0 (CDDL-1.0)": (
        "CDDL-1.0"
    ),
    "License :: OSI Approved :: Common Public License": "CPL-1.0",
    "License :: OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: European Union Public Licence 1.0 (EUPL 1.0)": "EUPL-1.0",
    "License :: OSI Approved :: European Union Public Licence 1.1 (EUPL 1.1)": "EUPL-1.1",
    "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": (
        "AGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": (
        "GPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": (
        "GPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": (
        "LGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: IBM Public License": "IPL-1.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Intel Open Source License": "Intel",
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: MirOS License (MirOS)": "MirOS",
    "License :: OSI Approved :: Motosoto License": "Motosoto",
    "License :: OSI Approved :: Mozilla Public License 1.0 (MPL)": "MPL-1.0",
    "License :: OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Mulan Permissive Software License v2 (MulanPSL-2.0)": (
        "MulanPSL-2.0"
    ),
    "License :: OSI Approved :: Nethack General Public License": "NGPL",
    "License :: OSI Approved :: Nokia Open Source License": "Nokia",
    "License :: OSI Approved :: Open Group Test Suite License": "OGTSL",
    "License :: OSI Approved :: Open Software License 3.0 (OSL-3.0)": "OSL-3.0",
    "License :: OSI Approved :: PostgreSQL License": "PostgreSQL",
    "License :: OSI Approved :: Python License (CNRI Python License)": "CNRI-Python",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: Qt Public License (QPL)": "QPL-1.0",
    "License :: OSI Approved :: Ricoh Source Code Public License": "RSCPL",
    "License :: OSI Approved :: Sleepycat License": "Sleepycat",
    "License :: OSI Approved :: Sun Industry Standards Source License (SISSL)": "SISSL",
    "License :: OSI Approved :: Sun Public License": "SPL-1.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: University of Illinois/NCSA Open Source License": "NCSA",
    "License :: OSI Approved :: Vovida Software License 1.0": "VSL-1.0",
    "License :: OSI Approved :: W3C License": "W3C",
    "License :: OSI Approved :: X.Net License": "Xnet",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
}
"""Trove licence classifiers that name exactly one SPDX licence (after PEP 639's
"Mapping License Classifiers to SPDX Identifiers"). The others name a family
(``Apache Software License``: 1.0, 1.1 or 2.0; ``BSD License``: which clauses; ``GNU
Lesser General Public License v2 (LGPLv2)``: 2.0 or 2.1), or nothing SPDX has
(``Public Domain``, ``Other/Proprietary License``): they are kept as names. The Python
Software Foundation License classifier is PSF-2.0, the licence of the PSF's own
projects; Python-2.0 is CPython's licence stack."""

_CLASSIFIER_PREFIX = "License :: "
_UMBRELLAS = frozenset({"License :: OSI Approved", "License :: DFSG approved"})
"""Classifiers that say a licence is approved, not which."""
_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")
_TOKEN = re.compile(r"[()]|[^\s()]+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str | None:
    """``text`` as an SPDX licence expression in normal form (canonical ids, deprecated
    ids replaced: ``gpl-2.0+`` → ``GPL-2.0-or-later``), or None when it is not one
    (an unknown id, a licence name, a licence text, a broken expression)."""
    text = text.strip()
    if text in _COMMON:
        return text
    if not text or len(text) > 1000 or "\n" in text:
        return None
    return _simple(text) or _normalized(text)


def _simple(text: str) -> str | None:
    """``A OR B`` / ``A AND B AND C`` of common ids as SPDX writes them: its own normal
    form (one operator, so no precedence to make explicit; no deprecated id)."""
    words = text.split()
    ids, operators = words[::2], set(words[1::2])
    if len(words) % 2 == 0 or len(operators) != 1 or not operators <= {"AND", "OR"}:
        return None
    return " ".join(words) if all(i in _COMMON for i in ids) else None


@lru_cache(maxsize=1024)
def _normalized(text: str) -> str | None:
    ids = _spdx_ids()
    refs = False
    for token in _TOKEN.findall(text):
        low = token.lower()
        if token in "()" or low in {"and", "or", "with"}:
            continue
        if low in ids or (low.endswith("+") and low[:-1] in ids):
            continue
        if _REF.match(token):
            refs = True
            continue
        return None  # not an SPDX id: a name, a word of a text (the library would guess)
    if refs:  # references are SPDX, and the library does not know them: as written
        return _SPACES.sub(" ", text)
    try:
        info = _licensing().validate(text, strict=False)
    except Exception:  # the library raises several kinds on what it cannot parse
        return None
    if info.errors or info.invalid_symbols or not info.normalized_expression:
        return None
    return str(info.normalized_expression)


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing  # type: ignore[import-untyped]

    return get_spdx_licensing()


@lru_cache(maxsize=1)
def _spdx_ids() -> frozenset[str]:
    """The SPDX licence list's ids and exception ids, deprecated ones included
    (``GPL-2.0+``), in lower case: the list cyclonedx-python-lib ships with the
    CycloneDX schemas. The license-expression library also knows aliases that are no
    SPDX ids (``GPL``, ``LicenseRef-Apache``) and would turn them into one: a token is
    taken only when SPDX has it. Without that file, the library's own ids."""
    import json
    from importlib import resources

    try:
        schema = resources.files("cyclonedx.schema._res") / "spdx.SNAPSHOT.schema.json"
        return frozenset(str(i).lower() for i in json.loads(schema.read_text("utf-8"))["enum"])
    except (OSError, ValueError, KeyError, ModuleNotFoundError, TypeError):
        return frozenset(str(k).lower() for k in _licensing().known_symbols)


def from_name(text: str) -> str | None:
    """The SPDX expression a ``License`` field's text is, or names unambiguously."""
    text = _SPACES.sub(" ", text.strip())
    return NAMES.get(text.lower().rstrip(".")) or normalize(text)


def is_placeholder(text: str | None) -> bool:
    if text is None:
        return True
    return len(text) <= 32 and _SPACES.sub(" ", text.strip()).lower() in PLACEHOLDERS


def is_name(text: str) -> bool:
    """Short enough, and on one line, to be a licence's name rather than its text."""
    text = text.strip()
    return 0 < len(text) <= MAX_NAME and "\n" not in text


def classifier_license(classifier: str) -> str | None:
    """The SPDX id a trove classifier names, or None (not a licence classifier, or one
    that names no single licence)."""
    return CLASSIFIERS.get(_SPACES.sub(" ", classifier.strip()))


def declared(
    expression: str | None = None,
    text: str | None = None,
    classifiers: Iterable[str] = (),
    *,
    origin: str = "",
) -> License | None:
    """The licence a distribution declares, from its ``License-Expression``, its
    ``License`` field and its classifiers, in that order (see the module's text).

    ``origin`` prefixes the source (``index:`` for the package index's copy of the
    same fields). None: nothing was declared at all."""
    if expression is not None and expression.strip():
        normal = normalize(expression)
        if normal is not None:
            return License(expression=normal, source=f"{origin}License-Expression")
        # an invalid expression is still what its authors wrote: a name when short
        if is_name(expression):
            return License(names=(expression.strip(),), source=f"{origin}License-Expression")
    named = None
    if text is not None and not is_placeholder(text):
        found = from_name(text) if is_name(text) else None
        if found is not None:
            return License(expression=found, source=f"{origin}License")
        if is_name(text):
            named = _SPACES.sub(" ", text.strip())
    from_classifiers = classifier_licenses(classifiers, origin=origin)
    if from_classifiers is not None and (from_classifiers.expression or named is None):
        return from_classifiers
    if named is not None:
        return License(names=(named,), source=f"{origin}License")
    if text is not None and not is_placeholder(text):
        return License(
            source=f"{origin}License",
            unknown="the License field holds a licence text, not an SPDX identifier or name",
        )
    return from_classifiers


def classifier_licenses(classifiers: Iterable[str], *, origin: str = "") -> License | None:
    """What the trove licence classifiers say: one SPDX id as the expression; several,
    or names for those that map to none, as ids and names (never joined: PEP 639)."""
    ids: list[str] = []
    names: list[str] = []
    for classifier in classifiers:
        classifier = _SPACES.sub(" ", classifier.strip())
        if not classifier.startswith(_CLASSIFIER_PREFIX) or classifier in _UMBRELLAS:
            continue
        spdx = classifier_license(classifier)
        if spdx is not None:
            ids.append(spdx)
        else:
            names.append(classifier.rsplit(" :: ", 1)[-1])
    ids, names = list(dict.fromkeys(ids)), list(dict.fromkeys(names))
    if not ids and not names:
        return None
    source = f"{origin}Classifier"
    if len(ids) == 1 and not names:
        return License(expression=ids[0], source=source)
    return License(ids=tuple(sorted(ids)), names=tuple(sorted(names)), source=source)


def licenses_text(license: License | None) -> str:
    """One line for a report: the expression, the ids and names, or ``unknown``."""
    if license is None:
        return "unknown"
    if license.expression:
        return license.expression
    if license.ids or license.names:
        return ", ".join((*license.ids, *license.names))
    return f"unknown ({license.unknown})" if license.unknown else "unknown"
