"""Connection URLs in .env and configuration files: one service per endpoint, TLS,
credentials and trust boundary right, and no secret in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import depchain
from depchain.errors import InputFileError
from depchain.export import cyclonedx, json_report
from depchain.ids import generic_component
from depchain.model import DependencyKind, Evidence, Fragment, Scope, Service
from depchain.resolvers import configurls
from depchain.resolvers.base import ResolveContext
from depchain.resolvers.configurls import parse_dotenv

SECRET = "SECRETPASS"
TOKEN = "TOKENVALUE123"

DOTENV = f"""\
# local settings
export DATABASE_URL=postgresql://user:{SECRET}@db.example.com:5432/app?sslmode=require
CACHE_URL="redis://localhost:6379/0"   # the cache
API_BASE='http://api.internal.example.com'
BROKER_URL=amqps://worker:{SECRET}@mq.example.com:5671/prod
WEBHOOK=https://hooks.example.com/notify?token={TOKEN}&channel=ops
DEBUG=true
"""

SETTINGS = f"""\
[database]
url = "postgresql://user:{SECRET}@db.example.com:5432/app?sslmode=require"

[cache]
url = "redis://localhost:6379/0"

[services]
api = "http://api.internal.example.com"
queue = "redis://queue:6379/1"
"""


def _resolve(path: Path) -> Fragment:
    subject = generic_component("project", Evidence(".", None, "test"))
    return configurls.resolve(path, ResolveContext(root=path.parent, subject_for=lambda _: subject))


def _props(service: Service) -> dict[str, str]:
    return dict(service.properties)


def test_dotenv_and_toml_one_service_per_endpoint_and_no_secret(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DOTENV)
    (tmp_path / "settings.toml").write_text(SETTINGS)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    result = depchain.scan(tmp_path)
    assert not result.errors, result.errors
    graph = result.graph
    services = {s.id: s for s in graph.services()}
    assert set(services) == {
        "service:postgresql:db.example.com:5432",
        "service:redis:localhost:6379",
        "service:http:api.internal.example.com:80",
        "service:amqp:mq.example.com:5671",
        "service:http:hooks.example.com:443",
        "service:redis:queue:6379",
    }

    pg = services["service:postgresql:db.example.com:5432"]
    assert pg.name == "PostgreSQL at db.example.com:5432"
    assert pg.endpoints == ("postgresql://***@db.example.com:5432/app?sslmode=require",)
    assert set(pg.evidence) == {
        Evidence(".env", 2, "config-urls"),
        Evidence("settings.toml", 2, "config-urls"),
    }
    assert pg.trust_boundary is True
    assert _props(pg) == {
        "depchain:scheme": "postgresql",
        "depchain:family": "postgresql",
        "depchain:host": "db.example.com",
        "depchain:tls": "true",
        "depchain:credentials": "present",
        "depchain:authentication": "password",
    }
    redis = services["service:redis:localhost:6379"]
    assert redis.trust_boundary is False
    assert (_props(redis)["depchain:tls"], _props(redis)["depchain:credentials"]) == (
        "false",
        "absent",
    )
    api = services["service:http:api.internal.example.com:80"]
    assert api.trust_boundary is True and _props(api)["depchain:tls"] == "false"
    amqp = services["service:amqp:mq.example.com:5671"]
    assert _props(amqp)["depchain:tls"] == "true" and amqp.trust_boundary is True
    hook = services["service:http:hooks.example.com:443"]
    assert hook.endpoints == ("https://hooks.example.com/notify?channel=***",)  # values hidden
    assert _props(hook)["depchain:credentials"] == "present"
    assert _props(hook)["depchain:authentication"] == "token"
    assert services["service:redis:queue:6379"].trust_boundary is None  # a bare name

    edges = [d for d in graph.dependencies() if d.kind is DependencyKind.SERVICE]
    assert len(edges) == 6
    assert all(
        d.source == result.subject and d.mechanism == "connection-url" and d.scope is Scope.REQUIRED
        for d in edges
    )
    assert "pkg:pypi/six@1.16.0" in graph  # the neighbour is read as before

    report = json_report.render(result)
    bom = cyclonedx.render(result)
    json.loads(report)
    everything = report + bom + repr(graph.services()) + repr(graph.dependencies())
    assert SECRET not in everything and TOKEN not in everything
    assert "service:postgresql:db.example.com:5432" in report


def test_dotenv_syntax() -> None:
    text = (
        "# comment\n"
        "\n"
        "export A=1\n"
        "B = two words # trailing comment\n"
        "C='single # not a comment'\n"
        'D="line one\\nline two \\"quoted\\""\n'
        'E="first\n'
        'second"\n'
        "F=\n"
        "this line is wrong SECRET\n"
        "G=https://x.example.com/#anchor\n"
    )
    entries, errors = parse_dotenv(text, ".env")
    values = {e.key: (e.value, e.line) for e in entries}
    assert values["A"] == ("1", 3)
    assert values["B"] == ("two words", 4)
    assert values["C"] == ("single # not a comment", 5)
    assert values["D"] == ('line one\nline two "quoted"', 6)
    assert values["E"] == ("first\nsecond", 7)
    assert values["F"] == ("", 9)
    assert values["G"] == ("https://x.example.com/#anchor", 11)
    assert [str(e) for e in errors] == [".env: line 10: not a KEY=VALUE line"]


def test_dotenv_unterminated_quote_names_the_line_not_the_value() -> None:
    entries, errors = parse_dotenv(f"A=1\nB='postgresql://u:{SECRET}@h/db\n", ".env")
    assert [e.key for e in entries] == ["A"]
    assert [e.message for e in errors] == ["line 2: '-quoted value never ends"]


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("config.yaml", f"db:\n  primary:\n    url: mysql://app:{SECRET}@mysql.example.com/x\n", 3),
        (
            "config.json",
            json.dumps({"db": {"url": f"mysql://app:{SECRET}@mysql.example.com/x"}}, indent=2),
            3,
        ),
        (
            "alembic.ini",
            f"[alembic]\nsqlalchemy.url = mysql://app:{SECRET}@mysql.example.com/x\n",
            2,
        ),
        ("production.env", f"DB=mysql://app:{SECRET}@mysql.example.com/x\n", 1),
    ],
)
def test_formats(tmp_path: Path, name: str, content: str, line: int) -> None:
    path = tmp_path / name
    path.write_text(content)
    fragment = _resolve(path)
    assert not fragment.errors
    (service,) = fragment.services
    assert service.id == "service:mysql:mysql.example.com:3306"
    assert service.evidence == (Evidence(name, line, "config-urls"),)
    assert SECRET not in repr(fragment)


def test_unparseable_urls_and_malformed_files_never_echo_the_value(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"A=postgresql://user:pa/{SECRET}@db.example.com/x\nB=redis://:{SECRET}\n")
    fragment = _resolve(env)
    assert fragment.services == ()
    messages = [e.message for e in fragment.errors]
    assert len(messages) == 2 and messages[0].startswith("line 1: a connection URL (PostgreSQL)")
    assert messages[1].startswith("line 2: a connection URL (Redis)")
    assert all(SECRET not in m for m in messages)

    ini = tmp_path / "settings.ini"
    ini.write_text(f"password = {SECRET}\n")
    with pytest.raises(InputFileError) as caught:
        _resolve(ini)
    assert SECRET not in str(caught.value) and "line 1" in caught.value.message
    ini.write_text(f"[a]\nurl = x\nurl = {SECRET}\n")
    with pytest.raises(InputFileError) as caught:
        _resolve(ini)
    assert SECRET not in str(caught.value) and "option 'url' twice" in caught.value.message

    bad_json = tmp_path / "config.json"
    bad_json.write_text('{"url": "' + SECRET + '", }')
    with pytest.raises(InputFileError) as caught:
        _resolve(bad_json)
    assert SECRET not in str(caught.value) and "invalid JSON" in caught.value.message

    deep = tmp_path / "settings.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputFileError, match="nested too deeply"):
        _resolve(deep)


def test_a_conf_file_that_is_not_ini_is_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "config.conf"
    path.write_text(
        "upstream app {\n  server 127.0.0.1:8000;\n}\n"
        "# proxy_pass http://old.example.com;\n"
        "location / { proxy_pass http://backend.example.com:8080; }\n"
    )
    fragment = _resolve(path)
    assert [s.id for s in fragment.services] == ["service:http:backend.example.com:8080"]
    assert fragment.services[0].evidence[0].line == 5
