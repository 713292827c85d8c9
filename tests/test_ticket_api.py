"""The kiosk's ticket API (/api/v1/tickets …) on a real console: bad input gets a
clear error and stores nothing; photos are checked and lose their metadata, and
are decoded outside the write lock; writes happen once; look-up by QR or number +
unit (misses throttled per kiosk); rating by the ticket's QR only."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import threading

import pytest
from PIL import Image

from shared import retention, tickets
from tests.helpers import KioskCaller, add_staff, building_db, paired_kiosk

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


def jpeg(size, **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(out, format="JPEG", quality=60, **save)
    return out.getvalue()


def png(size, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")  # one colour: a few KB, however large
    return out.getvalue()


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
        ({"description": "right\u200fleft"}, 400, "invalid_request", "U+200F"),
        ({"description": "١٢\u061c٣"}, 400, "invalid_request", "U+061C"),
        ({"description": "line\u2028break"}, 400, "invalid_request", "U+2028"),
        ({"description": "para\u2029break"}, 400, "invalid_request", "U+2029"),
        ({"description": "zero\u200bwidth"}, 400, "invalid_request", "U+200B"),
        ({"description": "\ufeffbom"}, 400, "invalid_request", "U+FEFF"),
        ({"description": "private\ue000use"}, 400, "invalid_request", "U+E000"),
        ({"description": "tab\there"}, 400, "invalid_request", "U+0009"),
        ({"description": 42}, 400, "invalid_request", "text"),
        ({"category": "plumbing"}, 400, "invalid_request", "category"),
        ({"category": ["water"]}, 400, "invalid_request", "category"),
        ({"problem": "light_out"}, 400, "invalid_request", "problem"),
        ({"urgency": "asap"}, 400, "invalid_request", "urgency"),
        ({"urgency": 3}, 400, "invalid_request", "urgency"),
        ({"language": "fr"}, 400, "invalid_request", "language"),
        ({"created_at": "yesterday"}, 400, "invalid_request", "created_at"),
        ({"created_at": "2026-11-27T08:59:30"}, 400, "invalid_request", "with a zone"),
        ({"reporter": "me"}, 400, "invalid_request", "unexpected fields: reporter"),
        ({"photo": 12}, 422, "photo_rejected", "photo"),
        ({"photo": "not base64!!"}, 422, "photo_rejected", "base64"),
        ({"photo": b64(b"just some text, not a picture")}, 422, "photo_rejected", "photo"),
        ({"photo": b64(b"GIF89a" + b"\x00" * 50)}, 422, "photo_rejected", "photo"),
        ({"photo": b64(b"\xff\xd8\xff" + os.urandom(2_000_001))}, 422, "photo_rejected", "2 MB"),
        ({"photo": b64(jpeg((4100, 4000)))}, 422, "photo_rejected", "at most 12 megapixels"),
        # 16 MP of one colour: 60 KB of PNG, 2 s of CPU to decode. Refused from its header.
        ({"photo": b64(png((4000, 4000)))}, 422, "photo_rejected", "at most 12 megapixels"),
        ({"photo": b64(png((2100, 2000), "1"))}, 422, "photo_rejected", "not a photo"),
        ({"photo": b64(png((2100, 2000), "P"))}, 422, "photo_rejected", "not a photo"),
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


def test_a_kiosk_clock_ahead_is_kept_and_only_far_ahead_is_flagged(app, kiosk):
    near = report(kiosk, created_at="2026-11-27T09:05:00+00:00")  # 5 min ahead: drift
    far = report(kiosk, created_at="2026-11-28T08:00:00+00:00")  # 23 h ahead: a wrong clock
    assert near.status_code == far.status_code == 201
    db = building_db(app)
    assert (tickets.get(db, near.json["id"])["clock_doubtful"]) == 0
    stored = tickets.get(db, far.json["id"])
    assert stored["created_at"] == "2026-11-28T08:00:00.000000+00:00"
    assert stored["clock_doubtful"] == 1


def test_a_large_phone_photo_is_stored_upright_at_1600_px(app, kiosk):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held upright, the sensor sideways
    answer = report(kiosk, photo=b64(jpeg((4000, 3000), exif=exif)))
    assert answer.status_code == 201, answer.json
    ticket = tickets.get(building_db(app), answer.json["id"])
    with Image.open(tickets.photo_folder(app.config["DATA_DIR"]) / ticket["photo_path"]) as saved:
        assert saved.size == (1200, 1600) and len(saved.getexif()) == 0


def test_a_small_palette_picture_is_still_accepted(app, kiosk):
    answer = report(kiosk, photo=b64(png((800, 600), "P")))
    assert answer.status_code == 201, answer.json


def test_a_photo_is_decoded_before_the_write_lock_so_other_kiosks_are_not_held_up(
    app, kiosk, monkeypatch
):
    """While one kiosk's photo is being decoded, another kiosk's report is answered."""
    other = KioskCaller(app.test_client(), paired_kiosk(app, name="大堂 B")[1])
    decoding, other_answered = threading.Event(), threading.Event()
    seen = {}
    real_prepare = tickets.prepare_photo

    def slow_prepare(encoded):
        decoding.set()
        seen["other_answered_meanwhile"] = other_answered.wait(timeout=10)
        return real_prepare(encoded)

    monkeypatch.setattr(tickets.photos, "prepare_photo", slow_prepare)
    photo = threading.Thread(
        target=lambda: seen.setdefault("photo", report(kiosk, photo=b64(jpeg((800, 600)))))
    )
    photo.start()
    assert decoding.wait(timeout=10)
    plain = report(other, description="走廊灯不亮")
    other_answered.set()
    photo.join(timeout=30)
    assert plain.status_code == 201
    assert seen["other_answered_meanwhile"] is True
    assert seen["photo"].status_code == 201 and ticket_count(app) == 2


def test_a_replayed_photo_report_answers_at_once_without_decoding_again(app, kiosk, monkeypatch):
    key = "ticket-key-photo000001"
    first = report(kiosk, key=key, photo=b64(jpeg((800, 600))))
    assert first.status_code == 201

    def no_second_decode(encoded):
        raise AssertionError("a replay must not decode the photo again")

    monkeypatch.setattr(tickets.photos, "prepare_photo", no_second_decode)
    again = report(kiosk, key=key, photo=b64(jpeg((800, 600))))
    assert again.status_code == 201 and again.json == first.json
    assert ticket_count(app) == 1


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
    rated = rate(kiosk, {"qr": created["qr"], "rating": 2, "reasons": ["slow"]}, key)
    assert rated.status_code == 200
    assert rated.json["rating"] == 2 and rated.json["can_rate"] is False
    assert rate(kiosk, {"qr": created["qr"], "rating": 2, "reasons": ["slow"]}, key).json == (
        rated.json
    )  # the retry of the same tap
    again = rate(kiosk, {"qr": created["qr"], "rating": 5, "reasons": []})
    assert again.status_code == 409 and again.json["error"]["code"] == "ticket_already_rated"
    ticket = tickets.get(building_db(app), created["id"])
    assert ticket["rating"] == 2 and ticket["rated_via"] == "kiosk"
    assert ticket["rating_reason_keys"] == ["slow"]


def test_a_rating_for_an_unknown_ticket_is_not_found(kiosk, clock):
    qr = tickets.ticket_qr(SECRET, {"id": 77}, clock.now())  # signed, but no such ticket
    answer = rate(kiosk, {"qr": qr, "rating": 4, "reasons": []})
    assert answer.status_code == 404


def test_the_number_and_unit_alone_never_rate_a_ticket(app, kiosk, clock, staff_id):
    """Ticket numbers are sequential and units are no secret: rating needs the QR."""
    created = report(kiosk).json
    resolve(app, clock, created["id"], staff_id)
    for payload in (
        {"number": created["number"], "unit": "101", "rating": 1, "reasons": ["slow"]},
        {"number": created["number"], "unit": "101", "rating": 5},
    ):
        answer = rate(kiosk, payload)
        assert answer.status_code == 400
        assert answer.json["error"]["code"] == "rating_needs_qr"
        assert "请扫描报修单二维码评价" in answer.json["error"]["message"]
        assert "Scan the ticket's QR code to rate it" in answer.json["error"]["message"]
    db = building_db(app)
    assert tickets.get(db, created["id"])["rating"] is None
    assert db.execute("SELECT COUNT(*) FROM idempotency_records").fetchone()[0] == 1  # the report
    # The resident with the receipt still can.
    rated = rate(kiosk, {"qr": created["qr"], "rating": 5, "reasons": []})
    assert rated.status_code == 200 and tickets.get(db, created["id"])["rating"] == 5


def misses(app) -> list[tuple[str, dict]]:
    rows = building_db(app).execute(
        "SELECT actor, detail FROM audit_log WHERE action = 'ticket.lookup_missed' ORDER BY id"
    )
    return [(actor, json.loads(detail)) for actor, detail in rows]


def test_lookups_by_number_that_miss_are_audited_and_throttled_per_kiosk(app, client, kiosk, clock):
    mine = report(kiosk).json
    other = KioskCaller(client, paired_kiosk(app, name="大堂 B")[1])
    for n, unit in enumerate(["102", "103", "201", "202", "203"]):
        answer = lookup(kiosk, {"number": mine["number"], "unit": unit})
        assert answer.status_code == 404, n
        clock.advance(seconds=30)
    assert misses(app) == [
        ("kiosk:1", {"number": mine["number"], "unit": unit})
        for unit in ["102", "103", "201", "202", "203"]
    ]
    # Five misses in ten minutes: now even a right number + unit waits.
    throttled = lookup(kiosk, {"number": mine["number"], "unit": "101"})
    assert throttled.status_code == 429
    assert throttled.json["error"]["code"] == "too_many_attempts"
    message = throttled.json["error"]["message"]
    assert "请 8 分钟后再试" in message and "try again in 8 minutes" in message
    assert throttled.headers["Retry-After"] == "450"  # the first miss is 7.5 minutes old
    assert throttled.json["error"]["retry_after"] == 450
    assert len(misses(app)) == 5  # a refused look-up is not a guess
    # The QR on the receipt still works, and other kiosks are not affected.
    assert lookup(kiosk, {"qr": mine["qr"]}).status_code == 200
    assert lookup(other, {"number": mine["number"], "unit": "101"}).status_code == 200
    # When the oldest miss is ten minutes old, one more try is allowed.
    clock.advance(seconds=449)
    assert lookup(kiosk, {"number": mine["number"], "unit": "101"}).status_code == 429
    clock.advance(seconds=1)
    assert lookup(kiosk, {"number": mine["number"], "unit": "101"}).status_code == 200


def test_lookups_that_find_the_ticket_are_never_throttled(app, kiosk):
    mine = report(kiosk).json
    for _ in range(20):
        assert lookup(kiosk, {"number": mine["number"], "unit": "101"}).status_code == 200
    assert misses(app) == []


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


def test_pictures_are_decoded_one_at_a_time_and_a_flood_gets_503_to_retry(
    tmp_path, clock, monkeypatch
):
    """One kiosk sends photos within its write limit: one picture is decoded at a time,
    one more may wait, the next is refused at once (503 + Retry-After, retryable) and
    another kiosk's help call is answered meanwhile."""
    from tests.helpers import make_app

    app = make_app(tmp_path, clock, IMAGE_WORKERS=1, IMAGE_QUEUE=1)
    kiosk = KioskCaller(app.test_client(), paired_kiosk(app)[1])
    other = KioskCaller(app.test_client(), paired_kiosk(app, name="大堂 B")[1])
    release, lock = threading.Event(), threading.Lock()
    started, running = threading.Semaphore(0), {"now": 0, "most": 0}
    real_prepare = tickets.prepare_photo

    def held_prepare(encoded):
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        started.release()
        release.wait(timeout=20)
        try:
            return real_prepare(encoded)
        finally:
            with lock:
                running["now"] -= 1

    monkeypatch.setattr(tickets.photos, "prepare_photo", held_prepare)
    photo = b64(jpeg((800, 600)))
    answers = []
    senders = [
        threading.Thread(target=lambda: answers.append(report(kiosk, photo=photo)))
        for _ in range(2)
    ]
    for sender in senders:
        sender.start()
    assert started.acquire(timeout=10)  # the first is being decoded …
    assert not started.acquire(timeout=0.2)  # … the second waits its turn
    busy = report(kiosk, photo=photo)  # the third: at once, not queued
    assert busy.status_code == 503 and busy.json["error"]["code"] == "busy"
    assert int(busy.headers["Retry-After"]) >= 1
    assert "图片" in busy.json["error"]["message"] and "busy" in busy.json["error"]["message"]
    assert other.call_reception().status_code == 201  # other kiosks are answered
    release.set()
    for sender in senders:
        sender.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert running["most"] == 1 and ticket_count(app) == 2
    # Retried later, the refused report goes through.
    assert report(kiosk, photo=photo).status_code == 201
