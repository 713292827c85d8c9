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
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console import create_app
from console.server import ConsoleServer
from shared import staff
from shared.clock import SystemClock
from shared.demo import create_building
from shared.passwords import hasher
from shared.schema import open_building_db
from tests.mailbox import Mailbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERNAME, PASSWORD = "bench.reception", "bench-" + secrets.token_hex(8)
WARM_UP = 3


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100)
    parser.add_argument(
        "--char-delay", type=float, default=0, help="ms between typed characters (a scanner: 0-5)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        clock = SystemClock()
        db = open_building_db(Path(data_dir) / "lobbydesk.db")
        create_building(db, clock, name="基准大厦", name_en="Bench Tower", floors=20)
        units = [r["number"] for r in db.query("SELECT number FROM units ORDER BY id")]
        for number in units[::3]:
            db.execute(
                "INSERT INTO residents (unit_id, name, email, created_at)"
                " SELECT id, '住户' || number, 'r' || number || '@example.com', 'x'"
                " FROM units WHERE number = ?",
                (number,),
            )
        staff.create(
            db,
            clock,
            hasher(),
            username=USERNAME,
            display_name="基准前台",
            password=PASSWORD,
            role="reception",
            actor="bench",
        )
        db.close()
        mailbox = Mailbox().start()  # the notifier e-mails residents as parcels arrive
        app = create_app(
            {
                "DATA_DIR": data_dir,
                "SECRET_KEY": secrets.token_hex(32),
                "NOTIFY_EMAIL_URL": mailbox.apprise_url,
            }
        )
        server = ConsoleServer(app).start_in_background()
        timings: list[float] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
                page.set_default_timeout(10_000)
                page.goto(server.url + "/login")
                page.get_by_label("用户名 · Username").fill(USERNAME)
                page.get_by_label("密码 · Password").fill(PASSWORD)
                page.get_by_role("button", name="登录 · Sign in").click()
                page.wait_for_url(server.url + "/")
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
        check = open_building_db(Path(data_dir) / "lobbydesk.db")
        logged = check.execute("SELECT COUNT(*) FROM parcels").fetchone()[0]
        check.close()

    assert logged == WARM_UP + args.parcels, logged
    print()
    print(f"{args.parcels} parcels by scripted scanner input (after {WARM_UP} warm-up), Chromium")
    print("| metric | n | mean s | p50 s | p99 s |")
    print("|---|--:|--:|--:|--:|")
    print(
        f"| one parcel: scan ⏎ unit ⏎ shelf ⏎ → saved, ready for the next scan | {len(timings)} |"
        f" {statistics.fmean(timings):.3f} | {percentile(timings, 50):.3f} |"
        f" {percentile(timings, 99):.3f} |"
    )
    print(f"| all {args.parcels} parcels, wall clock | 1 | {total:.2f} | | |")
    print(f"\n{args.parcels / total * 60:.0f} parcels per minute at scripted speed;")
    print(f"{len(mailbox.messages)} resident e-mails sent meanwhile by the console's notifier")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
