"""Which package index is asked, and whether it can say who owns a project.

The index is, in order: the ``index_url`` given (``--index-url``); pip's own
configuration, read as files and never by running pip (``PIP_INDEX_URL``, then the
``index-url`` of pip's configuration files, later files overriding earlier ones as pip
does); else PyPI (``https://pypi.org/simple``).

Every index serves the Simple API (:attr:`IndexChoice.simple_url`). Ownership (the
JSON API's ``ownership``) and the PEP 740 Integrity API exist only on Warehouse, the
software of pypi.org and test.pypi.org: their base URL is derived from the index URL
when the index is one of those, and otherwise the choice says why ownership cannot be
asked (:attr:`IndexChoice.unsupported`).

Index URLs may carry credentials (``https://user:token@host/simple``, or a token in
the query, ``?token=...``): they are kept for the request only; everything meant to be
shown or stored goes through :func:`display_url` (:attr:`IndexChoice.display`), and
:attr:`IndexChoice.secrets` lists them, so that no message or cached answer can repeat
them.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from depchain.model import redact_url

DEFAULT_INDEX = "https://pypi.org/simple"

_WAREHOUSES = {
    "pypi.org": "https://pypi.org",
    "www.pypi.org": "https://pypi.org",
    "pypi.python.org": "https://pypi.org",  # the old name, redirected to pypi.org
    "test.pypi.org": "https://test.pypi.org",
}
"""Hosts that run Warehouse, to the base of their JSON and Integrity APIs."""


@dataclass(frozen=True)
class IndexChoice:
    """The index to ask, where that choice came from, and its API base if any."""

    url: str
    """The index URL as configured; it may carry credentials: show :attr:`display`."""
    origin: str
    """``--index-url``, ``PIP_INDEX_URL``, a pip configuration file's path, or ``default``."""
    api: str | None
    """Base URL of the JSON and Integrity APIs (``https://pypi.org``), or None when the
    index is not Warehouse."""
    warnings: tuple[str, ...] = ()
    """pip configuration files that could not be read, one line each."""

    @property
    def display(self) -> str:
        """The index URL with any credentials replaced by ``***`` (see
        :func:`display_url`)."""
        return display_url(self.url)

    @property
    def host(self) -> str:
        """The index's host name (never its credentials)."""
        try:
            return urlsplit(self.url).hostname or self.display
        except ValueError:
            return self.display

    @property
    def secrets(self) -> tuple[str, ...]:
        """What of the index URL may be a secret: the user and password, the query's
        values and the fragment, as written and percent-decoded (6 characters or more:
        shorter ones are not searched for, they would match ordinary words)."""
        return url_secrets(self.url)

    @property
    def simple_url(self) -> str:
        """The Simple API base, ending in ``/`` (with any credentials: for requests)."""
        if self.api is not None:
            return f"{self.api}/simple/"
        return self.url.rstrip("/") + "/"

    def project_url(self, name: str) -> str:
        """The Simple API page of a project (``name`` as it goes in a path); the index
        URL's query (an access token, say) stays a query, after the path."""
        if self.api is not None:
            return f"{self.api}/simple/{name}/"
        try:
            parts = urlsplit(self.url)
        except ValueError:
            return self.simple_url + f"{name}/"
        path = parts.path.rstrip("/") + f"/{name}/"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    @property
    def unsupported(self) -> str | None:
        """Why ownership cannot be asked of this index, or None."""
        if self.api is not None:
            return None
        return (
            f"the index {self.display} (from {self.origin}) is not PyPI: only pypi.org's "
            "JSON API says who owns a project"
        )


