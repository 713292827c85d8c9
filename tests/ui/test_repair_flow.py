"""Repair requests end to end: the real kiosk window (taps, a simulated USB scanner)
against the real console over HTTP (uvicorn); staff move the ticket along with
shared.tickets on the console's database.

Every step is photographed in both languages: tests/screenshots/repair_<step>_<zh|en>.png.
"""

from __future__ import annotations

import json

import pytest
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from PIL import Image

from kiosk import theme
from kiosk.outbox import Outbox
from kiosk.pass_reader import decode
from kiosk.viewmodels import repair as rv
from kiosk.viewmodels import ticket_status as tv
from kiosk.widgets import NavBar
from shared import tickets
from shared.clock import SystemClock
from shared.db import write_transaction
from tests.helpers import building_db
from tests.ui.conftest import pair_over_http, screenshot, step, tap, wait_until
from tests.ui.driving import Taps, screen

UNIT = "203"
DESK_PHONE = "021-5555 0100"


@pytest.fixture
def kiosk_clock():
    """Real time on both sides: the worker really sends."""
    return SystemClock()


@pytest.fixture
def console(console):
    """The console of tests/ui/conftest.py, with a desk phone for the emergency screen."""
    app, _server, _staff = console
    db = building_db(app)
    with write_transaction(db):
        db.execute("UPDATE buildings SET desk_phone = ?", (DESK_PHONE,))
    db.close()
    return console


def shoot(kiosk, name: str) -> None:
    """The current screen in Chinese, then in English, and back to Chinese."""
    assert kiosk.language == "zh_CN"
    step(2)
    screenshot(f"repair_{name}_zh.png")
    tap(screen(kiosk).ids.top_bar.ids.language)
    screenshot(f"repair_{name}_en.png")
    tap(screen(kiosk).ids.top_bar.ids.language)


def ticket_rows(app):
    return list(building_db(app).query("SELECT * FROM tickets ORDER BY id"))


def unit_id(app, number):
    return (
        building_db(app).execute("SELECT id FROM units WHERE number = ?", (number,)).fetchone()[0]
    )


def open_repair(kiosk, taps):
    taps(screen(kiosk, "home").ids.repair)
    assert kiosk.root.current == "repair_unit"
    assert wait_until(lambda: kiosk.repair.desk_phone == DESK_PHONE)


def enter_unit(kiosk, taps, unit=UNIT):
    taps.type(screen(kiosk).ids.keypad, unit)
    taps(screen(kiosk).ids.next)
    assert wait_until(lambda: kiosk.root.current == "repair_category")
    step(2)


def set_status(app, ticket_id, status, message=None):
    """Staff move the ticket (the console's own function, on its database)."""
    db = building_db(app)
    with write_transaction(db):
        tickets.set_status(
            db,
            app.extensions["lobbydesk.clock"],
            ticket_id,
            staff_id=1,
            status=status,
            message=message,
            secret_key=app.config["SECRET_KEY"],
            public_url="http://lobby.example",
        )
    db.close()


def scan(text):
    """The USB scanner: characters, then Enter, into the focused field."""
    for ch in text:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 40, None, [])
    step(2)


