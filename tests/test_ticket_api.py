"""The kiosk's ticket API (/api/v1/tickets …) on a real console: bad input gets a
clear error and stores nothing; photos are checked and lose their metadata;
writes happen once; look-up and rating by QR or number + unit."""

from __future__ import annotations

import base64
import io
import os
import random

import pytest
from PIL import Image

from shared import retention, tickets
from tests.helpers import add_staff, building_db

SECRET = "test-" + "x" * 40


def body(**fields):
    return {
        "unit": "101",
        "category": "water",
        "problem": "dripping_tap",
        "urgency": "normal",
        "language": "zh_CN",
        "created_at": "2026-11-27T08:59:30+00:00",
        **fields,
    }


def report(kiosk, key=None, **fields):
    return kiosk.client.post("/api/v1/tickets", json=body(**fields), headers=kiosk.headers(key))


def ticket_count(app) -> int:
    return building_db(app).execute("SELECT COUNT(*) FROM tickets").fetchone()[0]


def jpeg_with_exif(size=(2000, 1000)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def staff_id(app):
    return add_staff(app, username="liming", display_name="李明")


def resolve(app, clock, ticket_id, staff_id):
    tickets.set_status(
        building_db(app),
        clock,
        ticket_id,
        staff_id=staff_id,
        status="resolved",
        secret_key=SECRET,
        public_url="http://lobby.test",
    )


def test_a_report_answers_with_the_number_the_due_time_and_a_qr(app, kiosk):
    answer = report(kiosk)
    assert answer.status_code == 201
    assert set(answer.json) == {
        "id",
        "number",
        "status",
        "urgency",
        "category",
        "problem",
        "received_at",
        "sla_due_at",
        "expected_minutes",
        "emergency",
        "qr",
    }
    assert answer.json["number"] == "1" and answer.json["expected_minutes"] == 4320


def test_the_kiosk_settings_include_the_sla_minutes(kiosk):
    settings = kiosk.client.get("/api/v1/settings", headers=kiosk.headers(False)).json
    assert settings["ticket_sla_minutes"] == {"emergency": 15, "urgent": 240, "normal": 4320}


@pytest.mark.parametrize(
    ("fields", "status", "code", "says"),
    [
        ({"unit": "9999"}, 422, "unknown_unit", "no such unit"),
        ({"unit": 101}, 400, "invalid_request", "unit"),
        ({"description": "漏" * 501}, 400, "invalid_request", "500"),
        ({"description": "水龙头\x00坏了"}, 400, "invalid_request", "control character"),
        ({"description": "\x1b[31m red"}, 400, "invalid_request", "control character"),
        ({"description": "a\rb"}, 400, "invalid_request", "control character"),
        ({"description": "right\u202eleft"}, 400, "invalid_request", "control character"),
        ({"description": 42}, 400, "invalid_request", "text"),
        ({"category": "plumbing"}, 400, "invalid_request", "category"),
        ({"category": ["water"]}, 400, "invalid_request", "category"),
        ({"problem": "light_out"}, 400, "invalid_request", "problem"),
        ({"urgency": "asap"}, 400, "invalid_request", "urgency"),
        ({"urgency": 3}, 400, "invalid_request", "urgency"),
        ({"language": "fr"}, 400, "invalid_request", "language"),
        ({"created_at": "yesterday"}, 400, "invalid_request", "created_at"),
        ({"reporter": "me"}, 400, "invalid_request", "unexpected fields: reporter"),
        ({"photo": 12}, 422, "photo_rejected", "photo"),
        ({"photo": "not base64!!"}, 422, "photo_rejected", "base64"),
        ({"photo": b64(b"just some text, not a picture")}, 422, "photo_rejected", "photo"),
        ({"photo": b64(b"GIF89a" + b"\x00" * 50)}, 422, "photo_rejected", "photo"),
        ({"photo": b64(b"\xff\xd8\xff" + os.urandom(2_000_001))}, 422, "photo_rejected", "2 MB"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(
    app, kiosk, fields, status, code, says
):
    answer = report(kiosk, **fields)
    assert answer.status_code == status, answer.json
    assert answer.json["error"]["code"] == code
    assert says.lower() in answer.json["error"]["message"].lower()
    assert ticket_count(app) == 0
    assert building_db(app).execute("SELECT COUNT(*) FROM idempotency_records").fetchone()[0] == 0
    assert not tickets.photo_folder(app.config["DATA_DIR"]).exists() or not any(
        tickets.photo_folder(app.config["DATA_DIR"]).iterdir()
    )


def test_a_body_that_is_not_an_object_or_lacks_the_unit_is_refused(app, kiosk):
    for sent in ([body()], "101", {k: v for k, v in body().items() if k != "unit"}):
        answer = kiosk.client.post("/api/v1/tickets", json=sent, headers=kiosk.headers())
        assert answer.status_code == 400
    assert ticket_count(app) == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("第一行\r\n第二行", "第一行\n第二行"),
        ("line one\nline two", "line one\nline two"),
        ("  厨房  ", "厨房"),
        ("", None),
    ],
)
def test_newlines_are_kept_in_a_description(app, kiosk, sent, stored):
    answer = report(kiosk, description=sent)
    assert answer.status_code == 201
    assert tickets.get(building_db(app), answer.json["id"])["description"] == stored


def test_a_photo_is_stored_as_a_small_jpeg_without_any_metadata(app, kiosk):
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()[0x010F] == "SpyCam Inc"  # the test has EXIF
    answer = report(kiosk, photo=b64(original))
    assert answer.status_code == 201
    ticket = tickets.get(building_db(app), answer.json["id"])
    path = tickets.photo_folder(app.config["DATA_DIR"]) / ticket["photo_path"]
    assert path.name == f"{ticket['id']}.jpg"
    saved_bytes = path.read_bytes()
    with Image.open(path) as saved:
        assert saved.format == "JPEG" and saved.size == (1600, 800)
        assert len(saved.getexif()) == 0
        assert "exif" not in saved.info and "comment" not in saved.info
    assert b"SpyCam" not in saved_bytes and b"Exif" not in saved_bytes


def test_a_png_photo_is_accepted_and_stored_as_jpeg(app, kiosk):
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 0, 128)).save(out, format="PNG")
    answer = report(kiosk, photo=b64(out.getvalue()))
    assert answer.status_code == 201
    ticket = tickets.get(building_db(app), answer.json["id"])
    with Image.open(tickets.photo_folder(app.config["DATA_DIR"]) / ticket["photo_path"]) as saved:
        assert saved.format == "JPEG" and saved.size == (300, 200)


