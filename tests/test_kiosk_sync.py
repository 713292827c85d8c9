"""SyncWorker against a real HTTP server (tests/stub_console.py) with a real client."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import pytest

from kiosk.backoff import Backoff
from kiosk.client import PERMANENT, RETRYABLE, UNAUTHORISED, ConsoleClient, parse_retry_after
from kiosk.errors import ConsoleUnreachable, KioskSetupError
from kiosk.main import pair_kiosk
from kiosk.outbox import ACKED, DEAD, READY, Outbox
from kiosk.refusals import Refusal
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.clock import parse_utc
from shared.errors import PairingCodeExpired, PairingCodeInvalid, PairingCodeUsed
from tests.helpers import eventually
from tests.stub_console import DROP, TOKEN, StubConsole

BODY = {
    "kind": "help",
    "created_at": "2026-11-27T09:00:00.000000+00:00",
    "language": "zh_CN",
    "screen": "home",
}


@pytest.fixture
def console():
    stub = StubConsole().start()
    yield stub
    stub.stop()


class Recorder:
    """Collects what the worker reports, from whichever thread."""

    def __init__(self):
        self.calls = []
        self.event = threading.Event()

    def __getattr__(self, name):
        def record(*args):
            self.calls.append((name, *args))
            self.event.set()

        return record

    def named(self, name):
        return [call[1:] for call in self.calls if call[0] == name]


@pytest.fixture
def seen():
    return Recorder()


def make_worker(store, url, clock, seen, token=TOKEN, **options):
    client = ConsoleClient(url, token)
    worker = SyncWorker(
        store,
        client,
        clock=clock,
        backoff=Backoff(rng=random.Random(7)),
        on_online=seen.online,
        on_event=seen.event_,
        on_acked=seen.acked,
        on_unauthorised=seen.unauthorised,
        on_dead=seen.dead,
        **options,
    )
    return worker


@pytest.fixture
def worker(store, console, clock, seen):
    worker = make_worker(store, console.url, clock, seen)
    yield worker
    worker.client.close()


def enqueue(outbox, n=1):
    return [outbox.enqueue("escalation.help", "/api/v1/escalations", BODY) for _ in range(n)]


def test_delivered_once_with_its_key_and_headers(worker, outbox, console, seen):
    (item_id,) = enqueue(outbox)
    assert worker.drain_once(outbox) is None
    (post,) = console.posts()
    item = outbox.get(item_id)
    assert post["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert post["headers"]["Idempotency-Key"] == item.idempotency_key
    assert post["headers"]["X-Outbox-Depth"] == "1"
    assert post["body"] == BODY
    assert item.state == ACKED and item.body is None
    assert seen.named("acked") == [
        (
            item_id,
            "escalation.help",
            {"id": 1, "status": "open", "received_at": "2026-11-27T09:00:01.000000+00:00"},
        )
    ]
    assert seen.named("online") == [(True,)]
    assert worker.drain_once(outbox) is None
    assert len(console.escalations) == 1


def test_server_down_then_up_delivered_once(store, outbox, clock, seen):
    console = StubConsole().start()
    port = console.port
    console.stop()  # nothing listens on the port now
    worker = make_worker(store, console.url, clock, seen)
    try:
        (item_id,) = enqueue(outbox)
        delay = worker.drain_once(outbox)
        item = outbox.get(item_id)
        assert 0 <= delay <= 1
        assert (item.state, item.attempts) == (READY, 1)
        assert "connection failed" in item.last_error
        assert seen.named("online") == [(False,)]

        console = StubConsole(port=port).start()
        clock.advance(seconds=delay)
        assert worker.drain_once(outbox) is None
        assert outbox.get(item_id).state == ACKED
        assert len(console.escalations) == 1
        assert seen.named("online") == [(False,), (True,)]
    finally:
        worker.client.close()
        console.stop()


def test_lost_answer_is_resent_with_the_same_key_and_applied_once(worker, outbox, console, clock):
    (item_id,) = enqueue(outbox)
    console.script.append(DROP)  # the console commits, the answer never arrives
    delay = worker.drain_once(outbox)
    assert outbox.get(item_id).state == READY
    clock.advance(seconds=delay)
    assert worker.drain_once(outbox) is None
    first, second = console.posts()
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["raw"] == second["raw"]  # byte for byte, or the console says 422
    assert len(console.escalations) == 1
    assert outbox.get(item_id).response_json["id"] == 1


def test_429_retry_after_is_honoured(worker, outbox, console, clock):
    (item_id,) = enqueue(outbox)
    console.script.append(
        (429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"Retry-After": "7"})
    )
    start = clock.now()
    assert worker.drain_once(outbox) == 7.0
    item = outbox.get(item_id)
    assert parse_utc(item.next_attempt_at) == start + timedelta(seconds=7)
    assert item.last_error == "HTTP 429 rate_limited: slow down"
    assert worker.online is True  # 429 means the console is there

    clock.advance(seconds=6.9)
    assert worker.drain_once(outbox) == pytest.approx(0.1)
    assert len(console.posts()) == 1  # not sent before its time
    clock.advance(seconds=0.1)
    assert worker.drain_once(outbox) is None
    assert outbox.get(item_id).state == ACKED


def test_fifo_a_failing_head_holds_back_newer_items(worker, outbox, console, clock):
    first, second = enqueue(outbox, 2)
    console.script.append((503, {"error": {"code": "busy", "message": "later"}}, {}))
    delay = worker.drain_once(outbox)
    assert len(console.posts()) == 1
    assert outbox.get(second).state == READY and outbox.get(second).attempts == 0
    clock.advance(seconds=delay)
    worker.drain_once(outbox)
    keys = [p["headers"]["Idempotency-Key"] for p in console.posts()]
    first_key, second_key = (outbox.get(i).idempotency_key for i in (first, second))
    assert keys == [first_key, first_key, second_key]


def test_401_keeps_items_and_stops_sending(worker, outbox, console, seen):
    first, second = enqueue(outbox, 2)
    console.revoked = True
    assert worker.drain_once(outbox) == worker.unauthorised_recheck
    assert worker.drain_once(outbox) == worker.unauthorised_recheck
    assert len(console.posts()) == 1  # stopped after the first 401
    for item_id in (first, second):
        item = outbox.get(item_id)
        assert (item.state, item.attempts) == (READY, 0)
    assert worker.unauthorised
    assert seen.named("unauthorised") == [()]
    assert outbox.depth() == 2


def test_a_refused_request_is_dead_lettered_and_the_queue_moves_on(worker, outbox, console, seen):
    first, second = enqueue(outbox, 2)
    console.script.append(
        (422, {"error": {"code": "idempotency_key_reused", "message": "different body"}}, {})
    )
    assert worker.drain_once(outbox) is None
    assert outbox.get(first).state == DEAD
    assert outbox.get(first).body_json == BODY  # kept for staff
    assert outbox.get(second).state == ACKED
    refusal = Refusal("idempotency_key_reused", "HTTP 422 idempotency_key_reused: different body")
    assert seen.named("dead") == [(first, "escalation.help", refusal)]
    assert outbox.get(first).last_error_code == "idempotency_key_reused"  # kept as data
    # … and the whole item goes back to the console, for the desk to resend or discard
    [report] = console.alerts
    assert report["kind"] == "escalation.help" and report["path"] == "/api/v1/escalations"
    assert json.loads(report["body"]) == BODY and "different body" in report["error"]
    assert report["key"] == outbox.get(first).idempotency_key


def test_being_paced_by_the_console_never_kills_an_item(store, console, clock, seen):
    """A kiosk back after days offline meets the console's write limit again and
    again: each 429 rate_limited waits as told, and is not a failed attempt."""
    worker = make_worker(store, console.url, clock, seen)
    outbox = Outbox(store)
    try:
        (item_id,) = enqueue(outbox)
        slow_down = {"error": {"code": "rate_limited", "message": "slow down"}}
        console.script.extend([(429, slow_down, {"Retry-After": "2"})] * 5)
        for _ in range(5):
            assert worker.drain_once(outbox) == 2.0
            clock.advance(seconds=2)
        assert outbox.get(item_id).attempts == 0
        assert worker.drain_once(outbox) is None
        assert outbox.get(item_id).state == ACKED
        assert seen.named("dead") == []
    finally:
        worker.client.close()


def test_an_unreachable_console_never_kills_an_item(store, clock, seen):
    """Refused connections for two days of kiosk time: the item waits, capped, and is
    still there to send; nothing is dead-lettered."""
    worker = make_worker(store, "http://127.0.0.1:9", clock, seen)
    outbox = Outbox(store)
    try:
        (item_id,) = enqueue(outbox)
        waited = 0.0
        while waited < 2 * 86400:
            delay = worker.drain_once(outbox)
            assert 0 <= delay <= worker.backoff.cap
            clock.advance(seconds=max(delay, 1.0))
            waited += max(delay, 1.0)
            if outbox.get(item_id).attempts >= 60:
                break
        item = outbox.get(item_id)
        assert item.state == READY and item.attempts >= 60
        assert seen.named("dead") == []
    finally:
        worker.client.close()


def test_a_clock_set_back_does_not_hold_items_back(store, console, clock, seen):
    """The kiosk's clock was 8 h fast when an item failed; corrected, the item goes at
    once instead of waiting 8 h."""
    worker = make_worker(store, console.url, clock, seen)
    outbox = Outbox(store)
    try:
        (item_id,) = enqueue(outbox)
        outbox.mark_in_flight(item_id)
        outbox.retry_later(item_id, "timed out", clock.now() + timedelta(hours=8, seconds=30))
        assert worker.drain_once(outbox) is None
        assert outbox.get(item_id).state == ACKED
    finally:
        worker.client.close()


def test_backoff_is_exponential_capped_and_deterministic():
    backoff = Backoff(base=1, cap=300, rng=random.Random(42))
    assert [backoff.ceiling(n) for n in (1, 2, 3, 4, 9, 10, 20)] == [1, 2, 4, 8, 256, 300, 300]
    delays = [backoff.delay(n) for n in range(1, 12)]
    again = Backoff(base=1, cap=300, rng=random.Random(42))
    assert delays == [again.delay(n) for n in range(1, 12)]
    assert all(0 <= d <= backoff.ceiling(n) for n, d in enumerate(delays, start=1))
    assert backoff.delay(3, retry_after=12) == 12
    assert backoff.delay(3, retry_after=86400) == 300  # a bad header cannot park the kiosk
    # two days of retries count thousands of attempts: still a delay, never an error
    assert backoff.ceiling(5000) == 300 and 0 <= backoff.delay(10**6) <= 300


def test_worker_backoff_uses_the_injected_random(store, clock, seen):
    worker = make_worker(store, "http://127.0.0.1:9", clock, seen)
    outbox = Outbox(store)
    try:
        enqueue(outbox)
        got = []
        for _ in range(4):
            got.append(worker.drain_once(outbox))
            clock.advance(seconds=got[-1])
        expected = Backoff(rng=random.Random(7))
        assert got == [expected.delay(n) for n in range(1, 5)]
    finally:
        worker.client.close()


@pytest.mark.parametrize(
    "header, seconds",
    [("7", 7.0), ("0", 0.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_feed_events_are_handed_on_and_the_cursor_stored(worker, store, console, seen):
    console.add_event("escalation.acknowledged", {"escalation_id": 1, "staff_name": "王芳"})
    result = worker.poll_feed_once(wait=0)
    assert result.ok
    ((event,),) = seen.named("event_")
    assert event["payload"]["staff_name"] == "王芳"
    assert store.get("feed_cursor") == 1
    worker.poll_feed_once(wait=0)
    assert len(seen.named("event_")) == 1  # not handed on twice
    assert console.requests[-1]["query"]["after"] == ["1"]


def test_ping_reports_the_outbox_depth(worker, outbox, console, seen):
    enqueue(outbox, 3)
    assert worker.ping_once(outbox).ok
    assert console.requests[-1]["headers"]["X-Outbox-Depth"] == "3"
    console.revoked = True
    assert worker.ping_once(outbox).outcome == UNAUTHORISED
    assert seen.named("unauthorised") == [()]


def test_threads_send_at_once_during_a_long_poll_and_pass_events_from_it(store, outbox, console):
    """The sender does not wait behind the feeder's 25 s long poll, and an event wakes
    that very poll. Shown by what the console had open when each thing happened (the
    poll's own deadline is 25 s; no wall-clock limit is asserted)."""

    def seen(path):
        return sum(1 for r in list(console.requests) if r["path"] == path)

    at_ack, events = [], []
    worker = SyncWorker(
        store,
        ConsoleClient(console.url, TOKEN),
        feed_wait=25,
        on_acked=lambda *_: at_ack.append((console.polls_waiting, seen("/api/v1/feed"))),
        on_event=lambda event: events.append((seen("/api/v1/feed"), event)),
    )
    worker.start()
    try:
        eventually(lambda: console.polls_waiting == 1, message="a 25 s long poll is open")
        # the sender's first round ends with a ping; then it idles until woken
        eventually(lambda: seen("/api/v1/ping"), message="the sender's first round")
        enqueue(outbox)
        worker.wake()
        eventually(lambda: at_ack, message="the help call acknowledged")
        assert at_ack == [(1, 1)], "a send waited for the long poll"  # the first poll still open
        assert len(console.escalations) == 1

        console.add_event("escalation.acknowledged", {"escalation_id": 1, "staff_name": "王芳"})
        eventually(lambda: events, message="the event handed on")
        [(polls, event)] = events
        assert event["payload"]["staff_name"] == "王芳"
        assert polls == 1 and console.polls_timed_out == 0  # the first poll, woken by the event
    finally:
        console.release()
        worker.stop()
        worker.client.close()
    assert not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("kiosk-"))


