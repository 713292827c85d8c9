"""VisitorViewModel and SignOutViewModel: the visitor flows with no window."""

from __future__ import annotations

import pytest

from kiosk.client import PERMANENT, RETRYABLE, SUCCESS, Result
from kiosk.refusals import Refusal
from kiosk.surnames import all_surnames, search
from kiosk.viewmodels import sign_out as so
from kiosk.viewmodels import visitor as vv
from kiosk.viewmodels import visitor_name as vname
from kiosk.viewmodels.effects import Enqueue, Query
from kiosk.viewmodels.sign_out import SignOutViewModel
from kiosk.viewmodels.visitor import VisitorViewModel
from kiosk.viewmodels.visitor_returning import mask_unit
from shared import i18n, terms, visitors
from shared.building import SETTING_DEFAULTS

PHONE = "13812345678"


@pytest.fixture
def vm(clock):
    model = VisitorViewModel(clock)
    model.on_online(True)
    model.begin()
    return model


def ok(body=None):
    return Result(SUCCESS, 200, body or {})


def text(key, language, **values):
    return i18n.text("kiosk", key, language, **values)


def type_phone(vm, digits=PHONE):
    for digit in digits:
        vm.phone_key(digit)


def to_name_step(vm):
    """privacy → phone → (lookup: not found) → name."""
    vm.agree()
    type_phone(vm)
    query = vm.phone_next()
    assert vm.on_lookup(query.generation, ok({"found": False, "masked_name": None}))
    assert vm.step == vv.NAME


def pick_name(vm, initials="zh", surname="张", title="mr"):
    for letter in initials:
        vm.letter(letter)
    vm.pick_surname(surname)
    vm.pick_title(title)
    vm.name_next()


def to_purpose_step(vm, unit="101"):
    for digit in unit:
        vm.unit_key(digit)
    query = vm.unit_next()
    if query is not None:
        assert vm.on_unit_checked(query.generation, ok({"unit": unit, "exists": True}))
    assert vm.step == vv.PURPOSE


# -- step order ------------------------------------------------------------------


def test_a_new_visitor_goes_phone_name_unit_purpose_and_sends_a_valid_body(vm, clock):
    assert vm.step == vv.PHONE  # the one-line notice sits above the phone: no notice step
    vm.show_privacy()
    assert vm.step == vv.PRIVACY  # the full notice is one tap away …
    vm.agree()
    assert vm.step == vv.PHONE  # … and comes back to the phone
    type_phone(vm)
    assert vm.phone_display == "138 1234 5678"  # digits while typing (grouped 3-4-4) …
    query = vm.phone_next()
    assert query == Query("lookup_visitor", ("+8613812345678",), "on_lookup", vm.generation)
    assert vm.phone_display == "138 **** 5678"  # … masked once entered
    vm.on_lookup(query.generation, ok({"found": False, "masked_name": None}))
    assert vm.step == vv.NAME
    pick_name(vm)
    assert vm.name == "张先生" and vm.step == vv.UNIT
    query = vm.unit_next()
    assert query is None and vm.error_key == "visitor.unit.error_empty"
    to_purpose_step(vm, "101")
    assert vm.unit_checked and vm.unit_note_key is None
    vm.pick_purpose("delivery")
    vm.change_party(+1)
    order = vm.submit("zh_CN")
    assert isinstance(order, Enqueue)
    assert (order.kind, order.path, order.method) == ("visit.register", "/api/v1/visits", "POST")
    assert order.body == {
        "name": "张先生", "phone": "+8613812345678", "unit": "101", "purpose": "delivery",
        "party_size": 2, "language": "zh_CN", "created_at": "2026-11-27T09:00:00.000000+00:00",
    }  # fmt: skip
    assert visitors.validate_registration(order.body, SETTING_DEFAULTS)["name"] == "张先生"
    assert vm.step == vv.OUTCOME and vm.state == vv.SAVING


