"""The kiosk API: exactly-once writes and clear 4xx answers to bad input."""

import pytest

from tests.helpers import building_db, make_app


@pytest.fixture
def app(tmp_path, clock):
    """The console with a small per-kiosk write limit (30 at once, then 1 a second), so
    the limit's tests below read plainly; production defaults: console/settings.py."""
    return make_app(tmp_path, clock, KIOSK_WRITE_BURST=30, KIOSK_WRITES_PER_SECOND=1)


def test_call_reception_is_recorded_with_the_consoles_time(app, kiosk, clock):
    response = kiosk.call_reception(created_at="2026-11-26T09:00:00+00:00")  # kiosk a day behind
    assert response.status_code == 201
    row = building_db(app)["escalations"].get(response.json["id"])
    assert row["kind"] == "help" and row["status"] == "open"
    assert row["created_at"] == "2026-11-26T09:00:00.000000+00:00"  # the kiosk's, in UTC
    assert row["clock_doubtful"] == 0
    assert row["received_at"] == "2026-11-27T09:00:00.000000+00:00"  # the console's clock rules


def test_the_same_key_twice_gives_the_original_answer_and_one_record(app, kiosk):
    first = kiosk.call_reception(key="k" * 32)
    second = kiosk.call_reception(key="k" * 32)
    assert second.status_code == first.status_code == 201
    assert second.json == first.json
    assert building_db(app)["escalations"].count == 1


def test_the_same_key_with_a_different_body_is_refused(app, kiosk):
    kiosk.call_reception(key="k" * 32)
    response = kiosk.call_reception(key="k" * 32, language="en")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert building_db(app)["escalations"].count == 1


def test_a_write_without_idempotency_key_is_refused(app, kiosk, client):
    response = client.post(
        "/api/v1/escalations",
        json={"kind": "help", "created_at": "2026-11-27T09:00:00+00:00"},
        headers=kiosk.headers(key=False),
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "idempotency_key_missing"


def test_two_kiosks_may_use_the_same_key_independently(app, client, kiosk):
    from tests.helpers import KioskCaller, paired_kiosk

    other = KioskCaller(client, paired_kiosk(app, name="大堂 B")[1])
    assert kiosk.call_reception(key="s" * 32).status_code == 201
    assert other.call_reception(key="s" * 32).status_code == 201
    assert building_db(app)["escalations"].count == 2


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b'{"kind": "help"}', "text/plain", "application/json"),
        (b"[1, 2]", "application/json", "JSON object"),
        (
            b'{"kind": "fire", "created_at": "2026-11-27T09:00:00+00:00"}',
            "application/json",
            "kind",
        ),
        (b'{"kind": "help", "created_at": "yesterday"}', "application/json", "created_at"),
        (
            b'{"kind": "help", "created_at": "2026-11-27T09:00:00"}',
            "application/json",
            "created_at",
        ),
        (
            b'{"kind": "help", "created_at": "2026-11-27T09:00:00Z", "language": "fr"}',
            "application/json",
            "language",
        ),
        (
            b'{"kind": "help", "created_at": "2026-11-27T09:00:00Z", "screen": "<script>"}',
            "application/json",
            "screen",
        ),
        (
            b'{"kind": "help", "created_at": "2026-11-27T09:00:00Z", "extra": 1}',
            "application/json",
            "unexpected",
        ),
    ],
)
def test_bad_input_gets_a_clear_400_and_nothing_is_stored(
    app, client, kiosk, body, content_type, message
):
    response = client.post(
        "/api/v1/escalations", data=body, content_type=content_type, headers=kiosk.headers()
    )
    assert response.status_code == 400
    assert message in response.json["error"]["message"]
    assert building_db(app)["escalations"].count == 0


