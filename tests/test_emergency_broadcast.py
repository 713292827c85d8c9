"""Emergency broadcast (S8): staff start and end it, every kiosk hears it at once, the
console shows a red banner, and the roll call lists who is on site (HTML and PDF).

Console and API through the Flask client (and one real server for the long-poll);
the kiosk's view-model without a window.
"""

from __future__ import annotations

import io
import re
import sqlite3
import threading

import pytest
import requests
from pypdf import PdfReader

from console import live
from console.server import ConsoleServer
from kiosk.viewmodels.broadcast import ANNOUNCEMENTS, EMERGENCY, NOTHING, BroadcastViewModel
from shared import emergency_broadcast, kiosks
from shared.clock import FrozenClock
from tests.helpers import (
    KioskCaller,
    StaffBrowser,
    add_staff,
    building_db,
    eventually,
    make_app,
    paired_kiosk,
)

FIRE = emergency_broadcast.KINDS["fire"]


def start(staff, kind="fire", zh=None, en=None):
    return staff.post(
        "/emergency/start",
        kind=kind,
        instructions_zh=FIRE["instructions_zh"] if zh is None else zh,
        instructions_en=FIRE["instructions_en"] if en is None else en,
    )


def emergencies(app):
    return list(building_db(app).query("SELECT * FROM emergencies ORDER BY id"))


def events(kiosk, after=0):
    answer = kiosk.client.get(
        f"/api/v1/feed?after={after}&wait=0", headers=kiosk.headers(key=False)
    )
    return [(e["kind"], e["payload"]) for e in answer.json["events"]]


def broadcast_state(kiosk):
    return kiosk.client.get("/api/v1/broadcast", headers=kiosk.headers(key=False)).json


def page(staff, path):
    return staff.client.get(path).get_data(as_text=True)


# -- starting and ending --------------------------------------------------------------


def test_each_kind_comes_with_instructions_in_both_languages_to_edit(reception):
    chooser = page(reception, "/emergency/")
    for label in ("火警 · Fire alarm", "停电 · Power cut", "漏水 / 停水 · Burst pipe / water cut",
                  "紧急情况 · Emergency"):  # fmt: skip
        assert label in chooser
    form = page(reception, "/emergency/?kind=power")
    assert emergency_broadcast.KINDS["power"]["instructions_zh"] in form
    assert emergency_broadcast.KINDS["power"]["instructions_en"] in form
    assert 'name="kind" value="power"' in form
    assert "向所有终端广播 · Broadcast to every kiosk" in form


def test_starting_tells_every_paired_kiosk_and_shows_a_banner_on_every_staff_page(
    app, client, reception, kiosk, clock
):
    second = KioskCaller(client, paired_kiosk(app, name="大堂 B")[1])
    revoked_id, _ = paired_kiosk(app, name="旧终端")
    kiosks.revoke(building_db(app), clock, revoked_id, actor="test")
    response = start(
        reception, zh="  请立即疏散。\r\n\r\n  不要乘坐电梯。 ", en="Leave now.\nNo lifts."
    )
    assert response.status_code == 302
    assert "紧急广播已发出，所有终端正在全屏显示" in page(reception, "/emergency/")
    [row] = emergencies(app)
    # blank lines and spaces squeezed
    assert row["instructions_zh"] == "请立即疏散。\n不要乘坐电梯。"
    payload = {
        "emergency_id": row["id"], "kind": "fire", "title_zh": "火警", "title_en": "Fire alarm",
        "instructions_zh": "请立即疏散。\n不要乘坐电梯。", "instructions_en": "Leave now.\nNo lifts.",
        "started_at": "2026-11-27T09:00:00.000000+00:00",
    }  # fmt: skip
    for caller in (kiosk, second):
        assert events(caller) == [("emergency.started", payload)]
        assert broadcast_state(caller) == {"emergency": payload, "latest_id": row["id"]}
    db = building_db(app)
    assert (
        db.execute(
            "SELECT COUNT(*) FROM kiosk_events WHERE kiosk_id = ?", (revoked_id,)
        ).fetchone()[0]
        == 0
    )
    for path in (
        "/",
        "/visitors/",
        "/visitors/on-site",
        "/parcels/",
        "/announcements/",
        "/emergency/",
    ):
        html = page(reception, path)
        assert 'class="emergency-banner"' in html, path
        assert "紧急广播进行中 · Emergency broadcast on" in html and "火警 · Fire alarm" in html
    audit = list(db.query("SELECT * FROM audit_log WHERE action = 'emergency.start'"))
    assert (
        len(audit) == 1
        and audit[0]["actor"].startswith("staff:")
        and '"kiosks": 2' in audit[0]["detail"]
    )
    assert "emergency-banner" not in app.test_client().get("/login").get_data(as_text=True)


