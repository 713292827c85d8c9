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
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console import create_app
from console.server import ConsoleServer
from shared import invitations, kiosks, residents
from shared.clock import SystemClock
from shared.db import connect
from shared.demo import create_building
from shared.schema import open_building_db
from shared.tokens import new_idempotency_key

WARM_UP = 20


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _letters(n: int) -> str:
    """A name has letters only: n in base 26, a-z."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(ord("a") + digit) + out
        if n == 0:
            return out


def prepare(data_dir: str, count: int) -> list[str]:
    """A building, a resident per unit, `count` once invitations for today: their passes."""
    clock = SystemClock()
    db = open_building_db(Path(data_dir) / "lobbydesk.db")
    create_building(db, clock, name="基准大厦", name_en="Bench Tower", floors=20,
                    units_per_floor=20)  # fmt: skip
    units = [r["id"] for r in db.query("SELECT id FROM units ORDER BY id")]
    today = invitations.building_today(db, clock).isoformat()
    passes = []
    for n in range(count):
        resident = residents.create(
            db, clock, units[n % len(units)],
            {"name": f"住户{_letters(n)}", "role": "owner", "email": f"r{n}@example.com", "channels": []},
            actor="bench",
        )  # fmt: skip
        invitation = invitations.create(
            db, clock, host_resident_id=resident,
            fields={"name": f"张{_letters(n)}", "kind": "once", "starts_on": today}, actor="bench",
        )  # fmt: skip
        passes.append(invitations.pass_text(db, data_dir, invitation))
    db.close()
    return passes


def row(label: str, values: list[float], base: list[float]) -> str:
    p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
    b50, b99 = percentile(base, 50) * 1000, percentile(base, 99) * 1000
    return (
        f"| {label} | {len(values)} | {p50:.2f} | {p99:.2f} | {statistics.mean(values) * 1000:.2f}"
        f" | {p50 / b50:.1f}× | {p99 / b99:.1f}× |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        secret = secrets.token_hex(32)
        app = create_app({"DATA_DIR": data_dir, "SECRET_KEY": secret,
                          "KIOSK_WRITE_BURST": 10**9, "PASS_SCAN_LIMIT": 10**9})  # fmt: skip
        passes = prepare(data_dir, args.rounds + WARM_UP)
        db = connect(Path(data_dir) / "lobbydesk.db")
        clock = app.extensions["lobbydesk.clock"]
        created = kiosks.create(db, clock, building_id=1, name="bench", actor="bench")
        token = kiosks.pair(db, clock, created["pairing_code"])["token"]
        db.close()
        server = ConsoleServer(app).start_in_background()
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
    print("| request | n | p50 ms | p99 ms | mean ms | p50 / ping | p99 / ping |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    print(row("(a) GET /ping (baseline)", base, base))
    print(row("(b) redeem, confirm false (the confirm screen)", timings["check"], base))
    print(row("(c) redeem → signed in, host told", timings["redeem"], base))
    scan = [a + b for a, b in zip(timings["check"], timings["redeem"], strict=True)]
    print(row("(b)+(c) scan → signed in, the console's share", scan, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
