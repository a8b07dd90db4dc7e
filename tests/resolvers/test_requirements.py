from __future__ import annotations

import re
from pathlib import Path

import depchain
from depchain.model import DependencyKind, Scope, SourceKind
from depchain.resolvers.requirements import kind_of, logical_lines
from tests.conftest import real


def test_warehouse_hashed_pins_every_pin_and_hash() -> None:
    path = real("pypi__warehouse/requirements/main.txt")
    text = path.read_text()
    pins = set(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)", text, re.M))
    hashes = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", text))
    assert len(pins) == 184 and len(hashes) >= 2000
    result = depchain.scan(path)
    assert not result.errors
    deps = [d for d in result.graph.dependencies() if d.kind is not DependencyKind.SERVICE]
    found = {
        (result.graph.node(d.target).name.lower(), result.graph.node(d.target).version)
        for d in deps
    }
    assert found == {(n.lower(), v) for n, v in pins}
    assert {h.value for d in deps for h in d.hashes} == hashes
    # hashes are also facts about the component
    components = {h.value for c in result.graph.components() for h in c.hashes}
    assert components == hashes
    extras = {result.graph.node(d.target).name: d.extras for d in deps if d.extras}
    assert extras["celery"] == ("redis",) and extras["psycopg"] == ("binary",)


def test_includes_are_relative_to_the_including_file_and_kinds_follow_names() -> None:
    result = depchain.scan(real("pypi__warehouse/requirements.txt"))
    assert not result.errors
    by_file = {}
    for d in result.graph.dependencies():
        if d.kind is DependencyKind.SERVICE:
            continue  # psycopg and redis imply their servers: edges of the scan, not the file
        by_file.setdefault(d.evidence[0].path, set()).add((d.kind, d.scope))
    assert by_file["requirements/main.txt"] == {(DependencyKind.DYNAMIC, Scope.REQUIRED)}
    assert by_file["requirements/lint.txt"] == {(DependencyKind.BUILD, Scope.DEV)}
    assert by_file["requirements/tests.txt"] == {(DependencyKind.BUILD, Scope.DEV)}


def test_kind_of_file_names() -> None:
    assert kind_of("requirements/dev.txt") == (DependencyKind.BUILD, Scope.DEV)
    assert kind_of("requirements-dev.txt") == (DependencyKind.BUILD, Scope.DEV)
    assert kind_of("docs/requirements.txt") == (DependencyKind.BUILD, Scope.DEV)
    assert kind_of("requirements/build_requirements.txt") == (DependencyKind.BUILD, Scope.REQUIRED)
    assert kind_of("requirements.txt") == (DependencyKind.DYNAMIC, Scope.REQUIRED)
    assert kind_of("requirements/main.txt") == (DependencyKind.DYNAMIC, Scope.REQUIRED)


