"""Parcel intake by scripted scanner input in Chromium: seconds per parcel.

Starts a real console (uvicorn through ConsoleServer, the real clock, a
temporary data directory with a building, residents and one reception login)
and Debian's Chromium driven by Playwright. A receptionist signs in, opens
/parcels/ and logs N parcels with the keyboard only, as a keyboard-wedge
scanner and a person would:

    scan: keyboard.type(tracking) + Enter   → focus moves to the unit
    unit: keyboard.type("1203") + Enter     → focus moves to the shelf
    shelf: (kept from the last parcel) Enter, or a new shelf every 10th parcel

Each parcel is timed from its first scanned character to its row appearing at
the top of the "just logged" list (the save committed, the partial swapped in,
the tracking field focused again for the next scan), while the console's
notifier e-mails the residents through a loopback SMTP server (aiosmtpd, as
in tests/mailbox.py). Typing is scripted with
no human pauses, so this is the software's share of the desk's time.

    .venv/bin/python bench/parcel_intake.py [--parcels 100] [--char-delay 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, nearest_rank
from shared.db import write_transaction
from tests.browser.actions import sign_in
from tests.helpers import building_db
from tests.mailbox import Mailbox
from tests.servers import (
    BENCH_BUILDING,
    BENCH_PASSWORD,
    BENCH_USERNAME,
    bench_app,
    launch_chromium,
    serve,
)

WARM_UP = 3


def with_residents(app) -> list[str]:
    """A resident with an e-mail address in every third unit; returns all unit numbers."""
    db = building_db(app)
    units = [r["number"] for r in db.query("SELECT number FROM units ORDER BY id")]
    with write_transaction(db):
        for number in units[::3]:
            db.execute(
                "INSERT INTO residents (unit_id, name, email, created_at)"
                " SELECT id, '住户' || number, 'r' || number || '@example.com', 'x'"
                " FROM units WHERE number = ?",
                (number,),
            )
    db.close()
    return units


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100)
    parser.add_argument(
        "--char-delay", type=float, default=0, help="ms between typed characters (a scanner: 0-5)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        mailbox = Mailbox().start()  # the notifier e-mails residents as parcels arrive
        app = bench_app(
            Path(data_dir),
            building={**BENCH_BUILDING, "floors": 20},
            NOTIFY_EMAIL_URL=mailbox.apprise_url,
        )
        units = with_residents(app)
        server = serve(app)
        timings: list[float] = []
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
                page.set_default_timeout(10_000)
                sign_in(page, server.url, BENCH_USERNAME, BENCH_PASSWORD)
                page.goto(server.url + "/parcels/")
                expect(page.locator("#tracking")).to_be_focused()
                first_row = page.locator("#recent tr").first
                started_all = time.perf_counter()
                for n in range(WARM_UP + args.parcels):
                    tracking = f"SF{n + 1:013d}"
                    started = time.perf_counter()
                    page.keyboard.type(tracking, delay=args.char_delay)
                    page.keyboard.press("Enter")
                    page.keyboard.type(units[n % len(units)], delay=args.char_delay)
                    page.keyboard.press("Enter")
                    if n % 10 == 0:  # a new shelf now and then; else the last one stays
                        page.keyboard.type(f"{'ABCDEF'[n // 10 % 6]}-{n % 9 + 1}")
                    page.keyboard.press("Enter")
                    expect(first_row).to_contain_text(tracking)
                    expect(page.locator("#tracking")).to_be_focused()
                    if n >= WARM_UP:
                        timings.append(time.perf_counter() - started)
                    else:
                        started_all = time.perf_counter()
                total = time.perf_counter() - started_all
                browser.close()
        finally:
            server.stop()
            mailbox.stop()
        check = building_db(app)
        logged = check.execute("SELECT COUNT(*) FROM parcels").fetchone()[0]
        check.close()

    assert logged == WARM_UP + args.parcels, logged
    print()
    print(f"{args.parcels} parcels by scripted scanner input (after {WARM_UP} warm-up), Chromium")
    one_parcel = [statistics.fmean(timings), nearest_rank(timings, 50), nearest_rank(timings, 99)]
    rows = [
        ["one parcel: scan ⏎ unit ⏎ shelf ⏎ → saved, ready for the next scan", len(timings)]
        + [f"{value:.3f}" for value in one_parcel],
        [f"all {args.parcels} parcels, wall clock", 1, f"{total:.2f}", "", ""],
    ]
    print(markdown_table(["metric", "n", "mean s", "p50 s", "p99 s"], rows))
    print(f"\n{args.parcels / total * 60:.0f} parcels per minute at scripted speed;")
    print(f"{len(mailbox.messages)} resident e-mails sent meanwhile by the console's notifier")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
