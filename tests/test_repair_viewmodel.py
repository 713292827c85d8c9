"""RepairViewModel: every step, bad input, the body the console accepts, offline,
dead letters mapped to a message in both languages, emergencies and reset (no Kivy)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.client import PERMANENT, RETRYABLE, SUCCESS, Result
from kiosk.refusals import Refusal
from kiosk.viewmodels import repair as rv
from kiosk.viewmodels.effects import Enqueue, Query
from shared import i18n, tickets
from shared.clock import to_iso


@pytest.fixture
def vm(clock):
    model = rv.RepairViewModel(clock)
    model.on_online(True)
    model.begin()
    return model


def both(key, **values):
    return {lang: i18n.text("kiosk", key, lang, **values) for lang in i18n.LANGUAGES}


def press(vm, keys):
    for key in keys:
        vm.unit_key(key)


def to_problem(vm, unit="1201", category="water"):
    press(vm, unit)
    query = vm.unit_next()
    assert query == Query("unit_exists", (unit,), "on_unit_checked", vm.generation)
    assert vm.on_unit_checked(vm.generation, Result(SUCCESS, 200, {"exists": True}))
    vm.pick_category(category)
    assert vm.step == rv.PROBLEM


def test_unit_input_and_check(vm):
    assert vm.step == rv.UNIT and vm.step_number == 1
    assert vm.unit_next() is None and vm.error_key == "repair.unit.error_empty"
    assert both("repair.unit.error_empty")["en"] == "Please enter your unit number first."
    press(vm, "123456789")  # a ninth digit is ignored
    assert vm.unit_digits == "12345678" and vm.error_key is None
    vm.unit_key("back")
    vm.unit_key("x")  # not a digit
    assert vm.unit_digits == "1234567"
    vm.unit_key("clear")
    press(vm, "1201")
    query = vm.unit_next()
    assert query.call == "unit_exists" and query.args == ("1201",) and vm.unit_checking
    vm.unit_key("5")  # keys wait while the console is asked
    assert vm.unit_digits == "1201" and vm.unit_next() is None
    assert vm.on_unit_checked(vm.generation, Result(SUCCESS, 200, {}))
    assert vm.step == rv.CATEGORY and vm.unit == "1201" and vm.unit_checked


def test_a_keypad_code_becomes_the_units_label(vm):
    # Tower 3, entrance 1, room 1201 is typed 311201; from then on it is called 3-1-1201.
    press(vm, "311201")
    vm.unit_next()
    assert vm.on_unit_checked(vm.generation, Result(SUCCESS, 200, {"unit": "3-1-1201"}))
    assert vm.step == rv.CATEGORY and vm.unit == "3-1-1201"
    vm.pick_category("water")
    vm.pick_problem(vm.problems()[0].key, "zh_CN")
    sent = vm.submit("normal", "zh_CN")
    assert sent.body["unit"] == "3-1-1201"  # the ticket names the unit as the building does


def test_an_unknown_unit_says_so_and_offers_reception(vm):
    press(vm, "999")
    vm.unit_next()
    answer = Result(PERMANENT, 422, None, "unknown_unit", "no such unit")
    assert vm.on_unit_checked(vm.generation, answer)
    assert vm.step == rv.UNIT and vm.offer_call and not vm.unit_checking
    assert vm.error_key == "repair.unit.error_unknown" and vm.error_values == {"unit": "999"}
    texts = both(vm.error_key, **vm.error_values)
    assert "999" in texts["zh_CN"] and "呼叫前台" in texts["zh_CN"]
    assert texts["en"].startswith("There is no unit 999.") and "call reception" in texts["en"]
    vm.unit_key("back")  # typing again clears the message
    assert vm.error_key is None and not vm.offer_call


def test_no_answer_or_offline_accepts_the_unit_unchecked(vm, clock):
    press(vm, "101")
    vm.unit_next()
    assert vm.on_unit_checked(vm.generation, Result(RETRYABLE, None, None, None, "refused"))
    assert vm.step == rv.CATEGORY and not vm.unit_checked
    offline = rv.RepairViewModel(clock)
    offline.begin()
    press(offline, "101")
    assert offline.unit_next() is None and offline.step == rv.CATEGORY


def test_an_answer_for_the_previous_resident_is_ignored(vm):
    press(vm, "101")
    query = vm.unit_next()
    vm.reset()
    vm.begin()
    assert not vm.on_unit_checked(query.generation, Result(SUCCESS, 200, {}))
    assert vm.step == rv.UNIT and vm.unit_digits == ""


def test_categories_and_problems_come_from_the_catalog(vm):
    to_problem(vm)
    assert [c.key for c in rv.categories()] == [
        "water",
        "electrical",
        "elevator",
        "doors",
        "public_area",
        "noise",
        "security",
        "other",
    ]
    problems = vm.problems()
    assert [p.key for p in problems][:2] == ["dripping_tap", "blocked_drain"]
    assert any(p.emergency for p in problems)
    vm.back()
    vm.pick_category("spaceship")  # unknown: nothing happens
    assert vm.step == rv.CATEGORY and vm.category_key == "water"


def test_a_common_repair_submits_from_the_urgency_step(vm, clock):
    to_problem(vm)
    assert vm.pick_problem("no_such_problem", "zh_CN") is None and vm.step == rv.PROBLEM
    assert vm.pick_problem("dripping_tap", "zh_CN") is None
    assert vm.step == rv.URGENCY and vm.step_number == 4
    assert vm.submit("emergency", "zh_CN") is None  # only normal / urgent are offered
    effect = vm.submit("normal", "zh_CN")
    assert effect == Enqueue(
        rv.KIND,
        rv.PATH,
        {
            "unit": "1201",
            "category": "water",
            "problem": "dripping_tap",
            "urgency": "normal",
            "language": "zh_CN",
            "created_at": to_iso(clock.now()),
        },
    )
    checked = tickets.validate_kiosk_body(effect.body)  # what the console accepts
    assert (checked["problem"].key, checked["urgency"]) == ("dripping_tap", "normal")
    assert vm.step == rv.DONE and vm.state == rv.SAVING
    assert vm.outcome_key() == "repair.done.sending"


def test_urgent_in_english(vm):
    to_problem(vm, category="electrical")
    vm.pick_problem("light_out", "en")
    effect = vm.submit("urgent", "en")
    assert effect.body["urgency"] == "urgent" and effect.body["language"] == "en"
    assert effect.body["problem"] == "light_out" and "description" not in effect.body


def test_expected_time_comes_from_the_cached_settings(clock):
    vm = rv.RepairViewModel(clock, {"ticket_sla_minutes": {"normal": 1440, "urgent": 90}})
    assert vm.expected("normal") == ("repair.within.days", {"n": 1})
    assert vm.expected("urgent") == ("repair.within.minutes", {"n": 90})
    assert vm.expected("emergency") == ("repair.within.minutes", {"n": 15})  # the default
    defaults = rv.RepairViewModel(clock)
    key, values = defaults.expected("normal")
    assert both(key, **values) == {"zh_CN": "3 天内处理", "en": "within 3 days"}
    key, values = defaults.expected("urgent")
    assert both(key, **values) == {"zh_CN": "4 小时内处理", "en": "within 4 hours"}
    assert rv.duration_key(60) == ("repair.within.hours", {"n": 1})
    # one entry, a form for one and for other counts (no "s" glued on)
    said = {m: both(key, **values) for m, (key, values) in _durations(60, 120, 1).items()}
    assert said[60] == {"zh_CN": "1 小时内处理", "en": "within 1 hour"}
    assert said[120] == {"zh_CN": "2 小时内处理", "en": "within 2 hours"}
    assert said[1]["en"] == "within 1 minute"


def _durations(*minutes):
    return {m: rv.duration_key(m) for m in minutes}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, rv.DEFAULT_SETTINGS),
        ({"ticket_sla_minutes": "soon", "desk_phone": 5}, rv.DEFAULT_SETTINGS),
        (
            {"ticket_sla_minutes": {"normal": -1, "urgent": True, "emergency": 10}},
            {
                **rv.DEFAULT_SETTINGS,
                "ticket_sla_minutes": {"emergency": 10, "urgent": 240, "normal": 4320},
            },
        ),
        ({"desk_phone": " 021-5555 0100 "}, {**rv.DEFAULT_SETTINGS, "desk_phone": "021-5555 0100"}),
    ],
)
def test_settings_are_checked(body, expected):
    assert rv.settings_from(body) == expected


def test_details_add_places_a_note_and_an_urgency(vm):
    to_problem(vm)
    vm.pick_problem("blocked_drain", "zh_CN")
    vm.add_details()
    assert vm.step == rv.DETAILS and vm.urgency == rv.NORMAL
    vm.toggle_place("kitchen")
    vm.toggle_place("bathroom")
    vm.toggle_place("bathroom")  # tapped again: off
    vm.toggle_place("garage")  # not offered
    assert vm.places == ["kitchen"]
    vm.set_note("水池\x00下面\x1b在滴水\n很急\u200b")  # control characters dropped
    assert vm.note == "水池下面在滴水\n很急"
    vm.set_note("x" * 1000)
    assert len(vm.note) == rv.MAX_NOTE_CHARS
    vm.set_note("  sink drips  ")
    vm.pick_urgency("urgent")
    vm.pick_urgency("emergency")  # not a choice
    effect = vm.submit_details("en")
    assert effect.body["urgency"] == "urgent"
    assert effect.body["description"] == "位置 Location: 厨房 Kitchen\nsink drips"
    assert tickets.validate_kiosk_body(effect.body)["description"].endswith("sink drips")
    assert vm.step == rv.DONE and rv.MAX_DESCRIPTION == tickets.MAX_DESCRIPTION


def test_details_with_nothing_added_send_no_description(vm):
    to_problem(vm)
    vm.pick_problem("toilet", "zh_CN")
    vm.add_details()
    vm.set_note("   ")
    effect = vm.submit_details("zh_CN")
    assert "description" not in effect.body and effect.body["urgency"] == "normal"


def test_back_goes_one_step_at_a_time(vm):
    to_problem(vm)
    vm.pick_problem("toilet", "zh_CN")
    vm.add_details()
    for expected in (rv.URGENCY, rv.PROBLEM, rv.CATEGORY, rv.UNIT, rv.IDLE):
        vm.back()
        assert vm.step == expected
    assert vm.is_reset and vm.unit_digits == ""


def test_saved_then_acked_shows_number_and_qr_and_forgets_the_unit(vm):
    to_problem(vm)
    vm.pick_problem("dripping_tap", "zh_CN")
    vm.add_details()
    vm.set_note("厨房")
    vm.submit_details("zh_CN")
    vm.on_saved(5)
    assert vm.state == rv.WAITING and vm.outbox_id == 5
    assert (vm.unit, vm.unit_digits, vm.note) == (None, "", "")
    assert not vm.on_acked(6, {"number": "99"})  # another item
    answer = {"id": 42, "number": "42", "qr": "t.o.k", "expected_minutes": 4320, "status": "new"}
    assert vm.on_acked(5, answer)
    assert (vm.state, vm.number, vm.qr) == (rv.SENT, "42", "t.o.k")
    assert vm.outcome_key() == "repair.done.sent"
    assert both(vm.outcome_detail_key())["zh_CN"] == "请拍下二维码查询进度"
    assert vm.expected() == ("repair.within.days", {"n": 3})
    assert not vm.holds_screen()  # the idle reset applies


def test_a_noise_complaint_is_confirmed_as_a_complaint_not_a_repair(vm):
    to_problem(vm, category="noise")
    vm.pick_problem(vm.problems()[0].key, "zh_CN")
    vm.submit("normal", "zh_CN")
    vm.on_saved(3)
    assert vm.on_acked(3, {"id": 8, "number": "8", "qr": "q"})
    assert both(vm.outcome_key()) == {
        "zh_CN": "投诉已提交，我们会尽快跟进",
        "en": "Your complaint has been recorded; we will follow it up",
    }


def test_offline_says_saved_and_shows_the_number_when_it_arrives(clock):
    vm = rv.RepairViewModel(clock)
    vm.begin()
    press(vm, "101")
    vm.unit_next()
    vm.pick_category("doors")
    vm.pick_problem("lock_broken", "zh_CN")
    vm.submit("normal", "zh_CN")
    vm.on_saved(1)
    assert vm.state == rv.OFFLINE
    assert both(vm.outcome_key()) == {
        "zh_CN": "已保存，联网后自动提交",
        "en": "Saved; it will be sent when the kiosk is back online",
    }
    assert vm.outcome_detail_key() == "repair.done.offline_detail"
    vm.on_online(True)
    assert vm.on_acked(1, {"id": 7, "qr": "q"})  # no "number": the id is the number
    assert vm.number == "7" and vm.outcome_key() == "repair.done.sent"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (
            Refusal("unknown_unit", "HTTP 422 unknown_unit: no such unit"),
            "repair.failed.unknown_unit",
        ),
        (Refusal("invalid_request", "HTTP 400 invalid_request: bad"), "repair.failed.invalid"),
        (Refusal("forbidden", "HTTP 403 forbidden: no"), "repair.failed.refused"),
        (Refusal(None, "gave up after 8 attempts"), "repair.failed.refused"),
    ],
)
def test_a_refused_ticket_says_why_and_what_to_do(vm, error, key):
    to_problem(vm)
    vm.pick_problem("dripping_tap", "zh_CN")
    vm.submit("normal", "zh_CN")
    vm.on_saved(3)
    assert not vm.on_dead(4, error)
    assert vm.on_dead(3, error)
    assert vm.failed and vm.outcome_key() == key
    assert (
        both(vm.outcome_detail_key())["en"] == "Please see reception: staff will record it for you."
    )
    assert vm.expected()  # still answerable; the screen hides it when failed


def test_a_ticket_that_cannot_be_saved(vm):
    to_problem(vm)
    vm.pick_problem("dripping_tap", "zh_CN")
    vm.submit("normal", "zh_CN")
    vm.on_save_failed()
    assert vm.outcome_key() == "repair.failed.not_saved"
    assert both(vm.outcome_key())["zh_CN"] == "抱歉，报修未能保存"


def test_an_emergency_is_queued_at_once_with_its_instructions(vm, clock):
    to_problem(vm)
    effect = vm.pick_problem("burst_pipe", "zh_CN")
    assert effect.body["urgency"] == "emergency" and effect.body["problem"] == "burst_pipe"
    assert tickets.validate_kiosk_body(effect.body)["urgency"] == "emergency"
    assert vm.step == rv.EMERGENCY and vm.hazard == "water"
    assert vm.outcome_key() == "repair.emergency.alerting"
    assert vm.instructions("zh_CN")[0] == "如能安全操作，请关闭总水阀。"
    assert vm.instructions("en")[0] == "If it is safe, turn off the main water valve."
    vm.on_saved(9)
    assert both(vm.outcome_key()) == {"zh_CN": "正在通知前台…", "en": "Alerting reception…"}
    assert vm.outcome_detail_key() == "repair.emergency.call_desk"
    # the red screen outlasts the idle reset for a while
    clock.advance(seconds=rv.HOLD_SCREEN_SECONDS - 1)
    assert vm.holds_screen()
    clock.advance(seconds=2)
    assert not vm.holds_screen()
    assert vm.on_acked(9, {"number": "12", "qr": "q", "emergency": True})
    assert both(vm.outcome_key()) == {"zh_CN": "已通知前台", "en": "Reception has been alerted"}
    assert vm.outcome_detail_key() is None and vm.number == "12"


def test_an_emergency_offline_or_refused_tells_the_person_to_call(clock):
    vm = rv.RepairViewModel(clock, {"desk_phone": "021-5555 0100"})
    vm.begin()
    press(vm, "101")
    vm.unit_next()
    vm.pick_category("security")
    vm.pick_problem("fire", "en")
    vm.on_saved(1)
    assert vm.state == rv.OFFLINE and vm.outcome_key() == "repair.emergency.offline"
    assert vm.desk_phone == "021-5555 0100" and vm.instructions("zh_CN")[0] == "立即拨打 119。"
    assert vm.on_dead(1, Refusal("unknown_unit", "HTTP 422 unknown_unit: no"))
    assert vm.outcome_key() == "repair.emergency.failed" and not vm.holds_screen()
    assert both("repair.emergency.failed")["en"] == "Reception could not be alerted"


def test_reset_forgets_everything(vm, clock):
    to_problem(vm)
    vm.pick_problem("dripping_tap", "zh_CN")
    vm.submit("urgent", "zh_CN")
    vm.on_saved(1)
    vm.on_acked(1, {"number": "5", "qr": "q"})
    generation = vm.generation
    vm.reset()
    assert vm.is_reset and vm.generation == generation + 1
    fresh = rv.RepairViewModel(clock)
    fresh.online = vm.online
    fresh.generation = vm.generation
    assert vars(vm) == vars(fresh)
    assert not vm.on_acked(1, {"number": "5"})  # the outbox still delivers; not shown here


def test_nothing_happens_out_of_turn(vm):
    assert vm.submit("normal", "zh_CN") is None
    assert vm.pick_problem("dripping_tap", "zh_CN") is None
    vm.pick_category("water")
    vm.add_details()
    vm.toggle_place("kitchen")
    vm.set_note("x")
    assert vm.step == rv.UNIT and vm.places == [] and vm.note == ""
    assert vm.submit_details("zh_CN") is None and vm.outcome_key() is None


def test_every_message_exists_in_both_languages():
    catalogue = i18n.catalogue("kiosk")
    keys = [k for k in catalogue if k.startswith(("repair.", "ticket."))]
    assert len(keys) > 60
    for key in keys:
        assert set(catalogue[key]) == {"zh_CN", "en"}, key
        assert all(catalogue[key].values()), key


def test_the_emergency_screen_holds_only_a_limited_time(vm, clock):
    to_problem(vm, category="elevator")
    vm.pick_problem("trapped", "zh_CN")
    vm.on_saved(2)
    assert vm.hazard == "elevator" and vm.holds_screen()
    assert vm.elapsed_seconds(clock.now() + timedelta(seconds=10)) == 10


def test_every_category_icon_has_a_glyph_in_the_installed_font():
    from fontTools.ttLib import TTFont

    from kiosk import icons
    from kiosk.fonts import find_icon_font

    path = find_icon_font()
    assert path is not None  # Debian fonts-font-awesome (scripts/bootstrap installs it)
    cmap = TTFont(path).getBestCmap()
    for category in rv.categories():
        assert icons.GLYPHS[category.icon] in cmap, category.icon
    assert all(code in cmap for code in icons.GLYPHS.values())


def test_without_the_icon_font_the_tiles_show_text_alone_logged_once(monkeypatch, caplog):
    from kiosk import icons

    monkeypatch.setattr(icons, "_state", {"path": None, "checked": False})
    assert icons.register(("/nowhere/fontawesome-webfont.ttf",)) is False
    assert icons.register(("/nowhere/fontawesome-webfont.ttf",)) is False
    assert icons.glyph("tint") == "" and not icons.available()
    warnings = [r for r in caplog.records if "Font Awesome not found" in r.getMessage()]
    assert len(warnings) == 1 and "fonts-font-awesome" in warnings[0].getMessage()
