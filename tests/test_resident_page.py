"""The resident's own page, /me/<token>, through the test client as a resident's phone
would use it: Chinese first with an English switch, parcels (masked), who may collect
them, tickets with a rating link, contact channels and consent; bad input comes back
beside its field, and a link that does not work gets a page saying what to do."""

from __future__ import annotations

import json
import logging
import re

import pytest

from shared import parcels, resident_links, residents, tickets
from tests.helpers import add_resident, add_staff, building_db

SECRET = "test-" + "x" * 40
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def staff_id(app):
    return add_staff(app, username="liming", display_name="李明")


@pytest.fixture
def wang(app, clock):
    return add_resident(
        app, "101", "王建国", phone="13800138000", notify_url="json://hooks.example.com/wang",
        clock=clock,
    )  # fmt: skip


@pytest.fixture
def token(app, clock, wang):
    return resident_links.issue(SECRET, residents.get(building_db(app), wang), clock.now())


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _csrf(client, token) -> str:
    return CSRF.search(client.get(f"/me/{token}").get_data(as_text=True)).group(1)


def _post(client, token, path, **data):
    return client.post(f"/me/{token}{path}", data={"csrf_token": _csrf(client, token), **data})


def _intake(app, clock, staff_id, unit="101", tracking="SF1234567890123"):
    return parcels.intake(
        building_db(app), clock, secret_key=SECRET, staff_id=staff_id, tracking=tracking,
        unit=unit, shelf="A1",
    )  # fmt: skip


def _audit(app, action):
    return list(building_db(app).query("SELECT * FROM audit_log WHERE action = ?", (action,)))


def _unit_id(app, number):
    return (
        building_db(app).execute("SELECT id FROM units WHERE number = ?", (number,)).fetchone()[0]
    )


# --- reading ------------------------------------------------------------------------------


def test_the_page_is_chinese_first_with_an_english_switch_that_keeps_the_link(app, client, token):
    chinese = client.get(f"/me/{token}")
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)
    assert "待取快递" in _text(chinese) and "Parcels waiting" not in _text(chinese)
    assert f'href="/me/{token}?lang=en"' in chinese.get_data(as_text=True)
    english = client.get(f"/me/{token}?lang=en")
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Parcels waiting" in _text(english) and "待取快递" not in _text(english)
    assert "How we contact you" in _text(english)


def test_each_view_is_audited_as_the_resident(app, client, token, wang):
    client.get(f"/me/{token}")
    [row] = _audit(app, "resident_page.view")
    assert row["actor"] == f"resident:{wang}" and row["target"] == f"unit:{_unit_id(app, '101')}"
    assert row["device"] == "127.0.0.1"


def test_parcels_waiting_show_masked_as_on_the_kiosk(app, client, clock, token, staff_id):
    _intake(app, clock, staff_id)
    _intake(app, clock, staff_id, unit="202", tracking="SF9999999999999")
    page = _text(client.get(f"/me/{token}"))
    assert "…0123" in page and "SF1234567890123" not in page
    assert "…9999" not in page  # another unit's parcel


def test_the_query_string_cannot_widen_the_link_to_another_unit(
    app, client, clock, token, staff_id
):
    _intake(app, clock, staff_id, unit="202", tracking="SF9999999999999")
    unit_202 = _unit_id(app, "202")
    page = _text(client.get(f"/me/{token}?unit_id={unit_202}&unit=202&resident_id=99"))
    assert "…9999" not in page and "101" in page


