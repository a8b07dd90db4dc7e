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


class FakeIndex(BaseAdapter):
    """Answers ``/pypi/<name>/json`` from ``recorded/pypi/<name>.json`` and
    ``/integrity/<name>/<version>/<file>/provenance`` from ``recorded/integrity/``;
    anything else 404 with an empty body, as the recording index did. ``script(path,
    ...)`` queues answers (``(status, body)``) or exceptions to raise for a path, used
    before the recording."""

    def __init__(self, root: Path = RECORDED, delay: float = 0.0) -> None:
        super().__init__()
        self.root = root
        self.delay = delay
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
                status, body = self._recorded(path)
                headers: Mapping[str, str] = {}
            else:
                status, body, *rest = action
                headers = rest[0] if rest else {}
            return _response(request, status, body, headers)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _recorded(self, path: str) -> tuple[int, bytes]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json":
            file = self.root / "pypi" / f"{parts[1]}.json"
        elif len(parts) == 5 and parts[0] == "integrity" and parts[4] == "provenance":
            file = self.root / "integrity" / parts[1] / parts[2] / f"{parts[3]}.provenance"
        else:
            return 404, b""
        return (200, file.read_bytes()) if file.is_file() else (404, b"")

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
