"""Repairs and complaints on the staff console (S5, S6): the list and its filters, the
SLA clock, the desk form, the ticket page's workflow forms, the work order and the
SLA / department settings."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image
from pypdf import PdfReader

from shared import tickets
from shared.db import write_transaction
from tests import helpers
from tests.helpers import StaffBrowser, add_staff, building_db

# --- helpers that read like what people do -------------------------------------------------


def add_resident(app, unit="101", name="王建国", email="wang@example.com"):
    return helpers.add_resident(app, unit, name, email=email)


def report_at_kiosk(kiosk, **body):
    """A resident reports through the kiosk API; returns the created ticket's JSON."""
    body = {"unit": "101", "category": "water", "problem": "dripping_tap", **body}
    response = kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def record_at_desk(app, **form) -> dict:
    """A ticket recorded at the desk straight through shared.tickets (setting up data)."""
    db = building_db(app)
    with write_transaction(db):
        ticket = tickets.create_at_desk(
            db,
            app.extensions["lobbydesk.clock"],
            staff_id=1,
            form={"kind": "repair", "unit": "101", "category": "water", **form},
        )
    db.close()
    return ticket


def move(app, ticket_id, status):
    db = building_db(app)
    tickets.set_status(
        db,
        app.extensions["lobbydesk.clock"],
        ticket_id,
        staff_id=1,
        status=status,
        secret_key=app.config["SECRET_KEY"],
        public_url="http://desk.example",
    )
    db.close()


