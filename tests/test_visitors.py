"""Visitor registration and identity confirmation (S2, S3, S10), console and API."""

import base64
import csv
import io
import json

import pytest

from shared import notifications, visitors
from tests.helpers import (
    KioskCaller,
    StaffBrowser,
    add_resident,
    add_staff,
    building_db,
    paired_kiosk,
)
from tests.mailbox import Mailbox


def register(kiosk, key=None, **fields):
    body = {
        "name": "张先生", "phone": "13812345678", "unit": "101", "purpose": "visit",
        "party_size": 1, "language": "zh_CN", "created_at": "2026-11-27T08:59:59+00:00", **fields,
    }  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    return kiosk.client.post("/api/v1/visits", json=body, headers=kiosk.headers(key))


def feed(kiosk, after=0):
    return kiosk.client.get(
        f"/api/v1/feed?after={after}&wait=0", headers=kiosk.headers(key=False)
    ).json


def test_a_registration_waits_in_the_queue_with_the_host_contact(app, client, kiosk, reception):
    add_resident(app, "101", "王建国", email=None, phone="+8613800138001")
    response = register(kiosk)
    assert response.status_code == 201 and response.json["status"] == "pending"
    rows = client.get("/queue/rows").get_data(as_text=True)
    assert "张先生" in rows and "138 1234 5678" in rows  # staff see the full phone
    assert "王建国" in rows and "138 0013 8001" in rows  # and whom to call
    assert "ID checked — confirm" in rows and "Host confirmed by phone" in rows


def test_confirming_tells_the_kiosk_and_gives_a_pass_without_personal_data(app, kiosk, reception):
    visit_id = register(kiosk).json["id"]
    assert reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id").status_code == 302
    [event] = feed(kiosk)["events"]
    assert event["kind"] == "visit.confirmed"
    assert (
        event["payload"]["unit"] == "101" and "take the lift" in event["payload"]["directions_en"]
    )
    token = event["payload"]["pass_token"]
    readable = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert json.loads(readable).keys() == {"v", "exp"}  # ids only: no name, phone or unit
    row = building_db(app)["visits"].get(visit_id)
    assert row["status"] == "confirmed" and row["decision_method"] == "confirm_id"


def test_denying_needs_a_reason_and_tells_the_kiosk(app, client, kiosk, reception):
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="deny", reason="")
    assert building_db(app)["visits"].get(visit_id)["status"] == "pending"  # nothing happened
    reception.post(f"/visitors/{visit_id}/decide", decision="deny", reason="住户不在家")
    assert [e["kind"] for e in feed(kiosk)["events"]] == ["visit.denied"]
    assert building_db(app)["visits"].get(visit_id)["deny_reason"] == "住户不在家"


def test_a_decision_is_taken_once(app, kiosk, reception):
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_host")
    reception.post(f"/visitors/{visit_id}/decide", decision="deny", reason="late click")
    assert building_db(app)["visits"].get(visit_id)["status"] == "confirmed"
    assert len(feed(kiosk)["events"]) == 1


def test_the_host_is_emailed_on_confirmation_through_a_real_smtp_server(app, kiosk, reception):
    db = building_db(app)
    add_resident(app, "101", "王建国", email="wang@example.com")
    visit_id = register(kiosk, party_size=3).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_host")
    mailbox = Mailbox().start()
    try:
        sent = notifications.deliver_due(db, app.extensions["lobbydesk.clock"], mailbox.apprise_url)
        [mail] = mailbox.wait_for(1)
    finally:
        mailbox.stop()
    assert sent == 1 and mail["to"] == ["wang@example.com"]
    assert "张先生" in mail["message"]["subject"]
    text = mail["message"].get_body(preferencelist=("plain", "html")).get_content()
    assert "共 3 人" in text and "party of 3" in text
    assert db["notifications"].get(1)["status"] == "sent"


