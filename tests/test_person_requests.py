"""Requests about one person (SECURITY.md 26): find, export, delete; audited
with counts only."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import pytest

from shared import building, tickets
from shared.clock import to_iso
from shared.tokens import new_idempotency_key
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db

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
    add_resident(app, "101", "王建国", email="w@example.com")
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


def _find(manager, **criteria):
    """Search; the answer is a redirect to the results page (so Back works)."""
    return manager.client.post(
        "/admin/person", data={"csrf_token": manager.csrf, **criteria}, follow_redirects=True
    )


def _audit_text(app) -> str:
    return json.dumps(list(building_db(app).query("SELECT * FROM audit_log")), ensure_ascii=False)


def test_a_manager_finds_everything_about_one_person(app, records, manager):
    page = _find(manager, name=NAME, phone=PHONE).get_data(as_text=True)
    assert "visits 2" in page and "deny list 1" in page and "notifications 1" in page
    assert "李雷" not in page
    assert page.count('name="visit_id"') == 2
    row = list(building_db(app).query("SELECT * FROM audit_log WHERE action = 'person.find'"))[0]
    assert json.loads(row["detail"]) == {
        "visits": 2,
        "deny_list": 1,
        "notifications": 1,
        "residents": 0,
        "resident_channels": 0,
        "parcel_notices": 0,
        "parcel_proxies": 0,
        "tickets": 0,
    }
    assert row["actor"].startswith("staff:")


def test_by_phone_alone_finds_only_what_has_that_phone(app, records, manager):
    page = _find(manager, phone="138 1234 5678").get_data(as_text=True)
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


def test_delete_needs_the_confirmation_and_reshows_the_records(app, records, manager):
    response = manager.post("/admin/person/delete", name=NAME, visit_id=records["mine"][0])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="confirm-delete-error"' in page and "Tick “I confirm: delete" in page
    assert 'aria-describedby="confirm-delete-error"' in page
    # the records are shown again, with only the box that was ticked still ticked
    assert page.count('name="visit_id"') == 2
    assert f'name="visit_id" value="{records["mine"][0]}" checked' in page
    assert not re.search(rf'name="visit_id" value="{records["mine"][1]}"\s+checked', page)
    assert building_db(app)["visits"].count == 3


def test_a_search_needs_a_name_or_a_valid_phone(manager):
    empty = _find(manager, name="", phone="")
    assert empty.status_code == 422
    assert "Give a name, a phone number, or both." in empty.get_data(as_text=True)
    bad = _find(manager, phone="12345")
    assert bad.status_code == 422
    assert 'value="12345" aria-invalid="true"' in bad.get_data(as_text=True)


def test_a_search_redirects_so_back_lands_on_a_page(app, records, manager):
    response = manager.post("/admin/person", name=NAME, phone=PHONE)
    assert response.status_code == 303 or response.status_code == 302
    assert response.headers["Location"] == "/admin/person"  # no name or phone in it
    page = manager.client.get("/admin/person").get_data(as_text=True)
    assert "visits 2" in page and NAME in page


def test_reception_cannot_make_person_requests(app, reception):
    assert reception.client.get("/admin/person").status_code == 403
    assert reception.post("/admin/person", name=NAME).status_code == 403


def test_the_person_asked_about_is_never_in_a_url(app, records, manager):
    page = manager.client.get("/admin/person").get_data(as_text=True)
    assert 'method="post"' in page and 'method="get"' not in page


# --- repair and complaint tickets (reported at the desk with a name and phone) -------------

DESCRIPTION = "=HYPERLINK(x) 楼上每晚十一点后还在装修"


def _desk_ticket(reception, **fields):
    form = {
        "kind": "complaint",
        "unit": "101",
        "location": "",
        "category": "noise",
        "problem": "noise.renovation",
        "urgency": "normal",
        "description": "",
        "reporter_name": "",
        "reporter_phone": "",
        **fields,
    }
    response = reception.post("/tickets/new", **form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _kiosk_ticket_with_photo(kiosk):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    response = kiosk.client.post(
        "/api/v1/tickets",
        json={
            "unit": "102",
            "category": "water",
            "problem": "dripping_tap",
            "photo": base64.b64encode(out.getvalue()).decode(),
        },
        headers=kiosk.headers(new_idempotency_key()),
    )
    assert response.status_code == 201
    return response.json["id"]


@pytest.fixture
def ticket_records(app, clock, kiosk, reception):
    """The person's complaint (name, phone, description, a photo, a work order sent to
    maintenance), their repair by phone only, someone else's repair, a kiosk report."""
    db = building_db(app)
    settings = json.loads(db["buildings"].get(1)["settings"])
    contacts = [dict(c) for c in tickets.contacts(building.current(db)["settings"])]
    contacts[0]["notify_url"] = "mailto:maintenance@example.com"
    db.execute(
        "UPDATE buildings SET settings = ? WHERE id = 1",
        (json.dumps({**settings, "ticket_contacts": contacts}, ensure_ascii=False),),
    )
    mine = _desk_ticket(
        reception, reporter_name=NAME, reporter_phone="138 1234 5678", description=DESCRIPTION
    )
    assert reception.post(f"/tickets/{mine}/assign", assignee="dept:maintenance").status_code == 302
    by_phone = _desk_ticket(
        reception, kind="repair", category="water", problem="water.dripping_tap",
        reporter_phone=PHONE,
    )  # fmt: skip
    other = _desk_ticket(
        reception, reporter_name="李雷", reporter_phone="13900001111", description="隔壁狗叫"
    )
    from_kiosk = _kiosk_ticket_with_photo(kiosk)
    folder = tickets.photo_folder(app.config["DATA_DIR"])
    # Desk tickets take no photo yet; a photo the ticket names is erased all the same.
    (folder / f"{mine}.jpg").write_bytes((folder / f"{from_kiosk}.jpg").read_bytes())
    db.execute("UPDATE tickets SET photo_path = ? WHERE id = ?", (f"{mine}.jpg", mine))
    [order] = list(db.query("SELECT * FROM notifications WHERE kind = 'ticket.assigned'"))
    assert DESCRIPTION in order["body"]
    return {"mine": mine, "by_phone": by_phone, "other": other, "kiosk": from_kiosk}