def listed(client, query="") -> list[int]:
    page = client.get("/tickets/" + (f"?{query}" if query else ""))
    assert page.status_code == 200, page.status_code
    return [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', page.get_data(as_text=True))]


def row_html(page: str, ticket_id: int) -> str:
    return re.search(rf'<tr data-ticket-id="{ticket_id}".*?</tr>', page, re.S).group(0)


def alerts(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", a) for a in re.findall(r'role="alert"[^>]*>(.*?)</p>', page, re.S)]


def field_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else ""


def textarea(page: str, name: str) -> str:
    return re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S).group(1)


def selected(page: str, select_id: str) -> str:
    block = re.search(rf'<select id="{select_id}".*?</select>', page, re.S).group(0)
    found = re.search(r'<option value="([^"]*)"\s*selected', block)
    return found.group(1) if found else ""


def timeline(page: str) -> list[tuple[str, str]]:
    """(visibility, text) of each update on the ticket page, oldest first."""
    return [
        (visibility, re.search(r'<div class="text">(.*?)</div>', block, re.S).group(1))
        for visibility, block in re.findall(r'<li class="update (\w+)(.*?)</li>', page, re.S)
    ]


def manager(app, client=None):
    add_staff(app, username="zhaomin", role="manager", display_name="赵敏")
    browser = StaffBrowser(client or app.test_client())
    assert browser.login("zhaomin").status_code == 302
    return browser


def png_base64(color=(200, 30, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# --- the list -------------------------------------------------------------------------------


def test_filters_return_exactly_the_expected_tickets(app, client, reception, kiosk, clock):
    tap = report_at_kiosk(kiosk)["id"]  # 1 water, normal, unit 101
    light = report_at_kiosk(kiosk, unit="102", category="electrical", problem="light_out")["id"]
    urgent = report_at_kiosk(kiosk, unit="201", urgency="urgent", problem="blocked_drain")["id"]
    noise = record_at_desk(app, kind="complaint", category="noise", unit="202")["id"]
    hall = record_at_desk(app, unit="", location="3 楼走廊", category="public_area")["id"]
    done = report_at_kiosk(kiosk, unit="102")["id"]
    move(app, done, "resolved")
    closed = report_at_kiosk(kiosk, unit="301", category="elevator", problem="noise")["id"]
    move(app, closed, "closed")
    clock.advance(minutes=241)  # the urgent one is past its 240 minutes, the rest are not
    assert reception.login().status_code == 302  # hours later: a new session
    newest_first = [closed, done, hall, noise, urgent, light, tap]

    assert listed(client) == newest_first
    assert listed(client, "status=open") == [hall, noise, urgent, light, tap]
    assert listed(client, "status=resolved") == [done]
    assert listed(client, "status=closed") == [closed]
    assert listed(client, "category=water") == [done, urgent, tap]
    assert listed(client, "urgency=urgent") == [urgent]
    assert listed(client, "kind=complaint") == [noise]
    assert listed(client, "kind=repair") == [closed, done, hall, urgent, light, tap]
    assert listed(client, "overdue=1") == [urgent]
    assert listed(client, "status=open&category=water&overdue=1") == [urgent]
    assert listed(client, "status=open&category=water") == [urgent, tap]
    assert listed(client, "q=102") == [done, light]
    assert listed(client, f"q={noise}") == [noise]
    assert listed(client, "q=9999") == []
    # A value no select offers is ignored rather than turned into an error page.
    assert listed(client, "status=lost&category=garden") == newest_first

    page = client.get("/tickets/?status=open&category=water").get_data(as_text=True)
    assert re.search(r'<option value="open"\s*selected', page)
    assert re.search(r'<option value="water"\s*selected', page)
    counts = client.get("/tickets/").get_data(as_text=True)
    assert "3 楼走廊" in row_html(counts, hall)
    assert "<strong>202</strong>" in row_html(counts, noise)
    assert re.search(r'id="count-open">5<', counts)
    assert re.search(r'id="count-overdue">1<', counts)


def test_overdue_rows_stand_out_with_the_due_time_in_building_time(
    app, client, reception, kiosk, clock
):
    urgent = report_at_kiosk(kiosk, urgency="urgent")["id"]  # 240 minutes from 09:00 UTC
    normal = report_at_kiosk(kiosk, unit="102")["id"]

    page = client.get("/tickets/").get_data(as_text=True)
    assert "overdue-row" not in page and "超时 · Overdue</span>" not in page
    assert "11-27 21:00" in row_html(page, urgent)  # 13:00 UTC is 21:00 in Shanghai
    detail = client.get(f"/tickets/{urgent}").get_data(as_text=True)
    assert "2026-11-27 21:00" in detail
    assert "剩余 4 小时 0 分 · 4 h 0 min left" in detail

    clock.advance(minutes=255)
    assert reception.login().status_code == 302  # hours later: a new session
    page = client.get("/tickets/").get_data(as_text=True)
    assert 'class="overdue-row' in row_html(page, urgent)
    assert "超时 · Overdue" in row_html(page, urgent)
    assert "overdue-row" not in row_html(page, normal)
    assert "超时" not in row_html(page, normal)
    detail = client.get(f"/tickets/{urgent}").get_data(as_text=True)
    assert "超时 15 分 · Overdue by 15 min" in detail
    assert 'class="card sla overdue"' in detail

    move(app, urgent, "resolved")  # resolved late: no longer overdue, but the page says late
    page = client.get("/tickets/").get_data(as_text=True)
    assert "overdue-row" not in row_html(page, urgent)
    detail = client.get(f"/tickets/{urgent}").get_data(as_text=True)
    assert "超时 15 分 完成 · Finished 15 min late" in detail


def test_fifty_per_page_newest_first_with_older_and_newer_links(app, client, reception):
    db = building_db(app)
    clock = app.extensions["lobbydesk.clock"]
    with write_transaction(db):
        for n in range(120):
            tickets.create_at_desk(
                db,
                clock,
                staff_id=1,
                form={"kind": "repair", "unit": "201" if n % 2 else "202", "category": "water"},
            )
            clock.advance(seconds=1)
    seen, url, pages = [], "/tickets/", 0
    while url:
        page = client.get(url).get_data(as_text=True)
        ids = [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', page)]
        assert len(ids) == (50 if pages < 2 else 20)
        seen += ids
        pages += 1
        if pages > 1:
            assert "较新 · Newer" in page
        older = re.search(r'href="([^"]+)">更早 · Older', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == list(range(120, 0, -1))
    filtered = client.get("/tickets/?q=201").get_data(as_text=True)
    older = re.search(r'href="([^"]+)">更早 · Older', filtered).group(1).replace("&amp;", "&")
    assert "q=201" in older and "page=2" in older
    second = [
        int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', client.get(older).data.decode())
    ]
    assert len(second) == 10 and all(i % 2 == 0 for i in second)


# --- the desk form --------------------------------------------------------------------------


def test_reception_records_a_phone_complaint_with_who_when_where(app, client, reception):
    response = reception.post(
        "/tickets/new",
        kind="complaint",
        unit="202",
        location="",
        category="noise",
        problem="noise.renovation",
        urgency="normal",
        description="楼上装修，晚上十点还在电钻",
        reporter_name="李女士",
        reporter_phone="139 0000 1111",
        incident_at="2026-11-26T22:10",
        people_involved="302 装修工人",
    )
    assert response.status_code == 302
    ticket = tickets.get(building_db(app), 1)
    assert response.headers["Location"].endswith("/tickets/1")
    assert (ticket["kind"], ticket["source"], ticket["unit_number"]) == ("complaint", "desk", "202")
    assert (ticket["category"], ticket["problem"]) == ("noise", "renovation")
    assert ticket["reporter_phone"] == "+8613900001111"
    assert ticket["incident_at"] == "2026-11-26T14:10:00.000000+00:00"  # 22:10 in Shanghai
    assert ticket["people_involved"] == "302 装修工人"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已登记工单 1 · Ticket 1 recorded." in page
    assert "装修噪音 · Renovation noise" in page
    assert "139 0000 1111" in page
    assert "李女士" in page
    assert field_value(page, "incident_at") == "2026-11-26T22:10"
    assert field_value(page, "people_involved") == "302 装修工人"


BAD_DESK_INPUT = [
    ({"unit": "999"}, "没有这个房号，请核对或呼叫前台 · There is no such unit"),
    ({"reporter_phone": "12345"}, "手机号不正确"),
    ({"problem": "electrical.light_out"}, "所选问题不属于所选类别"),
    ({"unit": "", "location": ""}, "请填写房号或地点 · Give the unit or the place."),
    ({"description": "漏水" * 251}, "最多 500 个字"),
    ({"description": "漏水\x1b[2J"}, "控制字符"),
    ({"incident_at": "昨天晚上"}, "时间格式不对"),
    ({"incident_at": "0001-01-01T00:00"}, "时间须在 2000-01-01 到明天之间"),
    ({"incident_at": "9999-12-31T23:59"}, "must be a time between 2000-01-01 and tomorrow"),
    ({"description": "漏水\u200b"}, "U+200B"),
    ({"category": "garden", "problem": ""}, "未知类别 · Unknown category"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_DESK_INPUT)
def test_bad_desk_input_shows_the_form_again_with_everything_typed(app, reception, bad, message):
    typed = {
        "kind": "repair",
        "unit": "101",
        "location": "厨房",
        "category": "water",
        "problem": "water.dripping_tap",
        "urgency": "urgent",
        "description": "厨房水龙头一直滴水",
        "reporter_name": "王先生",
        "reporter_phone": "13812345678",
        "incident_at": "2026-11-27T08:30",
        "people_involved": "",
        **bad,
    }
    response = reception.post("/tickets/new", **typed)
    page = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500
    assert any(message in a for a in alerts(page)), alerts(page)
    assert building_db(app)["tickets"].count == 0
    for name in ("unit", "location", "reporter_name", "reporter_phone", "incident_at"):
        assert field_value(page, name) == typed[name], name
    assert textarea(page, "description") == typed["description"]
    assert selected(page, "urgency") == "urgent"
    if typed["category"] in {"water", "electrical"}:
        assert selected(page, "category") == typed["category"]
    assert selected(page, "problem") == typed["problem"]
    assert re.search(r'value="repair" checked', page)


# --- the ticket page: workflow ------------------------------------------------------------


def test_a_kiosk_ticket_through_triage_assign_progress_notes_resolve_and_reopen(
    app, client, reception, kiosk, clock
):
    add_resident(app, unit="101")
    created = report_at_kiosk(kiosk, category="other", problem="other", description="卫生间有水")
    url = f"/tickets/{created['id']}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-status="new"' in page
    assert "未派单 · not assigned" in page
    assert "终端报修 · Reported at the kiosk" in page
    assert [label for label, _ in STATUS_BUTTON_RE.findall(page)] == [
        "in_progress",
        "resolved",
        "closed",
    ]

    response = reception.post(
        f"{url}/triage", category="water", problem="water.ceiling_leak", urgency="urgent"
    )
    # Back to the top of the ticket (no #fragment), told the new state in both languages.
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "天花板渗水 · Water coming through the ceiling" in page
    assert (
        '<p class="flash ok" role="status">已分类：天花板渗水，紧急 · '
        "Triaged: Water coming through the ceiling, urgent</p>" in page
    )
    assert "2026-11-27 21:00" in page  # the SLA now runs 240 minutes from received_at

    assert reception.post(f"{url}/assign", assignee="dept:maintenance").status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'data-status="assigned"' in page
    assert re.search(r'id="ticket-assignee">工程维修部 · Maintenance<', page)
    assert "已指派给 工程维修部 · Assigned to Maintenance" in page

    clock.advance(minutes=10)
    reception.post(f"{url}/status", status="in_progress", message="师傅 10 分钟后到")
    reception.post(f"{url}/note", text="业主要求先打电话 13800001111", resident_visible="")
    reception.post(f"{url}/note", text="已关闭楼上进水阀", resident_visible="1")
    page = client.get(url).get_data(as_text=True)
    assert 'data-status="in_progress"' in page
    assert "状态：处理中 · Status: in progress" in page
    trail = timeline(page)
    assert ("visible", "师傅 10 分钟后到") in trail
    assert ("internal", "业主要求先打电话 13800001111") in trail
    assert ("visible", "已关闭楼上进水阀") in trail
    internal = re.search(r'<li class="update internal kind-note.*?</li>', page, re.S).group(0)
    assert "内部 · Internal" in internal and "住户可见" not in internal
    visible = re.search(r'<li class="update visible kind-note.*?</li>', page, re.S).group(0)
    assert "住户可见 · Resident-visible" in visible

    # The resident's view (kiosk lookup) has the latest visible update, never the internal one.
    summary = kiosk.client.post(
        "/api/v1/tickets/lookup",
        json={"number": created["number"], "unit": "101"},
        headers=kiosk.headers(False),
    ).get_json()
    assert summary["status"] == "in_progress"
    assert summary["latest_update"]["text"] == "已关闭楼上进水阀"
    assert "13800001111" not in json.dumps(summary, ensure_ascii=False)

    reception.post(f"{url}/status", status="resolved", message="已更换水管接头")
    page = client.get(url).get_data(as_text=True)
    assert 'data-status="resolved"' in page
    assert "按时完成 · Finished in time" in page
    assert [label for label, _ in STATUS_BUTTON_RE.findall(page)] == ["closed", "reopen"]
    messages = [
        r["body"] for r in building_db(app).query("SELECT body FROM notifications ORDER BY id")
    ]
    assert any("/rate/" in body for body in messages)  # the resident is asked to rate
    assert not any("13800001111" in body for body in messages)

    reception.post(f"{url}/status", status="reopen")
    page = client.get(url).get_data(as_text=True)
    assert 'data-status="assigned"' in page and "重开 ×1" in page
    assert "已重新打开，状态：已派工 · Reopened; status: assigned" in page


STATUS_BUTTON_RE = re.compile(r'<button type="submit" name="status" value="(\w+)"[^>]*>([^<]*)<')


@pytest.mark.parametrize(
    ("status", "source", "updates", "expected"),
    [
        ("new", "kiosk", [], "triage"),  # the resident's category is a guess until triaged
        ("new", "kiosk", [{"kind": "created"}, {"kind": "triage"}], "assign"),
        ("new", "desk", [], "assign"),  # staff sorted it as they typed it in
        ("assigned", "kiosk", [], "in_progress"),
        ("in_progress", "desk", [], "resolved"),
        ("resolved", "kiosk", [], "closed"),
        ("closed", "kiosk", [], None),
    ],
)
def test_the_next_action_follows_the_work(status, source, updates, expected):
    ticket = {"status": status, "source": source}
    assert tickets.next_action(ticket, updates) == expected


PRIMARY_RE = re.compile(r'<button type="submit"[^>]*class="primary"[^>]*>([^<]*)<')


def test_the_ticket_page_offers_one_primary_button_the_next_step(app, client, reception, kiosk):
    created = report_at_kiosk(kiosk)
    url = f"/tickets/{created['id']}"

    def primaries() -> list[str]:
        return PRIMARY_RE.findall(client.get(url).get_data(as_text=True))

    assert primaries() == ["保存分类 · Save triage"]
    reception.post(
        f"{url}/triage", category="water", problem="water.dripping_tap", urgency="normal"
    )
    assert primaries() == ["派单 · Assign"]
    reception.post(f"{url}/assign", assignee="dept:maintenance")
    assert primaries() == ["开始处理 · Start work"]
    reception.post(f"{url}/status", status="in_progress")
    assert primaries() == ["已解决 · Resolved"]
    reception.post(f"{url}/status", status="resolved")
    assert primaries() == ["关闭 · Close"]
    reception.post(f"{url}/status", status="closed")
    assert primaries() == []
    page = client.get(url).get_data(as_text=True)
    # The forms come in the order of the work.
    order = [page.index(f'id="{form}"') for form in ("triage", "assign", "status", "note")]
    assert order == sorted(order)


def test_the_list_links_each_tickets_summary_not_only_its_number(app, client, reception, kiosk):
    created = report_at_kiosk(kiosk)
    row = row_html(client.get("/tickets/").get_data(as_text=True), created["id"])
    summary = re.search(r'<td class="summary"><a href="([^"]+)">(.*?)</a></td>', row, re.S)
    assert summary and summary.group(1) == f"/tickets/{created['id']}"
    assert "水龙头漏水" in summary.group(2) and "Dripping tap" in summary.group(2)


def test_a_step_the_status_does_not_allow_is_refused_and_the_message_kept(
    app, client, reception, kiosk
):
    ticket = report_at_kiosk(kiosk)
    move(app, ticket["id"], "closed")
    response = reception.post(
        f"/tickets/{ticket['id']}/status", status="in_progress", message="师傅马上到"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert any("cannot go to in progress" in a for a in alerts(page))
    assert textarea(page, "message") == "师傅马上到"
    assert tickets.get(building_db(app), ticket["id"])["status"] == "closed"


@pytest.mark.parametrize(
    ("form", "data", "kept"),
    [
        ("note", {"text": "", "resident_visible": "1"}, ("resident_visible", "checked")),
        ("note", {"text": "坏了\x07", "resident_visible": ""}, ("text", "坏了\x07")),
        ("assign", {"assignee": ""}, None),
        ("assign", {"assignee": "dept:gardening"}, ("assignee", "dept:gardening")),
        ("triage", {"category": "electrical", "problem": "water.toilet", "urgency": "urgent"},
         ("problem", "water.toilet")),
    ],
)  # fmt: skip
def test_bad_input_on_the_ticket_page_shows_the_error_beside_its_form(
    app, client, reception, kiosk, form, data, kept
):
    ticket = report_at_kiosk(kiosk)
    before = list(building_db(app).query("SELECT * FROM ticket_updates"))
    response = reception.post(f"/tickets/{ticket['id']}/{form}", **data)
    page = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500
    section = re.search(rf'<form class="card" id="{form}".*?</form>', page, re.S).group(0)
    assert 'role="alert"' in section
    if kept and kept[0] == "resident_visible":
        assert re.search(r'name="resident_visible" value="1" checked', section)
    elif kept and kept[0] == "text":
        assert textarea(section, "text") == kept[1]
    elif kept and kept[0] == "problem":
        assert selected(section, "t-problem") == "water.toilet"
        assert selected(section, "t-category") == "electrical"
    assert list(building_db(app).query("SELECT * FROM ticket_updates")) == before


def test_the_complaint_record_is_saved_and_shown(app, client, reception):
    ticket = record_at_desk(app, kind="complaint", category="noise", problem="pets", unit="303")
    url = f"/tickets/{ticket['id']}"
    page = client.get(url).get_data(as_text=True)
    assert "投诉记录 <small>Complaint record</small>" in page
    response = reception.post(
        f"{url}/complaint",
        incident_at="2026-11-27T07:45",
        location="3 号楼大堂",
        people_involved="303 住户，遛狗未牵绳",
        forwarded_to="秩序维护部 · Security",
        resident_told="今天下午五点前回复处理结果",
    )
    assert response.status_code == 302
    saved = tickets.get(building_db(app), ticket["id"])
    assert saved["incident_at"] == "2026-11-26T23:45:00.000000+00:00"
    assert saved["location"] == "3 号楼大堂"
    assert saved["people_involved"] == "303 住户，遛狗未牵绳"
    assert saved["forwarded_to"] == "秩序维护部 · Security"
    assert saved["resident_told"] == "今天下午五点前回复处理结果"
    page = client.get(url).get_data(as_text=True)
    assert field_value(page, "incident_at") == "2026-11-27T07:45"
    assert "转交 Forwarded to: 秩序维护部 · Security" in page
    assert "投诉记录已保存 · Complaint record saved." in page
    place = re.search(r'id="ticket-place">(.*?)</dd>', page).group(1)
    assert place == "<strong>303</strong> · 3 号楼大堂"
    # A repair has no complaint form.
    repair = record_at_desk(app)
    assert 'id="complaint"' not in client.get(f"/tickets/{repair['id']}").get_data(as_text=True)


def test_a_complaint_time_out_of_range_is_refused_beside_its_form(app, client, reception):
    ticket = record_at_desk(app, kind="complaint", category="noise", unit="303")
    response = reception.post(
        f"/tickets/{ticket['id']}/complaint", incident_at="9999-12-31T23:59", location="大堂"
    )
    assert response.status_code == 400
    section = re.search(r'<form class="card" id="complaint".*?</form>', response.text, re.S)
    assert "2000-01-01" in section.group(0) and 'role="alert"' in section.group(0)
    assert tickets.get(building_db(app), ticket["id"])["incident_at"] is None


@pytest.mark.parametrize(
    ("column", "stored", "shown"),
    [
        # past the year 9999 in Shanghai: shown as stored
        ("incident_at", "9999-12-31T23:59:00.000000+00:00", "9999-12-31T23:59:00"),
        ("incident_at", "not a time", "not a time"),
        ("sla_due_at", "0001-01-01T00:00:00+00:00", "01-01 08:05"),  # local mean time
        ("sla_due_at", "soon", "soon"),
        ("resolved_at", "garbage", "投诉"),
    ],
)
def test_no_stored_time_takes_a_ticket_page_down(app, client, reception, column, stored, shown):
    """Times stored before they were checked (or by hand) are shown as stored."""
    ticket = record_at_desk(app, kind="complaint", category="noise", unit="303")
    db = building_db(app)
    db.execute(f"UPDATE tickets SET {column} = ? WHERE id = ?", (stored, ticket["id"]))
    db.execute("UPDATE tickets SET status = 'resolved' WHERE id = ?", (ticket["id"],))
    db.close()
    url = f"/tickets/{ticket['id']}"
    page = client.get(url)
    assert page.status_code == 200
    assert shown in page.text
    assert client.get(f"{url}/work-order.pdf").status_code == 200
    assert client.get("/tickets/?status=resolved").status_code == 200


# --- photo and work order ---------------------------------------------------------------------


def test_the_photo_is_shown_to_staff_only_as_a_jpeg_with_nosniff(app, client, reception, kiosk):
    with_photo = report_at_kiosk(kiosk, photo=png_base64())["id"]
    without = report_at_kiosk(kiosk)["id"]
    page = client.get(f"/tickets/{with_photo}").get_data(as_text=True)
    assert f'<img src="/tickets/{with_photo}/photo"' in page
    photo = client.get(f"/tickets/{with_photo}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.headers["Cache-Control"] == "no-store"
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"
    assert (
        "<img"
        not in client.get(f"/tickets/{without}")
        .get_data(as_text=True)
        .split('id="details"')[1]
        .split("</div>")[0]
    )
    assert client.get(f"/tickets/{without}/photo").status_code == 404
    anonymous = app.test_client().get(f"/tickets/{with_photo}/photo")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_work_order_pdf_has_what_the_worker_needs(app, client, reception):
    ticket = record_at_desk(
        app,
        unit="203",
        location="厨房",
        category="water",
        problem="blocked_drain",
        urgency="urgent",
        description="厨房下水道堵了，水退不下去",
        reporter_name="陈先生",
        reporter_phone="13612345678",
    )
    url = f"/tickets/{ticket['id']}"
    reception.post(f"{url}/assign", assignee="dept:maintenance")
    reception.post(f"{url}/note", text="师傅下午两点上门", resident_visible="1")
    reception.post(f"{url}/note", text="住户脾气不好，注意沟通", resident_visible="")
    page = client.get(url).get_data(as_text=True)
    assert f'href="{url}/work-order.pdf"' in page

    response = client.get(f"{url}/work-order.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in (
        "派工单 · WORK ORDER",
        f"No. {ticket['number']}",
        "203 · 厨房",
        "水管/漏水 Water & plumbing / 下水道堵塞 Blocked drain",
        "紧急 · Urgent",
        "2026-11-27 21:00",  # due by, building time
        "厨房下水道堵了，水退不下去",
        "陈先生 136 1234 5678",
        "工程维修部 · Maintenance",
        "师傅下午两点上门",
        "维修人员 Worker",
        "住户签字 Resident",
    ):
        assert expected in text, expected
    assert "住户脾气不好" not in text  # internal notes stay on the console


# --- the live queue ---------------------------------------------------------------------------


def test_an_emergency_in_the_live_queue_names_its_ticket_and_links_to_it(
    app, client, reception, kiosk
):
    ticket = report_at_kiosk(kiosk, unit="302", category="electrical", problem="smoke")
    queue = client.get("/").get_data(as_text=True)
    row = re.search(
        r'<tr id="item-escalation-\d+" class="item [^"]*" data-id="\d+".*?</tr>', queue, re.S
    ).group(0)
    assert "危急情况 · Emergency" in row
    assert f'href="/tickets/{ticket["id"]}"' in row
    assert "电器冒烟/起火 · Smoke or fire from wiring" in row
    assert "<strong>302</strong>" in row


# --- settings ---------------------------------------------------------------------------------


def settings_form(**changes) -> dict:
    form = {
        "sla_emergency": "15",
        "sla_urgent": "240",
        "sla_normal": "4320",
        "contact_0_key": "maintenance",
        "contact_0_zh": "工程维修部",
        "contact_0_en": "Maintenance",
        "contact_0_url": "",
        "contact_1_key": "cleaning",
        "contact_1_zh": "保洁部",
        "contact_1_en": "Cleaning",
        "contact_1_url": "",
    }
    form.update(changes)
    return form


def stored_settings(app) -> dict:
    row = building_db(app).execute("SELECT settings FROM buildings").fetchone()[0]
    return json.loads(row)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sla_urgent": "four hours"}, "whole number of minutes"),
        ({"sla_emergency": "0"}, "whole number of minutes"),
        ({"sla_normal": "200000"}, "whole number of minutes"),
        ({"sla_emergency": "300"}, "emergency ≤ urgent ≤ normal"),
        ({"contact_1_key": "Clean Team"}, "lower-case letters"),
        ({"contact_1_key": "maintenance"}, "used twice"),
        ({"contact_1_zh": ""}, "Chinese name"),
        ({"contact_1_url": "not a url at all"}, "notify URL"),
        ({"contact_1_url": "mailto://a@example.com\nBcc: x"}, "line breaks"),
        ({"contact_0_remove": "1", "contact_1_remove": "1"}, "at least one department"),
    ],
)
def test_settings_refuse_bad_input_and_keep_what_was_typed(app, changes, message):
    boss = manager(app)
    before = stored_settings(app)
    response = boss.post("/tickets/settings", **settings_form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in a for a in alerts(page)), alerts(page)
    assert stored_settings(app) == before
    for name, value in settings_form(**changes).items():
        if name.endswith(("_remove", "_url")):
            continue
        assert field_value(page, name) == value, name


def test_a_manager_sets_the_times_and_departments_and_new_tickets_follow(app, client, kiosk):
    boss = manager(app, client)
    page = client.get("/tickets/settings").get_data(as_text=True)
    assert field_value(page, "sla_urgent") == "240"
    assert field_value(page, "contact_3_key") == "customer_service"
    assert "时限与部门 · Times and departments" in client.get("/tickets/").get_data(as_text=True)

    response = boss.post(
        "/tickets/settings",
        **settings_form(
            sla_urgent="120",
            contact_1_url="mailto://desk:s3cret@mail.example.com?to=clean@example.com",
            contact_2_key="landscaping",
            contact_2_zh="绿化部",
            contact_2_en="Landscaping",
        ),
    )
    assert response.status_code == 302
    settings = stored_settings(app)
    assert settings["ticket_sla_minutes"] == {"emergency": 15, "urgent": 120, "normal": 4320}
    assert [c["key"] for c in settings["ticket_contacts"]] == [
        "maintenance",
        "cleaning",
        "landscaping",
    ]
    assert settings["ticket_contacts"][1]["notify_url"].startswith("mailto://desk:s3cret@")
    [audit] = building_db(app).query("SELECT * FROM audit_log WHERE action = 'settings.change'")
    assert audit["actor"] == "staff:1" and audit["target"] == "building:1"
    assert "s3cret" not in audit["detail"]  # the URL's secret is not copied into the audit log

    page = client.get("/tickets/settings").get_data(as_text=True)
    assert "s3cret" not in page and "已设置 mailto://… · set" in page
    # Saving again without retyping the URL keeps it; "clear URL" removes it.
    boss.post("/tickets/settings", **settings_form(sla_urgent="120"))
    assert stored_settings(app)["ticket_contacts"][1]["notify_url"].startswith("mailto://desk")
    boss.post("/tickets/settings", **settings_form(sla_urgent="120", contact_1_clear_url="1"))
    assert stored_settings(app)["ticket_contacts"][1]["notify_url"] == ""

    ticket = report_at_kiosk(kiosk, urgency="urgent")
    assert ticket["sla_due_at"] == "2026-11-27T11:00:00.000000+00:00"  # 120 minutes
    assign_page = client.get(f"/tickets/{ticket['id']}").get_data(as_text=True)
    assert "保洁部 · Cleaning" in assign_page and "秩序维护部" not in assign_page


def test_a_department_with_open_tickets_cannot_be_removed(app, client, kiosk):
    boss = manager(app, client)
    ticket = report_at_kiosk(kiosk)
    boss.post(f"/tickets/{ticket['id']}/assign", assignee="dept:cleaning")
    response = boss.post("/tickets/settings", **settings_form(contact_1_remove="1"))
    assert response.status_code == 422
    assert any("保洁部 还有 1 张未完成工单" in a for a in alerts(response.get_data(as_text=True)))
    move(app, ticket["id"], "resolved")
    assert boss.post("/tickets/settings", **settings_form(contact_1_remove="1")).status_code == 302
    assert [c["key"] for c in stored_settings(app)["ticket_contacts"]] == ["maintenance"]


def test_reception_cannot_open_or_change_the_ticket_settings(app, client, reception):
    assert client.get("/tickets/settings").status_code == 403
    before = stored_settings(app)
    assert reception.post("/tickets/settings", **settings_form(sla_urgent="1")).status_code == 403
    assert stored_settings(app) == before
    assert "时限与部门" not in client.get("/tickets/").get_data(as_text=True)


# --- who may use the pages ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/tickets/", "/tickets/new", "/tickets/1", "/tickets/settings"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["reception", "manager", "admin"])
def test_staff_roles_may_record_and_work_tickets(app, client, role):
    add_staff(app, username=f"user_{role}", role=role)
    browser = StaffBrowser(client)
    assert browser.login(username=f"user_{role}").status_code == 302
    response = browser.post(
        "/tickets/new", kind="repair", unit="101", category="water", reporter_phone="13812345678"
    )
    assert response.status_code == 302
    page = client.get("/tickets/1").get_data(as_text=True)
    assert re.search(r'id="ticket-reporter">\s*138 1234 5678</dd>', page)  # no name: no "None"
    for path in ("/tickets/", "/tickets/new", "/tickets/1", "/tickets/1/work-order.pdf"):
        assert client.get(path).status_code == 200, path
    assert browser.post("/tickets/1/status", status="in_progress").status_code == 302
    assert client.get("/tickets/settings").status_code == (403 if role == "reception" else 200)


def test_ticket_posts_need_the_csrf_token(app, client, reception):
    response = client.post("/tickets/new", data={"unit": "101", "category": "water"})
    assert response.status_code == 400
    assert building_db(app)["tickets"].count == 0