def test_a_failed_notification_is_kept_and_retried(app, kiosk, reception, clock):
    db = building_db(app)
    add_resident(app, "101", "王", email="w@example.com")
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    dead_server = "mailto://127.0.0.1:9?from=desk@lobbydesk.test&mode=insecure"
    assert notifications.deliver_due(db, clock, dead_server) == 0
    row = db["notifications"].get(1)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"]
    assert notifications.deliver_due(db, clock, dead_server) == 0  # not due again yet
    assert db["notifications"].get(1)["attempts"] == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": ""}, "invalid_name"),
        ({"name": "   "}, "invalid_name"),
        ({"name": "张" * 200}, "invalid_name"),
        ({"name": "Bob 😀"}, "invalid_name"),
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "021-5555-0100"}, "invalid_phone"),
        ({"unit": "9999"}, "unknown_unit"),
        ({"purpose": "party"}, "invalid_request"),
        ({"party_size": 0}, "invalid_request"),
        ({"party_size": 11}, "invalid_request"),
        ({"created_at": "now"}, "invalid_request"),
        ({"returning": True, "phone": None}, "invalid_request"),
    ],
)
def test_bad_registrations_get_a_clear_error_and_store_nothing(app, kiosk, fields, code):
    response = register(kiosk, **fields)
    assert 400 <= response.status_code < 500
    assert response.json["error"]["code"] == code
    assert building_db(app)["visits"].count == 0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("张\r\n先生", "张 先生"),
        ("\u202eevil\u202c Name", "evil Name"),
        ("Anne\x00\x07 Lee", "Anne Lee"),
    ],
)
def test_control_and_direction_characters_are_removed_from_names(app, kiosk, typed, stored):
    visit_id = register(kiosk, name=typed).json["id"]
    assert building_db(app)["visits"].get(visit_id)["name"] == stored


def test_a_returning_visitor_sees_only_a_masked_name_and_confirms_with_a_tap(app, client, kiosk):
    register(kiosk, name="张伟")
    lookup = client.post(
        "/api/v1/visitors/lookup", json={"phone": "138 1234 5678"}, headers=kiosk.headers(key=False)
    )
    assert lookup.json == {"found": True, "masked_name": "张**"}
    unknown = client.post(
        "/api/v1/visitors/lookup", json={"phone": "13900000000"}, headers=kiosk.headers(key=False)
    )
    assert unknown.json == {"found": False, "masked_name": None}
    again = register(kiosk, name=None, returning=True)
    assert again.status_code == 201
    assert building_db(app)["visits"].get(again.json["id"])["name"] == "张伟"


def test_phone_can_be_required_by_the_building(app, kiosk):
    db = building_db(app)
    db.execute("UPDATE buildings SET settings = ?", (json.dumps({"visitor_phone_required": True}),))
    response = register(kiosk, phone=None)
    assert response.json["error"]["code"] == "phone_required"
    db.execute("UPDATE buildings SET settings = '{}'")
    assert register(kiosk, phone=None).status_code == 201


def test_unit_check_for_the_kiosk(client, kiosk):
    assert client.get("/api/v1/units/101", headers=kiosk.headers(key=False)).json["exists"] is True
    assert client.get("/api/v1/units/9999", headers=kiosk.headers(key=False)).status_code == 422


def test_deny_list_match_is_flagged_with_the_reason_and_never_confirmed_automatically(
    app, client, kiosk, reception
):
    reception.post("/visitors/deny-list", name="", phone="13812345678", reason="多次骚扰住户")
    visit_id = register(kiosk, name="李四").json["id"]
    row = building_db(app)["visits"].get(visit_id)
    assert row["status"] == "pending" and "same phone" in row["deny_match"]
    rows = client.get("/queue/rows").get_data(as_text=True)
    assert "Deny-list match" in rows and "多次骚扰住户" in rows
    reception.post("/visitors/deny-list", name="王五", phone="", reason="前员工")
    assert (
        "same name"
        in building_db(app)["visits"].get(
            register(kiosk, name="王五", phone="13900000001").json["id"]
        )["deny_match"]
    )


