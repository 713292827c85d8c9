"""What keeping the rate limits in coordination.db costs, against the in-memory limits
they replace, in the same run.

1. One `TokenBuckets.take` (the kiosk write bucket), per call: the old in-memory take
   (the baseline, a copy of the code it replaces), then the coordination.db take
   alone, and again while another process takes from the same file as fast as it can
   (two console processes behind one address); `WindowLimit.hit` and `.wait` for scale.
2. A kiosk write as the kiosk sees it: a real console over HTTP (uvicorn through
   ConsoleServer), one keep-alive Session; per round GET /api/v1/ping (the bare
   baseline), then POST /api/v1/escalations with the old in-memory bucket and with
   the coordination.db bucket installed, in alternating order (the write burst is
   lifted: no write is refused, only the bookkeeping is measured).

    .venv/bin/python bench/limit_cost.py [--takes 20000] [--rounds 300]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, nearest_rank, ratio
from shared import rate_limit
from shared.coordination import Coordination, path_in
from shared.tokens import new_idempotency_key
from tests.helpers import make_app, paired_kiosk
from tests.servers import BENCH_BUILDING, serve

WARM_UP = 20
CALL = {"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "screen": "home"}


class MemoryBuckets:
    """The in-memory TokenBuckets this change replaced (shared/rate_limit.py before)."""

    def __init__(self, capacity: float, rate: float):
        self.capacity, self.rate = float(capacity), float(rate)
        self._lock = threading.Lock()
        self._buckets: dict = {}

    def take(self, key, now: float) -> float:
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def check(self, key, now: float) -> None:
        wait = self.take(key, now)
        if wait > 0:
            raise rate_limit.RateLimited(wait)


def timed(call, count: int) -> list[float]:
    samples = []
    for n in range(count):
        started = time.perf_counter()
        call(n)
        samples.append(time.perf_counter() - started)
    return samples


def _other_process(data_dir: str, stop) -> None:
    """Another console process: takes from the same file until told to stop."""
    coordination = Coordination(path_in(data_dir))
    buckets = rate_limit.TokenBuckets(coordination, "kiosk_writes", 10**9, 2)
    while not stop.is_set():
        buckets.take(2, time.time())
    coordination.close()


def micro(data_dir: str, takes: int) -> dict[str, list[float]]:
    coordination = Coordination(path_in(data_dir))
    memory = MemoryBuckets(10**9, 2)
    stored = rate_limit.TokenBuckets(coordination, "kiosk_writes", 10**9, 2)
    window = rate_limit.WindowLimit(coordination, "lookup", 10**9, 600)
    samples = {
        "memory take": timed(lambda n: memory.take(1, n * 0.001), takes),
        "db take": timed(lambda n: stored.take(1, n * 0.001), takes),
    }
    spawn = multiprocessing.get_context("spawn")  # a fresh process, as a second console is
    stop = spawn.Event()
    other = spawn.Process(target=_other_process, args=(data_dir, stop))
    other.start()
    time.sleep(2)  # let it start up, open the file and start taking
    samples["db take, other process busy"] = timed(lambda n: stored.take(1, n * 0.001), takes)
    stop.set()
    other.join(timeout=30)
    samples["db window hit"] = timed(lambda n: window.hit(n % 200, n * 0.001), takes)
    samples["db window wait"] = timed(lambda n: window.wait(n % 200, n * 0.001), takes)
    coordination.close()
    return samples


def kiosk_writes(data_dir: str, rounds: int) -> dict[str, list[float]]:
    app = make_app(data_dir, testing=False, building=BENCH_BUILDING, KIOSK_WRITE_BURST=10**9)
    token = paired_kiosk(app, name="bench")[1]
    memory = MemoryBuckets(10**9, rate_limit.KIOSK_WRITES_PER_SECOND)
    server = serve(app)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = server.url + "/api/v1"
    samples = {"ping": [], "write, memory bucket": [], "write, coordination.db bucket": []}
    with app.app_context():
        from console.kiosk_requests import write_buckets

        stored = write_buckets()  # the app's own coordination.db bucket
    try:
        for n in range(rounds + WARM_UP):
            started = time.perf_counter()
            assert session.get(url + "/ping", timeout=5).status_code == 200
            ping = time.perf_counter() - started
            order = [("write, memory bucket", memory), ("write, coordination.db bucket", stored)]
            for label, buckets in order if n % 2 else order[::-1]:
                app.extensions["lobbydesk.kiosk_writes"] = buckets
                started = time.perf_counter()
                answer = session.post(
                    url + "/escalations",
                    json=CALL,
                    headers={"Idempotency-Key": new_idempotency_key()},
                    timeout=10,
                )
                elapsed = time.perf_counter() - started
                assert answer.status_code == 201, answer.text
                if n >= WARM_UP:
                    samples[label].append(elapsed)
            if n >= WARM_UP:
                samples["ping"].append(ping)
    finally:
        server.stop()
    return samples


def table(samples: dict[str, list[float]], base: str, unit: float, unit_name: str) -> str:
    b50, b99 = nearest_rank(samples[base], 50), nearest_rank(samples[base], 99)
    rows = []
    for label, values in samples.items():
        p50, p99 = nearest_rank(values, 50), nearest_rank(values, 99)
        figures = [f"{p50 * unit:.2f}", f"{p99 * unit:.2f}"]
        rows.append([label, len(values), *figures, ratio(p50, b50), ratio(p99, b99)])
    header = ["measured", "n", f"p50 {unit_name}", f"p99 {unit_name}", "p50 ÷ base", "p99 ÷ base"]
    return markdown_table(header, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        print(table(micro(data_dir, args.takes), "memory take", 1e6, "µs"))
    print()
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        print(table(kiosk_writes(data_dir, args.rounds), "ping", 1e3, "ms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