def test_a_resolved_ticket_links_to_the_rating_page(app, client, clock, kiosk, token, staff_id):
    answer = kiosk.client.post(
        "/api/v1/tickets", json={"unit": "101", "category": "water", "problem": "dripping_tap"},
        headers=kiosk.headers(),
    )  # fmt: skip
    ticket_id = answer.json["id"]
    page = client.get(f"/me/{token}").get_data(as_text=True)
    assert "待处理" in _text(client.get(f"/me/{token}")) and "/rate/" not in page
    for status in ("assigned", "resolved"):
        tickets.set_status(
            building_db(app), clock, ticket_id, staff_id=staff_id, status=status,
            secret_key=SECRET, public_url="http://lobby.test",
        )  # fmt: skip
    page = client.get(f"/me/{token}")
    assert "已解决" in _text(page)
    rate = re.search(r'href="(/rate/[^"]+)"', page.get_data(as_text=True)).group(1)
    assert "您对这次维修满意吗" in _text(client.get(rate))


def test_contact_channels_show_with_when_the_resident_agreed(client, token):
    page = _text(client.get(f"/me/{token}"))
    assert "Webhook" in page and "wang@example.com" in page and "同意于" in page
    assert "hooks.example.com/wang" not in page  # a URL's path may hold a bot's key


# --- authorising a collector --------------------------------------------------------------


def test_a_resident_authorises_someone_to_collect_and_the_desk_sees_them(
    app, client, clock, token, wang, staff_id
):
    parcel = _intake(app, clock, staff_id)
    assert f'value="{parcel["parcel"]["id"]}"' in client.get(f"/me/{token}").get_data(as_text=True)
    done = _post(client, token, "/collectors", name="李阿姨", phone="13900139000", parcel="all")
    assert done.status_code == 303
    page = _text(client.get(done.headers["Location"]))
    assert "已授权 李阿姨 代领" in page and "139****9000" in page
    unit_id = _unit_id(app, "101")
    [proxy] = residents.proxies_of(building_db(app), unit_id)
    assert proxy["name"] == "李阿姨" and proxy["created_by"] == f"resident:{wang}"
    assert "住户页授权" in proxy["note"]
    assert "李阿姨" in {c["name"] for c in parcels.collector_candidates(building_db(app), unit_id)}
    [row] = _audit(app, "unit.proxy_add")
    assert row["actor"] == f"resident:{wang}"


def test_a_collector_for_one_parcel_is_labelled_with_that_parcel(
    app, client, clock, token, staff_id
):
    _intake(app, clock, staff_id)
    parcel_id = parcels.waiting_for_unit(building_db(app), _unit_id(app, "101"))[0]["id"]
    assert (
        _post(client, token, "/collectors", name="李阿姨", parcel=str(parcel_id)).status_code == 303
    )
    [proxy] = residents.proxies_of(building_db(app), _unit_id(app, "101"))
    assert parcels.staff_ref(parcel_id) in proxy["note"]


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"name": "", "phone": "13900139000"}, "name", "请填写姓名"),
        ({"name": "李阿姨", "phone": "12345"}, "phone", "不是有效的手机号"),
        ({"name": "李阿姨", "parcel": "999999"}, "parcel", "请选择一件待取快递"),
        ({"name": "李阿姨", "parcel": "'; DROP TABLE parcels; --"}, "parcel", "请选择"),
        ({"name": "x" * 500}, "name", "最多 40 个字符"),
    ],
    ids=["no name", "bad phone", "unknown parcel", "junk parcel", "long name"],
)
def test_bad_collector_input_is_shown_beside_its_field_and_kept(
    app, client, token, form, field, message
):
    answer = _post(client, token, "/collectors", **form)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    error = re.search(rf'id="err-{field}"[^>]*>([^<]+)<', html)
    assert error and message in error.group(1)
    if form.get("phone"):
        assert f'value="{form["phone"]}"' in html  # nothing typed is lost
    assert residents.proxies_of(building_db(app), _unit_id(app, "101")) == []


def test_another_units_parcel_cannot_be_named(app, client, clock, token, staff_id):
    _intake(app, clock, staff_id, unit="202", tracking="SF9999999999999")
    theirs = parcels.waiting_for_unit(building_db(app), _unit_id(app, "202"))[0]["id"]
    answer = _post(client, token, "/collectors", name="李阿姨", parcel=str(theirs))
    assert answer.status_code == 422


