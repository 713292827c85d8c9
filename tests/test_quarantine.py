"""A revoked kiosk's queued writes are held for staff: not applied, not lost."""

import base64
import io
import json

from shared import kiosks, tickets
from tests.helpers import KioskCaller, StaffBrowser, add_staff, building_db, paired_kiosk


def _revoke(app, kiosk_id):
    db = building_db(app)
    kiosks.revoke(db, app.extensions["lobbydesk.clock"], kiosk_id, actor="test")


def _manager(app, client):
    add_staff(app, username="boss", role="manager", display_name="经理")
    browser = StaffBrowser(client)
    browser.login("boss")
    return browser


def test_a_revoked_kiosks_write_is_held_once_and_its_reads_refused(app, client):
    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    _revoke(app, kiosk_id)
    first = kiosk.call_reception(key="q" * 32)
    again = kiosk.call_reception(key="q" * 32)  # the kiosk retries: still one held item
    assert first.status_code == again.status_code == 202
    assert first.json == again.json == {"quarantined": True, "quarantine_id": 1}
    db = building_db(app)
    assert db["escalations"].count == 0  # not in the live data
    assert db["quarantine"].count == 1
    assert client.get("/api/v1/ping", headers=kiosk.headers(key=False)).status_code == 401
    assert client.get("/api/v1/feed", headers=kiosk.headers(key=False)).status_code == 401


def test_staff_accept_a_held_call_with_its_original_time_or_discard_it(app, client):
    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    _revoke(app, kiosk_id)
    kiosk.call_reception(key="a" * 32, created_at="2026-11-27T08:00:00+00:00")
    kiosk.call_reception(key="b" * 32)
    manager = _manager(app, client)
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert page.count("data-quarantine-id") == 2 and "Call reception" in page
    assert manager.post("/admin/kiosks/quarantine/1/accept").status_code == 302
    assert manager.post("/admin/kiosks/quarantine/2/discard").status_code == 302
    db = building_db(app)
    [row] = list(db.query("SELECT * FROM escalations"))
    assert row["created_at"] == "2026-11-27T08:00:00.000000+00:00" and row["kiosk_id"] == kiosk_id
    assert [r["status"] for r in db.query("SELECT status FROM quarantine ORDER BY id")] == [
        "accepted",
        "discarded",
    ]
    actions = [
        r["action"]
        for r in db.query(
            "SELECT action FROM audit_log WHERE action LIKE 'quarantine.%' ORDER BY id"
        )
    ]
    assert actions == [
        "quarantine.hold",
        "quarantine.hold",
        "quarantine.accepted",
        "quarantine.discarded",
    ]
    assert "Nothing held" in client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    manager.post("/admin/kiosks/quarantine/1/accept")  # a second click changes nothing
    assert building_db(app)["escalations"].count == 1


def test_a_held_parcel_pickup_is_never_released_afterwards(app, client):
    kiosk_id, token = paired_kiosk(app)
    _revoke(app, kiosk_id)
    response = client.post(
        "/api/v1/parcels/pickup", json={"unit": "101", "code": "123456"},
        headers=KioskCaller(client, token).headers(),
    )  # fmt: skip
    assert response.status_code == 202
    manager = _manager(app, client)
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "Parcel pickup" in page and "/accept" not in page
    manager.post("/admin/kiosks/quarantine/1/accept")
    assert building_db(app)["quarantine"].get(1)["status"] == "held"


def test_a_token_that_never_existed_is_not_held(app, client):
    response = client.post(
        "/api/v1/escalations", json={"kind": "help", "created_at": "2026-11-27T09:00:00Z"},
        headers={"Authorization": "Bearer " + "x" * 43, "Idempotency-Key": "k" * 32},
    )  # fmt: skip
    assert response.status_code == 401
    assert building_db(app)["quarantine"].count == 0


# --- repair reports and ratings (POST /api/v1/tickets, /api/v1/tickets/rating) ---------------

SECRET = "test-" + "x" * 40


def _photo() -> str:
    from PIL import Image

    image = Image.new("RGB", (800, 600), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return base64.b64encode(out.getvalue()).decode()


def _report(kiosk, key=None, **fields):
    body = {
        "unit": "101",
        "category": "water",
        "problem": "dripping_tap",
        "urgency": "urgent",
        "description": "厨房水龙头一直滴水",
        "language": "zh_CN",
        "created_at": "2026-11-27T08:30:00+00:00",
        **fields,
    }
    return kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers(key))


def _rate(kiosk, payload, key=None):
    return kiosk.client.post("/api/v1/tickets/rating", json=payload, headers=kiosk.headers(key))


