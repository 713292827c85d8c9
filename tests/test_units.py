"""Units as buildings name them (shared/units.py) and the kiosk's unit check that follows."""

from __future__ import annotations

import pytest

from shared import residents, units
from shared.building import UnknownUnit
from shared.errors import StaleState
from tests.helpers import add_resident, building_db
from tests.test_visitors import register


@pytest.fixture
def db(app):
    database = building_db(app)
    yield database
    database.close()


def test_labels_are_composed_as_buildings_write_them():
    assert units.clean({"tower": "3", "entrance": "1", "room": "1201"})["number"] == "3-1-1201"
    assert units.clean({"tower": "A", "room": "1201"})["number"] == "A座1201"
    assert units.clean({"tower": "2", "room": "502"})["number"] == "2-502"
    shop = units.clean({"number": "商铺 S-03", "kind": "shop"})
    assert shop["keypad"] == "1903" and shop["floor"] is None  # S is the 19th letter
    tower = units.clean({"tower": "3", "entrance": "1", "room": "1201"})
    assert tower["keypad"] == "311201" and tower["floor"] == 12


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "number"),
        ({"room": "1201", "kind": "garage"}, "kind"),
        ({"room": "1201", "keypad": "12a"}, "keypad"),
        ({"room": "1201", "keypad": "123456789"}, "keypad"),
        ({"room": "1201", "floor": "twelve"}, "floor"),
        ({"room": "12\u202e01"}, "room"),
        ({"number": "x" * 25}, "number"),
    ],
)
def test_a_bad_unit_names_the_field_in_both_languages(fields, field):
    with pytest.raises(units.InvalidUnit) as refused:
        units.clean(fields)
    assert refused.value.field == field
    assert " · " in str(refused.value)  # Chinese · English


def test_the_kiosk_finds_a_unit_by_keypad_code_or_label(app, db, clock, kiosk):
    units.add(db, clock, {"tower": "3", "entrance": "1", "room": "1201"}, actor="test")
    by_code = kiosk.client.get("/api/v1/units/311201", headers=kiosk.headers(key=False))
    assert by_code.status_code == 200 and by_code.json["unit"] == "3-1-1201"
    by_label = kiosk.client.get("/api/v1/units/3-1-1201", headers=kiosk.headers(key=False))
    assert by_label.json["unit"] == "3-1-1201"
    visit = register(kiosk, unit="311201")
    assert visit.status_code == 201
    assert (
        db.execute("SELECT u.number FROM visits v JOIN units u ON u.id = v.unit_id").fetchone()[0]
        == "3-1-1201"
    )


def test_a_keypad_code_cannot_be_taken_twice(db, clock):
    units.add(db, clock, {"tower": "3", "entrance": "1", "room": "1201"}, actor="test")
    with pytest.raises(units.InvalidUnit) as refused:
        units.add(db, clock, {"number": "31-1201"}, actor="test")  # also 311201
    assert refused.value.field == "keypad" and "3-1-1201" in str(refused.value)
    units.add(db, clock, {"number": "31-1201", "keypad": "3101201"}, actor="test")


def test_renaming_keeps_the_units_history(app, db, clock, kiosk):
    visit_id = register(kiosk, unit="101").json["id"]
    unit_id = units.lookup(db, "101")["id"]
    units.update(db, clock, unit_id, {"tower": "1", "room": "101"}, actor="staff:1")
    assert units.lookup(db, "1-101")["id"] == unit_id
    assert db.execute("SELECT unit_id FROM visits WHERE id = ?", (visit_id,)).fetchone()[0] == (
        unit_id
    )
    with pytest.raises(UnknownUnit):
        units.lookup(db, "101")  # the old label is gone; 1101 is its keypad code now
    assert units.lookup(db, "1101")["number"] == "1-101"


def test_merging_moves_the_people_and_keeps_both_histories(app, db, clock, kiosk):
    add_resident(app, "101", "王建国", email=None)
    register(kiosk, unit="102", name="李先生")
    source, target = units.lookup(db, "101"), units.lookup(db, "102")
    visit = db.execute("SELECT id, status FROM visits").fetchone()
    db.execute("UPDATE visits SET status = 'denied' WHERE id = ?", (visit[0],))
    units.merge(db, clock, source["id"], target["id"], actor="staff:1")
    assert [r["name"] for r in residents.active_of(db, target["id"])] == ["王建国"]
    assert units.family(db, target["id"]) == [target["id"], source["id"]]
    with pytest.raises(UnknownUnit):
        units.lookup(db, "101")  # retired: the kiosk no longer accepts it
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert "unit.merge" in actions


def test_a_unit_with_people_or_waiting_visitors_is_not_retired(app, db, clock, kiosk):
    add_resident(app, "103", "张伟", email=None)
    unit = units.lookup(db, "103")
    with pytest.raises(StaleState):
        units.retire(db, clock, unit["id"], actor="staff:1")
    register(kiosk, unit="104")
    with pytest.raises(StaleState):
        units.retire(db, clock, units.lookup(db, "104")["id"], actor="staff:1")
    empty = units.lookup(db, "201")
    units.retire(db, clock, empty["id"], actor="staff:1")
    answer = register(kiosk, unit="201")
    assert answer.status_code == 422 and answer.json["error"]["code"] == "unknown_unit"


def test_a_label_cannot_hide_another_units_keypad_code(db, clock):
    units.add(db, clock, {"number": "777", "keypad": "5"}, actor="test")
    with pytest.raises(units.InvalidUnit):
        units.add(db, clock, {"number": "5", "keypad": "888"}, actor="test")
    units.add(db, clock, {"number": "888", "keypad": "9888"}, actor="test")
    with pytest.raises(units.InvalidUnit):
        units.add(db, clock, {"number": "A1", "keypad": "888"}, actor="test")
