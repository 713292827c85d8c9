"""Parcels (S4): desk intake, notification, pickup by code or QR at the kiosk, exactly once."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import logging
import re
import threading
from datetime import UTC, datetime

import pytest
import requests
import zxingcpp
from PIL import Image

from console import documents, pickup_answers
from console.server import ConsoleServer
from shared import parcels, signing
from shared.db import connect, write_transaction
from tests import helpers
from tests.helpers import KioskCaller, StaffBrowser, add_staff, building_db, paired_kiosk
from tests.mailbox import Mailbox

FETCH = {"X-Requested-With": "fetch"}


# --- helpers that read like what people do -------------------------------------------------


def add_resident(app, unit="101", name="王建国", email="wang@example.com", **extra):
    extra.pop("preferred_channel", None)  # the notify_url, when given, is the first channel
    return helpers.add_resident(app, unit, name, email=email, **extra)


def log_parcel(reception, tracking="SF1234567890123", unit="101", shelf="A-3", **extra):
    """Reception logs one parcel as parcels.js does (fetch); returns the response."""
    return reception.client.post(
        "/parcels/",
        data={
            "csrf_token": reception.csrf,
            "tracking": tracking,
            "unit": unit,
            "shelf": shelf,
            **extra,
        },
        headers={**FETCH, "X-CSRF-Token": reception.csrf},
    )


def pickup(kiosk, key=None, **body):
    return kiosk.client.post("/api/v1/parcels/pickup", json=body, headers=kiosk.headers(key))


def pickup_code(app, unit="101") -> str:
    """The code the resident was sent (tests read it by unsealing, as the notifier does)."""
    db = building_db(app)
    row = db.execute(
        "SELECT b.code_sealed FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
        " WHERE u.number = ? AND b.status = 'open'",
        (unit,),
    ).fetchone()
    return parcels.unseal_code(app.config["SECRET_KEY"], row[0])


def open_batch(app, unit="101") -> dict:
    db = building_db(app)
    row = db.execute(
        "SELECT b.id FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
        " WHERE u.number = ? ORDER BY b.id DESC LIMIT 1",
        (unit,),
    ).fetchone()
    return parcels.get_batch(db, row[0])


def qr_token(app, unit="101") -> str:
    return parcels.pickup_token(app.config["SECRET_KEY"], open_batch(app, unit))


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def audit_rows(app, action: str) -> list[dict]:
    return list(
        building_db(app).query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))
    )


def all_audit_text(app) -> str:
    return json.dumps(list(building_db(app).query("SELECT * FROM audit_log")), ensure_ascii=False)


# --- intake ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tracking", "carrier"),
    [
        ("SF1234567890123", "sf"),
        ("SF123456789012", "sf"),
        ("sf 1234 5678 9012", "sf"),
        ("JDVA12345678901", "jd"),
        ("JD0012345678901", "jd"),
        ("YT1234567890123", "yto"),
        ("EA123456789CN", "ems"),
        ("RR123456789CN", "ems"),
        ("1Z999AA10123456784", "ups"),
        ("73123456789012", "zto"),
        ("75123456789012", "zto"),
        ("78123456789012", "zto"),
        ("773123456789", "sto"),
        ("8812345678901", "sto"),
        ("55123456789012", "sto"),
        ("661234567890123", "sto"),
        ("4312345678901", "yunda"),
        ("46123456789012", "yunda"),
        ("312345678901234", "yunda"),
        ("123456789012", "fedex"),
        ("612345678901234", "fedex"),
        ("1234567890", "dhl"),
        ("ABC123", None),
        ("12345678901", None),
        ("SF12345", None),
        ("YT123456789012", None),
    ],
)
def test_the_carrier_is_recognised_from_the_tracking_number(tracking, carrier):
    assert parcels.guess_carrier(tracking) == carrier


def test_intake_logs_the_parcel_with_the_recognised_carrier(app, client, reception):
    response = log_parcel(reception, tracking="sf1234567890123", unit="101", shelf="a-3")
    assert response.status_code == 201, response.json
    assert response.json["parcel"]["carrier"] == "顺丰 SF Express"
    row = building_db(app)["parcels"].get(response.json["parcel"]["id"])
    assert (row["tracking_number"], row["carrier"], row["shelf"], row["status"]) == (
        "SF1234567890123",
        "sf",
        "A-3",
        "waiting",
    )
    assert (
        row["received_by"] is not None and row["expires_at"] == "2026-12-11T09:00:00.000000+00:00"
    )
    assert 'data-parcel-id="1"' in response.json["recent_html"]


def test_the_carrier_guess_can_be_overridden(app, reception):
    parcel_id = log_parcel(reception, tracking="1234567890", carrier="jd").json["parcel"]["id"]
    assert building_db(app)["parcels"].get(parcel_id)["carrier"] == "jd"


def test_a_second_parcel_for_the_unit_joins_its_batch_and_code(app, reception, clock):
    first = log_parcel(reception, tracking="SF1234567890123")
    code = pickup_code(app)
    clock.advance(days=2)
    reception.login()  # the session's 30-minute idle timeout passed
    second = log_parcel(reception, tracking="YT1234567890123")
    assert first.json["joined"] is False and second.json["joined"] is True
    assert pickup_code(app) == code
    batch = open_batch(app)
    assert batch["expires_at"] == "2026-12-13T09:00:00.000000+00:00"  # moved to the newest parcel
    other_unit = log_parcel(reception, tracking="JD0012345678901", unit="102")
    assert other_unit.json["joined"] is False
    assert open_batch(app, "102")["id"] != batch["id"]  # one batch per unit


def test_a_repeated_tracking_number_is_warned_about_not_silently_duplicated(app, reception):
    assert log_parcel(reception).status_code == 201
    again = log_parcel(reception, unit="102")
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_tracking"
    assert "101" in again.json["error"]["message"]
    assert building_db(app)["parcels"].count == 1
    confirmed = log_parcel(reception, unit="102", confirm_duplicate="1")
    assert confirmed.status_code == 201 and building_db(app)["parcels"].count == 2
    [_first, second] = audit_rows(app, "parcel.intake")
    assert json.loads(second["detail"])["duplicate_confirmed"] is True
    check = reception.client.get("/parcels/check?tracking=SF1234567890123").json
    assert check["carrier"] == "sf" and len(check["earlier"]) == 2


def test_the_form_works_without_javascript(app, client, reception):
    # Enter after the scan with no unit: the page comes back, the scan kept, the unit focused.
    page = reception.post("/parcels/", tracking="SF1234567890123", unit="", shelf="A-3")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'value="SF1234567890123"' in html
    assert re.search(r'id="unit"[^>]*autofocus', html, re.S)
    saved = reception.post("/parcels/", tracking="SF1234567890123", unit="101", shelf="A-3")
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/parcels/?shelf=A-3")
    duplicate = reception.post("/parcels/", tracking="SF1234567890123", unit="101", shelf="A-3")
    assert duplicate.status_code == 409
    assert "log it anyway" in duplicate.get_data(as_text=True)


def test_units_are_found_by_number_name_or_pinyin(app, client, reception):
    add_resident(app, unit="101", name="王建国")
    add_resident(app, unit="202", name="李秀英", email="li@example.com")
    add_resident(app, unit="303", name="单田芳", email=None)

    def units(q):
        return [u["unit"] for u in client.get(f"/parcels/units?q={q}").json["units"]]

    assert units("10") == ["101", "102", "103", "104"]
    assert units("王") == ["101"]
    assert units("wangjianguo") == ["101"] and units("wjg") == ["101"] and units("WJG") == ["101"]
    assert units("lxy") == ["202"]
    assert units("shan") == ["303"] and units("stf") == ["303"]  # 单 as a surname reads shàn
    assert units("zzz") == []
    # The intake takes a unique name or pinyin as the unit; an ambiguous one is asked about.
    saved = log_parcel(reception, unit="wjg")
    assert saved.status_code == 201 and saved.json["parcel"]["unit"] == "101"
    assert log_parcel(reception, tracking="YT1234567890123", unit="1").json["error"]["code"] == (
        "unit_ambiguous"
    )
    assert log_parcel(reception, tracking="YT1234567890123", unit="999").status_code == 422


# --- the kiosk pickup -------------------------------------------------------------------------


def test_a_code_collects_every_waiting_parcel_of_the_unit_once(app, client, kiosk, reception):
    log_parcel(reception, tracking="SF1234567890123", shelf="A-3")
    log_parcel(reception, tracking="YT1234567890555", shelf="B-1")
    code = pickup_code(app)
    key = "k" * 20
    answer = pickup(kiosk, key=key, unit="101", code=code)
    assert answer.status_code == 200
    assert answer.json == {
        "parcels": [
            {"carrier": "顺丰 SF Express", "shelf": "A-3", "tracking_tail": "…0123"},
            {"carrier": "圆通 YTO Express", "shelf": "B-1", "tracking_tail": "…0555"},
        ],
        "collect_at": "desk",
        "message_zh": answer.json["message_zh"],
        "message_en": answer.json["message_en"],
    }
    assert "服务台" in answer.json["message_zh"] and "desk" in answer.json["message_en"]
    # The same request again (a kiosk retry) gets the same answer, and releases nothing new.
    assert pickup(kiosk, key=key, unit="101", code=code).json == answer.json
    again = pickup(kiosk, unit="101", code=code)
    assert again.status_code == 410 and again.json["error"]["code"] == "already_collected"
    rows = list(building_db(app)["parcels"].rows)
    assert {r["status"] for r in rows} == {"collected"}
    assert {r["release_method"] for r in rows} == {"kiosk_code"}
    [release] = audit_rows(app, "parcel.release")
    assert json.loads(release["detail"]) == {
        "method": "kiosk_code",
        "unit": "101",
        "parcels": [1, 2],
    }
    assert code not in all_audit_text(app)
    # The desk sees a "hand over" item in the live queue.
    queue = client.get("/queue/rows").get_data(as_text=True)
    assert "Parcel handover" in queue and "货架 A-3" in queue and "货架 B-1" in queue
    assert "Handed over" in queue


def test_the_desk_hands_over_a_kiosk_pickup_from_the_queue(app, client, kiosk, reception):
    log_parcel(reception)
    pickup(kiosk, unit="101", code=pickup_code(app))
    handover_id = building_db(app)["parcel_handovers"].get(1)["id"]
    done = client.post(
        f"/parcels/handovers/{handover_id}/done",
        headers={**FETCH, "X-CSRF-Token": reception.csrf},
    )
    assert done.status_code == 200 and done.json == {"ok": True}
    row = building_db(app)["parcels"].get(1)
    assert row["handed_over_by"] is not None and row["handed_over_at"]
    assert row["release_method"] == "kiosk_code"
    assert "Parcel handover" not in client.get("/queue/rows").get_data(as_text=True)
    [handed] = audit_rows(app, "parcel.hand_over")
    assert json.loads(handed["detail"])["method"] == "kiosk_code"
    second = client.post(
        f"/parcels/handovers/{handover_id}/done", headers={**FETCH, "X-CSRF-Token": reception.csrf}
    )
    assert second.status_code == 409


def test_self_service_buildings_send_the_resident_to_the_shelf(app, client, kiosk, reception):
    building_db(app).execute(
        "UPDATE buildings SET settings = ?", ('{"parcel_self_service": true}',)
    )
    log_parcel(reception, shelf="C-2")
    answer = pickup(kiosk, qr=qr_token(app))
    assert answer.status_code == 200 and answer.json["collect_at"] == "shelf"
    assert "C-2" in answer.json["message_zh"] and "C-2" in answer.json["message_en"]
    assert building_db(app)["parcel_handovers"].count == 0
    assert building_db(app)["parcels"].get(1)["release_method"] == "kiosk_qr"


def test_twenty_threads_with_their_own_connections_release_one_code_once(app, reception, clock):
    log_parcel(reception)
    code = pickup_code(app)
    kiosk_id, _token = paired_kiosk(app)
    path = f"{app.config['DATA_DIR']}/lobbydesk.db"
    start = threading.Barrier(20)
    outcomes = []

    def redeem():
        db = connect(path)
        try:
            start.wait()
            with write_transaction(db):
                outcome = parcels.pickup(
                    db,
                    clock,
                    secret_key=app.config["SECRET_KEY"],
                    kiosk_id=kiosk_id,
                    body={"unit": "101", "code": code},
                )
                _answer, status = pickup_answers.envelope(outcome)
            outcomes.append(status)
        finally:
            db.close()

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [200] + [410] * 19
    assert len(audit_rows(app, "parcel.release")) == 1
    assert building_db(app)["parcel_handovers"].count == 1


def test_twenty_kiosk_requests_at_once_over_http_release_one_code_once(app, reception):
    log_parcel(reception)
    code = pickup_code(app)
    tokens = [paired_kiosk(app, name=f"终端 {n}")[1] for n in range(4)]  # four kiosks
    server = ConsoleServer(app, threads=24).start_in_background()
    start = threading.Barrier(20)
    results = []

    def redeem(n):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[n % 4]}"
        session.get(f"{server.url}/api/v1/ping", timeout=5)  # connect before the race
        start.wait()
        response = session.post(
            f"{server.url}/api/v1/parcels/pickup",
            json={"unit": "101", "code": code},
            headers={"Idempotency-Key": f"race-{n:02d}-" + "x" * 12},
            timeout=10,
        )
        results.append((response.status_code, response.json()))
        session.close()

    try:
        threads = [threading.Thread(target=redeem, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [410] * 19
    assert {body["error"]["code"] for status, body in results if status == 410} == {
        "already_collected"
    }
    assert len(audit_rows(app, "parcel.release")) == 1


def test_five_wrong_codes_pause_the_unit_and_call_reception(app, client, kiosk, reception, clock):
    log_parcel(reception)
    code = pickup_code(app)
    wrong = other_code(code)
    left = [pickup(kiosk, unit="101", code=wrong).json["error"]["attempts_left"] for _ in range(4)]
    assert left == [4, 3, 2, 1]
    fifth = pickup(kiosk, unit="101", code=wrong)
    assert fifth.status_code == 423 and fifth.json["error"]["code"] == "code_entry_paused"
    assert int(fifth.headers["Retry-After"]) in range(899, 902)
    # While paused even the right code is refused, without counting, with Retry-After.
    clock.advance(minutes=5)
    paused = pickup(kiosk, unit="101", code=code)
    assert paused.status_code == 423 and int(paused.headers["Retry-After"]) == 600
    # Reception sees a code-lockout escalation naming the unit (never the code).
    [escalation] = building_db(app)["escalations"].rows
    assert escalation["kind"] == "code_lockout" and "101" in escalation["note"]
    queue = client.get("/queue/rows").get_data(as_text=True)
    assert "Code lockout" in queue and "Unit 101" in queue
    assert code not in all_audit_text(app) and wrong not in all_audit_text(app)
    assert len(audit_rows(app, "parcel.code_lockout")) == 1
    # Other units are not affected.
    log_parcel(reception, tracking="YT1234567890123", unit="102")
    assert pickup(kiosk, unit="102", code=pickup_code(app, "102")).status_code == 200
    # After the pause the right code works.
    clock.advance(minutes=10, seconds=1)
    assert pickup(kiosk, unit="101", code=code).status_code == 200


def test_reception_can_lift_a_pause_after_checking_the_resident(app, client, kiosk, reception):
    log_parcel(reception)
    code = pickup_code(app)
    for _ in range(5):
        pickup(kiosk, unit="101", code=other_code(code))
    page = client.get("/parcels/list").get_data(as_text=True)
    assert "Code entry paused" in page
    assert reception.post("/parcels/pauses/1/lift").status_code == 302
    assert pickup(kiosk, unit="101", code=code).status_code == 200
    assert len(audit_rows(app, "parcel.pause_lift")) == 1


def test_a_kiosk_spraying_codes_is_slowed_but_a_resident_with_the_right_code_is_served(
    app, client, kiosk, reception, clock
):
    log_parcel(reception)  # unit 101 has a parcel; its resident has the code
    code = pickup_code(app)
    sprayed = ["102", "103", "104", "201", "202", "203", "204", "301", "302", "303"]
    for n, unit in enumerate(sprayed):
        assert pickup(kiosk, unit=unit, code=f"{n:06d}").status_code == 400
    # The sprayer is slowed: a sprayed unit waits, with Retry-After and a message in both.
    slowed = pickup(kiosk, unit="102", code="123456")
    assert slowed.status_code == 429 and slowed.json["error"]["code"] == "too_many_attempts"
    first_wait = int(slowed.headers["Retry-After"])
    assert 1 <= first_wait <= 10
    assert "取件码次数太多" in slowed.json["error"]["message"]
    assert "Too many wrong codes at this kiosk" in slowed.json["error"]["message"]
    # Reception sees ONE escalation naming the kiosk and the count.
    queue = client.get("/queue/rows").get_data(as_text=True)
    assert "可疑取件尝试 · Suspicious pickup attempts" in queue
    assert "10 wrong codes across 10 units" in queue and "大堂 A" in queue
    # The resident who walks up next, with the right code for their unit, is served.
    served = pickup(kiosk, unit="101", code=code)
    assert served.status_code == 200 and served.json["parcels"]
    # Spraying on: the wait grows, still one escalation (its count kept current).
    clock.advance(seconds=first_wait)
    assert pickup(kiosk, unit="102", code="000001").status_code == 400
    assert pickup(kiosk, unit="304", code="000002").status_code == 400  # one try per wait
    again = pickup(kiosk, unit="304", code="000003")
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > first_wait
    spray = [e for e in building_db(app)["escalations"].rows if e["screen"] == "pickup_spray"]
    assert len(spray) == 1 and "12 wrong codes across 11 units" in spray[0]["note"]
    assert len(audit_rows(app, "parcel.pickup_spray")) == 1
    # The per-unit lock is unchanged, and once the window passes the kiosk is judged afresh.
    clock.advance(minutes=11)
    assert pickup(kiosk, unit="102", code="123456").status_code == 400


def _tamper(token: str) -> str:
    payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["b"] += 1
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


@pytest.mark.parametrize(
    ("make_qr", "status", "reason"),
    [
        ("tampered", 400, "token_invalid"),
        ("truncated", 400, "token_invalid"),
        ("wrong_key", 400, "token_invalid"),
        ("garbage", 400, "token_invalid"),
        ("expired", 410, "token_expired"),
        ("already_used", 410, "already_collected"),
    ],
)
def test_bad_qr_codes_are_refused_and_audited(
    app, kiosk, reception, clock, make_qr, status, reason
):
    log_parcel(reception)
    log_parcel(reception, tracking="YT1234567890123", unit="102")  # batch 2 exists: tamper target
    token = qr_token(app)
    batch = open_batch(app)
    qr = {
        "tampered": lambda: _tamper(token),
        "truncated": lambda: token[:-6],
        "wrong_key": lambda: parcels.pickup_token("another-" + "y" * 40, batch),
        "garbage": lambda: "hello, this is not a parcel QR",
        "expired": lambda: token,
        "already_used": lambda: token,
    }[make_qr]()
    if make_qr == "expired":
        clock.advance(days=15)
    if make_qr == "already_used":
        assert pickup(kiosk, qr=token).status_code == 200
    refused = pickup(kiosk, qr=qr)
    assert refused.status_code == status and refused.json["error"]["code"] == reason
    [rejected] = audit_rows(app, "parcel.qr_rejected")
    assert json.loads(rejected["detail"]) == {"reason": reason} and rejected["actor"].startswith(
        "kiosk:"
    )
    assert building_db(app)["parcels"].get(2)["status"] == "waiting"
    if make_qr != "already_used":
        assert building_db(app)["parcels"].get(1)["status"] == "waiting"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"unit": "101", "code": "12345"}, 400, "invalid_code_format"),
        ({"unit": "101", "code": "1234567"}, 400, "invalid_code_format"),
        ({"unit": "101", "code": "12a456"}, 400, "invalid_code_format"),
        ({"unit": "101", "code": "１２３４５６"}, 400, "invalid_code_format"),  # full-width digits
        ({"unit": "101", "code": 123456}, 400, "invalid_code_format"),
        ({"unit": "101", "code": ""}, 400, "invalid_code_format"),
        ({"unit": "9999", "code": "123456"}, 422, "unknown_unit"),
        ({"unit": "", "code": "123456"}, 400, "invalid_request"),
        ({"unit": 101, "code": "123456"}, 400, "invalid_request"),
        ({"qr": ""}, 400, "invalid_request"),
        ({"qr": "x" * 600}, 400, "invalid_request"),
        ({"qr": 12}, 400, "invalid_request"),
        ({"unit": "101", "code": "123456", "qr": "x"}, 400, "invalid_request"),
        ({"code": "123456"}, 400, "invalid_request"),
        ({}, 400, "invalid_request"),
        (["unit", "code"], 400, "invalid_request"),
    ],
)
def test_bad_pickup_input_gets_a_clear_error_and_releases_nothing(
    app, kiosk, reception, body, status, code
):
    log_parcel(reception)
    response = kiosk.client.post("/api/v1/parcels/pickup", json=body, headers=kiosk.headers())
    assert response.status_code == status and response.json["error"]["code"] == code
    assert building_db(app)["parcels"].get(1)["status"] == "waiting"
    assert building_db(app)["parcel_code_attempts"].count == 0  # not counted as guesses


def test_the_pickup_needs_a_kiosk_token_and_an_idempotency_key(app, client, kiosk, reception):
    log_parcel(reception)
    body = {"unit": "101", "code": pickup_code(app)}
    assert client.post("/api/v1/parcels/pickup", json=body).status_code == 401
    no_key = client.post("/api/v1/parcels/pickup", json=body, headers=kiosk.headers(key=False))
    assert no_key.status_code == 400 and no_key.json["error"]["code"] == "idempotency_key_missing"
    assert building_db(app)["parcels"].get(1)["status"] == "waiting"


def test_a_unit_with_nothing_waiting_answers_like_a_wrong_code(app, kiosk):
    answer = pickup(kiosk, unit="104", code="123456")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "wrong_code"


# --- codes at rest --------------------------------------------------------------------------------


def test_codes_are_stored_as_a_keyed_hash_and_sealed_not_in_clear(app, reception):
    log_parcel(reception)
    code = pickup_code(app)
    batch = open_batch(app)
    assert batch["code_hash"] != hashlib.sha256(code.encode()).hexdigest()
    assert batch["code_hash"] == parcels.code_hash(app.config["SECRET_KEY"], batch["unit_id"], code)
    assert code not in batch["code_sealed"]
    assert parcels.unseal_code("another-" + "k" * 40, batch["code_sealed"]) != code
    # The QR carries ids only.
    payload = qr_token(app).split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert decoded.keys() == {"u", "b", "exp"}


# --- notification ------------------------------------------------------------------------------


def _png_parts(message):
    return [part for part in message.walk() if part.get_content_type() == "image/png"]


def product_log(caplog) -> str:
    """Every log record but the test SMTP server's own (it stands for the resident's
    mail provider, which of course sees the message)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))


