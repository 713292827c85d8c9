"""A parcel collected at the desk: reception sees who may collect the unit's parcels
and hands them over only on the pickup code or an ID checked with the collector's
name; the audit says which, and who."""

from __future__ import annotations

import json
import re

import pytest

from shared import parcels, residents
from shared.db import write_transaction
from tests import helpers
from tests.helpers import add_staff, building_db


@pytest.fixture(autouse=True)
def desk_staff(request, app):
    """Staff member 1, who logs and hands over (the page tests sign in as them)."""
    if "reception" not in request.fixturenames:
        add_staff(app)


def log(app, unit="101", tracking="SF1234567890123") -> int:
    db = building_db(app)
    with write_transaction(db):
        parcel = parcels.intake(
            db,
            app.extensions["lobbydesk.clock"],
            secret_key=app.config["SECRET_KEY"],
            staff_id=1,
            tracking=tracking,
            unit=unit,
            shelf="A-3",
        )["parcel"]
    return parcel["id"]


def code_of(app, unit="101") -> str:
    row = (
        building_db(app)
        .execute(
            "SELECT b.code_sealed FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
            " WHERE u.number = ? AND b.status = 'open'",
            (unit,),
        )
        .fetchone()
    )
    return parcels.unseal_code(app.config["SECRET_KEY"], row[0])


def hand_over(app, ids, **check):
    return parcels.hand_over_at_desk(
        building_db(app),
        app.extensions["lobbydesk.clock"],
        ids,
        staff_id=1,
        secret_key=app.config["SECRET_KEY"],
        **check,
    )


def status_of(app, parcel_id: int) -> str:
    return building_db(app)["parcels"].get(parcel_id)["status"]


def releases(app) -> list[dict]:
    rows = building_db(app).query(
        "SELECT detail FROM audit_log WHERE action = 'parcel.release' ORDER BY id"
    )
    return [json.loads(r["detail"]) for r in rows]


def add_proxy(app, unit="101", name="李阿姨", note="保姆 nanny"):
    db = building_db(app)
    unit_id = db.execute("SELECT id FROM units WHERE number = ?", (unit,)).fetchone()[0]
    residents.add_proxy(
        db, app.extensions["lobbydesk.clock"], unit_id, {"name": name, "note": note}, actor="t"
    )


# --- the domain ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "refused"),
    [
        ({}, parcels.DeskCheckRefused),  # neither code nor ID
        ({"collector": "王建国"}, parcels.DeskCheckRefused),  # a name alone proves nothing
        ({"id_checked": True}, parcels.CollectorNameMissing),  # an ID, but whose?
        ({"id_checked": True, "collector": "  "}, parcels.CollectorNameMissing),
        ({"code": "12345"}, parcels.DeskCodeRefused),
    ],
)
def test_nothing_is_handed_over_without_the_code_or_an_id_and_a_name(app, check, refused):
    parcel_id = log(app)
    with pytest.raises(refused) as raised:
        hand_over(app, [parcel_id], **check)
    assert " · " in str(raised.value)  # Chinese first, English alongside
    assert status_of(app, parcel_id) == "waiting" and releases(app) == []


def test_the_right_code_hands_over_and_the_audit_says_code(app):
    helpers.add_resident(app, "101", "王建国", email="wang@example.com")
    first, second = log(app), log(app, tracking="YT1234567890123")
    hand_over(app, [first, second], code=code_of(app))
    assert status_of(app, first) == status_of(app, second) == "collected"
    [release] = releases(app)
    assert release["method"] == "desk" and release["check"] == "code"
    assert release["parcels"] == [first, second]
    batch = building_db(app).execute("SELECT status FROM parcel_batches").fetchone()
    assert batch[0] == "collected"


