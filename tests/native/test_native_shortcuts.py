"""The shortcuts the environment scan takes for speed give exactly what the plain way
gives: METADATA headers parsed from the part before the first blank line, RECORD hashes
decoded only when asked for, marker answers shared between extras, the substring test
before the path expressions. Checked on every distribution installed here (and the
benchmark environment where there is one), and on hand-made edge cases."""

from __future__ import annotations

import base64
import sysconfig
from email.parser import BytesParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from depchain.model import Hash
from depchain.native import analysis
from depchain.native.distribution import (
    _KEPT,
    FolderSource,
    RecordEntry,
    _head,
    _parse_record,
    _requires_lines,
    headers_of,
    read_distribution,
)
from depchain.native.requires import MarkerCheck, _extra_names, applies, parse_requires

SITES = [
    p
    for p in (
        Path(sysconfig.get_paths()["purelib"]),
        *Path("/work/bench-env").glob("lib/python*/site-packages"),
    )
    if p.is_dir()
]
MARKERS = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
}


def _metadata_files() -> list[Path]:
    return [p for site in SITES for p in sorted(site.glob("*.dist-info/METADATA"))]


def _old_requires_lines(raw: bytes) -> dict[str, int]:
    """environment._requires_lines as it was: the whole file, line by line."""
    lines: dict[str, int] = {}
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line:
            break
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "requires-dist":
            lines.setdefault(value.strip(), number)
    return lines


def _headers(raw: bytes) -> list[tuple[str, str]]:
    message = BytesParser().parsebytes(raw, headersonly=True)
    return [(k, str(v)) for k, v in message.items()]


EDGE_CASES = [
    b"Name: a\nVersion: 1\n\nbody\n\nRequires-Dist: no\n",
    b"Name: a\r\nVersion: 1\r\nRequires-Dist: x\r\n\r\nbody\n\nmore\n",
    b"Name: a\nVersion: 1\nRequires-Dist: x\n",  # no body, no blank line
    b"\n\nName: a\n",  # a blank line first
    b"Name: a\nSummary: one\n  two\n\tthree\nRequires-Dist: y\n\n",  # folded header
    b"Name: a\nSummary: \x0cform feed\nRequires-Dist: z\n\n",
    b"Name: a\nSummary: caf\xc3\xa9 \xff\nRequires-Dist: w\n\n",
    b"Name: a\nnot a header line\nRequires-Dist: v\n\n",
    b"Name: a\rVersion: 1\r\rRequires-Dist: no\n\nx",
    b"Name: a\nRequires-Dist: u\n\n\n",
    b"",
]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_headers_before_the_first_blank_line_are_the_headers(raw: bytes) -> None:
    assert _headers(_head(raw)) == _headers(raw)
    assert dict(_requires_lines(_head(raw))) == _old_requires_lines(raw)


def test_every_installed_metadata_reads_the_same_from_its_head() -> None:
    files = _metadata_files()
    assert files
    for path in files:
        raw = path.read_bytes()
        assert _headers(_head(raw)) == _headers(raw), path
        assert dict(_requires_lines(_head(raw))) == _old_requires_lines(raw), path


def _old_hash(digest: str) -> Hash | None:
    if "=" not in digest:
        return None
    algorithm, _, value = digest.partition("=")
    try:
        padded = value + "=" * (-len(value) % 4)
        return Hash(algorithm.lower(), base64.urlsafe_b64decode(padded).hex())
    except (ValueError, TypeError):
        return None


@pytest.mark.parametrize(
    "row",
    [
        "a,sha256=AAAA,1",
        "a,sha256=AAA,1",
        "a,SHA256=_-8,1",
        "a,sha256=,0",
        "a,=,",
        "a,sha256=not*base64,2",
        "a,sha256=caf\u00e9,3",
        "a,,",
        "a",
        "a,sha256=AAAA,\u00b2",
        "a,sha256=AAAA,12345678901234567890",
    ],
)
def test_a_record_hash_decoded_late_is_the_one_decoded_early(row: str) -> None:
    (entry,) = _parse_record(row + "\n")
    fields = row.split(",")
    digest = fields[1] if len(fields) > 1 else ""
    assert entry.hash == _old_hash(digest)
    size = fields[2] if len(fields) > 2 else ""
    assert entry.size == (
        int(size) if size.isascii() and size.isdigit() and len(size) < 20 else None
    )


def test_every_installed_record_reads_the_same() -> None:
    for site in SITES:
        source = FolderSource(site, "site")
        for info in source.dist_infos():
            dist = read_distribution(source, info)
            for entry in dist.record:
                assert isinstance(entry, RecordEntry)
                assert entry.hash == _old_hash(entry.digest)
            raw = (site / info / "METADATA").read_bytes()
            assert dict(dist.requires_lines) == _old_requires_lines(raw)
            # the fields as the whole file parsed with get and get_all gives them
            message = BytesParser().parsebytes(raw, headersonly=True)
            assert (dist.name, dist.version) == (message.get("Name"), message.get("Version"))
            assert dist.requires == tuple(str(r) for r in message.get_all("Requires-Dist") or ())
            assert dist.extras == tuple(str(e) for e in message.get_all("Provides-Extra") or ())
            kept = tuple((k, str(v)) for k in _KEPT for v in (message.get_all(k) or ()) if v)
            assert dist.metadata == kept