def test_back_walks_the_steps_in_reverse_and_leaves_from_the_phone(vm):
    to_name_step(vm)
    vm.back()
    assert vm.step == vv.PHONE
    vm.show_privacy()
    vm.back()
    assert vm.step == vv.PHONE  # back from the details returns to the phone
    vm.back()
    assert vm.step == vv.IDLE


def test_a_returning_visitor_same_as_last_time_is_sent_with_one_tap(vm):
    type_phone(vm)
    query = vm.phone_next()
    last = {"last_unit": "1201", "last_purpose": "delivery"}
    vm.on_lookup(query.generation, ok({"found": True, "masked_name": "张*", **last}))
    assert vm.step == vv.RETURNING and vm.last_unit == "1201"
    assert vm.last_unit_shown == "12**"  # the screen shows it masked; the order is exact
    order = vm.same_as_last("zh_CN")
    assert vm.step == vv.OUTCOME and vm.state == vv.SAVING
    assert order.body["returning"] is True and "name" not in order.body
    assert (order.body["unit"], order.body["purpose"], order.body["party_size"]) == (
        "1201", "delivery", 1,
    )  # fmt: skip
    visitors.validate_registration(order.body, SETTING_DEFAULTS)


@pytest.mark.parametrize(
    ("unit", "shown"), [("1201", "12**"), ("3-1204", "3-12**"), ("101", "1**"), ("A1", "**")]
)
def test_the_last_unit_is_shown_masked_with_a_fixed_mask(unit, shown):
    """As the kiosk masks names (张**) and phones: the room hidden, never the length."""
    assert mask_unit(unit) == shown
    assert mask_unit(unit).endswith("**") and unit not in mask_unit(unit)


@pytest.mark.parametrize(
    "last", [{}, {"last_unit": ""}, {"last_unit": 1201}, {"last_unit": "x" * 30}]
)
def test_without_a_usable_last_unit_same_as_last_time_is_not_offered(vm, last):
    type_phone(vm)
    query = vm.phone_next()
    vm.on_lookup(query.generation, ok({"found": True, "masked_name": "张*", **last}))
    assert vm.last_unit is None and vm.same_as_last("zh_CN") is None
    assert vm.step == vv.RETURNING  # "yes, that's me" then asks for the unit as before
    vm.confirm_returning(True)
    assert vm.step == vv.UNIT


def test_an_unknown_last_purpose_falls_back_to_visiting(vm):
    type_phone(vm)
    query = vm.phone_next()
    body = {"found": True, "masked_name": "张*", "last_unit": "101", "last_purpose": "party"}
    vm.on_lookup(query.generation, ok(body))
    assert vm.same_as_last("en").body["purpose"] == "visit"


def test_the_purposes_are_the_consoles():
    assert vv.PURPOSES == visitors.PURPOSES
    assert vv.MAX_PARTY_SIZE == visitors.MAX_PARTY_SIZE


def test_party_size_stays_between_1_and_10(vm):
    to_name_step(vm)
    pick_name(vm)
    to_purpose_step(vm)
    vm.change_party(-1)
    assert vm.party_size == 1
    for _ in range(15):
        vm.change_party(+1)
    assert vm.party_size == 10


# -- validation, in both languages ----------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "key", "zh", "en"),
    [
        ("12345", "visitor.phone.error_invalid", "手机号不正确", "not a valid mobile"),
        ("02155550100", "visitor.phone.error_invalid", "手机号不正确", "not a valid mobile"),
    ],
)
def test_a_bad_phone_is_refused_with_a_message_in_each_language(vm, digits, key, zh, en):
    vm.agree()
    type_phone(vm, digits)
    assert vm.phone_next() is None
    assert vm.step == vv.PHONE and vm.error_key == key
    assert zh in text(key, "zh_CN") and en in text(key, "en")