def test_the_email_carries_the_code_and_a_qr_that_the_kiosk_accepts(
    app, kiosk, reception, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    add_resident(app, unit="101", name="王建国", email="wang@example.com")
    log_parcel(reception, tracking="SF1234567890123")
    log_parcel(reception, tracking="YT1234567890555", shelf="B-1")  # same message, both listed
    mailbox = Mailbox().start()
    try:
        sent = parcels.deliver_notices(
            building_db(app), clock, app.config["SECRET_KEY"], mailbox.apprise_url
        )
        [mail] = mailbox.wait_for(1)
    finally:
        mailbox.stop()
    assert sent == 1 and mail["to"] == ["wang@example.com"]
    message = mail["message"]
    code = pickup_code(app)
    assert code not in message["subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(r"取件码：(\d{6})", text).group(1) == code
    assert "…0123" in text and "…0555" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f"cid:{parcels.QR_FILENAME}" in html
    [png] = _png_parts(message)
    assert png.get("Content-ID") == f"<{parcels.QR_FILENAME}>"  # inline, shown in the message
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.get_content())))
    answer = pickup(kiosk, qr=barcode.text)
    assert answer.status_code == 200 and len(answer.json["parcels"]) == 2
    assert building_db(app)["parcels"].get(1)["release_method"] == "kiosk_qr"
    # The code is in the message and nowhere else: not the audit log, not any log record.
    assert code not in all_audit_text(app)
    assert code not in product_log(caplog)


