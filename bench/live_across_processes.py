"""Event latency across console processes: a kiosk write on console A → the staff
stream on console B, against the same write → the stream on A.

Starts two `lobbydesk console` processes (ConsoleProcess, as systemd runs them) on
one temporary data directory with a building, the bench's reception login and one
paired kiosk, each on its own port. A receptionist's queue stream (SSE,
/queue/stream) is open on each. For each of N help calls the kiosk POSTs to A
(keep-alive Session, as kiosk/client.py does), and the bench stamps when
`event: queue` arrives on each stream:

  (a) write on A → event on A's stream: the single-process path (local wake);
  (b) write on A → event on B's stream: the signal in coordination.db, B's
      watcher (a poll every 50 ms), B's wake;
  (c) the kiosk's POST round trip on A (commit + publish + the signal's write).

Before each write the bench pauses a random 0-100 ms: kiosks write when visitors
come, not in step with B's watcher (in lockstep every write would land just after
a poll and wait the whole 50 ms for the next).

    .venv/bin/python bench/live_across_processes.py [--calls 200]
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import secrets
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.figures import markdown_table, percentile, ratio
from shared.tokens import new_idempotency_key
from tests.helpers import paired_kiosk
from tests.servers import ConsoleProcess, bench_app, signed_in_session

WARM_UP = 10
EVENT_DEADLINE = 10  # seconds; a lost event fails the run instead of skewing it


class StaffStream:
    """A receptionist's queue page reduced to its event stream: when each
    `event: queue` arrives (perf_counter)."""

    def __init__(self, base_url: str):
        self.http, _csrf = signed_in_session(base_url)
        self.arrivals: queue.Queue[float] = queue.Queue()
        self._response = self.http.get(f"{base_url}/queue/stream", stream=True, timeout=30)
        threading.Thread(target=self._read, name="sse-reader", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._response.iter_lines(chunk_size=None):
                if line.startswith(b"event: queue"):
                    self.arrivals.put(time.perf_counter())
        except (requests.RequestException, AttributeError):
            return  # closed at the end of the run

    def forget(self) -> None:
        while not self.arrivals.empty():
            self.arrivals.get_nowait()

    def next_event(self) -> float:
        return self.arrivals.get(timeout=EVENT_DEADLINE)

    def close(self) -> None:
        self._response.close()
        self.http.close()


def _help_call(kiosk: requests.Session, base_url: str) -> None:
    kiosk.post(
        f"{base_url}/api/v1/escalations",
        json={"kind": "help", "created_at": datetime.now(UTC).isoformat(), "language": "zh_CN", "screen": "home"},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    ).raise_for_status()  # fmt: skip


def _consoles(data_dir: Path) -> tuple[ConsoleProcess, ConsoleProcess, str]:
    """Two console processes over one prepared data folder; the kiosk's token."""
    app = bench_app(data_dir)
    _kiosk_id, token = paired_kiosk(app)
    # Not paced: the bench measures latency, not the per-kiosk write limit.
    os.environ["LOBBYDESK_KIOSK_WRITE_BURST"] = str(10**9)
    secret = secrets.token_hex(32)  # one key: a session signed in on A is valid on B
    first = ConsoleProcess(data_dir, secret_key=secret, keep_stderr=False).start()
    second = ConsoleProcess(data_dir, secret_key=secret, keep_stderr=False).start()
    return first, second, token


def run(calls: int) -> list[tuple[str, list[float]]]:
    local_ms, remote_ms, post_ms = [], [], []
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as folder:
        first, second, token = _consoles(Path(folder))
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {token}"
        on_a, on_b = StaffStream(first.url), StaffStream(second.url)
        try:
            for i in range(WARM_UP + calls):
                on_a.forget()
                on_b.forget()
                time.sleep(random.uniform(0, 0.1))  # out of step with the watcher's polls
                started = time.perf_counter()
                _help_call(kiosk, first.url)
                posted = time.perf_counter()
                at_a, at_b = on_a.next_event(), on_b.next_event()
                if i >= WARM_UP:
                    local_ms.append((at_a - started) * 1000)
                    remote_ms.append((at_b - started) * 1000)
                    post_ms.append((posted - started) * 1000)
        finally:
            on_a.close()
            on_b.close()
            kiosk.close()
            first.stop()
            second.stop()
    return [
        ("(a) kiosk write on A → staff stream on A (one process)", local_ms),
        ("(b) kiosk write on A → staff stream on B (another process)", remote_ms),
        ("(c) kiosk POST /api/v1/escalations round trip on A", post_ms),
    ]


def table(results: list[tuple[str, list[float]]]) -> str:
    base = results[0][1]
    base_p50, base_p99 = percentile(base, 50), percentile(base, 99)
    rows = []
    for name, samples in results:
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        ratios = f"{ratio(p50, base_p50)} / {ratio(p99, base_p99)}"
        rows.append([name, str(len(samples)), f"{p50:.2f}", f"{p99:.2f}", ratios])
    return markdown_table(["metric", "n", "p50 ms", "p99 ms", "÷ (a), p50 / p99"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="measured writes (default 200)")
    args = parser.parse_args(argv)
    if args.calls < 2:
        parser.error("--calls must be at least 2")
    print(table(run(args.calls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