def test_phone_is_optional_unless_the_building_requires_it(clock):
    vm = VisitorViewModel(clock)
    vm.begin({"visitor_phone_required": False, "visit_retention_days": 30})
    assert vm.retention_days == 30
    vm.agree()
    assert vm.skip_phone() is None and vm.step == vv.NAME and vm.phone is None
    vm.begin({"visitor_phone_required": True})
    vm.agree()
    assert vm.skip_phone() is None and vm.step == vv.PHONE
    assert vm.phone_next() is None and vm.error_key == "visitor.phone.error_required"


@pytest.mark.parametrize(
    ("typed", "key", "zh", "en"),
    [
        ("", "visitor.name.error_empty", "请输入姓名", "Please enter a name"),
        ("   ", "visitor.name.error_empty", "请输入姓名", "Please enter a name"),
        ("张" * 200, "visitor.name.error_long", "最多 40 个字", "at most 40"),
        ("Bob 😀", "visitor.name.error_letters", "不能有表情", "letters only"),
    ],
)
def test_a_bad_name_is_refused_with_a_message_in_each_language(vm, typed, key, zh, en):
    to_name_step(vm)
    vm.set_name_mode(vv.TYPED)
    vm.set_full_name(typed)
    vm.name_next()
    assert vm.step == vv.NAME and vm.name is None and vm.error_key == key
    assert zh in text(key, "zh_CN") and en in text(key, "en")


def test_the_picker_needs_a_surname_and_a_title(vm):
    to_name_step(vm)
    vm.name_next()
    assert vm.error_key == "visitor.name.error_surname"
    vm.pick_surname("欧阳")
    vm.name_next()
    assert vm.error_key == "visitor.name.error_title"
    vm.pick_title("ms")
    assert vm.name_preview == "欧阳女士"
    vm.name_next()
    assert vm.name == "欧阳女士" and vm.step == vv.UNIT


def test_a_latin_name_on_the_letter_pad_is_capitalised(vm):
    to_name_step(vm)
    vm.set_name_mode(vv.TYPED)
    for key in [
        "e",
        "m",
        "i",
        "l",
        "y",
        "space",
        "space",
        "c",
        "a",
        "r",
        "t",
        "e",
        "r",
        "x",
        "back",
    ]:
        vm.letter(key)
    assert vm.name_preview == "Emily Carter"
    vm.name_next()
    assert vm.name == "Emily Carter"


def test_a_name_typed_on_a_keyboard_or_input_method_is_cleaned(vm):
    to_name_step(vm)
    vm.set_full_name("  李\u202e小龙  ")
    assert vm.name_mode == vv.TYPED
    vm.name_next()
    assert vm.name == "李小龙"


# -- surname search -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("w", ["王", "吴", "魏", "汪", "韦", "万"]),
        ("zh", ["张", "赵", "周", "朱", "郑", "钟"]),
        ("oy", ["欧阳"]),
        ("ouy", ["欧阳"]),
        ("sm", ["司马"]),
        ("zeng", ["曾"]),  # the surname reading, not pypinyin's ceng
        ("qin", ["秦", "覃"]),
    ],
)
def test_surnames_are_found_by_pinyin_initials(typed, expected):
    found = [s.text for s in search(typed)]
    assert found[: len(expected)] == expected or set(expected) <= set(found)
    assert all(s.matches(typed) for s in search(typed))


def test_the_surname_list_is_data_with_readings_for_the_odd_ones():
    surnames = {s.text: s for s in all_surnames()}
    assert len(surnames) >= 100
    assert surnames["曾"].pinyin == "zeng" and surnames["单"].pinyin == "shan"
    assert surnames["解"].pinyin == "xie" and surnames["区"].pinyin == "ou"
    assert surnames["仇"].pinyin == "qiu" and surnames["欧阳"].initials == "oy"
    assert search("")[0].text == "王"  # most common first


