"""Importing a 10,000-resident roster from XLSX and from CSV: preview, then apply.

For each format, a fresh temporary building (2,000 units) gets the same 10,000
residents (Chinese names, unique mobiles, a third with an e-mail channel, a
tenth with a WeCom URL, all consented) through `shared.roster`: `preview` (read
the file, every row through residents.clean, match against the building) and
`apply` (the same checks again inside one write transaction, then the inserts,
channels, search keys and one audit row). A second apply of the same file shows
the re-import (everything unchanged, nothing written).

The baseline, in the same run, is the bare cost of storing those rows: one
`executemany` of the same 10,000 tuples into a bare table of a fresh SQLite file
with the same pragmas (WAL, synchronous=FULL) in one transaction.

    .venv/bin/python bench/roster_import.py [--residents 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl

from shared import roster
from shared.clock import SystemClock
from shared.db import connect, write_transaction
from shared.demo import create_building
from shared.roster import RESIDENT_COLUMNS
from shared.schema import open_building_db

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红"


def roster_rows(count: int, unit_numbers: list[str], rng: random.Random) -> list[list[str]]:
    phones = rng.sample(range(10_000_000, 99_999_999), count)
    rows = []
    for n in range(count):
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        email = f"r{n}@example.com" if n % 3 == 0 else ""
        notify = f"wecombot://key{n:06d}" if n % 10 == 0 else ""
        rows.append(
            [
                unit_numbers[n % len(unit_numbers)],
                name,
                rng.choice(("业主", "租户", "家庭成员")),
                f"139{phones[n]:08d}",
                "",
                email,
                "中文" if n % 8 else "English",
                f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                notify,
                "是",
                "",
            ]
        )
    return rows


def as_xlsx(headers, rows) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("住户")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_csv(headers, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def fresh_building(folder: Path, clock):
    db = open_building_db(folder / "lobbydesk.db")
    create_building(
        db, clock, name="基准花园", name_en="Bench Gardens", floors=50, units_per_floor=40
    )
    return db


def baseline(folder: Path, rows: list[list[str]]) -> float:
    """The same rows stored the barest way: one executemany, one transaction."""
    db = connect(folder / "bare.db")
    db.execute(
        "CREATE TABLE bare (unit TEXT, name TEXT, role TEXT, phone TEXT, alt_phone TEXT,"
        " email TEXT, language TEXT, moved_in_on TEXT, notify TEXT, consent TEXT, moved_out TEXT)"
    )
    started = time.perf_counter()
    with write_transaction(db):
        db.conn.executemany("INSERT INTO bare VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def measure(fmt: str, content: bytes, rows, repeat: int) -> dict:
    clock = SystemClock()
    runs = {"preview": [], "apply": [], "reimport": [], "baseline": []}
    for attempt in range(repeat):
        with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as folder:
            db = fresh_building(Path(folder), clock)
            started = time.perf_counter()
            result = roster.preview(db, clock, content, f"roster.{fmt}")
            runs["preview"].append(time.perf_counter() - started)
            assert not result.errors, result.errors[:3]
            started = time.perf_counter()
            summary = roster.apply(db, clock, content, f"roster.{fmt}", actor="bench")
            runs["apply"].append(time.perf_counter() - started)
            assert summary["add"] == len(rows), summary
            started = time.perf_counter()
            again = roster.apply(db, clock, content, f"roster.{fmt}", actor="bench")
            runs["reimport"].append(time.perf_counter() - started)
            assert again["unchanged"] == len(rows), again
            db.close()
            runs["baseline"].append(baseline(Path(folder), rows))
        print(f"  {fmt} run {attempt + 1}: apply {runs['apply'][-1]:.2f} s", flush=True)
    return {k: statistics.median(v) for k, v in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(7)
    units = [f"{floor}{door:02d}" for floor in range(1, 51) for door in range(1, 41)]
    headers = [c.header for c in RESIDENT_COLUMNS]
    rows = roster_rows(args.residents, units, rng)
    files = {"xlsx": as_xlsx(headers, rows), "csv": as_csv(headers, rows)}
    results = {}
    for fmt, content in files.items():
        print(f"{fmt}: {len(content) / 1024 / 1024:.1f} MB, {args.residents} rows", flush=True)
        results[fmt] = measure(fmt, content, rows, args.repeat)

    print()
    print(f"{args.residents:,} residents, median of {args.repeat} runs, each on a fresh building")
    print("| file | preview s | apply s (checks again + writes) | re-import s (all unchanged)"
          " | bare executemany s | apply ÷ bare |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|")
    for fmt, r in results.items():
        print(
            f"| {fmt} ({len(files[fmt]) / 1024 / 1024:.1f} MB) | {r['preview']:.2f} |"
            f" {r['apply']:.2f} | {r['reimport']:.2f} | {r['baseline']:.3f} |"
            f" {r['apply'] / r['baseline']:.0f}× |"
        )
    worst = max(r["apply"] for r in results.values())
    print(f"\ngoal: apply ≤ 5 s → {'met' if worst <= 5 else 'NOT met'} (slowest {worst:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
