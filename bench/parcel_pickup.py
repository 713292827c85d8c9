"""Pickup verification round trip with a million parcels, against the bare ping.

Builds a building database with 1,000,000 parcels (years of history: collected
batches across 1,000 units) by raw `executemany` in one transaction, with the
parcel indexes dropped during the load and rebuilt after it
(docs/ARCHITECTURE.md, "Measured choices": ≈ 30k rows/s with indexes present,
≈ 280k+/s without). One open batch per unit has a known code. Then a real
console (uvicorn through ConsoleServer, the real clock) serves a paired kiosk
speaking HTTP over one keep-alive `requests` Session, as kiosk/client.py
does, and for each round it measures:

  (a) GET  /api/v1/ping                                   — the bare baseline
  (b) POST /api/v1/parcels/pickup {"unit", "code"}        — verify + release + handover
  (c) POST /api/v1/parcels/pickup {"qr"}                  — verify signature + release
  (d) POST /api/v1/parcels/pickup, a wrong code           — verify + count the attempt

Each round uses a different unit, so every (b)/(c) releases a real batch. (d)
uses its own kiosks (9 wrong codes each, under the kiosk throttle) and units
without an open batch (so nobody's code is paused).

    .venv/bin/python bench/parcel_pickup.py [--parcels 1000000] [--rounds 400]
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, nearest_rank, ratio
from shared import parcels
from shared.clock import SystemClock, to_iso
from shared.demo import create_building
from shared.schema import open_building_db
from shared.tokens import new_idempotency_key
from tests.helpers import building_db, make_app, paired_kiosk
from tests.servers import serve

UNITS_PER_FLOOR, FLOORS = 20, 50  # 1,000 units
PARCELS_PER_BATCH = 5
WARM_UP = 20


def bulk_load(path: Path, secret: str, total: int, open_units: int) -> dict:
    """History + one open batch per unit (first `open_units` units); returns the codes."""
    clock = SystemClock()
    db = open_building_db(path)
    create_building(
        db,
        clock,
        name="基准大厦",
        name_en="Bench Tower",
        floors=FLOORS,
        units_per_floor=UNITS_PER_FLOOR,
    )
    units = [(r["id"], r["number"]) for r in db.query("SELECT id, number FROM units ORDER BY id")]
    indexes = [
        (r["name"], r["sql"])
        for r in db.query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('parcels', 'parcel_batches')"
        )
    ]
    conn = db.conn
    started = time.perf_counter()
    now = datetime.now(UTC)
    codes = {}
    conn.execute("BEGIN IMMEDIATE")
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    history = total - open_units
    batches = history // PARCELS_PER_BATCH
    start = now - timedelta(days=3 * 365)
    step = (now - start) / max(batches, 1)

    # ISO times computed once per batch (five parcels share them): formatting
    # datetimes, not SQLite, is what costs most in a load like this.
    times = [
        (to_iso(at), to_iso(at + timedelta(days=14)), to_iso(at + timedelta(hours=5)))
        for at in (start + step * b for b in range(batches))
    ]

    def batch_rows():
        for b in range(batches):
            received, expires, closed = times[b]
            yield (
                b + 1,
                units[b % len(units)][0],
                "0" * 64,
                "collected",
                received,
                expires,
                closed,
            )

    conn.executemany(
        "INSERT INTO parcel_batches (id, unit_id, code_hash, status, created_at, expires_at,"
        " closed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        batch_rows(),
    )
    carriers = ["sf", "jd", "yto", "zto", "sto", "yunda", "ems"]

    def parcel_rows():
        for n in range(history):
            b = n // PARCELS_PER_BATCH
            received, expires, collected = times[b]
            yield (
                units[b % len(units)][0],
                f"SF{n:013d}",
                carriers[n % len(carriers)],
                f"{'ABCDEF'[n % 6]}-{n % 9 + 1}",
                "collected",
                received,
                expires,
                collected,
                "kiosk_code",
                b + 1,
            )

    conn.executemany(
        "INSERT INTO parcels (unit_id, tracking_number, carrier, shelf, status, received_at,"
        " expires_at, collected_at, release_method, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        parcel_rows(),
    )
    for i, (unit_id, number) in enumerate(units[:open_units]):
        code = parcels.new_code()
        codes[number] = code
        cursor = conn.execute(
            "INSERT INTO parcel_batches (unit_id, code_hash, status, created_at, expires_at)"
            " VALUES (?, ?, 'open', ?, ?)",
            (
                unit_id,
                parcels.code_hash(secret, unit_id, code),
                to_iso(now),
                to_iso(now + timedelta(days=14)),
            ),
        )
        conn.execute(
            "INSERT INTO parcels (unit_id, tracking_number, carrier, shelf, status, received_at,"
            " expires_at, batch_id) VALUES (?, ?, 'sf', 'A-1', 'waiting', ?, ?, ?)",
            (
                unit_id,
                f"SF9{i:012d}",
                to_iso(now),
                to_iso(now + timedelta(days=14)),
                cursor.lastrowid,
            ),
        )
    loaded = time.perf_counter()
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    indexed = time.perf_counter()
    conn.execute("ANALYZE")
    count = conn.execute("SELECT COUNT(*) FROM parcels").fetchone()[0]
    db.close()
    return {
        "codes": codes,
        "count": count,
        "load_s": loaded - started,
        "index_s": indexed - loaded,
        "units": units,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=400, help="pickups by code and by QR, each")
    args = parser.parse_args()
    if 2 * args.rounds + WARM_UP > UNITS_PER_FLOOR * FLOORS:
        parser.error(f"--rounds at most {(UNITS_PER_FLOOR * FLOORS - WARM_UP) // 2}")

    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        secret = secrets.token_hex(32)
        path = Path(data_dir) / "lobbydesk.db"
        print(f"loading {args.parcels:,} parcels …", flush=True)
        open_units = 2 * args.rounds + WARM_UP
        loaded = bulk_load(path, secret, args.parcels, open_units)
        size_mb = path.stat().st_size / 1e6
        rate = (loaded["count"]) / loaded["load_s"]
        print(
            f"  {loaded['count']:,} parcels: load {loaded['load_s']:.2f} s ({rate:,.0f} rows/s,"
            f" indexes dropped), indexes {loaded['index_s']:.2f} s, file {size_mb:.0f} MB"
        )
        # bulk_load made the building, its codes signed with `secret`;
        # KIOSK_WRITE_BURST: measures verification, not the per-kiosk pacing
        app = make_app(
            data_dir, testing=False, building=None, SECRET_KEY=secret, KIOSK_WRITE_BURST=10**9
        )
        tokens = [paired_kiosk(app, name=f"bench {n}")[1] for n in range(1 + args.rounds // 9 + 1)]
        db = building_db(app)
        batches = {
            r["number"]: parcels.get_batch(db, r["id"])
            for r in db.query(
                "SELECT b.id, u.number FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
                " WHERE b.status = 'open'"
            )
        }
        db.close()
        server = serve(app)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[0]}"
        url = server.url + "/api/v1"
        timings = {"ping": [], "code": [], "qr": [], "wrong": []}
        open_numbers = list(loaded["codes"])
        spare = [number for _id, number in loaded["units"][open_units:]]
        wrong_sessions = []
        for token in tokens[1:]:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {token}"
            wrong_sessions.append(s)

        def post(s, body):
            started = time.perf_counter()
            response = s.post(
                url + "/parcels/pickup",
                json=body,
                headers={"Idempotency-Key": new_idempotency_key()},
                timeout=10,
            )
            return time.perf_counter() - started, response

        try:
            for number in open_numbers[:WARM_UP]:
                session.get(url + "/ping", timeout=5)
                post(session, {"unit": number, "code": loaded["codes"][number]})
            by_code = open_numbers[WARM_UP : WARM_UP + args.rounds]
            by_qr = open_numbers[WARM_UP + args.rounds :]
            wrong_units = itertools.cycle(spare)
            for i, (code_unit, qr_unit) in enumerate(zip(by_code, by_qr, strict=True)):
                started = time.perf_counter()
                assert session.get(url + "/ping", timeout=5).status_code == 200
                timings["ping"].append(time.perf_counter() - started)
                elapsed, response = post(
                    session, {"unit": code_unit, "code": loaded["codes"][code_unit]}
                )
                assert response.status_code == 200, response.text
                timings["code"].append(elapsed)
                token = parcels.pickup_token(secret, batches[qr_unit])
                elapsed, response = post(session, {"qr": token})
                assert response.status_code == 200, response.text
                timings["qr"].append(elapsed)
                elapsed, response = post(
                    wrong_sessions[i // 9], {"unit": next(wrong_units), "code": "000000"}
                )
                assert response.status_code == 400, response.text
                timings["wrong"].append(elapsed)
        finally:
            server.stop()

    base50, base99 = (nearest_rank(timings["ping"], p) * 1000 for p in (50, 99))
    labels = {
        "ping": "(a) kiosk GET /api/v1/ping round trip",
        "code": "(b) pickup by unit + code (verify, release, handover)",
        "qr": "(c) pickup by QR (verify signature, release, handover)",
        "wrong": "(d) wrong code (verify, count attempt)",
    }
    print()
    print(
        f"{loaded['count']:,} parcels in the database; {args.rounds} rounds after {WARM_UP} warm-up"
    )
    rows = []
    for key, label in labels.items():
        values = timings[key]
        p50, p99 = (nearest_rank(values, p) * 1000 for p in (50, 99))
        ratios = f"{ratio(p50, base50)} / {ratio(p99, base99)}"
        rows.append([label, len(values), f"{p50:.2f}", f"{p99:.2f}", ratios])
    print(markdown_table(["metric", "n", "p50 ms", "p99 ms", "÷ (a), p50 / p99"], rows))
    print(f"\nmean of (b): {statistics.fmean(timings['code']) * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
