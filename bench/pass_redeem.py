"""Invitation pass at the kiosk → signed in: the console's time, against the bare ping.

A real console (uvicorn through ConsoleServer, the real clock) with a demo building,
one resident per unit and `--rounds` once invitations for today. A paired kiosk speaks
HTTP over one keep-alive `requests` Session, as kiosk/client.py does, and for each
invitation measures, in the order the kiosk sends them:

  (a) GET  /api/v1/ping                                        — the bare baseline
  (b) POST /api/v1/invitations/redeem {"pass", "confirm": false} — verify, whom it is for
  (c) POST /api/v1/invitations/redeem {"pass"}                 — verify, visit, host told

The scan limit and the per-kiosk write burst are lifted: this measures the redeem,
not the pacing (a building's kiosk sees a few passes a minute).

    .venv/bin/python bench/pass_redeem.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, nearest_rank, ratio
from shared import invitations, residents
from shared.tokens import new_idempotency_key
from tests.helpers import building_db, letters, make_app, paired_kiosk
from tests.servers import BENCH_BUILDING, serve

WARM_UP = 20


def prepare(app, count: int) -> list[str]:
    """A resident per unit, `count` once invitations for today: their passes."""
    clock = app.extensions["lobbydesk.clock"]
    db = building_db(app)
    units = [r["id"] for r in db.query("SELECT id FROM units ORDER BY id")]
    today = invitations.building_today(db, clock).isoformat()
    passes = []
    for n in range(count):
        resident = residents.create(
            db, clock, units[n % len(units)],
            {"name": f"住户{letters(n)}", "role": "owner", "email": f"r{n}@example.com", "channels": []},
            actor="bench",
        )  # fmt: skip
        invitation = invitations.create(
            db, clock, host_resident_id=resident,
            fields={"name": f"张{letters(n)}", "kind": "once", "starts_on": today}, actor="bench",
        )  # fmt: skip
        passes.append(invitations.pass_text(db, app.config["DATA_DIR"], invitation))
    db.close()
    return passes


def row(label: str, values: list[float], base: list[float]) -> list:
    p50, p99 = nearest_rank(values, 50) * 1000, nearest_rank(values, 99) * 1000
    b50, b99 = nearest_rank(base, 50) * 1000, nearest_rank(base, 99) * 1000
    mean = statistics.mean(values) * 1000
    figures = [f"{value:.2f}" for value in (p50, p99, mean)]
    return [label, len(values), *figures, ratio(p50, b50), ratio(p99, b99)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        building = {**BENCH_BUILDING, "floors": 20, "units_per_floor": 20}
        app = make_app(
            data_dir,
            testing=False,
            building=building,
            KIOSK_WRITE_BURST=10**9,
            PASS_SCAN_LIMIT=10**9,
        )
        passes = prepare(app, args.rounds + WARM_UP)
        token = paired_kiosk(app, name="bench")[1]
        server = serve(app)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        url = server.url + "/api/v1"
        timings = {"ping": [], "check": [], "redeem": []}

        def redeem(text: str, confirm: bool) -> tuple[float, requests.Response]:
            started = time.perf_counter()
            answer = session.post(
                url + "/invitations/redeem",
                json={"pass": text, "confirm": confirm, "language": "zh_CN"},
                headers={"Idempotency-Key": new_idempotency_key()},
                timeout=10,
            )
            return time.perf_counter() - started, answer

        try:
            for n, text in enumerate(passes):
                started = time.perf_counter()
                assert session.get(url + "/ping", timeout=5).status_code == 200
                ping = time.perf_counter() - started
                check, answer = redeem(text, False)
                assert answer.status_code == 200, answer.text
                done, answer = redeem(text, True)
                assert answer.status_code == 201 and answer.json()["outcome"] == "signed_in"
                if n >= WARM_UP:
                    timings["ping"].append(ping)
                    timings["check"].append(check)
                    timings["redeem"].append(done)
        finally:
            server.stop()
    base = timings["ping"]
    scan = [a + b for a, b in zip(timings["check"], timings["redeem"], strict=True)]
    rows = [
        row("(a) GET /ping (baseline)", base, base),
        row("(b) redeem, confirm false (the confirm screen)", timings["check"], base),
        row("(c) redeem → signed in, host told", timings["redeem"], base),
        row("(b)+(c) scan → signed in, the console's share", scan, base),
    ]
    header = ["request", "n", "p50 ms", "p99 ms", "mean ms", "p50 / ping", "p99 / ping"]
    print(markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
