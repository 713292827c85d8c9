"""The reception live queue: S3's clock, actions, live updates."""

import threading

from console import live
from tests.helpers import building_db, eventually


def test_a_call_shows_in_the_queue_with_its_clock(app, client, kiosk, reception, clock):
    kiosk.call_reception()
    page = client.get("/").get_data(as_text=True)
    assert "呼叫前台 · Call reception" in page and "大堂 A" in page
    assert 'class="item ok"' in page and ">0 s<" in page
    clock.advance(seconds=50)
    assert 'class="item warning"' in client.get("/queue/rows").get_data(as_text=True)
    clock.advance(seconds=11)
    assert 'class="item overdue"' in client.get("/queue/rows").get_data(as_text=True)


def test_on_my_way_stops_the_clock_and_done_removes_the_item(app, client, kiosk, reception, clock):
    escalation_id = kiosk.call_reception().json["id"]
    clock.advance(seconds=20)
    assert reception.post(f"/queue/escalations/{escalation_id}/acknowledge").status_code == 302
    clock.advance(seconds=100)
    rows = client.get("/queue/rows").get_data(as_text=True)
    assert ">20 s<" in rows and "On the way" in rows and "王芳" in rows
    row = building_db(app)["escalations"].get(escalation_id)
    assert row["acknowledged_at"] == "2026-11-27T09:00:20.000000+00:00"
    reception.post(f"/queue/escalations/{escalation_id}/resolve")
    assert "Nothing waiting" in client.get("/queue/rows").get_data(as_text=True)


def test_acknowledging_twice_is_harmless(app, client, kiosk, reception):
    escalation_id = kiosk.call_reception().json["id"]
    reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
    second = reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
    assert second.status_code == 302
    events = list(building_db(app).query("SELECT kind FROM kiosk_events"))
    assert len(events) == 1


def test_staff_actions_are_audited(app, kiosk, reception):
    escalation_id = kiosk.call_reception().json["id"]
    reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
    actions = [r["action"] for r in building_db(app).query("SELECT action FROM audit_log")]
    assert "escalation.acknowledge" in actions


def test_the_stream_announces_a_new_call(app, client, kiosk, reception):
    response = client.get("/queue/stream", buffered=False)
    chunks = response.response  # the live generator
    assert next(chunks).decode().startswith("retry:")
    received = []
    reader = threading.Thread(target=lambda: received.append(next(chunks).decode()), daemon=True)
    reader.start()
    hub = live.hub(app)
    eventually(lambda: hub.waiting == 1, message="the stream is parked, waiting for news")
    kiosk.call_reception()  # wakes it: the call is news
    eventually(lambda: received, message="the stream said something")
    response.close()
    assert received[0].startswith("event: queue")


def test_the_kiosk_emergency_button_reads_as_an_emergency_in_the_queue(client, kiosk, reception):
    """Home's "紧急求助 · Emergency" (no unit) is a help call named after the hazard."""
    body = {"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "screen": "sos_elevator"}
    assert (
        kiosk.client.post("/api/v1/escalations", json=body, headers=kiosk.headers()).status_code
        < 300
    )
    rows = client.get("/queue/rows").get_data(as_text=True)
    assert "紧急求助：有人被困电梯 · Emergency: someone trapped in a lift" in rows
