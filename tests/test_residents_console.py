"""Residents and units on the console: reception finds people, managers keep the roster
(units, residents, move-in and move-out, instructions), and the live queue shows it."""

from __future__ import annotations

import re

import pytest

from shared import residents, units
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db
from tests.test_visitors import register

CONSENT = "2026-01-01T00:00:00.000000+00:00"


@pytest.fixture
def manager(app):
    add_staff(app, username="limanager", role="manager", display_name="李经理")
    browser = StaffBrowser(app.test_client())
    assert browser.login("limanager").status_code == 302
    return browser


@pytest.fixture
def db(app):
    database = building_db(app)
    yield database
    database.close()


def page(response) -> str:
    return response.get_data(as_text=True)


def unit_id(db, label: str) -> int:
    return db.execute("SELECT id FROM units WHERE number = ?", (label,)).fetchone()[0]


def field_error(html: str, field: str) -> str:
    """The error shown right under a field (empty when there is none)."""
    found = re.search(rf'<p class="field-error" id="error-{field}"[^>]*>(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def input_value(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else ""


def audit_actions(db) -> set[str]:
    return {row["action"] for row in db.query("SELECT action FROM audit_log")}


# --- reception reads -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["wjg", "WJG", "5678", "13912345678", "101", "王建国", "建国"])
def test_reception_finds_a_resident_by_initials_phone_digits_unit_or_name(app, reception, typed):
    add_resident(app, "101", "王建国", phone="13912345678")
    html = page(reception.client.get("/residents/", query_string={"q": typed}))
    assert "王建国" in html and "139 1234 5678" in html
    assert 'href="/residents/units/1"' in html  # the unit links to its page
    assert "业主 · Owner" in html and "邮件 · E-mail" in html


def test_the_empty_directory_explains_itself_and_counts_the_building(app, reception):
    add_resident(app, "101", "王建国")
    html = page(reception.client.get("/residents/"))
    assert "pinyin initials" in html and "拼音首字母" in html
    assert re.search(r"<strong>12</strong> 个在用房号 · units in use", html)
    assert re.search(r"<strong>1</strong> 位现住户", html)
    assert 'href="/residents/units"' in html


def test_moved_out_residents_show_only_when_asked_and_are_marked(app, reception, db, clock):
    resident_id = add_resident(app, "101", "王建国")
    residents.move_out(db, clock, [resident_id], actor="test")
    html = page(reception.client.get("/residents/?q=wjg"))
    assert "王建国" not in html and "Look among moved-out residents" in html
    html = page(reception.client.get("/residents/?q=wjg&moved_out=1"))
    assert f'data-resident-id="{resident_id}"' in html and "已迁出 · Moved out 2026-11-27" in html


def test_reception_reads_units_and_unit_pages_but_cannot_change_them(app, reception, db):
    resident_id = add_resident(app, "101", "王建国")
    assert "门牌码 · Keypad" in page(reception.client.get("/residents/units"))
    html = page(reception.client.get("/residents/units/1"))
    assert "王建国" in html and "通知记录 · Messages" in html
    assert "编辑 · Edit" not in html and "迁出 · Move out" not in html
    for path in (
        "/residents/units/new",
        "/residents/units/1/edit",
        f"/residents/{resident_id}/edit",
    ):
        assert reception.client.get(path).status_code == 403, path
    assert reception.post("/residents/units/new", room="105").status_code == 403
    assert reception.post(f"/residents/{resident_id}/move-out").status_code == 403
    assert (
        reception.post("/residents/units/1/instructions", kind="note", text="x").status_code == 403
    )
    assert residents.active_of(db, 1)[0]["id"] == resident_id


# --- managers keep the units -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keypad", "message"),
    [("12a", "Keypad code: 1–8 digits"), ("101", "Keypad code 101 already belongs to 101")],
)
def test_a_wrong_keypad_code_is_shown_beside_the_field_with_what_was_typed(
    manager, db, keypad, message
):
    response = manager.post(
        "/residents/units/new", tower="3", entrance="1", room="1201", keypad=keypad
    )
    html = page(response)
    assert response.status_code == 422
    assert message in field_error(html, "keypad") and "门牌码" in field_error(html, "keypad")
    assert input_value(html, "keypad") == keypad and input_value(html, "room") == "1201"
    assert input_value(html, "tower") == "3"
    assert db.execute("SELECT count(*) FROM units WHERE number = '3-1-1201'").fetchone()[0] == 0