def test_a_wrong_code_hands_nothing_over_and_counts_toward_the_units_limit(app):
    parcel_id = log(app)
    right = code_of(app)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    with pytest.raises(parcels.DeskCodeRefused):
        hand_over(app, [parcel_id], code=wrong)
    assert status_of(app, parcel_id) == "waiting"
    db = building_db(app)
    [row] = db.query("SELECT actor, detail FROM audit_log WHERE action = 'parcel.code_wrong'")
    assert row["actor"] == "staff:1" and wrong not in row["detail"] and right not in row["detail"]
    # After the unit's limit of wrong codes the desk stops trying codes: check ID instead.
    for _ in range(parcels.UNIT_WRONG_LIMIT - 1):
        with pytest.raises(parcels.DeskCodeRefused):
            hand_over(app, [parcel_id], code=wrong)
    with pytest.raises(parcels.DeskCodeRefused, match="check the collector's ID"):
        hand_over(app, [parcel_id], code=right)
    hand_over(app, [parcel_id], id_checked=True, collector="王建国")
    assert status_of(app, parcel_id) == "collected"


def test_an_id_check_names_the_collector_and_whether_the_roster_lists_them(app):
    helpers.add_resident(app, "101", "王建国", email="wang@example.com")
    add_proxy(app, name="李阿姨")
    first, second = log(app), log(app, tracking="YT1234567890123")
    hand_over(app, [first], id_checked=True, collector=" 李阿姨 ")
    hand_over(app, [second], id_checked=True, collector="张三")
    proxy, stranger = releases(app)
    assert (proxy["check"], proxy["collector"], proxy["on_roster"]) == ("id_check", "李阿姨", True)
    assert (stranger["collector"], stranger["on_roster"]) == ("张三", False)


def test_one_units_parcels_at_a_time(app):
    mine, theirs = log(app, "101"), log(app, "102", tracking="YT1234567890123")
    with pytest.raises(parcels.InvalidRequest):
        hand_over(app, [mine, theirs], id_checked=True, collector="王建国")
    assert status_of(app, mine) == status_of(app, theirs) == "waiting"


def test_the_candidates_are_the_residents_living_there_and_the_proxies(app):
    helpers.add_resident(app, "101", "王建国", email="wang@example.com")
    helpers.add_resident(app, "101", "刘小红", email="liu@example.com", role="tenant")
    add_proxy(app, name="李阿姨", note="保姆 nanny")
    db = building_db(app)
    unit_id = db.execute("SELECT id FROM units WHERE number = '101'").fetchone()[0]
    found = [(c["name"], c["kind"]) for c in parcels.collector_candidates(db, unit_id)]
    assert found == [("王建国", "resident"), ("刘小红", "resident"), ("李阿姨", "proxy")]


# --- the desk page ------------------------------------------------------------------------------


def field_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else ""


def test_the_desk_page_names_who_may_collect(app, client, reception):
    helpers.add_resident(app, "101", "王建国", email="wang@example.com")
    add_proxy(app, name="李阿姨", note="保姆 nanny")
    log(app)
    page = client.get("/parcels/desk?unit=101").get_data(as_text=True)
    names = re.findall(r'<strong class="collector-name">([^<]+)</strong>', page)
    assert names == ["王建国", "李阿姨"]
    assert "业主 · Owner" in page and "保姆 nanny" in page


def test_a_refused_handover_keeps_what_was_typed_and_says_why_beside_the_field(
    app, client, reception
):
    first, second = log(app), log(app, tracking="YT1234567890123")
    response = reception.client.post(
        "/parcels/desk/hand-over",
        data={
            "csrf_token": reception.csrf,
            "unit": "101",
            "parcel_id": [str(second)],
            "code": "000000" if code_of(app) != "000000" else "000001",
            "collector": "王建国",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="code-error" role="alert">([^<]+)</p>', page)
    assert error and "取件码不对" in error.group(1) and "does not match" in error.group(1)
    assert field_value(page, "code") in ("000000", "000001")
    assert field_value(page, "collector") == "王建国"
    assert re.search(rf'value="{second}" checked', page)
    assert not re.search(rf'value="{first}" checked', page)  # unticked stays unticked
    assert status_of(app, first) == status_of(app, second) == "waiting"

    response = reception.client.post(
        "/parcels/desk/hand-over",
        data={"csrf_token": reception.csrf, "unit": "101", "parcel_id": [str(first)]},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="check-error"' in page
    assert status_of(app, first) == "waiting"