def test_ending_tells_every_kiosk_and_removes_the_banner(app, reception, kiosk, clock):
    start(reception)
    [row] = emergencies(app)
    clock.advance(minutes=12)
    assert reception.post(f"/emergency/{row['id']}/end", confirm="yes").status_code == 302
    [row] = emergencies(app)
    assert row["ended_at"] == "2026-11-27T09:12:00.000000+00:00" and row["ended_by"] is not None
    assert [kind for kind, _ in events(kiosk)] == ["emergency.started", "emergency.ended"]
    assert events(kiosk)[1][1] == {"emergency_id": row["id"]}
    assert broadcast_state(kiosk) == {"emergency": None, "latest_id": row["id"]}
    html = page(reception, "/emergency/")
    assert 'class="emergency-banner"' not in html
    assert (
        "最近的紧急广播" in html and "2026-11-27 17:00:00" in html and "2026-11-27 17:12:00" in html
    )
    again = reception.post(f"/emergency/{row['id']}/end", confirm="yes")
    assert again.status_code == 302
    assert "该紧急广播已结束 · This emergency broadcast has already ended." in page(
        reception, "/emergency/"
    )
    assert [kind for kind, _ in events(kiosk)] == ["emergency.started", "emergency.ended"]
    assert reception.post("/emergency/999/end", confirm="yes").status_code == 404


def test_ending_needs_the_confirmation_and_says_what_it_does(app, reception, kiosk):
    start(reception)
    [row] = emergencies(app)
    refused = reception.post(f"/emergency/{row['id']}/end")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'role="alert" id="end-emergency-error"' in page
    assert "ending it returns every kiosk to its normal screen" in page
    assert "I confirm: every kiosk takes the instructions down" in page
    [row] = emergencies(app)
    assert row["ended_at"] is None
    assert [kind for kind, _ in events(kiosk)] == ["emergency.started"]


def test_the_live_queue_rows_carry_the_emergency_while_it_lasts(app, reception, clock):
    """The queue page keeps itself fresh by re-fetching its rows when anything changes,
    so a receptionist watching it sees an emergency started at another desk."""
    assert "emergency-row" not in page(reception, "/queue/rows")
    start(reception)
    rows = page(reception, "/queue/rows")
    assert 'class="emergency-row"' in rows and "紧急广播进行中 · Emergency broadcast on" in rows
    [row] = emergencies(app)
    reception.post(f"/emergency/{row['id']}/end", confirm="yes")
    assert "emergency-row" not in page(reception, "/queue/rows")


def test_one_emergency_at_a_time(app, reception, kiosk, clock):
    start(reception)
    second = start(reception, kind="water")
    assert second.status_code == 302
    assert (
        "已有紧急广播进行中，请先结束它 · An emergency broadcast is already on; end it first."
        in page(reception, "/emergency/")
    )
    assert len(emergencies(app)) == 1 and len(events(kiosk)) == 1
    db = building_db(app)  # the database holds to it too
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO emergencies (kind, instructions_zh, instructions_en, started_at)"
            " VALUES ('other', 'x', 'y', '2026-11-27T09:00:00+00:00')"
        )