def test_a_dripping_tap_in_five_taps_gets_a_number_and_a_qr(console, kiosk):
    app, _server, _staff = console
    taps = Taps()
    open_repair(kiosk, taps)
    unit_screen = screen(kiosk)
    ids = unit_screen.ids
    assert all(k.height >= 120 and k.width >= 120 for k in ids.keypad.keys.values())
    assert ids.next.height >= theme.MIN_TARGET and ids.check_ticket.height >= 120  # next: NavBar
    assert ids.header.ids.title.text == "报修：请输入房号"
    assert ids.header.ids.subtitle.text == "Repair: your unit"
    taps.type(ids.keypad, UNIT)
    assert ids.display.text == UNIT
    shoot(kiosk, "unit")
    taps(ids.next)
    assert wait_until(lambda: kiosk.root.current == "repair_category")
    assert kiosk.repair.unit_checked  # the console knows the unit
    step(2)

    category = screen(kiosk)
    assert len(category.tiles) == 8
    water = category.tiles["water"]
    assert (water.primary, water.secondary) == ("水管/漏水", "Water & plumbing")
    assert water.icon == "\uf043" and water.ids.icon.font_name != "Roboto"  # Font Awesome "tint"
    assert all(t.height >= 200 and t.width >= 400 for t in category.tiles.values())
    assert category.ids.chosen.text == f"房号 {UNIT}"
    shoot(kiosk, "category")
    taps(water)
    assert kiosk.root.current == "repair_problem"
    step(2)

    problem = screen(kiosk)
    chips = problem.chips
    assert (chips["dripping_tap"].primary, chips["dripping_tap"].secondary) == (
        "水龙头漏水",
        "Dripping tap",
    )
    burst = chips["burst_pipe"]
    assert burst.tag == "危急 Emergency" and burst.filled and list(burst.bg_color) == theme.RED
    assert not chips["dripping_tap"].tag
    assert all(c.height >= 130 for c in chips.values())
    shoot(kiosk, "problem")
    taps(chips["dripping_tap"])
    assert kiosk.root.current == "repair_urgency"
    step(2)

    urgency = screen(kiosk)
    assert urgency.ids.chosen.text == f"房号 {UNIT} · 水管/漏水 · 水龙头漏水"
    assert urgency.ids.normal.primary == "一般" and urgency.ids.normal.secondary == "Normal"
    assert urgency.ids.normal.detail == "3 天内处理 · within 3 days"
    assert urgency.ids.urgent.detail == "4 小时内处理 · within 4 hours"
    assert urgency.ids.details.primary == "添加说明或照片"
    shoot(kiosk, "urgency")
    taps(urgency.ids.normal)
    assert kiosk.root.current == "repair_done"

    # home → submitted: 5 taps besides the unit's digits (the aim: ≤ 6)
    assert (taps.taps, taps.digits) == (5, 3)

    done = screen(kiosk)
    assert wait_until(lambda: kiosk.repair.state == rv.SENT)
    step(3)
    [row] = ticket_rows(app)
    assert (row["category"], row["problem"], row["urgency"]) == ("water", "dripping_tap", "normal")
    assert row["unit_id"] == unit_id(app, UNIT) and row["kind"] == "repair"
    assert row["source"] == "kiosk" and row["language"] == "zh_CN" and row["status"] == "new"
    assert done.ids.status.text == "报修已提交"
    assert done.ids.status_english.text == "Your request has been submitted"
    assert done.ids.number.text == str(row["id"])
    assert done.ids.number_caption.text == "报修单号 · Ticket number"
    assert done.ids.expected.text == "预计 3 天内处理 · Expected within 3 days"
    assert "请拍下二维码查询进度" in done.ids.detail.text
    assert "Photograph the QR to check progress" in done.ids.detail.text
    token = kiosk.repair.qr
    assert decode(Image.open(screenshot("repair_done_zh.png"))) == [token]
    tap(done.ids.top_bar.ids.language)
    assert done.ids.status.text == "Your request has been submitted"
    assert done.ids.detail.text == "Photograph the QR to check progress"
    assert decode(Image.open(screenshot("repair_done_en.png"))) == [token]
    tap(done.ids.top_bar.ids.language)
    (item,) = Outbox(kiosk.store).items()
    assert (item.kind, item.state, item.body) == (rv.KIND, "acked", None)  # nothing kept

    tap(done.ids.done)
    assert kiosk.root.current == "home" and kiosk.repair.is_reset
    assert done.ids.number.text == "" and done.qr_texture is None


