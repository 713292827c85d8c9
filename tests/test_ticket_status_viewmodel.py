"""TicketStatusViewModel: the lookup by number + unit or by the scanned QR, every
answer mapped to a message in both languages (the console's throttle too), the
rating by QR only (reasons for a low one; a ticket found by number + unit asks
for its QR), offline, dead letters and reset (no Kivy)."""

from __future__ import annotations

import pytest

from kiosk.client import PERMANENT, RETRYABLE, SUCCESS, UNAUTHORISED, Result
from kiosk.refusals import Refusal
from kiosk.viewmodels import ticket_status as tv
from kiosk.viewmodels.effects import Enqueue, Query
from shared import i18n, terms


@pytest.fixture
def vm(clock):
    model = tv.TicketStatusViewModel(clock)
    model.on_online(True)
    model.begin()
    return model


def both(key, **values):
    return {lang: i18n.text("kiosk", key, lang, **values) for lang in i18n.LANGUAGES}


def summary(status="in_progress", can_rate=False, rating=None, update=True):
    return {
        "number": "42",
        "status": status,
        "kind": "repair",
        "category": "water",
        "problem": "dripping_tap",
        "urgency": "normal",
        "received_at": "2026-11-25T08:00:00+00:00",
        "sla_due_at": "2026-11-28T08:00:00+00:00",
        "overdue": False,
        "latest_update": (
            {
                "text": "师傅明天上午上门 · The plumber comes tomorrow morning",
                "at": "2026-11-26T02:30:00+00:00",
            }
            if update
            else None
        ),
        "can_rate": can_rate,
        "rating": rating,
    }


def press(vm, keys):
    for key in keys:
        vm.key(key)


def typed_lookup(vm, number="42", unit="1201"):
    press(vm, number)
    assert vm.submit() is None and vm.field == tv.UNIT  # "Next: your unit"
    press(vm, unit)
    return vm.submit()


QR = "abc.def.ghi"


def found(vm, **kw):
    """Found by number + unit."""
    query = typed_lookup(vm)
    assert vm.on_lookup(query.generation, Result(SUCCESS, 200, summary(**kw)))
    assert vm.state == tv.FOUND and vm.found_by == tv.BY_NUMBER
    return query


def found_by_qr(vm, qr=QR, **kw):
    query = vm.scanned(qr)
    assert vm.on_lookup(query.generation, Result(SUCCESS, 200, summary(**kw)))
    assert vm.state == tv.FOUND and vm.found_by == tv.BY_QR
    return query


def note(vm):
    key, values = vm.rating_note()
    return {lang: i18n.text("kiosk", key, lang, **values) for lang in i18n.LANGUAGES}


def test_number_then_unit_builds_the_lookup(vm):
    assert vm.submit() is None and vm.error_key == "ticket.error.number_empty"
    press(vm, "12345678901")  # at most 9 digits
    assert vm.number_display == "123456789"
    vm.key("clear")
    query = typed_lookup(vm)
    assert query == Query(
        "lookup_ticket", ({"number": "42", "unit": "1201"},), "on_lookup", vm.generation
    )
    assert vm.state == tv.LOOKING
    press(vm, "9")  # the keypad waits for the answer
    assert vm.unit_display == "1201"


def test_input_mistakes_are_explained(vm):
    press(vm, "42")
    vm.submit()
    vm.key("back")  # ⌫ on an empty unit: back to the number
    assert vm.field == tv.NUMBER
    vm.select(tv.UNIT)
    assert vm.submit() is None and vm.error_key == "ticket.error.unit_empty"
    assert both("ticket.error.unit_empty")["en"] == "Please enter your unit number."
    vm.select("spaceship")
    assert vm.field == tv.UNIT


def test_a_scanned_qr_is_looked_up(vm):
    assert vm.scanned("   ") is None and vm.scanned(None) is None
    assert vm.scanned("x" * (tv.MAX_QR_CHARS + 1)) is None
    assert vm.error_key == "ticket.error.bad_qr"
    assert vm.scanned("two words") is None
    query = vm.scanned("  abc.def.ghi \n")
    assert query.call == "lookup_ticket" and query.args == ({"qr": "abc.def.ghi"},)


