"""A kiosk back from a long outage: how fast its backlog drains, and how long a person
who calls reception now waits behind it.

1. Drain: 5,000 help calls queued offline, sent by the real SyncWorker and
   ConsoleClient to a real console (uvicorn) with the product's default limits:
   in batches (today), and one request per item (the old way, with the per-kiosk
   limit lifted so only the transport is compared). Exactly once is checked.
2. Live behind backlog: while a 5,000-item backlog (repairs reported during the
   outage, so the staff queue stays a realistic size) drains, a visitor presses
   "call reception" every 250 ms; each call is timed from the tap (the enqueue)
   to its row in the staff queue's HTML (what queue.js does: SSE event, then
   /queue/rows; see live_queue_latency.py --no-browser).

Baseline: a bare kiosk GET /api/v1/ping round trip in the same run; every figure
is also given as a ratio to it.

usage: .venv/bin/python bench/backlog_drain.py [--items 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile
from bench.live_queue_latency import StreamStaff
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.clock import FrozenClock, to_iso
from shared.schema import open_building_db
from tests.servers import bench_console


def kiosk_store(path: Path, server, token: str) -> KioskStore:
    store = KioskStore.open(path)
    store.save_pairing({"token": token, "kiosk": {"id": 1, "name": "大堂 A"}, "building": {}})
    return store


def queue_backlog(store: KioskStore, items: int, kind: str) -> None:
    """Items queued during an outage that began two days ago (by the kiosk's clock)."""
    clock = FrozenClock(datetime.now(UTC) - timedelta(days=2))
    outbox = Outbox(KioskStore(store.db, store.path, clock))
    with outbox.db.conn:  # one transaction: queueing is not what is measured
        for _ in range(items):
            clock.advance(seconds=30)
            stamp = to_iso(clock.now())
            if kind == "help":
                body = {"kind": "help", "created_at": stamp, "language": "zh_CN", "screen": "home"}
                outbox.enqueue("escalation.help", "/api/v1/escalations", body)
            else:
                body = {"unit": "101", "category": "water", "problem": "dripping_tap",
                        "urgency": "normal", "language": "zh_CN", "created_at": stamp}  # fmt: skip
                outbox.enqueue("ticket.create", "/api/v1/tickets", body)


def count_rows(server, table: str) -> int:
    db = open_building_db(Path(server.app.config["DATA_DIR"]) / "lobbydesk.db")
    try:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


def ping_baseline(url: str, token: str, n: int = 200) -> list[float]:
    client = ConsoleClient(url, token)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        client.ping(0)
        samples.append((time.perf_counter() - start) * 1000)
    client.close()
    return samples


def drain(items: int, batches: bool) -> tuple[float, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        server, token = bench_console(Path(tmp) / "console")
        if batches:  # the product's own limits
            server.app.config.update(KIOSK_WRITE_BURST=60)
        try:
            store = kiosk_store(Path(tmp) / "kiosk.db", server, token)
            outbox = Outbox(store)
            queue_backlog(store, items, "help")
            worker = SyncWorker(store, ConsoleClient(server.url, token))
            if not batches:
                worker._batches_off_until = float("inf")  # the old way: one item per request
            start = time.perf_counter()
            while worker.drain_once(outbox) is not None:
                pass
            elapsed = time.perf_counter() - start
            once = count_rows(server, "escalations") == items and all(
                item.state == ACKED for item in outbox.items()
            )
            store.close()
            return elapsed, once
        finally:
            server.stop()


def live_behind_backlog(items: int) -> list[float]:
    """Milliseconds from a "call reception" tap to its row on the staff page."""
    samples: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        server, token = bench_console(Path(tmp) / "console")
        server.app.config.update(KIOSK_WRITE_BURST=60)
        staff = StreamStaff(server.url)
        store = kiosk_store(Path(tmp) / "kiosk.db", server, token)
        outbox = Outbox(store)
        queue_backlog(store, items, "repair")
        worker = SyncWorker(store, ConsoleClient(server.url, token))
        worker.start()
        tapper = Outbox(store.reopen())
        try:
            while outbox.depth() > 0:
                staff.forget_events()
                start = time.perf_counter()
                body = {"kind": "help", "created_at": to_iso(datetime.now(UTC)),
                        "language": "zh_CN", "screen": "home"}  # fmt: skip
                tapper.enqueue("escalation.help", "/api/v1/escalations", body)
                worker.wake()
                escalation_id = _wait_for_escalation(server, len(samples) + 1)
                staff.wait_for_row(escalation_id)
                samples.append((time.perf_counter() - start) * 1000)
                staff.mark_done(escalation_id)
                time.sleep(0.25)
        finally:
            worker.stop()
            staff.close()
            server.stop()
    return samples


def _wait_for_escalation(server, number: int) -> int:
    db = open_building_db(Path(server.app.config["DATA_DIR"]) / "lobbydesk.db")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = db.execute(
                "SELECT id FROM escalations ORDER BY id LIMIT 1 OFFSET ?", (number - 1,)
            )
            found = row.fetchone()
            if found:
                return found[0]
            time.sleep(0.002)
        raise RuntimeError("the call never arrived")
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server, token = bench_console(Path(tmp) / "console")
        try:
            base = percentile(ping_baseline(server.url, token), 50)
        finally:
            server.stop()
    rows = []
    for batches in (True, False):
        runs = [drain(args.items, batches) for _ in range(args.rounds)]
        label = "in batches (product limits)" if batches else "one request per item (no limit)"
        seconds = sorted(elapsed for elapsed, _ in runs)
        once = all(ok for _, ok in runs)
        rows.append((f"drain {args.items} items, {label}", seconds[len(seconds) // 2] * 1000, once))
    live = []
    for _ in range(args.rounds):
        live.extend(live_behind_backlog(args.items))
    print(f"baseline: kiosk GET /ping p50 {base:.2f} ms")
    print("| measure | median ms | ÷ ping p50 | exactly once |")
    print("|---|--:|--:|:-:|")
    for label, ms, once in rows:
        print(f"| {label} | {ms:.0f} | {ms / base:.0f}× | {'yes' if once else 'NO'} |")
    print(f"| call reception behind the backlog → staff row, p50 (n={len(live)}) "
          f"| {percentile(live, 50):.0f} | {percentile(live, 50) / base:.0f}× | |")  # fmt: skip
    print(f"| same, p99 | {percentile(live, 99):.0f} | {percentile(live, 99) / base:.0f}× | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
