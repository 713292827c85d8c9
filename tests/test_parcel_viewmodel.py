"""ParcelViewModel: input, the body sent, every answer mapped to a message in both
languages, the offline path and reset (no Kivy)."""

from __future__ import annotations

import pytest

from kiosk.refusals import Refusal
from kiosk.viewmodels import parcel as pv
from kiosk.viewmodels.effects import Enqueue
from kiosk.viewmodels.session import KioskSession
from shared import i18n

CODE = "123456"


@pytest.fixture
def vm(clock):
    model = pv.ParcelViewModel(clock)
    model.on_online(True)
    model.begin()
    return model


def texts(key, **values):
    return {lang: i18n.text("kiosk", key, lang, **values) for lang in ("zh_CN", "en")}


def press(vm, keys):
    for key in keys:
        vm.key(key)


def sent(vm, unit="101", code=CODE, outbox_id=7):
    press(vm, unit)
    assert vm.submit() is None and vm.field == pv.CODE  # "Next"
    press(vm, code)
    effect = vm.submit()
    vm.on_saved(outbox_id)
    return effect


def test_unit_then_code_builds_the_body(vm):
    press(vm, "1201")
    assert vm.unit_display == "1201" and vm.field == pv.UNIT
    vm.submit()
    press(vm, "1234567")  # a seventh digit is ignored
    assert vm.code_display == "●●●●●●" and vm.code_count == 6
    vm.key("back")
    assert vm.code_display == "●●●●●○"
    vm.key("6")
    effect = vm.submit()
    assert effect == Enqueue(pv.KIND, pv.PATH, {"unit": "1201", "code": CODE})
    assert vm.state == pv.SAVING and vm.code_digits == ""
    vm.on_saved(3)
    assert vm.state == pv.SENDING and vm.result_keys() == ("parcel.checking", None)


def test_input_mistakes_are_explained(vm):
    assert vm.submit() is None and vm.error_key == "parcel.error.unit_empty"
    press(vm, "101")
    vm.submit()
    press(vm, "123")
    assert vm.submit() is None and vm.error_key == "parcel.error.code_format"
    vm.key("clear")
    vm.key("back")  # ⌫ on an empty code: back to the unit
    assert vm.field == pv.UNIT
    vm.select(pv.CODE)
    assert vm.field == pv.CODE and vm.error_key is None
    assert texts("parcel.error.code_format")["en"] == "Please enter the 6-digit pickup code."


def test_a_scan_sends_the_qr(vm):
    assert vm.scanned("   ") is None
    assert vm.scanned("x" * (pv.MAX_QR_CHARS + 1)) is None
    assert vm.error_key == "parcel.error.not_a_code"
    assert vm.scanned(" v1.token \n") == Enqueue(pv.KIND, pv.PATH, {"qr": "v1.token"})


def test_success_lists_the_parcels_and_where_to_collect(vm):
    sent(vm)
    answer = {
        "parcels": [{"carrier": "顺丰 SF Express", "shelf": "A-3", "tracking_tail": "…1234"}],
        "collect_at": "shelf",
        "message_zh": "请到货架 A-3 自取。",
        "message_en": "Please take them from shelf A-3.",
    }
    assert vm.on_acked(99, answer) is False  # not ours
    assert vm.on_acked(7, answer) is True
    assert vm.state == pv.COLLECT and vm.finished
    assert vm.parcels == answer["parcels"] and vm.shelves == "A-3"
    assert vm.result_keys() == ("parcel.found", "parcel.collect.shelf")  # one parcel
    assert vm.message("zh_CN") == "请到货架 A-3 自取。"
    assert vm.message("en") == "Please take them from shelf A-3."
    assert texts("parcel.collect.shelf", shelves="A-3")["zh_CN"] == "请到货架 A-3 自取。"


def test_success_without_messages_falls_back_to_the_desk(vm):
    sent(vm)
    vm.on_acked(7, {"parcels": [], "collect_at": "desk"})
    assert vm.result_keys() == ("parcel.found", "parcel.collect.desk")
    assert vm.message("en") == ""
    assert texts("parcel.collect.desk")["zh_CN"].startswith("请到前台领取")


@pytest.mark.parametrize(
    ("code", "title", "zh", "en"),
    [
        ("token_invalid", "parcel.failed.unusable", "无法使用", "can't be used"),
        ("token_expired", "parcel.failed.unusable", "无法使用", "can't be used"),
        ("already_collected", "parcel.failed.unusable", "无法使用", "can't be used"),
        ("code_expired", "parcel.failed.unusable", "无法使用", "can't be used"),
        ("code_entry_paused", "parcel.failed.paused", "已暂停", "paused"),
        ("too_many_attempts", "parcel.failed.throttled", "稍等", "wait a moment"),
        ("something_new", "parcel.failed.refused", "无法取件", "could not"),
    ],
)
def test_refusals_end_at_a_message_saying_what_next(vm, code, title, zh, en):
    sent(vm)
    assert vm.on_dead(7, Refusal(code)) is True
    assert vm.state == pv.FAILED and vm.finished
    key, detail = vm.result_keys()
    assert key == title and zh in texts(key)["zh_CN"] and en in texts(key)["en"]
    assert "前台" in texts(detail)["zh_CN"]
    assert "reception" in texts(detail)["en"].lower()


def test_paused_says_reception_has_been_told(vm):
    sent(vm)
    vm.on_dead(7, Refusal("code_entry_paused", "HTTP 423 code_entry_paused: paused"))
    detail = texts(vm.result_keys()[1])
    assert "前台已收到通知" in detail["zh_CN"] and "Reception has been told" in detail["en"]
    assert not vm.offer_call  # reception already knows: no "call reception" to press again


