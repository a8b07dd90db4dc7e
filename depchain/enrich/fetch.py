"""The one way enrichment talks to an index: a bounded GET.

Every request made by :mod:`depchain.enrich.pypi` goes through :meth:`Fetcher.get`,
which holds the limits in one place:

- **deadlines**: a request (every try, wait between tries and redirect included) ends
  :attr:`Limits.request` seconds after it started, and no request outlives the scan's
  budget (:attr:`Limits.scan`, ``--index-timeout``). Socket timeouts alone bound each
  read, not the whole: a server sending one byte a second would hold a read forever.
  So a watchdog thread shuts down the socket of an exchange that passes its deadline,
  which ends any read in progress at once; on depchain's own session every socket is
  known from the moment it is opened (:func:`new_session`); on a session given by the
  caller, from the moment the answer's headers are in;
- **sizes**: an answer larger than :attr:`Limits.body` bytes (16 MiB) is refused as
  soon as that is known (its ``Content-Length``, else while it is read);
- **redirects**: never followed by requests itself; followed here, at most
  :data:`MAX_REDIRECTS` times, and only where :class:`Reach` allows: the index's own
  host, or a host known to serve its files, over https (http only back to the index's
  own http host), never to a loopback, link-local, private or cloud-metadata address
  unless the index itself is on loopback. A refused redirect is the request's error.

Failures come back as one line that names no URL, host or credential (the caller puts
its own redacted words around it); nothing here raises for what the network does.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    import requests

MAX_BODY = 16 * 1024 * 1024
"""The largest answer read, in bytes (botocore's project JSON is about 4 MB)."""

MAX_REDIRECTS = 5

CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
"""Per-operation socket timeouts, within the request's overall deadline."""

WAREHOUSE_FILE_HOSTS = frozenset(
    {
        "pypi.org",
        "test.pypi.org",
        "files.pythonhosted.org",
        "test-files.pythonhosted.org",
    }
)
"""Hosts that serve PyPI's and TestPyPI's APIs and files, over https."""

_METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
)

_CHUNK = 16 * 1024
"""Bytes read at a time: small, so that a compressed answer cannot grow much past the
cap before it is counted."""


@dataclass(frozen=True)
class Limits:
    """The bounds of enrichment's network work."""

    scan: float = 60.0
    """Seconds for all the requests of one scan (``--index-timeout``)."""
    request: float = 15.0
    """Seconds for one request, its retries, waits and redirects included."""
    body: int = MAX_BODY
    """Bytes of one answer."""
    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT


@dataclass(frozen=True)
class Answer:
    """What one GET came to."""

    status: int
    """2xx, 404, or 0 when the request failed (see :attr:`error`)."""
    data: dict[str, Any] | None = None
    """The JSON object of a 2xx answer (not raw)."""
    body: bytes | None = None
    """The bytes of a 2xx answer (raw)."""
    content_type: str = ""
    url: str = ""
    """The URL that answered, after redirects (it may carry credentials: never show it)."""
    error: str | None = None
    """Why the request failed, in a few words with no URL in them."""


# -- where requests may go ------------------------------------------------------------


class Reach:
    """Where the requests of one index may go: its own host, and the hosts known to
    serve files for it (PyPI's, for any index: they are public and https only)."""

    def __init__(self, index_url: str, file_hosts: Iterable[str] = WAREHOUSE_FILE_HOSTS) -> None:
        parts = urlsplit(index_url)
        self.scheme = parts.scheme.lower()
        self.host = _host(parts.hostname)
        self.port = _port(parts)
        self.userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        self.file_hosts = frozenset(_host(h) for h in file_hosts) - {""}
        self.on_loopback = _address_class(self.host) == "a loopback address"

    def same_host(self, url: str) -> bool:
        """``url`` is on the index's own host (and port, or https on its default)."""
        try:
            parts = urlsplit(url)
            host, port = _host(parts.hostname), _port(parts)
        except ValueError:
            return False
        if host != self.host:
            return False
        return port == self.port or (parts.scheme.lower() == "https" and port == 443)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be asked (a redirect's target, a link the index gave), or
        None when it may."""
        try:
            parts = urlsplit(url)
            host = _host(parts.hostname)
            _port(parts)
        except ValueError:
            return "not a valid URL"
        scheme = parts.scheme.lower()
        if scheme not in {"https", "http"} or not host:
            return "not an http(s) URL"
        same = self.same_host(url)
        if scheme == "http" and not (same and self.scheme == "http"):
            return "not https"
        if not same and host not in self.file_hosts:
            return "not the index's host"
        if not same and not self.on_loopback:
            kind = _address_class(host)
            if kind is not None:
                return kind
        return None

    def with_credentials(self, url: str) -> str:
        """``url`` with the index's credentials when it is on the index's own host and
        has none of its own; any other URL as it is (credentials go nowhere else)."""
        if not self.userinfo or not self.same_host(url):
            return url
        parts = urlsplit(url)
        if "@" in parts.netloc:
            return url
        netloc = f"{self.userinfo}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def shown(url: str) -> str:
    """A URL as it may be shown: scheme, host, port and path only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a URL that cannot be parsed)"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, f"{host}{port}", parts.path, "", ""))