def test_a_mail_server_of_the_residents_own_gets_the_code_and_the_qr(app, reception, clock):
    """A mailto:// URL is an e-mail channel: sent directly (no console mail server needed),
    as the same e-mail with the QR. Other channels (webhooks, WeCom …) get the code as
    text: tests/test_resident_notifications.py."""
    mailbox = Mailbox().start()
    try:
        add_resident(
            app,
            unit="101",
            name="Emily Carter",
            email=None,
            notify_url=mailbox.apprise_url + "&to=emily@example.com",
        )
        log_parcel(reception)
        parcels.deliver_notices(building_db(app), clock, app.config["SECRET_KEY"], None)
        [mail] = mailbox.wait_for(1)
    finally:
        mailbox.stop()
    assert mail["to"] == ["emily@example.com"]
    body = mail["message"].get_body(preferencelist=("plain",)).get_content()
    assert pickup_code(app) in body and len(_png_parts(mail["message"])) == 1


def test_a_failed_message_is_shown_with_a_retry_button_and_retried(
    app, client, reception, clock, caplog
):
    add_resident(app)
    log_parcel(reception)
    db = building_db(app)
    dead = "mailto://127.0.0.1:9?from=desk@lobbydesk.test&mode=insecure"
    assert parcels.deliver_notices(db, clock, app.config["SECRET_KEY"], dead) == 0
    notice = db["parcel_notices"].get(1)
    assert notice["status"] == "pending" and notice["attempts"] == 1 and notice["last_error"]
    page = client.get("/parcels/list").get_data(as_text=True)
    assert "Messages not delivered" in page and "Retrying" in page
    # A dead server is a transient failure, said in words, and Retry is offered.
    assert (
        "对方服务拒收或无法连接 · The message service refused" in page and ">重试 · Retry<" in page
    )
    for _ in range(6):  # the backoff runs out: failed, and it stays visible
        clock.advance(hours=2)
        parcels.deliver_notices(db, clock, app.config["SECRET_KEY"], dead)
    assert db["parcel_notices"].get(1)["status"] == "failed"
    reception.login()
    assert "失败 · Failed" in client.get("/parcels/list").get_data(as_text=True)
    assert "message failed" in client.get("/parcels/list").get_data(as_text=True)
    assert reception.post("/parcels/notices/1/retry").status_code == 302
    mailbox = Mailbox().start()
    try:
        assert (
            parcels.deliver_notices(db, clock, app.config["SECRET_KEY"], mailbox.apprise_url) == 1
        )
        assert len(mailbox.wait_for(1)) == 1
    finally:
        mailbox.stop()
    assert db["parcel_notices"].get(1)["status"] == "sent"
    assert pickup_code(app) not in product_log(caplog)


