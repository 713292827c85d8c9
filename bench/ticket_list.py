"""The staff ticket list at 100,000 tickets: server time per page, default and filtered.

Seeds a temporary building database (1,000 units) with N tickets (default
100,000) by bulk insert: three years of reports, most of them long closed, the
last week's open in every state, a stale few older ones still open (overdue); a realistic spread
of categories, urgencies, kinds (noise is a complaint) and sources, each with
its "created" update and, when worked, a status update. Then a receptionist
signs in through the Flask test client (the real app, migrations, argon2id at
production cost, the real clock) and the script times each request from just
before `client.get()` to its full body (`perf_counter`), in-process, so it is
the console's own time: view, queries, template, no network.

    .venv/bin/python bench/ticket_list.py [--tickets 100000] [--requests 60]
    .venv/bin/python bench/ticket_list.py --without-list-indexes   # before migration 0010
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, ms_since, nearest_rank
from shared import ticket_catalog, tickets
from shared.clock import SystemClock, to_iso
from shared.db import connect, write_transaction
from tests.helpers import StaffBrowser, building_db
from tests.servers import BENCH_BUILDING, BENCH_PASSWORD, BENCH_USERNAME, bench_app

WARM_UP = 5
YEARS = 3
SLA = {"emergency": 15, "urgent": 240, "normal": 4320}
CATEGORY_WEIGHTS = {
    "water": 26,
    "electrical": 18,
    "elevator": 8,
    "doors": 12,
    "public_area": 14,
    "noise": 12,
    "security": 5,
    "other": 5,
}


def seed(db, count: int, now: datetime, rng: random.Random) -> None:
    """Bulk-insert `count` tickets spread over YEARS, oldest first (ids grow with time)."""
    units = [(r["id"], r["number"]) for r in db.query("SELECT id, number FROM units")]
    categories = {c.key: c for c in ticket_catalog.CATEGORIES}
    keys, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    span = timedelta(days=365 * YEARS).total_seconds()
    moments = sorted(now - timedelta(seconds=rng.random() * span) for _ in range(count))
    ticket_rows, update_rows = [], []
    for ticket_id, received in enumerate(moments, start=1):
        category = categories[rng.choices(keys, weights)[0]]
        problem = rng.choice(category.problems)
        urgency = (
            "emergency" if problem.emergency else rng.choices(["normal", "urgent"], [82, 18])[0]
        )
        age = (now - received).total_seconds()
        # Older tickets are done but for a stale few; the last week holds the open work.
        if age > 7 * 86400:
            status = rng.choices(
                ["closed", "resolved", "assigned", "in_progress"], [850, 146, 2, 2]
            )[0]
        else:
            status = rng.choices(
                ["new", "assigned", "in_progress", "resolved", "closed"], [6, 10, 10, 34, 40]
            )[0]
        unit_id, number = rng.choice(units)
        public = category.key in ("public_area", "elevator", "security") and rng.random() < 0.6
        due = received + timedelta(minutes=SLA[urgency])
        worked = status != "new"
        resolved_at = (
            received + timedelta(minutes=SLA[urgency] * rng.uniform(0.2, 1.3))
            if status in ("resolved", "closed")
            else None
        )
        source = "desk" if rng.random() < 0.3 else "kiosk"
        ticket_rows.append(
            (
                ticket_id,
                category.kind,
                None if public else unit_id,
                "3 楼电梯厅" if public else number,
                category.key,
                problem.key,
                urgency,
                rng.choice(["", "", "厨房", "卫生间里一直有水声", "晚上十点以后还很吵"]) or None,
                status,
                rng.choice(["dept:maintenance", "dept:cleaning", "dept:security"])
                if worked
                else None,
                to_iso(received),
                to_iso(received),
                to_iso(resolved_at) if resolved_at else None,
                to_iso(resolved_at) if status == "closed" else None,
                to_iso(due),
                source,
                rng.choice([None, None, 5, 5, 4, 3, 1])
                if status in ("resolved", "closed")
                else None,
            )
        )
        update_rows.append((ticket_id, to_iso(received), "created", "终端报修 · Reported"))
        if worked:
            update_rows.append((ticket_id, to_iso(received), "status", "状态 Status"))
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO tickets (id, kind, unit_id, location, category, problem, urgency,"
            " description, status, assigned_to, created_at, received_at, resolved_at,"
            " closed_at, sla_due_at, source, rating) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ticket_rows,
        )
        db.conn.executemany(
            "INSERT INTO ticket_updates (ticket_id, at, kind, text) VALUES (?, ?, ?, ?)",
            update_rows,
        )


def list_query(db, path: str):
    """For a list URL, the queries its view runs (tickets.search + counts), else None."""
    url = urlsplit(path)
    if url.path != "/tickets/":
        return None
    filters = dict(parse_qsl(url.query))
    page = int(filters.pop("page", 1))
    clock = SystemClock()

    def run():
        tickets.search(db, clock, filters, page=page, page_size=50)
        tickets.counts(db, clock)

    return run


def time_pages(client, db, pages: list[tuple[str, str]], rounds: int) -> list[tuple]:
    """Milliseconds per request for each page, after WARM_UP rounds, and for list pages
    the time of their queries alone. Pages take turns (round-robin), so a noisy
    neighbour on the machine slows them all alike."""
    timings: dict[str, list[float]] = {path: [] for _label, path in pages}
    queries: dict[str, list[float]] = {path: [] for _label, path in pages}
    rows: dict[str, int] = {}
    for n in range(WARM_UP + rounds):
        for _label, path in pages:
            started = time.perf_counter()
            response = client.get(path)
            body = response.get_data()
            elapsed = ms_since(started)
            assert response.status_code == 200, (path, response.status_code)
            rows[path] = body.count(b"<tr data-ticket-id=")
            query = list_query(db, path)
            if query is not None:
                started = time.perf_counter()
                query()
                queried = ms_since(started)
            if n >= WARM_UP:
                timings[path].append(elapsed)
                if query is not None:
                    queries[path].append(queried)
    return [(label, rows[path], timings[path], queries[path]) for label, path in pages]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page (≥50)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--without-list-indexes",
        action="store_true",
        help="drop migration 0010's partial indexes first, to see what they buy",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        clock = SystemClock()
        building = {**BENCH_BUILDING, "floors": 40, "units_per_floor": 25}
        app = bench_app(Path(data_dir), building=building)
        db = building_db(app)
        started = time.perf_counter()
        seed(db, args.tickets, clock.now(), rng)
        seeded = time.perf_counter() - started
        busy_unit = db.execute(
            "SELECT u.number FROM tickets t JOIN units u ON u.id = t.unit_id"
            " GROUP BY t.unit_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()[0]
        open_count = tickets.counts(db, clock)
        size_mb = (Path(data_dir) / "lobbydesk.db").stat().st_size / 1e6
        if args.without_list_indexes:
            for name in ("tickets_open_category", "tickets_open_urgency", "tickets_open_kind"):
                db.execute(f"DROP INDEX {name}")
        db.close()

        client = app.test_client()
        signed_in = StaffBrowser(client).login(BENCH_USERNAME, BENCH_PASSWORD)
        assert signed_in.status_code == 302, signed_in.status_code
        pages = [
            ("default view: newest 50", "/tickets/"),
            (
                "status=open&category=water&overdue=1",
                "/tickets/?status=open&category=water&overdue=1",
            ),
            (f"q={busy_unit} (the unit with most tickets)", f"/tickets/?q={busy_unit}"),
            ("q=<ticket number>", f"/tickets/?q={args.tickets // 2}"),
            ("status=open", "/tickets/?status=open"),
            ("kind=complaint&urgency=urgent", "/tickets/?kind=complaint&urgency=urgent"),
            ("status=open&urgency=urgent", "/tickets/?status=open&urgency=urgent"),
            ("overdue=1 (all categories)", "/tickets/?overdue=1"),
            ("default view, page 20 (offset 950)", "/tickets/?page=20"),
            ("one ticket page", f"/tickets/{args.tickets // 2}"),
        ]
        reader = connect(Path(data_dir) / "lobbydesk.db")
        results = time_pages(client, reader, pages, args.requests)
        reader.close()

    print()
    print(
        f"{args.tickets:,} tickets seeded in {seeded:.1f} s ({size_mb:.0f} MB database); "
        f"open {open_count['open']:,}, overdue {open_count['overdue']:,}; "
        f"{args.requests} timed requests per row after {WARM_UP} warm-up rounds, signed in as"
        " reception"
    )
    rows = []
    for label, shown, timings, queries in results:
        figures = [nearest_rank(timings, 50), nearest_rank(timings, 95), max(timings)]
        figures.append(statistics.fmean(timings))
        alone = (
            f"{nearest_rank(queries, 50):.2f} / {nearest_rank(queries, 95):.2f}" if queries else "—"
        )
        rows.append([label, shown, *(f"{value:.2f}" for value in figures), alone])
    header = ["GET", "rows shown", "p50 ms", "p95 ms", "max ms", "mean ms"]
    print(markdown_table([*header, "queries alone p50 / p95 ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
