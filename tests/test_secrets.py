"""No secret from the input leaves the process (issue 10): distinctive secrets are planted
in every place a credential can hide, for every resolver, and no output of any format,
no message on stderr and no file written contains any of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from depchain.cli import main

SECRET = "Zq7xSECRET"
C64 = "c" * 64
"""Every planted secret starts with this; each place gets its own number."""


def _s(n: int) -> str:
    return f"{SECRET}{n:02d}"


def _files() -> dict[str, str]:
    return {
        "requirements.txt": "\n".join(
            [
                f"--index-url https://u:{_s(1)}@idx.example/simple?private_token={_s(2)}",
                f"--extra-index-url https://idx2.example/simple?X-Amz-Signature={_s(3)}",
                f"pkg @ https://files.example/pkg-1.0-py3-none-any.whl?token={_s(4)}",
                f"-e git+https://{_s(5)}@github.com/o/r.git#egg=r",
                f"-r https://u:{_s(6)}@host.example/more.txt",
                f"--Index-Url https://user:{_s(7)}@idx.example/simple",
                f"other @ https://files.example/o.tar.gz#token={_s(8)}",
                "",
            ]
        ),
        "pyproject.toml": f"""\
[project]
name = "app"
version = "1.0"
dependencies = ["x", "y @ https://h.example/y.whl?sig={_s(9)}"]

[tool.uv.sources]
x = {{ url = "https://h.example/x-1.0.tar.gz?token={_s(10)}" }}

[[tool.uv.index]]
name = "private"
url = "https://u:{_s(11)}@idx.example/simple"

[[tool.poetry.source]]
name = "corp"
url = "https://u:{_s(12)}@corp.example/simple"

[[tool.pdm.source]]
name = "pdmcorp"
url = "https://u:{_s(13)}@pdm.example/simple"
""",
        "Cargo.lock": f"""\
version = 3

[[package]]
name = "regcrate"
version = "1.0.0"
source = "registry+https://u:{_s(14)}@crates.example/index"
checksum = "{"a" * 64}"

[[package]]
name = "gitcrate"
version = "0.1.0"
source = "git+https://{_s(15)}@github.com/o/gitcrate?rev=main#{"b" * 40}"
""",
        "go.mod": f"""\
module example.com/m

go 1.21

require example.com/dep v1.0.0

replace example.com/dep => https://u:{_s(16)}@git.example/dep v1.0.1
""",
        ".env": "\n".join(
            [
                f"DATABASE_URL=postgresql://app:{_s(17)}@db:5432/app",
                f"API_URL=https://api.example.com/v1?api_key={_s(18)}",
                f"SENTRY_DSN=https://{_s(19)}@o1.ingest.sentry.io/1",
                f"PLAIN_SECRET={_s(20)}",
                f"SLACK_WEBHOOK=https://hooks.slack.com/services/T0/B0/{_s(42)}",
                "",
            ]
        ),
        "compose.yml": f"""\
services:
  api:
    image: registry.example/api:1
    environment:
      REDIS_URL: redis://:{_s(21)}@cache:6379/0
      BROKER: amqp://u:{_s(22)}@mq:5672//
  cache:
    image: redis:7
""",
        ".pre-commit-config.yaml": f"""\
repos:
  - repo: https://{_s(23)}@github.com/pre-commit/mirrors-mypy
    rev: v1.0.0
    hooks:
      - id: mypy
        additional_dependencies: ["tp @ https://h.example/tp.whl?token={_s(24)}"]
""",
        "Dockerfile": f"""\
FROM python:3.12
RUN pip install --index-url https://u:{_s(25)}@idx.example/simple flask \\
    && pip install "https://h.example/z.whl?sig={_s(26)}"
""",
        "Pipfile.lock": (
            '{"_meta": {"sources": [{"name": "p", "url": "https://u:'
            + _s(27)
            + '@pip.example/simple", "verify_ssl": true}], "requires": {}},'
            ' "default": {"six": {"version": "==1.16.0", "index": "p"}}, "develop": {}}'
        ),
        "uv.lock": f"""\
version = 1
requires-python = ">=3.10"

