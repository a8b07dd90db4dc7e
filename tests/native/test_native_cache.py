"""The native cache (depchain/native/cache.py): a warm scan reads no ELF file that has not
changed and gives the same bytes as a cold one; a changed file is read again; the cache
file is input like any other (malformed rows are misses, never a crash), bounded, never
written through a link, and the package databases' answers last only while their files
do."""

from __future__ import annotations

import json
import os
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

import depchain
from depchain.export import json_report
from depchain.native import cache as native_cache
from depchain.native import elf, ospkg
from depchain.native.cache import CachedPackageDatabases, NativeCache
from tests.native.conftest import record_line

# real ELF files from wheels installed in the environment that runs the tests
PURELIB = Path(sysconfig.get_paths()["purelib"])
TWO_NEEDED = PURELIB / "charset_normalizer" / "md.cpython-311-x86_64-linux-gnu.so"
FOUR_NEEDED = PURELIB / "rpds" / "rpds.cpython-311-x86_64-linux-gnu.so"
PAST = 1_600_000_000_000_000_000  # 2020, in ns: no file here is "being written"


def _real_elf(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is not installed here")
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A virtual environment with one distribution carrying one real extension module,
    and a cache folder of its own."""
    source = _real_elf(TWO_NEEDED)
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "demo").mkdir(parents=True)
    shutil.copy(source, site / "demo" / "_ext.so")
    os.utime(site / "demo" / "_ext.so", ns=(PAST, PAST))
    (site / "demo" / "__init__.py").write_text("")
    info = site / "demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n")
    files = ["demo/__init__.py", "demo/_ext.so", "demo-1.0.dist-info/METADATA"]
    lines = [record_line(site, f) for f in files] + ["demo-1.0.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    # the files of this test were written a moment ago: store them all the same
    monkeypatch.setattr(native_cache, "RACY_SECONDS", 0.0)
    return venv


def _ext(venv: Path) -> Path:
    return venv / "lib" / "python3.11" / "site-packages" / "demo" / "_ext.so"


def _folder() -> Path:
    return Path(os.environ["DEPCHAIN_CACHE_DIR"]) / native_cache.FOLDER


def _shard(venv: Path) -> Path:
    """The cache file of the environment's site-packages folder."""
    site = os.path.abspath(venv / "lib" / "python3.11" / "site-packages")
    return native_cache.shard_path(_folder(), "files", site)


def _packages() -> Path:
    """The cache file of this host's package answers."""
    return native_cache.shard_path(_folder(), "packages", "/")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every ELF file parsed (not answered from the cache): the
    environment's, and the system libraries they need (read to identify them)."""
    seen: list[str] = []
    original = elf.read_elf

    def counting(stream):  # type: ignore[no-untyped-def]
        seen.append(str(getattr(stream, "name", "?")))
        return original(stream)

    monkeypatch.setattr(elf, "read_elf", counting)
    return seen


class _EnvironmentReads:
    """The ELF files of the environment itself that were parsed."""

    def __init__(self, parsed: list[str]) -> None:
        self.parsed = parsed

    def __len__(self) -> int:
        return sum("/site-packages/" in name for name in self.parsed)

    def __repr__(self) -> str:
        return repr(self.parsed)


@pytest.fixture
def reads(parsed: list[str]) -> _EnvironmentReads:
    return _EnvironmentReads(parsed)


def _report(venv: Path) -> str:
    from depchain.scanner import VulnOptions

    return json_report.render(depchain.scan(venv, vulns=VulnOptions(enabled=False)))


def _needed(report: str) -> set[str]:
    data = json.loads(report)
    names = {c["id"]: c["name"] for c in data["components"]}
    return {
        names[d["to"]]
        for d in data["dependencies"]
        if d["mechanism"] == "elf" and names.get(d["from"]) == "demo"
    }


def test_warm_scan_reads_no_elf_file_and_gives_the_same_bytes(
    env: Path, reads: _EnvironmentReads, parsed: list[str]
) -> None:
    cold = _report(env)
    assert len(reads) == 1, reads
    every = len(parsed)  # with the system libraries it needs
    assert _needed(cold)  # the libraries it needs, read from the file
    cache_file = _shard(env)
    assert cache_file.is_file() and _packages().is_file()
    written = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in _folder().iterdir()}

    warm = _report(env)
    assert warm == cold  # byte for byte
    assert len(parsed) == every, "the warm scan parsed an ELF file again"
    # nothing new learned: nothing written
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in _folder().iterdir()} == written


