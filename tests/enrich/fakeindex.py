"""A package index that answers from recorded files, through requests' own adapter
mechanism: mount :class:`FakeIndex` on a Session and every request is answered from
``recorded/`` (or by a script of failures), with no socket."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

RECORDED = Path(__file__).parent / "recorded"
INDEX = "https://pypi.org/simple"


SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class FakeIndex(BaseAdapter):
    """Answers ``/pypi/<name>/json`` from ``recorded/pypi/<name>.json``,
    ``/integrity/<name>/<version>/<file>/provenance`` from ``recorded/integrity/``, and
    the Simple API page ``/simple/<name>/`` (on any host) from
    ``recorded/simple/<name>.json`` (PEP 691), or ``<name>.html`` (PEP 503) when
    ``html`` is set or there is no JSON recording; anything else 404 with an empty body,
    as the recording index did. ``script(path, ...)`` queues answers (``(status, body)``
    or ``(status, body, headers)``) or exceptions to raise for a path, used before the
    recording."""

    def __init__(self, root: Path = RECORDED, delay: float = 0.0, html: bool = False) -> None:
        super().__init__()
        self.root = root
        self.delay = delay
        self.html = html
        self.calls: list[str] = []
        self.timeouts: list[Any] = []
        self.scripts: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0

    def script(self, path: str, *actions: Any) -> None:
        self.scripts.setdefault(path, []).extend(actions)

    def paths(self) -> list[str]:
        return [urlsplit(url).path for url in self.calls]

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = request.url or ""
        path = urlsplit(url).path
        with self._lock:
            self.calls.append(url)
            self.timeouts.append(timeout)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            queued = self.scripts.get(path)
            action = queued.pop(0) if queued else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if isinstance(action, BaseException):
                raise action
            if action is None:
                status, body, content_type = self._recorded(path)
                headers: Mapping[str, str] = {"Content-Type": content_type} if status == 200 else {}
            else:
                status, body, *rest = action
                headers = rest[0] if rest else {}
            return _response(request, status, body, headers)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _recorded(self, path: str) -> tuple[int, bytes, str]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        content_type = "application/json"
        if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json":
            file = self.root / "pypi" / f"{parts[1]}.json"
        elif len(parts) == 5 and parts[0] == "integrity" and parts[4] == "provenance":
            file = self.root / "integrity" / parts[1] / parts[2] / f"{parts[3]}.provenance"
        elif len(parts) == 2 and parts[0] == "simple" and path.endswith("/"):
            file, content_type = self.root / "simple" / f"{parts[1]}.json", SIMPLE_JSON
            if self.html or not file.is_file():
                file, content_type = self.root / "simple" / f"{parts[1]}.html", "text/html"
        else:
            return 404, b"", ""
        return (200, file.read_bytes(), content_type) if file.is_file() else (404, b"", "")

    def close(self) -> None:
        pass


def _response(
    request: requests.PreparedRequest, status: int, body: bytes, headers: Mapping[str, str]
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = HTTPStatus(status).phrase
    response.raw = io.BytesIO(body)
    response.headers = CaseInsensitiveDict(
        {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
    )
    response.url = request.url or ""
    response.request = request
    return response


def session_for(adapter: BaseAdapter) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class NoNetwork(requests.Session):
    """A session whose every send fails the test: proof that no request is made."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        raise AssertionError(f"a request was sent: {request.url}")
