"""Emergency broadcast latency: staff press "broadcast" → every kiosk has the event.

Starts a real console (uvicorn through ConsoleServer, real clock, argon2 at
production cost) with three paired kiosks. Each kiosk runs the real kiosk
SyncWorker (its own kiosk.db, its own token, its feed thread long-polling
GET /api/v1/feed) and stamps `perf_counter` in its on_event callback — the
moment the event leaves the network code for the kiosk app. A receptionist,
signed in with `requests` through the login form, posts the emergency form
(POST /emergency/start, CSRF token from the page, the redirect not followed)
and then ends it (POST /emergency/<id>/end). For each of N runs:

  (a) start POST sent → 'emergency.started' received, per kiosk (3 per run);
  (a') the same, the slowest of the three kiosks in the run;
  (b) end POST sent → 'emergency.ended' received, per kiosk;
  (c) the staff POST round trip alone (commit of the emergency + 3 feed rows +
      audit, hub publish, redirect answer).

    .venv/bin/python bench/emergency_broadcast.py [--runs 50]
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, percentile
from kiosk.client import ConsoleClient
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.emergency_broadcast import KINDS
from shared.schema import open_building_db
from tests.helpers import paired_kiosk
from tests.servers import ReceptionHttp, bench_console

KIOSKS = 3
WARM_UP = 3


class Kiosk:
    """One kiosk's real SyncWorker; every feed event lands in `events` with its time."""

    def __init__(self, base_url: str, token: str, folder: Path):
        self.store = KioskStore.open(folder / "kiosk.db")
        self.store.save_pairing({"token": token, "kiosk": {}, "building": {}})
        self.events: queue.Queue[tuple[float, dict]] = queue.Queue()
        self.worker = SyncWorker(
            self.store,
            ConsoleClient(base_url, token),
            on_event=lambda event: self.events.put((time.perf_counter(), event)),
        )
        self.worker.start()

    def wait_for(self, kind: str, emergency_id: int, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event["kind"] == kind and event["payload"].get("emergency_id") == emergency_id:
                return at

    def close(self) -> None:
        self.worker.stop()
        self.store.close()


class Reception(ReceptionHttp):
    """A receptionist's browser session, as plain HTTP, on the emergency page."""

    def __init__(self, base_url: str):
        super().__init__(base_url, page="/emergency/?kind=fire")

    def start(self) -> None:
        response = self.http.post(
            f"{self.base_url}/emergency/start",
            data={
                "csrf_token": self.csrf,
                "kind": "fire",
                "instructions_zh": KINDS["fire"]["instructions_zh"],
                "instructions_en": KINDS["fire"]["instructions_en"],
            },
            allow_redirects=False,
            timeout=5,
        )
        assert response.status_code == 302, response.text

    def end(self, emergency_id: int) -> None:
        response = self.http.post(
            f"{self.base_url}/emergency/{emergency_id}/end",
            # the end form asks staff to tick that every kiosk returns to normal
            data={"csrf_token": self.csrf, "confirm": "yes"},
            allow_redirects=False,
            timeout=5,
        )
        assert response.status_code == 302, response.text


def _latest_emergency(data_dir: Path) -> int:
    db = open_building_db(data_dir / "lobbydesk.db")
    try:
        return db.execute("SELECT MAX(id) FROM emergencies").fetchone()[0]
    finally:
        db.close()


def run(runs: int) -> list[tuple[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as tmp:
        data_dir = Path(tmp)
        server, first_token = bench_console(data_dir)
        tokens = [first_token] + [
            paired_kiosk(server.app, name=f"大堂 {n}")[1] for n in range(1, KIOSKS)
        ]
        fleet = [Kiosk(server.url, token, data_dir / f"kiosk{n}") for n, token in enumerate(tokens)]
        reception = Reception(server.url)
        started_ms, slowest_ms, ended_ms, post_ms = [], [], [], []
        try:
            time.sleep(0.5)  # every feed thread has its long-poll parked on the server
            for i in range(WARM_UP + runs):
                sent = time.perf_counter()
                reception.start()
                posted = time.perf_counter()
                emergency_id = _latest_emergency(data_dir)
                arrivals = [k.wait_for("emergency.started", emergency_id) for k in fleet]
                sent_end = time.perf_counter()
                reception.end(emergency_id)
                endings = [k.wait_for("emergency.ended", emergency_id) for k in fleet]
                if i < WARM_UP:
                    continue
                started_ms += [(at - sent) * 1000 for at in arrivals]
                slowest_ms.append((max(arrivals) - sent) * 1000)
                ended_ms += [(at - sent_end) * 1000 for at in endings]
                post_ms.append((posted - sent) * 1000)
        finally:
            reception.close()
            for kiosk in fleet:
                kiosk.close()
            server.stop()
    return [
        (f"(a) start POST → 'emergency.started' at a kiosk ({KIOSKS} SyncWorkers)", started_ms),
        ("(a') same, the slowest kiosk of each run", slowest_ms),
        ("(b) end POST → 'emergency.ended' at a kiosk", ended_ms),
        ("(c) staff POST /emergency/start round trip", post_ms),
    ]


def table(results: list[tuple[str, list[float]]]) -> str:
    rows = []
    for name, samples in results:
        figures = (percentile(samples, 50), percentile(samples, 99), max(samples))
        rows.append([name, len(samples), *(f"{value:.2f}" for value in figures)])
    return markdown_table(["metric", "n", "p50 ms", "p99 ms", "max ms"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="measured broadcasts (default 50)")
    args = parser.parse_args(argv)
    if args.runs < 30:
        parser.error("--runs must be at least 30")
    print(table(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