def _uncached_report(venv: Path) -> str:
    from depchain.resolvers import environment

    original = environment.resolve_environment

    def uncached(env_, ctx, packages=None, **_):  # type: ignore[no-untyped-def]
        return original(env_, ctx, packages, cache=False)

    environment.resolve_environment = uncached  # type: ignore[assignment]
    try:
        return _report(venv)
    finally:
        environment.resolve_environment = original


def test_the_same_bytes_as_without_a_cache(env: Path) -> None:
    cold, warm = _report(env), _report(env)
    assert cold == warm == _uncached_report(env)


def test_a_file_whose_size_changed_is_read_again(env: Path, reads: _EnvironmentReads) -> None:
    before = _report(env)
    shutil.copy(_real_elf(FOUR_NEEDED), _ext(env))  # another library: other size
    os.utime(_ext(env), ns=(PAST, PAST))  # and the same modification time
    after = _report(env)
    assert len(reads) == 2
    assert len(_needed(after)) > len(_needed(before))  # it needs libgcc_s.so.1 too
    assert _report(env) == after and len(reads) == 2  # the new reading is kept
    assert after == _uncached_report(env)


def test_a_file_whose_mtime_changed_is_read_again(env: Path, reads: _EnvironmentReads) -> None:
    _report(env)
    os.utime(_ext(env), ns=(PAST, PAST + 1))  # one nanosecond later, same bytes
    _report(env)
    assert len(reads) == 2


def test_a_file_replaced_by_another_of_the_same_size_and_mtime_is_read_again(
    env: Path, reads: _EnvironmentReads
) -> None:
    _report(env)
    data = _ext(env).read_bytes()
    replacement = _ext(env).with_name("new.so")
    replacement.write_bytes(data)
    os.utime(replacement, ns=(PAST, PAST))
    os.replace(replacement, _ext(env))  # another inode (and change time)
    _report(env)
    assert len(reads) == 2


def test_a_file_written_a_moment_ago_is_not_stored(
    env: Path, reads: _EnvironmentReads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_cache, "RACY_SECONDS", 2.0)
    _ext(env).write_bytes(_ext(env).read_bytes())  # change time: now
    _report(env)
    _report(env)
    assert len(reads) == 2  # it may still be being written in the same clock tick


def _rewrite(path: Path, change: Callable[[dict[str, object]], object]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


FILE_DAMAGE = [
    lambda d: d["files"][0].__setitem__(1, "0"),  # a device that is text
    lambda d: d["files"][0].__setitem__(3, True),  # a size that is a boolean
    lambda d: d["files"][0].__setitem__(3, -1),
    lambda d: d["files"][0].__setitem__(6, "mach-o-ish"),
    lambda d: d["files"][0].__setitem__(7, ["EM_X86_64", 64, None, ["x"], [], []]),
    lambda d: d["files"][0][7].__setitem__(1, 64.0),
    lambda d: d["files"][0][7].__setitem__(1, 16),
    lambda d: d["files"][0][7].__setitem__(3, "libc.so.6"),
    lambda d: d["files"][0][7].__setitem__(3, [1, 2]),
    lambda d: d["files"][0][7].__setitem__(6, "not base64!"),
    lambda d: d["files"][0][7].__setitem__(2, "x" * 100_000),
    lambda d: d["files"][0].append("extra"),
    lambda d: d["files"].insert(0, None),
    lambda d: d.__setitem__("files", {"not": "a list"}),
]
PACKAGE_DAMAGE = [
    lambda d: d.__setitem__("fingerprint", 3),
    lambda d: d["owners"].append(["/x", "/x", ["too", "short"]]),
    lambda d: d["owners"].append(["/x", 7, None]),
    lambda d: d["owners"].append("not a row"),
    lambda d: d["facts"].__setitem__("available", "yes"),
    lambda d: d.__setitem__("owners", None),
]


@pytest.mark.parametrize("damage", FILE_DAMAGE)
def test_a_malformed_row_is_a_miss_and_is_dropped(
    env: Path, damage: Callable[[dict[str, object]], object]
) -> None:
    cold = _report(env)
    _rewrite(_shard(env), damage)
    assert _report(env) == cold  # never a crash, never a wrong answer
    document = json.loads(_shard(env).read_text())  # rewritten without the bad row
    assert document["format"] == native_cache.FORMAT
    for row in document["files"]:
        assert native_cache._file_entry(row) is not None


@pytest.mark.parametrize("damage", PACKAGE_DAMAGE)
def test_a_malformed_package_answer_is_a_miss_and_is_dropped(
    env: Path, damage: Callable[[dict[str, object]], object]
) -> None:
    cold = _report(env)
    _rewrite(_packages(), damage)
    assert _report(env) == cold
    document = json.loads(_packages().read_text())
    assert isinstance(document["fingerprint"], str)
    for row in document["owners"]:
        assert native_cache._owner_entry(row) is not None
    assert document["facts"].get("available") in (True, False, None)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"format": "depchain-native-cache/0", "files": []}', b"\xff\xfe"],
)
def test_a_cache_file_that_is_not_one_is_empty(
    env: Path, reads: _EnvironmentReads, content: bytes
) -> None:
    cold = _report(env)
    _shard(env).write_bytes(content)
    assert _report(env) == cold
    assert len(reads) == 2
    assert json.loads(_shard(env).read_text())["format"] == native_cache.FORMAT