@pytest.mark.parametrize(
    ("kind", "zh", "en", "message"),
    [
        ("", FIRE["instructions_zh"], FIRE["instructions_en"], "请选择紧急类型 · Choose the kind of emergency."),
        ("flood", FIRE["instructions_zh"], FIRE["instructions_en"], "请选择紧急类型"),
        ("fire", "   ", FIRE["instructions_en"], "请填写中文说明 · Give the Chinese instructions."),
        ("fire", FIRE["instructions_zh"], "", "请填写英文说明 · Give the English instructions."),
        ("fire", "字" * 501, FIRE["instructions_en"], "中文说明最多 500 字"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_clearly_and_nothing_is_broadcast(
    app, reception, kiosk, kind, zh, en, message
):
    response = start(reception, kind=kind, zh=zh, en=en)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if en:
        assert en[:40] in html  # what was typed is still there to fix
    assert emergencies(app) == [] and events(kiosk) == []


def test_reception_and_managers_may_start_and_end_but_not_a_kiosk_or_anonymous(app, client, kiosk):
    add_staff(app, username="boss", role="manager", display_name="经理")
    manager = StaffBrowser(app.test_client())
    manager.login("boss")
    assert start(manager).status_code == 302
    [row] = emergencies(app)
    anonymous = app.test_client()
    assert anonymous.get("/emergency/").status_code == 302  # to the sign-in page
    assert anonymous.post(f"/emergency/{row['id']}/end").status_code in (400, 401)
    token_only = client.post(f"/emergency/{row['id']}/end", headers=kiosk.headers(key=False))
    assert token_only.status_code in (400, 401)
    assert emergencies(app)[0]["ended_at"] is None
    assert manager.post(f"/emergency/{row['id']}/end", confirm="yes").status_code == 302


def test_a_kiosk_long_polling_its_feed_hears_the_start_at_once(tmp_path):
    """The start wakes a long-poll already parked on the server: that poll answers with
    the event. (Had it not been woken, it would run out its 25 s and answer with the
    empty read it parked on; had it not parked first, this would prove nothing, so the
    test waits for the console to count it parked.)"""
    app = make_app(tmp_path)
    server = ConsoleServer(app).start_in_background()
    try:
        _kiosk_id, token = paired_kiosk(app)
        add_staff(app)
        reception = StaffBrowser(app.test_client())
        reception.login()
        heard = {}

        def long_poll():
            answer = requests.get(f"{server.url}/api/v1/feed", params={"after": 0, "wait": 25},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip
            heard["events"] = answer.json()["events"]

        poller = threading.Thread(target=long_poll, daemon=True)
        poller.start()
        parked = live.connections(app)
        eventually(lambda: parked.feeds == 1, message="the long-poll parked on the server")
        start(reception)
        eventually(lambda: "events" in heard, message="the parked long-poll answered")
        assert [e["kind"] for e in heard["events"]] == ["emergency.started"]
    finally:
        server.stop()


# -- roll call ----------------------------------------------------------------------------


def _visit(kiosk, reception, clock, name, unit, party, decision="confirm_id"):
    answer = kiosk.client.post(
        "/api/v1/visits",
        json={"name": name, "unit": unit, "party_size": party, "purpose": "visit",
              "language": "zh_CN", "created_at": "2026-11-27T08:59:00+00:00"},
        headers=kiosk.headers(),
    )  # fmt: skip
    assert answer.status_code == 201, answer.json
    visit_id = answer.json["id"]
    if decision == "deny":
        reception.post(f"/visitors/{visit_id}/decide", decision="deny", reason="住户不在家")
    elif decision:
        reception.post(f"/visitors/{visit_id}/decide", decision=decision)
    clock.advance(minutes=5)
    return visit_id


@pytest.fixture
def on_site(app, kiosk, reception, clock):
    """Three parties on site (6 people); one pending, one denied, one signed out."""
    _visit(kiosk, reception, clock, "张先生", "301", 2)  # confirmed 17:00
    _visit(kiosk, reception, clock, "李女士", "101", 1, decision="confirm_host")  # 17:05
    _visit(kiosk, reception, clock, "Emily Carter", "204", 3)  # 17:10
    _visit(kiosk, reception, clock, "王先生", "102", 1, decision=None)  # pending
    _visit(kiosk, reception, clock, "赵女士", "103", 1, decision="deny")
    gone = _visit(kiosk, reception, clock, "钱先生", "104", 1)
    reception.post(f"/visitors/{gone}/sign-out")


ROLL_CALL = [("101", "李女士", "1", "17:05"), ("204", "Emily Carter", "3", "17:10"),
             ("301", "张先生", "2", "17:00")]  # fmt: skip


def test_the_roll_call_lists_who_is_on_site_by_unit_one_click_from_the_emergency(
    app, reception, on_site
):
    start(reception)
    assert 'href="/emergency/roll-call"' in page(reception, "/emergency/")
    html = page(reception, "/emergency/roll-call")
    rows = re.findall(
        r'<tr data-visit-id="\d+"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>',
        html,
    )
    assert rows == ROLL_CALL
    assert "在场访客 3 组，共 6 人 · 3 parties, 6 people on site" in html
    assert "火警 · Fire alarm" in html and "测试大厦 · Test Tower" in html
    css = app.test_client().get("/static/broadcast.css")
    assert "@media print" in css.get_data(as_text=True)  # the page prints without menus
    css.close()
    actions = [r["action"] for r in building_db(app).query("SELECT action FROM audit_log")]
    assert actions.count("emergency.roll_call") == 1


def test_the_roll_call_pdf_has_the_same_list(app, reception, on_site):
    response = reception.client.get("/emergency/roll-call.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "紧急疏散点名 · Evacuation roll call" in text
    assert "在场访客 3 组，共 6 人 · 3 parties, 6 people on site" in text
    positions = [text.index(name) for _unit, name, _party, _time in ROLL_CALL]
    assert positions == sorted(positions)  # by unit, as on the page
    for unit, name, _party, arrived in ROLL_CALL:
        assert unit in text and name in text and arrived in text
    for absent in ("王先生", "赵女士", "钱先生"):
        assert absent not in text


def test_an_empty_roll_call_says_so(reception):
    assert "目前没有访客在场 · No visitors on site." in page(reception, "/emergency/roll-call")
    response = reception.client.get("/emergency/roll-call.pdf")
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "目前没有访客在场 · No visitors on site." in text


# -- the kiosk's view-model (no window) -------------------------------------------------


def _started(emergency_id, kind="fire"):
    return {"kind": "emergency.started", "payload": {
        "emergency_id": emergency_id, "kind": kind, "title_zh": "火警", "title_en": "Fire alarm",
        "instructions_zh": "快走", "instructions_en": "Leave", "started_at": "2026-11-27T09:00:00+00:00"}}  # fmt: skip


def test_the_kiosk_shows_an_emergency_from_the_feed_until_it_ends():
    vm = BroadcastViewModel(FrozenClock())
    assert vm.on_feed_event({"kind": "visit.confirmed", "payload": {}}) == NOTHING
    assert vm.on_feed_event({"kind": "announcements.changed", "payload": {}}) == ANNOUNCEMENTS
    assert vm.on_feed_event(_started(4)) == EMERGENCY and vm.in_emergency
    assert vm.emergency["instructions_en"] == "Leave"
    assert (
        vm.on_feed_event({"kind": "emergency.ended", "payload": {"emergency_id": 3}}) == EMERGENCY
    )
    assert vm.in_emergency  # an older one ended: this one is still on
    vm.on_feed_event({"kind": "emergency.ended", "payload": {"emergency_id": 4}})
    assert not vm.in_emergency
    assert vm.on_feed_event(_started(4)) == NOTHING and not vm.in_emergency  # never back


def test_a_state_answer_older_than_the_feed_is_ignored():
    vm = BroadcastViewModel(FrozenClock())
    vm.on_feed_event(_started(7))
    # asked before the start, answered after the feed's event: stale
    assert not vm.apply_state({"emergency": None, "latest_id": 6}) and vm.in_emergency
    vm.on_feed_event({"kind": "emergency.ended", "payload": {"emergency_id": 7}})
    # asked before the end: still says 7 is on; it ended, it stays ended
    assert not vm.apply_state({"emergency": _started(7)["payload"], "latest_id": 7})
    assert not vm.in_emergency
    # a fresh answer: a new emergency started while the kiosk was away
    assert vm.apply_state({"emergency": _started(8, "water")["payload"], "latest_id": 8})
    assert vm.emergency["kind"] == "water"
    # … and it ended while the kiosk was away again
    assert vm.apply_state({"emergency": None, "latest_id": 8}) and not vm.in_emergency
    assert not vm.apply_state({"emergency": "nonsense"}) and not vm.apply_state(None)


def test_an_emergency_survives_a_kiosk_restart_through_the_store():
    vm = BroadcastViewModel(FrozenClock(), token="token-a")
    vm.on_feed_event(_started(9, kind="gas-leak"))  # an unknown kind shows as "other"
    # paired again (another console, or this one set up afresh): its ids mean nothing here
    assert not BroadcastViewModel(FrozenClock(), None, vm.emergency_cache(), "token-b").in_emergency
    restarted = BroadcastViewModel(FrozenClock(), None, vm.emergency_cache(), "token-a")
    assert restarted.in_emergency and restarted.emergency["kind"] == "other"
    assert restarted.known_latest == 9
    assert not restarted.apply_state({"emergency": None, "latest_id": 8})  # stale
    assert restarted.apply_state({"emergency": None, "latest_id": 9})  # ended meanwhile
    assert not restarted.in_emergency
