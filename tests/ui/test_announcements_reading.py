"""Notices on the home screen at reading size, for as long as it takes to read them,
held by a touch, and the four tiles never move when notices come and go."""

from __future__ import annotations

from kiosk.viewmodels import broadcast as bc
from tests.ui.conftest import step, tap

LONG_ZH = (
    "本周六上午九点至十二点，二号楼电梯年检，期间请使用一号楼电梯或楼梯，给您带来不便，敬请谅解。"
)


def notice(
    id_, title_zh="电梯年检", body_zh=LONG_ZH, title_en="Lift inspection", body_en="Use lift 1."
):
    return {"id": id_, "title_zh": title_zh, "title_en": title_en, "body_zh": body_zh,
            "body_en": body_en, "starts_at": "2026-11-27T08:00:00+00:00", "ends_at": None}  # fmt: skip


def publish(app, *items):
    app.broadcast.apply_announcements(
        {"announcements": list(items), "now": "2026-11-27T09:00:00+00:00"}
    )
    app.broadcast_desk.show()
    step(3)


def shown_title(app):
    return app.root.get_screen("home").ids.carousel.title_zh


def test_reading_time_follows_the_length_never_under_8_s():
    assert bc.reading_seconds("停水通知", "Water off") == 8.0
    # 45 characters at 250 a minute: about 11 s, not 8
    assert 10.5 <= bc.reading_seconds("字" * 45, "") <= 11
    assert bc.reading_seconds("", " ".join(["word"] * 60)) == 18.0


def test_a_long_notice_stays_until_it_can_be_read(kiosk_app, kiosk_clock):
    publish(kiosk_app, notice(1), notice(2, title_zh="停水"))
    assert shown_title(kiosk_app) == "电梯年检"
    stay = bc.reading_seconds("电梯年检" + LONG_ZH, "Lift inspection Use lift 1.")
    assert stay > bc.ROTATE_SECONDS
    kiosk_clock.advance(seconds=stay - 1)
    kiosk_app.broadcast_desk._tick()
    assert shown_title(kiosk_app) == "电梯年检"  # 8 s would have moved on already
    kiosk_clock.advance(seconds=2)
    kiosk_app.broadcast_desk._tick()
    step(2)
    assert shown_title(kiosk_app) == "停水"


def test_a_touch_on_the_notice_holds_it_then_the_carousel_goes_on(kiosk_app, kiosk_clock):
    publish(kiosk_app, notice(1, body_zh="短"), notice(2, title_zh="停水", body_zh="短"))
    carousel = kiosk_app.root.get_screen("home").ids.carousel
    tap(carousel)
    for _ in range(19):  # 19 s of ticks: held
        kiosk_clock.advance(seconds=1)
        kiosk_app.broadcast_desk._tick()
    assert shown_title(kiosk_app) == "电梯年检"
    kiosk_clock.advance(seconds=2 + bc.ROTATE_SECONDS)  # the pause is over; read time again
    kiosk_app.broadcast_desk._tick()
    kiosk_clock.advance(seconds=1)
    kiosk_app.broadcast_desk._tick()
    step(2)
    assert shown_title(kiosk_app) == "停水"


def test_the_notice_body_is_at_the_kiosks_body_size(kiosk_app):
    publish(kiosk_app, notice(1))
    ids = kiosk_app.root.get_screen("home").ids.carousel.ids
    hint_size = kiosk_app.root.get_screen("visitor_phone").ids.hint.font_size  # body text
    assert ids.body.font_size >= hint_size
    assert ids.secondary.font_size >= 30


def tile_boxes(app):
    ids = app.root.get_screen("home").ids
    return [
        tuple(ids[name].pos) + tuple(ids[name].size)
        for name in ("visitor", "parcel", "repair", "help")
    ]


def test_the_tiles_do_not_move_when_notices_come_and_go(start_kiosk):
    for orientation in ("portrait", "landscape"):
        app = start_kiosk(orientation=orientation)
        step(3)
        before = tile_boxes(app)
        publish(app, notice(1))
        assert app.root.get_screen("home").ids.carousel.shown
        assert tile_boxes(app) == before, orientation
        app.broadcast.apply_announcements({"announcements": [], "now": "2026-11-27T09:00:00+00:00"})
        app.broadcast_desk.show()
        step(3)
        assert tile_boxes(app) == before, orientation
