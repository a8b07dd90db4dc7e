"""Declared licences as SPDX expressions: what is an identifier, what is a name, what
is unknown, and the order core metadata gives them weight (PEP 639)."""

from __future__ import annotations

import pytest

from depchain import licenses
from depchain.model import License


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIT", "MIT"),
        ("mit", "MIT"),
        ("apache-2.0 or mit", "Apache-2.0 OR MIT"),
        ("GPL-2.0+", "GPL-2.0-or-later"),  # a deprecated id, in its current form
        ("gpl-3.0", "GPL-3.0-only"),
        ("(MIT)", "MIT"),
        ("MIT AND (Apache-2.0 OR BSD-2-Clause)", "MIT AND (Apache-2.0 OR BSD-2-Clause)"),
        (
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        ("LicenseRef-Proprietary", "LicenseRef-Proprietary"),  # PEP 639 allows references
        ("MIT OR LicenseRef-Acme-1.0", "MIT OR LicenseRef-Acme-1.0"),
        ("BSD", None),  # which BSD?
        ("MIT License", None),  # a name, not an id (see from_name)
        ("MIT AND", None),
        ("MIT AND FooBar", None),
        ("", None),
        ("Permission is hereby granted...\nTHE SOFTWARE IS PROVIDED", None),
    ],
)
def test_normalize(text: str, expected: str | None) -> None:
    assert licenses.normalize(text) == expected


def test_the_fast_path_agrees_with_the_library() -> None:
    for spdx in licenses._COMMON:
        assert licenses._normalized(spdx) == spdx
    for text in ("Apache-2.0 OR BSD-3-Clause", "MIT AND Apache-2.0 AND Zlib", "MIT  OR  ISC"):
        assert licenses._simple(text) == licenses._normalized(text)
    for text in ("MIT OR Apache-2.0 AND ISC", "MIT or ISC", "GPL-2.0+ OR MIT", "MIT OR"):
        assert licenses._simple(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIT License", "MIT"),
        ("The MIT License (MIT)", "MIT"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("ISC License", "ISC"),
        ("new BSD  license", "BSD-3-Clause"),
        ("BSD", None),
        ("GPL", None),
        ("PSF", None),
        ("Apache", None),
        ("Public domain", None),
    ],
)
def test_names_that_stand_for_exactly_one_licence(text: str, expected: str | None) -> None:
    assert licenses.from_name(text) == expected


def test_license_expression_comes_first() -> None:
    found = licenses.declared(
        "Apache-2.0 OR BSD-2-Clause", "BSD", ["License :: OSI Approved :: MIT License"]
    )
    assert found == License(expression="Apache-2.0 OR BSD-2-Clause", source="License-Expression")


def test_then_the_license_field_when_it_is_an_identifier_or_a_known_name() -> None:
    assert licenses.declared(None, "MPL-2.0", []) == License(expression="MPL-2.0", source="License")
    classifier = ["License :: OSI Approved :: Apache Software License"]
    assert licenses.declared(None, "Apache 2.0", classifier) == License(
        expression="Apache-2.0", source="License"
    )


def test_then_the_classifiers() -> None:
    isc = ["License :: OSI Approved", "License :: OSI Approved :: ISC License (ISCL)"]
    assert licenses.declared(None, "UNKNOWN", isc) == License(expression="ISC", source="Classifier")
    # the field holds the licence's text: the classifier says which it is
    mit = ["License :: OSI Approved :: MIT License"]
    text = "Copyright (c) 2016 The Python Packaging Authority\n\nPermission is hereby granted"
    assert licenses.declared(None, text, mit) == License(expression="MIT", source="Classifier")


def test_what_names_no_single_licence_stays_a_name_never_a_guess() -> None:
    # Apache Software License: 1.0, 1.1 or 2.0; BSD License: which clauses
    apache = licenses.declared(None, None, ["License :: OSI Approved :: Apache Software License"])
    assert apache == License(names=("Apache Software License",), source="Classifier")
    bsd = licenses.declared(None, "BSD", ["License :: OSI Approved :: BSD License"])
    assert bsd == License(names=("BSD",), source="License")


def test_several_classifiers_are_never_joined() -> None:
    """PEP 639: several licence classifiers do not say whether all apply (AND) or one
    may be chosen (OR)."""
    found = licenses.declared(
        None,
        None,
        [
            "License :: OSI Approved :: MIT License",
            "License :: OSI Approved :: Apache Software License",
            "License :: OSI Approved :: GNU General Public License v3 (GPLv3)",
        ],
    )
    assert found == License(
        ids=("GPL-3.0-only", "MIT"), names=("Apache Software License",), source="Classifier"
    )
    assert found.expression is None and found.known


def test_unknown_says_why_and_nothing_is_nothing() -> None:
    text = "Apache License\n                        Version 2.0, January 2004\n..."
    found = licenses.declared(None, text, [])
    assert found is not None and not found.known
    assert found.unknown and "licence text" in found.unknown
    assert licenses.declared(None, None, []) is None
    assert licenses.declared(None, "UNKNOWN", []) is None


def test_an_invalid_expression_is_kept_as_written() -> None:
    found = licenses.declared("MIT-ish", None, [])
    assert found == License(names=("MIT-ish",), source="License-Expression")


def test_every_classifier_in_the_table_maps_to_an_spdx_id() -> None:
    for classifier, spdx in licenses.CLASSIFIERS.items():
        assert classifier.startswith("License :: ")
        assert licenses._normalized(spdx) == spdx, classifier
    for name, spdx in licenses.NAMES.items():
        assert name == name.lower() and licenses._normalized(spdx) == spdx, name


def test_licenses_text() -> None:
    assert licenses.licenses_text(None) == "unknown"
    assert licenses.licenses_text(License(expression="MIT")) == "MIT"
    assert licenses.licenses_text(License(ids=("MIT",), names=("BSD",))) == "MIT, BSD"
    assert licenses.licenses_text(License(unknown="a text")) == "unknown (a text)"
