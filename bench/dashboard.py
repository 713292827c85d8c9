"""The manager's dashboard with a year of data: server time of GET /dashboard.

Builds a building database with a year of history ending at the (frozen)
console clock — 100,000 visits, 50,000 parcels, 10,000 repairs and complaints
with ratings, 15,000 help calls and alerts, 5,000 kiosk pickups handed over at
the desk — by raw `executemany` in one transaction, spread the way a lobby is
busy (weekdays, morning and evening peaks, a long tail of slow answers). Then
a manager signs in through the Flask test client and the page is fetched
again and again; each request is timed from the call to the full response
(SQL, percentiles, seven pygal charts, the template), i.e. server time without
the network. Also a CSV export (30 days and a whole year) and the monthly PDF.

    .venv/bin/python bench/dashboard.py                    # 40 requests per case
    .venv/bin/python bench/dashboard.py --requests 100 --scale 0.1
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, percentile
from shared import kiosks, staff
from shared.clock import FrozenClock, to_iso
from shared.demo import create_building
from shared.passwords import hasher
from shared.schema import open_building_db
from shared.ticket_catalog import CATEGORIES, REASON_KEYS
from tests.helpers import StaffBrowser, make_app

NOW = "2026-11-27T09:00:00+00:00"  # 17:00 in Shanghai
YEAR = {
    "visits": 100_000,
    "parcels": 50_000,
    "tickets": 10_000,
    "escalations": 15_000,
    "handovers": 5_000,
}
OFFSET = timedelta(hours=8)  # Asia/Shanghai, for spreading over local hours
# How busy each local hour is (visits, help calls); parcels arrive in the day.
VISIT_HOURS = [0, 0, 0, 0, 0, 0, 1, 3, 7, 9, 9, 8, 7, 7, 8, 9, 9, 9, 8, 7, 5, 3, 1, 0.3]
PARCEL_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 2, 6, 9, 10, 8, 8, 9, 9, 8, 6, 4, 2, 1, 0, 0, 0]
SLA = {"emergency": 15, "urgent": 240, "normal": 4320}
WARM_UP = 3
PASSWORD = "bench password 2026"


def _moment(rng: random.Random, start: datetime, days: int, weights: list[float]) -> datetime:
    """A UTC time on a random day (weekends a little quieter), at a weighted local hour."""
    while True:
        day = rng.randrange(days)
        if (start + timedelta(days=day) + OFFSET).weekday() < 5 or rng.random() < 0.7:
            break
    hour = rng.choices(range(24), weights)[0]
    local_midnight = (start + timedelta(days=day) + OFFSET).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    moment = local_midnight + timedelta(hours=hour, seconds=rng.uniform(0, 3600)) - OFFSET
    return moment.replace(tzinfo=UTC)


def _answer_seconds(rng: random.Random) -> float:
    """Median ≈ 40 s, about one in four over the minute, a few several minutes late."""
    return max(3.0, rng.lognormvariate(math.log(40), 0.6))


def seed(db, now: datetime, *, days: int = 365, scale: float = 1.0, seed_value: int = 7) -> dict:
    """Fill a building database (building, units, staff created) with `days` of history."""
    rng = random.Random(seed_value)
    start = now - timedelta(days=days)
    counts = {key: max(1, int(value * scale * days / 365)) for key, value in YEAR.items()}
    units = [row[0] for row in db.execute("SELECT id FROM units").fetchall()]
    staff_ids = [row[0] for row in db.execute("SELECT id FROM staff").fetchall()]
    kiosk_ids = [row[0] for row in db.execute("SELECT id FROM kiosks").fetchall()]
    iso = to_iso
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")

    visits = []
    for _ in range(counts["visits"]):
        received = _moment(rng, start, days, VISIT_HOURS)
        if received > now:
            continue
        answered = received + timedelta(seconds=_answer_seconds(rng))
        pending = answered > now or rng.random() < 0.004
        denied = rng.random() < 0.03
        status = "pending" if pending else "denied" if denied else "signed_out"
        visits.append(
            (
                rng.choice(kiosk_ids),
                rng.choice(units),
                "访客",
                rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0],
                status,
                iso(received - timedelta(seconds=2)),
                iso(received),
                None if pending else iso(answered),
                None if pending else rng.choice(staff_ids),
                None if pending else ("deny" if denied else "confirm_id"),
            )
        )
    conn.executemany(
        "INSERT INTO visits (kiosk_id, unit_id, name, party_size, status, created_at, received_at,"
        " decided_at, decided_by, decision_method) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        visits,
    )

    escalations = []
    for _ in range(counts["escalations"]):
        received = _moment(rng, start, days, VISIT_HOURS)
        answered = received + timedelta(seconds=_answer_seconds(rng) * 0.8)
        open_ = answered > now or rng.random() < 0.003
        escalations.append(
            (
                rng.choice(kiosk_ids),
                rng.choices(("help", "code_lockout", "unknown_unit"), (85, 5, 10))[0],
                "open" if open_ else "resolved",
                iso(received),
                iso(received),
                None if open_ else iso(answered),
                None if open_ else rng.choice(staff_ids),
            )
        )
    conn.executemany(
        "INSERT INTO escalations (kiosk_id, kind, status, created_at, received_at, acknowledged_at,"
        " acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        escalations,
    )

    parcels = []
    for _ in range(counts["parcels"]):
        received = _moment(rng, start, days, PARCEL_HOURS)
        collected = received + timedelta(hours=max(0.2, rng.lognormvariate(math.log(20), 0.9)))
        night = (collected + OFFSET).hour
        if night < 7:  # residents collect between 07:00 and midnight
            collected += timedelta(hours=7 - night, minutes=rng.uniform(0, 180))
        waiting = collected > now or rng.random() < 0.005
        parcels.append(
            (
                rng.choice(units),
                f"SF{rng.randrange(10**12, 10**13)}",
                "sf",
                f"{rng.choice('ABCD')}-{rng.randint(1, 9)}",
                "waiting" if waiting else "collected",
                iso(received),
                iso(received + timedelta(days=14)),
                None if waiting else iso(collected),
                None if waiting else rng.choice(("kiosk_code", "kiosk_qr", "desk")),
                rng.choice(staff_ids),
            )
        )
    conn.executemany(
        "INSERT INTO parcels (unit_id, tracking_number, carrier, shelf, status, received_at,"
        " expires_at, collected_at, release_method, received_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        parcels,
    )

    for _ in range(counts["handovers"]):
        received = _moment(rng, start, days, PARCEL_HOURS)
        unit = rng.choice(units)
        batch = conn.execute(
            "INSERT INTO parcel_batches (unit_id, code_hash, status, created_at, expires_at,"
            " closed_at) VALUES (?, 'x', 'collected', ?, ?, ?)",
            (
                unit,
                iso(received - timedelta(days=1)),
                iso(received + timedelta(days=13)),
                iso(received),
            ),
        ).lastrowid
        done = received + timedelta(seconds=_answer_seconds(rng) * 1.2)
        open_ = done > now
        conn.execute(
            "INSERT INTO parcel_handovers (batch_id, unit_id, kiosk_id, method, parcel_count, status,"
            " received_at, done_at, done_by) VALUES (?, ?, ?, 'kiosk_code', ?, ?, ?, ?, ?)",
            (
                batch,
                unit,
                rng.choice(kiosk_ids),
                rng.randint(1, 3),
                "open" if open_ else "done",
                iso(received),
                None if open_ else iso(done),
                None if open_ else rng.choice(staff_ids),
            ),
        )

    tickets = []
    for _ in range(counts["tickets"]):
        received = _moment(rng, start, days, VISIT_HOURS)
        kind = "complaint" if rng.random() < 0.15 else "repair"
        category = rng.choice([c for c in CATEGORIES if (c.kind == kind)] or CATEGORIES)
        problem = rng.choice(category.problems)
        urgency = (
            "emergency" if problem.emergency else rng.choices(("normal", "urgent"), (85, 15))[0]
        )
        sla = SLA[urgency]
        resolve_minutes = sla * rng.lognormvariate(math.log(0.45), 0.7)
        resolved = received + timedelta(minutes=resolve_minutes)
        status, rating, rated, reasons = "resolved", None, None, None
        if resolved > now:
            status, resolved = rng.choice(("new", "assigned", "in_progress")), None
        elif rng.random() < 0.6:
            rating = rng.choices((5, 4, 3, 2, 1), (55, 25, 10, 6, 4))[0]
            late = resolve_minutes > sla
            if late and rating > 2 and rng.random() < 0.5:
                rating -= 2
            rated = resolved + timedelta(hours=rng.uniform(0.5, 48))
            if rated > now:
                rating = rated = None
            elif rating <= 3:
                reasons = json.dumps(rng.sample(REASON_KEYS, rng.randint(1, 2)))
        if status == "resolved" and rng.random() < 0.5 and rated is not None:
            status = "closed"
        tickets.append(
            (
                kind,
                rng.choice(units),
                category.key,
                problem.key,
                urgency,
                status,
                iso(received),
                iso(received),
                iso(received + timedelta(minutes=sla)),
                None if resolved is None else iso(resolved),
                rating,
                reasons,
                None if rated is None else iso(rated),
            )
        )
    conn.executemany(
        "INSERT INTO tickets (kind, unit_id, category, problem, urgency, status, created_at,"
        " received_at, sla_due_at, resolved_at, rating, rating_reasons, rated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tickets,
    )
    conn.execute(  # the satisfaction figures count the rating history
        "INSERT INTO ticket_ratings (ticket_id, resolution, rating, reasons, via, rated_at)"
        " SELECT id, 0, rating, coalesce(rating_reasons, '[]'), 'kiosk', rated_at FROM tickets"
        " WHERE rating IS NOT NULL AND rated_at IS NOT NULL"
    )
    conn.execute("COMMIT")
    return {
        "visits": len(visits),
        "escalations": len(escalations),
        "parcels": len(parcels),
        "handovers": counts["handovers"],
        "tickets": len(tickets),
    }


def build(data_dir: Path, scale: float, clock: FrozenClock) -> tuple[dict, float]:
    db = open_building_db(data_dir / "lobbydesk.db")
    create_building(db, clock, name="基准大厦", name_en="Bench Tower", floors=30, units_per_floor=8)
    cheap = hasher(cheap=True)
    for n, name in enumerate(("王芳", "李娜", "张敏", "刘洋", "陈杰", "赵磊")):
        staff.create(
            db, clock, cheap, username=f"desk{n}", display_name=name, password=PASSWORD,
            role="reception", actor="bench",
        )  # fmt: skip
    staff.create(
        db, clock, cheap, username="manager", display_name="周经理", password=PASSWORD,
        role="manager", actor="bench",
    )  # fmt: skip
    for name in ("大堂 A · Lobby A", "大堂 B · Lobby B"):
        kiosks.create(db, clock, building_id=1, name=name, actor="bench")
    started = time.perf_counter()
    counts = seed(db, clock.now(), scale=scale)
    db.execute("ANALYZE")
    db.close()
    return counts, time.perf_counter() - started


def _time(client, path: str, requests: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each request (CPU shows the work itself when
    other processes share the cores)."""
    for _ in range(WARM_UP):
        assert client.get(path).status_code == 200
    wall, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = client.get(path)
        body = answer.get_data()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert answer.status_code == 200 and body, (path, answer.status_code)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="timed requests per case (≥ 30)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of a year's volumes")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the database here and reuse it on the next run (default: a temporary folder)",
    )
    args = parser.parse_args()
    clock = FrozenClock(NOW)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = args.data_dir or Path(folder)
        data_dir.mkdir(parents=True, exist_ok=True)
        if (data_dir / "lobbydesk.db").exists():
            print(f"reusing {data_dir / 'lobbydesk.db'}")
        else:
            counts, load_seconds = build(data_dir, args.scale, clock)
            print(
                f"loaded in {load_seconds:.1f} s"
                f" ({(data_dir / 'lobbydesk.db').stat().st_size / 1e6:.0f} MB): "
                + ", ".join(f"{n:,} {k}" for k, n in counts.items())
            )
        # build() made the building; a fixed key, so that a kept --data-dir can be reused
        app = make_app(
            data_dir, clock, testing=False, building=None, SECRET_KEY="bench-" + "x" * 40
        )
        client = app.test_client()
        signed_in = StaffBrowser(client).login("manager", PASSWORD)
        assert signed_in.status_code == 302, signed_in.status_code
        cases = [
            ("GET /dashboard (last 30 days, default)", "/dashboard"),
            ("GET /dashboard?from=…&to=… (one month)", "/dashboard?from=2026-10-01&to=2026-10-31"),
            (
                "GET /dashboard (the whole year, 366 days)",
                "/dashboard?from=2025-11-27&to=2026-11-27",
            ),
            ("GET /dashboard/response_daily.csv (30 days)", "/dashboard/response_daily.csv"),
            (
                "GET /dashboard/response_daily.csv (the whole year)",
                "/dashboard/response_daily.csv?from=2025-11-27&to=2026-11-27",
            ),
            ("GET /dashboard/report.pdf?month=2026-10", "/dashboard/report.pdf?month=2026-10"),
        ]
        rows = []
        for label, path in cases:
            wall, cpu = _time(client, path, max(args.requests, 30))
            figures = [statistics.median(wall), percentile(wall, 95), max(wall)]
            figures.append(statistics.median(cpu))
            rows.append([label, len(wall), *(f"{value:.1f}" for value in figures)])
        header = ["request (server time, Flask test client)", "n", "p50 ms", "p95 ms", "max ms"]
        print(markdown_table([*header, "CPU p50 ms"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
