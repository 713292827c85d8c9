"""Undo of a visitor decision from the live queue (shared/visit_undo.py, console/queue.py)."""

from kiosk.viewmodels import visitor as kiosk_visitor
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db

FETCH = {"X-Requested-With": "fetch"}


def register(kiosk, name="张先生"):
    body = {
        "name": name, "phone": "13812345678", "unit": "101", "purpose": "visit",
        "party_size": 1, "language": "zh_CN", "created_at": "2026-11-27T08:59:59+00:00",
    }  # fmt: skip
    response = kiosk.client.post("/api/v1/visits", json=body, headers=kiosk.headers())
    assert response.status_code == 201, response.json
    return response.json["id"]


def feed_kinds(kiosk):
    events = kiosk.client.get("/api/v1/feed?after=0&wait=0", headers=kiosk.headers(key=False))
    return [(e["kind"], e["payload"]["visit_id"]) for e in events.json["events"]]


def fetch(staff, path, **data):
    headers = {**FETCH, "X-CSRF-Token": staff.csrf}
    return staff.client.post(path, data={"csrf_token": staff.csrf, **data}, headers=headers)


def test_a_confirm_says_what_happened_and_an_undo_makes_the_visitor_pending_again(
    app, client, kiosk, reception, clock
):
    add_resident(app, "101", "王建国", email="wang@example.com")
    visit_id = register(kiosk)
    answer = fetch(reception, f"/queue/visits/{visit_id}/decide", decision="confirm_id")
    assert answer.status_code == 200
    assert answer.json["message"] == "已确认 张** 入内 · 张** confirmed — let in."
    assert answer.json["undo"]["url"] == f"/queue/visits/{visit_id}/undo"
    assert answer.json["undo"]["until"].startswith("2026-11-27T09:00:10")
    db = building_db(app)
    assert db.execute("SELECT COUNT(*) FROM notifications").fetchone()[0] == 1

    clock.advance(seconds=8)
    undone = fetch(reception, f"/queue/visits/{visit_id}/undo")
    assert undone.status_code == 200, undone.json
    assert undone.json["message"].startswith("已撤销：张** 重新待核实 · Undone: 张** is waiting")
    row = db["visits"].get(visit_id)
    assert (row["status"], row["decided_at"], row["decision_method"]) == ("pending", None, None)
    assert row["received_at"] == "2026-11-27T09:00:00.000000+00:00"  # its clock runs on
    assert db.execute("SELECT COUNT(*) FROM notifications").fetchone()[0] == 0  # never sent
    assert feed_kinds(kiosk) == [("visit.confirmed", visit_id), ("visit.reopened", visit_id)]
    [audit] = db.query("SELECT * FROM audit_log WHERE action = 'visit.undo'")
    assert audit["actor"].startswith("staff:") and '"undid": "confirm_id"' in audit["detail"]
    rows = client.get("/queue/rows").get_data(as_text=True)
    assert f'data-visit-id="{visit_id}"' in rows and ">8 s<" in rows  # back, its wait intact

    again = fetch(reception, f"/queue/visits/{visit_id}/undo")
    assert again.status_code == 409 and "Nothing to undo" in again.json["error"]["message"]


def test_the_kiosk_goes_back_to_waiting_when_a_decision_is_undone():
    vm = kiosk_visitor.VisitorViewModel()
    vm.state, vm.visit_id = kiosk_visitor.SENT, 7
    confirmed = {"visit_id": 7, "pass_token": "t", "unit": "101"}
    assert vm.on_feed_event({"kind": "visit.confirmed", "payload": confirmed})
    assert vm.state == kiosk_visitor.CONFIRMED and vm.pass_token == "t"
    assert not vm.on_feed_event({"kind": "visit.reopened", "payload": {"visit_id": 8}})
    assert vm.on_feed_event({"kind": "visit.reopened", "payload": {"visit_id": 7}})
    assert (vm.state, vm.pass_token, vm.decided) == (kiosk_visitor.SENT, None, False)
    # reception decides again: the kiosk hears it as before
    assert vm.on_feed_event({"kind": "visit.denied", "payload": {"visit_id": 7}})
    assert vm.state == kiosk_visitor.DENIED


def test_an_undo_after_the_window_or_by_someone_else_is_refused_in_words(
    app, client, kiosk, reception, clock
):
    late = register(kiosk, "李女士")
    fetch(reception, f"/queue/visits/{late}/decide", decision="deny", reason="住户不在家")
    clock.advance(seconds=20)
    refused = fetch(reception, f"/queue/visits/{late}/undo")
    assert refused.status_code == 409
    assert (
        "这项决定已无法撤销 · This decision can no longer be undone."
        in refused.json["error"]["message"]
    )
    assert building_db(app)["visits"].get(late)["status"] == "denied"

    mine = register(kiosk, "王先生")
    fetch(reception, f"/queue/visits/{mine}/decide", decision="confirm_host")
    add_staff(app, username="lina", display_name="李娜")
    colleague = StaffBrowser(app.test_client())
    colleague.login("lina")
    other = fetch(colleague, f"/queue/visits/{mine}/undo")
    assert (
        other.status_code == 403 and "Only the person who decided" in other.json["error"]["message"]
    )
    assert building_db(app)["visits"].get(mine)["status"] == "confirmed"


def test_without_script_a_decision_flashes_and_the_queue_offers_the_undo(app, kiosk, reception):
    visit_id = register(kiosk)
    response = reception.post(f"/queue/visits/{visit_id}/decide", decision="deny", reason="")
    assert response.status_code == 302  # a bad form is a message, never a 500
    page = reception.client.get("/").get_data(as_text=True)
    assert "Give a reason for the denial" in page and "撤销 · Undo" not in page

    reception.post(f"/queue/visits/{visit_id}/decide", decision="deny", reason="住户不在家")
    page = reception.client.get("/").get_data(as_text=True)
    assert "已拒绝 张** 入内 · 张** denied entry" in page
    assert f'action="/queue/visits/{visit_id}/undo"' in page
    assert reception.post(f"/queue/visits/{visit_id}/undo").status_code == 302
    page = reception.client.get("/").get_data(as_text=True)
    assert "Undone: 张** is waiting for a decision again." in page
    assert building_db(app)["visits"].get(visit_id)["status"] == "pending"


def test_a_signed_out_visitor_has_moved_on_and_cannot_be_undone(app, kiosk, reception):
    visit_id = register(kiosk)
    fetch(reception, f"/queue/visits/{visit_id}/decide", decision="confirm_id")
    reception.post(f"/visitors/{visit_id}/sign-out")
    refused = fetch(reception, f"/queue/visits/{visit_id}/undo")
    assert refused.status_code == 409 and "signed_out" in refused.json["error"]["message"]
