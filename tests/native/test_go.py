"""Go build info, on a Go binary built here (skipped where no Go toolchain exists)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import depchain
from depchain.native.buildinfo import read_go_buildinfo
from depchain.native.elf import read_elf
from tests.native.conftest import record_line


@pytest.fixture(scope="module")
def go_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain (Debian package golang-go) on this machine")
    src = tmp_path_factory.mktemp("gosrc")
    (src / "greet").mkdir()
    (src / "greet" / "go.mod").write_text("module example.com/greet\n\ngo 1.19\n")
    (src / "greet" / "greet.go").write_text(
        'package greet\n\nfunc Hello() string { return "hello" }\n'
    )
    (src / "go.mod").write_text(
        "module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v0.1.0\n\n"
        "replace example.com/greet v0.1.0 => ./greet\n"
    )
    (src / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\n'
        "func main() { fmt.Println(greet.Hello()) }\n"
    )
    env = {
        **os.environ,
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
        "GOCACHE": str(src / ".cache"),
        "GOPATH": str(src / ".gopath"),
    }
    out = src / "hello"
    done = subprocess.run(
        [go, "build", "-o", str(out), "."],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"go build failed here: {done.stderr.strip()[:200]}")
    return out


def test_modules_match_go_version_m(go_binary: Path) -> None:
    listed = subprocess.run(
        ["go", "version", "-m", str(go_binary)], capture_output=True, text=True, check=True
    ).stdout
    truth = [
        line.strip().split("\t")[1:3]
        for line in listed.splitlines()
        if line.strip().startswith(("mod", "dep", "=>"))
    ]
    with open(go_binary, "rb") as handle:
        info = read_elf(handle)
    assert info.go_buildinfo is not None
    version, modules = read_go_buildinfo(info.go_buildinfo)
    assert listed.splitlines()[0].endswith(version)
    assert modules[0].name == "example.com/hello" and modules[0].root
    assert truth == [
        ["example.com/hello", "(devel)"],
        ["example.com/greet", "v0.1.0"],
        ["./greet", "(devel)"],
    ]
    assert [(m.name, m.version, m.source) for m in modules] == [
        ("example.com/hello", None, None),
        ("example.com/greet", None, "replaced by ./greet (devel)"),  # local code, no version
    ]


def test_a_distribution_shipping_a_go_binary(go_binary: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "gotool-1.0.dist-info").mkdir(parents=True)
    (site / "gotool").mkdir()
    shutil.copy(go_binary, site / "gotool" / "hello.so")  # shipped where extensions live
    (site / "gotool-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gotool\nVersion: 1.0\n"
    )
    (site / "gotool-1.0.dist-info" / "RECORD").write_text(
        record_line(site, "gotool/hello.so") + "\ngotool-1.0.dist-info/METADATA,,\n"
    )
    result = depchain.scan(site)
    assert not result.errors, result.errors
    g = result.graph
    tool = next(c for c in g.components() if c.name == "gotool")
    linked = {
        g.node(d.target).name: (d.kind.value, d.mechanism) for d in g.dependencies_of(tool.id)
    }
    assert linked["example.com/hello"] == ("static", "go-buildinfo")
    assert g.node("pkg:golang/example.com/hello").ecosystem == "golang"
