"""Kiosk view-models, with no window: language, idle reset, the help-call flow."""

from __future__ import annotations

import pytest

from kiosk.viewmodels import help_call as hc
from kiosk.viewmodels.help_call import HelpCallViewModel
from kiosk.viewmodels.session import KioskSession
from shared import i18n
from shared.protocol import validate_help_call


@pytest.fixture
def session(clock):
    return KioskSession(clock, idle_seconds=60)


@pytest.fixture
def call(clock):
    return HelpCallViewModel(clock)


def acknowledged(escalation_id=7, name="王芳"):
    return {
        "id": 3,
        "kind": "escalation.acknowledged",
        "payload": {"escalation_id": escalation_id, "staff_name": name},
    }


def test_session_starts_in_chinese_and_toggles(session):
    assert session.language == "zh_CN"
    assert session.text("home.help") == "呼叫前台"
    assert session.toggle_language() == "en"
    assert session.text("home.help") == "Call reception"
    assert session.text("help.elapsed", seconds=12) == "Waiting for 12 s"
    assert session.toggle_language() == "zh_CN"
    with pytest.raises(ValueError):
        session.set_language("fr")


def test_session_idle_after_60_seconds_and_reset(session, clock):
    session.toggle_language()
    clock.advance(seconds=59)
    assert not session.is_idle()
    session.touched()
    clock.advance(seconds=59.9)
    assert not session.is_idle()
    clock.advance(seconds=0.1)
    assert session.is_idle()
    session.reset()
    assert session.language == "zh_CN"
    assert not session.is_idle()


def test_every_kiosk_string_has_both_languages():
    catalogue = i18n.catalogue("kiosk")
    for key, texts in catalogue.items():
        assert set(texts) == {"zh_CN", "en"}, key
        assert isinstance(texts["zh_CN"], str), key  # Chinese has one form for any count
        english = texts["en"]
        forms = list(english.values()) if isinstance(english, dict) else [english]
        assert isinstance(english, str) or set(english) == {"one", "other"}, key
        assert all(value.strip() for value in [texts["zh_CN"], *forms]), key


def test_help_call_order_is_what_the_console_accepts(call, clock):
    order = call.start("en", "coming_soon")
    assert (order["kind"], order["method"], order["path"]) == (
        "escalation.help",
        "POST",
        "/api/v1/escalations",
    )
    assert order["body"] == {
        "kind": "help",
        "created_at": "2026-11-27T09:00:00.000000+00:00",
        "language": "en",
        "screen": "coming_soon",
    }
    assert validate_help_call(order["body"]) == order["body"]
    assert call.state == hc.SAVING
    assert call.start("en", "home") is None  # a second tap queues nothing


def test_help_call_full_flow_online(call, session, clock):
    call.on_online(True)
    call.start("zh_CN", "home")
    assert session.text(call.message_key) == "正在保存您的呼叫…"
    call.on_saved(41)
    assert (call.state, call.message_key) == (hc.WAITING, "help.waiting_online")
    clock.advance(seconds=3)
    assert call.on_acked(41, {"id": 7, "status": "open"})
    assert (call.state, call.escalation_id) == (hc.SENT, 7)
    assert session.text(call.message_key) == "前台已收到您的呼叫"
    assert call.shows_elapsed and call.elapsed_seconds() == 3
    assert not call.on_feed_event(acknowledged(escalation_id=8))  # someone else's call
    assert call.on_feed_event(acknowledged())
    assert call.state == hc.COMING
    assert session.text(call.message_key, **call.message_values) == "王芳 正在赶来"
    assert call.on_feed_event({"kind": "escalation.resolved", "payload": {"escalation_id": 7}})
    assert call.state == hc.RESOLVED and not call.busy
    assert call.start("zh_CN", "home") is not None  # a new call can start


def test_help_call_offline_says_saved_honestly(call, session):
    call.on_online(False)
    call.start("zh_CN", "home")
    call.on_saved(1)
    assert call.message_key == "help.waiting_offline"
    assert "网络恢复后" in session.text(call.message_key)
    assert session.text(call.detail_key) == "如有急事，请直接前往前台。"
    session.toggle_language()
    assert "as soon as the connection is back" in session.text(call.message_key)
    call.on_online(True)
    assert call.message_key == "help.waiting_online"


def test_help_call_ignores_other_acks_and_handles_dead_items(call):
    call.start("zh_CN", "home")
    call.on_saved(5)
    assert not call.on_acked(4, {"id": 1})
    assert call.state == hc.WAITING
    assert call.on_dead(5)
    assert call.state == hc.FAILED and call.message_key == "help.failed"


def test_staff_reaction_before_our_answer_is_kept(call):
    """The console's 201 got lost, staff already clicked "on my way"."""
    call.start("zh_CN", "home")
    call.on_saved(5)
    assert not call.on_feed_event(acknowledged(escalation_id=7))
    call.on_acked(5, {"id": 7})  # the resend brings the same answer
    assert call.state == hc.COMING and call.staff_name == "王芳"


def test_help_call_reset_forgets_everything(call):
    call.start("zh_CN", "home")
    call.on_saved(5)
    call.on_acked(5, {"id": 7})
    call.reset()
    assert (call.state, call.outbox_id, call.escalation_id, call.staff_name) == (
        hc.IDLE,
        None,
        None,
        "",
    )
    assert not call.on_acked(5, {"id": 7})  # a late answer for a forgotten call is ignored
    assert not call.shows_elapsed