def test_sign_out_by_pass_then_the_pass_is_refused(app, client, kiosk, reception):
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    token = feed(kiosk)["events"][0]["payload"]["pass_token"]
    assert "张先生" in client.get("/visitors/on-site").get_data(as_text=True)
    out = client.post("/api/v1/visits/sign-out", json={"pass": token}, headers=kiosk.headers())
    assert out.status_code == 200 and out.json["masked_name"] == "张**"
    assert "张先生" not in client.get("/visitors/on-site").get_data(as_text=True)
    again = client.post("/api/v1/visits/sign-out", json={"pass": token}, headers=kiosk.headers())
    assert again.status_code == 404 and again.json["error"]["code"] == "not_on_site"
    row = building_db(app)["visits"].get(visit_id)
    assert row["sign_out_method"] == "kiosk_pass"


@pytest.mark.parametrize("mangle", ["tamper", "truncate", "wrong_key", "garbage"])
def test_forged_passes_are_refused_and_logged(app, client, kiosk, reception, mangle):
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    token = feed(kiosk)["events"][0]["payload"]["pass_token"]
    if mangle == "tamper":
        forged_payload = (
            base64.urlsafe_b64encode(json.dumps({"v": visit_id + 1, "exp": 9999999999}).encode())
            .decode()
            .rstrip("=")
        )
        token = forged_payload + "." + token.split(".", 1)[1]
    elif mangle == "truncate":
        token = token[:-5]
    elif mangle == "wrong_key":
        from shared import signing
        from shared.clock import parse_utc

        token = signing.sign(
            "another-building-key",
            signing.VISITOR_PASS,
            {"v": visit_id},
            parse_utc("2030-01-01T00:00:00Z"),
        )
    else:
        token = "<script>alert(1)</script>"
    response = client.post("/api/v1/visits/sign-out", json={"pass": token}, headers=kiosk.headers())
    assert response.status_code == 400 and response.json["error"]["code"] == "token_invalid"
    assert building_db(app)["visits"].get(visit_id)["status"] == "confirmed"
    logged = [r["action"] for r in building_db(app).query("SELECT action FROM audit_log")]
    assert "visit.pass_rejected" in logged


def test_an_expired_pass_is_refused(app, client, kiosk, reception, clock):
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    token = feed(kiosk)["events"][0]["payload"]["pass_token"]
    clock.advance(hours=25)
    response = client.post("/api/v1/visits/sign-out", json={"pass": token}, headers=kiosk.headers())
    assert response.status_code == 410 and response.json["error"]["code"] == "token_expired"


def test_sign_out_by_phone_and_by_staff(app, client, kiosk, reception):
    first = register(kiosk).json["id"]
    second = register(kiosk, name="Emily Carter", phone="+447911123456").json["id"]
    for visit_id in (first, second):
        reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    out = client.post(
        "/api/v1/visits/sign-out", json={"phone": "13812345678"}, headers=kiosk.headers()
    )
    assert out.json == {"visit_id": first, "masked_name": "张**"}
    reception.post(f"/visitors/{second}/sign-out")
    methods = {
        r["id"]: r["sign_out_method"]
        for r in building_db(app).query("SELECT id, sign_out_method FROM visits")
    }
    assert methods == {first: "kiosk_phone", second: "staff"}


def test_automatic_sign_out_at_the_building_time(app, kiosk, reception, clock):
    # 09:00 UTC = 17:00 in Shanghai; the building signs everyone out at 23:00 local.
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    db = building_db(app)
    clock.advance(hours=5, minutes=59)  # 22:59 local
    assert visitors.auto_sign_out(db, clock) == 0
    clock.advance(minutes=2)  # 23:01 local
    reception.login()  # six idle hours ended the first session (30-minute idle timeout)
    late_id = register(kiosk, name="晚到者", phone="13900000002").json["id"]
    reception.post(f"/visitors/{late_id}/decide", decision="confirm_id")
    assert visitors.auto_sign_out(db, clock) == 1
    assert db["visits"].get(visit_id)["sign_out_method"] == "auto"
    assert db["visits"].get(late_id)["status"] == "confirmed"  # arrived after the cut-off
    assert "自动 · automatic" in reception.client.get("/visitors/?status=signed_out").get_data(
        as_text=True
    )