def test_the_found_ticket_is_shown_in_both_languages(vm):
    found(vm)
    assert vm.number_digits == vm.unit_digits == ""
    assert (vm.status_words("zh_CN"), vm.status_words("en")) == ("处理中", "In progress")
    assert vm.status_words("zh_CN") == terms.term("ticket_status", "in_progress", "zh")
    assert vm.what("zh_CN") == "水管/漏水 · 水龙头漏水"
    assert vm.what("en") == "Water & plumbing · Dripping tap"
    assert vm.latest_text.startswith("师傅明天上午上门")
    assert vm.latest_at == tv.local_time("2026-11-26T02:30:00+00:00") != ""
    assert not vm.can_rate and vm.rate(5) is None


def test_every_status_has_a_name(vm):
    for status in tv.STATUSES:
        assert terms.pair("ticket_status", status) != (status, status)
    assert tv.local_time("not a time") == "" and tv.local_time("2026-11-26T02:30:00") == ""


@pytest.mark.parametrize(
    ("scan", "answer", "key", "call"),
    [
        (
            False,
            Result(PERMANENT, 404, None, "ticket_not_found", "no"),
            "ticket.error.not_found",
            True,
        ),
        (True, Result(PERMANENT, 400, None, "token_invalid", "bad"), "ticket.error.bad_qr", False),
        (
            True,
            Result(PERMANENT, 410, None, "token_expired", "old"),
            "ticket.error.expired_qr",
            False,
        ),
        (True, Result(PERMANENT, 400, None, "invalid_request", "?"), "ticket.error.bad_qr", False),
        (
            False,
            Result(PERMANENT, 400, None, "invalid_request", "?"),
            "ticket.error.not_found",
            True,
        ),
        (False, Result(RETRYABLE, None, None, None, "refused"), "ticket.error.offline", True),
        (False, Result(UNAUTHORISED, 401, None, "unauthorised", "x"), "ticket.error.offline", True),
        (False, Result(SUCCESS, 200, {"number": "42"}), "ticket.error.offline", True),
    ],
)
def test_lookup_failures_say_what_to_do_next(vm, scan, answer, key, call):
    query = vm.scanned("abc") if scan else typed_lookup(vm)
    assert vm.on_lookup(query.generation, answer)
    assert vm.state == tv.ENTRY and vm.error_key == key and vm.offer_call is call
    assert vm.ident is None and all(both(key).values())
    vm.key("1")  # typing again clears the message
    assert vm.error_key is None


def test_too_many_missed_lookups_say_wait_or_ask_at_the_desk(vm):
    press(vm, "42")
    vm.submit()
    press(vm, "1201")
    query = vm.submit()
    throttled = Result(
        RETRYABLE, 429, None, "too_many_attempts", "try again in 10 minutes", retry_after=540.0
    )
    assert vm.on_lookup(query.generation, throttled)
    assert vm.state == tv.ENTRY and vm.error_key == "ticket.error.throttled" and vm.offer_call
    assert both(vm.error_key) == {
        "zh_CN": "查询次数过多，请稍后再试或到前台查询。",
        "en": "Too many tries. Please try again later or ask at the desk.",
    }
    assert vm.error_key != "ticket.error.offline"
    # what was typed is kept; the QR still looks the ticket up
    assert (vm.number_display, vm.unit_display) == ("42", "1201")
    again = vm.scanned(QR)
    assert again.args == ({"qr": QR},) and vm.state == tv.LOOKING


def test_lookup_messages_read_well():
    assert both("ticket.error.not_found")["zh_CN"].startswith("没有找到这张报修单")
    assert "Enter the ticket number and unit" in both("ticket.error.bad_qr")["en"]


def test_offline_looks_nothing_up(clock):
    vm = tv.TicketStatusViewModel(clock)
    vm.begin()
    assert typed_lookup(vm) is None
    assert vm.state == tv.ENTRY and vm.error_key == "ticket.error.offline" and vm.offer_call


def test_a_stale_answer_is_ignored(vm):
    query = typed_lookup(vm)
    vm.reset()
    vm.begin()
    assert not vm.on_lookup(query.generation, Result(SUCCESS, 200, summary()))
    assert vm.state == tv.ENTRY and vm.summary is None


