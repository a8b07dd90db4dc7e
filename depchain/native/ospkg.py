"""Which operating-system package owns a file: Debian's dpkg database
(``/var/lib/dpkg/info/*.list`` and ``status``), read as files. RPM databases are
recognised and reported as not read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class OsPackage:
    name: str
    version: str
    architecture: str
    maintainer: str | None
    distro: str
    """The purl namespace: ``debian``, ``ubuntu``, ... (``/etc/os-release`` ID)."""
    source: str | None = None

    @property
    def purl(self) -> str:
        from depchain.ids import purl

        qualifiers = (("arch", self.architecture),) if self.architecture else ()
        return purl("deb", self.name, self.version, namespace=self.distro, qualifiers=qualifiers)


@dataclass
class DpkgDatabase:
    """dpkg's view of one root file system. Missing database: ``available`` is False and
    ``problem`` says why; every lookup then answers None (owner unknown)."""

    root: Path = Path("/")
    _owners: dict[str, str] | None = field(default=None, repr=False)
    _packages: dict[str, OsPackage] | None = field(default=None, repr=False)
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
            rpm = self.root / "var/lib/rpm"
            self.problem = (
                "RPM database found but not read (only dpkg is supported)"
                if rpm.is_dir()
                else f"no dpkg database at {status}"
            )
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
                    return package
        return None


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