def test_a_persons_tickets_are_found_by_name_or_phone(app, ticket_records, manager):
    page = _find(manager, name=NAME, phone=PHONE).get_data(as_text=True)
    assert "tickets 2" in page
    ids = re.findall(r'name="ticket_id" value="(\d+)"', page)
    assert ids == [str(ticket_records["mine"]), str(ticket_records["by_phone"])]
    assert "装修噪音 · Renovation noise" in page and "138 1234 5678" in page
    assert "楼上每晚十一点后还在装修" in page and "李雷" not in page
    assert 'href="/tickets/1"' in page
    by_name = _find(manager, name=NAME).get_data(as_text=True)
    assert re.findall(r'name="ticket_id" value="(\d+)"', by_name) == [str(ticket_records["mine"])]
    by_phone = _find(manager, phone="+86 138-1234-5678").get_data(as_text=True)
    assert "tickets 2" in by_phone
    finds = building_db(app).query("SELECT detail FROM audit_log WHERE action = 'person.find'")
    assert [json.loads(r["detail"])["tickets"] for r in finds] == [2, 1, 2]


def test_the_export_includes_the_persons_tickets(app, ticket_records, manager):
    data = manager.post("/admin/person/export", name=NAME, phone=PHONE, format="json").json
    assert [t["id"] for t in data["tickets"]] == [
        ticket_records["mine"],
        ticket_records["by_phone"],
    ]
    mine = data["tickets"][0]
    assert mine["description"] == DESCRIPTION and mine["reporter_phone"] == "+86" + PHONE
    assert mine["unit_number"] == "101" and mine["category"] == "noise"
    text = manager.post("/admin/person/export", name=NAME, phone=PHONE, format="csv").get_data(
        as_text=True
    )
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r[0] for r in rows if r and r[0] != "record"].count("tickets") == 2
    assert "'=HYPERLINK(x)" in text and ",=HYPERLINK" not in text  # formula-safe
    assert "李雷" not in text


