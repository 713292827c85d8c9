"""The residents directory at 100,000 residents: server time per search.

Seeds a temporary building with 33,600 units (28 towers × 4 entrances × 30
floors × 10 doors, labels like 12-3-2807) through `units.add_many`, and 100,000
residents through the roster import's bulk path (`residents.clean` on each,
then `residents.insert_many` in one transaction: rows, search keys, a third
with an e-mail channel). Then a few hundred searches of the kinds the desk
types, taken from the data so they find someone:

    pinyin initials  "wjg"        name prefix   "王建"
    last 4 digits    "5678"       unit label    "12-3-28"

Each is timed three ways, in turns so a busy neighbour slows all alike:
(a) `residents.search(db, q)` — the domain call the page makes;
(b) `GET /residents/?q=…` through the Flask test client (a reception login on
    the real app: the view, its queries, the template; no network);
(c) the baseline: one bare indexed SELECT of the same prefix range on
    `resident_search(key)` (LIMIT 50), the least any search can cost.

    .venv/bin/python bench/directory_search.py [--residents 100000] [--searches 400]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, nearest_rank
from shared import residents, units
from shared.clock import SystemClock
from shared.db import write_transaction
from shared.schema import open_building_db
from tests.helpers import StaffBrowser
from tests.servers import BENCH_PASSWORD, BENCH_USERNAME, bench_app

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红志宏德福"
WARM_UP = 20


def seed(db, clock, count: int, rng: random.Random) -> list[dict]:
    db.execute(
        "INSERT INTO buildings (name, name_en, timezone) VALUES ('基准花园', 'Bench', 'Asia/Shanghai')"
    )
    units.add_many(
        db,
        clock,
        [
            {
                "tower": str(t),
                "entrance": str(e),
                "room": f"{f}{d:02d}",
                "floor": f,
                "keypad": f"{t:02d}{e}{f:02d}{d:02d}",  # 11-1-101 and 1-1-1101 differ
            }
            for t in range(1, 29)
            for e in range(1, 5)
            for f in range(1, 31)
            for d in range(1, 11)
        ],
        actor="bench",
    )
    unit_rows = list(db.query("SELECT id, number FROM units ORDER BY id"))
    phones = rng.sample(range(10_000_000, 99_999_999), count)
    consent = "2026-01-01T00:00:00.000000+00:00"
    people = []
    today = residents.today(db, clock)
    for n in range(count):
        unit = unit_rows[n % len(unit_rows)]
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        fields = {"name": name, "phone": f"13{rng.randint(5, 9)}{phones[n]:08d}"}
        if n % 3 == 0:
            fields["email"] = f"r{n}@example.com"
            fields["channels"] = [{"address": fields["email"], "consent_at": consent}]
        people.append((unit["id"], residents.clean(fields, today=today)))
    with write_transaction(db):
        residents.insert_many(db, clock, people)
    return [
        {"unit": unit_rows[n % len(unit_rows)]["number"], **p} for n, (_u, p) in enumerate(people)
    ]


def searches(people: list[dict], count: int, rng: random.Random) -> list[tuple[str, str]]:
    kinds = []
    for _ in range(count // 4):
        person = rng.choice(people)
        initials = residents.pinyin_keys(person["name"])
        kinds.append(("pinyin initials", min(initials, key=len)))
        kinds.append(("name prefix", person["name"][:2]))
        kinds.append(("last 4 digits", person["phone"][-4:]))
        kinds.append(("unit label", rng.choice(people)["unit"][:-2]))
    rng.shuffle(kinds)
    return kinds


def bare(db, query: str) -> list:
    text = residents.search_text(query)
    return db.conn.execute(
        "SELECT resident_id FROM resident_search WHERE key >= ? AND key < ? LIMIT 50",
        (text, text + "\uffff"),
    ).fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(11)

    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        clock = SystemClock()
        db = open_building_db(Path(data_dir) / "lobbydesk.db")
        started = time.perf_counter()
        people = seed(db, clock, args.residents, rng)
        seeded = time.perf_counter() - started
        db.execute("ANALYZE")
        app = bench_app(Path(data_dir), building=None)  # seed() made this building
        client = app.test_client()
        signed_in = StaffBrowser(client).login(BENCH_USERNAME, BENCH_PASSWORD)
        assert signed_in.status_code == 302, signed_in.status_code
        plan = searches(people, args.searches, rng)
        times: dict[str, dict[str, list[float]]] = {}
        for n, (kind, query) in enumerate(plan[:WARM_UP] + plan):
            row = times.setdefault(kind, {"search": [], "view": [], "bare": [], "found": []})
            started = time.perf_counter()
            found = residents.search(db, query)
            after_search = time.perf_counter()
            page = client.get("/residents/", query_string={"q": query})
            body = page.get_data()
            after_view = time.perf_counter()
            bare(db, query)
            after_bare = time.perf_counter()
            assert page.status_code == 200 and body
            if n >= WARM_UP:
                row["search"].append((after_search - started) * 1000)
                row["view"].append((after_view - after_search) * 1000)
                row["bare"].append((after_bare - after_view) * 1000)
                row["found"].append(len(found))
        db.close()

    print(f"\n{args.residents:,} residents seeded in {seeded:.1f} s (clean + insert_many)")
    print(f"{len(plan)} searches after {WARM_UP} warm-up; ms")
    header = ["search", "n", "found (median)", "residents.search p50 / p95"]
    header += ["GET /residents/?q= p50 / p95", "bare SELECT p50 / p95", "view ÷ bare p95"]
    everything = {"search": [], "view": [], "bare": []}
    rows = []
    for kind, row in sorted(times.items()):
        for key in everything:
            everything[key] += row[key]
        rows.append(_row(kind, row, int(nearest_rank(row["found"], 50))))
    rows.append(_row("all", everything, ""))
    print(markdown_table(header, rows))
    worst = nearest_rank(everything["view"], 95)
    print(f"\ngoal: p95 ≤ 15 ms → {'met' if worst <= 15 else 'NOT met'} (the page: {worst:.2f} ms)")
    return 0


def _row(kind: str, row: dict, found) -> list:
    p = {
        k: (nearest_rank(row[k], 50), nearest_rank(row[k], 95)) for k in ("search", "view", "bare")
    }
    return [
        kind,
        len(row["search"]),
        found,
        f"{p['search'][0]:.2f} / {p['search'][1]:.2f}",
        f"{p['view'][0]:.2f} / {p['view'][1]:.2f}",
        f"{p['bare'][0]:.3f} / {p['bare'][1]:.3f}",
        f"{p['view'][1] / p['bare'][1]:.0f}×",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
