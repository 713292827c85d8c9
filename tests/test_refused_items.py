"""A request the console refuses is never silent: the kiosk sends it back whole, it
waits in the live queue, and the desk resends it (once the cause is fixed) or
discards it. Real console (uvicorn, real HTTP), real kiosk outbox and worker."""

from __future__ import annotations

import pytest

from console.server import ConsoleServer
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, DEAD, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import kiosks, units
from shared.clock import FrozenClock, to_iso
from tests.helpers import StaffBrowser, add_staff, building_db, make_app

REFUSED_ROW = "终端请求未能保存 · A kiosk request was refused"


def visit_body(unit: str, clock) -> dict:
    return {
        "name": "张先生", "phone": "13812345678", "unit": unit, "purpose": "visit",
        "party_size": 1, "language": "en", "created_at": to_iso(clock.now()),
    }  # fmt: skip


@pytest.fixture
def lobby(tmp_path):
    """A console process-alike (uvicorn in a thread), a paired kiosk, a receptionist."""
    app = make_app(tmp_path / "console")
    clock = app.extensions["lobbydesk.clock"]
    db = building_db(app)
    created = kiosks.create(db, clock, building_id=1, name="大堂 A", actor="test")
    answer = kiosks.pair(db, clock, created["pairing_code"])
    db.close()
    kiosk_clock = FrozenClock(clock.now())
    store = KioskStore.open(tmp_path / "kiosk.db", kiosk_clock)
    store.save_pairing(answer)
    server = ConsoleServer(app).start_in_background()
    dead = []
    worker = SyncWorker(
        store,
        ConsoleClient(server.url, store.token),
        clock=kiosk_clock,
        on_dead=lambda *args: dead.append(args),
    )
    add_staff(app)
    desk = StaffBrowser(app.test_client())
    desk.login()
    yield app, store, worker, desk, dead, kiosk_clock
    server.stop()
    store.close()


def drain(worker, outbox):
    for _ in range(50):
        if worker.drain_once(outbox) is None:
            return
    raise AssertionError("the outbox did not drain")


def queue_rows(desk) -> str:
    return desk.client.get("/queue/rows").get_data(as_text=True)


def refused_id(app) -> int:
    [row] = list(building_db(app).query("SELECT id FROM quarantine WHERE reason = 'refused'"))
    return row["id"]


def test_a_refused_visit_reaches_the_desk_who_fix_the_unit_and_resend_it(lobby):
    app, store, worker, desk, dead, kiosk_clock = lobby
    outbox = Outbox(store)
    refused = outbox.enqueue("visit.register", "/api/v1/visits", visit_body("2808", kiosk_clock))
    drain(worker, outbox)
    assert outbox.get(refused).state == DEAD and dead[0][0] == refused  # the kiosk is told
    rows = queue_rows(desk)
    assert REFUSED_ROW in rows and "张先生" in rows and "Unit 2808" in rows
    assert "There is no such unit in this building" in rows  # the reason, in words
    assert "EN" in rows  # the visitor used English: the desk knows whom to look for
    db = building_db(app)
    units.add(db, app.extensions["lobbydesk.clock"], {"number": "2808"}, actor="test")
    db.close()
    response = desk.post(f"/queue/refused/{refused_id(app)}/resend")
    assert response.status_code == 302
    rows = queue_rows(desk)
    assert REFUSED_ROW not in rows
    assert "访客登记 · Visitor" in rows and "张先生" in rows  # now waiting as a visitor
    [visit] = list(
        building_db(app).query(
            "SELECT u.number, v.status FROM visits v JOIN units u ON u.id = v.unit_id"
        )
    )
    assert visit == {"number": "2808", "status": "pending"}


def test_a_resend_that_is_refused_again_keeps_it_waiting_and_says_why(lobby):
    app, store, worker, desk, _dead, kiosk_clock = lobby
    outbox = Outbox(store)
    outbox.enqueue("visit.register", "/api/v1/visits", visit_body("2808", kiosk_clock))
    drain(worker, outbox)
    response = desk.post(f"/queue/refused/{refused_id(app)}/resend")
    page = desk.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未能重新提交 · Could not resend" in page
    assert REFUSED_ROW in queue_rows(desk)
    assert not list(building_db(app).query("SELECT id FROM visits"))


def test_a_refused_pickup_can_only_be_discarded_and_never_shows_the_code(lobby):
    app, store, worker, desk, _dead, _clock = lobby
    outbox = Outbox(store)
    outbox.enqueue("parcel.pickup", "/api/v1/parcels/pickup", {"unit": "101", "code": "12"})
    drain(worker, outbox)
    rows = queue_rows(desk)
    assert REFUSED_ROW in rows and "Parcel pickup" in rows and "Unit 101" in rows
    assert "重新提交 · Resend" not in rows and '"12"' not in rows
    desk.post(f"/queue/refused/{refused_id(app)}/discard")
    assert REFUSED_ROW not in queue_rows(desk)
    [row] = list(building_db(app).query("SELECT status, decided_by FROM quarantine"))
    assert row["status"] == "discarded" and row["decided_by"] is not None


