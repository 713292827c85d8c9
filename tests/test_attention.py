"""The attention summary behind every staff page's badge: it counts what the live queue
shows as waiting for a person, with the oldest wait on the console's clock."""

from __future__ import annotations

import re

from shared import parcels, quarantine
from shared.tokens import new_idempotency_key
from tests.helpers import building_db

FETCH = {"X-Requested-With": "fetch"}


def register_visitor(kiosk, unit="101"):
    body = {
        "name": "张先生", "phone": "13812345678", "unit": unit, "purpose": "visit",
        "party_size": 1, "language": "zh_CN", "created_at": "2026-11-27T08:59:59+00:00",
    }  # fmt: skip
    answer = kiosk.client.post("/api/v1/visits", json=body, headers=kiosk.headers())
    assert answer.status_code == 201, answer.json
    return answer.json


def report_emergency(kiosk):
    body = {
        "unit": "101", "category": "water", "problem": "burst_pipe", "urgency": "normal",
        "language": "zh_CN", "created_at": "2026-11-27T08:59:30+00:00",
    }  # fmt: skip
    answer = kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers())
    assert answer.status_code == 201, answer.json


def report_refused(kiosk):
    report = {
        "key": new_idempotency_key(), "path": "/api/v1/visits", "kind": "visit",
        "body": '{"name": "李女士", "unit": "999"}', "error": "HTTP 404 unknown_unit: no unit",
    }  # fmt: skip
    answer = kiosk.client.post("/api/v1/refused", json=report, headers=kiosk.headers())
    assert answer.status_code == 201, answer.json


def hand_over_at_the_desk(app, reception, kiosk):
    """Reception logs a parcel; the resident enters the code at the kiosk."""
    logged = reception.client.post(
        "/parcels/",
        data={
            "csrf_token": reception.csrf,
            "tracking": "SF1234567890123",
            "unit": "101",
            "shelf": "A-3",
        },
        headers={**FETCH, "X-CSRF-Token": reception.csrf},
    )
    assert logged.status_code in (200, 201), logged.get_data(as_text=True)
    db = building_db(app)
    sealed = db.execute(
        "SELECT code_sealed FROM parcel_batches WHERE status = 'open' ORDER BY id DESC"
    ).fetchone()[0]
    code = parcels.unseal_code(app.config["SECRET_KEY"], sealed)
    answer = kiosk.client.post(
        "/api/v1/parcels/pickup", json={"unit": "101", "code": code}, headers=kiosk.headers()
    )
    assert answer.status_code == 200, answer.json


def queue_row_anchors(client) -> list[str]:
    """The ids of the rows the live queue shows, with their status."""
    rows = client.get("/queue/rows").get_data(as_text=True)
    return re.findall(r'<tr id="(item-[a-z]+-\d+)"[^>]*data-status="([a-z]+)"', rows)


def test_the_summary_counts_what_the_queue_shows_as_waiting(app, client, kiosk, reception, clock):
    answered = kiosk.call_reception().json["id"]
    reception.post(f"/queue/escalations/{answered}/acknowledge")  # someone is on the way
    clock.advance(seconds=5)
    kiosk.call_reception()
    register_visitor(kiosk)
    hand_over_at_the_desk(app, reception, kiosk)
    report_refused(kiosk)
    clock.advance(seconds=30)

    summary = client.get("/attention", headers=FETCH).json

    shown = queue_row_anchors(client)
    waiting = [anchor for anchor, status in shown if status != "acknowledged"]
    assert len(shown) == 5 and len(waiting) == 4
    assert summary["count"] == 4 and summary["emergencies"] == 0
    assert sorted(item["anchor"] for item in summary["items"]) == sorted(waiting)
    assert f"item-escalation-{answered}" not in [i["anchor"] for i in summary["items"]]
    # The oldest first, with the console's own time so pages tick the clock from there.
    assert summary["items"][0]["type"] == "escalation"
    assert summary["items"][0]["received_at"] == "2026-11-27T09:00:05.000000+00:00"
    assert summary["server_now"] == "2026-11-27T09:00:35.000000+00:00"
    assert (summary["warning_seconds"], summary["standard_seconds"]) == (45, 60)
    labels = {item["type"]: item["label"] for item in summary["items"]}
    assert labels["visit"] == "访客登记 · Visitor" and labels["escalation"].endswith(
        "Call reception"
    )
    assert {item["type"]: item["where"] for item in summary["items"]}["visit"] == "101"


