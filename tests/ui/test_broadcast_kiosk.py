"""Announcements and the emergency broadcast, for real: staff act on the real console
(uvicorn, over HTTP for the kiosk), the real kiosk window shows the result.

Screenshots: tests/screenshots/broadcast_*.png.
"""

from __future__ import annotations

import io
import math
import socket

import pytest
from PIL import Image

from console import create_app
from console.server import ConsoleServer
from kiosk.backoff import Backoff
from kiosk.viewmodels.broadcast import reading_seconds
from shared import kiosks
from tests.helpers import StaffBrowser, add_staff, building_db, make_app
from tests.ui.conftest import (
    holds_for_frames,
    pair_over_http,
    screenshot,
    step,
    tap,
    wait_until,
)

WATER = {
    "title_zh": "周五停水通知",
    "title_en": "Water off on Friday",
    "body_zh": "11月28日（周五）9:00–17:00 二次供水设备检修，全楼停水，请提前储水。",
    "body_en": "Friday 28 November, 9:00–17:00: the pumps are serviced and the whole "
    "building has no water. Please store some in advance.",
    "priority": "7",
}
MARKET = {
    "title_zh": "周末社区市集",
    "title_en": "Community market this weekend",
    "body_zh": "周六上午在中心花园举办跳蚤市场，欢迎参加。",
    "body_en": "A flea market in the central garden on Saturday morning. Everyone welcome.",
    "priority": "2",
}


def _picture() -> bytes:
    """A notice's poster: a blue panel with a white drop, as a PNG with EXIF."""
    image = Image.new("RGB", (900, 900), (31, 95, 173))
    for y in range(250, 700):
        half = int(((y - 250) / 450) ** 0.5 * 220) if y < 560 else int((700 - y) * 1.4)
        for x in range(450 - half, 450 + half):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # a camera make the console must not pass on
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


def _manager(app) -> StaffBrowser:
    add_staff(app, username="manager", role="manager", display_name="李经理")
    manager = StaffBrowser(app.test_client())
    assert manager.login("manager").status_code == 302
    return manager


def publish(manager: StaffBrowser, fields: dict, picture: bytes | None = None):
    data = {"csrf_token": manager.csrf, "starts_at": "", "ends_at": "", **fields}
    if picture is not None:
        data["image"] = (io.BytesIO(picture), "poster.png")
    response = manager.client.post(
        "/announcements/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return next(iter(building_db(manager.client.application).query(
        "SELECT id FROM announcements ORDER BY id DESC LIMIT 1")))["id"]  # fmt: skip


