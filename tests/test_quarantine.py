"""A revoked kiosk's queued writes are held for staff: not applied, not lost."""

from shared import kiosks
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
    assert row["created_at"] == "2026-11-27T08:00:00+00:00" and row["kiosk_id"] == kiosk_id
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