def test_details_offline_say_saved_then_show_the_number_when_sent(console, start_kiosk):
    app, server, _staff = console
    # No sync worker yet: the kiosk is offline.
    kiosk = start_kiosk(
        console_url=server.url, start_sync=False, pairing=pair_over_http(app, server.url)
    )
    taps = Taps()
    taps(screen(kiosk, "home").ids.repair)
    # an empty unit, then one the console would not know: offline it is accepted unchecked
    taps(screen(kiosk).ids.next)
    assert screen(kiosk).ids.error.text == "请先输入房号。"
    enter_unit(kiosk, taps, UNIT)
    assert not kiosk.repair.unit_checked
    taps(screen(kiosk).tiles["electrical"])
    step(2)
    taps(screen(kiosk).chips["light_out"])
    taps(screen(kiosk).ids.details)
    assert kiosk.root.current == "repair_details"
    step(2)
    details = screen(kiosk)
    assert details.ids.photo.text.startswith("照片请交前台")  # no camera: no camera button
    assert "Photos at the desk" in details.ids.photo.text
    taps(details.places["kitchen"])
    taps(details.places["balcony"])
    assert details.places["kitchen"].selected and not details.places["bedroom"].selected
    details.ids.note.text = "开关\x07有火花"  # a hardware keyboard (a control character too)
    step(2)
    assert kiosk.repair.note == "开关有火花"
    taps(details.ids.urgent)
    assert details.ids.urgent.selected and not details.ids.normal.selected
    shoot(kiosk, "details")
    taps(details.ids.submit)
    assert kiosk.root.current == "repair_done"
    step(2)
    done = screen(kiosk)
    assert done.ids.status.text == "已保存，联网后自动提交"
    assert done.ids.status_english.text == "Saved; it will be sent when the kiosk is back online"
    assert done.ids.number.text == "" and done.qr_texture is None
    assert done.ids.expected.text == "预计 4 小时内处理 · Expected within 4 hours"
    shoot(kiosk, "done_offline")
    assert ticket_rows(app) == []

    # Back online while the resident is still there: the number appears.
    kiosk.start_sync_worker()
    assert wait_until(lambda: kiosk.repair.state == rv.SENT)
    step(3)
    [row] = ticket_rows(app)
    assert (row["category"], row["problem"], row["urgency"]) == (
        "electrical",
        "light_out",
        "urgent",
    )
    assert row["description"] == "位置 Location: 厨房 Kitchen、阳台 Balcony\n开关有火花"
    assert done.ids.number.text == str(row["id"]) and done.qr_texture is not None


def test_an_unknown_unit_says_so_in_both_languages(console, kiosk):
    taps = Taps()
    open_repair(kiosk, taps)
    ids = screen(kiosk).ids
    taps.type(ids.keypad, "999")
    taps(ids.next)
    assert wait_until(lambda: kiosk.repair.error_key == "repair.unit.error_unknown")
    step(2)
    assert kiosk.root.current == "repair_unit"
    assert ids.error.text.startswith("没有找到房号\u00a0999。")
    assert ids.call.opacity == 1 and ids.call.height >= theme.MIN_TARGET
    shoot(kiosk, "unit_unknown")
    tap(ids.top_bar.ids.language)
    assert ids.error.text.startswith("There is no unit 999.")
    tap(ids.top_bar.ids.language)


