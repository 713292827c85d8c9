"""POST /api/v1/batch: a kiosk's backlog in one request and one transaction, each item
answered exactly as if it had been sent alone, under its own Idempotency-Key."""

from __future__ import annotations

from shared import rate_limit
from shared.tokens import new_idempotency_key
from tests.helpers import KioskCaller, building_db, make_app, paired_kiosk

HELP = "/api/v1/escalations"
VISITS = "/api/v1/visits"


def help_call(key=None, created_at="2026-11-27T08:59:58+00:00"):
    body = {"kind": "help", "created_at": created_at, "language": "zh_CN", "screen": "home"}
    return {"key": key or new_idempotency_key(), "path": HELP, "body": body}


def visit(key=None, unit="101", name="张先生"):
    body = {
        "name": name, "phone": "13812345678", "unit": unit, "purpose": "visit",
        "party_size": 1, "language": "zh_CN", "created_at": "2026-11-27T08:59:59+00:00",
    }  # fmt: skip
    return {"key": key or new_idempotency_key(), "path": VISITS, "body": body}


def send(kiosk, items):
    return kiosk.client.post(
        "/api/v1/batch", json={"items": items}, headers=kiosk.headers(key=False)
    )


def count(app, table):
    db = building_db(app)
    try:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


def test_each_item_is_answered_alone_and_a_refused_one_rolls_back_alone(app, kiosk):
    items = [help_call(), visit(unit="9999"), visit()]
    response = send(kiosk, items)
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["key"] for r in results] == [i["key"] for i in items]
    assert [r["status"] for r in results] == [201, 422, 201]
    assert results[1]["body"]["error"]["code"] == "unknown_unit"
    assert count(app, "escalations") == 1 and count(app, "visits") == 1


def test_a_batch_sent_twice_is_applied_once_with_the_same_answers(app, kiosk):
    items = [help_call() for _ in range(5)]
    first = send(kiosk, items).json["results"]
    again = send(kiosk, items).json["results"]
    assert again == first
    assert count(app, "escalations") == 5


def test_an_item_sent_alone_and_then_in_a_batch_is_the_same_write(app, kiosk):
    item = help_call()
    alone = kiosk.client.post(HELP, json=item["body"], headers=kiosk.headers(item["key"]))
    assert alone.status_code == 201
    batched = send(kiosk, [item]).json["results"][0]
    assert batched == {"key": item["key"], "status": 201, "body": alone.json}
    assert count(app, "escalations") == 1


def test_a_key_reused_for_another_body_is_refused_for_that_item_only(app, kiosk):
    first = help_call()
    send(kiosk, [first])
    reused = help_call(key=first["key"], created_at="2026-11-27T08:00:00+00:00")
    results = send(kiosk, [reused, help_call()]).json["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert results[0]["body"]["error"]["code"] == "idempotency_key_reused"


def test_a_parcel_pickup_never_travels_in_a_batch(app, kiosk):
    pickup = {"key": new_idempotency_key(), "path": "/api/v1/parcels/pickup",
              "body": {"unit": "101", "code": "123456"}}  # fmt: skip
    results = send(kiosk, [pickup, help_call()]).json["results"]
    assert [r["status"] for r in results] == [400, 201]
    assert results[0]["body"]["error"]["code"] == "not_batchable"


def test_a_wrong_envelope_is_a_clear_400_and_nothing_is_written(app, kiosk):
    bad = [
        {"items": []},
        {"items": [help_call()], "more": 1},
        {"items": [{"key": "short", "path": HELP, "body": {}}]},
        {"items": [help_call()] * 2},
        {"items": [help_call() for _ in range(101)]},
        {"items": "all of them"},
        [help_call()],
    ]
    for body in bad:
        response = kiosk.client.post("/api/v1/batch", json=body, headers=kiosk.headers(key=False))
        assert response.status_code == 400, body
        assert response.json["error"]["code"] in ("invalid_request",)
    assert count(app, "escalations") == 0


def test_a_drain_is_not_paced_like_single_writes_but_has_an_allowance(tmp_path, clock):
    app = make_app(tmp_path, clock, KIOSK_BACKLOG_ALLOWANCE=150, KIOSK_WRITE_BURST=5)
    _kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(app.test_client(), token)
    first = send(kiosk, [help_call() for _ in range(100)]).json["results"]
    assert {r["status"] for r in first} == {201}  # far beyond the single-write burst of 5
    second_items = [help_call() for _ in range(100)]
    second = send(kiosk, second_items).json["results"]
    assert [r["status"] for r in second].count(201) == 50
    limited = [r for r in second if r["status"] == 429]
    assert len(limited) == 50 and all(r["body"]["error"]["retry_after"] >= 1 for r in limited)
    # A live call still goes at once: it has its own bucket.
    assert kiosk.call_reception().status_code == 201
    # The refused items were not stored: the same keys go through once the allowance
    # has refilled (2 a second), and the applied half is only replayed.
    clock.advance(seconds=60)
    refused = [i for i, r in zip(second_items, second, strict=True) if r["status"] == 429]
    assert {r["status"] for r in send(kiosk, refused).json["results"]} == {201}
    assert {r["status"] for r in send(kiosk, second_items).json["results"]} == {201}
    assert count(app, "escalations") == 201


def test_take_up_to_grants_what_is_there(coordinated):
    buckets = rate_limit.TokenBuckets(coordinated, "kiosk_backlog", capacity=10, rate=2)
    assert buckets.take_up_to("k", 0.0, 4) == (4, 0.0)
    taken, wait = buckets.take_up_to("k", 0.0, 10)
    assert taken == 6 and wait == 0.5
    assert buckets.take_up_to("k", 1.0, 5) == (2, 0.5)