def test_an_oversized_body_is_refused_with_413(client, kiosk):
    response = client.post(
        "/api/v1/escalations",
        data=b"x" * (300 * 1024),
        content_type="application/json",
        headers=kiosk.headers(),
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"


def test_unknown_api_path_and_wrong_method_answer_json(client, kiosk):
    assert (
        client.get("/api/v1/nothing", headers=kiosk.headers(key=False)).json["error"]["code"]
        == "not_found"
    )
    assert client.put("/api/v1/ping", headers=kiosk.headers(key=False)).status_code == 405


def test_a_bad_outbox_depth_header_is_refused(client, kiosk):
    response = client.get(
        "/api/v1/ping", headers=kiosk.headers(key=False, **{"X-Outbox-Depth": "lots"})
    )
    assert response.status_code == 400


def test_feed_returns_at_once_when_there_is_news(app, client, kiosk, reception):
    escalation_id = kiosk.call_reception().json["id"]
    reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
    response = client.get("/api/v1/feed?after=0&wait=20", headers=kiosk.headers(key=False))
    events = response.json["events"]
    assert [e["kind"] for e in events] == ["escalation.acknowledged"]
    assert events[0]["payload"] == {"escalation_id": escalation_id, "staff_name": "王芳"}
    assert response.json["cursor"] == events[0]["id"]
    again = client.get(
        f"/api/v1/feed?after={events[0]['id']}&wait=0&epoch={response.json['epoch']}",
        headers=kiosk.headers(key=False),
    )
    assert again.json["events"] == []


@pytest.mark.parametrize(
    "query",
    ["after=x", "wait=100", "after=-1", "wait=-2", "wait=nan", "after=99999999999999999999"],
)
def test_feed_rejects_bad_parameters(client, kiosk, query):
    assert client.get(f"/api/v1/feed?{query}", headers=kiosk.headers(key=False)).status_code == 400


def test_a_kiosk_only_sees_its_own_feed(app, client, kiosk, reception):
    from tests.helpers import KioskCaller, paired_kiosk

    other = KioskCaller(client, paired_kiosk(app, name="大堂 B")[1])
    escalation_id = kiosk.call_reception().json["id"]
    reception.post(f"/queue/escalations/{escalation_id}/acknowledge")
    assert client.get("/api/v1/feed?wait=0", headers=other.headers(key=False)).json["events"] == []


def test_kiosk_settings_tell_the_privacy_notice_its_retention(app, client, kiosk):
    answer = client.get("/api/v1/settings", headers=kiosk.headers(key=False)).json
    assert answer["visit_retention_days"] == 90
    assert answer["building"] == {"name": "测试大厦", "name_en": "Test Tower"}
    assert answer["visitor_phone_required"] is False


def test_stored_request_fingerprints_are_keyed(app, kiosk):
    """A body can hold a 6-digit pickup code: a plain hash of it would be reversed offline."""
    import hashlib
    import json

    body = {
        "kind": "help",
        "created_at": "2026-11-27T08:59:58+00:00",
        "language": "zh_CN",
        "screen": "home",
    }
    kiosk.call_reception(key="f" * 32)
    stored = building_db(app)["idempotency_records"].get((1, "f" * 32))["request_hash"]
    plain = json.dumps(["POST", "/api/v1/escalations", body], sort_keys=True, ensure_ascii=False)
    assert stored != hashlib.sha256(plain.encode()).hexdigest() and len(stored) == 64


# --- the per-kiosk write limit (SECURITY.md 16) ------------------------------------------


def test_a_kiosk_may_send_30_writes_at_once_then_one_a_second(app, client, kiosk, clock):
    from tests.helpers import KioskCaller, paired_kiosk

    answers = [kiosk.call_reception(key=f"burst-{n:027d}") for n in range(30)]
    assert {a.status_code for a in answers} == {201}
    refused = kiosk.call_reception(key="burst-" + "x" * 27)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    error = refused.json["error"]
    assert error["code"] == "rate_limited" and error["retry_after"] == 1
    assert "请 1 秒后再试" in error["message"] and "try again in 1 s" in error["message"]
    assert building_db(app)["escalations"].count == 30
    assert building_db(app)["idempotency_records"].count == 30  # the refused one: not stored
    # A retry of a stored write is answered as before and costs nothing.
    replay = kiosk.call_reception(key=f"burst-{0:027d}")
    assert replay.status_code == 201 and replay.json == answers[0].json
    # Another kiosk has its own allowance.
    other = KioskCaller(client, paired_kiosk(app, name="大堂 B")[1])
    assert other.call_reception().status_code == 201
    # Reads are not limited.
    assert client.get("/api/v1/ping", headers=kiosk.headers(False)).status_code == 200
    # One second later the refused write goes through (same key), then the next waits again.
    clock.advance(seconds=1)
    assert kiosk.call_reception(key="burst-" + "x" * 27).status_code == 201
    assert kiosk.call_reception().status_code == 429
    clock.advance(seconds=30)
    assert {kiosk.call_reception().status_code for _ in range(30)} == {201}
    assert kiosk.call_reception().status_code == 429


def test_a_burst_of_emergency_reports_raises_no_more_than_the_limit(app, kiosk):
    body = {"unit": "101", "category": "water", "problem": "burst_pipe"}
    codes = [
        kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers()).status_code
        for _ in range(45)
    ]
    assert codes == [201] * 30 + [429] * 15
    db = building_db(app)
    assert (
        db.execute("SELECT COUNT(*) FROM escalations WHERE kind = 'emergency'").fetchone()[0] == 30
    )
    assert db["tickets"].count == 30