def test_a_resident_removes_a_collector_but_not_another_units(app, client, clock, token):
    db = building_db(app)
    ours = residents.add_proxy(db, clock, _unit_id(app, "101"), {"name": "李阿姨"}, actor="t")
    theirs = residents.add_proxy(db, clock, _unit_id(app, "202"), {"name": "张三"}, actor="t")
    refused = _post(client, token, f"/collectors/{theirs}/remove")
    assert refused.status_code == 422
    assert len(residents.proxies_of(building_db(app), _unit_id(app, "202"))) == 1
    assert _post(client, token, f"/collectors/{ours}/remove").status_code == 303
    assert residents.proxies_of(building_db(app), _unit_id(app, "101")) == []


def test_without_the_form_token_nothing_is_stored(app, client, token):
    client.get(f"/me/{token}")
    answer = client.post(f"/me/{token}/collectors", data={"name": "李阿姨"})
    assert answer.status_code == 400
    assert residents.proxies_of(building_db(app), _unit_id(app, "101")) == []


# --- consent ------------------------------------------------------------------------------


def test_withdrawing_consent_stops_that_channel_and_is_audited(app, client, token, wang):
    channels = residents.channels_of(building_db(app), wang)
    webhook = next(c for c in channels if c["kind"] == "webhook")
    done = _post(client, token, f"/channels/{webhook['id']}/withdraw")
    assert done.status_code == 303
    left = residents.channels_of(building_db(app), wang)
    assert [c["kind"] for c in left] == ["email"]
    row = _audit(app, "resident.update")[-1]
    assert row["actor"] == f"resident:{wang}" and json.loads(row["detail"]) == {
        "fields": ["channels"]
    }


def test_the_last_channel_needs_a_tick_because_no_message_would_reach_the_resident(
    app, client, clock
):
    lone = add_resident(app, "102", "李四", email="li@example.com", clock=clock)
    token = resident_links.issue(SECRET, residents.get(building_db(app), lone), clock.now())
    [channel] = residents.channels_of(building_db(app), lone)
    refused = _post(client, token, f"/channels/{channel['id']}/withdraw")
    assert refused.status_code == 422 and "请勾选确认" in _text(refused)
    assert len(residents.channels_of(building_db(app), lone)) == 1
    done = _post(client, token, f"/channels/{channel['id']}/withdraw", confirm="1")
    assert done.status_code == 303
    assert residents.channels_of(building_db(app), lone) == []


def test_another_residents_channel_cannot_be_withdrawn(app, client, clock, token):
    other = add_resident(app, "101", "王小明", email="ming@example.com", clock=clock)
    [theirs] = residents.channels_of(building_db(app), other)
    assert _post(client, token, f"/channels/{theirs['id']}/withdraw").status_code == 422
    assert len(residents.channels_of(building_db(app), other)) == 1


# --- links that do not work ---------------------------------------------------------------


def test_an_expired_link_says_how_to_get_a_new_one(client, clock, token, caplog):
    clock.advance(hours=25)
    with caplog.at_level(logging.WARNING):
        answer = client.get(f"/me/{token}")
    assert answer.status_code == 410
    page = _text(answer)
    assert "链接已过期" in page and "This link has expired" in page
    assert "终端" in page and "kiosk" in page and "desk" in page
    assert "token_expired" in caplog.text