def start_emergency(staff: StaffBrowser, kind="fire", **texts):
    from shared.emergency_broadcast import KINDS

    response = staff.post(
        "/emergency/start",
        kind=kind,
        instructions_zh=texts.get("zh", KINDS[kind]["instructions_zh"]),
        instructions_en=texts.get("en", KINDS[kind]["instructions_en"]),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return next(iter(building_db(staff.client.application).query(
        "SELECT id FROM emergencies ORDER BY id DESC LIMIT 1")))["id"]  # fmt: skip


def stays(notice: dict) -> float:
    """How long the carousel keeps a notice (its reading time), in whole seconds."""
    zh, en = notice["title_zh"] + notice["body_zh"], f"{notice['title_en']} {notice['body_en']}"
    return float(math.ceil(reading_seconds(zh, en)))


def home(kiosk):
    return kiosk.root.get_screen("home")


def carousel(kiosk):
    return home(kiosk).ids.carousel


def inside(card) -> None:
    """Every line of the notice is within its card: none spills over the greeting or tiles."""
    for name in ("label", "title", "body", "secondary"):
        line = card.ids[name]
        assert card.y <= line.y and line.top <= card.top, name


def overlay_shows(kiosk, title: str) -> bool:
    overlay = kiosk.emergency_overlay
    return overlay is not None and overlay.is_open and overlay.ids.title_zh.text == title


def test_an_announcement_published_on_the_console_appears_in_the_carousel(
    console, kiosk, kiosk_clock
):
    app, _server, _reception = console
    manager = _manager(app)
    assert not carousel(kiosk).shown  # nothing published: the greeting has the room

    # The kiosk hears it through its feed (a parked long-poll woken: proven without a
    # window in tests/test_emergency_broadcast.py); how fast is measured in bench/.
    water = publish(manager, WATER, _picture())
    ids = carousel(kiosk).ids
    assert wait_until(lambda: ids.title.text == "周五停水通知")
    assert ids.body.text.startswith("11月28日（周五）")
    assert ids.secondary.text.startswith("Water off on Friday — Friday 28 November")
    assert wait_until(lambda: carousel(kiosk).image_source.endswith(".jpg"))
    assert ids.position.text == ""  # only one
    assert home(kiosk).ids.footer.opacity == 1  # the notices' room is reserved: nothing makes way
    for name in ("visitor", "parcel", "repair", "help"):  # the tiles stay big
        assert home(kiosk).ids[name].height >= 200, name
    inside(carousel(kiosk))
    step(5)
    screenshot("broadcast_carousel_zh.png")

    market = publish(manager, MARKET)
    assert wait_until(lambda: ids.position.text == "1 / 2")
    assert ids.title.text == "周五停水通知"  # priority 7 before priority 2
    # each notice stays for its reading time (at least 8 s), then the next one
    kiosk_clock.advance(seconds=stays(WATER) - 1)
    holds_for_frames(
        lambda: ids.title.text == "周五停水通知", 2.5, "not moved on before it is read"
    )
    kiosk_clock.advance(seconds=1)
    assert wait_until(lambda: ids.title.text == "周末社区市集")
    assert ids.position.text == "2 / 2" and carousel(kiosk).image_source == ""
    kiosk_clock.advance(seconds=stays(MARKET))
    assert wait_until(lambda: ids.title.text == "周五停水通知")

    tap(home(kiosk).ids.top_bar.ids.language)
    assert ids.title.text == "Water off on Friday"
    assert ids.body.text.startswith("Friday 28 November")
    assert ids.secondary.text == ""  # English is the language: no second line
    assert ids.label.text == "Notice"
    step(5)
    screenshot("broadcast_carousel_en.png")
    tap(home(kiosk).ids.top_bar.ids.language)

    response = manager.post(f"/announcements/{water}/withdraw", confirm="yes")
    assert response.status_code == 302
    assert wait_until(lambda: ids.title.text == "周末社区市集")
    assert ids.position.text == ""
    manager.post(f"/announcements/{market}/withdraw", confirm="yes")
    assert wait_until(lambda: not carousel(kiosk).shown)
    assert home(kiosk).ids.footer.opacity == 1


def test_the_kiosk_keeps_its_notices_when_the_console_is_gone(console, kiosk, kiosk_clock):
    app, server, _reception = console
    manager = _manager(app)
    publish(manager, WATER)
    ids = carousel(kiosk).ids
    assert wait_until(lambda: ids.title.text == "周五停水通知")
    server.stop()
    assert wait_until(lambda: not kiosk.online)
    # the console's cache in the kiosk store, as a restarted kiosk would read it
    from kiosk.viewmodels.broadcast import CACHE_KEY, BroadcastViewModel

    cached = BroadcastViewModel(kiosk_clock, kiosk.store.get(CACHE_KEY))
    assert [a["title_zh"] for a in cached.showing()] == ["周五停水通知"]
    assert ids.title.text == "周五停水通知"  # still shown, offline


def test_an_emergency_takes_over_the_kiosk_and_ending_it_restores_home(console, kiosk):
    app, _server, reception = console
    # someone is half-way through registering as a visitor
    tap(home(kiosk).ids.visitor)
    assert kiosk.root.current == "visitor_phone"  # (phone first: kiosk-flow)

    emergency_id = start_emergency(reception, "fire")  # how fast: bench/emergency_broadcast.py
    assert wait_until(lambda: overlay_shows(kiosk, "火警"))

    overlay = kiosk.emergency_overlay
    assert overlay.ids.title_en.text == "Fire alarm"
    assert overlay.ids.instructions_zh.text.startswith("请保持冷静，立即从最近的安全出口")
    assert overlay.ids.instructions_en.text.startswith("Stay calm and leave now")
    assert "本终端暂停服务" in overlay.ids.paused.text
    assert "This kiosk is paused" in overlay.ids.paused.text
    assert overlay.size == kiosk.root.size  # the whole screen
    assert kiosk.root.current == "home" and kiosk.visitor.step == "idle"  # the flow is gone
    tap(home(kiosk).ids.parcel)  # a tap where a tile was does nothing
    tap(home(kiosk).ids.help)
    assert kiosk.root.current == "home" and overlay.is_open
    assert building_db(app).execute("SELECT COUNT(*) FROM escalations").fetchone()[0] == 0
    step(5)
    screenshot("broadcast_emergency.png")

    assert reception.post(f"/emergency/{emergency_id}/end", confirm="yes").status_code == 302
    assert wait_until(lambda: not overlay.is_open)
    assert kiosk.root.current == "home" and kiosk.language == "zh_CN"
    tap(home(kiosk).ids.parcel)  # the kiosk works again
    assert kiosk.root.current == "parcel_pickup"


def test_edited_instructions_in_landscape(console, start_kiosk):
    app, server, reception = console
    kiosk = start_kiosk(
        console_url=server.url,
        orientation="landscape",
        start_sync=True,
        pairing=pair_over_http(app, server.url),
    )
    assert wait_until(lambda: kiosk.online)
    start_emergency(
        reception, "power", zh="大楼停电，电梯停运。请走楼梯，并听从工作人员指挥。",
        en="Power cut: the lifts are stopped. Use the stairs and follow staff instructions.",
    )  # fmt: skip
    assert wait_until(lambda: overlay_shows(kiosk, "停电"))
    ids = kiosk.emergency_overlay.ids
    assert ids.instructions_zh.text == "大楼停电，电梯停运。请走楼梯，并听从工作人员指挥。"
    assert ids.instructions_en.text.startswith("Power cut: the lifts are stopped.")
    assert ids.paused.y >= kiosk.emergency_overlay.y  # everything fits on the screen
    assert ids.title_zh.top <= kiosk.emergency_overlay.top
    step(5)
    screenshot("broadcast_emergency_landscape.png")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_kiosk_cut_off_from_the_console_shows_the_emergency_on_reconnect(tmp_path, start_kiosk):
    port = _free_port()
    data_dir = tmp_path / "console"
    app = make_app(data_dir)
    server = ConsoleServer(app, port=port).start_in_background()
    restarted = None
    try:
        kiosk = start_kiosk(
            console_url=server.url,
            start_sync=True,
            pairing=pair_over_http(app, server.url),
            backoff=Backoff(base=0.2, cap=1.0),
        )
        assert wait_until(lambda: kiosk.online)
        server.stop()  # the console goes away …
        assert wait_until(lambda: not kiosk.online)

        add_staff(app)  # … staff start the emergency meanwhile (the console's own pages)
        reception = StaffBrowser(app.test_client())
        reception.login()
        start_emergency(reception, "water")
        step(30)
        assert not kiosk.emergency_overlay.is_open  # it cannot know yet

        again = create_app({"TESTING": True, "DATA_DIR": str(data_dir),
                            "SECRET_KEY": app.config["SECRET_KEY"]})  # fmt: skip
        restarted = ConsoleServer(again, port=port).start_in_background()
        assert wait_until(lambda: overlay_shows(kiosk, "漏水 / 停水"))
        assert wait_until(lambda: kiosk.online)
    finally:
        server.stop() if restarted is None else restarted.stop()


def test_a_kiosk_started_during_an_emergency_shows_it_at_once(console, start_kiosk):
    """Paired after the emergency began, its feed has no event: the broadcast state does it."""
    app, server, reception = console
    start_emergency(
        reception, "other", zh="请在大堂等候工作人员。", en="Please wait in the lobby for staff."
    )
    db = building_db(app)
    created = kiosks.create(db, app.extensions["lobbydesk.clock"], building_id=1, name="大堂 B",
                            actor="test")  # fmt: skip
    import requests

    pairing = requests.post(
        f"{server.url}/api/v1/pair", json={"code": created["pairing_code"]}, timeout=5
    ).json()
    kiosk = start_kiosk(console_url=server.url, start_sync=True, pairing=pairing)
    assert wait_until(lambda: overlay_shows(kiosk, "紧急情况"))
    assert kiosk.emergency_overlay.ids.instructions_en.text == "Please wait in the lobby for staff."


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_the_longest_instructions_still_fit_on_the_screen(console, start_kiosk, orientation):
    app, server, reception = console
    kiosk = start_kiosk(
        console_url=server.url,
        orientation=orientation,
        start_sync=True,
        pairing=pair_over_http(app, server.url),
    )
    assert wait_until(lambda: kiosk.online)
    zh = ("请保持冷静，听从工作人员指挥，从最近的楼梯疏散。" * 25)[:500]
    en = ("Stay calm, follow staff and leave by the nearest stairs. " * 10)[:500]
    start_emergency(reception, "other", zh=zh, en=en)
    assert wait_until(lambda: overlay_shows(kiosk, "紧急情况"))
    step(5)
    overlay = kiosk.emergency_overlay
    ids = overlay.ids
    assert len(ids.instructions_zh.text) == 500 and len(ids.instructions_en.text) == 500
    # top to bottom, nothing overlaps and nothing falls off the screen
    assert ids.title_zh.top <= overlay.top and ids.sign.top <= overlay.top
    assert ids.title_en.y >= ids.instructions_zh.top - 1
    assert ids.instructions_zh.y >= ids.instructions_en.top - 1
    assert ids.instructions_en.y >= ids.paused.top - 1
    assert ids.paused.y >= overlay.y
    screenshot(f"broadcast_emergency_longest_{orientation}.png")


def test_landscape_home_with_a_notice_beside_the_greeting(console, start_kiosk):
    app, server, _reception = console
    kiosk = start_kiosk(
        console_url=server.url,
        orientation="landscape",
        start_sync=True,
        pairing=pair_over_http(app, server.url),
    )
    assert wait_until(lambda: kiosk.online)
    publish(_manager(app), WATER, _picture())
    ids = home(kiosk).ids
    assert wait_until(lambda: carousel(kiosk).ids.title.text == "周五停水通知")
    assert wait_until(lambda: carousel(kiosk).image_source.endswith(".jpg"))
    step(5)
    assert ids.carousel.x >= ids.greeting.right - 1  # side by side, not on top of each other
    assert ids.carousel.right <= kiosk.root.width
    inside(carousel(kiosk))
    for name in ("visitor", "parcel", "repair", "help"):
        assert ids[name].height >= 200, name
        assert ids[name].top <= ids.carousel.y + 1
    screenshot("broadcast_carousel_landscape_zh.png")