ODD_MARKERS = [
    'extra == "x" or extra != "y"',
    '"t" in extra',
    'extra in "xy"',
    'extra == "X_y" and python_version >= "3"',
    '(extra == "q")',
    'platform_system == "extra"',
    'extra != "a" and (extra == "b" or sys_platform == "win32")',
    '"b" == extra',
    'python_version < "3"',
    'extra < "m"',
    "extra == 'no such'",
]
EXTRAS = ["", "x", "y", "x-y", "X_Y", "t", "q", "a", "b", "z", "xy", "no-such", "m"]


@pytest.mark.parametrize("marker", ODD_MARKERS)
def test_a_marker_answer_shared_between_extras_is_its_own(marker: str) -> None:
    req = Requirement(f"pkg; {marker}")
    check = MarkerCheck(MARKERS)
    for extra in EXTRAS + EXTRAS[::-1]:  # in both orders: the shared answer comes first
        assert check(req, extra) == applies(req, MARKERS, extra), (marker, extra)


def test_markers_that_test_extra_otherwise_are_not_shared() -> None:
    assert _extra_names(Requirement('p; "t" in extra').marker._markers) is None  # type: ignore[union-attr]
    assert _extra_names(Requirement('p; extra in "xy"').marker._markers) is None  # type: ignore[union-attr]
    assert _extra_names(Requirement('p; extra == "A_b"').marker._markers) == {"a-b"}  # type: ignore[union-attr]
    assert _extra_names(["not", "a", "marker"]) is None


def test_every_installed_requirement_answers_the_same_for_every_extra() -> None:
    check = MarkerCheck(MARKERS)
    for site in SITES:
        source = FolderSource(site, "site")
        for info in source.dist_infos():
            dist = read_distribution(source, info)
            extras = ["", *dist.extras, "not-an-extra"]
            for _, req in parse_requires(dist)[0]:
                for extra in extras:
                    assert check(req, extra) == applies(req, MARKERS, extra), (req, extra)


PATHS = [
    "a/b.so",
    "a/b.so.1.2",
    "a/b.so.x",
    "a/b.sox",
    "a/b.pyd",
    "a/b.dylib",
    "a/b.dylib.bak",
    "../../bin/tool",
    "bin/tool",
    "x/bin/",
    "binx/tool",
    "a-1.0.data/scripts/run",
    "a/scripts/run",
    "a.libs/libz-12345678.so.1",
    "a.libs/sub/libz.so",
    "b/a.libs/libz.so",
    "a.libs/readme.txt",
    "a/b.py",
]


def _old_candidate(path: str) -> bool:
    return bool(analysis._SHARED.search(path) or analysis._SCRIPTS.search(path))


def _old_in_libs(path: str) -> bool:
    import posixpath

    parent = posixpath.dirname(path)
    return parent.endswith(".libs") and "/" not in parent and bool(analysis._SHARED.search(path))


def test_the_substring_tests_before_the_path_expressions_change_nothing() -> None:
    paths = list(PATHS)
    for site in SITES:
        source = FolderSource(site, "site")
        for info in source.dist_infos():
            paths += read_distribution(source, info).files()
    for path in paths:
        assert analysis.is_binary_candidate(path) == _old_candidate(path), path
        assert analysis._in_libs_folder(path) == _old_in_libs(path), path


def _email_items(raw: bytes) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in BytesParser().parsebytes(raw, headersonly=True).items()]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_headers_read_here_are_the_email_packages(raw: bytes) -> None:
    assert [(k, str(v)) for k, v in headers_of(raw)] == _email_items(raw)
    assert [(k, str(v)) for k, v in headers_of(_head(raw))] == _email_items(raw)


def test_every_installed_metadata_and_wheel_file_reads_as_the_email_package_reads_it() -> None:
    files = [p for site in SITES for p in sorted(site.glob("*.dist-info/*")) if p.is_file()]
    files = [p for p in files if p.name in {"METADATA", "WHEEL", "PKG-INFO"}]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert [(k, str(v)) for k, v in headers_of(_head(raw))] == _email_items(raw), path


def test_headers_of_random_files_are_the_email_packages() -> None:
    import random

    pieces = [
        b"Name: a",
        b"Version: 1.0",
        b"Requires-Dist: b; extra == 'x'",
        b"Summary:",
        b"Summary:   spaced  \t",
        b"  folded",
        b"\tfolded",
        b" ",
        b"",
        b"From someone",
        b"From: header",
        b":no name",
        b"Name : spaced name",
        b"not a header",
        b"X-\x7e~:v",
        b"caf\xc3\xa9: v",
        b"K: caf\xc3\xa9",
        b"K: \x0cff",
        b"K:v\r",
        b"K::v",
    ]
    rng = random.Random(20261201)
    for _ in range(4000):
        lines = [rng.choice(pieces) for _ in range(rng.randint(0, 7))]
        raw = b"\n".join(lines) + rng.choice([b"", b"\n", b"\n\nbody\n", b"\r\n"])
        assert [(k, str(v)) for k, v in headers_of(raw)] == _email_items(raw), raw
        assert [(k, str(v)) for k, v in headers_of(_head(raw))] == _email_items(raw), raw
