"""Driving the real kiosk window headless (see docs/KIOSK_HEADLESS.md).

Kivy reads its environment when first imported, so it is set here, before any
import of kivy; only tests under tests/ui import Kivy (one window per process).
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk import headless  # plain Python: sets the environment Kivy reads on import

headless.prepare()

from kivy.config import Config  # noqa: E402

# The offscreen GL surface keeps the size the window was created with: a later,
# larger Window.size renders garbage outside it. Create it big enough for both
# orientations (before anything imports kivy.core.window); each app then sets
# its own Window.size.
Config.set("graphics", "width", "1920")
Config.set("graphics", "height", "1920")

import pytest  # noqa: E402
from kivy.base import EventLoop  # noqa: E402
from kivy.core.text import LabelBase  # noqa: E402

from kiosk.app import LobbyKioskApp  # noqa: E402
from kiosk.config import KioskSettings  # noqa: E402
from kiosk.salvage import open_kiosk_store  # noqa: E402
from shared.clock import FrozenClock  # noqa: E402
from tests.stub_console import TOKEN  # noqa: E402
from tests.ui.driving import (  # noqa: E402, F401
    holds_for_frames,
    start_app,
    step,
    stop_app,
    tap,
    wait_until,
)

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
NOBODY_LISTENS = "http://127.0.0.1:9"  # the discard port: connection refused at once


def screenshot(name: str) -> Path:
    """Save the window as tests/screenshots/<name> once frames have been drawn."""
    window = EventLoop.window
    SCREENSHOTS.mkdir(exist_ok=True)
    target = SCREENSHOTS / name
    flips = {"count": 0, "file": None}

    def on_flip(*_args):
        flips["count"] += 1
        if flips["count"] == 3 and flips["file"] is None:
            flips["file"] = window.screenshot(name=str(target))

    window.bind(on_flip=on_flip)
    try:
        for _ in range(30):
            window.canvas.ask_update()
            EventLoop.idle()
            if flips["file"]:
                break
    finally:
        window.unbind(on_flip=on_flip)
    assert flips["file"], "no frame was drawn"
    os.replace(flips["file"], target)  # Window.screenshot appends a counter
    return target


_refresh_label = LabelBase.refresh


def _refresh_into_a_new_texture(label) -> None:
    """Mesa's llvmpipe stalls 200-450 ms when Kivy re-renders text into the same
    texture the last frame drew (same size: a digit typed, a clock ticking): it
    waits for that frame to be rasterised. A fresh texture each time costs ~1 ms.
    Tests only: on the kiosk's GPU the reuse is cheap."""
    label.texture = None
    _refresh_label(label)


LabelBase.refresh = _refresh_into_a_new_texture


@pytest.fixture(scope="session")
def window():
    EventLoop.ensure_window()
    return EventLoop.window


@pytest.fixture
def kiosk_clock():
    return FrozenClock("2026-11-27T09:00:00+00:00")


@pytest.fixture
def start_kiosk(tmp_path, kiosk_clock, window):
    """start_kiosk(console_url=..., orientation=..., start_sync=...) -> a running app."""
    started = []

    def start(
        console_url: str = NOBODY_LISTENS,
        orientation: str = "portrait",
        start_sync: bool = False,
        paired: bool = True,
        pairing: dict | None = None,
        **sync_options,
    ) -> LobbyKioskApp:
        settings = KioskSettings(
            console_url=console_url,
            data_dir=tmp_path / f"kiosk{len(started)}",
            orientation=orientation,
        )
        store = open_kiosk_store(settings.db_path, kiosk_clock)  # as kiosk/main.py opens it
        if pairing is not None:
            store.save_pairing(pairing)  # a real console's answer to POST /api/v1/pair
        elif paired:
            store.save_pairing({"token": TOKEN, "kiosk": {"id": 1, "name": "Lobby A"},
                                "building": {"name": "滨江花园", "name_en": "Riverside Gardens"}})  # fmt: skip
        app = start_app(
            settings, store, clock=kiosk_clock, start_sync=start_sync, sync_options=sync_options
        )
        started.append((app, store))
        step(3)
        return app

    yield start
    for app, store in started:
        stop_app(app, store)
    step()


@pytest.fixture
def kiosk_app(start_kiosk):
    return start_kiosk()


# -- the real console, for end-to-end tests ----------------------------------
def pair_over_http(app, console_url: str) -> dict:
    """An admin made a kiosk; the kiosk paired with its code over real HTTP."""
    import requests

    from shared import kiosks
    from tests.helpers import building_db

    db = building_db(app)
    created = kiosks.create(
        db, app.extensions["lobbydesk.clock"], building_id=1, name="大堂 A", actor="test"
    )
    answer = requests.post(
        f"{console_url}/api/v1/pair", json={"code": created["pairing_code"]}, timeout=5
    )
    assert answer.status_code == 201
    return answer.json()


@pytest.fixture
def console(tmp_path):
    """The real console over HTTP (uvicorn), and a receptionist signed in: (app, server, staff)."""
    from tests.helpers import StaffBrowser, add_staff, make_app
    from tests.servers import serve

    app = make_app(tmp_path / "console")
    server = serve(app)
    add_staff(app)
    staff = StaffBrowser(app.test_client())
    staff.login()
    try:
        yield app, server, staff
    finally:
        server.stop()


@pytest.fixture
def kiosk(console, start_kiosk):
    """The kiosk app paired with the real console and online."""
    app, server, _staff = console
    running = start_kiosk(
        console_url=server.url, start_sync=True, pairing=pair_over_http(app, server.url)
    )
    bar = running.root.get_screen("home").ids.top_bar.ids
    assert wait_until(lambda: bar.status_label.text == "在线")
    return running