def test_a_ticket_found_by_number_asks_for_its_qr_to_rate_it(vm):
    found(vm, status="resolved", can_rate=True)
    assert vm.ident is None  # the number + unit are forgotten: they cannot rate
    assert vm.summary["can_rate"] and not vm.can_rate and vm.scan_to_rate
    assert vm.rate(5) is None and vm.rate(2) is None and not vm.asks_reasons
    assert vm.submit_rating() is None and vm.state == tv.FOUND
    assert vm.latest_text.startswith("师傅明天上午上门") and vm.status_words("en")
    assert note(vm) == {
        "zh_CN": "如需评价，请扫描报修单上的二维码",
        "en": "To rate, scan the QR code on your ticket",
    }
    # the QR scanned on this screen: the ticket stays shown while it is checked
    query = vm.scanned("  abc.def.ghi\n")
    assert query == Query("lookup_ticket", ({"qr": QR},), "on_lookup", vm.generation)
    assert vm.state == tv.FOUND and vm.checking_qr and not vm.can_rate
    assert vm.scanned("another.qr.code") is None  # one at a time
    assert vm.on_lookup(query.generation, Result(SUCCESS, 200, summary("resolved", True)))
    assert vm.found_by == tv.BY_QR and vm.can_rate and not vm.scan_to_rate
    assert vm.rating_note() == (None, {})
    assert vm.rate(4).body == {"qr": QR, "rating": 4, "reasons": []}


def test_an_open_ticket_found_by_number_says_scan_the_qr_once_resolved(vm):
    found(vm)
    assert not vm.can_rate and not vm.scan_to_rate
    assert vm.scanned(QR) is None  # nothing to rate yet: the scanner is not listening
    assert note(vm)["en"] == "Once it is resolved, scan the QR code on your ticket to rate it."
    assert note(vm)["zh_CN"] == "处理完成后，扫描报修单上的二维码即可评价。"
    vm.back()
    found(vm, status="closed", rating=4)
    assert not vm.scan_to_rate and note(vm)["zh_CN"] == "您已评价：4 分"
    vm.back()
    found_by_qr(vm)
    assert note(vm)["en"] == "You can rate it here once it is resolved."


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (Result(PERMANENT, 400, None, "token_invalid", "bad"), "ticket.rescan.bad_qr"),
        (Result(PERMANENT, 410, None, "token_expired", "old"), "ticket.rescan.expired_qr"),
        (Result(PERMANENT, 404, None, "ticket_not_found", "gone"), "ticket.rescan.bad_qr"),
        (Result(RETRYABLE, None, None, None, "refused"), "ticket.rescan.offline"),
        (Result(SUCCESS, 200, {"number": "42"}), "ticket.rescan.offline"),
    ],
)
def test_a_qr_that_fails_on_the_ticket_screen_says_why_and_keeps_the_ticket(vm, answer, key):
    found(vm, status="resolved", can_rate=True)
    query = vm.scanned("q.r.code")
    assert vm.on_lookup(query.generation, answer)
    assert vm.state == tv.FOUND and vm.found_by == tv.BY_NUMBER and vm.scan_to_rate
    assert vm.error_key == key and vm.ident is None and not vm.checking_qr
    assert vm.summary["number"] == "42" and all(both(key).values())
    assert vm.rate(5) is None
    query = vm.scanned(QR)  # scanning again works, and clears the message
    assert vm.error_key is None
    assert vm.on_lookup(query.generation, Result(SUCCESS, 200, summary("resolved", True)))
    assert vm.can_rate


def test_a_qr_on_the_ticket_screen_offline_or_malformed(vm):
    found(vm, status="resolved", can_rate=True)
    assert vm.scanned("two words") is None and vm.error_key == "ticket.rescan.bad_qr"
    vm.on_online(False)
    assert vm.scanned(QR) is None
    assert vm.error_key == "ticket.rescan.offline" and vm.state == tv.FOUND
    assert both(vm.error_key)["en"].startswith("The system is offline")
    vm.on_online(True)
    query = vm.scanned(QR)
    vm.back()  # the resident left for a new lookup: the late answer is ignored
    assert not vm.on_lookup(query.generation, Result(SUCCESS, 200, summary("resolved", True)))
    assert vm.state == tv.ENTRY and vm.summary is None and not vm.checking_qr