def test_a_manager_adds_a_unit_and_sees_its_composed_label_and_keypad(manager, db):
    response = manager.post(
        "/residents/units/new", tower="3", entrance="1", room="1201", kind="home"
    )
    assert response.status_code == 302
    html = page(manager.client.get(response.headers["Location"]))
    assert "3-1-1201" in html and "<strong>311201</strong>" in html and "12 层 · Floor 12" in html
    assert "unit.add" in audit_actions(db)


def test_a_renamed_unit_keeps_its_visits(app, kiosk, manager, db):
    register(kiosk, unit="101", name="赵访客")
    response = manager.post(
        "/residents/units/1/edit", number="A座101", room="101", keypad="101", kind="home"
    )
    assert response.status_code == 302
    html = page(manager.client.get("/residents/units/1"))
    assert "已改名 · Renamed: 101 → A座101" in html
    assert "<h1>A座101" in html and "赵访客" in html
    assert units.get(db, 1)["number"] == "A座101"
    assert "unit.update" in audit_actions(db)


def test_a_merged_units_history_and_people_show_on_the_target(app, kiosk, reception, manager, db):
    add_resident(app, "102", "刘小红")
    visit_id = register(kiosk, unit="102", name="孙访客").json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    refused = manager.post("/residents/units/2/merge", target="101")  # no confirmation ticked
    assert refused.status_code == 422 and units.get(db, 2)["merged_into"] is None
    assert "Tick the confirmation first" in field_error(page(refused), "confirm_merge")
    assert 'value="101"' in page(refused)
    response = manager.post("/residents/units/2/merge", target="101", confirm="1")
    assert response.headers["Location"].endswith("/residents/units/1")
    html = page(manager.client.get("/residents/units/1"))
    assert "孙访客" in html and "(102)" in html and "刘小红" in html
    assert "已合并 · Merged: 102 → 101" in html
    assert "并入 · Merged on" in page(manager.client.get("/residents/units/2"))
    assert "unit.merge" in audit_actions(db)


def test_retiring_is_refused_while_people_live_there(app, manager, db):
    add_resident(app, "103", "陈大文")
    response = manager.post("/residents/units/3/retire", confirm="1")
    assert response.status_code == 422
    beside = field_error(page(response), "confirm_retire")
    assert "Move its residents out first" in beside and "请先办理住户迁出" in beside
    assert units.get(db, 3)["retired_at"] is None
    manager.post("/residents/units/4/retire")  # the box not ticked: nothing happens
    assert units.get(db, 4)["retired_at"] is None
    assert manager.post("/residents/units/4/retire", confirm="1").status_code == 302
    assert units.get(db, 4)["retired_at"] is not None
    assert "已停用" in page(manager.client.get("/residents/units?retired=1"))
    assert "unit.retire" in audit_actions(db)


# --- managers keep the residents ---------------------------------------------------------------


def test_a_landline_is_refused_beside_the_phone_field_and_nothing_typed_is_lost(manager, db):
    response = manager.post(
        "/residents/units/1/residents/new",
        name="王建国",
        role="tenant",
        phone="021-5555 0100",
        email="wang@example.com",
        language="zh_CN",
        channel_1_kind="email",
        channel_1_address="wang@example.com",
        channel_1_consent="1",
    )
    html = page(response)
    assert response.status_code == 422
    assert "landline cannot receive messages" in field_error(html, "phone")
    assert "固定电话" in field_error(html, "phone")
    assert input_value(html, "phone") == "021-5555 0100" and input_value(html, "name") == "王建国"
    assert input_value(html, "channel_1_address") == "wang@example.com"
    assert re.search(r'<option value="tenant" selected>', html)
    assert residents.active_of(db, 1) == []


def test_a_channel_without_the_residents_consent_is_refused(manager, db):
    response = manager.post(
        "/residents/units/1/residents/new",
        name="王建国",
        channel_2_kind="email",
        channel_2_address="wang@example.com",  # row 2, box not ticked
    )
    assert response.status_code == 422
    assert "must agree before being contacted" in field_error(page(response), "channel_2")
    assert residents.active_of(db, 1) == []