def test_nothing_waiting_once_everything_is_handled(app, client, kiosk, reception):
    call = kiosk.call_reception().json["id"]
    visit = register_visitor(kiosk)["id"]
    assert client.get("/attention").json["count"] == 2
    reception.post(f"/queue/escalations/{call}/resolve")
    reception.post(f"/visitors/{visit}/decide", decision="confirm_id")
    summary = client.get("/attention").json
    assert summary["count"] == 0 and summary["items"] == []
    assert queue_row_anchors(client) == []


def test_an_emergency_is_counted_apart_and_comes_first(client, kiosk, reception, clock):
    kiosk.call_reception()
    clock.advance(seconds=20)
    report_emergency(kiosk)
    summary = client.get("/attention").json
    assert summary["count"] == 2 and summary["emergencies"] == 1
    first = summary["items"][0]
    assert first["emergency"] is True and first["label"] == "危急情况 · Emergency"
    assert first["anchor"] in {anchor for anchor, _ in queue_row_anchors(client)}


def test_the_kiosk_home_emergency_shows_on_the_badge_above_an_older_call(
    client, kiosk, reception, clock
):
    """A help call from home's "紧急求助 · Emergency" (no unit) is an emergency on the
    badge as on the queue: first, counted apart, named after the hazard."""
    kiosk.call_reception()
    clock.advance(seconds=20)
    body = {"kind": "help", "created_at": "2026-11-27T09:00:18+00:00", "screen": "sos_fire"}
    sent = kiosk.client.post("/api/v1/escalations", json=body, headers=kiosk.headers())
    assert sent.status_code < 300, sent.json
    summary = client.get("/attention").json
    assert summary["count"] == 2 and summary["emergencies"] == 1
    first, second = summary["items"][:2]
    assert first["emergency"] is True and second["emergency"] is False
    assert first["label"] == "紧急求助：烟雾或火情 · Emergency: smoke or fire"
    rows = client.get("/queue/rows").get_data(as_text=True)
    assert rows.index("紧急求助：烟雾或火情") < rows.index("呼叫前台 · Call reception")
    assert "⚠ 危急优先 · Emergency first" in rows


def test_refused_requests_beyond_those_the_queue_loads_are_counted(
    client, kiosk, reception, monkeypatch
):
    monkeypatch.setattr(quarantine, "REFUSED_SHOWN", 2)
    for _ in range(3):
        report_refused(kiosk)
    summary = client.get("/attention").json
    assert summary["count"] == 3 and len(summary["items"]) == 2
    assert "1 more refused kiosk requests wait" in client.get("/queue/rows").get_data(as_text=True)


def test_only_signed_in_staff_see_it_and_it_is_never_cached(app, client, kiosk, reception):
    kiosk.call_reception()
    answer = client.get("/attention")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    client.post("/logout", data={"csrf_token": reception.csrf})
    assert client.get("/attention", headers=FETCH).status_code == 401
    no_token = kiosk.client.get("/attention", headers={"Authorization": f"Bearer {kiosk.token}"})
    assert no_token.status_code == 302 and "/login" in no_token.headers["Location"]


def test_every_staff_page_carries_the_badge_and_the_queue_rows_carry_anchors(
    client, kiosk, reception
):
    call = kiosk.call_reception().json["id"]
    page = client.get("/parcels/").get_data(as_text=True)
    assert 'id="attention-badge"' in page and "attention.js" in page
    assert 'data-summary-url="/attention"' in page and 'data-stream-url="/queue/stream"' in page
    assert f'id="item-escalation-{call}"' in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": reception.csrf})
    assert 'id="attention-badge"' not in client.get("/login").get_data(as_text=True)
