"""Well-known native libraries: how each is named (its files, the names SBOMs and
package managers give it), the CPE a vulnerability database files it under, and how
its release follows from its file name where it does.

A library is known here by a short key (``openssl``, ``zlib``); the key is the name of
its ``pkg:generic`` Package URL (``pkg:generic/openssl@3.2.1``), the identity
:mod:`depchain.native.identify` gives a native component whatever else names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Library:
    key: str
    """The ``pkg:generic`` name: lower case, as upstream spells its project."""
    name: str
    """How upstream writes it."""
    cpe: tuple[str, str] | None = None
    """(vendor, product) in the NVD's CPE dictionary."""
    stems: tuple[str, ...] = ()
    """File stems (``libssl.so.3`` → ``ssl``); ``stem.N`` where the soname's major
    version tells two projects apart (``com_err.3`` is krb5's, ``com_err.2``
    e2fsprogs')."""
    aliases: tuple[str, ...] = ()
    """Other names of the project (SBOM names, distribution packages), compared in
    :func:`squash` form."""
    file_versions: tuple[tuple[str, str], ...] = ()
    """(stem, rule): how the release follows from that file's version, where it does:
    ``same`` (``libzstd.so.1.5.7`` is zstd 1.5.7), ``png`` (``libpng16.so.16.58.0``
    is 1.6.58), ``lcms`` (``liblcms2.so.2.0.19`` is 2.19), ``major`` (``libpq.so.5.17``
    is PostgreSQL 17), ``arrow`` (``libarrow.so.2600`` is 26.0)."""
    family: str | None = None
    """Libraries that do the same job (``tls``): several in one process is a fact."""
    prefixes: tuple[str, ...] = ()
    """Stems that start with one of these are this library's too."""


GCC = ("gnu", "gcc")