def test_the_letter_pad_searches_in_picker_mode(vm):
    to_name_step(vm)
    vm.letter("w")
    assert [c[0] for c in vm.surname_choices][:3] == ["王", "吴", "魏"]
    vm.letter("back")
    vm.letter("o")
    vm.letter("y")
    assert vm.surname_choices == [("欧阳", "ouyang")]
    vm.letter("clear")
    assert len(vm.surname_choices) == vv.SURNAME_SLOTS


# -- returning visitor --------------------------------------------------------------------


def test_a_returning_visitor_confirms_with_one_tap_and_sends_no_name(vm):
    vm.agree()
    type_phone(vm)
    query = vm.phone_next()
    assert vm.lookup_pending and vm.phone_next() is None  # no second lookup meanwhile
    vm.on_lookup(query.generation, ok({"found": True, "masked_name": "张*"}))
    assert vm.step == vv.RETURNING and vm.returning_name == "张*"
    vm.confirm_returning(True)
    assert vm.step == vv.UNIT  # no name step
    to_purpose_step(vm)
    order = vm.submit("en")
    assert order.body["returning"] is True and "name" not in order.body
    assert order.body["phone"] == "+8613812345678" and order.body["language"] == "en"
    visitors.validate_registration(order.body, SETTING_DEFAULTS)


def test_not_me_goes_to_the_name_step(vm):
    vm.agree()
    type_phone(vm)
    query = vm.phone_next()
    vm.on_lookup(query.generation, ok({"found": True, "masked_name": "张*"}))
    vm.confirm_returning(False)
    assert vm.step == vv.NAME and not vm.returning and vm.returning_name is None


def test_a_failed_lookup_just_asks_for_the_name(vm):
    vm.agree()
    type_phone(vm)
    query = vm.phone_next()
    vm.on_lookup(query.generation, Result(RETRYABLE, message="connection failed"))
    assert vm.step == vv.NAME


def test_an_answer_for_the_previous_visitor_is_ignored(vm):
    vm.agree()
    type_phone(vm)
    query = vm.phone_next()
    vm.reset()
    vm.begin()
    vm.agree()
    assert not vm.on_lookup(query.generation, ok({"found": True, "masked_name": "张*"}))
    assert vm.step == vv.PHONE and vm.returning_name is None


# -- unit ------------------------------------------------------------------------------


def test_an_unknown_unit_offers_a_call_to_reception(vm):
    to_name_step(vm)
    pick_name(vm)
    for digit in "9999":
        vm.unit_key(digit)
    query = vm.unit_next()
    assert query.call == "unit_exists" and query.args == ("9999",)
    vm.on_unit_checked(query.generation, Result(PERMANENT, 422, {}, "unknown_unit", "no unit"))
    assert vm.step == vv.UNIT and vm.offer_call
    assert vm.error_key == "visitor.unit.error_unknown"
    assert "9999" in text(vm.error_key, "zh_CN", **vm.error_values)
    assert "call reception" in text(vm.error_key, "en", **vm.error_values)
    vm.unit_key("back")
    assert not vm.offer_call and vm.error_key is None


def test_offline_the_unit_is_accepted_and_the_visitor_is_told(clock):
    vm = VisitorViewModel(clock)
    vm.begin()
    vm.agree()
    type_phone(vm)
    assert vm.phone_next() is None  # offline: no lookup, straight to the name
    assert vm.step == vv.NAME
    pick_name(vm)
    for digit in "101":
        vm.unit_key(digit)
    assert vm.unit_next() is None
    assert vm.step == vv.PURPOSE and vm.unit_note_key == "visitor.unit.unchecked"


def test_no_answer_to_the_unit_check_accepts_the_unit(vm):
    to_name_step(vm)
    pick_name(vm)
    vm.unit_key("1")
    query = vm.unit_next()
    vm.on_unit_checked(query.generation, Result(RETRYABLE, message="timed out"))
    assert vm.step == vv.PURPOSE and not vm.unit_checked


