"""Which operating-system package owns a file, read from the package databases as
files, never by running a package manager:

- Debian's dpkg database (``/var/lib/dpkg/info/*.list`` and ``status``);
- RPM's SQLite database (``rpmdb.sqlite``, RPM 4.16 and later: Fedora, RHEL and its
  rebuilds 9+, openSUSE), its package headers parsed here. The older Berkeley DB and
  ndb formats are recognised and reported as not read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class OsPackage:
    name: str
    version: str
    """dpkg: the version as dpkg has it; RPM: ``version-release``."""
    architecture: str
    maintainer: str | None
    """dpkg's Maintainer; RPM's Packager (or Vendor)."""
    distro: str
    """The purl namespace: ``debian``, ``ubuntu``, ``fedora``... (os-release ID)."""
    source: str | None = None
    ptype: str = "deb"
    epoch: str | None = None
    license: str | None = None
    """The package's licence as an SPDX expression, where its Debian ``copyright`` file
    declares one in the machine-readable format (see :mod:`depchain.native.debian`)."""

    @property
    def purl(self) -> str:
        from depchain.ids import purl

        qualifiers: tuple[tuple[str, str], ...] = (
            (("arch", self.architecture),) if self.architecture else ()
        )
        if self.epoch:
            qualifiers = (*qualifiers, ("epoch", self.epoch))
        return purl(
            self.ptype, self.name, self.version, namespace=self.distro, qualifiers=qualifiers
        )


@dataclass
class DpkgDatabase:
    """dpkg's view of one root file system. Missing database: ``available`` is False and
    ``problem`` says why; every lookup then answers None (owner unknown)."""

    root: Path = Path("/")
    _owners: dict[str, str] | None = field(default=None, repr=False)
    _packages: dict[str, OsPackage] | None = field(default=None, repr=False)
    _licensed: dict[OsPackage, OsPackage] = field(default_factory=dict, repr=False)
    problem: str | None = None

    @property
    def info_dir(self) -> Path:
        return self.root / "var/lib/dpkg/info"

    @property
    def available(self) -> bool:
        self._load()
        return self.problem is None

    def _load(self) -> None:
        if self._owners is not None:
            return
        self._owners, self._packages = {}, {}
        status = self.root / "var/lib/dpkg/status"
        if not status.is_file() or not self.info_dir.is_dir():
            self.problem = f"no dpkg database at {status}"
            return
        try:
            self._packages = _parse_status(status.read_text("utf-8", "replace"), _distro(self.root))
            for entry in os.scandir(self.info_dir):
                if not entry.name.endswith(".list"):
                    continue
                package = entry.name[: -len(".list")]
                with open(entry.path, encoding="utf-8", errors="replace") as handle:
                    for line in handle:
                        self._owners.setdefault(line.rstrip("\n"), package)
        except OSError as exc:
            self.problem = f"cannot read the dpkg database: {exc.strerror or exc}"

    def owner(self, path: Path | str) -> OsPackage | None:
        """The package whose file list holds ``path`` (or the same file under the
        merged-/usr spelling, or its resolved target), or None."""
        self._load()
        assert self._owners is not None and self._packages is not None
        for candidate in _spellings(str(path), self.root):
            name = self._owners.get(candidate)
            if name is not None:
                package = self._packages.get(name) or self._packages.get(name.split(":")[0])
                if package is not None:
                    return self._with_license(package)
        return None

    def _with_license(self, package: OsPackage) -> OsPackage:
        """The package with the licence its ``copyright`` file declares (read once)."""
        known = self._licensed.get(package)
        if known is None:
            from depchain.native.debian import copyright_license

            known = replace(package, license=copyright_license(self.root, package.name))
            self._licensed[package] = known
        return known


def _spellings(path: str, root: Path) -> list[str]:
    """``/lib/x/libz.so.1`` is also ``/usr/lib/x/libz.so.1`` on merged-/usr systems, and a
    symbolic link's target may be the listed file."""
    out = [path]
    for p in list(out):
        if p.startswith("/usr/"):
            out.append(p[4:])
        else:
            out.append("/usr" + p)
    try:
        real = os.path.realpath(root / path.lstrip("/"))
        if root != Path("/"):
            real = "/" + os.path.relpath(real, root)
        if real not in out:
            out.append(real)
            out.append(real[4:] if real.startswith("/usr/") else "/usr" + real)
    except (OSError, ValueError):
        pass
    return out


def _parse_status(text: str, distro: str) -> dict[str, OsPackage]:
    """Installed packages from dpkg's ``status``, keyed by name and ``name:arch``."""
    packages: dict[str, OsPackage] = {}
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        last = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and last:
                continue  # continuation (descriptions, conffiles)
            key, sep, value = line.partition(":")
            if sep:
                last = key
                fields[key] = value.strip()
        name = fields.get("Package")
        if not name or "installed" not in fields.get("Status", ""):
            continue
        arch = fields.get("Architecture", "")
        source = fields.get("Source", "").split(" ")[0] or None
        package = OsPackage(
            name=name,
            version=fields.get("Version", ""),
            architecture=arch,
            maintainer=fields.get("Maintainer"),
            distro=distro,
            source=source,
        )
        packages[f"{name}:{arch}"] = package
        packages.setdefault(name, package)
    return packages