LIBRARIES: tuple[Library, ...] = (
    Library(
        "openssl",
        "OpenSSL",
        ("openssl", "openssl"),
        ("ssl", "crypto"),
        ("openssl-libs", "libssl", "libssl3", "libcrypto", "libssl1.1", "libssl-dev"),
        family="tls",
    ),
    Library("boringssl", "BoringSSL", ("google", "boringssl"), family="tls"),
    Library("libressl", "LibreSSL", ("openbsd", "libressl"), ("tls",), family="tls"),
    Library("zlib", "zlib", ("zlib", "zlib"), ("z",), ("zlib1g",), (("z", "same"),)),
    Library("zlib-ng", "zlib-ng", ("zlib-ng", "zlib-ng"), ("z-ng",)),
    Library(
        "libxml2",
        "libxml2",
        ("xmlsoft", "libxml2"),
        ("xml2",),
        ("libxml2-2.9",),
        (("xml2", "same"),),
    ),
    Library(
        "libxslt",
        "libxslt",
        ("xmlsoft", "libxslt"),
        ("xslt", "exslt"),
        ("libxslt1.1",),
        (("xslt", "same"),),
    ),
    Library(
        "postgresql",
        "PostgreSQL (libpq)",
        ("postgresql", "postgresql"),
        ("pq",),
        ("libpq", "libpq5", "postgresql-libs", "postgresql"),
        (("pq", "major"),),
    ),
    Library(
        "openblas",
        "OpenBLAS",
        ("openblas_project", "openblas"),
        aliases=("scipy-openblas32", "scipy-openblas64", "libopenblas"),
        prefixes=("openblas", "scipy_openblas"),
    ),
    Library(
        "libgfortran",
        "libgfortran (GCC)",
        GCC,
        ("gfortran",),
        ("libgfortran5", "gcc-libgfortran", "gcc-gfortran"),
    ),
    Library("libquadmath", "libquadmath (GCC)", GCC, ("quadmath",), ("libquadmath0",)),
    Library("libgomp", "libgomp (GCC)", GCC, ("gomp",), ("libgomp1",)),
    Library("libstdc++", "libstdc++ (GCC)", GCC, ("stdc++",), ("libstdc++6",)),
    Library("libgcc", "libgcc_s (GCC)", GCC, ("gcc_s",), ("libgcc-s1", "libgcc1")),
    Library("libffi", "libffi", ("libffi_project", "libffi"), ("ffi",), ("libffi8",)),
    Library(
        "sqlite",
        "SQLite",
        ("sqlite", "sqlite"),
        ("sqlite3",),
        ("sqlite3", "libsqlite3-0", "sqlite-libs"),
    ),
    Library("curl", "curl (libcurl)", ("haxx", "libcurl"), ("curl",), ("libcurl", "libcurl4")),
    Library(
        "freetype",
        "FreeType",
        ("freetype", "freetype"),
        ("freetype",),
        ("freetype2", "libfreetype6"),
    ),
    Library(
        "libjpeg-turbo",
        "libjpeg-turbo",
        ("libjpeg-turbo", "libjpeg-turbo"),
        ("jpeg", "turbojpeg"),
        ("libjpeg", "libjpeg/libjpeg-turbo", "libjpeg62-turbo"),
    ),
    Library("libpng", "libpng", ("libpng", "libpng"), ("png", "png16"), (), (("png16", "png"),)),
    Library("libtiff", "libtiff", ("libtiff", "libtiff"), ("tiff", "tiffxx"), ("libtiff6",)),
    Library(
        "libwebp",
        "libwebp",
        ("webmproject", "libwebp"),
        ("webp", "webpdemux", "webpmux", "sharpyuv"),
        ("webp",),
    ),
    Library("harfbuzz", "HarfBuzz", ("harfbuzz_project", "harfbuzz"), ("harfbuzz",)),
    Library(
        "lcms2",
        "Little CMS",
        ("littlecms", "little_cms"),
        ("lcms2",),
        ("littlecms", "littlecms2", "little cms 2", "little cms"),
        (("lcms2", "lcms"),),
    ),
    Library(
        "openjpeg",
        "OpenJPEG",
        ("uclouvain", "openjpeg"),
        ("openjp2",),
        ("openjpeg2",),
        (("openjp2", "same"),),
    ),
    Library("libavif", "libavif", ("aomedia", "libavif"), ("avif",)),
    Library("libxcb", "libxcb", stems=("xcb",)),
    Library("libxau", "libXau", stems=("xau",)),
    Library(
        "xz",
        "XZ Utils (liblzma)",
        ("tukaani", "xz"),
        ("lzma",),
        ("xz-libs", "liblzma", "liblzma5", "xz-utils"),
        (("lzma", "same"),),
    ),
    Library(
        "zstd",
        "Zstandard",
        ("facebook", "zstandard"),
        ("zstd",),
        ("libzstd", "libzstd1", "zstandard"),
        (("zstd", "same"),),
    ),
    Library(
        "brotli",
        "Brotli",
        ("google", "brotli"),
        ("brotlicommon", "brotlidec", "brotlienc"),
        (),
        (("brotlicommon", "same"), ("brotlidec", "same"), ("brotlienc", "same")),
    ),
    Library(
        "krb5",
        "MIT Kerberos 5",
        ("mit", "kerberos_5"),
        ("krb5", "k5crypto", "gssapi_krb5", "krb5support", "gssrpc", "com_err.3"),
        ("krb5-libs", "libkrb5-3", "mit-krb5"),
    ),
    Library(
        "e2fsprogs",
        "e2fsprogs (com_err)",
        ("e2fsprogs_project", "e2fsprogs"),
        ("com_err.2",),
        ("libcom_err", "libcom-err2", "e2fsprogs-libs"),
    ),
    Library(
        "cyrus-sasl",
        "Cyrus SASL",
        ("cmu", "cyrus-sasl"),
        ("sasl2",),
        ("cyrus-sasl-lib", "libsasl2-2"),
    ),
    Library("openldap", "OpenLDAP", ("openldap", "openldap"), ("ldap", "lber", "ldap_r")),
    Library("pcre", "PCRE", ("pcre", "pcre"), ("pcre",), ("libpcre3",)),
    Library("pcre2", "PCRE2", ("pcre", "pcre2"), ("pcre2-8",), ("libpcre2-8-0",)),
    Library("libselinux", "libselinux", stems=("selinux",), aliases=("libselinux1",)),
    Library("keyutils", "keyutils", stems=("keyutils",), aliases=("keyutils-libs", "libkeyutils1")),
    Library("libxcrypt", "libxcrypt", stems=("crypt",), aliases=("libcrypt1",)),
    Library("libsodium", "libsodium", ("libsodium_project", "libsodium"), ("sodium",)),
    Library("zeromq", "ZeroMQ", ("zeromq", "libzmq"), ("zmq",), ("libzmq", "libzmq5")),
    Library(
        "geos", "GEOS", ("osgeo", "geos"), ("geos", "geos_c"), ("libgeos",), (("geos", "same"),)
    ),
    Library("hdf5", "HDF5", ("hdfgroup", "hdf5"), ("hdf5", "hdf5_hl")),
    Library("libaec", "libaec", stems=("aec", "sz")),
    Library(
        "glibc",
        "GNU C Library",
        ("gnu", "glibc"),
        (
            "c",
            "m",
            "pthread",
            "dl",
            "rt",
            "util",
            "resolv",
            "anl",
            "mvec",
            "ld-linux-x86-64",
            "ld-linux-aarch64",
            "ld-linux",
        ),
        ("libc6", "glibc", "libc"),
    ),
    Library(
        "arrow",
        "Apache Arrow",
        ("apache", "arrow"),
        ("parquet",),
        ("apache-arrow", "arrow-cpp", "pyarrow"),
        (("*", "arrow"),),
        prefixes=("arrow",),
    ),
)