def test_consent_is_dated_when_given_and_kept_when_the_channel_is_unchanged(manager, db, clock):
    manager.post(
        "/residents/units/1/residents/new",
        name="王建国",
        phone="13912345678",
        channel_1_kind="email",
        channel_1_address="wang@example.com",
        channel_1_consent="1",
    )
    [resident] = residents.active_of(db, 1)
    [channel] = residents.channels_of(db, resident["id"])
    assert channel["consent_at"] == "2026-11-27T09:00:00.000000+00:00"
    clock.advance(minutes=20)
    edit = page(manager.client.get(f"/residents/{resident['id']}/edit"))
    assert input_value(edit, "channel_1_address") == "wang@example.com"
    response = manager.post(
        f"/residents/{resident['id']}/edit",
        name="王建国",
        phone="13912345678",
        channel_1_kind="email",
        channel_1_address="wang@example.com",
        channel_1_consent="1",
        channel_2_kind="email",
        channel_2_address="wang.work@example.com",
        channel_2_consent="1",
    )
    assert response.status_code == 302
    first, second = residents.channels_of(db, resident["id"])
    assert first["consent_at"] == "2026-11-27T09:00:00.000000+00:00"
    assert second["consent_at"] == "2026-11-27T09:20:00.000000+00:00"
    html = page(manager.client.get("/residents/units/1"))
    assert "同意于 · agreed 2026-11-27 17:00" in html  # building time (Asia/Shanghai)
    assert {"resident.create", "resident.update"} <= audit_actions(db)


def test_bad_input_anywhere_is_answered_without_a_server_error(manager, db):
    add_resident(manager.client.application, "101", "王建国")
    for path, data in [
        ("/residents/units/1/residents/new", {"name": "x" * 300, "moved_in_on": "soon"}),
        ("/residents/units/1/residents/new", {"name": "A", "role": "king", "language": "fr"}),
        (
            "/residents/units/1/residents/new",
            {"name": "A", "channel_1_kind": "sms", "channel_1_address": "x"},
        ),
        ("/residents/units/new", {"floor": "high", "room": "9"}),
        ("/residents/units/1/edit", {"number": "\u202e101"}),
        ("/residents/units/1/merge", {"target": "", "confirm": "1"}),
        ("/residents/units/1/merge", {"target": "101", "confirm": "1"}),
        ("/residents/units/1/instructions", {"kind": "curse", "text": "x"}),
        ("/residents/units/1/instructions", {"kind": "note", "text": ""}),
        ("/residents/units/1/proxies", {"name": "", "phone": "1"}),
        ("/residents/1/move-out", {"on": "2099-01-01"}),
        ("/residents/units/1/move-in", {"on": "yesterday", "p1_name": "A"}),
        ("/residents/units/1/move-in", {}),
    ]:
        status = manager.post(path, **data).status_code
        assert status in (302, 409, 422), (path, data, status)
    assert len(residents.active_of(db, 1)) == 1


def test_a_resident_is_moved_out_on_the_day_given_never_a_future_one(app, manager, db):
    resident_id = add_resident(app, "101", "王建国")
    manager.post(f"/residents/{resident_id}/move-out", on="2026-12-24")
    html = page(manager.client.get("/residents/units/1"))
    assert (
        "cannot be after today" in html and residents.get(db, resident_id)["moved_out_on"] is None
    )
    response = manager.post(f"/residents/{resident_id}/move-out", on="2026-11-27")
    assert response.status_code == 302
    html = page(manager.client.get("/residents/units/1"))
    assert "已迁出 · Moved out: 王建国" in html
    assert re.search(r'<tr class="moved-out"[^>]*><td>王建国.*?<td>2026-11-27</td></tr>', html)
    assert residents.get(db, resident_id)["moved_out_on"] == "2026-11-27"
    assert "resident.move_out" in audit_actions(db)