def test_a_forged_link_is_refused_logged_and_audited_in_aggregate(app, client, token, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            answer = client.get(f"/me/{token[:-3]}abc")
    assert answer.status_code == 400 and "链接无效" in _text(answer)
    assert "token_invalid" in caplog.text
    [row] = _audit(app, "resident_link.refused")  # one row a minute, not one per request
    assert json.loads(row["detail"])["reason"] == "token_invalid"


def test_a_moved_out_residents_link_stops_working(app, client, clock, token, wang):
    residents.move_out(building_db(app), clock, [wang], actor="test")
    answer = client.get(f"/me/{token}")
    assert answer.status_code == 403 and "链接已不能使用" in _text(answer)


@pytest.mark.parametrize(
    "path", ["/me/x", "/me/" + "a" * 600, "/me/%00", "/me/x/collectors/1/remove"]
)
def test_junk_links_never_answer_500(client, path):
    assert client.get(path).status_code in (400, 404, 405)


def test_opening_links_too_often_from_one_address_is_slowed(app, client, token):
    limit = resident_links.USES_PER_ADDRESS[0]
    answers = [client.get(f"/me/{token}").status_code for _ in range(limit + 1)]
    assert answers[:limit] == [200] * limit and answers[-1] == 429


# --- the desk's button --------------------------------------------------------------------


def test_reception_sends_a_resident_their_page_link_from_the_unit_page(
    app, client, reception, wang
):
    unit_page = f"/residents/units/{_unit_id(app, '101')}"
    assert "发送住户页链接" in client.get(unit_page).get_data(as_text=True)
    answer = reception.post(f"/residents/{wang}/page-link")
    assert answer.status_code == 302
    assert "已将住户页链接发给 王建国" in _text(client.get(answer.headers["Location"]))
    [message] = building_db(app).query(
        "SELECT * FROM notifications WHERE resident_id = ? AND kind = 'resident.link'", (wang,)
    )
    assert message["recipient"] == "json://hooks.example.com/wang"  # the resident's first channel
    link = re.search(r"/me/([A-Za-z0-9_.\-]+)", message["body"]).group(1)
    assert client.get(f"/me/{link}").status_code == 200


# --- visitor invitations ------------------------------------------------------------------


def _invite(client, token, **form):
    fields = {"inv_name": "张阿姨", "inv_kind": "recurring", "inv_starts_on": "2026-11-30",
              "inv_ends_on": "2027-02-28", "inv_weekdays": ["2", "4"], **form}  # fmt: skip
    return _post(client, token, "/invitations", **fields)


def test_a_resident_invites_a_recurring_visitor_and_revokes_the_pass(app, client, token, wang):
    from shared import invitations

    done = _invite(client, token)
    assert done.status_code == 303
    page = client.get(done.headers["Location"])
    assert "张阿姨" in _text(page) and "周二、周四" in _text(page)
    [invitation] = invitations.list_for_resident(building_db(app), wang)
    assert invitation["kind"] == "recurring" and invitation["weekdays"] == "2,4"
    assert invitation["created_by"] == f"resident:{wang}"
    png = client.get(f"/me/{token}/invitations/{invitation['id']}/pass.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert _post(client, token, f"/invitations/{invitation['id']}/revoke").status_code == 303
    assert invitations.get(building_db(app), invitation["id"])["status"] == "revoked"
    assert client.get(f"/me/{token}/invitations/{invitation['id']}/pass.png").status_code == 404


def test_a_bad_invitation_is_refused_beside_its_field_and_kept(app, client, token, wang):
    from shared import invitations

    answer = _invite(client, token, inv_weekdays=[])
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert re.search(r'id="err-inv_weekdays"[^>]*>[^<]*请至少选择一天', html)
    assert 'value="张阿姨"' in html
    assert invitations.list_for_resident(building_db(app), wang) == []


def test_another_residents_invitation_cannot_be_revoked_or_forwarded(app, client, clock, token):
    from shared import invitations

    other = add_resident(app, "202", "李秀英", email="li@example.com", clock=clock)
    theirs = invitations.create(
        building_db(app), clock, host_resident_id=other,
        fields={"name": "访客", "starts_on": "2026-11-28"}, actor="test",
    )  # fmt: skip
    assert _post(client, token, f"/invitations/{theirs}/revoke").status_code == 422
    assert client.get(f"/me/{token}/invitations/{theirs}/pass.png").status_code == 404
    assert invitations.get(building_db(app), theirs)["status"] == "active"
