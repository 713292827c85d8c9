"""The desk's invitation pages: expected today, search, invite, pass, revoke, match."""

from __future__ import annotations

import re

import pytest

from shared import invitations
from tests.helpers import add_resident, building_db


@pytest.fixture
def host(app, clock):
    return add_resident(app, unit="101", name="王建国", clock=clock)


def _invite(reception, **fields):
    data = {"unit": "101", "name": "张先生", "kind": "once", "starts_on": "2026-11-27", **fields}
    return reception.post("/invitations/new", **data)


def test_the_desk_invites_for_a_resident_and_sees_the_visitor_expected_today(reception, host):
    created = _invite(reception, note="带工具箱")
    assert created.status_code == 302
    show = reception.client.get(created.headers["Location"]).get_data(as_text=True)
    assert "张先生" in show and "通行证 <small>Pass</small>" in show
    text = re.search(r'class="pass-text" readonly value="([^"]+)"', show).group(1)
    assert text.startswith("LDI1:") and len(text) < 150
    image = reception.client.get(created.headers["Location"] + "/pass.png")
    assert image.mimetype == "image/png" and image.data[:4] == b"\x89PNG"

    today = reception.client.get("/invitations/").get_data(as_text=True)
    assert "今日预约" in today and "Expected today" in today
    assert "张先生" in today and "带工具箱" in today and "待到访 · Expected" in today


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"unit": "9999"}, "unit", "There is no such unit"),
        ({"starts_on": "2026-11-01"}, "starts_on", "cannot be before today"),
        ({"starts_on": "yesterday"}, "starts_on", "Enter a date"),
        ({"party_size": "11"}, "party_size", "1–10"),
        ({"note": "x" * 201}, "note", "at most 200"),
        ({"kind": "window", "ends_on": "2027-02-01"}, "ends_on", "at most 31 days"),
        ({"kind": "recurring", "ends_on": "2027-02-01"}, "weekdays", "at least one weekday"),
        ({"purpose": "party"}, "purpose", "Choose the purpose"),
    ],
)
def test_bad_input_is_refused_beside_its_field_in_both_languages(
    reception, host, fields, field, words
):
    answer = _invite(reception, **fields)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" role="alert" id="{field}-error">([^<]+)</p>', page)
    assert error, page
    assert words in error.group(1) and re.search(r"[\u4e00-\u9fff]", error.group(1))


def test_search_finds_by_unit_and_visitor_name(reception, host):
    _invite(reception)
    _invite(reception, name="李女士", starts_on="2026-11-29")
    by_name = reception.client.get("/invitations/?q=李").get_data(as_text=True)
    assert "李女士" in by_name.split("搜索结果")[1].split("预约访客")[0]
    assert "张先生" not in by_name.split("搜索结果")[1].split("预约访客")[0]
    by_unit = reception.client.get("/invitations/?q=101").get_data(as_text=True)
    assert "李女士" in by_unit and "张先生" in by_unit
    assert reception.client.get("/invitations/?day=nonsense").status_code == 400


def test_revoking_needs_the_tick_and_then_the_pass_stops_working(app, reception, host):
    location = _invite(reception).headers["Location"]
    invitation_id = int(location.rsplit("/", 1)[1])
    assert "取消预约" in reception.client.get(f"/invitations/{invitation_id}/revoke").get_data(
        as_text=True
    )
    refused = reception.post(f"/invitations/{invitation_id}/revoke")
    assert refused.status_code == 422
    done = reception.post(f"/invitations/{invitation_id}/revoke", confirm="yes")
    assert done.status_code == 302
    db = building_db(app)
    assert invitations.get(db, invitation_id)["status"] == "revoked"
    db.close()
    page = reception.client.get("/invitations/").get_data(as_text=True)
    assert "已取消 · Revoked" in page


def test_a_walk_in_with_a_pass_is_matched_and_signed_in(app, reception, host):
    location = _invite(reception).headers["Location"]
    show = reception.client.get(location).get_data(as_text=True)
    text = re.search(r'class="pass-text" readonly value="([^"]+)"', show).group(1)
    signed = reception.post("/invitations/match", **{"pass": text})
    assert signed.status_code == 200
    assert "已签到 · Signed in" in signed.get_data(as_text=True)
    today = reception.client.get("/invitations/").get_data(as_text=True)
    assert "已到达 · Arrived" in today
    again = reception.post("/invitations/match", **{"pass": text})
    assert again.status_code == 422
    assert "already used today" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "typed", ["", "hello", "LDI1:", "LDI1:" + "A" * 300, "LDI1:%%%", "张" * 50]
)
def test_a_pasted_pass_that_is_not_one_gets_a_clear_message_never_a_500(reception, typed):
    answer = reception.post("/invitations/match", **{"pass": typed})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "呼叫前台" in page and "call reception" in page.lower()


def test_every_page_answers_in_both_languages(reception, host):
    location = _invite(reception).headers["Location"]
    for path in ("/invitations/", "/invitations/new", location, "/invitations/match"):
        page = reception.client.get(path).get_data(as_text=True)
        title = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
        assert re.search(r"[\u4e00-\u9fff]", title) and re.search(r"[A-Za-z]", title), path
