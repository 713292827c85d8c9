"""What a kiosk sends first, and that nothing is ever given up for being slow: live
before backlog, the backlog in batches, record order kept, clocks that jump, a
console away for minutes or days. Real console (uvicorn, real HTTP), real kiosk
outbox; only the kiosk's clock is injected."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import requests

from console.server import ConsoleServer
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, DEAD, READY, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import kiosks
from shared.clock import FrozenClock, to_iso
from tests.helpers import building_db, make_app

PACE_FREE = {"KIOSK_WRITE_BURST": 10_000, "KIOSK_BACKLOG_ALLOWANCE": 100_000}


def paired_store(app, path, clock) -> KioskStore:
    db = building_db(app)
    console_clock = app.extensions["lobbydesk.clock"]
    created = kiosks.create(db, console_clock, building_id=1, name="大堂 A", actor="test")
    answer = kiosks.pair(db, console_clock, created["pairing_code"])
    db.close()
    store = KioskStore.open(path, clock)
    store.save_pairing(answer)
    return store


def help_call(outbox: Outbox, created_at: str, screen: str = "home") -> int:
    body = {"kind": "help", "created_at": created_at, "language": "zh_CN", "screen": screen}
    return outbox.enqueue("escalation.help", "/api/v1/escalations", body)


def visit(outbox: Outbox, clock, phone="13812345678", name="张先生") -> int:
    body = {
        "name": name, "phone": phone, "unit": "101", "purpose": "visit", "party_size": 1,
        "language": "zh_CN", "created_at": to_iso(clock.now()),
    }  # fmt: skip
    return outbox.enqueue("visit.register", "/api/v1/visits", body)


def counting_client(url, token):
    """A ConsoleClient whose session counts the requests per path."""
    session = requests.Session()
    counts: dict[str, int] = {}

    def count(response, *args, **kwargs):
        path = response.request.path_url.split("?")[0]
        counts[path] = counts.get(path, 0) + 1

    session.hooks["response"].append(count)
    return ConsoleClient(url, token, session=session), counts


def drain(worker, outbox, rounds=200):
    for _ in range(rounds):
        if worker.drain_once(outbox) is None:
            return
    raise AssertionError("the outbox did not drain")


def rows(app, sql):
    db = building_db(app)
    try:
        return list(db.query(sql))
    finally:
        db.close()


@pytest.fixture
def kiosk_clock():
    return FrozenClock("2026-11-27T09:00:00+00:00")


@pytest.fixture
def console(tmp_path):
    app = make_app(tmp_path / "console", **PACE_FREE)
    server = ConsoleServer(app).start_in_background()
    yield app, server
    server.stop()


def test_a_call_made_now_goes_before_a_backlog_which_travels_in_batches(
    tmp_path, console, kiosk_clock
):
    app, server = console
    store = paired_store(app, tmp_path / "kiosk.db", kiosk_clock)
    outbox = Outbox(store)
    with store.db.conn:
        for n in range(1000):  # queued during an outage that ended an hour ago
            help_call(outbox, to_iso(kiosk_clock.now() + timedelta(seconds=n)), screen="visitor")
    kiosk_clock.advance(hours=1)
    now_call = help_call(outbox, to_iso(kiosk_clock.now()), screen="home")
    client, counts = counting_client(server.url, store.token)
    worker = SyncWorker(store, client, clock=kiosk_clock)
    drain(worker, outbox)
    escalations = rows(app, "SELECT screen FROM escalations ORDER BY id")
    assert len(escalations) == 1001
    assert escalations[0]["screen"] == "home"  # the person at the kiosk first
    assert {row["screen"] for row in escalations[1:]} == {"visitor"}
    assert counts["/api/v1/escalations"] == 1
    assert counts["/api/v1/batch"] <= 12  # 1,000 items in batches of 100, not 1,000 requests
    assert outbox.get(now_call).state == ACKED
    assert {item.state for item in outbox.items()} == {ACKED}


def test_a_new_visit_does_not_overtake_an_older_item_about_the_same_phone(
    tmp_path, console, kiosk_clock
):
    app, server = console
    store = paired_store(app, tmp_path / "kiosk.db", kiosk_clock)
    outbox = Outbox(store)
    visit(outbox, kiosk_clock, name="张先生")  # yesterday's visit, queued offline
    help_call(outbox, to_iso(kiosk_clock.now()))
    kiosk_clock.advance(hours=20)
    visit(outbox, kiosk_clock, name="张先生今天")  # the same visitor back today
    visit(outbox, kiosk_clock, phone="13900001111", name="李女士")  # someone else
    worker = SyncWorker(store, ConsoleClient(server.url, store.token), clock=kiosk_clock)
    drain(worker, outbox)
    names = [v["name"] for v in rows(app, "SELECT name FROM visits ORDER BY id")]
    # 李女士 is live with nothing older about her: first. 张先生's visits reach the
    # console in the order they happened, so the desk sees today's as the latest.
    assert names == ["李女士", "张先生", "张先生今天"]
    assert {item.state for item in outbox.items()} == {ACKED}


@pytest.mark.parametrize("jump", [timedelta(hours=-8), timedelta(hours=8), timedelta(days=-3)])
def test_items_waiting_while_the_kiosk_clock_jumps_go_in_order_when_the_console_returns(
    tmp_path, kiosk_clock, jump
):
    app = make_app(tmp_path / "console", **PACE_FREE)
    store = paired_store(app, tmp_path / "kiosk.db", kiosk_clock)
    outbox = Outbox(store)
    port = _free_port()
    worker = SyncWorker(
        store, ConsoleClient(f"http://127.0.0.1:{port}", store.token), clock=kiosk_clock
    )
    stamps = []
    for n in range(6):  # the console is away: every try fails and is scheduled again
        stamps.append(to_iso(kiosk_clock.now()))
        help_call(outbox, stamps[-1], screen="abcdefghijklmnop"[n])
        worker.drain_once(outbox)
        kiosk_clock.advance(seconds=7)
    kiosk_clock.advance(seconds=jump.total_seconds())  # the clock is corrected, or breaks
    server = ConsoleServer(app, port=port).start_in_background()
    try:
        worker.drain_once(outbox)  # one round: nothing may be parked behind a stored time
    finally:
        server.stop()
    screens = [row["screen"] for row in rows(app, "SELECT screen FROM escalations ORDER BY id")]
    assert screens == list("abcdef")
    assert {item.state for item in outbox.items()} == {ACKED}


@pytest.mark.parametrize("away", [timedelta(seconds=30), timedelta(minutes=3), timedelta(days=2)])
def test_a_console_away_for_minutes_or_days_loses_nothing(tmp_path, kiosk_clock, away):
    """The console is really gone (connection refused); the kiosk's clock is driven
    through the outage, retry after retry, as long as the outage lasts."""
    app = make_app(tmp_path / "console", **PACE_FREE)
    store = paired_store(app, tmp_path / "kiosk.db", kiosk_clock)
    outbox = Outbox(store)
    port = _free_port()
    worker = SyncWorker(
        store, ConsoleClient(f"http://127.0.0.1:{port}", store.token), clock=kiosk_clock
    )
    for n in range(20):
        help_call(outbox, to_iso(kiosk_clock.now()), screen="home")
        visit(outbox, kiosk_clock, phone=f"139000{n:05d}", name="访客")
    end, tries = kiosk_clock.now() + away, 0
    while kiosk_clock.now() < end:
        wait = worker.drain_once(outbox)
        tries += 1
        assert wait is not None and 0 <= wait <= worker.backoff.cap
        # every retry is really made; between them the clock runs on by at least a
        # fiftieth of the outage, so two days take 50 tries here, not 5,000
        kiosk_clock.advance(seconds=max(wait, away.total_seconds() / 50))
    assert tries >= 5
    assert not outbox.items(DEAD) and len(outbox.items(READY)) == 40
    server = ConsoleServer(app, port=port).start_in_background()
    try:
        drain(worker, outbox)
    finally:
        server.stop()
    assert len(rows(app, "SELECT id FROM escalations")) == 20
    assert len(rows(app, "SELECT id FROM visits")) == 20
    assert {item.state for item in outbox.items()} == {ACKED}


@pytest.mark.parametrize("year", ["1970-01-01T00:00:05+00:00", "2101-06-01T12:00:00+00:00"])
def test_a_kiosk_clock_at_1970_or_2101_loses_nothing_and_staff_see_the_doubt(
    tmp_path, console, year
):
    app, server = console
    wrong = FrozenClock(year)
    store = paired_store(app, tmp_path / "kiosk.db", wrong)
    outbox = Outbox(store)
    help_call(outbox, to_iso(wrong.now()))
    visit(outbox, wrong)
    body = {"unit": "101", "category": "water", "problem": "dripping_tap", "urgency": "normal",
            "language": "zh_CN", "created_at": to_iso(wrong.now())}  # fmt: skip
    outbox.enqueue("ticket.create", "/api/v1/tickets", body)
    worker = SyncWorker(store, ConsoleClient(server.url, store.token), clock=wrong)
    drain(worker, outbox)
    assert {item.state for item in outbox.items()} == {ACKED}
    for table in ("escalations", "visits", "tickets"):
        [row] = rows(app, f"SELECT clock_doubtful FROM {table}")
        assert row["clock_doubtful"] == 1, table


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_due_item_that_must_wait_its_turn_never_spins_the_sender(tmp_path, kiosk_clock):
    """The head waits its backoff; a newer sign-out is 'due' but goes after the head:
    the sender is told to wait for the head, not to come straight back."""
    app = make_app(tmp_path / "console", **PACE_FREE)
    store = paired_store(app, tmp_path / "kiosk.db", kiosk_clock)
    outbox = Outbox(store)
    worker = SyncWorker(
        store, ConsoleClient(f"http://127.0.0.1:{_free_port()}", store.token), clock=kiosk_clock
    )
    help_call(outbox, to_iso(kiosk_clock.now()))
    kiosk_clock.advance(minutes=10)  # an old call: backlog
    first = worker.drain_once(outbox)  # refused connection: the head waits its backoff
    outbox.enqueue("visit.sign_out", "/api/v1/visits/sign-out", {"phone": "13812345678"})
    for _ in range(5):
        assert worker.drain_once(outbox) >= min(first, 0.05) > 0