def test_a_high_rating_is_sent_at_once(vm):
    found_by_qr(vm, status="resolved", can_rate=True)
    assert vm.can_rate and vm.rate(6) is None and vm.rate(True) is None
    effect = vm.rate(5)
    assert effect == Enqueue(tv.KIND, tv.PATH, {"qr": QR, "rating": 5, "reasons": []})
    assert vm.state == tv.RATING
    vm.on_saved(8)
    assert vm.ident is None and vm.outcome_keys() == ("ticket.rating.sending", None)
    assert vm.on_acked(8, summary(status="resolved", rating=5))
    assert vm.state == tv.THANKS and vm.summary["rating"] == 5
    assert both(vm.outcome_keys()[0]) == {
        "zh_CN": "感谢您的评价！",
        "en": "Thank you for your rating!",
    }


def test_a_low_rating_asks_why_first(vm):
    query = vm.scanned("q.r.code")
    vm.on_lookup(query.generation, Result(SUCCESS, 200, summary(status="closed", can_rate=True)))
    assert vm.rate(2) is None and vm.asks_reasons and vm.rating == 2
    assert [key for key, _zh, _en in tv.reasons()][:2] == ["slow", "not_fixed"]
    vm.toggle_reason("no_update")
    vm.toggle_reason("slow")
    vm.toggle_reason("mess")
    vm.toggle_reason("mess")  # off again
    vm.toggle_reason("rude")  # not offered
    assert vm.reasons == ["no_update", "slow"]
    vm.rate(3)  # another low rating keeps the reasons
    effect = vm.submit_rating()
    assert effect.body == {"qr": "q.r.code", "rating": 3, "reasons": ["slow", "no_update"]}
    assert vm.submit_rating() is None  # once


def test_a_rating_queued_offline_is_kept(vm):
    found_by_qr(vm, status="resolved", can_rate=True)
    vm.on_online(False)
    vm.rate(4)
    vm.on_saved(2)
    title, detail = vm.outcome_keys()
    assert both(title)["zh_CN"] == "评价已保存，联网后自动提交" and detail


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (
            Refusal("ticket_already_rated", "HTTP 409 ticket_already_rated: rated"),
            "ticket.rating.failed.already",
        ),
        (
            Refusal("ticket_not_resolved", "HTTP 409 ticket_not_resolved: open"),
            "ticket.rating.failed.not_resolved",
        ),
        (
            Refusal("rating_needs_qr", "HTTP 400 rating_needs_qr: scan the QR"),
            "ticket.rating.failed.needs_qr",
        ),
        (Refusal("invalid_request", "HTTP 400 invalid_request: ?"), "ticket.rating.failed.refused"),
        (Refusal(None, "gave up"), "ticket.rating.failed.refused"),
    ],
)
def test_a_refused_rating_says_why(vm, error, key):
    found_by_qr(vm, status="resolved", can_rate=True)
    vm.rate(5)
    vm.on_saved(3)
    assert not vm.on_dead(4, error)
    assert vm.on_dead(3, error)
    assert vm.state == tv.FAILED and vm.outcome_keys() == (key, "ticket.rating.failed.next")
    assert all(both(key).values())
    assert set(tv.FINAL_CONFLICTS) == {"ticket_already_rated", "ticket_not_resolved"}


def test_the_needs_qr_refusal_reads_well():
    assert both("ticket.rating.failed.needs_qr") == {
        "zh_CN": "请扫描报修单二维码评价",
        "en": "Scan the ticket's QR code to rate it",
    }


def test_a_rating_that_cannot_be_saved(vm):
    found_by_qr(vm, status="resolved", can_rate=True)
    vm.rate(5)
    vm.on_save_failed()
    assert vm.outcome_keys()[0] == "ticket.rating.failed.not_saved"


def test_back_and_reset_forget_the_resident(vm, clock):
    found_by_qr(vm, status="resolved", can_rate=True)
    vm.rate(1)
    vm.back()  # a new lookup
    assert vm.state == tv.ENTRY and vm.summary is None and vm.rating is None
    vm.back()  # leave
    assert vm.is_reset
    found_again = tv.TicketStatusViewModel(clock)
    found_again.generation, found_again.online = vm.generation, vm.online
    assert vars(vm) == vars(found_again)