def test_delete_erases_the_person_from_their_tickets_and_keeps_the_tickets(
    app, ticket_records, manager
):
    folder = tickets.photo_folder(app.config["DATA_DIR"])
    mine, by_phone = ticket_records["mine"], ticket_records["by_phone"]
    response = manager.client.post(
        "/admin/person/delete",
        data={
            "name": NAME,
            "phone": PHONE,
            "confirm": "yes",
            "csrf_token": manager.csrf,
            "ticket_id": [mine, by_phone, ticket_records["other"]],  # other: not this person's
        },
    )
    assert response.status_code == 302
    flashed = manager.client.get("/admin/person").get_data(as_text=True)
    assert "erased the person from 2 tickets" in flashed
    db = building_db(app)
    assert db["tickets"].count == 4  # the building's records and KPIs keep every ticket
    erased = tickets.get(db, mine)
    assert erased["reporter_name"] is None and erased["reporter_phone"] is None
    assert erased["description"] == "[已删除 · removed]" and erased["photo_path"] is None
    assert (erased["status"], erased["category"], erased["assigned_to"]) == (
        "assigned",
        "noise",
        "dept:maintenance",
    )
    assert not (folder / f"{mine}.jpg").exists()
    phone_only = tickets.get(db, by_phone)
    assert phone_only["reporter_phone"] is None and phone_only["description"] is None
    other = tickets.get(db, ticket_records["other"])
    assert other["reporter_name"] == "李雷" and other["description"] == "隔壁狗叫"
    assert (folder / f"{ticket_records['kiosk']}.jpg").exists()
    [order] = list(db.query("SELECT body FROM notifications WHERE kind = 'ticket.assigned'"))
    assert DESCRIPTION not in order["body"] and "[已删除 · removed]" in order["body"]
    assert "Renovation noise" in order["body"]  # the rest of the work order stays
    page = manager.client.get(f"/tickets/{mine}").get_data(as_text=True)
    assert "[已删除 · removed]" in page and NAME not in page and "138 1234 5678" not in page
    assert manager.client.get(f"/tickets/{mine}/photo").status_code == 404
    again = _find(manager, name=NAME, phone=PHONE).get_data(as_text=True)
    assert "tickets 0" in again
    [row] = db.query("SELECT detail FROM audit_log WHERE action = 'person.delete'")
    detail = json.loads(row["detail"])
    assert detail["tickets"] == 2 and detail["ticket_photos"] == 1
    assert detail["ticket_notifications"] == 1
    audit = _audit_text(app)
    assert NAME not in audit and PHONE not in audit and "楼上每晚" not in audit
    raw = b"".join(p.read_bytes() for p in Path(app.config["DATA_DIR"]).glob("lobbydesk.db*"))
    assert "楼上每晚十一点后还在装修".encode() not in raw  # overwritten on disk too
    assert NAME.encode() not in raw


def test_only_the_ticked_tickets_are_erased(app, ticket_records, manager):
    manager.client.post(
        "/admin/person/delete",
        data={
            "phone": PHONE,
            "confirm": "yes",
            "csrf_token": manager.csrf,
            "ticket_id": [ticket_records["by_phone"]],
        },
    )
    db = building_db(app)
    assert tickets.get(db, ticket_records["by_phone"])["reporter_phone"] is None
    kept = tickets.get(db, ticket_records["mine"])
    assert kept["reporter_name"] == NAME and kept["description"] == DESCRIPTION
    assert kept["photo_path"] == f"{ticket_records['mine']}.jpg"