def _host(hostname: str | None) -> str:
    return (hostname or "").lower().rstrip(".")


def _port(parts: Any) -> int:
    port = parts.port  # raises ValueError for a port out of range
    if port is not None:
        return int(port)
    return 443 if parts.scheme.lower() == "https" else 80


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _address_class(host: str) -> str | None:
    """What makes ``host`` a place no index may send depchain: a loopback, link-local,
    private, reserved or cloud-metadata address (or name); None for anything else."""
    name = host.strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return "a loopback address"
    if name in _METADATA_NAMES:
        return "a cloud metadata address"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:  # forms inet_aton reads and ipaddress does not: 2130706433, 0x7f.1, 127.1
            address = ipaddress.ip_address(socket.inet_aton(name))
        except OSError:
            return None
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"  # 169.254.169.254, the metadata service
    if address.is_private or address.is_reserved or address.is_unspecified:
        return "a private address"
    if address.is_multicast:
        return "a multicast address"
    if str(address) == "100.100.100.200":  # Alibaba Cloud's metadata service
        return "a cloud metadata address"
    return None


# -- deadlines --------------------------------------------------------------------------


class _Exchange:
    """One request's deadline and the sockets it reads from, shut down when it passes."""

    def __init__(self, deadline: float, reach: Reach | None = None) -> None:
        self.deadline = deadline
        self.reach = reach
        """Where the request may go: a name that resolves to a private address is
        refused unless it is the index's own host (or the index is on loopback)."""
        self.expired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.done:
                return
            if not self.expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sockets = []