def test_no_mail_server_is_said_once_as_what_to_set_not_as_a_traceback_per_row(
    app, client, reception, clock
):
    """Without LOBBYDESK_NOTIFY_EMAIL_URL an e-mail cannot go out: each row says so in
    words, Retry (which cannot help) is not offered, and one banner tells an admin what
    to set while reception is told to ask the administrator."""
    for unit, name in (("101", "王建国"), ("102", "李娜")):
        add_resident(app, unit=unit, name=name, email=f"r{unit}@example.com")
        log_parcel(reception, tracking=f"SF12345678901{unit[-2:]}", unit=unit)
    db = building_db(app)
    assert parcels.deliver_notices(db, clock, app.config["SECRET_KEY"], None) == 0
    page = client.get("/parcels/list").get_data(as_text=True)
    assert page.count("未发送：未配置邮件服务器 · Not sent: no mail server set up") == 2
    assert "Error" not in page.replace("错误 · Error", "") and "RuntimeError" not in page
    assert ">重试 · Retry<" not in page
    assert page.count('id="mail-server-missing"') == 1
    assert "ask your administrator" in page and "LOBBYDESK_NOTIFY_EMAIL_URL" not in page
    add_staff(app, username="admin", role="admin", display_name="管理员")
    admin = StaffBrowser(app.test_client())
    assert admin.login("admin").status_code == 302
    page = admin.client.get("/parcels/list").get_data(as_text=True)
    assert page.count('id="mail-server-missing"') == 1
    assert "LOBBYDESK_NOTIFY_EMAIL_URL" in page and "mailtos://" in page
    assert "README" in page and "Configuration" in page


