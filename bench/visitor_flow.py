"""Visitor registration: effort at the kiosk, and kiosk submit → console queue latency.

(1) Taps and characters from the home screen to "submitted", for a few kinds
    of visitor, by driving the kiosk's VisitorViewModel exactly as the screens
    do (one call per tap; keypad digits counted apart). No window needed.
(2) Kiosk submit → the registration is in the receptionist's live queue, over
    N registrations, with a real console (uvicorn through ConsoleServer, real
    clock, argon2 at production cost) and the kiosk's real Outbox + SyncWorker
    (its own kiosk.db, real HTTP). The staff side is what queue.js does: an SSE
    reader on /queue/stream that fetches /queue/rows on each event until the
    visitor's row is there. Each visit is confirmed after it is measured, so
    the queue stays at a realistic size.

    .venv/bin/python bench/visitor_flow.py [--registrations 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import markdown_table, percentile
from bench.live_queue_latency import StreamStaff
from kiosk.client import ConsoleClient
from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from kiosk.surnames import all_surnames
from kiosk.sync import SyncWorker
from kiosk.viewmodels import visitor as vv
from kiosk.viewmodels.visitor import VisitorViewModel
from tests.servers import bench_console

WARM_UP = 5


# ------------------------------------------------------------------ (1) effort


class Counted:
    """The view-model behind the screens, counting taps, digits and typed letters."""

    def __init__(self):
        self.vm = VisitorViewModel()
        self.vm.on_online(True)
        self.taps = self.digits = self.typed = 0

    def tap(self, action, *args):
        self.taps += 1
        return getattr(self.vm, action)(*args)

    def digit(self, action, key):
        self.digits += 1
        getattr(self.vm, action)(key)


def _answer(vm, query, body):
    from kiosk.client import SUCCESS, Result

    getattr(vm, query.then)(query.generation, Result(SUCCESS, 200, body))


def typical_new(initials: str, surname: str) -> Counted:
    c = Counted()
    c.tap("begin")  # the 访客登记 tile
    for d in "13812345678":
        c.digit("phone_key", d)
    _answer(c.vm, c.tap("phone_next"), {"found": False, "masked_name": None})
    for letter in initials:
        c.tap("letter", letter)
    c.tap("pick_surname", surname)
    c.tap("pick_title", "mr")
    c.tap("name_next")
    for d in "1203":
        c.digit("unit_key", d)
    _answer(c.vm, c.tap("unit_next"), {"unit": "1203", "exists": True})
    assert c.tap("submit", "zh_CN") is not None and c.vm.step == vv.OUTCOME
    return c


def returning() -> Counted:
    c = Counted()
    c.tap("begin")
    for d in "13812345678":
        c.digit("phone_key", d)
    _answer(c.vm, c.tap("phone_next"), {"found": True, "masked_name": "张*"})
    c.tap("confirm_returning", True)
    for d in "1203":
        c.digit("unit_key", d)
    _answer(c.vm, c.tap("unit_next"), {"unit": "1203", "exists": True})
    assert c.tap("submit", "zh_CN") is not None
    return c


def latin_no_phone(name: str = "Emily Carter") -> Counted:
    c = Counted()
    c.tap("begin")
    c.tap("skip_phone")
    c.tap("set_name_mode", vv.TYPED)
    for ch in name:
        c.typed += 1
        c.tap("letter", "space" if ch == " " else ch.lower())
    c.tap("name_next")
    for d in "101":
        c.digit("unit_key", d)
    _answer(c.vm, c.tap("unit_next"), {"unit": "101", "exists": True})
    assert c.tap("submit", "en") is not None
    return c


def effort_table() -> str:
    rows = [
        (
            "new, 张先生 via 'zh' + picker, phone, unit 1203, default purpose",
            typical_new("zh", "张"),
        ),
        ("new, 王先生 straight from the picker (no search), phone, unit", typical_new("", "王")),
        ("new, 欧阳先生 via 'oy' + picker, phone, unit", typical_new("oy", "欧阳")),
        ("returning (one tap: 'Yes, that's me'), phone, unit", returning()),
        ("new, Latin name 'Emily Carter' on the letter pad, no phone", latin_no_phone()),
    ]
    return markdown_table(
        ["visitor", "taps (all)", "of which letters typed", "keypad digits"],
        [[label, c.taps, c.typed, c.digits] for label, c in rows],
    )


# ------------------------------------------------------------------ (2) latency


def latency(registrations: int) -> list[tuple[str, list[float]]]:
    acked: dict[int, tuple[float, int]] = {}
    acked_event = threading.Condition()

    def on_acked(outbox_id, kind, response):
        with acked_event:
            acked[outbox_id] = (time.perf_counter(), (response or {}).get("id"))
            acked_event.notify_all()

    names = [s.text + title for title in ("先生", "女士") for s in all_surnames()]
    if registrations + WARM_UP > len(names):
        raise SystemExit(f"at most {len(names) - WARM_UP} registrations (unique names)")
    with tempfile.TemporaryDirectory(prefix="lobbydesk-bench-") as data_dir:
        server, token = bench_console(Path(data_dir))
        store = KioskStore.open(Path(data_dir) / "kiosk.db")
        store.save_pairing({"token": token, "kiosk": {"id": 1, "name": "大堂 A"}, "building": {}})
        outbox = Outbox(store)
        worker = SyncWorker(store, ConsoleClient(server.url, token), on_acked=on_acked)
        worker.start()
        staff = StreamStaff(server.url)
        queue_ms, ack_ms = [], []
        try:
            for i in range(WARM_UP + registrations):
                vm = VisitorViewModel()
                vm.begin()
                vm.skip_phone()
                vm.set_full_name(names[i])
                vm.name_next()
                for d in "101":
                    vm.unit_key(d)
                vm.unit_next()  # offline view-model: accepted, checked on delivery
                order = vm.submit("zh_CN")
                staff.forget_events()
                started = time.perf_counter()
                outbox_id = outbox.enqueue(order.kind, order.path, order.body, order.method)
                worker.wake()
                marker = f'<span class="visitor-name">{names[i]}</span>'
                while True:
                    staff.events.get(timeout=10)
                    if marker in staff._rows():
                        break
                in_queue = time.perf_counter()
                with acked_event:
                    acked_event.wait_for(lambda oid=outbox_id: oid in acked, timeout=10)
                acked_at, visit_id = acked[outbox_id]
                if i >= WARM_UP:
                    queue_ms.append((in_queue - started) * 1000)
                    ack_ms.append((acked_at - started) * 1000)
                staff.http.post(
                    f"{server.url}/visitors/{visit_id}/decide",
                    data={"decision": "confirm_id"},
                    headers={"X-CSRF-Token": staff.csrf, "X-Requested-With": "fetch"},
                    timeout=5,
                ).raise_for_status()
        finally:
            worker.stop()
            staff.close()
            store.close()
            server.stop()
    return [
        ("(a) kiosk submit → row in the live queue (SSE + /queue/rows)", queue_ms),
        ("(b) kiosk submit → console's ack back at the kiosk (outbox acked)", ack_ms),
    ]


def latency_table(results) -> str:
    return markdown_table(
        ["metric", "n", "p50 ms", "p99 ms"],
        [
            [name, len(samples), f"{percentile(samples, 50):.2f}", f"{percentile(samples, 99):.2f}"]
            for name, samples in results
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=100)
    args = parser.parse_args(argv)
    if args.registrations < 2:
        parser.error("--registrations must be at least 2")
    print(effort_table())
    print()
    print(latency_table(latency(args.registrations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