def test_recover_at_start_resends_what_was_in_flight(store, outbox, console):
    (item_id,) = enqueue(outbox)
    outbox.mark_in_flight(item_id)  # killed mid-send last time
    worker = SyncWorker(store, ConsoleClient(console.url, TOKEN), feed_wait=1)
    worker.start()
    try:
        eventually(lambda: outbox.get(item_id).state == ACKED, message="the item resent")
    finally:
        console.release()
        worker.stop()
        worker.client.close()
    assert outbox.get(item_id).state == ACKED
    assert len(console.escalations) == 1


def test_client_classifies_answers(console):
    client = ConsoleClient(console.url, "wrong-token")
    try:
        assert client.ping(0).outcome == UNAUTHORISED
        assert client.feed(0, 0).error_code == "kiosk_not_authorised"
    finally:
        client.close()
    down = ConsoleClient("http://127.0.0.1:9", TOKEN)
    try:
        result = down.ping(0)
        assert result.outcome == RETRYABLE and result.status is None
        assert not result.reached_console
    finally:
        down.close()
    nobody = ConsoleClient(console.url, TOKEN)
    try:
        assert nobody._call("GET", "/nowhere", headers=nobody._headers()).outcome == PERMANENT
    finally:
        nobody.close()


def test_pair_kiosk_stores_the_token(console, tmp_path):
    answer = pair_kiosk(console.url, "abcde fghjk", tmp_path)
    assert answer == {
        "kiosk": {"id": 1, "name": "Lobby A"},
        "building": {"name": "滨江花园", "name_en": "Riverside Gardens"},
    }
    store = KioskStore.open(tmp_path / "kiosk.db")
    try:
        assert store.token == TOKEN
        assert store.get("building_name_en") == "Riverside Gardens"
    finally:
        store.close()


@pytest.mark.parametrize(
    "code, error, message",
    [
        ("ZZZZZ-ZZZZZ", PairingCodeInvalid, "This pairing code is not known."),
        ("USEDD-CODEE", PairingCodeUsed, "This pairing code was already used."),
        ("OLDDD-CODEE", PairingCodeExpired, "This pairing code has expired."),
    ],
)
def test_pair_kiosk_errors_carry_the_consoles_message(console, tmp_path, code, error, message):
    with pytest.raises(error, match=message) as raised:
        pair_kiosk(console.url, code, tmp_path)
    assert isinstance(raised.value, KioskSetupError)  # what the CLI reports
    assert not (tmp_path / "kiosk.db").exists()


def test_pair_kiosk_console_unreachable(tmp_path):
    with pytest.raises(ConsoleUnreachable, match="127.0.0.1:9"):
        pair_kiosk("http://127.0.0.1:9", "ABCDE-FGHJK", tmp_path)