def test_a_cache_file_of_another_root_is_empty(
    env: Path, reads: _EnvironmentReads, tmp_path: Path
) -> None:
    _report(env)
    document = json.loads(_shard(env).read_text())
    document["root"] = str(tmp_path / "elsewhere")  # renamed, or a hash that collides
    _shard(env).write_text(json.dumps(document))
    _report(env)
    assert len(reads) == 2


def test_a_cache_file_past_the_size_bound_is_not_read(
    env: Path, reads: _EnvironmentReads, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(env)
    monkeypatch.setattr(native_cache, "MAX_BYTES", _shard(env).stat().st_size - 1)
    _report(env)
    assert len(reads) == 2


def test_a_scan_reads_the_cache_of_its_own_environment_only(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    shutil.copytree(env, other, symlinks=True)
    _report(other)
    _report(env)
    read: list[Path] = []
    original = native_cache._read_document

    def recording(path, root):  # type: ignore[no-untyped-def]
        read.append(path)
        return original(path, root)

    monkeypatch.setattr(native_cache, "_read_document", recording)
    _report(env)
    assert set(read) == {_shard(env), _packages()}
    assert len(list(_folder().glob("files-*.json"))) == 2


def test_the_cache_keeps_at_most_max_files_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_cache, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(native_cache, "MAX_FILES", 3)
    folder = tmp_path / "cache"
    reading = elf.Reading(elf.BinaryFormat.OTHER)
    for i in range(5):
        f = tmp_path / f"f{i}"
        f.write_bytes(b"x")
        os.utime(f, ns=(PAST, PAST))
        cache = NativeCache(folder)
        cache.store(str(tmp_path), str(f), os.stat(f), reading)
        cache.save()
    rows = json.loads(native_cache.shard_path(folder, "files", str(tmp_path)).read_text())
    assert [Path(r[0]).name for r in rows["files"]] == ["f2", "f3", "f4"]  # the oldest went


def test_the_cache_keeps_at_most_max_shards_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_cache, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(native_cache, "MAX_SHARDS", 2)
    folder = tmp_path / "cache"
    f = tmp_path / "f"
    f.write_bytes(b"x")
    os.utime(f, ns=(PAST, PAST))
    for i, root in enumerate(("/a", "/b", "/c")):
        cache = NativeCache(folder)
        cache.store(root, str(f), os.stat(f), elf.Reading(elf.BinaryFormat.OTHER))
        cache.save()
        os.utime(native_cache.shard_path(folder, "files", root), (1000 + i, 1000 + i))
    left = {p.name for p in folder.iterdir()}
    assert left == {native_cache.shard_path(folder, "files", r).name for r in ("/b", "/c")}


def test_a_cache_file_that_is_a_link_is_replaced_not_written_through(
    env: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    _folder().mkdir(parents=True)
    _shard(env).symlink_to(victim)
    _report(env)
    assert victim.read_text() == "keep me\n"
    assert not _shard(env).is_symlink() and _shard(env).is_file()
    assert {p.name for p in _folder().iterdir()} == {_shard(env).name, _packages().name}


def test_a_cache_folder_that_cannot_be_written_is_a_miss(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: _EnvironmentReads
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("DEPCHAIN_CACHE_DIR", str(blocked / "cache"))
    assert _report(env) == _report(env)
    assert len(reads) == 2


def test_other_processes_rows_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_cache, "RACY_SECONDS", 0.0)
    folder = tmp_path / "cache"
    files = []
    for name in ("a", "b"):
        f = tmp_path / name
        f.write_bytes(b"x")
        os.utime(f, ns=(PAST, PAST))
        files.append(f)
    first, second = NativeCache(folder), NativeCache(folder)
    root = str(tmp_path)
    assert first.reading(root, str(files[0])) is None  # both read an empty cache
    assert second.reading(root, str(files[1])) is None
    reading = elf.Reading(elf.BinaryFormat.PE)
    first.store(root, str(files[0]), os.stat(files[0]), reading)
    second.store(root, str(files[1]), os.stat(files[1]), reading)
    first.save()
    second.save()
    again = NativeCache(folder)
    assert again.reading(root, str(files[0])) == reading
    assert again.reading(root, str(files[1])) == reading


def test_readings_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_cache, "RACY_SECONDS", 0.0)
    f = tmp_path / "lib.so"
    f.write_bytes(b"x")
    os.utime(f, ns=(PAST, PAST))
    info = elf.ElfInfo(
        machine="EM_AARCH64",
        elfclass=64,
        soname="libé.so.1",
        needed=("libc.so.6", "libm.so.6"),
        rpath=("$ORIGIN/../x.libs",),
        runpath=(),
        auditable=bytes(range(256)),
        go_buildinfo=b"\xff Go buildinf:",
    )
    root = str(tmp_path)
    for reading in (
        elf.Reading(elf.BinaryFormat.ELF, info),
        elf.Reading(elf.BinaryFormat.ELF, error="corrupt or truncated ELF (\udcff)"),
        elf.Reading(elf.BinaryFormat.MACHO),
    ):
        cache = NativeCache(tmp_path / "c")
        cache.store(root, str(f), os.stat(f), reading)
        cache.save()
        assert NativeCache(tmp_path / "c").reading(root, str(f)) == reading


# -- the package databases ---------------------------------------------------------


@pytest.fixture
def dpkg_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    info = root / "var" / "lib" / "dpkg" / "info"
    info.mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 1:1.2.13\nMaintainer: Mark <m@example.org>\nSource: zlib\n\n"
    )
    (info / "zlib1g:amd64.list").write_text("/usr/lib/x86_64-linux-gnu/libz.so.1\n")
    lib = root / "usr" / "lib" / "x86_64-linux-gnu"
    lib.mkdir(parents=True)
    (lib / "libz.so.1").write_bytes(b"")
    return root


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    loaded: list[Path] = []
    original = ospkg.DpkgDatabase._load

    def counting(self):  # type: ignore[no-untyped-def]
        if self._owners is None:
            loaded.append(self.root)
        original(self)

    monkeypatch.setattr(ospkg.DpkgDatabase, "_load", counting)
    return loaded


def test_package_answers_last_while_the_database_does(
    dpkg_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = _loads(monkeypatch)
    path = tmp_path / "c"
    lib = "/usr/lib/x86_64-linux-gnu/libz.so.1"
    plain = ospkg.PackageDatabases(dpkg_root)
    expected = (plain.available, plain.problem, plain.unread(), plain.owner(lib))
    assert expected[3] is not None and expected[3].name == "zlib1g"
    assert plain.owner("/usr/lib/x86_64-linux-gnu/libnone.so") is None
    loads.clear()

    def answers() -> tuple[object, ...]:
        cache = NativeCache(path)
        db = CachedPackageDatabases(dpkg_root, cache)
        found = (db.available, db.problem, db.unread(), db.owner(lib))
        assert db.owner("/usr/lib/x86_64-linux-gnu/libnone.so") is None
        cache.save()
        return found

    assert answers() == expected and len(loads) == 1
    assert answers() == expected and len(loads) == 1  # not read again
    status = dpkg_root / "var" / "lib" / "dpkg" / "status"
    status.write_text(status.read_text().replace("1:1.2.13", "1:1.3"))
    changed = answers()
    assert len(loads) == 2 and changed[3].version == "1:1.3"  # type: ignore[union-attr]


def test_a_relinked_library_is_asked_again(
    dpkg_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = dpkg_root / "usr" / "lib" / "x86_64-linux-gnu"
    (lib / "libfoo.so.1").symlink_to("libz.so.1")
    path = tmp_path / "c"
    cache = NativeCache(path)
    first = CachedPackageDatabases(dpkg_root, cache).owner("/usr/lib/x86_64-linux-gnu/libfoo.so.1")
    cache.save()
    assert first is not None and first.name == "zlib1g"
    (lib / "libfoo.so.1").unlink()
    (lib / "libfoo.so.1").symlink_to("libnone.so.1")
    cache = NativeCache(path)
    assert (
        CachedPackageDatabases(dpkg_root, cache).owner("/usr/lib/x86_64-linux-gnu/libfoo.so.1")
        is None
    )


def test_the_cache_folder_given_to_the_scan_holds_the_native_cache(
    env: Path, tmp_path: Path
) -> None:
    from depchain.scanner import EnrichOptions, VulnOptions

    given = tmp_path / "given-cache"
    depchain.scan(
        env,
        enrich=EnrichOptions(offline=True, cache_dir=given),
        vulns=VulnOptions(enabled=False),
    )
    site = os.path.abspath(env / "lib" / "python3.11" / "site-packages")
    assert native_cache.shard_path(given / native_cache.FOLDER, "files", site).is_file()
    assert not _shard(env).exists()  # not the default folder
