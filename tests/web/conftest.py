"""Browser tests: the pages in Debian's chromium driven by Playwright, against a live server.

Chromium is the system one (``/usr/bin/chromium``, installed by ``.ci/run``); Playwright never
downloads a browser. WebGL (NiiVue) runs on SwiftShader, so no GPU is needed. Screenshots go to
``docs/img/web/`` when ``NENSCOPE_SCREENSHOTS=1`` (how docs/web.md's pictures were made).
"""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREEN = {"width": 1366, "height": 768}
# WebGL on SwiftShader and a shared 2-core machine are slow: wait up to 30 s for a page to
# reach what a test expects (a test never asserts on timings).
expect.set_options(timeout=30_000)
PASSWORD = "correct horse battery"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "web"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """A uvicorn server on 127.0.0.1 in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests use Debian's chromium "
            "(apt-get install chromium; .ci/run installs it)."
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=SCREEN)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str) -> None:
    """Save a screenshot for docs/web.md when NENSCOPE_SCREENSHOTS=1 (small palette PNG)."""
    if os.environ.get("NENSCOPE_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot()
    # a 64-colour palette keeps docs/img small; the pages are flat colours
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64)
    image.save(SHOTS / f"{name}.png", optimize=True)


def log_in(page: Page, server: LiveServer, user: str, next_path: str = "/") -> None:
    """Open ``next_path``, get sent to the log-in page, log in, land on ``next_path``."""
    page.goto(f"{server.url}{next_path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("[name=username]", user)
    page.fill("[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}{next_path}")
