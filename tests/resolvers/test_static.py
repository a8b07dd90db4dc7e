"""Static dependencies: vendored trees, submodules, Rust crates, Go modules, C/C++."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import depchain
from depchain.model import DependencyKind
from tests.conftest import real


def _static(result: depchain.ScanResult, mechanism: str) -> list[tuple[str, str]]:
    g = result.graph
    return [
        (d.source, d.target)
        for d in g.dependencies(DependencyKind.STATIC)
        if d.mechanism == mechanism
    ]


def test_pips_vendored_packages() -> None:
    path = real("pypa__pip/src/pip/_vendor/vendor.txt")
    pins = re.findall(r"^\s*([A-Za-z0-9._-]+)==(\S+)", path.read_text(), re.M)
    result = depchain.scan(real("pypa__pip"))
    edges = _static(result, "vendored")
    assert len(pins) == 18 and len(edges) == 18
    assert {s for s, _ in edges} == {result.subject}  # pip vendors them
    found = {(result.graph.node(t).name.lower(), result.graph.node(t).version) for _, t in edges}
    assert found == {(n.lower(), v) for n, v in pins}
    certifi = next(
        c
        for c in result.graph.components()
        if c.name == "certifi" and "vendored" in str(result.graph.dependents(c.id))
    )
    assert ("depchain:vendored-for", "requests") in certifi.properties


def test_vendoring_inside_vendoring() -> None:
    result = depchain.scan(real("pypa__pipenv"))
    g = result.graph
    inner = next(c for c in g.components() if c.id.startswith("pkg:pypi/pip?vendored_in="))
    assert (result.subject, inner.id) in _static(result, "vendored")
    text = real("pypa__pipenv/pipenv/patched/pip/_vendor/vendor.txt").read_text()
    pins = re.findall(r"^\s*([A-Za-z0-9._-]+)==", text, re.M)
    assert len([e for e in _static(result, "vendored") if e[0] == inner.id]) == len(pins)


@pytest.mark.parametrize(("folder", "count"), [("numpy__numpy", 7), ("pypa__pipenv", 8)])
def test_submodules(folder: str, count: int) -> None:
    text = real(f"{folder}/.gitmodules").read_text()
    assert len(re.findall(r"^\[submodule ", text, re.M)) == count
    result = depchain.scan(real(f"{folder}/.gitmodules"))
    subs = [d for d in result.graph.dependencies() if d.mechanism == "git-submodule"]
    edges = [(d.source, d.target) for d in subs]
    assert len(edges) == count
    # numpy's are compiled in (static) but doc/'s MathJax; pipenv's all sit under
    # tests/: the tests' (build)
    built = {result.graph.node(d.target).name for d in subs if d.kind is DependencyKind.BUILD}
    static = {d.target for d in subs if d.kind is DependencyKind.STATIC}
    if folder == "numpy__numpy":
        assert built == {"scipy-mathjax"} and len(static) == count - 1
    else:
        assert not static and len(built) == count
    urls = {result.graph.node(t).sources[0].url for _, t in edges}  # type: ignore[union-attr]
    assert urls == {f"git+{u}" for u in re.findall(r"url = (\S+)", text)}


def test_submodule_commit_comes_from_the_git_index(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    env = [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "protocol.file.allow=always",
        "-c",
        "init.defaultBranch=main",
    ]
    lib, app = tmp_path / "lib", tmp_path / "app"
    for repo in (lib, app):
        repo.mkdir()
        subprocess.run([git, *env, "init", "-q", str(repo)], check=True)
    (lib / "lib.c").write_text("int f(void) { return 1; }\n")
    subprocess.run([git, *env, "-C", str(lib), "add", "."], check=True)
    subprocess.run([git, *env, "-C", str(lib), "commit", "-qm", "lib"], check=True)
    head = subprocess.run(
        [git, "-C", str(lib), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        [git, *env, "-C", str(app), "submodule", "add", "-q", str(lib), "vendor/lib"],
        check=True,
        capture_output=True,
    )
    result = depchain.scan(app)
    (edge,) = _static(result, "git-submodule")
    sub = result.graph.node(edge[1])
    assert sub.version == head and sub.sources[0].commit == head  # type: ignore[union-attr]


def test_registry_crates_with_versions_and_checksums() -> None:
    path = real("pyca__cryptography/Cargo.lock")
    text = path.read_text()
    registry = re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry', text)
    result = depchain.scan(path)
    g = result.graph
    crates = [
        g.node(d.target)
        for d in g.dependencies()
        if d.mechanism == "cargo-lock" and d.source == result.subject
    ]
    from_registry = {
        (c.name, c.version) for c in crates if c.sources and c.sources[0].kind.value == "registry"
    }  # type: ignore[union-attr]
    assert from_registry == set(registry) and len(registry) == 35
    assert ("openssl-sys", "0.9.109") in from_registry
    local = [
        c
        for c in crates
        if ("depchain:cargo-source", "local: a workspace member or path crate") in c.properties
    ]  # type: ignore[union-attr]
    assert len(local) == 8 and all(c.name.startswith("cryptography") for c in local)
    assert all(c.hashes for c in crates if c.sources)  # type: ignore[union-attr]


def test_crates_belong_to_the_extension_project() -> None:
    result = depchain.scan(real("pyca__bcrypt"))
    assert result.subject.startswith("pkg:pypi/bcrypt")
    crates = {
        result.graph.node(t).name for s, t in _static(result, "cargo-lock") if s == result.subject
    }
    assert {"pyo3", "bcrypt", "base64", "subtle"} <= crates
    pyo3 = next(c for c in result.graph.components() if c.name == "pyo3")
    assert ("depchain:linked-into", "bcrypt._bcrypt") in pyo3.properties  # setuptools-rust


def test_go_modules(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text(
        "module example.com/tool\n\ngo 1.22\n\nrequire (\n"
        "\tgithub.com/spf13/cobra v1.8.0\n\tgolang.org/x/sys v0.20.0 // indirect\n)\n\n"
        "require github.com/pkg/errors v0.9.1\n\n"
        "replace github.com/pkg/errors v0.9.1 => github.com/pkg/errors v0.9.2\n"
    )
    (tmp_path / "go.sum").write_text(
        "github.com/spf13/cobra v1.8.0 h1:7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0=\n"
        "github.com/spf13/cobra v1.8.0/go.mod h1:WXLWApfZ71AjXPya3WOlMsY9yMs7YeiHhFVlvLyhcho=\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors
    g = result.graph
    mods = {g.node(t).name: g.node(t) for _, t in _static(result, "go-mod")}
    assert mods["github.com/spf13/cobra"].id == "pkg:golang/github.com/spf13/cobra@v1.8.0"
    assert mods["github.com/spf13/cobra"].hashes[0].algorithm == "go-h1"  # type: ignore[union-attr]
    assert ("depchain:go-indirect", "true") in mods["golang.org/x/sys"].properties
    assert mods["github.com/pkg/errors"].version == "v0.9.2"


def test_vcpkg_and_conan(tmp_path: Path) -> None:
    (tmp_path / "vcpkg.json").write_text(
        '{"name": "app", "dependencies": ["zlib", {"name": "openssl", "version>=": "3.0.8"}],'
        ' "overrides": [{"name": "zlib", "version": "1.3.1"}]}'
    )
    (tmp_path / "conanfile.txt").write_text(
        "[requires]\nfmt/10.2.1\nboost/1.84.0@user/stable#abc123\n\n[tool_requires]\ncmake/3.28.1\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors
    g = result.graph
    kinds = {g.node(d.target).name: (d.kind.value, d.mechanism) for d in g.dependencies()}
    assert kinds["zlib"] == ("static", "vcpkg") and kinds["openssl"] == ("static", "vcpkg")
    assert kinds["fmt"] == ("static", "conan") and kinds["cmake"] == ("build", "conan")
    assert "pkg:generic/vcpkg/zlib@1.3.1" in g and "pkg:conan/fmt@10.2.1" in g


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("Cargo.lock", "version = 3\n[[package]\n", "invalid TOML"),
        ("go.mod", "require x v1\n", "not a go.mod file"),
        ("vcpkg.json", '{"dependencies": [', "invalid JSON"),
        (".gitmodules", '[submodule "x"\npath = a\n', "invalid .gitmodules"),
        ("vendor.txt", "six==1.16.0\nnot a pin!!\n", "line 2"),
    ],
)
def test_bad_static_manifests(tmp_path: Path, name: str, content: str, expected: str) -> None:
    (tmp_path / name).write_text(content)
    (tmp_path / "requirements.txt").write_text("attrs==23.2.0\n")
    result = depchain.scan(tmp_path)
    errors = [e for e in result.errors if e.path == name]
    assert len(errors) == 1 and expected in errors[0].message, result.errors
    assert "attrs" in {c.name for c in result.graph.components()}


def test_cargo_lock_names_and_checksums_that_are_none(tmp_path: Path) -> None:
    """Found by the fuzzer (seed 777): a crate named '////' crashed the Package URL
    ('please report this input'), and a checksum of '[[[' made every CycloneDX export
    fail its schema, so no SBOM was written at all. Each is now an error on its line;
    the crate of a bad checksum stays, without it, and the rest of the lock is read."""
    (tmp_path / "Cargo.lock").write_text(
        "version = 4\n\n"
        '[[package]]\nname = "////"\nversion = "0.21.3"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n\n'
        '[[package]]\nname = "typenum"\nversion = "1.20.1"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        'checksum = "[[[[b6f5e870"\n\n'
        '[[package]]\nname = "zeroize"\nversion = "1.9.0"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        'checksum = "e13c156562582aa81c60cb29407084cdb54c4164760106ab78e6c5b0858cf64e"\n'
    )
    result = depchain.scan(tmp_path)
    assert sorted(str(e) for e in result.errors) == [
        "Cargo.lock: line 3: '////' is not a crate name",
        "Cargo.lock: line 8: checksum '[[[[b6f5e870' is not a SHA-256",
    ]
    crates = {c.name: c for c in result.graph.components() if c.ecosystem == "cargo"}
    assert set(crates) == {"typenum", "zeroize"}
    assert crates["typenum"].hashes == () and len(crates["zeroize"].hashes) == 1
    from depchain.export import cyclonedx

    for fmt in cyclonedx.Format:
        assert "zeroize" in cyclonedx.render(result, fmt)  # validated, written
