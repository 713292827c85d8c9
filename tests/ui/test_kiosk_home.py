"""The kiosk as a visitor sees it: a real window, real taps, real SQLite."""

from __future__ import annotations

import pytest

from kiosk.outbox import ACKED, Outbox
from shared.version import __version__
from tests.stub_console import StubConsole
from tests.ui.conftest import screenshot, step, tap, wait_until


def home(app):
    return app.root.get_screen("home")


def visible_texts(screen) -> list[str]:
    return [w.text for w in screen.walk() if hasattr(w, "text") and w.text and w.opacity > 0]


def test_home_in_chinese_with_english_underneath(kiosk_app):
    screen = home(kiosk_app)
    ids = screen.ids
    assert kiosk_app.root.current == "home"
    assert ids.greeting_line1.text == "您好，欢迎光临！"
    assert ids.greeting_line2.text == "有什么我可以帮您的吗？"
    assert ids.greeting_en.text == "Hello, welcome! How can we help you?"
    tiles = [
        (ids[name].primary, ids[name].secondary) for name in ("visitor", "parcel", "repair", "help")
    ]
    # offline (not connected yet): pickup says so before anyone types; the rest queue
    parcel_note = "取件码需联网核对，请到前台 · Unavailable offline"
    assert tiles == [("访客登记", "Visitor registration"), ("取快递 · 暂不可用", parcel_note),
                     ("报修", "Repair request"), ("呼叫前台", "Call reception")]  # fmt: skip
    assert ids.sign_out.text == "签退 · Sign out" and ids.emergency.text == "紧急求助 · Emergency"
    bar = ids.top_bar.ids
    assert bar.building.text == "滨江花园"
    assert bar.status_label.text == "离线"  # not connected (yet): said, not hidden
    assert bar.language.text == "English"
    screenshot("kiosk_home_zh.png")


def test_home_in_english(kiosk_app):
    screen = home(kiosk_app)
    tap(screen.ids.top_bar.ids.language)
    ids = screen.ids
    assert kiosk_app.language == "en"
    assert ids.greeting_line1.text == "Hello, welcome!"
    assert ids.greeting_line2.text == "How can we help you?"
    assert ids.visitor.primary == "Visitor registration" and ids.visitor.secondary == ""
    assert ids.help.primary == "Call reception"
    assert ids.top_bar.ids.building.text == "Riverside Gardens"
    assert ids.top_bar.ids.language.text == "中文"
    assert not any("访客" in text for text in visible_texts(screen))
    screenshot("kiosk_home_en.png")


def test_buttons_are_large(kiosk_app):
    ids = home(kiosk_app).ids
    for name in ("visitor", "parcel", "repair", "help"):
        assert ids[name].height >= 200, name
        assert ids[name].width >= 900, name
    for name in ("sign_out", "emergency"):  # one tap from home, still a big target
        assert ids[name].height >= 96 and ids[name].width >= 400, name
    assert ids.top_bar.ids.language.height >= 90
    assert ids.top_bar.ids.language.width >= 200


def test_call_reception_offline_queues_one_item_and_says_so_at_once(kiosk_app):
    tile = home(kiosk_app).ids.help
    tap(tile)
    tap(tile)  # a second, impatient tap (now on the help screen) queues nothing more
    assert kiosk_app.root.current == "help"
    items = Outbox(kiosk_app.store).items()
    assert len(items) == 1
    assert items[0].body_json["screen"] == "home"
    assert items[0].body_json["language"] == "zh_CN"
    help_screen = kiosk_app.root.get_screen("help")
    assert help_screen.ids.status.text == "您的呼叫已保存，网络恢复后将立即通知前台。"
    assert help_screen.ids.detail.text == "如有急事，请直接前往前台。"
    assert help_screen.ids.elapsed.text == "已等待 0 秒"
    # the language switch is on this screen too
    tap(help_screen.ids.top_bar.ids.language)
    assert help_screen.ids.status.text.startswith("Your call is saved.")
    assert help_screen.ids.home_button.text == "Back to home"
    screenshot("kiosk_help_offline_en.png")


def test_idle_60s_returns_home_in_chinese_and_forgets_the_call(kiosk_app, kiosk_clock):
    tap(home(kiosk_app).ids.top_bar.ids.language)
    tap(home(kiosk_app).ids.help)
    assert kiosk_app.root.current == "help" and kiosk_app.language == "en"
    kiosk_clock.advance(seconds=59)
    elapsed = kiosk_app.root.get_screen("help").ids.elapsed
    # frames until the once-a-second idle check has run (not a frame count: frames vary)
    assert wait_until(lambda: elapsed.text == "Waiting for 59 s")
    assert kiosk_app.root.current == "help"
    kiosk_clock.advance(seconds=2)
    assert wait_until(lambda: kiosk_app.root.current == "home")
    assert kiosk_app.language == "zh_CN"
    assert kiosk_app.help_call.state == "idle" and kiosk_app.help_call.outbox_id is None
    assert home(kiosk_app).ids.greeting_line1.text == "您好，欢迎光临！"
    # the queued call itself is not lost: it still goes to reception
    assert Outbox(kiosk_app.store).depth() == 1