def test_the_unit_keypad_keeps_eight_digits_and_waits_while_the_unit_is_checked(vm):
    to_name_step(vm)
    pick_name(vm)
    for key in "123456789":
        vm.unit_key(key)
    assert vm.unit_digits == "12345678"  # a ninth digit is ignored
    vm.unit_key("back")
    vm.unit_key("x")
    assert vm.unit_digits == "1234567"
    vm.unit_key("clear")
    vm.unit_key("5")
    assert vm.unit_next() is not None and vm.unit_checking
    vm.unit_key("6")  # the console is checking "5": the keypad waits for its answer
    assert vm.unit_digits == "5" and vm.step == vv.UNIT


# -- outcome ---------------------------------------------------------------------------


def submitted(vm, outbox_id=7):
    to_name_step(vm)
    pick_name(vm)
    to_purpose_step(vm)
    vm.submit("zh_CN")
    vm.on_saved(outbox_id)
    return vm


def confirmed_event(visit_id=42):
    return {
        "kind": "visit.confirmed",
        "payload": {"visit_id": visit_id, "pass_token": "tok.sig", "unit": "101",
                    "directions_zh": "请乘电梯上楼。", "directions_en": "Take the lift up."},
    }  # fmt: skip


def test_once_saved_the_name_and_phone_leave_the_view_model(vm):
    submitted(vm)
    assert vm.state == vv.WAITING
    assert vm.name is None and vm.phone is None and vm.phone_digits == "" and vm.surname == ""


def test_confirmation_from_the_feed_shows_directions_and_the_pass(vm):
    submitted(vm)
    assert not vm.on_feed_event(confirmed_event())  # before the ack: kept for later
    assert vm.on_acked(7, {"id": 42, "status": "pending", "received_at": "x"})
    assert vm.state == vv.CONFIRMED  # the early event was applied
    assert vm.pass_token == "tok.sig" and vm.outcome_unit == "101"
    assert vm.directions == {"zh_CN": "请乘电梯上楼。", "en": "Take the lift up."}
    assert vm.outcome_key() == "visitor.outcome.confirmed"


def test_a_decision_for_another_visit_is_ignored_and_denial_says_see_reception(vm):
    submitted(vm)
    vm.on_acked(7, {"id": 42})
    assert not vm.on_acked(8, {"id": 43})
    assert not vm.on_feed_event(confirmed_event(visit_id=41))
    assert not vm.on_feed_event({"kind": "escalation.resolved", "payload": {"escalation_id": 42}})
    assert vm.state == vv.SENT
    assert vm.on_feed_event({"kind": "visit.denied", "payload": {"visit_id": 42}})
    assert vm.state == vv.DENIED
    assert vm.outcome_detail_key() == "visitor.outcome.see_reception"


def test_after_60_seconds_without_a_decision_reception_has_been_reminded(vm, clock):
    submitted(vm)
    vm.on_acked(7, {"id": 42})
    assert vm.outcome_key() == "visitor.outcome.sent" and vm.holds_screen()
    clock.advance(seconds=59)
    assert not vm.reminded() and vm.elapsed_seconds() == 59
    clock.advance(seconds=1)
    assert vm.reminded() and vm.outcome_key() == "visitor.outcome.reminded"
    assert text("visitor.outcome.reminded", "en") == "Reception has been reminded"
    assert vm.holds_screen()  # the idle reset waits for the decision …
    clock.advance(seconds=vv.HOLD_SCREEN_SECONDS)
    assert not vm.holds_screen()  # … but not for ever


