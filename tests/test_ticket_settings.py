"""The ticket settings and the building settings in the domain (shared/tickets/settings.py,
shared/building.update_settings): the rules hold for every writer, not only the form."""

from __future__ import annotations

import json

import pytest

from shared import building, tickets
from tests.helpers import add_staff, building_db


def audit_rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM audit_log WHERE action = 'settings.change' ORDER BY id"))


def test_sla_times_out_of_order_are_refused_and_nothing_is_stored(app, clock):
    db = building_db(app)
    before = building.current(db)["settings"]
    with pytest.raises(tickets.SettingsInvalid, match="emergency ≤ urgent ≤ normal"):
        tickets.save_settings(
            db,
            clock,
            sla={"emergency": 300, "urgent": 240, "normal": 4320},
            contacts=before["ticket_contacts"],
            actor="staff:1",
        )
    with pytest.raises(tickets.SettingsInvalid, match="whole number"):
        tickets.save_settings(
            db,
            clock,
            sla={"emergency": 15, "urgent": "240", "normal": 4320},
            contacts=before["ticket_contacts"],
            actor="staff:1",
        )
    assert building.current(db)["settings"] == before
    assert audit_rows(db) == []


def test_a_department_with_open_tickets_stays_until_they_are_reassigned(app, clock):
    db = building_db(app)
    staff_id = add_staff(app, username="liming", display_name="李明")
    ticket = tickets.create_at_desk(
        db, clock, staff_id=staff_id, form={"unit": "101", "category": "water"}
    )
    tickets.assign(db, clock, ticket["id"], staff_id=staff_id, assignee="dept:cleaning")
    current = building.current(db)["settings"]
    without_cleaning = [c for c in current["ticket_contacts"] if c["key"] != "cleaning"]
    with pytest.raises(tickets.SettingsInvalid, match="Cleaning still has 1 open ticket"):
        tickets.save_settings(
            db,
            clock,
            sla=current["ticket_sla_minutes"],
            contacts=without_cleaning,
            actor="staff:1",
        )
    assert building.current(db)["settings"]["ticket_contacts"] == current["ticket_contacts"]


def test_building_settings_change_once_audited_and_an_unchanged_save_adds_nothing(app, clock):
    db = building_db(app)
    building.update_settings(db, clock, {"parcel_self_service": True}, actor="staff:1")
    changes = building.update_settings(
        db,
        clock,
        {"visit_retention_days": 30, "photo_retention_days": 30},  # photo: the default already
        actor="staff:1",
    )
    assert changes == {"visit_retention_days": {"from": 90, "to": 30}}
    settings = building.current(db)["settings"]
    assert settings["visit_retention_days"] == 30
    assert settings["parcel_self_service"] is True  # other settings are kept
    again = building.update_settings(db, clock, {"visit_retention_days": 30}, actor="staff:1")
    assert again == {}
    rows = audit_rows(db)
    assert [json.loads(row["detail"]) for row in rows] == [
        {"parcel_self_service": {"from": False, "to": True}},
        {"visit_retention_days": {"from": 90, "to": 30}},
    ]
    assert {row["target"] for row in rows} == {"building:1"}
