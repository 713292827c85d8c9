"""The kiosk outbox: a durable, ordered state machine.

docs/ARCHITECTURE.md, "The kiosk outbox"; SECURITY.md 14, 27-29, 32.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.errors import OutboxStateError
from kiosk.outbox import ACKED, DEAD, IN_FLIGHT, READY, Outbox
from kiosk.store import KioskStore
from shared.clock import to_iso

HELP_BODY = {
    "kind": "help",
    "created_at": "2026-11-27T09:00:00.000000+00:00",
    "language": "zh_CN",
    "screen": "home",
}


def queue(outbox, n=1, **body):
    return [
        outbox.enqueue("escalation.help", "/api/v1/escalations", {**HELP_BODY, **body})
        for _ in range(n)
    ]


def test_enqueue_is_durable_before_it_returns(tmp_path, clock, outbox):
    (item_id,) = queue(outbox)
    other = KioskStore.open(tmp_path / "kiosk.db", clock)  # another connection: sees the commit
    try:
        item = Outbox(other).get(item_id)
    finally:
        other.close()
    assert item.state == READY
    assert item.attempts == 0
    assert item.body_json == HELP_BODY
    assert item.method == "POST" and item.path == "/api/v1/escalations"
    assert len(item.idempotency_key) == 32
    assert item.created_at == item.next_attempt_at == "2026-11-27T09:00:00.000000+00:00"


def test_store_uses_the_durable_settings(store):
    assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_happy_path_ready_in_flight_acked_clears_the_body(outbox, clock):
    (item_id,) = queue(outbox)
    outbox.mark_in_flight(item_id)
    assert outbox.get(item_id).state == IN_FLIGHT
    assert outbox.depth() == 1
    clock.advance(seconds=2)
    outbox.mark_acked(item_id, {"id": 7, "status": "open"})
    item = outbox.get(item_id)
    assert item.state == ACKED
    assert item.body is None  # personal data leaves once acknowledged
    assert item.kind == "escalation.help"
    assert item.response_json == {"id": 7, "status": "open"}
    assert item.acked_at == "2026-11-27T09:00:02.000000+00:00"
    assert outbox.depth() == 0
    assert outbox.next_ready(clock.now(), 60) is None


@pytest.mark.parametrize(
    "move, from_state",
    [("mark_in_flight", IN_FLIGHT), ("mark_acked", READY), ("retry_later", READY)],
)
def test_transitions_from_the_wrong_state_are_refused(outbox, clock, move, from_state):
    (item_id,) = queue(outbox)
    if from_state == IN_FLIGHT:
        outbox.mark_in_flight(item_id)
    args = {
        "mark_in_flight": (),
        "mark_acked": ({},),
        "retry_later": ("boom", clock.now()),
    }[move]
    with pytest.raises(OutboxStateError):
        getattr(outbox, move)(item_id, *args)
    assert outbox.get(item_id).state == from_state


def test_recover_puts_in_flight_back_to_ready(tmp_path, clock, outbox):
    first, second = queue(outbox, 2)
    outbox.mark_in_flight(first)
    # The kiosk is killed here; at the next start:
    restarted = KioskStore.open(tmp_path / "kiosk.db", clock)
    try:
        again = Outbox(restarted)
        assert again.recover() == 1
        assert [i.state for i in again.items()] == [READY, READY]
        assert again.next_ready(clock.now(), 60).id == first
    finally:
        restarted.close()


def test_fifo_and_a_waiting_head_is_not_overtaken(outbox, clock):
    first, second, third = queue(outbox, 3)
    assert outbox.next_ready(clock.now(), 60).id == first
    outbox.mark_in_flight(first)
    outbox.retry_later(first, "connection refused", clock.now() + timedelta(seconds=30))
    # The head waits for its retry: nothing newer jumps the queue.
    assert outbox.next_ready(clock.now(), 60) is None
    assert outbox.head().id == first
    clock.advance(seconds=30)
    assert outbox.next_ready(clock.now(), 60).id == first


def test_the_same_key_is_reused_on_every_retry(outbox, clock):
    (item_id,) = queue(outbox)
    key = outbox.get(item_id).idempotency_key
    for attempt in (1, 2):
        outbox.mark_in_flight(item_id)
        outbox.retry_later(item_id, f"HTTP 503 #{attempt}", clock.now())
        item = outbox.get(item_id)
        assert item.idempotency_key == key
        assert item.attempts == attempt
        assert item.last_error == f"HTTP 503 #{attempt}"
    other = queue(outbox)[0]
    assert outbox.get(other).idempotency_key != key


def test_transient_failures_never_use_an_item_up(outbox, clock):
    (item_id,) = queue(outbox)
    for _ in range(500):  # a day of a console that does not answer
        outbox.mark_in_flight(item_id)
        outbox.retry_later(item_id, "timed out", clock.now())
    item = outbox.get(item_id)
    assert item.state == READY and item.attempts == 500
    assert item.body_json == HELP_BODY
    assert outbox.depth() == 1


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-27T17:00:00.000000+00:00",  # set 8 h ahead by a clock that was then corrected
        "2101-01-01T00:00:00+00:00",
        "garbage",
        "",
    ],
)
def test_no_stored_retry_time_can_park_the_queue(outbox, clock, stored):
    first, _second = queue(outbox, 2)
    outbox.db.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (stored, first))
    assert outbox.next_ready(clock.now(), 60).id == first


def test_a_retry_within_the_cap_still_waits_its_turn(outbox, clock):
    (first,) = queue(outbox)
    outbox.mark_in_flight(first)
    outbox.retry_later(first, "HTTP 503", clock.now() + timedelta(seconds=45))
    assert outbox.next_ready(clock.now(), 60) is None
    clock.advance(seconds=45)
    assert outbox.next_ready(clock.now(), 60).id == first


def test_mark_dead_and_release(outbox, clock):
    first, second = queue(outbox, 2)
    outbox.mark_in_flight(first)
    outbox.mark_dead(first, "HTTP 422 invalid_request")
    assert outbox.get(first).state == DEAD
    outbox.mark_in_flight(second)
    later = clock.now() + timedelta(seconds=30)
    outbox.release(second, "HTTP 401", later)
    item = outbox.get(second)
    assert (item.state, item.attempts, item.next_attempt_at) == (READY, 0, to_iso(later))
    with pytest.raises(OutboxStateError):
        outbox.mark_dead(first, "again")


def test_kiosk_state_key_values(store):
    assert store.token is None
    store.save_pairing(
        {
            "token": "t" * 43,
            "kiosk": {"id": 3, "name": "Lobby A"},
            "building": {"name": "滨江花园", "name_en": "Riverside"},
        }
    )
    assert store.token == "t" * 43
    assert store.get("building_name") == "滨江花园"
    assert store.get("feed_cursor") == 0
    store.set(feed_cursor=12)
    assert store.get("feed_cursor") == 12
    assert store.get("missing", "x") == "x"
