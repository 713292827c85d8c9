"""The calm idle reset and the offline home tiles, with no window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.viewmodels import home, idle
from kiosk.viewmodels.help_call import HelpCallViewModel, romanised
from kiosk.viewmodels.repair import RepairViewModel
from kiosk.viewmodels.session import KioskSession
from kiosk.viewmodels.visitor import VisitorViewModel
from shared import i18n


@pytest.fixture
def timer(clock):
    return idle.IdleTimer(KioskSession(clock, idle_seconds=60))


def at(clock, seconds):
    return clock.now() + timedelta(seconds=seconds)


def test_nothing_shows_until_the_last_ten_seconds_then_it_counts_down(timer, clock):
    assert timer.countdown(at(clock, 0)) is None
    assert timer.countdown(at(clock, 49.9)) is None
    assert timer.countdown(at(clock, 50)) == 10
    assert timer.countdown(at(clock, 50.5)) == 10
    assert timer.countdown(at(clock, 59.2)) == 1
    assert not timer.due(at(clock, 59.9))
    assert timer.due(at(clock, 60)) and timer.countdown(at(clock, 60)) is None


def test_more_time_gives_a_full_idle_period_again(timer, clock):
    assert timer.countdown(at(clock, 55)) == 5
    timer.more_time(at(clock, 55))
    assert timer.countdown(at(clock, 56)) is None
    assert not timer.due(at(clock, 114))
    assert timer.due(at(clock, 115))


def test_a_screen_with_news_stays_three_minutes(timer, clock):
    assert not timer.due(at(clock, 61), news=True)
    assert timer.countdown(at(clock, 120), news=True) is None
    assert timer.countdown(at(clock, 175), news=True) == 5
    assert timer.due(at(clock, 180), news=True)


def test_the_reset_never_comes_later_than_the_idle_setting_without_news(clock):
    timer = idle.IdleTimer(KioskSession(clock, idle_seconds=30))
    assert timer.countdown(at(clock, 20)) == 10 and timer.due(at(clock, 30))


def test_news_is_reception_on_the_way_the_pass_or_a_ticket_number(clock):
    help_call, visitor, repair = (
        HelpCallViewModel(clock),
        VisitorViewModel(clock),
        RepairViewModel(clock),
    )
    assert not idle.has_news(help_call, visitor, repair)
    help_call.state = "coming"
    assert idle.has_news(help_call, visitor, repair)
    help_call.reset()
    visitor.step, visitor.state = "outcome", "confirmed"
    assert idle.has_news(help_call, visitor, repair)
    visitor.reset()
    repair.step, repair.state = "done", "sent"
    assert idle.has_news(help_call, visitor, repair)
    repair.state = "offline"  # saved, no number yet: the normal reset
    assert not idle.has_news(help_call, visitor, repair)


def test_an_invited_visitors_pass_on_screen_is_news_a_refusal_is_not(clock):
    from kiosk.viewmodels.invitation import InvitationViewModel

    quiet = (HelpCallViewModel(clock), VisitorViewModel(clock), RepairViewModel(clock))
    invitation = InvitationViewModel(clock)
    for state in ("signed_in", "see_staff", "recorded"):
        invitation.state = state
        assert idle.has_news(*quiet, invitation)
    invitation.state = "refused"
    assert not idle.has_news(*quiet, invitation)


def test_offline_only_parcel_pickup_is_unavailable_and_it_says_why():
    for service in ("visitor", "repair", "parcel", "help", "sign_out", "emergency"):
        assert home.available(service, online=True) and home.reason_key(service, True) is None
    assert not home.available("parcel", online=False)
    for service in ("visitor", "repair", "help", "sign_out", "emergency"):
        assert home.available(service, online=False)  # they queue in the outbox
    key = home.reason_key("parcel", online=False)
    zh, en = (i18n.text("kiosk", key, lang) for lang in ("zh_CN", "en"))
    assert "联网" in zh and "see reception" in en
    assert i18n.text("kiosk", home.UNAVAILABLE, "en") == "Unavailable offline"


def test_the_staff_name_in_english_is_in_pinyin(clock):
    call = HelpCallViewModel(clock)
    call.state, call.staff_name = "coming", "王芳"
    assert call.message_values_in("zh_CN") == {"name": "王芳"}
    english = i18n.text("kiosk", call.message_key, "en", **call.message_values_in("en"))
    assert english == "Wang Fang from reception is on the way"
    assert romanised("欧阳娜娜") == "Ouyang Nana" and romanised("Emily Carter") == "Emily Carter"


def test_home_emergency_needs_no_unit_and_alerts_the_desk_by_the_help_path(clock):
    from kiosk.viewmodels import help_call
    from kiosk.viewmodels import repair as rv
    from shared import protocol

    vm = RepairViewModel(clock)
    vm.begin_sos()
    assert vm.step == rv.SOS and vm.pick_hazard("meteor", "zh_CN") is None
    order = vm.pick_hazard("elevator", "zh_CN")
    assert vm.step == rv.EMERGENCY and vm.hazard == "elevator" and vm.unit is None
    assert (order.kind, order.path) == (help_call.KIND, help_call.PATH)
    assert protocol.validate_help_call(order.body)["screen"] == "sos_elevator"
    assert any("电梯" in step for step in vm.instructions("zh_CN"))
    vm.on_saved(5)
    vm.on_acked(5, {"id": 41})
    assert vm.number == ""  # an escalation's id is not a ticket number to show
    assert vm.outcome_key() == "repair.emergency.alerted"
    vm.reset()
    vm.begin_sos()
    vm.back()
    assert vm.step == "idle"


def test_a_failed_sign_out_can_be_retried():
    from kiosk.viewmodels import sign_out as so

    vm = so.SignOutViewModel()
    vm.begin()
    vm.state = so.FAILED
    vm.retry()
    assert vm.state == so.ENTRY and vm.digits == ""