def test_offline_the_registration_completes_at_once_with_an_honest_message(clock):
    vm = VisitorViewModel(clock)
    vm.begin()
    vm.agree()
    vm.skip_phone()
    pick_name(vm)
    to_purpose_step(vm)
    vm.submit("zh_CN")
    vm.on_saved(3)
    assert vm.state == vv.OFFLINE and not vm.holds_screen()
    assert vm.outcome_key() == "visitor.outcome.offline"
    assert "前台" in text(vm.outcome_detail_key(), "zh_CN")
    assert "reception desk" in text(vm.outcome_detail_key(), "en")
    # the connection comes back while the visitor is still there: the screen follows
    vm.on_online(True)
    assert vm.on_acked(3, {"id": 9})
    assert vm.on_feed_event(confirmed_event(visit_id=9)) and vm.state == vv.CONFIRMED


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (
            Refusal("unknown_unit", "HTTP 422 unknown_unit: There is no such unit"),
            "visitor.failed.unknown_unit",
        ),
        (
            Refusal("returning_visitor_unknown", "HTTP 404 returning_visitor_unknown: none"),
            "visitor.failed.returning_unknown",
        ),
        (
            Refusal("invalid_name", "HTTP 400 invalid_name: Please enter a name."),
            "visitor.failed.invalid",
        ),
        (Refusal(None, "no answer: connection failed"), "visitor.failed.refused"),
    ],
)
def test_a_refused_registration_says_what_to_do_next(vm, error, key):
    submitted(vm)
    assert vm.on_dead(7, error)
    assert vm.state == vv.FAILED and vm.outcome_key() == key
    assert vm.outcome_detail_key() == "visitor.failed.next"
    assert "前台" in text("visitor.failed.next", "zh_CN")


def test_reset_forgets_everything_about_the_visitor(vm):
    vm.agree()
    type_phone(vm)
    query = vm.phone_next()
    vm.on_lookup(query.generation, ok({"found": False}))
    vm.letter("z")
    pick_name(vm)
    to_purpose_step(vm)
    vm.change_party(3)
    vm.pick_purpose("interview")
    fresh = VisitorViewModel(vm.clock)
    generation = vm.generation
    vm.reset()
    ignore = {"clock", "generation", "settings", "online"}
    assert {k: v for k, v in vars(vm).items() if k not in ignore} == {
        k: v for k, v in vars(fresh).items() if k not in ignore
    }
    assert vm.generation > generation and vm.step == vv.IDLE
    remaining = repr(vars(vm))
    for trace in ("张", "138", "5678", "101", "interview"):
        assert trace not in remaining


# -- sign-out -------------------------------------------------------------------------


def test_sign_out_by_scanned_pass():
    model = SignOutViewModel()
    model.on_online(True)
    model.begin()
    assert model.scanned("   ") is None
    order = model.scanned(" eyJ2Ijo0Mn0.sig \n")
    assert order == Enqueue(
        "visit.sign_out", "/api/v1/visits/sign-out", {"pass": "eyJ2Ijo0Mn0.sig"}
    )
    model.on_saved(5)
    assert model.state == so.WAITING
    assert model.on_acked(5, {"visit_id": 42, "masked_name": "张*"})
    assert model.message_key == "signout.goodbye_named" and model.message_values == {"name": "张*"}
    assert text(model.message_key, "en", **model.message_values).startswith("Goodbye, 张*")


def test_sign_out_by_phone_and_the_errors():
    model = SignOutViewModel()
    model.begin()
    for digit in "12345":
        model.key(digit)
    assert model.phone_submit() is None and model.message_key == "signout.error_phone"
    model.key("clear")
    for digit in PHONE:
        model.key(digit)
    order = model.phone_submit()
    assert order.body == {"phone": "+8613812345678"} and model.digits == ""
    model.on_saved(6)
    assert model.state == so.OFFLINE and model.message_key == "signout.offline"
    assert model.on_dead(
        6, Refusal("not_on_site", "HTTP 404 not_on_site: No visitor with this pass")
    )
    assert model.message_key == "signout.failed.not_on_site"
    assert model.detail_key == "signout.see_reception"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (Refusal("token_invalid", "HTTP 400 token_invalid: bad"), "signout.failed.token_invalid"),
        (Refusal("token_expired", "HTTP 400 token_expired: old"), "signout.failed.token_expired"),
        (Refusal("not_on_site", "HTTP 404 not_on_site: gone"), "signout.failed.not_on_site"),
        (Refusal("invalid_request", "HTTP 400 invalid_request: ?"), "signout.failed.refused"),
    ],
)
def test_sign_out_failures_say_see_reception(error, key):
    model = SignOutViewModel()
    model.begin()
    model.scanned("x.y")
    model.on_saved(1)
    model.on_dead(1, error)
    assert model.message_key == key
    assert "前台" in text("signout.see_reception", "zh_CN")


