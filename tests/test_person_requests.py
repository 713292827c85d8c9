"""Requests about one person (SECURITY.md 26): find, export, delete; audited
with counts only."""

from __future__ import annotations

import csv
import io
import json

import pytest

from shared.clock import to_iso
from shared.tokens import new_idempotency_key
from tests.helpers import StaffBrowser, add_staff, building_db

PHONE = "13812345678"
NAME = "欧阳娜娜"


def _register(kiosk, clock, name, phone):
    response = kiosk.client.post(
        "/api/v1/visits",
        json={"name": name, "phone": phone, "unit": "101", "created_at": to_iso(clock.now())},
        headers=kiosk.headers(new_idempotency_key()),
    )
    assert response.status_code == 201
    return response.json["id"]


@pytest.fixture
def records(app, clock, kiosk, reception):
    """Two visits by the person, one by someone else, a deny-list entry, a notification."""
    db = building_db(app)
    db.execute(
        "INSERT INTO residents (unit_id, name, email, created_at) VALUES (1, '王建国', 'w@example.com', 'x')"
    )
    mine = _register(kiosk, clock, NAME, PHONE)
    reception.post(f"/visitors/{mine}/decide", decision="confirm_id")  # notifies the host
    reception.post("/visitors/deny-list", name="", phone=PHONE, reason="=HYPERLINK(evil)")
    clock.advance(minutes=20)
    also_mine = _register(kiosk, clock, NAME, "")  # same name, no phone
    other = _register(kiosk, clock, "李雷", "13900001111")
    assert building_db(reception.client.application)["deny_list"].count == 1
    return {"mine": [mine, also_mine], "other": other}


@pytest.fixture
def manager(app):
    add_staff(app, username="mona", role="manager", display_name="Mona")
    browser = StaffBrowser(app.test_client())
    browser.login("mona")
    return browser


def _audit_text(app) -> str:
    return json.dumps(list(building_db(app).query("SELECT * FROM audit_log")), ensure_ascii=False)


def test_a_manager_finds_everything_about_one_person(app, records, manager):
    page = manager.post("/admin/person", name=NAME, phone=PHONE).get_data(as_text=True)
    assert "visits 2" in page and "deny list 1" in page and "notifications 1" in page
    assert "李雷" not in page
    assert page.count('name="visit_id"') == 2
    row = list(building_db(app).query("SELECT * FROM audit_log WHERE action = 'person.find'"))[0]
    assert json.loads(row["detail"]) == {
        "visits": 2,
        "deny_list": 1,
        "notifications": 1,
        "residents": 0,
    }
    assert row["actor"].startswith("staff:")


def test_by_phone_alone_finds_only_what_has_that_phone(app, records, manager):
    page = manager.post("/admin/person", phone="138 1234 5678").get_data(as_text=True)
    assert "visits 1" in page and "deny list 1" in page


def test_the_export_is_json_or_formula_safe_csv(app, records, manager):
    exported = manager.post("/admin/person/export", name=NAME, phone=PHONE, format="json")
    assert exported.mimetype == "application/json"
    assert "attachment" in exported.headers["Content-Disposition"]
    data = exported.json
    assert {v["id"] for v in data["visits"]} == set(records["mine"])
    assert data["notifications"][0]["related"] == f"visit:{records['mine'][0]}"
    as_csv = manager.post("/admin/person/export", name=NAME, phone=PHONE, format="csv")
    text = as_csv.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    kinds = [r[0] for r in rows if r and r[0] != "record"]
    assert kinds.count("visits") == 2 and kinds.count("deny_list") == 1
    assert "'=HYPERLINK(evil)" in text and ",=HYPERLINK" not in text
    actions = [
        r["action"]
        for r in building_db(app).query(
            "SELECT action FROM audit_log WHERE action LIKE 'person.%' ORDER BY id"
        )
    ]
    assert actions == ["person.export_json", "person.export_csv"]


def test_delete_removes_the_persons_records_and_nothing_else(app, records, manager, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / f"visit-{records['mine'][0]}.jpg").write_bytes(b"jpeg")
    (photos / f"visit-{records['other']}.jpg").write_bytes(b"jpeg")
    form = {"name": NAME, "phone": PHONE, "confirm": "yes"}
    response = manager.client.post(
        "/admin/person/delete",
        data={**form, "csrf_token": manager.csrf, "visit_id": records["mine"], "deny_id": [1]},
    )
    assert response.status_code == 302
    db = building_db(app)
    assert [v["id"] for v in db.query("SELECT id FROM visits")] == [records["other"]]
    assert db["deny_list"].count == 0 and db["notifications"].count == 0
    assert not (photos / f"visit-{records['mine'][0]}.jpg").exists()
    assert (photos / f"visit-{records['other']}.jpg").exists()
    row = next(iter(db.query("SELECT * FROM audit_log WHERE action = 'person.delete'")))
    detail = json.loads(row["detail"])
    assert detail["visits"] == 2 and detail["deny_list"] == 1 and detail["notifications"] == 1
    audit = _audit_text(app)
    assert NAME not in audit and PHONE not in audit and "+86" + PHONE not in audit


def test_only_the_ticked_rows_are_deleted(app, records, manager):
    manager.client.post(
        "/admin/person/delete",
        data={
            "name": NAME,
            "confirm": "yes",
            "csrf_token": manager.csrf,
            "visit_id": [records["mine"][1], records["other"]],  # other: not this person's
        },
    )
    ids = [v["id"] for v in building_db(app).query("SELECT id FROM visits ORDER BY id")]
    assert ids == [records["mine"][0], records["other"]]


def test_delete_needs_the_confirmation(app, records, manager):
    response = manager.post("/admin/person/delete", name=NAME, visit_id=records["mine"][0])
    assert response.status_code == 400
    assert building_db(app)["visits"].count == 3


def test_a_search_needs_a_name_or_a_valid_phone(manager):
    assert manager.post("/admin/person", name="", phone="").status_code == 400
    assert manager.post("/admin/person", phone="12345").status_code == 400


def test_reception_cannot_make_person_requests(app, reception):
    assert reception.client.get("/admin/person").status_code == 403
    assert reception.post("/admin/person", name=NAME).status_code == 403


def test_the_person_asked_about_is_never_in_a_url(app, records, manager):
    page = manager.client.get("/admin/person").get_data(as_text=True)
    assert 'method="post"' in page and 'method="get"' not in page