def test_pip_format_options_continuations_and_comments(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("six==1.16.0  # a comment\n")
    (tmp_path / "requirements.txt").write_text(
        "# header comment\n"
        "--index-url https://pypi.example.org/simple\n"
        "--extra-index-url=https://mirror.example.org/simple\n"
        "-r base.txt\n"
        "-c constraints.txt\n"
        "requests[socks,security] >=2.31 ; python_version >= '3.8' \\\n"
        "    --hash=sha256:" + "a" * 64 + " \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "attrs\n"
        "-e git+https://github.com/pallets/click@8.1.7#egg=click\n"
        "flask @ git+https://github.com/pallets/flask@" + "c" * 40 + "\n"
        "https://github.com/pallets/werkzeug/archive/refs/heads/main.tar.gz\n"
    )
    (tmp_path / "constraints.txt").write_text("attrs==23.2.0\n")
    result = depchain.scan(tmp_path / "requirements.txt")
    assert not result.errors, result.errors
    g = result.graph
    edges = {g.node(d.target).name: d for d in g.dependencies()}
    assert set(edges) == {"six", "requests", "attrs", "click", "flask", "werkzeug"}
    req = edges["requests"]
    assert req.extras == ("security", "socks")
    assert req.marker == 'python_version >= "3.8"'
    assert [h.value[0] for h in req.hashes] == ["a", "b"]
    assert req.evidence[0].line == 6
    assert [(i.role, i.url) for i in req.indexes] == [
        ("primary", "https://pypi.example.org/simple"),
        ("extra", "https://mirror.example.org/simple"),
    ]
    assert edges["six"].evidence[0].path == "base.txt"
    # the constraint pins what the open requirement installs
    assert g.node(edges["attrs"].target).version == "23.2.0"  # type: ignore[union-attr]
    click = g.node(edges["click"].target)
    (source,) = click.sources  # type: ignore[union-attr]
    assert (source.kind, source.ref, source.commit, source.editable) == (
        SourceKind.VCS,
        "8.1.7",
        None,
        True,
    )
    (flask_source,) = g.node(edges["flask"].target).sources  # type: ignore[union-attr]
    assert flask_source.commit == "c" * 40
    werkzeug = g.node(edges["werkzeug"].target)
    assert werkzeug.sources[0].kind is SourceKind.URL  # type: ignore[union-attr]


def test_include_cycle_is_detected_and_the_rest_read(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r requirements-b.txt\nsix==1.16.0\n")
    (tmp_path / "requirements-b.txt").write_text("-r requirements.txt\nattrs==23.2.0\n")
    result = depchain.scan(tmp_path)
    names = {c.name for c in result.graph.components()}
    assert {"six", "attrs"} <= names
    cycles = [e for e in result.errors if "include cycle" in e.message]
    assert cycles and all("line 1" in e.message for e in cycles)


def test_bad_lines_are_reported_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "six==1.16.0\n--no-such-option\nrequests===\n-r missing.txt\nattrs==23.2.0 --hash=md5\n"
        "idna==3.7\n"
    )
    result = depchain.scan(tmp_path)
    messages = sorted(e.message for e in result.errors)
    assert len(messages) == 4, messages
    assert messages[0].startswith("line 2: unknown option --no-such-option")
    assert messages[1].startswith("line 3: invalid requirement") or "line 3" in messages[1]
    assert any("line 4: included file 'missing.txt' does not exist" in m for m in messages)
    assert any("line 5" in m and "hash" in m for m in messages)
    assert {"six", "idna"} <= {c.name for c in result.graph.components()}


def test_logical_lines_keep_the_first_line_number() -> None:
    lines = logical_lines("a \\\n  --hash=sha256:x\n\n# c\nb # d\n")
    assert [(line.number, line.text) for line in lines] == [(1, "a --hash=sha256:x"), (5, "b")]


def test_every_real_world_requirements_file_reads_cleanly(real_world: Path) -> None:
    from depchain.resolvers import REGISTRY

    spec = next(s for s in REGISTRY if s.name == "requirements")
    files = sorted(p for p in real_world.rglob("*") if p.is_file() and spec.matches(p))
    assert len(files) > 40
    for path in files:
        result = depchain.scan(path)
        assert not result.errors, (path, result.errors)
        assert result.inputs


def test_global_options_on_a_requirement_line(tmp_path: Path) -> None:
    # pip reads the options of a requirement line with its whole parser: a global option
    # such as --no-binary applies to the file (netbox-docker's requirements-container.txt)
    (tmp_path / "requirements.txt").write_text(
        "python3-saml==1.16.0 --no-binary lxml,xmlsec\nsix==1.16.0 --hash=sha256:" + "a" * 64 + "\n"
    )
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    assert {c.name for c in result.graph.components()} >= {"python3-saml", "six"}


def test_unknown_option_error_quotes_no_value(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0 --frobnicate=SECRET-TOKEN\n")
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert "--frobnicate" in error.message and "SECRET" not in error.message


def test_an_include_whose_name_is_no_usable_path(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "six==1.16.0\n-r " + "d" * 5000 + ".txt\nidna==3.7\n"
    )
    result = depchain.scan(tmp_path)
    (error,) = result.errors
    assert error.message == "line 2: the included file's name is not a usable path"
    assert {"six", "idna"} <= {c.name for c in result.graph.components()}