def test_every_write_route_shares_the_kiosks_allowance(app, client, kiosk):
    for n in range(30):
        assert kiosk.call_reception().status_code == 201, n
    for path, body in [
        ("/api/v1/tickets", {"unit": "101", "category": "water", "problem": "dripping_tap"}),
        ("/api/v1/tickets/rating", {"qr": "x", "rating": 5}),
        ("/api/v1/visits/sign-out", {"phone": "13812345678"}),
        ("/api/v1/parcels/pickup", {"unit": "101", "code": "123456"}),
        ("/api/v1/alerts", {"kind": "dead_letter", "item_kind": "x", "error": "e"}),
    ]:
        answer = client.post(path, json=body, headers=kiosk.headers())
        assert answer.status_code == 429, path
        assert answer.json["error"]["code"] == "rate_limited" and "Retry-After" in answer.headers


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000+00:00"),  # a battery reset
        ("2101-06-01T08:00:00+08:00", "2101-06-01T00:00:00.000000+00:00"),
        ("2026-11-27T17:00:00+00:00", "2026-11-27T17:00:00.000000+00:00"),  # 8 h fast
        # year 1 east of UTC, year 9999 west of it: no place on the UTC line at all
        ("0001-01-01T00:00:00+08:00", "2026-11-27T09:00:00.000000+00:00"),
        ("9999-12-31T23:59:59-05:00", "2026-11-27T09:00:00.000000+00:00"),
    ],
)
def test_no_call_is_refused_for_its_kiosk_clock_it_is_flagged(app, kiosk, sent, stored):
    """One rule for every kind (shared/kiosk_time.py): visits and repairs too."""
    from tests.test_ticket_api import report
    from tests.test_visitors import register

    assert kiosk.call_reception(created_at=sent).status_code == 201
    assert register(kiosk, created_at=sent).status_code == 201
    assert report(kiosk, created_at=sent).status_code == 201
    db = building_db(app)
    for table in ("escalations", "visits", "tickets"):
        row = db.execute(f"SELECT created_at, clock_doubtful FROM {table}").fetchone()
        assert tuple(row) == (stored, 1), table


def test_staff_see_which_kiosk_clock_is_wrong(app, kiosk, reception):
    from tests.test_visitors import register

    kiosk.call_reception(created_at="1970-01-01T00:00:00Z")
    register(kiosk, created_at="2026-11-27T08:59:00+00:00")
    rows = reception.client.get("/queue/rows").get_data(as_text=True)
    assert rows.count("kiosk clock wrong") == 1  # the 1970 call; the visit's time is fine
    assert "1970-01-01" in rows
