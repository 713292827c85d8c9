"""The calm idle reset on the real window: a countdown with "More time" in the last
10 s, and screens with news for the person stay 3 minutes."""

from __future__ import annotations

from kivy.base import EventLoop

from tests.ui.conftest import screenshot, tap, wait_until


def home(app):
    return app.root.get_screen("home")


def bar_on_window(app) -> bool:
    return app.countdown.parent is EventLoop.window


def test_the_last_ten_seconds_count_down_and_more_time_keeps_the_screen(kiosk_app, kiosk_clock):
    tap(home(kiosk_app).ids.repair)
    assert kiosk_app.root.current == "repair_unit"
    kiosk_clock.advance(seconds=45)
    kiosk_app._tick()
    assert not bar_on_window(kiosk_app)  # at 45 s nothing changes yet
    kiosk_clock.advance(seconds=7)
    assert wait_until(lambda: bar_on_window(kiosk_app))
    bar = kiosk_app.countdown
    assert bar.ids.countdown.text == "8 秒后返回首页 · Back to start in 8 s"
    assert bar.ids.more_time.text == "还需要时间 · More time"
    assert bar.ids.more_time.height >= 96
    screenshot("kiosk_idle_countdown_zh.png")
    tap(bar.ids.more_time)
    assert not bar_on_window(kiosk_app)
    kiosk_clock.advance(seconds=45)  # 97 s after the first touch, 45 s after "More time"
    kiosk_app._tick()
    assert kiosk_app.root.current == "repair_unit" and not bar_on_window(kiosk_app)
    kiosk_clock.advance(seconds=16)
    assert wait_until(lambda: kiosk_app.root.current == "home")
    assert not bar_on_window(kiosk_app) and kiosk_app.repair.is_reset


def test_reception_on_the_way_stays_three_minutes(kiosk_app, kiosk_clock):
    tap(home(kiosk_app).ids.help)
    call = kiosk_app.help_call
    call.on_online(True)
    assert call.on_acked(call.outbox_id, {"id": 7})  # as if the console had answered
    assert call.on_feed_event(
        {"kind": "escalation.acknowledged", "payload": {"escalation_id": 7, "staff_name": "王芳"}}
    )
    kiosk_app.refresh()
    help_screen = kiosk_app.root.get_screen("help")
    assert help_screen.ids.status.text == "王芳 正在赶来"
    kiosk_clock.advance(seconds=90)  # past the 60 s reset: still told someone is coming
    kiosk_app._tick()
    assert kiosk_app.root.current == "help" and not bar_on_window(kiosk_app)
    kiosk_clock.advance(seconds=82)
    kiosk_app._tick()
    assert bar_on_window(kiosk_app)  # the last 10 s of the 3 minutes
    kiosk_clock.advance(seconds=9)
    assert wait_until(lambda: kiosk_app.root.current == "home")
    assert call.is_reset


def test_home_in_the_default_language_shows_no_countdown(kiosk_app, kiosk_clock):
    kiosk_clock.advance(seconds=55)
    kiosk_app._tick()
    assert not bar_on_window(kiosk_app)  # nothing to forget: nothing to warn about
