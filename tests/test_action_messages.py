"""After every action a short message names the new state, with or without script;
a kiosk pickup in the queue names whom to hand the parcels to (issue 4/9)."""

from __future__ import annotations

import re

from console.queue import decision_message
from shared import visitors
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db
from tests.test_parcels import log_parcel, pickup, pickup_code


def text(response) -> str:
    return response.get_data(as_text=True)


def register(kiosk, name="张先生"):
    answer = kiosk.client.post(
        "/api/v1/visits",
        json={"name": name, "phone": "13812345678", "unit": "101", "created_at": "2026-11-27T08:59:59+00:00"},
        headers=kiosk.headers(),
    )  # fmt: skip
    assert answer.status_code == 201
    return answer.json["id"]


def test_the_old_decide_route_says_the_new_state_in_the_queues_words(app, kiosk, reception):
    confirmed, denied = register(kiosk, "张先生"), register(kiosk, "李女士")
    done = reception.post(f"/visitors/{confirmed}/decide", decision="confirm_id")
    assert done.status_code == 302
    queue = text(reception.client.get(done.headers["Location"]))
    expected = decision_message(visitors.get(building_db(app), confirmed))
    assert expected in queue and "confirmed — let in" in expected
    done = reception.post(f"/visitors/{denied}/decide", decision="deny", reason="住户不在家")
    queue = text(reception.client.get(done.headers["Location"]))
    assert "denied entry" in queue


def test_a_kiosk_pickup_row_names_the_residents_and_proxies_on_one_line(
    app, client, kiosk, reception
):
    add_resident(app, unit="101", name="王建国")
    add_resident(app, unit="101", name="刘芳", email="liu@example.com")
    add_staff(app, username="limanager", role="manager", display_name="李经理")
    manager = StaffBrowser(app.test_client())
    manager.login("limanager")
    manager.post("/residents/units/1/proxies", name="李阿姨", phone="13700002222")
    log_parcel(reception)
    pickup(kiosk, unit="101", code=pickup_code(app))
    rows = text(client.get("/queue/rows"))
    row = re.search(r'<tr id="item-handover-.*?</tr>', rows, re.S).group(0)
    assert "王建国" in row and "刘芳" in row and "李阿姨" in row
    collectors = re.search(
        r'<span class="line collectors">.*?(?=<span class="line muted">|</td>)', row, re.S
    )[0]
    assert "\n" not in collectors  # one line in the source, one line on screen
    assert "王建国、刘芳、李阿姨" in re.sub(r"<[^>]+>|\s*\(可代领 · may collect\)", "", collectors)
    assert "可代领 · may collect" in collectors


def test_handing_over_without_script_says_what_happened(app, client, kiosk, reception):
    add_resident(app, unit="101", name="王建国")
    log_parcel(reception)
    pickup(kiosk, unit="101", code=pickup_code(app))
    handover_id = building_db(app)["parcel_handovers"].get(1)["id"]
    done = reception.post(f"/parcels/handovers/{handover_id}/done")
    assert done.status_code == 302
    queue = text(reception.client.get(done.headers["Location"]))
    assert "Handed over 1 parcel for 101; removed from the queue." in queue
    assert "已交付 101 的 1 件快递" in queue
    again = reception.post(f"/parcels/handovers/{handover_id}/done")
    assert "already completed" in text(reception.client.get(again.headers["Location"]))