def test_every_message_key_exists_in_both_languages():
    catalogue = i18n.catalogue("kiosk")
    keys = set(vname._NAME_ERRORS.values()) | set(vv._FAILURES.values())
    keys |= set(so._FAILURES.values())
    keys |= {f"visitor.outcome.{state}" for state in ("saving", "waiting", "offline", "sent",
             "reminded", "confirmed", "denied")}  # fmt: skip
    keys |= set(vv._OUTCOME_KEYS.values())
    for key in keys:
        assert set(catalogue[key]) == {"zh_CN", "en"}, key
    # the purpose chips say the catalogue's words, as the console does (shared/terms.py)
    for code in vv.PURPOSES:
        assert terms.pair("visit_purpose", code) != (code, code), code


def test_the_eleventh_digit_of_a_chinese_mobile_looks_the_visitor_up_without_next(vm):
    effects = [vm.phone_key_and_go(digit) for digit in PHONE]
    assert effects[:-1] == [None] * 10
    assert effects[-1] == Query("lookup_visitor", ("+8613812345678",), "on_lookup", vm.generation)
    vm2 = VisitorViewModel(vm.clock)
    vm2.on_online(True)
    vm2.begin()
    for digit in "+4479111234":  # an international number is not complete at 11: "Next"
        assert vm2.phone_key_and_go(digit) is None
    assert vm2.step == vv.PHONE and not vm2.lookup_pending


def test_the_title_after_the_surname_ends_the_name_step(vm):
    to_name_step(vm)
    vm.pick_title_and_go("ms")
    assert vm.step == vv.NAME  # no surname yet: stay, nothing to go on with
    vm.pick_surname("李")
    vm.pick_title_and_go("ms")
    assert vm.step == vv.UNIT and vm.name == "李女士"


def test_register_on_the_unit_step_sends_a_visit_for_one_once_the_unit_is_checked(vm):
    to_name_step(vm)
    pick_name(vm)
    for digit in "101":
        vm.unit_key(digit)
    query = vm.unit_submit("en")
    assert isinstance(query, Query) and vm.follow_up() is None  # not before the answer
    vm.unit_submit("en")
    assert vm.on_unit_checked(query.generation, ok({"unit": "101", "exists": True}))
    order = vm.follow_up()
    assert vm.step == vv.OUTCOME and order.body["purpose"] == "visit"
    assert order.body["party_size"] == 1 and order.body["language"] == "en"
    assert vm.follow_up() is None  # once


def test_register_with_an_unknown_unit_sends_nothing(vm):
    to_name_step(vm)
    pick_name(vm)
    vm.unit_key("9")
    query = vm.unit_submit("zh_CN")
    vm.on_unit_checked(query.generation, Result(PERMANENT, 422, {}, "unknown_unit"))
    assert vm.follow_up() is None and vm.step == vv.UNIT and vm.offer_call


def test_register_offline_is_sent_at_once(clock):
    vm = VisitorViewModel(clock)
    vm.begin()
    vm.skip_phone()
    pick_name(vm)
    vm.unit_key("7")
    order = vm.unit_submit("zh_CN")
    assert isinstance(order, Enqueue) and order.body["unit"] == "7" and vm.step == vv.OUTCOME