def test_a_held_repair_report_is_shown_in_words_and_accepted_with_its_photo(app, client):
    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    _revoke(app, kiosk_id)
    photo = _photo()
    held = _report(kiosk, key="t" * 32, photo=photo)
    assert held.status_code == 202 and held.json["quarantined"] is True
    assert building_db(app)["tickets"].count == 0
    manager = _manager(app, client)
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "报修/投诉 · Repair or complaint" in page
    assert "房号 Unit 101" in page and "水龙头漏水 · Dripping tap" in page
    assert "紧急 · Urgent" in page and "厨房水龙头一直滴水" in page
    assert "附照片 · with a photo" in page
    assert photo[:200] not in page and len(page) < 20_000  # the base64 photo is not in the page
    assert "/admin/kiosks/quarantine/1/accept" in page

    response = manager.post("/admin/kiosks/quarantine/1/accept")
    assert response.status_code == 302
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "Ticket number 1" in page and "Nothing held" in page
    db = building_db(app)
    ticket = tickets.get(db, 1)
    assert ticket["kiosk_id"] == kiosk_id and ticket["source"] == "kiosk"
    assert ticket["created_at"] == "2026-11-27T08:30:00.000000+00:00"  # the kiosk's own time
    assert ticket["description"] == "厨房水龙头一直滴水" and ticket["urgency"] == "urgent"
    saved = tickets.photo_folder(app.config["DATA_DIR"]) / ticket["photo_path"]
    from PIL import Image

    with Image.open(saved) as image:
        assert image.format == "JPEG" and image.size == (800, 600)
        assert not image.getexif()  # re-encoded like any kiosk photo: no metadata
    item = db["quarantine"].get(1)
    assert item["status"] == "accepted" and json.loads(item["result"]) == {"ticket_id": 1}
    manager.post("/admin/kiosks/quarantine/1/accept")  # a second click changes nothing
    assert building_db(app)["tickets"].count == 1


def test_a_held_emergency_report_calls_reception_when_accepted(app, client):
    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    _revoke(app, kiosk_id)
    _report(kiosk, category="water", problem="burst_pipe", urgency="normal")
    manager = _manager(app, client)
    assert "危急 · Emergency" in client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    manager.post("/admin/kiosks/quarantine/1/accept")
    [row] = list(building_db(app).query("SELECT * FROM escalations"))
    assert row["kind"] == "emergency" and row["ticket_id"] == 1 and row["kiosk_id"] == kiosk_id


def test_a_held_rating_is_shown_in_words_and_accepted(app, client):
    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    created = _report(kiosk).json
    staff_id = add_staff(app, username="liming", display_name="李明")
    tickets.set_status(
        building_db(app), app.extensions["lobbydesk.clock"], created["id"], staff_id=staff_id,
        status="resolved", secret_key=SECRET, public_url="http://lobby.test",
    )  # fmt: skip
    _revoke(app, kiosk_id)
    held = _rate(kiosk, {"qr": created["qr"], "rating": 2, "reasons": ["slow", "mess"]})
    assert held.status_code == 202
    assert tickets.get(building_db(app), created["id"])["rating"] is None
    manager = _manager(app, client)
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "报修评价 · Ticket rating" in page
    assert f"报修单 Ticket {created['id']}（扫码 · by QR）" in page
    assert "评分 Rating 2/5" in page and "响应太慢、现场没清理 · Too slow, Mess left behind" in page
    assert created["qr"] not in page
    manager.post("/admin/kiosks/quarantine/1/accept")
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert f"Rating added to ticket {created['id']}" in page
    ticket = tickets.get(building_db(app), created["id"])
    assert ticket["rating"] == 2 and ticket["rated_via"] == "kiosk"
    assert ticket["rating_reason_keys"] == ["slow", "mess"]
    [audit] = building_db(app).query("SELECT actor FROM audit_log WHERE action = 'ticket.rate'")
    assert audit["actor"] == f"kiosk:{kiosk_id}"


def test_what_the_api_would_refuse_stays_held_with_the_reason(app, client):
    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    ticket = _report(kiosk).json  # ticket 1, not resolved yet
    _revoke(app, kiosk_id)
    _rate(kiosk, {"qr": ticket["qr"], "rating": 5, "reasons": []})
    _report(kiosk, unit="999", photo=_photo())
    manager = _manager(app, client)
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "报修单 Ticket 1（扫码 · by QR）" in page and "评分 Rating 5/5" in page
    manager.post("/admin/kiosks/quarantine/1/accept")
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "报修单解决后才能评价 · You can rate a ticket once it is resolved." in page
    manager.post("/admin/kiosks/quarantine/2/accept")
    page = client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert "There is no such unit" in page
    db = building_db(app)
    assert [r["status"] for r in db.query("SELECT status FROM quarantine ORDER BY id")] == [
        "held",
        "held",
    ]
    assert db["tickets"].count == 1 and tickets.get(db, 1)["rating"] is None
    folder = tickets.photo_folder(app.config["DATA_DIR"])
    assert not folder.exists() or not any(folder.iterdir())  # no stray photo file
    assert manager.post("/admin/kiosks/quarantine/2/discard").status_code == 302
    assert db["quarantine"].get(2)["status"] == "discarded"