BY_KEY = {lib.key: lib for lib in LIBRARIES}


def squash(name: str) -> str:
    """A name compared loosely: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9+]", "", name.lower())


@lru_cache(maxsize=1)
def _names() -> dict[str, Library]:
    out: dict[str, Library] = {}
    for lib in LIBRARIES:
        for name in (lib.key, lib.name, *lib.aliases):
            out.setdefault(squash(name), lib)
    return out


@lru_cache(maxsize=1)
def _stems() -> dict[str, Library]:
    return {stem: lib for lib in LIBRARIES for stem in lib.stems}


def by_name(name: str) -> Library | None:
    """The library a project or package name means (``FreeType``, ``krb5-libs``,
    ``libjpeg / libjpeg-turbo``), if it is a known one."""
    return _names().get(squash(name))


_HASHED = re.compile(r"-[0-9a-f]{8}(?=-|\.|$)")
_FILE = re.compile(r"^(?:lib)?(?P<stem>.+?)\.(?:so|dylib)(?:\.(?P<version>[0-9][0-9.]*))?$")


def file_parts(file_name: str) -> tuple[str, str | None]:
    """(stem, version) of a shared library's file name, auditwheel's hashes left out:
    ``libgfortran-040039e1-0352e75f.so.5.0.0`` → (``gfortran``, ``5.0.0``);
    ``libscipy_openblas64_-32a4b2a6.so`` → (``scipy_openblas64_``, None)."""
    name = _HASHED.sub("", file_name)
    m = _FILE.match(name)
    if m is None:
        return name, None
    version = (m.group("version") or "").strip(".") or None
    return m.group("stem"), version


def original_names(file_name: str) -> list[str]:
    """The names a library bundled by auditwheel had where it was copied from
    (``libXau-154567c4.so.6.0.0`` was ``libXau.so.6.0.0``; a library bundled twice,
    ``libgfortran-040039e1-0352e75f.so.5.0.0``, was ``libgfortran-040039e1.so.5.0.0``)."""
    hashes = list(_HASHED.finditer(file_name))
    if not hashes:
        return []
    last = hashes[-1]
    names = [file_name[: last.start()] + file_name[last.end() :]]
    everything = _HASHED.sub("", file_name)
    if everything not in names:
        names.append(everything)
    return names


def by_file(file_name: str, soname: str | None = None) -> Library | None:
    """The library a file is (``libcrypto-3a0647ea.so.3`` is OpenSSL's), by its stem
    and, where two projects share a stem, its soname's major version."""
    stem, version = file_parts(file_name)
    major = None
    if soname:
        _, so_version = file_parts(soname)
        major = so_version.split(".")[0] if so_version else None
    elif version:
        major = version.split(".")[0]
    stems = _stems()
    lower = stem.lower()
    found = stems.get(f"{lower}.{major}") if major else None
    if found is None:
        found = stems.get(lower)
    if found is None:
        found = next((lib for lib in LIBRARIES for p in lib.prefixes if lower.startswith(p)), None)
    return found


def release_from_file(lib: Library, file_name: str) -> str | None:
    """The release a file's version says, where this library's files say it."""
    stem, version = file_parts(file_name)
    rules = dict(lib.file_versions)
    rule = rules.get(stem.lower(), rules.get("*"))
    if rule is None or version is None:
        return None
    parts = version.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    if rule == "same" and len(parts) >= 2:
        return version
    if rule == "png" and len(parts) >= 2 and len(parts[0]) == 2:
        return f"{parts[0][0]}.{parts[0][1]}.{parts[1]}"
    if rule == "lcms" and len(parts) == 3 and parts[1] == "0":
        return f"{parts[0]}.{parts[2]}"
    if rule == "major" and len(parts) == 2 and int(parts[1]) >= 10:
        return parts[1]
    if rule == "arrow" and len(parts) == 1 and len(parts[0]) >= 3:
        return f"{int(parts[0]) // 100}.{int(parts[0]) % 100}"
    return None


_CPE_SPECIAL = re.compile(r"([^A-Za-z0-9._-])")


def cpe(lib: Library, version: str | None) -> str | None:
    """The CPE 2.3 name of ``version`` of ``lib`` (None without a version or a CPE)."""
    if lib.cpe is None or not version:
        return None
    vendor, product = lib.cpe
    escaped = _CPE_SPECIAL.sub(r"\\\1", version)
    return f"cpe:2.3:a:{vendor}:{product}:{escaped}:*:*:*:*:*:*:*"