def test_a_touch_keeps_the_session_alive(kiosk_app, kiosk_clock):
    tap(home(kiosk_app).ids.top_bar.ids.language)
    kiosk_clock.advance(seconds=50)
    tap(home(kiosk_app).ids.repair)  # counts as activity
    kiosk_clock.advance(seconds=50)
    step(70)
    kiosk_app._tick()  # the idle check has run at least once
    assert kiosk_app.root.current == "repair_unit" and kiosk_app.language == "en"


def test_the_repair_tile_opens_the_repair_flow_and_back_returns_home(kiosk_app):
    # (the repair flow replaced the coming-soon screen; tests/ui/test_repair_flow.py)
    tap(home(kiosk_app).ids.repair)
    screen = kiosk_app.root.get_screen("repair_unit")
    assert kiosk_app.root.current == "repair_unit"
    assert screen.ids.header.ids.title.text == "报修：请输入房号"
    tap(screen.ids.back)
    assert kiosk_app.root.current == "home" and kiosk_app.repair.is_reset


def test_landscape_layout(start_kiosk):
    app = start_kiosk(orientation="landscape")
    step(3)
    ids = home(app).ids
    assert app.root.size == [1920, 1080]
    assert ids.tiles.cols == 2
    for name in ("visitor", "parcel", "repair", "help"):
        assert ids[name].height >= 200, name
        assert ids[name].top <= ids.greeting.y + 1  # nothing overlaps the greeting
        assert ids[name].y >= ids.footer.top - 1
    screenshot("kiosk_home_landscape_zh.png")


@pytest.fixture
def console():
    stub = StubConsole().start()
    yield stub
    stub.stop()


def test_with_a_console_sent_then_on_my_way(start_kiosk, console):
    app = start_kiosk(console_url=console.url, start_sync=True, feed_wait=25)
    assert wait_until(lambda: app.online)
    assert home(app).ids.top_bar.ids.status_label.text == "在线"
    tap(home(app).ids.help)
    help_ids = app.root.get_screen("help").ids
    assert wait_until(lambda: help_ids.status.text == "前台已收到您的呼叫")
    (item,) = Outbox(app.store).items()
    assert item.state == ACKED
    console.add_event("escalation.acknowledged", {"escalation_id": 1, "staff_name": "王芳"})
    assert wait_until(lambda: help_ids.status.text == "王芳 正在赶来")
    assert help_ids.detail.text == "请在此稍候。"
    assert help_ids.status_english.text == "Wang Fang from reception is on the way"  # pinyin
    screenshot("kiosk_help_coming_zh.png")
    console.release()


def test_offline_the_parcel_tile_is_greyed_and_opens_nothing(kiosk_app):
    ids = home(kiosk_app).ids
    assert not kiosk_app.online and ids.parcel.bg_color != ids.visitor.bg_color
    tap(ids.parcel)
    assert kiosk_app.root.current == "home" and kiosk_app.parcel.is_reset
    kiosk_app.sync_online(True)  # the connection is back: the tile works again
    step(2)
    assert ids.parcel.primary == "取快递" and ids.parcel.secondary == "Parcel pickup"
    tap(ids.parcel)
    assert kiosk_app.root.current == "parcel_pickup"


def test_sign_out_is_one_tap_from_home(kiosk_app):
    tap(home(kiosk_app).ids.sign_out)
    assert kiosk_app.root.current == "visitor_sign_out"
    assert kiosk_app.sign_out.state == "entry"


def test_emergency_from_home_needs_no_unit_and_alerts_the_desk(kiosk_app):
    tap(home(kiosk_app).ids.emergency)
    assert kiosk_app.root.current == "repair_sos"
    sos = kiosk_app.root.get_screen("repair_sos")
    assert sos.ids.elevator.text == "有人被困电梯\nSomeone trapped in a lift"
    screenshot("kiosk_sos_zh.png")
    tap(sos.ids.elevator)
    assert kiosk_app.root.current == "repair_emergency"  # the red screen at once, offline too
    red = kiosk_app.root.get_screen("repair_emergency")
    assert "电梯" in red.ids.steps.text and red.ids.done.text == "返回首页"
    (item,) = Outbox(kiosk_app.store).items()
    assert item.kind == "escalation.help" and item.body_json["screen"] == "sos_elevator"
    screenshot("kiosk_sos_elevator_zh.png")


def test_the_help_screen_names_the_version_and_this_kiosk_in_both_languages(kiosk_app):
    """Staff on the phone with support find the version where the kiosk already goes
    (呼叫前台 · Call reception), small, with no extra gesture."""
    tap(kiosk_app.root.get_screen("home").ids.help)
    assert kiosk_app.root.current == "help"
    about = kiosk_app.root.get_screen("help").ids.about
    assert about.text == (
        f"Lobby Desk {__version__} · 本终端：Lobby A\n"
        f"Lobby Desk {__version__} · This kiosk: Lobby A"
    )
    kiosk_app.toggle_language()
    step(2)
    assert about.text == f"Lobby Desk {__version__} · This kiosk: Lobby A"
