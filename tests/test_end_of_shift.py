"""Ending a shift lists what is still waiting or open, needs a confirmation, and the
handover keeps that list for the next shift."""

from __future__ import annotations

import json
import re

from shared import emergency_broadcast, handover, terms
from shared.clock import to_iso
from shared.tokens import new_idempotency_key
from tests.helpers import StaffBrowser, add_staff, building_db


def _signed_in(app, username="wangfang"):
    add_staff(app, username=username, role="reception", display_name="王芳")
    browser = StaffBrowser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def _visitor(kiosk, clock, name="欧阳娜娜"):
    response = kiosk.client.post(
        "/api/v1/visits",
        json={"name": name, "phone": "", "unit": "101", "created_at": to_iso(clock.now())},
        headers=kiosk.headers(new_idempotency_key()),
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def _ticket(kiosk, **body):
    body = {"unit": "101", "category": "water", "problem": "dripping_tap", **body}
    response = kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def _busy_desk(app, clock, kiosk):
    """Two visitors waiting past 60 s, a help call, a lift entrapment, a broadcast on."""
    _visitor(kiosk, clock)
    _visitor(kiosk, clock, "李雷")
    assert kiosk.call_reception(created_at=to_iso(clock.now())).status_code == 201
    clock.advance(seconds=30)
    trapped = _ticket(kiosk, unit="201", category="elevator", problem="trapped")
    urgent = _ticket(kiosk, urgency="urgent", problem="blocked_drain")
    quiet = _ticket(kiosk)  # a normal ticket is not the desk's to hand over
    db = building_db(app)
    manager_id = add_staff(app, username="mona", role="manager", display_name="Mona")
    emergency_broadcast.start(
        db,
        clock,
        kind="fire",
        instructions_zh="请走楼梯",
        instructions_en="Use the stairs",
        staff_id=manager_id,
    )
    clock.advance(seconds=75)
    return {"trapped": trapped, "urgent": urgent, "quiet": quiet}


def test_the_open_items_put_what_endangers_people_first(app, clock, kiosk):
    made = _busy_desk(app, clock, kiosk)
    items = handover.open_items(building_db(app), clock)
    kinds = [i["kind"] for i in items]
    assert kinds[0] == "emergency_broadcast"
    escalation_texts = [i["text"] for i in items if i["kind"] == "escalation"]
    # the entrapment, before the help call; in the live queue's words (shared/terms.py)
    assert escalation_texts[0].startswith(terms.term("escalation_kind", "emergency"))
    assert escalation_texts[1].startswith("呼叫前台 · Call reception")
    visitors = [i for i in items if i["kind"] == "visitor"]
    assert len(visitors) == 2 and all(v["waited"] > 60 for v in visitors)
    assert all("欧阳娜娜" not in i["text"] for i in items)  # no names kept in a handover
    ticket_ids = [i["id"] for i in items if i["kind"] == "ticket"]
    assert ticket_ids == [made["trapped"], made["urgent"]]


def test_ending_the_shift_needs_the_confirmation_beside_the_open_list(app, clock, kiosk):
    _busy_desk(app, clock, kiosk)
    wang = _signed_in(app)
    page = wang.client.get("/handover/").get_data(as_text=True)
    assert page.count('class="open-item') == 7
    assert "等候 · Visitor waiting → 101" in page and "1 分钟 · 1 min" in page
    assert "Hand over with these 7 open" in page
    seen = re.search(r'name="open_items_seen" value="(\d+)"', page).group(1)
    refused = wang.post("/handover/end", previous="", open_items_seen=seen)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'role="alert" id="end-shift-error"' in text and "Tick the confirmation first" in text
    assert building_db(app)["handovers"].count == 0

    done = wang.post("/handover/end", previous="", open_items_seen=seen, confirm="yes")
    assert done.status_code == 302
    handover_id = int(done.headers["Location"].rsplit("/", 1)[1])
    [row] = building_db(app).query("SELECT open_items FROM handovers")
    assert [i["kind"] for i in json.loads(row["open_items"])][:2] == [
        "emergency_broadcast",
        "escalation",
    ]
    shown = wang.client.get(f"/handover/{handover_id}").get_data(as_text=True)
    assert "Still waiting or open at handover" in shown
    assert shown.count('class="open-item') == 7 and "— 201" in shown


def test_something_new_since_the_confirmation_stops_the_handover(app, clock, kiosk):
    wang = _signed_in(app)
    page = wang.client.get("/handover/").get_data(as_text=True)
    assert "Nothing waiting or open." in page and "I confirm: my shift ends" in page
    _visitor(kiosk, clock)  # arrives while she is ticking the box
    response = wang.post("/handover/end", previous="", open_items_seen="0", confirm="yes")
    assert response.headers["Location"] == "/handover/"
    again = wang.client.get("/handover/").get_data(as_text=True)
    assert "Something new is waiting since you looked" in again
    assert building_db(app)["handovers"].count == 0
