"""The walking skeleton's path, for real: the kiosk app (real window, real taps)
talks over real HTTP to the real console (uvicorn), and staff act on the queue.

tap "call reception" → kiosk outbox → worker → console → queue page →
"on my way" → the kiosk's feed → "reception is coming" on the kiosk.
"""

from __future__ import annotations

import socket

import pytest
import requests

from console.server import ConsoleServer
from shared import kiosks
from shared.clock import SystemClock
from tests.helpers import StaffBrowser, add_staff, building_db, make_app
from tests.ui.conftest import holds_for_frames, screenshot, tap, wait_until


@pytest.fixture
def kiosk_clock():
    """Real time on both sides here: retries and backoff must really run."""
    return SystemClock()


def _pair(app, console_url=None):
    """An admin made a kiosk; the kiosk paired with the code (over HTTP when the console runs)."""
    db = building_db(app)
    created = kiosks.create(
        db, app.extensions["lobbydesk.clock"], building_id=1, name="大堂 A", actor="test"
    )
    if console_url:
        answer = requests.post(
            f"{console_url}/api/v1/pair", json={"code": created["pairing_code"]}, timeout=5
        )
        assert answer.status_code == 201
        return answer.json()
    return kiosks.pair(db, app.extensions["lobbydesk.clock"], created["pairing_code"])


def _escalations(app):
    return list(building_db(app).query("SELECT * FROM escalations"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_call_reception_reaches_the_desk_and_the_answer_reaches_the_kiosk(tmp_path, start_kiosk):
    app = make_app(tmp_path / "console")
    server = ConsoleServer(app).start_in_background()
    try:
        kiosk = start_kiosk(console_url=server.url, start_sync=True, pairing=_pair(app, server.url))
        home = kiosk.root.get_screen("home")
        assert wait_until(lambda: home.ids.top_bar.ids.status_label.text == "在线")

        add_staff(app)
        staff = StaffBrowser(app.test_client())
        staff.login()

        tap(home.ids.help)  # how fast it arrives is measured in bench/, not asserted here
        assert wait_until(lambda: len(_escalations(app)) == 1, message="the call reached the desk")
        rows = staff.client.get("/queue/rows").get_data(as_text=True)
        assert "呼叫前台 · Call reception" in rows and "大堂 A" in rows

        help_screen = kiosk.root.get_screen("help")
        escalation_id = _escalations(app)[0]["id"]
        staff.post(f"/queue/escalations/{escalation_id}/acknowledge")
        assert wait_until(lambda: "正在赶来" in help_screen.ids.status.text)
        assert "王芳" in help_screen.ids.status.text
        screenshot("kiosk_help_coming_live_zh.png")
        assert len(_escalations(app)) == 1
    finally:
        server.stop()


def test_with_the_console_down_the_tap_is_answered_at_once_and_delivered_once_later(
    tmp_path, start_kiosk
):
    port = _free_port()
    app = make_app(tmp_path / "console")
    pairing = _pair(app)  # paired earlier, while the console was up
    kiosk = start_kiosk(console_url=f"http://127.0.0.1:{port}", start_sync=True, pairing=pairing)
    home = kiosk.root.get_screen("home")

    tap(home.ids.help)  # read right after the touch below: nothing waited for
    help_screen = kiosk.root.get_screen("help")
    assert kiosk.root.current == "help"
    assert help_screen.ids.status.text  # an answer on screen at once …
    assert wait_until(lambda: home.ids.top_bar.ids.status_label.text == "离线")
    assert "网络恢复" in help_screen.ids.status.text  # … and an honest one
    assert _escalations(app) == []

    server = ConsoleServer(app, port=port).start_in_background()
    try:
        assert wait_until(lambda: len(_escalations(app)) == 1)
        assert wait_until(lambda: home.ids.top_bar.ids.status_label.text == "在线")
        # a further second of syncing: nothing more arrives
        holds_for_frames(lambda: len(_escalations(app)) == 1, 1.0, "one call at the desk")
        [row] = _escalations(app)
        assert row["kind"] == "help" and row["status"] == "open"
    finally:
        server.stop()