def display_url(url: str) -> str:
    """``url`` as it may be shown or stored: credentials (``user:token@``) replaced by
    ``***``, each query value by ``***`` (its key kept: it says what is there without
    authorising anything), the fragment dropped."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "(an index URL that cannot be read)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{quote(key, safe='')}=***" for key, _ in parse_qsl(parts.query, keep_blank_values=True)
    )
    if parts.query and not query:
        query = "***"
    return redact_url(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of ``url`` that may be secrets (see :attr:`IndexChoice.secrets`)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ()
    found: list[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        found.extend(userinfo.split(":", 1))
    found.extend(value for _, value in parse_qsl(parts.query, keep_blank_values=True))
    found.append(parts.fragment)
    out: set[str] = set()
    for item in found:
        for form in (item, unquote(item), quote(unquote(item), safe="")):
            if len(form) >= 6:
                out.add(form)
    return tuple(sorted(out, key=lambda s: (-len(s), s)))


def warehouse_api(index_url: str) -> str | None:
    """The JSON/Integrity API base for an index URL on pypi.org or test.pypi.org, else
    None. Credentials and the path (``/simple``) are dropped."""
    try:
        parts = urlsplit(index_url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme not in {"https", "http"}:
        return None
    return _WAREHOUSES.get(host)


def choose_index(
    index_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_files: Sequence[Path] | None = None,
) -> IndexChoice:
    """The index to ask: ``index_url``, else pip's configuration, else PyPI.

    ``environ`` stands for ``os.environ`` and ``config_files`` for
    :func:`pip_config_files` (both for tests)."""
    env = os.environ if environ is None else environ
    if index_url:
        return IndexChoice(index_url, "--index-url", warehouse_api(index_url))
    from_env = env.get("PIP_INDEX_URL", "").strip()
    if from_env:
        # pip accepts several URLs separated by whitespace; the first is the index
        first = from_env.split()[0]
        return IndexChoice(first, "PIP_INDEX_URL", warehouse_api(first))
    files = pip_config_files(env) if config_files is None else list(config_files)
    found: tuple[str, str] | None = None
    warnings: list[str] = []
    for path in files:
        value, problem = _index_url_in(path)
        if problem:
            warnings.append(problem)
        if value:
            found = (value, str(path))  # later files override earlier ones
    if found is not None:
        url, origin = found
        return IndexChoice(url, origin, warehouse_api(url), tuple(warnings))
    return IndexChoice(DEFAULT_INDEX, "default", warehouse_api(DEFAULT_INDEX), tuple(warnings))


def pip_config_files(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str | None = None,
    home: Path | None = None,
) -> list[Path]:
    """pip's configuration files, lowest precedence first: global, user, site, then
    ``PIP_CONFIG_FILE``. ``PIP_CONFIG_FILE=os.devnull`` turns them all off, as in pip."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    home = home or Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    forced = env.get("PIP_CONFIG_FILE")
    if forced == os.devnull:
        return []
    files: list[Path] = []
    if platform.startswith("win"):
        program_data = env.get("PROGRAMDATA", r"C:\ProgramData")
        files.append(Path(program_data) / "pip" / "pip.ini")
        files.append(home / "pip" / "pip.ini")  # legacy user file
        if env.get("APPDATA"):
            files.append(Path(env["APPDATA"]) / "pip" / "pip.ini")
        site_name = "pip.ini"
    else:
        if platform == "darwin":
            files.append(Path("/Library/Application Support/pip/pip.conf"))
        xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        # the first directory of XDG_CONFIG_DIRS wins, so it is read last
        files.extend(Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs.split(":")) if d)
        files.append(Path("/etc/pip.conf"))
        files.append(home / ".pip" / "pip.conf")  # legacy user file
        if platform == "darwin":
            files.append(home / "Library" / "Application Support" / "pip" / "pip.conf")
        config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        files.append(config_home / "pip" / "pip.conf")
        site_name = "pip.conf"
    if env.get("VIRTUAL_ENV"):
        files.append(Path(env["VIRTUAL_ENV"]) / site_name)
    if forced:
        files.append(Path(forced))
    return files


_CONFIG_ERRORS = {
    "MissingSectionHeaderError": "a line before any [section]",
    "ParsingError": "a line that is not 'key = value'",
    "DuplicateSectionError": "a section given twice",
    "DuplicateOptionError": "a key given twice in a section",
}


def _index_url_in(path: Path) -> tuple[str | None, str | None]:
    """``index-url`` of ``[install]``, else of ``[global]``, in one pip configuration file,
    and a one-line problem when the file cannot be read."""
    try:
        if not path.is_file():
            return None, None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path}: not read ({type(exc).__name__})"
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        # configparser's messages quote the offending line (a token, say): only say where
        lineno = getattr(exc, "lineno", None)
        if lineno is None and getattr(exc, "errors", None):
            lineno = exc.errors[0][0]  # type: ignore[attr-defined]
        where = f" at line {lineno}" if isinstance(lineno, int) else ""
        what = _CONFIG_ERRORS.get(type(exc).__name__, "cannot be read")
        return None, f"{path}: not a valid pip configuration file ({what}{where})"
    value: str | None = None
    for section in ("global", "install"):  # [install] overrides [global] for pip install
        if not parser.has_section(section):
            continue
        for key, raw in parser.items(section):
            if key.lower().replace("_", "-").lstrip("-") == "index-url" and raw.strip():
                value = raw.strip().split()[0]
    return value, None
