"""Which index is asked: --index-url, else pip's configuration files, else PyPI; and
whether ownership can be asked of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from depchain.enrich.index import DEFAULT_INDEX, choose_index, pip_config_files, warehouse_api


def _conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_explicit_index_wins_over_everything(tmp_path: Path) -> None:
    conf = _conf(tmp_path / "pip.conf", "[global]\nindex-url = https://conf.example/simple\n")
    choice = choose_index(
        "https://test.pypi.org/simple/",
        environ={"PIP_INDEX_URL": "https://env.example/simple"},
        config_files=[conf],
    )
    assert (choice.url, choice.origin, choice.api) == (
        "https://test.pypi.org/simple/",
        "--index-url",
        "https://test.pypi.org",
    )


def test_pip_index_url_env_before_config_files(tmp_path: Path) -> None:
    conf = _conf(tmp_path / "pip.conf", "[global]\nindex-url = https://conf.example/simple\n")
    choice = choose_index(
        environ={"PIP_INDEX_URL": "https://env.example/simple"}, config_files=[conf]
    )
    assert (choice.url, choice.origin, choice.api) == (
        "https://env.example/simple",
        "PIP_INDEX_URL",
        None,
    )


def test_later_config_files_override_and_install_section_overrides_global(
    tmp_path: Path,
) -> None:
    system = _conf(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = https://sys.example/s\n")
    user = _conf(
        tmp_path / "home" / ".config" / "pip" / "pip.conf",
        "[global]\nindex_url = https://user.example/simple\n"
        "[install]\nindex-url = https://pypi.org/simple\n",
    )
    choice = choose_index(environ={}, config_files=[system, user])
    assert choice.url == "https://pypi.org/simple"
    assert choice.origin == str(user)
    assert choice.api == "https://pypi.org"
    only_system = choose_index(environ={}, config_files=[system, tmp_path / "missing.conf"])
    assert only_system.url == "https://sys.example/s"


def test_default_is_pypi_and_a_broken_file_is_a_warning(tmp_path: Path) -> None:
    broken = _conf(tmp_path / "pip.conf", "index-url = no section header\n")
    choice = choose_index(environ={}, config_files=[broken])
    assert (choice.url, choice.origin, choice.api) == (DEFAULT_INDEX, "default", "https://pypi.org")
    assert len(choice.warnings) == 1 and str(broken) in choice.warnings[0]


def test_config_file_locations_in_pips_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    files = pip_config_files({"HOME": str(home)}, platform="linux", home=home)
    assert files == [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        home / ".pip" / "pip.conf",
        home / ".config" / "pip" / "pip.conf",
    ]
    with_env = pip_config_files(
        {"VIRTUAL_ENV": "/venv", "PIP_CONFIG_FILE": "/x/pip.conf", "XDG_CONFIG_HOME": "/cfg"},
        platform="linux",
        home=home,
    )
    assert with_env[-3:] == [
        Path("/cfg/pip/pip.conf"),
        Path("/venv/pip.conf"),
        Path("/x/pip.conf"),
    ]
    assert pip_config_files({"PIP_CONFIG_FILE": os.devnull}, platform="linux", home=home) == []
    windows = pip_config_files(
        {"APPDATA": "C:/Users/u/AppData/Roaming"}, platform="win32", home=home
    )
    assert windows[-1] == Path("C:/Users/u/AppData/Roaming") / "pip" / "pip.ini"


@pytest.mark.parametrize(
    ("url", "api"),
    [
        ("https://pypi.org/simple", "https://pypi.org"),
        ("https://pypi.org/simple/", "https://pypi.org"),
        ("https://PyPI.org./simple", "https://pypi.org"),
        ("https://pypi.python.org/simple", "https://pypi.org"),
        ("https://test.pypi.org/simple/", "https://test.pypi.org"),
        ("https://__token__:pypi-secret@pypi.org/simple", "https://pypi.org"),
        ("https://pypi.internal.example.com/simple", None),
        ("https://pypi.org.evil.example/simple", None),
        ("file:///opt/pypi/simple", None),
    ],
)
def test_warehouse_api_only_for_pypi(url: str, api: str | None) -> None:
    assert warehouse_api(url) == api


def test_credentials_never_shown(tmp_path: Path) -> None:
    conf = _conf(
        tmp_path / "pip.conf", "[global]\nindex-url = https://bob:hunter2@pypi.org/simple\n"
    )
    choice = choose_index(environ={}, config_files=[conf])
    assert choice.url.startswith("https://bob:hunter2@")  # kept for the request only
    assert choice.display == "https://***@pypi.org/simple"
    assert choice.host == "pypi.org"
    assert choice.api == "https://pypi.org"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("token = SECRET-abc123\n[global]\n", "a line before any [section] at line 1"),
        ("[global]\nindex-url = x\nindex-url = SECRET-abc123\n", "a key given twice"),
        ("[global]\nx = 1\nSECRET-abc123 line\n", "a line that is not 'key = value' at line 3"),
    ],
)
def test_a_broken_pip_configuration_is_described_not_quoted(
    tmp_path: Path, text: str, said: str
) -> None:
    conf = _conf(tmp_path / "pip.conf", text)
    [warning] = choose_index(environ={}, config_files=[conf]).warnings
    assert said in warning and "SECRET" not in warning


def test_a_query_token_is_shown_as_its_key_only_and_stays_a_query() -> None:
    url = "https://u:SECRET-pass@host.example:8443/simple/?token=SECRET-tok&x=1#frag-SECRET"
    choice = choose_index(url, environ={})
    assert choice.display == "https://***@host.example:8443/simple/?token=***&x=***"
    assert choice.project_url("six") == (
        "https://u:SECRET-pass@host.example:8443/simple/six/?token=SECRET-tok&x=1"
    )
    assert set(choice.secrets) >= {"SECRET-pass", "SECRET-tok", "frag-SECRET"}
    assert "x" not in choice.secrets and "1" not in choice.secrets  # too short to search