def test_an_emergency_shows_instructions_at_once_and_alerts_reception(console, kiosk):
    app, _server, _staff = console
    taps = Taps()
    open_repair(kiosk, taps)
    enter_unit(kiosk, taps)
    taps(screen(kiosk).tiles["water"])
    step(2)
    burst = screen(kiosk).chips["burst_pipe"]
    # One frame after the finger lifts: no answer from the console can have arrived yet
    # (worker answers run at the start of a frame, the touch after them).
    touch = UnitTestTouch(*burst.to_window(*burst.center))
    touch.touch_down()
    step()
    touch.touch_up()
    step()
    assert kiosk.root.current == "repair_emergency"
    assert kiosk.repair.state in (rv.WAITING, rv.OFFLINE) and kiosk.repair.number == ""
    ids = screen(kiosk).ids
    assert ids.status.text == "正在通知前台…" and ids.status_other.text == "Alerting reception…"
    assert ids.steps.text.startswith("1. 如能安全操作，请关闭总水阀。")
    assert ids.steps_other.text.startswith("1. If it is safe, turn off the main water valve.")
    assert ids.phone.text == DESK_PHONE and ids.phone_caption.text == "前台电话 · Desk phone"
    assert ids.what.text == "水管/漏水 · 大量漏水/爆管\nWater & plumbing · Burst pipe / major leak"
    assert wait_until(lambda: kiosk.repair.state == rv.SENT)
    step(3)
    assert ids.status.text == "已通知前台" and ids.status_other.text == "Reception has been alerted"
    [row] = ticket_rows(app)
    assert (row["urgency"], row["problem"], row["status"]) == ("emergency", "burst_pipe", "new")
    escalation = (
        building_db(app)
        .execute(
            "SELECT kind, status, ticket_id, screen FROM escalations WHERE id = ?",
            (row["escalation_id"],),
        )
        .fetchone()
    )
    assert tuple(escalation) == ("emergency", "open", row["id"], "repair")
    assert ids.number.text == f"报修单号 {row['id']} · Ticket {row['id']}"
    shoot(kiosk, "emergency")
    tap(ids.top_bar.ids.language)
    assert ids.status.text == "Reception has been alerted" and ids.status_other.text == "已通知前台"
    assert ids.steps.text.startswith("1. If it is safe")  # English first, Chinese under it
    tap(ids.top_bar.ids.language)
    # the red screen outlasts the idle reset while the alert is fresh
    kiosk.session.last_touch = kiosk.clock.now().replace(year=2000)
    kiosk._tick()
    assert kiosk.root.current == "repair_emergency"
    tap(ids.done)
    assert kiosk.root.current == "home" and kiosk.repair.is_reset


def test_an_emergency_while_the_connection_drops(console, start_kiosk):
    app, server, _staff = console
    kiosk = start_kiosk(
        console_url=server.url, start_sync=False, pairing=pair_over_http(app, server.url)
    )
    kiosk.sync_online(True)  # online, but nothing sends yet
    taps = Taps()
    open_repair(kiosk, taps)
    enter_unit(kiosk, taps)
    taps(screen(kiosk).tiles["electrical"])
    step(2)
    taps(screen(kiosk).chips["smoke"])
    assert kiosk.root.current == "repair_emergency"
    ids = screen(kiosk).ids
    assert ids.status.text == "正在通知前台…" and ids.call.opacity == 0
    assert ids.steps.text.startswith("1. 立即拨打 119。\n2. 走楼梯离开，切勿乘坐电梯。")
    assert ids.steps_other.text.startswith(
        "1. Call 119 now.\n2. Leave by the stairs, never the lift."
    )
    shoot(kiosk, "emergency_alerting")
    kiosk.sync_online(False)
    step(2)
    assert ids.status.text == "网络中断，尚未通知前台"
    assert ids.status_other.text == "Offline: reception has not been alerted yet"
    assert ids.detail.text.startswith("请立即拨打前台电话，或直接前往前台。")
    assert ids.call.opacity == 1 and ids.call.height >= theme.MIN_TARGET
    shoot(kiosk, "emergency_offline")
    kiosk.start_sync_worker()
    assert wait_until(lambda: kiosk.repair.state == rv.SENT)
    step(2)
    assert ids.status.text == "已通知前台" and ids.call.opacity == 0
    [row] = ticket_rows(app)
    assert (row["problem"], row["urgency"]) == ("smoke", "emergency")
    assert row["escalation_id"] is not None


def submit_common(kiosk, taps, problem="dripping_tap"):
    open_repair(kiosk, taps)
    enter_unit(kiosk, taps)
    taps(screen(kiosk).tiles["water"])
    step(2)
    taps(screen(kiosk).chips[problem])
    taps(screen(kiosk).ids.normal)
    assert wait_until(lambda: kiosk.repair.state == rv.SENT)
    return kiosk.repair.number, kiosk.repair.qr


