"""The guard of tests/conftest.py: an offline test that reaches past loopback fails."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.conftest import GUARD, NetworkBlocked, is_local_address

TEST_NET = "192.0.2.1"  # RFC 5737: documentation only, routed nowhere


@pytest.fixture
def provoked() -> Iterator[None]:
    """For a test that reaches out on purpose and takes what the guard recorded (so that
    the guard does not fail it): nothing may be left untaken."""
    yield
    assert GUARD.violations == [], "every provoked violation was checked and taken"


@pytest.mark.parametrize(
    "address",
    [
        ("127.0.0.1", 80),
        ("127.0.0.53", 53),
        ("::1", 80, 0, 0),
        ("::ffff:127.0.0.1", 80, 0, 0),
        ("localhost", 80),
        ("LOCALHOST.", 80),
        ("[::1]", 80),
        "/run/some.sock",
        b"\0abstract",
        (0, 0),  # netlink
    ],
)
def test_local_addresses_are_allowed(address: object) -> None:
    assert is_local_address(address)


@pytest.mark.parametrize(
    "address",
    [
        (TEST_NET, 80),
        ("169.254.169.254", 80),
        ("10.0.0.1", 443),
        ("::ffff:10.0.0.1", 80, 0, 0),
        ("2001:db8::1", 80, 0, 0),
        ("pypi.org", 443),
        ("localhost.example", 80),
    ],
)
def test_other_addresses_are_not(address: object) -> None:
    assert not is_local_address(address)


def test_a_connection_past_loopback_is_refused_and_recorded(provoked: None) -> None:
    with pytest.raises(NetworkBlocked, match=TEST_NET):
        socket.create_connection((TEST_NET, 9), timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(NetworkBlocked):
            udp.sendto(b"x", (TEST_NET, 9))
        with pytest.raises(NetworkBlocked):
            udp.connect_ex((TEST_NET, 9))
    with pytest.raises(NetworkBlocked, match="DNS lookup"):
        socket.getaddrinfo("pypi.org", 443)
    seen = GUARD.take()
    assert len(seen) == 4 and all("test_socket_guard.py::" in s for s in seen), seen


def test_code_that_swallows_the_error_is_still_caught(provoked: None) -> None:
    """The recorded-index case: code that treats a refused connection as "the index is
    unreachable" hides the access from the test, not from the guard."""
    with contextlib.suppress(OSError):  # as an enrichment's note would
        socket.create_connection((TEST_NET, 443), timeout=0.1)
    [seen] = GUARD.take()
    assert TEST_NET in seen and "(call)" in seen


def test_loopback_servers_and_literal_lookups_work() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(2)
        port = server.getsockname()[1]

        def accept() -> None:
            with contextlib.suppress(OSError):
                server.accept()[0].close()

        accepted = threading.Thread(target=accept)
        accepted.start()
        try:
            socket.create_connection(("localhost", port), timeout=5).close()
        except OSError as exc:
            if isinstance(exc, NetworkBlocked):
                raise
            pytest.skip(f"loopback is down here ({exc}): not the guard's doing")
        finally:
            accepted.join(3)
    assert socket.getaddrinfo(TEST_NET, 80)  # a literal needs no lookup
    assert GUARD.violations == []


@pytest.mark.online
def test_online_tests_are_exempt() -> None:
    assert GUARD.exempt
    GUARD.check("connect to", (TEST_NET, 443))  # no error, nothing recorded
    assert GUARD.violations == []