[[package]]
name = "six"
version = "1.16.0"
source = {{ registry = "https://u:{_s(28)}@uv.example/simple" }}
sdist = {{ url = "https://uv.example/six-1.16.0.tar.gz?token={_s(29)}", hash = "sha256:{C64}" }}
""",
        "pylock.toml": f"""\
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "attrs"
version = "24.2.0"
index = "https://u:{_s(30)}@pylock.example/simple"
""",
        ".gitmodules": f"""\
[submodule "lib"]
\tpath = lib
\turl = https://u:{_s(31)}@github.com/o/lib.git
""",
        "config/settings.yaml": f"database:\n  url: mysql://root:{_s(32)}@mysql.example.com/app\n",
        "k8s/secret.yaml": f"""\
apiVersion: v1
kind: Secret
metadata:
  name: s
stringData:
  DB: postgresql://u:{_s(33)}@pg.example.com/db
""",
        "tox.ini": f"[testenv]\ndeps =\n    -i https://u:{_s(34)}@tox.example/simple\n    pytest\n",
        "sub/setup.cfg": f"""\
[metadata]
name = sub
version = 1

[options]
install_requires =
    w @ https://h.example/w.whl?token={_s(35)}
""",
        "poetry.lock": f"""\
[[package]]
name = "corp-lib"
version = "1.0"
description = ""
optional = false
python-versions = "*"
files = []

[package.source]
type = "legacy"
url = "https://u:{_s(36)}@poetry.example/simple"
reference = "corp"

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "x"
""",
        ".github/workflows/ci.yml": f"""\
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    container:
      image: registry.example/ci:1
      credentials:
        username: u
        password: {_s(37)}
    steps:
      - uses: docker://u:{_s(38)}@registry.example/tool:1
      - run: pip install --index-url https://u:{_s(39)}@ci.example/simple x
""",
    }


def _outputs(root: Path, tmp: Path, capfd: pytest.CaptureFixture[str]) -> dict[str, str]:
    runs = {
        "table": ["scan", str(root)],
        "table-all": ["scan", str(root), "--all"],
        "json": ["scan", str(root), "-f", "json"],
        "sarif": ["scan", str(root), "-f", "sarif"],
        "markdown": ["scan", str(root), "-f", "markdown"],
        "cdx-json": ["sbom", str(root)],
        "cdx-xml": ["sbom", str(root), "-f", "cyclonedx-xml"],
        "ledger": ["accept", str(root), "-o", "-"],
    }
    seen: dict[str, str] = {}
    for name, argv in runs.items():
        code = main(argv)
        out, err = capfd.readouterr()
        assert code in {0, 1, 3}, (name, code, err)
        seen[name] = out
        seen[name + " (stderr)"] = err
    written = tmp / "out.json"
    main(["scan", str(root), "-f", "json", "-o", str(written)])
    capfd.readouterr()
    seen["-o file"] = written.read_text()
    return seen


def test_no_planted_secret_in_any_output(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    planted = _files()
    for name, text in planted.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    outputs = _outputs(root, tmp_path, capfd)
    leaks = {
        name: sorted(set(re.findall(SECRET + r"\d\d", text)))
        for name, text in outputs.items()
        if SECRET in text
    }
    assert leaks == {}, leaks
    # and the scan did read what it was given (a test that reads nothing finds nothing)
    report = outputs["json"]
    for host in ("idx.example", "crates.example", "uv.example", "pylock.example", "cache"):
        assert host in report, host


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("https://u:p@h/x", "https://***@h/x"),
        ("https://h/x?token=t&sslmode=require", "https://h/x?token=***&sslmode=require"),
        (
            "pkg:cargo/c@1?repository_url=https://u:S%40h/i",
            "pkg:cargo/c@1?repository_url=https://***%40h/i",
        ),
        ("a https://h/p.whl#sha256=ab and #egg=x", "a https://h/p.whl#sha256=ab and #egg=x"),
        ("https://h/#access_token=t", "https://h/#access_token=***"),
        ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        ("https://hooks.slack.com/services/T1/B2/xyz", "https://hooks.slack.com/services/***"),
        ("https://discord.com/api/webhooks/1/tok", "https://discord.com/api/webhooks/***"),
        (
            "https://api.telegram.org/bot123:AB/sendMessage",
            "https://api.telegram.org/bot***/sendMessage",
        ),
        ("<url>https://h/x?a=1&amp;sig=2</url>", "<url>https://h/x?a=***&amp;sig=***</url>"),
    ],
)
def test_redaction(text: str, hidden: str) -> None:
    from depchain.redaction import redact_text

    assert redact_text(text) == hidden
    assert redact_text(hidden) == hidden


def test_no_planted_secret_in_the_library_outputs(tmp_path: Path) -> None:
    """The model itself holds no secret: the library's renderers, which a program calls
    without the CLI's last redaction pass, show none either."""
    import depchain
    from depchain.export import cyclonedx, json_report, sarif
    from depchain.render import markdown, table
    from depchain.trust import ledger

    for name, text in _files().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = depchain.scan(tmp_path)
    texts = {
        "json": json_report.render(result),
        "sarif": sarif.render(result),
        "markdown": markdown.render(result),
        "table": table.render(result, show_all=True),
        "cdx-json": cyclonedx.render(result),
        "cdx-xml": cyclonedx.render(result, cyclonedx.Format("cyclonedx-xml")),
        "ledger": ledger.render(
            ledger.accept(
                None, ledger.relationships(result.graph, result.findings, result.subject)
            ).ledger
        ),
        "errors": "\n".join(str(e) for e in result.errors),
        "notes": "\n".join(f"{p}: {m}" for p, m in result.notes),
    }
    leaks = {
        k: sorted(set(re.findall(SECRET + r"\d\d", v))) for k, v in texts.items() if SECRET in v
    }
    assert leaks == {}, leaks