def open_status(kiosk):
    tap(screen(kiosk, "home").ids.repair)
    tap(screen(kiosk).ids.check_ticket)
    assert kiosk.root.current == "ticket_status"
    step(2)  # lay out, and focus the scanner field


def type_lookup(kiosk, number, unit=UNIT):
    ids = screen(kiosk).ids
    for digit in number:
        tap(ids.keypad.keys[digit])
    tap(ids.submit)  # "Next: your unit"
    for digit in unit:
        tap(ids.keypad.keys[digit])


def test_status_by_number_and_by_qr_then_a_low_rating_with_a_reason(console, kiosk):
    app, _server, _staff = console
    number, token = submit_common(kiosk, Taps())
    tap(screen(kiosk).ids.done)

    # by number + unit
    open_status(kiosk)
    status = screen(kiosk)
    assert status.ids.scan.focus
    assert all(k.height >= 120 for k in status.ids.keypad.keys.values())
    type_lookup(kiosk, number)
    assert status.ids.number.value == number and status.ids.unit.value == UNIT
    shoot(kiosk, "status_entry")
    tap(status.ids.submit)
    assert wait_until(lambda: kiosk.root.current == "ticket_status_result")
    step(2)
    result = screen(kiosk)
    assert result.ids.title.text == f"报修单 {number}"
    # The console's word for a new ticket (shared/terms.py), not a kiosk-only one.
    assert result.ids.status.text == "待处理" and result.ids.status_english.text == "New"
    assert result.ids.what.text == "水管/漏水 · 水龙头漏水\nWater & plumbing · Dripping tap"
    assert result.ids.latest.text == "暂无进展说明，工作人员处理后会更新。"
    assert not result.can_rate and result.ids.ratings.height == 0
    assert result.ids.rating_note.text == (
        "处理完成后，扫描报修单上的二维码即可评价。\n"
        "Once it is resolved, scan the QR code on your ticket to rate it."
    )
    assert result.ids.scan.disabled and not result.ids.scan.focus  # nothing to rate yet
    shoot(kiosk, "status_open")
    tap(result.ids.done)
    assert kiosk.root.current == "home" and kiosk.ticket_status.is_reset

    # staff resolve it, with a message for the resident
    set_status(app, int(number), "resolved", message="已更换阀芯 · Valve replaced")

    # by number + unit again: resolved, but only the QR rates it
    open_status(kiosk)
    type_lookup(kiosk, number)
    tap(status.ids.submit)
    assert wait_until(lambda: kiosk.root.current == "ticket_status_result")
    step(2)
    assert result.ids.status.text == "已解决" and result.ids.status_english.text == "Resolved"
    assert result.ids.latest.text == "已更换阀芯 · Valve replaced"
    assert not result.can_rate and result.ids.ratings.height == 0
    assert result.ids.ratings.opacity == 0 and result.ids.rate_title.text == ""
    assert result.ids.scan_hint.text == (
        "如需评价，请扫描报修单上的二维码\nTo rate, scan the QR code on your ticket"
    )
    assert result.ids.scan_row.opacity == 1 and result.ids.qr_icon.text
    assert not result.ids.scan.disabled and result.ids.scan.focus  # the scanner types here
    assert kiosk.ticket_status.ident is None  # the number + unit are not kept
    shoot(kiosk, "status_scan_to_rate")
    tap(result.ids.top_bar.ids.language)
    assert result.ids.scan_hint.text == "To rate, scan the QR code on your ticket"
    assert result.ids.scan.focus
    tap(result.ids.top_bar.ids.language)
    scan("forged.qr.code")  # not this ticket's QR: the ticket stays, and says why
    assert wait_until(lambda: kiosk.ticket_status.error_key == "ticket.rescan.bad_qr")
    step(2)
    assert kiosk.root.current == "ticket_status_result" and not result.can_rate
    assert result.ids.scan_error.text.startswith("无法识别这个二维码。")
    assert "Scan the QR code on your ticket" in result.ids.scan_error.text
    shoot(kiosk, "status_scan_bad_qr")
    assert result.ids.scan.text == "" and result.ids.scan.focus

    # the QR held to the scanner on that screen: now it can be rated
    scan(token)
    assert wait_until(lambda: result.can_rate)
    step(2)
    assert kiosk.root.current == "ticket_status_result"
    assert kiosk.ticket_status.ident == {"qr": token}
    assert result.ids.scan_row.opacity == 0 and result.ids.scan_hint.text == ""
    assert result.ids.scan.disabled and not result.ids.scan.focus
    assert result.ids.scan_error.text == "" and result.ids.rating_note.text == ""
    assert result.ids.status.text == "已解决" and result.ids.status_english.text == "Resolved"
    assert result.ids.latest.text == "已更换阀芯 · Valve replaced"
    assert result.ids.latest_caption.text.startswith("最新进展 · ")
    assert result.can_rate and len(result.rating_buttons) == 5
    assert all(b.height >= 150 and b.width >= 150 for b in result.rating_buttons.values())
    shoot(kiosk, "status_resolved")
    tap(result.rating_buttons[2])
    assert kiosk.root.current == "ticket_status_result" and result.asks_reasons
    chips = result.reason_chips
    assert [c.primary for c in chips.values()][:2] == ["响应太慢", "问题没解决"]
    assert chips["slow"].secondary == "Too slow" and chips["slow"].height >= 100
    tap(chips["slow"])
    submit = result.ids.submit_rating
    assert chips["slow"].selected and submit.height >= theme.MIN_TARGET
    # "Submit rating" in the NavBar's primary slot (bottom-right), as Next is elsewhere
    assert isinstance(submit.parent, NavBar) and submit.parent.children[0] is submit.__self__
    assert submit.x > result.ids.done.right and submit.opacity == 1
    shoot(kiosk, "rating_low")
    tap(result.ids.submit_rating)
    assert kiosk.root.current == "ticket_status_thanks"
    assert wait_until(lambda: kiosk.ticket_status.state == tv.THANKS)
    step(2)
    thanks = screen(kiosk)
    assert thanks.ids.status.text == "感谢您的评价！"
    assert thanks.ids.status_english.text == "Thank you for your rating!"
    shoot(kiosk, "rating_thanks")
    row = ticket_rows(app)[0]
    assert (row["rating"], row["rated_via"]) == (2, "kiosk")
    assert json.loads(row["rating_reasons"]) == ["slow"]
    tap(thanks.ids.done)
    assert kiosk.root.current == "home" and kiosk.ticket_status.is_reset

    # rated once: the same QR now shows the rating and offers no buttons
    open_status(kiosk)
    scan(token)
    assert wait_until(lambda: kiosk.root.current == "ticket_status_result")
    step(2)
    assert not result.can_rate and result.ids.rating_note.text.startswith("您已评价：2 分")


