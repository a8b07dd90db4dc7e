"""A wheel (``.whl``), read as the zip archive it is; never installed. Its
``Requires-Dist`` become edges as declared, and its shared objects, bundled libraries
and PEP 770 SBOMs get the same native analysis as an installed distribution. The wheel
is the subject, with what its METADATA declares (licence, authors, URLs) and the
sha256 of the file itself."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

from depchain.errors import InputFileError
from depchain.model import Evidence, Fragment, Hash
from depchain.native.analysis import NativeContext, NativeOutput, analyse
from depchain.native.cache import CachedPackageDatabases, open_default
from depchain.native.distribution import DistError, WheelSource, read_distribution
from depchain.native.loader import host_loader
from depchain.native.requires import dist_component, requires_edges
from depchain.resolvers.base import ResolveContext
from depchain.resolvers.environment import declared_by

NAME = "wheel"


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    display = ctx.display(path)
    try:
        size = path.stat().st_size
        if size > 4 * ctx.max_file_size:
            raise InputFileError(display, f"wheel too large ({size} bytes)")
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputFileError(display, f"not a wheel: not a zip archive ({exc})") from None
    except OSError as exc:
        raise InputFileError(display, exc.strerror or str(exc)) from None
    with archive:
        files = WheelSource(archive, display)
        infos = files.dist_infos()
        if len(infos) != 1:
            raise InputFileError(display, f"not a wheel: {len(infos)} .dist-info folders")
        try:
            dist = read_distribution(files, infos[0])
        except DistError as exc:
            raise InputFileError(display, str(exc)) from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputFileError(display, f"corrupt wheel ({exc})") from None
        evidence = Evidence(files.display(f"{infos[0]}/METADATA"), None, NAME)
        subject = declared_by(dist, files, dist_component(dist, evidence))
        subject = replace(subject, hashes=(*subject.hashes, Hash("sha256", _sha256(path))))
        out = NativeOutput()
        out.add(subject)
        comps, deps, errors = requires_edges(
            dist, subject.id, evidence, None, lambda _: None, "requires-dist"
        )
        for c in comps:
            out.add(c)
        out.dependencies.extend(deps)
        out.errors.extend(errors)
        # a wheel's members are no files on disk: only the package databases' answers
        # are cached (see depchain.native.cache), not what the members say
        cache = open_default()
        packages = CachedPackageDatabases(Path("/"), cache)
        native = NativeContext(loader=host_loader(), packages=packages)
        try:
            analyse(dist, subject.id, files, native, out)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise InputFileError(display, f"corrupt wheel ({exc})") from None
        cache.save()
    return Fragment(
        components=tuple(out.components.values()),
        dependencies=out.finished(),
        errors=tuple(out.errors),
        subjects=(subject.id,),
        notes=tuple(out.notes),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