def test_visitor_log_search_and_csv_export_neutralises_formulas(app, client, kiosk, reception):
    register(kiosk, name="Alice Wong", unit="102")
    register(kiosk, name="张先生", phone="13900000003")
    register(kiosk, name="-Eve", phone="13900000004")
    db = building_db(app)
    db.execute("UPDATE visits SET name = '=HYPERLINK(\"http://x\")' WHERE name = 'Alice Wong'")
    page = client.get("/visitors/?q=102").get_data(as_text=True)
    assert "HYPERLINK" in page and "张先生" not in page
    assert "张先生" in client.get("/visitors/?q=0003").get_data(as_text=True)
    export = client.get("/visitors/export.csv")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][1] == "姓名 Name"
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names and "'-Eve" in names and "张先生" in names
    # Excel opens phones and statuses as people read them: no apostrophe, no raw codes.
    by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    zhang = by_name["张先生"]
    assert zhang["电话 Phone"] == "139 0000 0003"
    assert zhang["状态 Status"] == "待核实 · Pending" and zhang["状态代码 Status code"] == "pending"
    assert not any(r[2].startswith(("'", "+", "=", "-", "@")) for r in rows[1:])
    assert "visit.export" in [r["action"] for r in db.query("SELECT action FROM audit_log")]


def test_visitor_pass_pdf(app, client, kiosk, reception):
    visit_id = register(kiosk).json["id"]
    assert client.get(f"/visitors/{visit_id}/pass.pdf").status_code == 409  # not confirmed yet
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    response = client.get(f"/visitors/{visit_id}/pass.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_reception_and_managers_may_use_visitor_pages_but_not_anonymous(app, client):
    assert client.get("/visitors/").status_code == 302
    add_staff(app, username="boss", role="manager", display_name="经理")
    StaffBrowser(client).login("boss")
    assert client.get("/visitors/").status_code == 200


# --- privacy of look-ups and sign-out by phone (issue 3/9) ---------------------------------


def lookup(kiosk, phone="13812345678"):
    return kiosk.client.post(
        "/api/v1/visitors/lookup", json={"phone": phone}, headers=kiosk.headers(key=False)
    )


def audit_rows(app, action):
    return list(
        building_db(app).query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))
    )


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张伟", "张**"), ("张三丰", "张**"), ("欧阳娜娜", "欧**"), ("Al", "A**"),
     ("Emily Carter", "E**"), ("Alexandria Smith-Jones", "A**")],
)  # fmt: skip
def test_a_masked_name_shows_one_letter_and_never_how_long_the_name_is(app, kiosk, name, masked):
    register(kiosk, name=name)
    assert lookup(kiosk).json == {"found": True, "masked_name": masked}


def test_lookups_are_limited_per_kiosk_and_each_is_audited(app, kiosk, clock):
    register(kiosk, name="张伟")
    other = KioskCaller(kiosk.client, paired_kiosk(app, name="大堂 B")[1])
    answers = [lookup(kiosk, f"1390000{n:04d}") for n in range(20)]
    assert {a.status_code for a in answers} == {200}
    refused = [lookup(kiosk) for _ in range(30)]
    assert {r.status_code for r in refused} == {429}
    first = refused[0]
    assert 1 <= int(first.headers["Retry-After"]) <= 600
    message = first.json["error"]["message"]
    assert "查询太频繁" in message and "Too many look-ups" in message
    assert "found" not in first.json  # a refusal says nothing about the number
    # Another kiosk is not held up by this one.
    assert lookup(other).json == {"found": True, "masked_name": "张**"}
    # Each look-up is audited (found or not, never the number); refusals in aggregate.
    rows = audit_rows(app, "visitor.lookup")
    assert len(rows) == 21 and "13812345678" not in json.dumps(rows)
    assert [json.loads(r["detail"])["refused"] for r in audit_rows(app, "limit.lookup")] == [1]
    clock.advance(seconds=61)
    assert lookup(kiosk).status_code == 429
    counted = [json.loads(r["detail"])["refused"] for r in audit_rows(app, "limit.lookup")]
    assert counted == [1, 30]  # every refusal counted, two rows for 31
    clock.advance(seconds=600)
    assert lookup(kiosk).json == {"found": True, "masked_name": "张**"}


