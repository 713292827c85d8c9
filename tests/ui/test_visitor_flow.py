"""Visitor registration end to end: the real kiosk window (taps, a simulated USB
scanner) against the real console over HTTP (uvicorn), staff deciding through
the console's own form.

Every step is photographed in both languages (tests/screenshots/kiosk_visitor_*).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from kivy.core.window import Window
from PIL import Image

from kiosk.outbox import Outbox
from kiosk.pass_reader import decode
from kiosk.viewmodels import visitor as vv
from shared.clock import SystemClock
from tests.helpers import building_db
from tests.ui.conftest import screenshot, step, tap, wait_until
from tests.ui.driving import Taps, screen

PHONE = "13812345678"


@pytest.fixture
def kiosk_clock():
    """Real time on both sides: the worker really sends and the feed really waits."""
    return SystemClock()


def shoot(kiosk, step_name: str) -> None:
    """The current screen in the current language, then in the other one, and back."""
    first = "en" if kiosk.language == "en" else "zh"
    screenshot(f"kiosk_visitor_{step_name}_{first}.png")
    tap(screen(kiosk).ids.top_bar.ids.language)
    screenshot(f"kiosk_visitor_{step_name}_{'zh' if first == 'en' else 'en'}.png")
    tap(screen(kiosk).ids.top_bar.ids.language)


def visits(app):
    return list(building_db(app).query("SELECT * FROM visits ORDER BY id"))


def surname_chip(name_screen, surname):
    return next(chip for chip in name_screen.slots if chip.surname == surname)


def register_new(kiosk, taps, *, phone=PHONE, unit="101", shots=False, initials="zh", surname="张"):
    """A new visitor: home → phone (one-line notice) → name (picker) → unit → purpose → submit."""
    taps(kiosk.root.get_screen("home").ids.visitor)
    assert kiosk.root.current == "visitor_phone"
    if shots:  # the full notice is one tap away, and comes back to the phone
        tap(screen(kiosk).ids.details)
        assert kiosk.root.current == "visitor_privacy"
        shoot(kiosk, "privacy")
        tap(screen(kiosk).ids.agree)
        assert kiosk.root.current == "visitor_phone"
    taps.type(screen(kiosk).ids.keypad, phone[:-1])
    if shots:
        shoot(kiosk, "phone")
    taps.type(screen(kiosk).ids.keypad, phone[-1])  # the 11th digit goes on by itself
    assert wait_until(lambda: kiosk.root.current == "visitor_name")
    step(2)  # lay the new screen out before tapping it
    name = screen(kiosk)
    for letter in initials:
        taps(name.ids.letters.keys[letter])
    taps(surname_chip(name, surname))
    if shots:
        shoot(kiosk, "name")
    taps(name.ids.mr)  # the title ends the name: on to the unit
    assert name.ids.preview.text == f"{surname}先生"
    assert kiosk.root.current == "visitor_unit"
    taps.type(screen(kiosk).ids.keypad, unit)
    if shots:
        shoot(kiosk, "unit")
    taps(screen(kiosk).ids.register)  # visiting, one person: no purpose step


def submit(kiosk, taps, shots=False):
    """The registration is sent once the unit is checked (the purpose step, if open)."""
    names = ("visitor_purpose", "visitor_outcome")
    assert wait_until(lambda: kiosk.root.current in names)
    if kiosk.root.current == "visitor_purpose":
        step(2)
        if shots:
            shoot(kiosk, "purpose")
        taps(screen(kiosk).ids.submit)
    assert kiosk.root.current == "visitor_outcome"


def pass_in_screenshot(name: str) -> list[str]:
    return decode(Image.open(screenshot(name)))


def test_a_new_visitor_registers_is_confirmed_gets_a_pass_and_signs_out_with_it(console, kiosk):
    app, _server, staff = console
    taps = Taps()
    register_new(kiosk, taps, shots=True)
    submit(kiosk, taps, shots=True)
    shoot(kiosk, "waiting")
    # typical visitor: 6 taps besides the phone and unit digits (was 12)
    assert taps.taps <= 6, taps.taps
    assert taps.digits == 11 + 3

    assert wait_until(lambda: kiosk.visitor.visit_id is not None)
    [row] = visits(app)
    assert (row["name"], row["phone"], row["status"]) == ("张先生", "+8613812345678", "pending")
    assert kiosk.visitor.visit_id == row["id"]
    rows = staff.client.get("/queue/rows").get_data(as_text=True)
    assert "张先生" in rows
    outcome = screen(kiosk, "visitor_outcome")
    assert "前台正在核实" in outcome.ids.status.text
    assert "13812345678" not in repr(vars(kiosk.visitor))  # handed to the outbox, forgotten here

    # a minute passes with no decision: the kiosk says reception has been reminded
    kiosk.visitor.saved_at -= timedelta(seconds=61)
    kiosk._tick()
    step(2)
    assert outcome.ids.status.text == "已提醒前台尽快处理"
    assert kiosk.root.current == "visitor_outcome"  # the waiting screen outlasts the idle reset
    shoot(kiosk, "reminded")

    staff.post(f"/visitors/{row['id']}/decide", decision="confirm_id")
    assert wait_until(lambda: kiosk.visitor.state == vv.CONFIRMED)
    step(3)
    assert outcome.ids.status.text == "欢迎！登记已确认"
    assert outcome.ids.go_to.text == "请前往 101"
    assert "请乘电梯上楼" in outcome.ids.directions.text
    token = kiosk.visitor.pass_token
    assert token and pass_in_screenshot("kiosk_visitor_welcome_zh.png") == [token]
    tap(outcome.ids.top_bar.ids.language)
    assert "take the lift" in outcome.ids.directions.text
    assert pass_in_screenshot("kiosk_visitor_welcome_en.png") == [token]
    tap(outcome.ids.top_bar.ids.language)

    assert outcome.ids.done.text == "完成"  # with the pass: done (waiting, it said "leave")
    taps(outcome.ids.done)
    assert kiosk.root.current == "home" and kiosk.visitor.step == vv.IDLE

    # leaving: one tap from home, the pass held to the USB scanner (keyboard wedge)
    tap(screen(kiosk).ids.sign_out)
    assert kiosk.root.current == "visitor_sign_out"
    sign_out = screen(kiosk)
    step(2)
    assert sign_out.ids.scan.focus
    shoot(kiosk, "signout")
    for ch in token:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 40, None, [])
    assert wait_until(lambda: kiosk.sign_out.state == "done")
    step(2)
    assert sign_out.ids.status.text == "再见，张**！已为您签退"
    assert visits(app)[0]["status"] == "signed_out"
    assert visits(app)[0]["sign_out_method"] == "kiosk_pass"
    shoot(kiosk, "goodbye")

    # the same pass again: not on site any more → see reception
    tap(sign_out.ids.done)
    tap(screen(kiosk).ids.sign_out)
    step(2)
    for ch in token:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 40, None, [])
    assert wait_until(lambda: kiosk.sign_out.state == "failed")
    step(2)
    assert sign_out.ids.status.text == "没有找到您的在场登记"
    assert sign_out.ids.detail.text == "请到前台，工作人员会为您签退。"
    assert sign_out.ids.retry.opacity == 1 and sign_out.ids.done.text == "返回首页"
    shoot(kiosk, "signout_failed")
    tap(sign_out.ids.retry)  # Retry: the scanner and keypad again
    assert kiosk.sign_out.state == "entry" and kiosk.root.current == "visitor_sign_out"


def test_a_returning_visitor_confirms_with_one_tap_and_signs_out_by_phone(console, kiosk):
    app, _server, staff = console
    taps = Taps()
    register_new(kiosk, taps, initials="oy", surname="欧阳")
    submit(kiosk, taps)
    assert wait_until(lambda: kiosk.visitor.visit_id is not None)
    assert screen(kiosk).ids.done.text == "离开（不领通行证）"  # says what it does
    tap(screen(kiosk).ids.done)

    # the same person comes back another day, to another unit
    taps = Taps()
    taps(screen(kiosk).ids.visitor)
    taps.type(screen(kiosk).ids.keypad, PHONE)
    assert wait_until(lambda: kiosk.root.current == "visitor_returning")
    step(2)
    returning = screen(kiosk)
    assert returning.ids.header.ids.title.text == "欢迎回来，欧**"
    assert returning.ids.detail.text == "手机号 138 **** 5678 之前登记过。"
    # the last unit masked like the rest: whoever types this phone learns little
    assert returning.ids.same.text == "是我，同上次：1**\nYes, same as last time: 1**"
    shown = [w.text for w in returning.walk() if isinstance(getattr(w, "text", None), str)]
    assert not any("101" in text for text in shown), shown
    shoot(kiosk, "returning")
    taps(returning.ids.yes)  # "Yes, another unit"
    assert kiosk.root.current == "visitor_unit"
    taps.type(screen(kiosk).ids.keypad, "102")
    taps(screen(kiosk).ids.register)
    submit(kiosk, taps)
    assert taps.taps <= 3
    assert wait_until(lambda: len(visits(app)) == 2 and kiosk.visitor.visit_id)
    second = visits(app)[1]
    assert second["name"] == "欧阳先生" and second["is_returning"] == 1
    staff.post(f"/visitors/{second['id']}/decide", decision="confirm_host")
    assert wait_until(lambda: kiosk.visitor.state == vv.CONFIRMED)
    tap(screen(kiosk).ids.done)

    # a third visit, same as last time: the phone, then one tap
    taps = Taps()
    taps(screen(kiosk).ids.visitor)
    taps.type(screen(kiosk).ids.keypad, PHONE)
    assert wait_until(lambda: kiosk.root.current == "visitor_returning")
    step(2)
    assert screen(kiosk).ids.same.text.startswith("是我，同上次：1**")
    taps(screen(kiosk).ids.same)
    assert kiosk.root.current == "visitor_outcome" and taps.taps == 2 and taps.digits == 11
    assert wait_until(lambda: len(visits(app)) == 3)
    third = visits(app)[2]
    assert (third["name"], third["is_returning"], third["status"]) == ("欧阳先生", 1, "pending")
    assert building_db(app)["units"].get(third["unit_id"])["number"] == "102"
    tap(screen(kiosk).ids.done)

    # signing out by phone on the keypad, one tap from home
    tap(screen(kiosk).ids.sign_out)
    sign_out = screen(kiosk)
    Taps().type(sign_out.ids.keypad, PHONE)
    assert sign_out.ids.display.text == "138 1234 5678"  # grouped 3-4-4
    shoot(kiosk, "signout_phone")
    tap(sign_out.ids.submit)
    assert wait_until(lambda: kiosk.sign_out.state == "done")
    step(2)
    assert sign_out.ids.status.text == "再见，欧**！已为您签退"
    assert visits(app)[1]["status"] == "signed_out"
    assert visits(app)[1]["sign_out_method"] == "kiosk_phone"


def test_a_denied_visitor_is_told_to_see_reception(console, kiosk):
    app, _server, staff = console
    taps = Taps()
    tap(screen(kiosk).ids.top_bar.ids.language)  # an English-speaking visitor
    register_new(kiosk, taps, phone="13900000001", initials="w", surname="王")
    submit(kiosk, taps)
    assert wait_until(lambda: kiosk.visitor.visit_id is not None)
    assert visits(app)[0]["language"] == "en"
    staff.post(f"/visitors/{kiosk.visitor.visit_id}/decide", decision="deny", reason="住户不在家")
    assert wait_until(lambda: kiosk.visitor.state == vv.DENIED)
    step(2)
    outcome = screen(kiosk)
    assert outcome.ids.status.text == "Sorry, we cannot register you now"
    assert outcome.ids.detail.text == "Please see reception; staff will explain."
    assert outcome.ids.call.opacity == 1
    assert "住户不在家" not in repr([w.text for w in outcome.walk() if hasattr(w, "text")])
    shoot(kiosk, "denied")


def test_an_unknown_unit_offers_to_call_reception(console, kiosk):
    app, _server, _staff = console
    taps = Taps()
    register_new(kiosk, taps, unit="9999")
    unit = screen(kiosk, "visitor_unit")
    assert wait_until(lambda: unit.ids.call.opacity == 1)
    step(2)
    assert kiosk.root.current == "visitor_unit"
    assert unit.ids.error.text == "本楼没有 9999 这个房号。请核对，或呼叫前台帮您。"
    assert unit.ids.call.height >= 120
    shoot(kiosk, "unit_unknown")
    tap(unit.ids.call)
    assert kiosk.root.current == "help"
    assert wait_until(lambda: len(list(building_db(app).query("SELECT * FROM escalations"))) == 1)
    assert visits(app) == []
    # the building's visitor settings were fetched off the UI thread and cached
    cached = kiosk.store.get("visitor_settings")
    assert cached == {"visit_retention_days": 90, "visitor_phone_required": False,
                      "visitor_photo_enabled": False}  # fmt: skip


def test_offline_the_registration_completes_at_once_and_honestly(start_kiosk):
    kiosk = start_kiosk()  # nobody listens: offline
    taps = Taps()
    taps(screen(kiosk).ids.visitor)
    notice = screen(kiosk).ids.notice.text
    assert "90 天" in notice and "90 days" in notice  # the default retention, in one line
    taps(screen(kiosk).ids.skip)
    name = screen(kiosk)
    taps(name.ids.mode_typed)
    assert name.ids.full_name.focus
    for key in ["e", "m", "i", "l", "y", "space", "c", "a", "r", "t", "e", "r"]:
        taps(name.ids.letters.keys[key])
    assert name.ids.full_name.text == "Emily Carter"
    shoot(kiosk, "name_typed")
    taps(name.ids.next)
    taps.type(screen(kiosk).ids.keypad, "101")
    taps(screen(kiosk).ids.next)
    assert kiosk.root.current == "visitor_purpose"
    purpose = screen(kiosk)
    assert purpose.ids.unit_note.text == "暂时无法联网核对房号，前台会为您核对。"
    assert purpose.ids.summary.text == "Emily Carter · 房号 101"  # no "mobile: none"
    taps(purpose.ids.more)
    taps(purpose.ids.interview)
    assert purpose.ids.party.text == "2 人"
    shoot(kiosk, "purpose_offline")
    taps(purpose.ids.submit)
    outcome = screen(kiosk)
    assert outcome.ids.status.text == "您的登记已保存"
    assert "前往前台" in outcome.ids.detail.text
    shoot(kiosk, "offline")
    [item] = Outbox(kiosk.store).items()
    assert item.kind == "visit.register"
    assert item.body_json["name"] == "Emily Carter" and item.body_json["party_size"] == 2
    assert item.body_json["purpose"] == "interview" and "phone" not in item.body_json


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "请输入姓名。"),
        ("张" * 200, "姓名最多 40 个字。"),
        ("Bob 😀", "姓名中只能有文字，不能有表情或符号。"),
    ],
)
def test_a_bad_name_shows_a_clear_message_and_nothing_is_sent(start_kiosk, typed, message):
    kiosk = start_kiosk()
    tap(screen(kiosk).ids.visitor)
    tap(screen(kiosk).ids.skip)
    name = screen(kiosk)
    tap(name.ids.mode_typed)
    name.ids.full_name.text = typed  # as a hardware keyboard or input method would
    tap(name.ids.next)
    assert kiosk.root.current == "visitor_name"
    assert name.ids.error.text == message
    if typed == "":
        shoot(kiosk, "name_error")
    assert Outbox(kiosk.store).items() == []


def test_an_invalid_phone_shows_a_clear_message_and_nothing_is_sent(start_kiosk):
    kiosk = start_kiosk()
    tap(screen(kiosk).ids.visitor)
    phone = screen(kiosk)
    for digit in "12345":
        tap(phone.ids.keypad.keys[digit])
    tap(phone.ids.next)
    assert kiosk.root.current == "visitor_phone"
    assert phone.ids.error.text.startswith("手机号不正确")
    shoot(kiosk, "phone_error")
    assert Outbox(kiosk.store).items() == []


def test_idle_reset_clears_a_half_filled_form(start_kiosk):
    kiosk = start_kiosk()
    tap(screen(kiosk).ids.visitor)
    for digit in PHONE:
        tap(screen(kiosk).ids.keypad.keys[digit])
    assert kiosk.root.current == "visitor_name"  # offline: no look-up, straight on
    name = screen(kiosk)
    tap(name.ids.mode_typed)
    name.ids.full_name.text = "李小龙"
    assert kiosk.visitor.full_name == "李小龙"

    kiosk.session.last_touch -= timedelta(seconds=61)  # a minute without a touch
    kiosk._tick()
    step(2)
    assert kiosk.root.current == "home"
    assert kiosk.visitor.step == vv.IDLE
    texts = []
    for screen_name in kiosk.root.screen_names:
        texts += [w.text for w in kiosk.root.get_screen(screen_name).walk() if hasattr(w, "text")]
    assert not any("李小龙" in t or "5678" in t for t in texts)
    assert name.ids.full_name.text == ""
    # the next person starts at the phone (under the notice) with an empty form
    tap(screen(kiosk).ids.visitor)
    assert screen(kiosk).ids.display.text == ""


def test_keys_are_big_enough_to_touch(start_kiosk):
    kiosk = start_kiosk()
    tap(screen(kiosk).ids.visitor)
    keypad = screen(kiosk).ids.keypad
    assert all(key.height >= 120 and key.width >= 120 for key in keypad.keys.values())
    tap(screen(kiosk).ids.skip)
    name = screen(kiosk)
    assert all(key.height >= 90 and key.width >= 90 for key in name.ids.letters.keys.values())
    assert all(chip.height >= 90 for chip in name.slots)
    assert name.ids.next.height >= 96 and name.ids.mr.height >= 96
