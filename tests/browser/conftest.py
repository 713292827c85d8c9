"""Browser fixtures: a real console on a real port, Debian's Chromium, a kiosk over HTTP.

The console runs in-process under uvicorn (console.server.ConsoleServer), so
tests can move its clock; the browser and the kiosk reach it only through
TCP, exactly as at the desk.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from console.server import ConsoleServer
from shared.clock import FrozenClock
from tests.browser.actions import KioskHttp
from tests.helpers import add_staff, make_app, paired_kiosk
from tests.servers import CHROMIUM, launch_chromium, serve

# How long an action or an expect() waits for the page before failing. Generous: a
# busy two-core machine can be many times slower than a quiet one, and a passing
# test goes on the moment the page is right, so only a real failure pays for it.
PAGE_TIMEOUT_MS = 20_000
expect.set_options(timeout=PAGE_TIMEOUT_MS)

# A short keep-alive lets an event stream whose browser has gone notice it
# quickly, so stopping the server does not wait on parked stream threads.
TEST_CONFIG = {"STREAM_KEEPALIVE_SECONDS": 0.25}


class Console:
    """A running console: its app, base URL and (when frozen) its clock."""

    def __init__(self, app, server: ConsoleServer, clock: FrozenClock | None):
        self.app, self.server, self.clock = app, server, clock

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def start_console(tmp_path):
    """Start a real console; call with `clock=FrozenClock(...)` to control its time."""
    started: list[ConsoleServer] = []

    def start(clock: FrozenClock | None = None) -> Console:
        app = make_app(tmp_path, clock, **TEST_CONFIG)
        server = serve(app)
        started.append(server)
        return Console(app, server, clock)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def console(start_console) -> Console:
    """The console on the real system clock."""
    return start_console()


@pytest.fixture
def frozen_console(start_console) -> Console:
    """The console on a clock the test moves by hand."""
    return start_console(FrozenClock(datetime.now(UTC).replace(microsecond=0)))


@pytest.fixture(scope="session")
def browser() -> Browser:
    # Never skipped: a missing browser is a set-up failure to see, not a pass.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/bootstrap test"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, start_console) -> Page:
    # Depends on start_console so that it is torn down first: the page's event
    # stream closes before the server stops.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


def _kiosk_for(target: Console, name: str = "大堂 A · Lobby A"):
    _kiosk_id, token = paired_kiosk(target.app, name=name)
    kiosk = KioskHttp(target.url, token)
    return kiosk


@pytest.fixture
def kiosk(console):
    kiosk = _kiosk_for(console)
    yield kiosk
    kiosk.close()


@pytest.fixture
def frozen_kiosk(frozen_console):
    kiosk = _kiosk_for(frozen_console)
    yield kiosk
    kiosk.close()


@pytest.fixture
def reception_staff(console):
    add_staff(console.app, username="wangfang", role="reception", display_name="王芳")
    return "wangfang"


@pytest.fixture
def frozen_reception_staff(frozen_console):
    add_staff(frozen_console.app, username="wangfang", role="reception", display_name="王芳")
    return "wangfang"