def sign_out_by_phone(kiosk, phone="13812345678"):
    return kiosk.client.post(
        "/api/v1/visits/sign-out", json={"phone": phone}, headers=kiosk.headers()
    )


@pytest.mark.parametrize("case", ["unknown", "pending", "denied", "signed_out", "yesterday"])
def test_sign_out_by_phone_is_only_for_a_visit_still_on_site(app, kiosk, reception, clock, case):
    if case != "unknown":
        visit_id = register(kiosk).json["id"]
        if case == "denied":
            reception.post(f"/visitors/{visit_id}/decide", decision="deny", reason="无预约")
        elif case in ("signed_out", "yesterday"):
            reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
        if case == "signed_out":
            reception.post(f"/visitors/{visit_id}/sign-out")
        if case == "yesterday":  # confirmed yesterday and never signed out
            building_db(app).execute(
                "UPDATE visits SET received_at = '2026-11-26T09:00:00.000000+00:00'"
            )
    answer = sign_out_by_phone(kiosk)
    assert answer.status_code == 404
    # The same answer whether or not the number is known: nothing to learn from it.
    assert answer.json == {"error": {"code": "not_on_site", "message": str(visitors.NotOnSite())}}
    assert "没有找到在场的访客" in answer.json["error"]["message"]
    assert "No visitor with this pass or number is on site" in answer.json["error"]["message"]
    statuses = {r["status"] for r in building_db(app).query("SELECT status FROM visits")}
    assert "signed_out" not in statuses or case == "signed_out"


def test_sign_out_by_phone_is_limited_per_kiosk_and_refusals_audited(app, kiosk, reception):
    visit_id = register(kiosk).json["id"]
    reception.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
    tries = [sign_out_by_phone(kiosk, f"1390000{n:04d}") for n in range(10)]
    assert {t.status_code for t in tries} == {404}
    refused = sign_out_by_phone(kiosk)  # the right number, but the kiosk used its tries
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "按手机号签退太频繁" in refused.json["error"]["message"]
    assert "Too many sign-outs by phone" in refused.json["error"]["message"]
    assert building_db(app)["visits"].get(visit_id)["status"] == "confirmed"
    assert len(audit_rows(app, "limit.phone_sign_out")) == 1
    # The pass still works: the limit is on phone numbers only.
    token = feed(kiosk)["events"][0]["payload"]["pass_token"]
    out = kiosk.client.post(
        "/api/v1/visits/sign-out", json={"pass": token}, headers=kiosk.headers()
    )
    assert out.status_code == 200


def test_a_returning_visitor_asked_with_last_visit_gets_the_last_unit_and_purpose(client, kiosk):
    """The kiosk's "same as last time?": the latest visit's unit and purpose, no name."""
    register(kiosk, unit="101", purpose="visit")
    register(kiosk, unit="102", purpose="delivery")

    def lookup(phone, **extra):
        return client.post(
            "/api/v1/visitors/lookup",
            json={"phone": phone, **extra},
            headers=kiosk.headers(key=False),
        )

    answer = lookup("138 1234 5678", last_visit=True)
    assert answer.json == {
        "found": True, "masked_name": "张**", "last_unit": "102", "last_purpose": "delivery",
    }  # fmt: skip
    assert lookup("13900000000", last_visit=True).json == {"found": False, "masked_name": None}
    assert "last_unit" not in lookup("13812345678").json  # only when asked
    refused = lookup("13812345678", last_visit="yes")
    assert refused.status_code == 400 and "last_visit" in refused.json["error"]["message"]