def test_a_rating_refused_by_the_console_says_why(console, kiosk):
    app, _server, _staff = console
    number, token = submit_common(kiosk, Taps())
    tap(screen(kiosk).ids.done)
    set_status(app, int(number), "resolved")
    open_status(kiosk)
    scan(token)
    assert wait_until(lambda: kiosk.root.current == "ticket_status_result")
    step(2)
    assert screen(kiosk).can_rate
    # meanwhile the resident rated it through the link in the message
    db = building_db(app)
    with write_transaction(db):
        tickets.rate(
            db, app.extensions["lobbydesk.clock"], int(number), rating=5, reasons=[], via="link"
        )
    db.close()
    tap(screen(kiosk).rating_buttons[4])
    assert kiosk.root.current == "ticket_status_thanks"
    # 409 is retried by the outbox; the kiosk withdraws it and says why
    assert wait_until(lambda: kiosk.ticket_status.state == tv.FAILED)
    step(2)
    thanks = screen(kiosk)
    assert thanks.ids.status.text == "这张报修单已经评价过了"
    assert thanks.ids.status_english.text == "This ticket has already been rated"
    assert thanks.ids.call.opacity == 1
    shoot(kiosk, "rating_refused")
    assert ticket_rows(app)[0]["rating"] == 5
    assert Outbox(kiosk.store).depth() == 0  # nothing left blocking the queue


