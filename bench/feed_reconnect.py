"""Feed reconnect: a console restart → the first feed event at a running kiosk.

Starts the console as a real process (`python -m lobbydesk console`, waitress,
real clock, argon2 at production cost) on a temporary data directory with a
building, one reception login and one paired kiosk. The kiosk runs the real
SyncWorker (its own kiosk.db, its feed thread long-polling GET /api/v1/feed)
and stamps `perf_counter` in its on_event callback. A receptionist, signed in
with `requests` through the login form, acknowledges the kiosk's help calls
("on my way": POST /queue/escalations/<id>/acknowledge, as the queue page's
button does; the redirect not followed).

  (b) baseline, no restart: the acknowledge POST is sent → the kiosk's on_event
      has 'escalation.acknowledged' (the kiosk's long poll is parked on the
      console, as it is all day);
  (a) restart: the kiosk calls reception, the console process is SIGKILLed and
      started again on the same port; from the moment its port accepts
      connections, the receptionist acknowledges at once → the kiosk's on_event
      has it. This includes the feeder noticing the console is back;
  (c) for context: SIGKILL → the new process accepts connections (Python start,
      migrations, app), which the kiosk cannot shorten;
  (d) as (a), with the kiosk talking to the console through a reverse proxy that
      answers "503 Service Unavailable, Retry-After: 30" while the console is
      down (what nginx in front of a restarting console does with a maintenance
      page): the kiosk's feeder must not wait out the Retry-After.

    .venv/bin/python bench/feed_reconnect.py [--restarts 20] [--baseline 50]
"""

from __future__ import annotations

import argparse
import queue
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, percentile, ratio
from kiosk.client import ConsoleClient
from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.clock import SystemClock, to_iso
from tests.helpers import paired_kiosk
from tests.servers import ConsoleProcess, ReceptionHttp, TcpProxy, bench_app

WARM_UP = 3
HELP = {"kind": "help", "language": "zh_CN", "screen": "home"}


class UnavailableProxy(TcpProxy):
    """A TCP proxy to the console; while the console refuses connections it answers
    each one with 503 + Retry-After: 30, as a reverse proxy with a maintenance page."""

    ANSWER = (
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )

    def _refused(self, client: socket.socket) -> None:
        try:
            client.recv(65536)  # the request, then the answer
            client.sendall(self.ANSWER)
        except OSError:
            pass
        client.close()


def _prepare(data_dir: Path) -> str:
    """A building, the bench receptionist and one paired kiosk; returns its token."""
    return paired_kiosk(bench_app(data_dir))[1]


class Kiosk:
    """A kiosk's real SyncWorker; feed events and acknowledged sends land in queues."""

    def __init__(self, base_url: str, token: str, folder: Path):
        folder.mkdir()
        self.store = KioskStore.open(folder / "kiosk.db")
        self.store.save_pairing({"token": token, "kiosk": {}, "building": {}})
        self.outbox = Outbox(self.store)
        self.events: queue.Queue[tuple[float, dict]] = queue.Queue()
        self.acked: queue.Queue[tuple[int, dict]] = queue.Queue()
        self.worker = SyncWorker(
            self.store,
            ConsoleClient(base_url, token),
            on_event=lambda event: self.events.put((time.perf_counter(), event)),
            on_acked=lambda item_id, _kind, body: self.acked.put((item_id, body)),
        )
        self.worker.start()

    def call_reception(self) -> int:
        """Press 'call reception' and wait for the console's answer; its escalation id."""
        item_id = self.outbox.enqueue(
            "escalation.help",
            "/api/v1/escalations",
            {**HELP, "created_at": to_iso(SystemClock().now())},
        )
        self.worker.wake()
        while True:
            acked_id, body = self.acked.get(timeout=30)
            if acked_id == item_id:
                return body["id"]

    def wait_for_on_my_way(self, escalation_id: int, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if (
                event["kind"] == "escalation.acknowledged"
                and event["payload"].get("escalation_id") == escalation_id
            ):
                return at

    def close(self) -> None:
        self.worker.stop()
        self.store.close()


def _restarts(console: ConsoleProcess, kiosk: Kiosk, reception: ReceptionHttp, n: int):
    """n restarts: (console accepts again → 'on my way' at the kiosk, SIGKILL → accepts)."""
    heard_ms, start_ms = [], []
    for _ in range(n):
        escalation_id = kiosk.call_reception()
        time.sleep(0.05)
        killed = time.perf_counter()
        console.kill()
        time.sleep(0.5)  # the kiosk notices (and, behind the proxy, is answered 503)
        ready = console.start().ready_at
        reception.on_my_way(escalation_id)
        arrived = kiosk.wait_for_on_my_way(escalation_id, timeout=90)
        heard_ms.append((arrived - ready) * 1000)
        start_ms.append((ready - killed) * 1000)
    return heard_ms, start_ms


def run(restarts: int, baseline: int) -> list[tuple[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as tmp:
        data_dir = Path(tmp) / "console"
        token = _prepare(data_dir)
        console = ConsoleProcess(data_dir, keep_stderr=False).start()
        proxy = UnavailableProxy(console.port)
        kiosk = Kiosk(console.url, token, Path(tmp) / "kiosk")
        reception = ReceptionHttp(console.url)
        delivered_ms = []
        try:
            for i in range(WARM_UP + baseline):
                escalation_id = kiosk.call_reception()
                time.sleep(0.05)  # the feed's next long poll is parked again
                sent = time.perf_counter()
                reception.on_my_way(escalation_id)
                arrived = kiosk.wait_for_on_my_way(escalation_id)
                if i >= WARM_UP:
                    delivered_ms.append((arrived - sent) * 1000)
            restart_ms, start_ms = _restarts(console, kiosk, reception, restarts)
            kiosk.close()
            kiosk = Kiosk(proxy.url, token, Path(tmp) / "kiosk-behind-proxy")
            proxied_ms, _ = _restarts(console, kiosk, reception, restarts)
        finally:
            reception.close()
            kiosk.close()
            proxy.close()
            if console.process and console.process.poll() is None:
                console.kill()
    return [
        ("(b) baseline: 'on my way' POST → kiosk on_event, console running", delivered_ms),
        ("(a) restart: console accepts again → 'on my way' at the kiosk", restart_ms),
        ("(c) context: SIGKILL → the new console process accepts", start_ms),
        ("(d) as (a), behind a proxy answering 503 + Retry-After: 30 meanwhile", proxied_ms),
    ]


def table(results: list[tuple[str, list[float]]]) -> str:
    base = results[0][1]
    base50, base99 = percentile(base, 50), percentile(base, 99)
    rows = []
    for name, samples in results:
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        figures = [f"{value:.1f}" for value in (p50, p99, max(samples))]
        rows.append([name, len(samples), *figures, f"{ratio(p50, base50)} / {ratio(p99, base99)}"])
    header = ["metric", "n", "p50 ms", "p99 ms", "max ms", "÷ (b), p50 / p99"]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restarts", type=int, default=20, help="measured restarts (default 20)")
    parser.add_argument(
        "--baseline", type=int, default=50, help="measured deliveries without a restart"
    )
    args = parser.parse_args(argv)
    if args.restarts < 2 or args.baseline < 2:
        parser.error("--restarts and --baseline must be at least 2")
    print(table(run(args.restarts, args.baseline)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