def test_other_failures_and_offline_offer_a_call_to_reception(vm):
    sent(vm)
    vm.on_dead(7, Refusal("code_expired", "HTTP 400 code_expired: expired"))
    assert vm.offer_call


def test_the_tries_left_reach_the_screen_as_data_from_the_answer(vm):
    """What the sync worker hands on_dead: the console's answer as data, count included."""
    from kiosk.client import classify

    class Answer:
        status_code, reason, headers = 400, "Bad Request", {}

        def json(self):
            error = {"code": "wrong_code", "message": "No match.", "attempts_left": 2}
            return {"error": error}

    sent(vm)
    vm.on_dead(7, Refusal.of_result(classify(Answer())))
    assert (vm.error_key, vm.error_values) == ("parcel.error.wrong_code_left", {"n": 2})
    assert "还可尝试 2 次" in texts(vm.error_key, n=2)["zh_CN"]
    assert texts(vm.error_key, n=1)["en"].endswith("1 try left.")
    assert texts(vm.error_key, n=2)["en"].endswith("2 tries left.")


def test_one_parcel_is_one_parcel_in_english(vm):
    sent(vm)
    vm.on_acked(7, {"parcels": [{"carrier": "SF", "shelf": "", "tracking_tail": "1234"}]})
    assert vm.result_keys() == ("parcel.found", "parcel.collect.desk")
    assert texts("parcel.found", n=1)["en"] == "We found 1 parcel"
    assert texts("parcel.found", n=2)["en"] == "We found 2 parcels"


def test_a_wrong_code_goes_back_to_the_code_with_attempts_left(vm):
    sent(vm)
    vm.on_dead(7, Refusal("wrong_code", "HTTP 400 wrong_code: no match", attempts_left=3))
    assert vm.state == pv.ENTRY and vm.field == pv.CODE and vm.unit_display == "101"
    assert (vm.error_key, vm.error_values) == ("parcel.error.wrong_code_left", {"n": 3})
    assert "还可尝试 3 次" in texts(vm.error_key, n=3)["zh_CN"]
    assert "3 tries left" in texts(vm.error_key, n=3)["en"]
    # without the count (what the outbox reports today): the same advice, no number
    sent_again = vm.submit()
    assert sent_again is None  # the code was cleared: nothing sent until it is typed
    press(vm, CODE)
    vm.submit()
    vm.on_saved(8)
    vm.on_dead(8, Refusal("wrong_code", "HTTP 400 wrong_code: The unit and code do not match."))
    assert vm.error_key == "parcel.error.wrong_code"
    assert "不匹配" in texts(vm.error_key)["zh_CN"]


@pytest.mark.parametrize(
    ("code", "field", "key", "en"),
    [
        ("invalid_code_format", pv.CODE, "parcel.error.code_format", "6-digit"),
        ("unknown_unit", pv.UNIT, "parcel.error.unknown_unit", "no such unit"),
    ],
)
def test_correctable_refusals_return_to_entry(vm, code, field, key, en):
    sent(vm)
    vm.on_dead(7, Refusal(code))
    assert (vm.state, vm.field, vm.error_key) == (pv.ENTRY, field, key)
    assert en in texts(key)["en"]


def test_offline_queues_nothing_and_sends_the_person_to_reception(vm):
    vm.on_online(False)
    press(vm, "101")
    vm.submit()
    press(vm, CODE)
    assert vm.submit() is None
    assert vm.state == pv.OFFLINE and vm.code_digits == ""
    assert vm.result_keys() == ("parcel.offline", "parcel.offline_detail")
    detail = texts("parcel.offline_detail")
    assert "请到前台" in detail["zh_CN"] and "please see reception" in detail["en"].lower()
    assert "offline" in texts("parcel.offline")["en"]


def test_a_pickup_is_kept_only_while_awaited(vm, clock):
    sent(vm)
    assert vm.keeps(7) and not vm.keeps(8)
    clock.advance(seconds=pv.ANSWER_SECONDS - 1)
    assert vm.keeps(7)
    clock.advance(seconds=1)
    assert not vm.keeps(7)  # no answer in time: the app withdraws it
    assert vm.on_dead(7, Refusal(pv.WITHDRAWN)) and vm.state == pv.OFFLINE
    vm.begin()
    sent(vm, outbox_id=9)
    vm.on_online(False)
    assert not vm.keeps(9)  # offline: withdrawn at once
    vm.reset()
    assert not vm.keeps(9)  # the person left: withdrawn


def test_reset_forgets_everything(vm):
    sent(vm)
    vm.on_acked(7, {"parcels": [{"carrier": "x", "shelf": "A", "tracking_tail": "…1"}]})
    vm.reset()
    assert vm.is_reset and not vm.finished
    assert (vm.unit_digits, vm.code_digits, vm.parcels, vm.outbox_id) == ("", "", [], None)
    assert vm.messages == {"zh_CN": "", "en": ""} and vm.result_keys() == (None, None)
    assert vm.on_acked(7, {}) is False  # a late answer is not shown to the next person
    assert vm.key("1") is None and vm.unit_digits == ""  # not in entry


def test_every_key_exists_in_both_languages():
    session = KioskSession()
    keys = [k for k in i18n.catalogue("kiosk") if k.startswith("parcel.")]
    for key in keys:
        for language in ("zh_CN", "en"):
            session.set_language(language)
            assert session.text(key, n=1, shelves="A", carrier="c", shelf="s", tail="t")


def test_late_answer_after_timeout_is_ignored(vm, clock):
    sent(vm)
    clock.advance(seconds=10)
    vm.on_dead(7, Refusal(pv.WITHDRAWN))
    assert vm.on_acked(7, {"parcels": []}) is False