def test_a_photo_of_almost_2_mb_fits_in_the_request(app, kiosk):
    """A JPEG just under the cap travels as base64 (≈ 2.7 MB of JSON) and is accepted."""
    noise = random.Random(5).randbytes(800 * 800 * 3)  # noise compresses badly: a big file
    out = io.BytesIO()
    Image.frombytes("RGB", (800, 800), noise).save(out, format="JPEG", quality=100)
    data = out.getvalue()
    data = data[:-2] + b"\x00" * (1_999_000 - len(data)) + data[-2:]  # padding before EOI
    assert len(data) == 1_999_000 <= tickets.MAX_PHOTO_BYTES
    answer = report(kiosk, photo=b64(data))
    assert answer.status_code == 201, answer.json
    ticket = tickets.get(building_db(app), answer.json["id"])
    with Image.open(tickets.photo_folder(app.config["DATA_DIR"]) / ticket["photo_path"]) as saved:
        assert saved.size == (800, 800)


def test_the_same_key_replays_the_same_ticket_and_another_body_is_refused(app, kiosk):
    key = "ticket-key-0000000001"
    first = report(kiosk, key=key)
    again = report(kiosk, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    other = report(kiosk, key=key, description="something else")
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert ticket_count(app) == 1


def test_a_report_without_an_idempotency_key_is_refused(app, kiosk):
    answer = kiosk.client.post("/api/v1/tickets", json=body(), headers=kiosk.headers(False))
    assert answer.status_code == 400 and ticket_count(app) == 0


def test_an_emergency_replayed_raises_one_escalation(app, kiosk):
    key = "ticket-key-emergency01"
    report(kiosk, key=key, category="elevator", problem="trapped")
    report(kiosk, key=key, category="elevator", problem="trapped")
    db = building_db(app)
    assert (
        db.execute("SELECT COUNT(*) FROM escalations WHERE kind = 'emergency'").fetchone()[0] == 1
    )


def lookup(kiosk, payload):
    return kiosk.client.post("/api/v1/tickets/lookup", json=payload, headers=kiosk.headers(False))


def test_lookup_by_qr_and_by_number_and_unit(app, kiosk):
    created = report(kiosk, category="electrical", problem="light_out").json
    by_qr = lookup(kiosk, {"qr": created["qr"]})
    by_number = lookup(kiosk, {"number": created["number"], "unit": "101"})
    assert by_qr.status_code == by_number.status_code == 200
    assert by_qr.json == by_number.json
    assert by_qr.json["number"] == created["number"] and by_qr.json["status"] == "new"
    assert by_qr.json["problem"] == "light_out" and by_qr.json["can_rate"] is False


@pytest.mark.parametrize(
    "payload",
    [{"number": "1", "unit": "102"}, {"number": "2", "unit": "101"}, {"number": "x", "unit": "1"}],
)
def test_lookup_with_the_wrong_number_or_unit_is_not_found(app, kiosk, payload):
    report(kiosk)
    answer = lookup(kiosk, payload)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "ticket_not_found"


def test_a_tampered_qr_is_refused_and_logged(app, kiosk):
    qr = report(kiosk).json["qr"]
    forged = qr[:-1] + ("A" if qr[-1] != "A" else "B")
    answer = lookup(kiosk, {"qr": forged})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "token_invalid"
    # a visitor pass or a parcel QR is not a ticket QR
    from shared import signing
    from shared.clock import parse_utc

    other = signing.sign(SECRET, signing.VISITOR_PASS, {"t": 1}, parse_utc("2027-01-01T00:00:00Z"))
    assert lookup(kiosk, {"qr": other}).status_code == 400
    rejected = building_db(app).execute(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.qr_rejected'"
    )
    assert rejected.fetchone()[0] == 2


def test_an_expired_qr_is_gone(app, kiosk, clock):
    qr = report(kiosk).json["qr"]
    clock.advance(days=366)
    answer = lookup(kiosk, {"qr": qr})
    assert answer.status_code == 410 and answer.json["error"]["code"] == "token_expired"


@pytest.mark.parametrize("payload", [{}, {"qr": "x", "number": "1"}, {"number": "1"}, ["qr"]])
def test_lookup_wants_a_qr_or_a_number_and_unit(kiosk, payload):
    assert lookup(kiosk, payload).status_code == 400


def rate(kiosk, payload, key=None):
    return kiosk.client.post("/api/v1/tickets/rating", json=payload, headers=kiosk.headers(key))


def test_rating_through_the_api(app, kiosk, clock, staff_id):
    created = report(kiosk).json
    early = rate(kiosk, {"qr": created["qr"], "rating": 5, "reasons": []})
    assert early.status_code == 409 and early.json["error"]["code"] == "ticket_not_resolved"
    resolve(app, clock, created["id"], staff_id)
    for bad in (
        {"qr": created["qr"], "rating": 0, "reasons": []},
        {"qr": created["qr"], "rating": 6, "reasons": []},
        {"qr": created["qr"], "rating": "2", "reasons": []},
        {"qr": created["qr"], "rating": 2, "reasons": ["rude"]},
        {"qr": created["qr"], "rating": 2, "reasons": "slow"},
        {"qr": created["qr"], "reasons": []},
        {"qr": created["qr"], "rating": 2, "stars": 2},
    ):
        answer = rate(kiosk, bad)
        assert answer.status_code == 400, bad
    assert tickets.get(building_db(app), created["id"])["rating"] is None
    key = "rating-key-000000000001"
    rated = rate(kiosk, {"number": "1", "unit": "101", "rating": 2, "reasons": ["slow"]}, key)
    assert rated.status_code == 200
    assert rated.json["rating"] == 2 and rated.json["can_rate"] is False
    assert rate(
        kiosk, {"number": "1", "unit": "101", "rating": 2, "reasons": ["slow"]}, key
    ).json == (rated.json)  # the retry of the same tap
    again = rate(kiosk, {"qr": created["qr"], "rating": 5, "reasons": []})
    assert again.status_code == 409 and again.json["error"]["code"] == "ticket_already_rated"
    ticket = tickets.get(building_db(app), created["id"])
    assert ticket["rating"] == 2 and ticket["rated_via"] == "kiosk"
    assert ticket["rating_reason_keys"] == ["slow"]


def test_a_rating_for_an_unknown_ticket_is_not_found(kiosk):
    answer = rate(kiosk, {"number": "77", "unit": "101", "rating": 4, "reasons": []})
    assert answer.status_code == 404


def test_old_ticket_photos_are_purged_with_their_reference(app, kiosk, clock):
    answer = report(kiosk, photo=b64(jpeg_with_exif((400, 300))))
    db = building_db(app)
    path = tickets.photo_folder(app.config["DATA_DIR"]) / f"{answer.json['id']}.jpg"
    assert path.exists()
    clock.advance(days=29)
    counts = retention.purge(db, clock, data_dir=app.config["DATA_DIR"])
    assert counts["ticket_photos"] == 0 and path.exists()
    clock.advance(days=2)
    counts = retention.purge(db, clock, data_dir=app.config["DATA_DIR"])
    assert counts["ticket_photos"] == 1 and not path.exists()
    assert tickets.get(db, answer.json["id"])["photo_path"] is None


def test_a_revoked_kiosks_report_with_a_photo_is_held_for_staff(app, kiosk):
    from shared import kiosks

    kiosks.revoke(building_db(app), app.extensions["lobbydesk.clock"], 1, actor="test")
    photo = b64(random.Random(3).randbytes(1_000_000))  # bigger than other requests may be
    answer = report(kiosk, photo=photo)
    assert answer.status_code == 202 and answer.json["quarantined"] is True
    held = building_db(app).execute("SELECT path FROM quarantine").fetchall()
    assert held == [("/api/v1/tickets",)] and ticket_count(app) == 0
