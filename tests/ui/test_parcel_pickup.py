"""Parcel pickup end to end: the real kiosk window (keypad taps, a simulated USB
scanner) against the real console over HTTP, parcels logged at the desk the way
tests/test_parcels.py logs them.

Screenshots: tests/screenshots/kiosk_parcel_<step>_<zh|en>.png.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from kivy.core.window import Window

from kiosk import theme
from kiosk.outbox import Outbox
from kiosk.viewmodels import parcel as pv
from shared.clock import SystemClock
from tests.helpers import building_db
from tests.test_parcels import log_parcel, other_code, pickup_code, qr_token
from tests.ui.conftest import pair_over_http, screenshot, step, tap, wait_until

SCREEN = "parcel_pickup"


@pytest.fixture
def kiosk_clock():
    """Real time on both sides: the worker really sends."""
    return SystemClock()


def parcel_screen(kiosk):
    return kiosk.root.get_screen(SCREEN)


def shoot(kiosk, name: str) -> None:
    """The screen in Chinese, then in English, and back."""
    assert kiosk.language == "zh_CN"
    screenshot(f"kiosk_parcel_{name}_zh.png")
    tap(parcel_screen(kiosk).ids.top_bar.ids.language)
    screenshot(f"kiosk_parcel_{name}_en.png")
    tap(parcel_screen(kiosk).ids.top_bar.ids.language)


def log(staff, tracking, unit="101", shelf="A-3"):
    response = log_parcel(staff, tracking=tracking, unit=unit, shelf=shelf)
    assert response.status_code == 201, response.json


def statuses(app, unit="101"):
    return [
        row["status"]
        for row in building_db(app).query(
            "SELECT p.status FROM parcels p JOIN units u ON u.id = p.unit_id"
            " WHERE u.number = ? ORDER BY p.id",
            (unit,),
        )
    ]


def open_pickup(kiosk):
    # offline the tile is greyed and opens nothing (kiosk/viewmodels/home.py)
    assert wait_until(lambda: kiosk.online)
    tap(kiosk.root.get_screen("home").ids.parcel)
    assert kiosk.root.current == SCREEN
    step(2)  # lay out, and focus the scanner field


def type_on_keypad(kiosk, unit, code):
    ids = parcel_screen(kiosk).ids
    for digit in unit:
        tap(ids.keypad.keys[digit])
    tap(ids.submit)  # "Next: the pickup code"
    for digit in code:
        tap(ids.keypad.keys[digit])


def test_unit_and_code_release_the_parcels_once(console, kiosk):
    app, _server, staff = console
    log(staff, "SF1234567890123")
    code = pickup_code(app)
    open_pickup(kiosk)
    ids = parcel_screen(kiosk).ids
    assert all(k.height >= 120 and k.width >= 120 for k in ids.keypad.keys.values())
    assert (
        ids.submit.height >= theme.MIN_TARGET and ids.done.height >= theme.MIN_TARGET
    )  # the NavBar
    type_on_keypad(kiosk, "101", code[:4])
    assert ids.unit.value == "101"
    assert ids.code.value == "●●●●○○" and "4/6" in ids.code.caption
    assert code not in [w.text for w in parcel_screen(kiosk).walk() if hasattr(w, "text")]
    shoot(kiosk, "entry")
    for digit in code[4:]:
        tap(ids.keypad.keys[digit])
    tap(ids.submit)
    assert wait_until(lambda: kiosk.parcel.state == pv.COLLECT)
    step(2)
    assert ids.status.text == "找到 1 件快递" and ids.status_english.text == "We found 1 parcel"
    assert "顺丰" in ids.parcels.text and "A-3" in ids.parcels.text and "…0123" in ids.parcels.text
    assert ids.detail.text == "请到前台领取"  # where, once; the count is in the title only
    assert ids.done.text == "返回首页"
    assert statuses(app) == ["collected"]
    shoot(kiosk, "success")
    (item,) = Outbox(kiosk.store).items()
    assert (item.kind, item.state, item.body) == (pv.KIND, "acked", None)

    tap(ids.done)
    assert kiosk.root.current == "home" and kiosk.parcel.is_reset
    assert ids.parcels.text == "" and ids.unit.value == ""

    # the same code again: used up
    open_pickup(kiosk)
    type_on_keypad(kiosk, "101", code)
    tap(ids.submit)
    assert wait_until(lambda: kiosk.parcel.state == pv.FAILED)
    step(2)
    assert ids.status.text == "此取件码无法使用"
    assert "请到前台" in ids.detail.text and ids.call.opacity == 1
    tap(ids.done)
    assert kiosk.root.current == "home"


def test_the_scanned_qr_releases_the_parcels(console, kiosk):
    app, _server, staff = console
    log(staff, "YT1234567890123", shelf="B-1")
    token = qr_token(app)
    open_pickup(kiosk)
    assert parcel_screen(kiosk).ids.scan.focus
    for ch in token:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 40, None, [])
    step(2)
    assert wait_until(lambda: kiosk.parcel.state == pv.COLLECT)
    step(2)
    ids = parcel_screen(kiosk).ids
    assert "圆通" in ids.parcels.text and "B-1" in ids.parcels.text
    assert ids.scan.text == "" and statuses(app) == ["collected"]
    (item,) = Outbox(kiosk.store).items()
    assert item.state == "acked"


def test_a_wrong_code_says_so_and_lets_the_person_retry(console, kiosk):
    app, _server, staff = console
    log(staff, "SF1234567890123")
    code = pickup_code(app)
    open_pickup(kiosk)
    type_on_keypad(kiosk, "101", other_code(code))
    tap(parcel_screen(kiosk).ids.submit)
    assert wait_until(lambda: kiosk.parcel.error_key is not None)
    step(2)
    ids = parcel_screen(kiosk).ids
    assert kiosk.parcel.state == pv.ENTRY and kiosk.parcel.field == pv.CODE
    assert "不匹配" in ids.error.text and ids.unit.value == "101" and ids.code.value == "○" * 6
    assert "还可尝试 4 次" in ids.error.text  # before the unit's code entry pauses
    shoot(kiosk, "wrong_code")
    assert statuses(app) == ["waiting"]
    # the right code now: the unit is still there
    for digit in code:
        tap(ids.keypad.keys[digit])
    tap(ids.submit)
    assert wait_until(lambda: kiosk.parcel.state == pv.COLLECT)
    assert statuses(app) == ["collected"]


def test_offline_the_tile_says_so_before_anyone_types(console, start_kiosk):
    app, server, staff = console
    log(staff, "SF1234567890123")
    # No sync worker: the kiosk never comes online.
    kiosk = start_kiosk(
        console_url=server.url, start_sync=False, pairing=pair_over_http(app, server.url)
    )
    assert not kiosk.online
    tile = kiosk.root.get_screen("home").ids.parcel
    assert tile.primary == "取快递 · 暂不可用" and "请到前台" in tile.secondary
    tap(tile)
    assert kiosk.root.current == "home" and kiosk.parcel.is_reset
    assert Outbox(kiosk.store).items() == []  # nothing queued for later
    screenshot("kiosk_parcel_offline_zh.png")
    code = pickup_code(app)
    ids = parcel_screen(kiosk).ids
    # Online when submitted, then no answer: the queued pickup is withdrawn.
    kiosk.sync_online(True)
    open_pickup(kiosk)
    type_on_keypad(kiosk, "101", code)
    tap(ids.submit)
    assert kiosk.parcel.state == pv.SENDING and ids.status.text == "正在核对取件码…"
    (item,) = Outbox(kiosk.store).items()
    assert item.state == "ready"
    kiosk.parcel.sent_at -= timedelta(seconds=pv.ANSWER_SECONDS + 1)
    kiosk._tick()
    step(2)
    assert kiosk.parcel.state == pv.OFFLINE and ids.status.text == "系统暂时离线"
    assert Outbox(kiosk.store).get(item.id).state == "dead"

    # The kiosk goes offline while a pickup waits: withdrawn at once.
    tap(ids.done)
    open_pickup(kiosk)
    type_on_keypad(kiosk, "101", code)
    tap(ids.submit)
    assert kiosk.parcel.state == pv.SENDING
    kiosk.sync_online(False)
    step(2)
    assert kiosk.parcel.state == pv.OFFLINE
    assert Outbox(kiosk.store).depth() == 0
    assert statuses(app) == ["waiting"]  # nothing released on the console


def test_after_the_last_try_reception_has_been_told_and_no_call_is_offered(console, kiosk):
    app, _server, staff = console
    log(staff, "SF1234567890123")
    code = pickup_code(app)
    open_pickup(kiosk)
    ids = parcel_screen(kiosk).ids
    type_on_keypad(kiosk, "101", other_code(code))
    for attempt in range(5):
        tap(ids.submit)
        assert wait_until(lambda: kiosk.parcel.state in (pv.ENTRY, pv.FAILED)
                          and kiosk.parcel.outbox_id is None)  # fmt: skip
        step(2)
        if kiosk.parcel.state == pv.FAILED:
            break
        assert f"还可尝试 {4 - attempt} 次" in ids.error.text
        for digit in other_code(code):
            tap(ids.keypad.keys[digit])
    assert kiosk.parcel.state == pv.FAILED
    assert ids.status.text == "该房号的取件码输入已暂停"
    assert ids.detail.text.startswith("前台已收到通知")
    assert ids.call.opacity == 0 and ids.done.text == "返回首页"
    shoot(kiosk, "paused")
