"""Offline-first sync under load (issue: offline-first sync, exactly once).

1. Drain: a kiosk that queued 5,000 items while offline sends them to a real
   console (uvicorn) through the real SyncWorker and ConsoleClient.
2. Many kiosks: N kiosks (threads, each with its own keep-alive session and
   token) each send a help call every `--interval` seconds (a busy lobby is
   about one write per kiosk per several seconds; we go much faster to find the
   limit); report console writes/s achieved, p50/p99 latency and errors, for
   N = 10, 50, 200 until errors appear or p99 > 50 ms.

usage: .venv/bin/python bench/sync_load.py [--items 5000] [--seconds 10] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import nearest_rank
from kiosk.client import ConsoleClient
from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.clock import to_iso
from shared.schema import open_building_db
from shared.tokens import new_idempotency_key
from tests.helpers import make_app, paired_kiosk
from tests.servers import BENCH_BUILDING, serve


def start_console(data_dir: Path, threads: int = 32):
    app = make_app(
        data_dir,
        testing=False,
        building=BENCH_BUILDING,
        THREADS=threads,
        KIOSK_WRITE_BURST=10**9,  # measures the console, not its per-kiosk pacing
    )
    return app, serve(app)


def bench_drain(items: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        app, server = start_console(Path(tmp) / "console")
        try:
            store = KioskStore.open(Path(tmp) / "kiosk.db")
            store.save_pairing(
                {"token": paired_kiosk(app, "drain")[1], "kiosk": {}, "building": {}}
            )
            outbox = Outbox(store)
            start = datetime.now(UTC) - timedelta(days=7)
            with store.db.conn:
                for n in range(items):
                    body = {
                        "kind": "help",
                        "created_at": to_iso(start + timedelta(minutes=2 * n)),
                        "language": "zh_CN",
                        "screen": "home",
                    }
                    outbox.enqueue("escalation.help", "/api/v1/escalations", body)
            worker = SyncWorker(store, ConsoleClient(server.url, store.token))
            began = time.perf_counter()
            while worker.drain_once(outbox) is not None:
                pass
            elapsed = time.perf_counter() - began
            db = open_building_db(Path(tmp) / "console" / "lobbydesk.db")
            count = db["escalations"].count
            db.close()
            store.close()
            return elapsed, count
        finally:
            server.stop()


def bench_kiosks(n_kiosks: int, seconds: float, interval: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app, server = start_console(Path(tmp) / "console", threads=max(32, n_kiosks // 4))
        tokens = [paired_kiosk(app, f"k{i}")[1] for i in range(n_kiosks)]
        latencies, errors = [], []
        lock = threading.Lock()
        stop_at = time.perf_counter() + seconds

        def kiosk(token: str, offset: float):
            session = requests.Session()
            headers = {"Authorization": f"Bearer {token}"}
            time.sleep(offset)
            next_at = time.perf_counter()
            while time.perf_counter() < stop_at:
                body = {
                    "kind": "help",
                    "created_at": to_iso(datetime.now(UTC)),
                    "language": "zh_CN",
                    "screen": "home",
                }
                began = time.perf_counter()
                try:
                    response = session.post(
                        f"{server.url}/api/v1/escalations", json=body, timeout=(3.05, 10),
                        headers={**headers, "Idempotency-Key": new_idempotency_key()},
                    )  # fmt: skip
                    ok = response.status_code == 201
                except requests.RequestException as error:
                    ok, response = False, error
                took = time.perf_counter() - began
                with lock:
                    (latencies if ok else errors).append(took if ok else str(response)[:80])
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))

        threads = [
            threading.Thread(target=kiosk, args=(t, i * interval / n_kiosks))
            for i, t in enumerate(tokens)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        server.stop()
        return {
            "kiosks": n_kiosks,
            "writes_per_s": len(latencies) / elapsed,
            "p50_ms": nearest_rank(latencies, 50) * 1000 if latencies else float("nan"),
            "p99_ms": nearest_rank(latencies, 99) * 1000 if latencies else float("nan"),
            "errors": len(errors),
            "offered_per_s": n_kiosks / interval,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between one kiosk's writes"
    )
    parser.add_argument("--kiosks", default="10,50,200")
    args = parser.parse_args()

    elapsed, count = bench_drain(args.items)
    print("\n| drain | items | delivered | seconds | items/s |\n|---|--:|--:|--:|--:|")
    print(
        f"| {args.items} queued offline | {args.items} | {count} | {elapsed:.1f} | {count / elapsed:.0f} |"
    )

    print(
        "\n| kiosks | offered writes/s | achieved writes/s | p50 ms | p99 ms | errors |\n|--:|--:|--:|--:|--:|--:|"
    )
    for n in (int(x) for x in args.kiosks.split(",")):
        r = bench_kiosks(n, args.seconds, args.interval)
        print(
            f"| {r['kiosks']} | {r['offered_per_s']:.0f} | {r['writes_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |",
            flush=True,
        )
        if r["errors"] or r["p99_ms"] > 50:
            print(f"(stopped: {'errors' if r['errors'] else 'p99 > 50 ms'} at {n} kiosks)")
            break


if __name__ == "__main__":
    main()