def test_reminders_after_one_and_three_days_then_the_code_expires(
    app, client, kiosk, reception, clock
):
    add_resident(app)
    log_parcel(reception)
    db = building_db(app)
    secret = app.config["SECRET_KEY"]
    code = pickup_code(app)

    def kinds():
        return [n["kind"] for n in db.query("SELECT kind FROM parcel_notices ORDER BY id")]

    mailbox = Mailbox().start()
    try:
        url = mailbox.apprise_url
        assert parcels.run_jobs(db, clock, secret, url) == {"expired": 0, "reminders": 0, "sent": 1}
        clock.advance(hours=23)
        assert parcels.run_jobs(db, clock, secret, url)["reminders"] == 0
        clock.advance(hours=1)
        assert parcels.run_jobs(db, clock, secret, url) == {"expired": 0, "reminders": 1, "sent": 1}
        clock.advance(days=1)
        assert parcels.run_jobs(db, clock, secret, url)["reminders"] == 0
        clock.advance(days=1)
        assert parcels.run_jobs(db, clock, secret, url)["reminders"] == 1
        clock.advance(days=5)
        assert parcels.run_jobs(db, clock, secret, url)["reminders"] == 0  # only two
        assert kinds() == ["parcel.waiting", "parcel.reminder", "parcel.reminder"]
        reminder = mailbox.wait_for(3)[2]["message"]
        assert "Reminder" in reminder["subject"]
        assert code in reminder.get_body(preferencelist=("plain",)).get_content()
        # Day 14: the code expires; the parcel waits on, overdue, for the desk.
        clock.advance(days=5, hours=23)
        assert parcels.run_jobs(db, clock, secret, url)["expired"] == 0
        reception.login()
        assert "P00001" not in client.get("/parcels/list?view=overdue").get_data(as_text=True)
        clock.advance(hours=1)
        assert parcels.run_jobs(db, clock, secret, url)["expired"] == 1
    finally:
        mailbox.stop()
    assert open_batch(app)["status"] == "expired" and open_batch(app)["code_sealed"] is None
    reception.login()
    assert "P00001" in client.get("/parcels/list?view=overdue").get_data(as_text=True)
    late = pickup(kiosk, unit="101", code=code)
    assert late.status_code == 410 and late.json["error"]["code"] == "code_expired"
    # A new parcel gives the unit a new code that collects the old one too.
    log_parcel(reception, tracking="YT1234567890123")
    new_code = pickup_code(app)
    assert len(pickup(kiosk, unit="101", code=new_code).json["parcels"]) == 2