def _shutdown(sock: socket.socket) -> None:
    """End every read on ``sock`` now (the fd's own shutdown: on a TLS socket too,
    without touching its TLS state, which the reading thread still holds)."""
    with contextlib.suppress(OSError, TypeError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread that expires exchanges at their deadlines."""

    def __init__(self) -> None:
        self._watched: dict[_Exchange, None] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def watch(self, exchange: _Exchange) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="depchain-index-deadline", daemon=True
                )
                self._thread.start()
            self._watched[exchange] = None
            self._wake.notify()

    def forget(self, exchange: _Exchange) -> None:
        exchange.finish()
        with self._wake:
            self._watched.pop(exchange, None)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with self._wake:
            while not self._stopped:
                now = time.monotonic()
                late = [e for e in self._watched if e.deadline <= now]
                for exchange in late:
                    del self._watched[exchange]
                    exchange.expire()
                soonest = min((e.deadline for e in self._watched), default=now + 3600)
                self._wake.wait(max(0.0, soonest - time.monotonic()) + 0.005)


_current = threading.local()
"""The exchange of the request this thread is making (read by the connection hooks)."""


def resolve(host: str, port: int, exchange: _Exchange, *, check: bool = True) -> list[str]:
    """The addresses to try for ``host``, in the resolver's order, looked up within the
    exchange's deadline (the system's resolver takes no timeout: it runs in a thread left
    behind when the deadline passes). Raises OSError when it does not answer in time, and
    when a host other than the index's own resolves to a loopback, link-local, private or
    metadata address (a name pointing there is the same request as the address)."""
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            answer.append(exc)

    worker = threading.Thread(target=lookup, name="depchain-dns", daemon=True)
    worker.start()
    worker.join(max(0.0, exchange.deadline - time.monotonic()))
    if not answer:
        raise TimeoutError("timed out: the host name was not resolved in time")
    found = answer[0]
    if isinstance(found, OSError):
        raise found
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise OSError("the host name resolves to no address")
    reach = exchange.reach
    if check and reach is not None and not reach.on_loopback and _host(host) != reach.host:
        for address in addresses:
            kind = _address_class(address)
            if kind is not None:
                raise OSError(f"refused: the host name resolves to {kind}")
    return addresses


def _attach_current(sock: socket.socket | None) -> None:
    exchange: _Exchange | None = getattr(_current, "exchange", None)
    if exchange is not None:
        exchange.attach(sock)


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket an answer is read from, where urllib3 lets it be found (a caller's
    own session: the watchdog can then cut its body at the deadline too)."""
    raw = getattr(response, "raw", None)
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
    sock = getattr(fp, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


# -- the session ------------------------------------------------------------------------


def new_session(workers: int) -> requests.Session:
    """depchain's own session: a pool per host as large as the worker pool, no retries
    of urllib3's own, and connections whose sockets the deadline watchdog knows from
    the moment they are opened (connect and TLS handshake included)."""
    import requests

    import depchain

    session = requests.Session()
    adapter = _adapter_class()(pool_connections=2, pool_maxsize=max(1, workers), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = f"depchain/{depchain.__version__}"
    return session


_ADAPTER: type[Any] | None = None


def _adapter_class() -> type[Any]:
    """An HTTPAdapter whose connections register their sockets with the current
    exchange (built on first use: requests is imported only when the network is)."""
    global _ADAPTER
    if _ADAPTER is not None:
        return _ADAPTER
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Hooked:
        sock: Any
        port: int
        _dns_host: str

        def _new_conn(self) -> Any:
            exchange: _Exchange | None = getattr(_current, "exchange", None)
            name = getattr(self, "_dns_host", "")
            if exchange is not None and name and _literal(name) is None:
                # looked up within the deadline; TLS still checks the name itself. A
                # proxy's own address is the user's choice, wherever it is.
                proxied = bool(getattr(self, "_tunnel_host", None) or getattr(self, "proxy", None))
                addresses = resolve(name, self.port, exchange, check=not proxied)
                failure: Exception | None = None
                try:
                    for address in addresses:  # as the socket module would: each in turn
                        self._dns_host = address
                        try:
                            made = super()._new_conn()  # type: ignore[misc]
                            break
                        except Exception as exc:  # the next address
                            failure = exc
                    else:
                        assert failure is not None
                        raise failure
                finally:
                    self._dns_host = name  # a reconnection looks the name up again
            else:
                made = super()._new_conn()  # type: ignore[misc]
            _attach_current(made if isinstance(made, socket.socket) else None)
            return made

        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            _attach_current(self.sock)
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]

    class _Connection(_Hooked, HTTPConnection):
        pass

    class _TLSConnection(_Hooked, HTTPSConnection):
        pass

    class _Pool(HTTPConnectionPool):
        ConnectionCls = _Connection

    class _TLSPool(HTTPSConnectionPool):
        ConnectionCls = _TLSConnection

    pools = {"http": _Pool, "https": _TLSPool}

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if getattr(manager, "pool_classes_by_scheme", None) == {
                "http": HTTPConnectionPool,
                "https": HTTPSConnectionPool,
            }:
                manager.pool_classes_by_scheme = pools  # not a SOCKS proxy's own classes
            return manager

    _ADAPTER = _Adapter
    return _Adapter


# -- the fetch --------------------------------------------------------------------------


class Fetcher:
    """Bounded GETs on one session for one index (see the module's docstring).

    ``session``: the caller's, or None for :func:`new_session` (closed by
    :meth:`close`). ``retries``: tries per request; ``backoff``: the first wait between
    tries (doubled each time, 0 for none); ``sleep`` is for tests."""

    def __init__(
        self,
        session: requests.Session | None,
        reach: Reach,
        limits: Limits,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        workers: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._own = session is None
        self.session = new_session(workers) if session is None else session
        self.reach, self.limits = reach, limits
        self.retries, self.backoff = max(1, retries), backoff
        self.clock, self.sleep = time.monotonic, sleep
        self.started = self.clock()
        self.scan_deadline = self.started + limits.scan
        self._watchdog = _Watchdog()

    @property
    def spent(self) -> bool:
        """The scan's budget is spent: no request starts any more."""
        return self.clock() >= self.scan_deadline

    def close(self) -> None:
        self._watchdog.stop()
        if self._own:
            self.session.close()

    def get(self, url: str, accept: str, *, raw: bool = False, limit: int | None = None) -> Answer:
        """GET ``url``: a 2xx answer (its JSON object, or with ``raw`` its bytes), a 404,
        or the failure in a few words; ``limit``: bytes, when less than the usual. Retries
        timeouts, connection errors, 429, 5xx and a malformed JSON answer; not 404 or
        another 4xx, nor what the limits refuse."""
        start = self.clock()
        if start >= self.scan_deadline:
            budget = _secs(self.limits.scan)
            return Answer(0, error=f"not asked: the index time budget ({budget}) was spent")
        deadline = min(start + self.limits.request, self.scan_deadline)
        failure = "no answer"
        retry_after = 0.0
        tries = 0
        for attempt in range(self.retries):
            if attempt and self.backoff > 0:
                delay = max(self._delay(attempt), min(retry_after, 30.0))
                if self.clock() + delay >= deadline:
                    break
                self.sleep(delay)
            if self.clock() >= deadline:
                break
            tries += 1
            outcome = self._try(url, accept, deadline, limit or self.limits.body)
            if isinstance(outcome, _Retry):
                failure, retry_after = outcome.failure, outcome.retry_after
                continue
            if isinstance(outcome, Answer):
                return outcome
            status, body, content_type, final_url = outcome
            if raw:
                return Answer(status, body=body, content_type=content_type, url=final_url)
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                failure = "malformed JSON"
                continue
            if not isinstance(data, dict):
                failure = "malformed JSON (not an object)"
                continue
            return Answer(status, data, content_type=content_type, url=final_url)
        if self.clock() >= deadline:
            return Answer(0, error=self._late(deadline, tries))
        plural = "try" if tries == 1 else "tries"
        return Answer(0, error=f"{failure} after {tries} {plural}")

    def _late(self, deadline: float, tries: int) -> str:
        if deadline >= self.scan_deadline:
            return (
                f"no answer within the index time budget ({_secs(self.limits.scan)}) of this scan"
            )
        plural = "try" if tries == 1 else "tries"
        return f"no answer within {_secs(self.limits.request)} ({tries} {plural})"

    def _delay(self, attempt: int) -> float:
        return float(self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))

    def _try(
        self, url: str, accept: str, deadline: float, limit: int
    ) -> _Retry | Answer | tuple[int, bytes, str, str]:
        """One try, redirects followed: the 2xx answer's status, body, content type and
        URL, or an Answer to return as it is, or a failure worth another try."""
        import requests

        exchange = _Exchange(deadline, self.reach)
        self._watchdog.watch(exchange)
        _current.exchange = exchange
        try:
            current = url
            for _hop in range(MAX_REDIRECTS + 1):
                remaining = deadline - self.clock()
                if remaining <= 0:
                    return _Retry("timed out")
                timeout = (min(self.limits.connect, remaining), min(self.limits.read, remaining))
                response = self.session.get(
                    current,
                    timeout=timeout,
                    headers={"Accept": accept},
                    stream=True,
                    allow_redirects=False,
                )
                with response:
                    exchange.attach(_socket_of(response))
                    status = response.status_code
                    if status in {301, 302, 303, 307, 308}:
                        target, refused = self._redirect(current, response)
                        if refused is not None:
                            return Answer(0, error=refused)
                        current = target
                        continue
                    content_type = response.headers.get("Content-Type", "")
                    # read every answer, even a 404's: a connection whose answer was not
                    # read is closed instead of going back to the pool
                    body = self._read(response, exchange, limit)
                    final_url = current
                if isinstance(body, Answer):
                    return body
                if exchange.expired:
                    return _Retry("timed out")
                if status == 404:
                    return Answer(404)
                if status == 429 or status >= 500:
                    return _Retry(f"HTTP {status}", _seconds(response.headers.get("Retry-After")))
                if not 200 <= status < 300:
                    return Answer(0, error=f"HTTP {status}")
                return status, body, content_type, final_url
            return Answer(0, error=f"more than {MAX_REDIRECTS} redirects")
        except requests.Timeout:
            return _Retry("timed out")
        except requests.ConnectionError as exc:  # a read timeout in the body lands here
            if exchange.expired or "timed out" in str(exc).lower():
                return _Retry("timed out")
            return _Retry("could not connect")
        except requests.exceptions.ChunkedEncodingError:
            return _Retry("timed out" if exchange.expired else "answer cut short")
        except requests.RequestException as exc:
            if exchange.expired:
                return _Retry("timed out")
            return Answer(0, error=f"request failed ({type(exc).__name__})")
        except (ValueError, OSError) as exc:  # a URL urllib3 cannot read, a socket error
            if exchange.expired:
                return _Retry("timed out")
            return Answer(0, error=f"request failed ({type(exc).__name__})")
        finally:
            _current.exchange = None
            self._watchdog.forget(exchange)

    def _redirect(self, current: str, response: requests.Response) -> tuple[str, str | None]:
        """The next URL of a redirect, or why it is not followed."""
        location = response.headers.get("Location")
        if not location:
            return "", f"HTTP {response.status_code} redirect without a Location"
        try:
            target = urljoin(current, location.strip())
        except ValueError:
            return "", f"HTTP {response.status_code} redirect to a URL that cannot be parsed"
        why = self.reach.refusal(target)
        if why is not None:
            return "", f"redirect to {shown(target)} refused ({why})"
        return self.reach.with_credentials(target), None

    def _read(self, response: requests.Response, exchange: _Exchange, limit: int) -> bytes | Answer:
        too_large = Answer(0, error=f"answer larger than {_size(limit)}: not read")
        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            return too_large
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=_CHUNK):
            size += len(chunk)
            if size > limit:
                return too_large
            if exchange.expired or self.clock() >= exchange.deadline:
                exchange.expire()
                break
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(frozen=True)
class _Retry:
    failure: str
    retry_after: float = 0.0


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _secs(seconds: float) -> str:
    return f"{seconds:g} s"


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"
