"""Shared fixtures: the real-world data set, small helpers, and the guard that keeps the
default suite off the network."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
REAL_WORLD = SHARED / "real-world"


def real(relative: str) -> Path:
    """A path in ../shared/data/real-world; the test skips when the data set is absent."""
    path = REAL_WORLD / relative
    if not path.exists():
        pytest.skip(f"real-world data not present at {path} (../shared/data is not checked out)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Generator[None, None, None]:
    """Every test's cache (advisory archives, the offline index, index answers) is the
    session's own: never the user's, and no archive a developer downloaded changes
    what a test sees. A test that wants another passes its own cache folder."""
    import os

    before = os.environ.get("DEPCHAIN_CACHE_DIR")
    os.environ["DEPCHAIN_CACHE_DIR"] = str(tmp_path_factory.mktemp("depchain-cache"))
    # the CLI asks the index by default; a test that wants it says --enrich (and the
    # index it means: a local server, or PyPI in an online test)
    enrich_before = os.environ.get("DEPCHAIN_ENRICH")
    os.environ["DEPCHAIN_ENRICH"] = "0"
    yield
    if enrich_before is None:
        os.environ.pop("DEPCHAIN_ENRICH", None)
    else:
        os.environ["DEPCHAIN_ENRICH"] = enrich_before
    if before is None:
        os.environ.pop("DEPCHAIN_CACHE_DIR", None)
    else:
        os.environ["DEPCHAIN_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def chromium() -> Generator[Any, None, None]:
    """One headless Chromium (Playwright, the system's browser) for the whole session;
    skips, saying why, without either (tests/browser.py)."""
    from tests.browser import launch

    yield from launch()


@pytest.fixture
def real_world() -> Path:
    if not REAL_WORLD.is_dir():
        pytest.skip(f"real-world data not present at {REAL_WORLD}")
    return REAL_WORLD


# -- the network guard ---------------------------------------------------------------
#
# The default suite runs offline: a test not marked ``online`` that opens a connection to
# anything but this machine's loopback (or asks DNS for any name but localhost) fails,
# naming the address, whatever the code under test did with the error it got (a test
# whose code swallows a refused connection as "index unreachable" still fails).
# ``online`` tests are exempt and skip, with their reason, when the network is cut.


class NetworkBlocked(ConnectionRefusedError):
    """What a guarded test's code sees instead of a connection: an OSError, so it fails
    as it would with the network cut; the test fails all the same."""


@dataclass
class SocketGuard:
    current: str | None = None  # the test whose phase is running; None between tests
    exempt: bool = False  # the current test is marked online
    violations: list[str] = field(default_factory=list)

    def check(self, what: str, address: object) -> None:
        if self.exempt or is_local_address(address):
            return
        where = self.current or "outside any test (collection or a session fixture)"
        message = f"{what} {address!r} from {where}"
        self.violations.append(message)
        raise NetworkBlocked(f"network access in an offline test: {message}")

    def take(self) -> list[str]:
        taken, self.violations = self.violations, []
        return taken


GUARD = SocketGuard()
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_local_address(address: object) -> bool:
    """Whether ``address`` (a socket address: a tuple for IPv4/IPv6, a path or bytes for
    a Unix socket) is this machine's: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost."""
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths, abstract sockets, netlink: never the network
    host = address[0] if address else None
    if host is None or host == "":
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return True  # AF_NETLINK (pid, groups) and the like
    host = host.split("%", 1)[0].strip("[]").lower()
    if host.rstrip(".") in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: it would be looked up, then reached
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _is_name(host: object) -> bool:
    if host is None:
        return False
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return True
    return False


def _install_socket_guard() -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        GUARD.check("connect to", address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        GUARD.check("connect to", address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        GUARD.check("datagram to", args[-1] if args else None)
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_name(host):  # a literal address needs no lookup; its connect is checked
            GUARD.check("DNS lookup of", (host, args[0] if args else None))
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[assignment,method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[assignment,method-assign]
    socket.socket.sendto = sendto  # type: ignore[assignment,method-assign]
    socket.getaddrinfo = getaddrinfo


def pytest_sessionstart(session: pytest.Session) -> None:
    _install_socket_guard()


def _guarded_phase(item: pytest.Item, phase: str) -> Generator[None, Any, Any]:
    """Runs one phase of ``item`` under the guard; fails it if it reached the network,
    even when its code caught the error (or it skipped, or failed, because of it)."""
    GUARD.current = f"{item.nodeid} ({phase})"
    GUARD.exempt = item.get_closest_marker("online") is not None
    try:
        result = yield
    except BaseException as exc:
        _fail_if_reached(exc)
        raise
    finally:
        GUARD.current, GUARD.exempt = None, False
    _fail_if_reached(None)
    return result


def _fail_if_reached(cause: BaseException | None) -> None:
    seen = GUARD.take()
    if seen:
        message = (
            "a test not marked 'online' reached the network (mark it online, or use a "
            "local server or a recorded session):\n  " + "\n  ".join(dict.fromkeys(seen))
        )
        raise pytest.fail.Exception(message, pytrace=False) from cause


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _guarded_phase(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _guarded_phase(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, Any, Any]:
    return (yield from _guarded_phase(item, "teardown"))
