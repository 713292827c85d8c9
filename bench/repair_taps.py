"""Repair requests: taps from the home screen to "submitted", on the real kiosk.

Runs the real kiosk app (LobbyKioskApp, Kivy headless: SDL2 offscreen with Mesa,
as tests/ui do) paired with a real console (uvicorn through ConsoleServer, real
clock) and taps the widgets a resident would tap, counting the unit's keypad
digits apart. "Submitted" is the moment the done screen (or, for an emergency,
the red instructions screen) is showing: the ticket is in the kiosk's outbox.
The ticket number then shows when the console acknowledges it; the time from
the outbox commit to the console's acknowledgement (the SyncWorker's thread:
HTTP + the console's transaction) is printed too. Not the time until the
number is drawn: headless, Mesa's software renderer takes up to a second for
a new screen's first frame, which says nothing about a kiosk's GPU. Each path
runs --rounds times; the taps never vary, the times do.

    .venv/bin/python bench/repair_taps.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk import headless  # plain Python: sets the environment Kivy reads on import

headless.prepare("lobbydesk-bench-kivy-")

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", "1080")
Config.set("graphics", "height", "1920")

from bench.figures import markdown_table, percentile  # noqa: E402
from kiosk.config import KioskSettings  # noqa: E402
from kiosk.flows import FlowName  # noqa: E402
from kiosk.store import KioskStore  # noqa: E402
from kiosk.viewmodels import repair as rv  # noqa: E402
from tests.servers import bench_console  # noqa: E402
from tests.ui.driving import Taps, screen, start_app, step, stop_app, wait_until  # noqa: E402

UNIT = "203"
WAIT = 10.0  # seconds: the bench runs beside other work, so it waits longer than tests do


class Resident:
    """Taps real widgets of the running kiosk; keypad digits counted apart."""

    def __init__(self, app):
        self.app = app
        self.tap = Taps()

    def screen(self):
        return screen(self.app)

    def unit(self, digits: str = UNIT) -> None:
        self.tap(screen(self.app, "home").ids.repair)
        self.tap.type(self.screen().ids.keypad, digits)
        self.tap(self.screen().ids.next)
        assert wait_until(lambda: self.app.root.current == "repair_category", WAIT)
        step(2)

    def pick(self, category: str, problem: str) -> None:
        self.tap(self.screen().tiles[category])
        step(2)
        self.tap(self.screen().chips[problem])
        step(2)


def common(r: Resident) -> None:
    r.unit()
    r.pick("water", "dripping_tap")
    r.tap(r.screen().ids.normal)


def urgent(r: Resident) -> None:
    r.unit()
    r.pick("electrical", "light_out")
    r.tap(r.screen().ids.urgent)


def with_note(r: Resident) -> None:
    r.unit()
    r.pick("doors", "lock_broken")
    r.tap(r.screen().ids.details)
    step(2)
    r.tap(r.screen().places["bedroom"])
    r.tap(r.screen().ids.submit)


def emergency(r: Resident) -> None:
    r.unit()
    r.pick("water", "burst_pipe")


PATHS = [
    ("water → dripping tap, 一般 Normal (the common request)", common, "repair_done"),
    ("electrical → light out, 紧急 Urgent", urgent, "repair_done"),
    ("doors → broken lock, add a note: 卧室 Bedroom, submit", with_note, "repair_done"),
    ("water → burst pipe (emergency: submitted on the problem tap)", emergency, "repair_emergency"),
]


def run(rounds: int) -> list[tuple[str, int, int, list[float]]]:
    data = Path(tempfile.mkdtemp(prefix="lobbydesk-bench-repair-"))
    server, token = bench_console(data / "console")
    settings = KioskSettings(console_url=server.url, data_dir=data / "kiosk")
    store = KioskStore.open(settings.db_path)
    store.save_pairing(
        {
            "token": token,
            "kiosk": {"id": 1, "name": "大堂 A"},
            "building": {"name": "基准大厦", "name_en": "Bench Tower"},
        }
    )
    app = start_app(settings, store)
    saved_at: dict[int, float] = {}
    acked_ms: dict[int, float] = {}
    enqueue, on_acked = app.outbox.enqueue, app.worker.on_acked

    def timed_enqueue(*args, **kwargs):
        outbox_id = enqueue(*args, **kwargs)
        saved_at[outbox_id] = time.perf_counter()
        return outbox_id

    def timed_ack(outbox_id, kind, response):  # on the SyncWorker's thread
        acked_ms[outbox_id] = (time.perf_counter() - saved_at.get(outbox_id, 0.0)) * 1000
        on_acked(outbox_id, kind, response)

    app.outbox.enqueue, app.worker.on_acked = timed_enqueue, timed_ack
    results = []
    try:
        assert wait_until(lambda: app.online, WAIT), "the kiosk did not come online"
        for label, path, submitted_screen in PATHS:
            counts, waits = set(), []
            for _ in range(rounds):
                resident = Resident(app)
                path(resident)
                assert app.root.current == submitted_screen, app.root.current
                assert wait_until(lambda: app.repair.state == rv.SENT and app.repair.number, WAIT)
                waits.append(acked_ms[app.repair.outbox_id])
                counts.add((resident.tap.taps, resident.tap.digits))
                app.finish(FlowName.REPAIR)
                step(2)
            ((taps, digits),) = counts  # the same taps every round
            results.append((label, taps, digits, waits))
    finally:
        stop_app(app, store)
        server.stop()
    return results


def table(results) -> str:
    header = [
        f"request (unit {UNIT}: {len(UNIT)} digits)",
        "taps without the unit's digits",
        "taps with them",
        "outbox commit → console's ack, p50 / max ms",
    ]
    rows = [
        [label, taps, taps + digits, f"{percentile(waits, 50):.0f} / {max(waits):.0f}"]
        for label, taps, digits, waits in results
    ]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(table(run(args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
