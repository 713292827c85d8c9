"""Invitations in the domain (shared/invitations/): kinds, dates, revoke, single use."""

from __future__ import annotations

import re
from datetime import date

import pytest

from shared import invitations, visitors
from shared.db import one, write_transaction
from shared.errors import StaleState
from tests.helpers import add_resident, building_db

# 2026-11-27 is a Friday; the building is in Asia/Shanghai (UTC+8).


@pytest.fixture
def db(app):
    db = building_db(app)
    yield db
    db.close()


@pytest.fixture
def host(app, clock):
    return add_resident(app, unit="101", name="王建国", clock=clock)


def _create(db, clock, host, **fields):
    data = {"name": "张先生", "kind": "once", "starts_on": "2026-11-27", **fields}
    return invitations.create(db, clock, host_resident_id=host, fields=data, actor="resident:1")


def _redeem(app, db, clock, invitation_id, **scan):
    text = invitations.pass_text(db, app.config["DATA_DIR"], invitation_id)
    key = invitations.signing_key(app.config["DATA_DIR"])
    with write_transaction(db):
        return invitations.redeem(
            db, clock, key, invitations.Scan(text, actor="kiosk:1", **scan), secret_key="s" * 40
        )


def test_a_recurring_invitation_is_valid_on_its_weekdays_until_its_end(db, clock, host):
    invitation_id = _create(
        db, clock, host, kind="recurring", ends_on="2027-02-26", weekdays=["2"], name="保洁李阿姨"
    )
    cleaner = invitations.get(db, invitation_id)
    assert invitations.valid_on(cleaner, date(2026, 12, 1))  # a Tuesday
    assert not invitations.valid_on(cleaner, date(2026, 12, 2))  # a Wednesday
    assert not invitations.valid_on(cleaner, date(2027, 3, 2))  # a Tuesday after the end
    tuesdays = [row["id"] for row in invitations.expected_on(db, date(2026, 12, 8))]
    assert tuesdays == [invitation_id]
    assert invitations.expected_on(db, date(2026, 12, 9)) == []


def test_a_window_covers_each_day_from_start_to_end(db, clock, host):
    invitation = invitations.get(
        db, _create(db, clock, host, kind="window", starts_on="2026-11-28", ends_on="2026-11-30")
    )
    days = [date(2026, 11, d) for d in (27, 28, 29, 30)] + [date(2026, 12, 1)]
    assert [invitations.valid_on(invitation, d) for d in days] == [False, True, True, True, False]


def test_the_building_date_decides_not_utc(app, db, clock, host):
    # 2026-11-27T17:00Z is already 2026-11-28 01:00 in Shanghai
    invitation_id = _create(db, clock, host, starts_on="2026-11-28")
    assert _redeem(app, db, clock, invitation_id)[0]["error"]["code"] == "pass_not_today"
    clock.advance(hours=8)
    assert _redeem(app, db, clock, invitation_id)[1] == 201


def test_a_pass_is_good_once_per_day_and_again_the_next_valid_day(app, db, clock, host):
    invitation_id = _create(db, clock, host, kind="window", ends_on="2026-11-28")
    assert _redeem(app, db, clock, invitation_id)[1] == 201
    answer, status = _redeem(app, db, clock, invitation_id)
    assert status == 409 and answer["error"]["code"] == "pass_used"
    assert one(db, "SELECT screen FROM escalations")["screen"] == "invitation_pass"
    clock.advance(days=1)
    assert _redeem(app, db, clock, invitation_id)[1] == 201
    states = [row["state"] for row in invitations.expected_on(db, date(2026, 11, 28))]
    assert states == ["arrived"]


def test_revoking_stops_the_pass_and_twice_is_stale(app, db, clock, host):
    invitation_id = _create(db, clock, host)
    invitations.revoke(db, clock, invitation_id, actor="resident:1")
    answer, status = _redeem(app, db, clock, invitation_id)
    assert status == 410 and answer["error"]["code"] == "pass_revoked"
    with pytest.raises(StaleState):
        invitations.revoke(db, clock, invitation_id, actor="resident:1")
    assert invitations.expected_on(db, date(2026, 11, 27))[0]["state"] == "revoked"
    assert invitations.revoked_ids(db, date(2026, 11, 27)) == [invitation_id]


def test_a_deny_listed_guest_becomes_a_visit_waiting_for_staff(app, db, clock, host):
    visitors.add_to_deny_list(db, clock, name="张先生", phone="", reason="闹事", staff_id=None)
    invitation_id = _create(db, clock, host)
    answer, status = _redeem(app, db, clock, invitation_id)
    assert status == 201 and answer["outcome"] == "see_staff"
    pending = visitors.pending(db)
    assert [visit["invitation_id"] for visit in pending] == [invitation_id]
    assert one(db, "SELECT COUNT(*) AS n FROM notifications")["n"] == 0  # the host is told later
    assert invitations.expected_on(db, date(2026, 11, 27))[0]["state"] == "waiting"


def test_the_visit_leaving_shows_as_left(app, db, clock, host):
    invitation_id = _create(db, clock, host)
    answer, _status = _redeem(app, db, clock, invitation_id)
    visitors.sign_out(db, clock, answer["visit_id"], method="staff", actor="staff:1")
    assert invitations.expected_on(db, date(2026, 11, 27))[0]["state"] == "left"


def test_a_residents_list_holds_their_invitations_newest_first(db, clock, host):
    first = _create(db, clock, host)
    second = _create(db, clock, host, starts_on="2026-12-01")
    assert [row["id"] for row in invitations.list_for_resident(db, host)] == [second, first]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "sometimes"}, "kind"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": "ten"}, "party_size"),
        ({"name": "😀"}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"note": "n" * 201}, "note"),
        ({"starts_on": "2026-11-26"}, "starts_on"),
        ({"kind": "window", "ends_on": "2026-11-26"}, "ends_on"),
        ({"kind": "recurring", "ends_on": "2027-12-31", "weekdays": "2"}, "ends_on"),
        ({"kind": "recurring", "ends_on": "2027-01-31", "weekdays": "8"}, "weekdays"),
    ],
)
def test_bad_input_names_its_field_in_chinese_and_english(db, clock, host, fields, field):
    with pytest.raises(invitations.InvalidInvitation) as refused:
        _create(db, clock, host, **fields)
    assert refused.value.field == field
    message = str(refused.value)
    assert re.search(r"[\u4e00-\u9fff]", message) and re.search(r"[A-Za-z]{3}", message)
    assert one(db, "SELECT COUNT(*) AS n FROM invitations")["n"] == 0
