"""Real headless Chromium for the tests of what depchain draws (the HTML report, the
Mermaid text), driven by Playwright for Python over a pipe.

The browser is the system's (Debian's ``chromium``, or ``$DEPCHAIN_CHROMIUM``): no
``playwright install``, no download. It is told not to reach anything of its own
accord, and every page is watched: console errors, uncaught exceptions, dialogs and
every request that is not the page itself are recorded, so that a test can demand
there were none. Without Chromium or Playwright the tests that need them skip, saying
which is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
]


def chromium_path() -> str | None:
    """The Chromium to run: ``$DEPCHAIN_CHROMIUM``, else ``chromium`` on the PATH."""
    wanted = os.environ.get("DEPCHAIN_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def launch() -> Iterator[Any]:
    """One browser for as long as the generator is open; skips when it cannot be had."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "Chromium not found (install Debian's chromium package, or set DEPCHAIN_CHROMIUM)"
        )
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install '.[test]')")
    manager = sync_playwright().start()
    try:
        try:
            browser = manager.chromium.launch(executable_path=executable, args=ARGS)
        except Error as exc:  # a Chromium that cannot start here is no test failure of ours
            pytest.skip(f"Chromium at {executable} did not start: {str(exc).splitlines()[0]}")
        yield browser
        browser.close()
    finally:
        manager.stop()


@dataclass
class PageLog:
    """What a page said and did besides drawing."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_quiet(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.dialogs == [], self.dialogs
        assert self.requests == [], self.requests


def open_page(browser: Any, url: str | None = None, width: int = 1400, height: int = 1000) -> Any:
    """A new page (in a context of its own, offline) with a :class:`PageLog` as
    ``page.log``; at ``url`` when given (a ``file://`` URL of a written report)."""
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    log = PageLog()
    page.log = log
    page.on(
        "console",
        lambda m: log.console_errors.append(m.text) if m.type in {"error", "assert"} else None,
    )
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))

    def dialog(d: Any) -> None:
        log.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    page.on(
        "request",
        lambda r: None if r.url == url or r.url.startswith("data:") else log.requests.append(r.url),
    )
    if url is not None:
        page.goto(url)
    return page


def pixel_stats(browser: Any, png: bytes) -> tuple[int, int]:
    """Of a PNG screenshot: how many pixels differ from its first one (zero: a single
    colour) and how many distinct colours it has, counted by the browser itself on a
    canvas of a blank page (no imaging library needed)."""
    import base64

    page = open_page(browser)
    try:
        return tuple(  # type: ignore[return-value]
            page.evaluate(
                """async (src) => {
                    const img = new Image();
                    img.src = src;
                    await img.decode();
                    const c = document.createElement("canvas");
                    c.width = img.width; c.height = img.height;
                    const g = c.getContext("2d");
                    g.drawImage(img, 0, 0);
                    const d = g.getImageData(0, 0, c.width, c.height).data;
                    const colours = new Set();
                    let differ = 0;
                    for (let i = 0; i < d.length; i += 4) {
                        const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
                        if (v !== ((d[0] << 16) | (d[1] << 8) | d[2])) differ++;
                        colours.add(v);
                    }
                    return [differ, colours.size];
                }""",
                "data:image/png;base64," + base64.b64encode(png).decode(),
            )
        )
    finally:
        page.context.close()