def _distro(root: Path) -> str:
    for name in ("etc/os-release", "usr/lib/os-release"):
        try:
            for line in (root / name).read_text("utf-8", "replace").splitlines():
                if line.startswith("ID="):
                    return line[3:].strip().strip('"').lower() or "debian"
        except OSError:
            continue
    return "debian"


_RPM_PATHS = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
_RPM_OLD = (
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
)
_TAGS = {
    1000: "name",
    1001: "version",
    1002: "release",
    1003: "epoch",
    1011: "vendor",
    1015: "packager",
    1022: "arch",
    1044: "sourcerpm",
    1116: "dirindexes",
    1117: "basenames",
    1118: "dirnames",
}


def parse_rpm_header(blob: bytes) -> dict[str, object]:
    """The tags depchain needs from one RPM header blob (as ``rpmdb.sqlite`` stores it:
    index count, data length, index entries, data). Raises ``ValueError`` when it is
    not one."""
    import struct

    if len(blob) < 8:
        raise ValueError("RPM header too short")
    count, size = struct.unpack(">II", blob[:8])
    start = 8 + 16 * count
    if count > 100_000 or start + size > len(blob):
        raise ValueError("RPM header sizes do not fit the blob")
    data = blob[start : start + size]
    found: dict[str, object] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack(">iIiI", blob[8 + 16 * i : 24 + 16 * i])
        name = _TAGS.get(tag)
        if name is None or offset < 0 or (offset >= len(data) and n):
            continue
        if kind == 6:  # STRING
            found[name] = data[offset : data.index(b"\0", offset)].decode("utf-8", "replace")
        elif kind in (8, 9):  # STRING_ARRAY, I18NSTRING
            values, at = [], offset
            for _ in range(n):
                end = data.index(b"\0", at)
                values.append(data[at:end].decode("utf-8", "replace"))
                at = end + 1
            found[name] = values if kind == 8 or name in {"basenames", "dirnames"} else values[0]
        elif kind == 4:  # INT32
            found[name] = list(struct.unpack(f">{n}i", data[offset : offset + 4 * n]))
    return found


@dataclass
class RpmDatabase:
    """RPM's view of one root file system, from its SQLite database."""

    root: Path = Path("/")
    _owners: dict[str, OsPackage] | None = field(default=None, repr=False)
    problem: str | None = None

    @property
    def available(self) -> bool:
        self._load()
        return self.problem is None

    def _load(self) -> None:
        if self._owners is not None:
            return
        self._owners = {}
        path = next((self.root / p for p in _RPM_PATHS if (self.root / p).is_file()), None)
        if path is None:
            old = next((p for p in _RPM_OLD if (self.root / p).is_file()), None)
            self.problem = (
                f"RPM database /{old} is in the Berkeley DB or ndb format: not read"
                if old
                else "no RPM database"
            )
            return
        import sqlite3

        distro = _distro(self.root)
        try:
            uri = f"file:{path}?mode=ro&immutable=1"
            with sqlite3.connect(uri, uri=True) as con:
                for (blob,) in con.execute("SELECT blob FROM Packages"):
                    self._add(parse_rpm_header(bytes(blob)), distro)
        except (sqlite3.Error, ValueError, IndexError) as exc:
            self.problem = f"cannot read the RPM database {path}: {exc}"

    def _add(self, tags: dict[str, object], distro: str) -> None:
        assert self._owners is not None
        name = tags.get("name")
        if not isinstance(name, str):
            return
        epoch = tags.get("epoch")
        package = OsPackage(
            name=name,
            version=f"{tags.get('version', '')}-{tags.get('release', '')}",
            architecture=str(tags.get("arch", "")),
            maintainer=str(tags.get("packager") or tags.get("vendor") or "") or None,
            distro=distro,
            source=str(tags["sourcerpm"]) if tags.get("sourcerpm") else None,
            ptype="rpm",
            epoch=str(epoch[0]) if isinstance(epoch, list) and epoch else None,
        )
        bases, dirs, index = tags.get("basenames"), tags.get("dirnames"), tags.get("dirindexes")
        if isinstance(bases, list) and isinstance(dirs, list) and isinstance(index, list):
            for base, i in zip(bases, index, strict=False):
                if 0 <= i < len(dirs):
                    self._owners.setdefault(f"{dirs[i]}{base}", package)

    def owner(self, path: Path | str) -> OsPackage | None:
        self._load()
        assert self._owners is not None
        for candidate in _spellings(str(path), self.root):
            found = self._owners.get(candidate)
            if found is not None:
                return found
        return None


@dataclass
class PackageDatabases:
    """Every package database of a root file system, asked in turn."""

    root: Path = Path("/")
    dpkg: DpkgDatabase = field(init=False)
    rpm: RpmDatabase = field(init=False)

    def __post_init__(self) -> None:
        self.dpkg = DpkgDatabase(self.root)
        self.rpm = RpmDatabase(self.root)

    @property
    def available(self) -> bool:
        return self.dpkg.available or self.rpm.available

    @property
    def problem(self) -> str | None:
        if self.available:
            return None
        return f"{self.dpkg.problem}; {self.rpm.problem}"

    def unread(self) -> str | None:
        """A database that exists but could not be read (an old RPM format), if any."""
        self.rpm._load()
        problem = self.rpm.problem
        return problem if problem and problem != "no RPM database" else None

    def owner(self, path: Path | str) -> OsPackage | None:
        for database in (self.dpkg, self.rpm):
            if database.available:
                found = database.owner(path)
                if found is not None:
                    return found
        return None