def test_no_planted_secret_from_an_installed_environment(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """``direct_url.json`` of an installed distribution records the URL it came from."""
    import json

    env = tmp_path / "venv"
    site = env / "lib" / "python3.11" / "site-packages"
    dist = site / "x-1.0.dist-info"
    dist.mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: x\nVersion: 1.0\n")
    (dist / "RECORD").write_text("")
    (dist / "direct_url.json").write_text(
        json.dumps(
            {"url": f"https://u:{_s(40)}@h.example/x-1.0.whl?token={_s(41)}", "archive_info": {}}
        )
    )
    for argv in (["scan", str(env), "-f", "json"], ["sbom", str(env)], ["scan", str(env)]):
        main(argv)
        out, err = capfd.readouterr()
        assert SECRET not in out + err, argv
        assert "h.example" in out or argv[-1] == str(env)


def test_ini_errors_quote_no_line(tmp_path: Path) -> None:
    for name in ("setup.cfg", "tox.ini", ".gitmodules", "config.ini"):
        folder = tmp_path / name.strip(".")
        folder.mkdir()
        (folder / name).write_text(f"[section]\nok = 1\ntoken {SECRET}99 = = \n  \n[broken\n")
        import depchain

        result = depchain.scan(folder)
        assert result.errors, name
        assert all(SECRET not in e.message for e in result.errors), result.errors


def test_git_index_is_read_only_as_far_as_needed(tmp_path: Path) -> None:
    import hashlib
    import struct

    def entry(path: str, mode: int) -> bytes:
        name = path.encode()
        body = b"\0" * 24 + struct.pack(">I", mode) + b"\0" * 12
        body += hashlib.sha1(name).digest() + struct.pack(">H", len(name)) + name
        return body + b"\0" * ((62 + len(name) + 8) // 8 * 8 - 62 - len(name))

    from depchain.native.gitindex import GitIndexError, gitlinks

    entries = [entry("lib", 0o160000)] + [entry(f"f{i}.py", 0o100644) for i in range(5000)]
    index = b"DIRC" + struct.pack(">II", 2, len(entries)) + b"".join(entries)
    assert gitlinks(index) == {"lib": hashlib.sha1(b"lib").hexdigest()}
    # found first, so a tiny budget is enough; looking for what is not there is bounded
    assert gitlinks(index, {"lib"}, max_bytes=200) == {"lib": hashlib.sha1(b"lib").hexdigest()}
    with pytest.raises(GitIndexError, match="larger than"):
        gitlinks(index, {"absent"}, max_bytes=1024 * 1024 // 8)