def test_collecting_cancels_messages_not_yet_sent(app, kiosk, reception, clock):
    add_resident(app)
    log_parcel(reception)
    pickup(kiosk, unit="101", code=pickup_code(app))
    db = building_db(app)
    assert db["parcel_notices"].get(1)["status"] == "cancelled"
    assert parcels.deliver_notices(db, clock, app.config["SECRET_KEY"], "mailto://x") == 0


# --- desk handover --------------------------------------------------------------------------------


def test_the_desk_hands_over_by_unit_and_records_who_when_how(app, client, reception):
    log_parcel(reception)
    log_parcel(reception, tracking="YT1234567890123")
    found = client.get("/parcels/desk?unit=101").get_data(as_text=True)
    assert "SF1234567890123" in found and "YT1234567890123" in found
    done = reception.client.post(
        "/parcels/desk/hand-over",
        data={
            "csrf_token": reception.csrf,
            "unit": "101",
            "parcel_id": ["1", "2"],
            "id_checked": "1",
            "collector": "王建国",
        },
    )
    assert done.status_code == 302
    rows = list(building_db(app)["parcels"].rows)
    assert {(r["status"], r["release_method"]) for r in rows} == {("collected", "desk")}
    assert all(r["released_by"] and r["handed_over_by"] and r["handed_over_at"] for r in rows)
    assert open_batch(app)["status"] == "collected"
    [release] = audit_rows(app, "parcel.release")
    assert (
        release["actor"].startswith("staff:") and json.loads(release["detail"])["method"] == "desk"
    )
    # Twice is refused, not double-counted.
    reception.client.post(
        "/parcels/desk/hand-over",
        data={
            "csrf_token": reception.csrf,
            "unit": "101",
            "parcel_id": ["1"],
            "id_checked": "1",
            "collector": "王建国",
        },
    )
    assert len(audit_rows(app, "parcel.release")) == 1