def test_a_garbled_outbox_row_gets_a_clear_status_and_the_queue_moves_on(lobby):
    app, store, worker, desk, dead, kiosk_clock = lobby
    outbox = Outbox(store)
    garbled = outbox.enqueue("escalation.help", "/api/v1/escalations", {})
    store.db.execute("UPDATE outbox SET body = ? WHERE id = ?", ("{not json", garbled))
    body = {"kind": "help", "created_at": to_iso(kiosk_clock.now()), "language": "zh_CN",
            "screen": "home"}  # fmt: skip
    good = outbox.enqueue("escalation.help", "/api/v1/escalations", body)
    drain(worker, outbox)
    assert outbox.get(garbled).state == DEAD and "JSON" in outbox.get(garbled).last_error
    assert outbox.get(good).state == ACKED
    rows = queue_rows(desk)
    assert REFUSED_ROW in rows and "JSON" in rows
    assert "呼叫前台 · Call reception" in rows  # the good call is there too


def test_the_refusal_report_is_checked_strictly(lobby):
    app, store, _worker, _desk, _dead, _clock = lobby
    from tests.helpers import KioskCaller

    kiosk = KioskCaller(app.test_client(), store.token)
    good = {"key": "k" * 20, "path": "/api/v1/visits", "body": "{}", "error": "HTTP 422"}
    bad = [
        {**good, "extra": 1},
        {**good, "key": "short"},
        {**good, "path": "/elsewhere"},
        {**good, "body": 12},
        {**good, "error": "x" * 301},
        {**good, "language": "fr"},
        {"path": "/api/v1/visits"},
        ["not", "an", "object"],
    ]
    for body in bad:
        response = kiosk.client.post("/api/v1/refused", json=body, headers=kiosk.headers())
        assert response.status_code == 400, body
    for _ in range(2):  # the same item reported twice is kept once
        response = kiosk.client.post("/api/v1/refused", json=good, headers=kiosk.headers())
        assert response.status_code == 201
    assert len(list(building_db(app).query("SELECT id FROM quarantine"))) == 1


def test_a_refusal_report_that_is_itself_refused_becomes_a_kiosk_alert(lobby):
    app, store, worker, _desk, _dead, _clock = lobby
    outbox = Outbox(store)
    outbox.enqueue("kiosk.refused", "/api/v1/refused", {"key": "bad"})
    drain(worker, outbox)
    [alert] = list(building_db(app).query("SELECT item_kind FROM kiosk_alerts"))
    assert alert["item_kind"] == "kiosk.refused"
    assert {item.state for item in outbox.items()} == {ACKED, DEAD}


def test_the_live_queue_cannot_decide_on_a_revoked_kiosks_held_writes(lobby):
    """Reception decides refused requests; a revoked kiosk's held writes belong to the
    quarantine page and its roles."""
    app, store, _worker, desk, _dead, _clock = lobby
    from tests.helpers import KioskCaller

    kiosk = KioskCaller(app.test_client(), store.token)
    db = building_db(app)
    kiosks.revoke(db, app.extensions["lobbydesk.clock"], 1, actor="test")
    db.close()
    body = {"kind": "help", "created_at": "2026-11-27T09:00:00+00:00", "language": "zh_CN",
            "screen": "home"}  # fmt: skip
    held = kiosk.client.post("/api/v1/escalations", json=body, headers=kiosk.headers())
    assert held.status_code == 202
    held_id = held.json["quarantine_id"]
    for action in ("resend", "discard"):
        response = desk.client.post(
            f"/queue/refused/{held_id}/{action}",
            headers={"X-CSRF-Token": desk.csrf, "X-Requested-With": "fetch"},
        )
        assert response.status_code == 404
    [row] = list(building_db(app).query("SELECT status, decided_by FROM quarantine"))
    assert row == {"status": "held", "decided_by": None}
    assert not list(building_db(app).query("SELECT id FROM escalations"))


def test_refused_requests_are_bounded_per_kiosk_and_the_queue_shows_a_few(lobby, monkeypatch):
    app, store, _worker, desk, _dead, _clock = lobby
    from shared import quarantine
    from tests.helpers import KioskCaller

    monkeypatch.setattr(quarantine, "MAX_HELD_PER_KIOSK", 30)
    kiosk = KioskCaller(app.test_client(), store.token)
    answers = []
    for n in range(32):
        report = {"key": f"refused-item-{n:08d}", "path": "/api/v1/visits",
                  "body": "{}", "error": "HTTP 422 unknown_unit: no such unit"}  # fmt: skip
        answers.append(
            kiosk.client.post("/api/v1/refused", json=report, headers=kiosk.headers()).status_code
        )
    assert answers == [201] * 30 + [429] * 2  # the kiosk keeps the rest and tries later
    rows = queue_rows(desk)
    assert rows.count(REFUSED_ROW) == quarantine.REFUSED_SHOWN
    assert "10 more refused kiosk requests wait" in rows