def test_a_move_in_with_a_wrong_row_shows_every_error_and_moves_no_one(app, manager, db):
    add_resident(app, "101", "王建国")
    response = manager.post(
        "/residents/units/1/move-in",
        replace="1",
        p1_name="李四",
        p1_phone="13700001111",
        p2_name="李小四",
        p2_phone="021-5555 0100",
        p3_name="李三",
        p3_email="not-an-email",
        p4_email="li4@example.com",  # no name
    )
    html = page(response)
    assert response.status_code == 422
    assert "第 2 行 · Row 2" in html and "landline" in html
    assert "第 3 行 · Row 3" in html and "not a valid e-mail" in html
    assert "第 4 行 · Row 4" in html and "Enter a name" in html
    assert "第 1 行" not in html
    assert 'value="李四"' in html and 'value="021-5555 0100"' in html
    assert [r["name"] for r in residents.active_of(db, 1)] == ["王建国"]


def test_a_move_in_replaces_the_hosts_on_the_next_visitors_queue_row(
    app, client, kiosk, reception, manager, db
):
    add_resident(app, "101", "王建国", phone="13800138001")
    response = manager.post(
        "/residents/units/1/move-in",
        replace="1",
        p1_name="李四",
        p1_role="tenant",
        p1_phone="13700001111",
        p1_email="li@example.com",
        p1_consent="1",
        p2_name="李小四",
        p2_role="household",
    )
    assert response.status_code == 302
    register(kiosk, unit="101")
    rows = page(client.get("/queue/rows"))
    assert "李四 137 0000 1111" in rows and "李小四" in rows
    assert "王建国" not in rows and "138 0013 8001" not in rows
    [li, _child] = residents.active_of(db, 1)
    assert residents.channels_of(db, li["id"])[0]["address"] == "li@example.com"
    assert {"unit.move_in", "resident.move_out"} <= audit_actions(db)


def test_a_do_not_admit_instruction_shows_on_the_queue_row(
    app, client, kiosk, reception, manager, db
):
    response = manager.post("/residents/units/1/instructions", kind="do_not_admit", text="前夫张某")
    assert response.status_code == 302
    manager.post("/residents/units/1/instructions", kind="parcels", text="放门卫室")
    register(kiosk, unit="101")
    rows = page(client.get("/queue/rows"))
    assert "禁止放行 · Do not admit: 前夫张某" in rows
    assert "包裹代收 · Parcels: 放门卫室" in rows
    unit_html = page(reception.client.get("/residents/units/1"))
    assert 'class="instruction do_not_admit"' in unit_html and "前夫张某" in unit_html
    [instruction, _parcels] = residents.instructions_of(db, 1)
    manager.post(f"/residents/units/1/instructions/{instruction['id']}/remove", confirm="yes")
    assert "前夫张某" not in page(client.get("/queue/rows"))
    assert {"unit.instruction_add", "unit_instructions.remove"} <= audit_actions(db)


def test_parcel_proxies_are_added_with_errors_beside_the_field_and_removed(manager, db):
    response = manager.post("/residents/units/1/proxies", name="李阿姨", phone="12345")
    html = page(response)
    assert response.status_code == 422 and "not a valid mobile" in field_error(html, "proxy_phone")
    assert 'value="李阿姨"' in html
    manager.post("/residents/units/1/proxies", name="李阿姨", phone="13700002222", note="保姆")
    assert "李阿姨" in page(manager.client.get("/residents/units/1"))
    [proxy] = residents.proxies_of(db, 1)
    manager.post(f"/residents/units/1/proxies/{proxy['id']}/remove", confirm="yes")
    assert residents.proxies_of(db, 1) == []
    assert {"unit.proxy_add", "parcel_proxies.remove"} <= audit_actions(db)


# --- a damaged row never takes a page down ------------------------------------------------------


def test_a_corrupt_stored_phone_shows_as_a_dash_on_the_queue_and_the_directory(
    app, client, kiosk, reception, db
):
    resident_id = add_resident(app, "101", "王建国", phone="13800138001")
    register(kiosk, unit="101")
    db.execute("UPDATE residents SET phone = 'garbage!' WHERE id = ?", (resident_id,))
    for path in ("/", "/queue/rows", "/residents/?q=101", "/residents/units/1"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = page(response)
        assert "王建国" in html and "—" in html and "garbage!" not in html, path
    assert re.search(r'<td class="phone">—', page(client.get("/residents/?q=wjg")))