def test_the_desk_scans_the_residents_qr(app, client, reception):
    log_parcel(reception)
    token = qr_token(app)
    found = reception.post("/parcels/desk", scan=token)
    assert found.status_code == 200 and "SF1234567890123" in found.get_data(as_text=True)
    reception.post("/parcels/desk/hand-over", token=token)
    row = building_db(app)["parcels"].get(1)
    assert row["release_method"] == "desk_qr" and row["handed_over_by"]
    again = reception.post("/parcels/desk", scan=token)
    assert again.status_code == 410
    assert [json.loads(r["detail"])["reason"] for r in audit_rows(app, "parcel.qr_rejected")] == [
        "already_collected"
    ]
    forged = reception.post("/parcels/desk", scan=token[:-4] + "AAAA")
    assert forged.status_code == 400


# --- lists, exports, labels, roles -------------------------------------------------------------------


def test_waiting_and_collected_lists_search_and_keyset_paging(app, client, reception, kiosk):
    add_resident(app, unit="202", name="李秀英")
    db = building_db(app)
    with write_transaction(db):
        for n in range(120):
            parcels.intake(
                db,
                app.extensions["lobbydesk.clock"],
                secret_key=app.config["SECRET_KEY"],
                staff_id=1,
                tracking=f"SF{n:013d}",
                unit="101" if n % 2 else "202",
                shelf="A-1",
            )
    seen, url = [], "/parcels/list?view=waiting"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'<tr data-parcel-id="(\d+)"', page)]
        older = re.search(r'href="([^"]+)">更早', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == list(range(120, 0, -1))
    assert (
        len(
            re.findall(
                r"<tr data-parcel-id", client.get("/parcels/list?q=李秀英").get_data(as_text=True)
            )
        )
        == 50
    )
    by_tracking = client.get("/parcels/list?q=0000000000117").get_data(as_text=True)
    assert re.findall(r'<tr data-parcel-id="(\d+)"', by_tracking) == ["118"]
    pickup(kiosk, unit="202", code=pickup_code(app, "202"))
    collected = client.get("/parcels/list?view=collected").get_data(as_text=True)
    assert "P00119" in collected and "P00120" not in collected


def test_csv_export_and_labels_never_include_the_code(app, client, reception):
    add_resident(app)
    log_parcel(reception, tracking="SF1234567890123")
    code = pickup_code(app)
    exported = client.get("/parcels/export.csv")
    text = exported.get_data(as_text=True)
    assert exported.status_code == 200 and code not in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "编号 Ref" and {r[3] for r in rows[1:]} >= {"SF1234567890123"}
    status = rows[0].index("状态 Status")
    assert rows[1][status] == "待取 · Waiting" and rows[1][status + 1] == "waiting"
    assert len(audit_rows(app, "parcel.export")) == 1
    label = client.get("/parcels/1/label.pdf")
    assert label.status_code == 200 and label.data.startswith(b"%PDF")
    assert label.mimetype == "application/pdf"
    lines = documents.parcel_label_lines(
        building="测试大厦",
        unit="101",
        shelf="A-3",
        ref="P00002",
        carrier="顺丰 SF Express",
        tracking_tail="…0123",
        received="2026-11-27 17:00",
    )
    assert not any(code in line for line in lines)
    assert "code" not in str(documents.parcel_label.__code__.co_varnames)


def test_formula_cells_are_neutralised_in_the_export(app, client, reception):
    log_parcel(reception, tracking="SF1234567890123", shelf="-1")
    rows = list(csv.reader(io.StringIO(client.get("/parcels/export.csv").get_data(as_text=True))))
    assert rows[1][5] == "'-1"


PAGES = [
    "/parcels/",
    "/parcels/list",
    "/parcels/list?view=overdue",
    "/parcels/desk",
    "/parcels/export.csv",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["reception", "manager", "admin"])
def test_staff_roles_may_use_the_parcel_pages(app, client, role):
    add_staff(app, username=f"user_{role}", role=role)
    browser = StaffBrowser(client)
    assert browser.login(username=f"user_{role}").status_code == 302
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    saved = log_parcel(browser, unit="101")
    assert saved.status_code == 201


def test_parcel_posts_need_the_csrf_token(app, client, reception):
    response = client.post(
        "/parcels/", data={"tracking": "SF1234567890123", "unit": "101", "shelf": "A"}
    )
    assert response.status_code == 400
    assert building_db(app)["parcels"].count == 0


def test_the_kiosk_api_caller_helper_is_not_a_staff_session(app, client):
    _kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(client, token)
    assert client.get("/parcels/", headers=kiosk.headers(key=False)).status_code == 302


def test_pickup_tokens_use_their_own_purpose(app, reception):
    log_parcel(reception)
    batch = open_batch(app)
    payload = {"u": batch["unit_id"], "b": batch["id"]}
    visitor_pass = signing.sign(
        app.config["SECRET_KEY"], signing.VISITOR_PASS, payload, datetime(2030, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(signing.TokenInvalid):
        parcels.batch_from_token(
            building_db(app),
            app.extensions["lobbydesk.clock"],
            app.config["SECRET_KEY"],
            visitor_pass,
        )