def test_not_found_and_a_bad_qr_say_what_to_do_next(console, kiosk):
    open_status(kiosk)
    status = screen(kiosk)
    type_lookup(kiosk, "987654", "101")
    tap(status.ids.submit)
    assert wait_until(lambda: kiosk.ticket_status.error_key is not None)
    step(2)
    assert kiosk.root.current == "ticket_status"
    assert status.ids.error.text.startswith(
        "没有找到这张报修单。请核对单号和房号后重试，或呼叫前台。"
    )
    assert "No ticket found." in status.ids.error.text and status.ids.call.opacity == 1
    shoot(kiosk, "status_not_found")
    scan("forged.qr.code")
    assert wait_until(lambda: kiosk.ticket_status.error_key == "ticket.error.bad_qr")
    step(2)
    assert status.ids.error.text.startswith("无法识别这个二维码。")
    assert status.ids.scan.text == "" and status.ids.scan.focus

    # four more misses by number + unit (five in ten minutes): the console says wait
    for _ in range(4):
        tap(status.ids.submit)
        assert wait_until(lambda: kiosk.ticket_status.state == tv.ENTRY)
        assert kiosk.ticket_status.error_key == "ticket.error.not_found"
    tap(status.ids.submit)
    assert wait_until(lambda: kiosk.ticket_status.state == tv.ENTRY)
    step(2)
    assert kiosk.ticket_status.error_key == "ticket.error.throttled"
    assert status.ids.error.text == (
        "查询次数过多，请稍后再试或到前台查询。\n"
        "Too many tries. Please try again later or ask at the desk."
    )
    assert "离线" not in status.ids.error.text and status.ids.call.opacity == 1
    assert status.ids.number.value == "987654" and status.ids.unit.value == "101"
    shoot(kiosk, "status_throttled")


def test_idle_forgets_the_repair(console, kiosk):
    taps = Taps()
    open_repair(kiosk, taps)
    enter_unit(kiosk, taps)
    assert kiosk.repair.unit == UNIT
    kiosk.session.last_touch = kiosk.clock.now().replace(year=2000)
    kiosk._tick()
    assert kiosk.root.current == "home" and kiosk.repair.is_reset
    assert screen(kiosk, "repair_unit").ids.display.text == ""
    assert screen(kiosk, "repair_category").ids.chosen.text == ""


def test_landscape_keeps_every_step_on_screen(console, start_kiosk):
    app, server, _staff = console
    kiosk = start_kiosk(
        console_url=server.url,
        start_sync=True,
        pairing=pair_over_http(app, server.url),
        orientation="landscape",
    )
    assert wait_until(lambda: kiosk.online)
    taps = Taps()
    open_repair(kiosk, taps)
    enter_unit(kiosk, taps)

    def on_screen(widget):
        x, y = widget.to_window(widget.x, widget.y)
        return x >= 0 and y >= 0 and x + widget.width <= 1920 and y + widget.height <= 1080

    category = screen(kiosk)
    assert category.ids.tiles.cols == 4
    assert all(on_screen(t) and t.height >= 200 for t in category.tiles.values())
    screenshot("repair_category_landscape_zh.png")
    taps(category.tiles["electrical"])
    step(2)
    assert all(on_screen(c) for c in screen(kiosk).chips.values())
    taps(screen(kiosk).chips["smoke"])
    step(2)
    ids = screen(kiosk).ids
    assert ids.steps.parent.orientation == "horizontal"  # the two languages side by side
    shown = ("title", "what", "status", "phone", "steps", "steps_other", "number", "done")
    assert all(on_screen(ids[name]) for name in shown), [n for n in shown if not on_screen(ids[n])]
    assert ids.phone.y >= ids.steps.top - 1 and ids.number.top <= ids.steps.y + 1  # no overlap
    screenshot("repair_emergency_landscape_zh.png")
