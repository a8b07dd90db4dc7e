"""A misbehaving package index on 127.0.0.1, for the tests of the network's bounds.

:class:`LocalIndex` serves each path from a handler function given to :meth:`route`;
the handlers here are the hostile ones (a slow drip, a huge page, a redirect to the
metadata address). It listens on 127.0.0.1 only and on a port the system picks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler, threading.Event], None]


class LocalIndex:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        """(path with query, headers) of every request."""
        self.stop = threading.Event()
        index = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                index.seen.append((self.path, dict(self.headers.items())))
                path = self.path.split("?", 1)[0]
                handler = index.routes.get(path) or index.routes.get("*")
                try:
                    if handler is None:
                        send(self, 404, b"")
                    else:
                        handler(self, index.stop)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def paths(self) -> list[str]:
        return [p for p, _ in self.seen]

    def __enter__(self) -> LocalIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def local_index() -> Iterator[LocalIndex]:
    with LocalIndex() as index:
        yield index


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def answer(
    status: int, body: bytes = b"", content_type: str = "application/json", **headers: str
) -> Handler:
    def handle(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        send(h, status, body, content_type, {k.replace("_", "-"): v for k, v in headers.items()})

    return handle


def drip(every: float = 2.0, headers_too: bool = False) -> Handler:
    """A slowloris: one byte every ``every`` seconds, for ever (until the test ends);
    of the body, or with ``headers_too`` of the status line and headers already."""

    def handle(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        if headers_too:
            text = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: a" * 10_000
        else:
            h.send_response(200)
            h.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            h.send_header("Connection", "close")  # no length: the body ends when it ends
            h.close_connection = True
            h.end_headers()
            h.wfile.flush()
            text = b'{"meta": {"api-version": "1.1"}, "files": [' + b" " * 10**6
        for byte in text:
            if stop.wait(every):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()

    return handle


def large(size: int, declared: bool = True, content_type: str = "text/html") -> Handler:
    """A page of ``size`` bytes of ``<a>`` links, with or without a Content-Length."""
    unit = b'<a href="/f/big-1.0.tar.gz#sha256=00">x</a>\n'

    def handle(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        if declared:
            h.send_header("Content-Length", str(size))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        block = unit * (65536 // len(unit))
        sent = 0
        while sent < size and not stop.is_set():
            piece = block[: size - sent]
            h.wfile.write(piece)
            sent += len(piece)

    return handle


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start
