"""Several console processes behind one address (`lobbydesk console --processes N`,
console/workers.py): a worker SIGKILLed while a kiosk is sending loses nothing and
duplicates nothing, the supervisor starts it again, staff stay signed in, and
SIGTERM stops them all."""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import threading
from datetime import UTC, datetime

import pytest
import requests

from console.workers import YOUNG_SECONDS, Worker
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import kiosks
from shared.clock import to_iso
from tests.helpers import add_staff, building_db, eventually, make_app
from tests.servers import ConsoleProcess, ReceptionHttp

SECRET = "processes-test-" + "s" * 40
PASSWORD = "processes-test-password"
CALLS = 80
STARTED = re.compile(r"console worker (\d+) started \(pid (\d+)\)")


def _paired_store(app, path) -> KioskStore:
    db = building_db(app)
    clock = app.extensions["lobbydesk.clock"]
    created = kiosks.create(db, clock, building_id=1, name="大堂 A", actor="test")
    answer = kiosks.pair(db, clock, created["pairing_code"])
    db.close()
    store = KioskStore.open(path)
    store.save_pairing(answer)
    return store


def _workers(log_path) -> dict[int, int]:
    """Worker number -> its newest pid, from the supervisor's log."""
    return {int(n): int(pid) for n, pid in STARTED.findall(log_path.read_text())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Sender:
    """A kiosk's sender loop on a thread: the outbox drained to the console, waiting
    what the console or the backoff asks between tries (the kiosk's own pacing)."""

    def __init__(self, store: KioskStore, url: str):
        self.outbox = Outbox(store)
        self.worker = SyncWorker(store, ConsoleClient(url, store.token, read_timeout=10))
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while (wait := self.worker.drain_once(self.outbox)) is not None:
            self.done.wait(min(wait, 0.5))
            self.worker._retry_now = True  # a refused connection: try again soon
        self.done.set()

    def acked(self) -> int:
        return sum(item.state == ACKED for item in self.outbox.items())


def _kill_worker(log_path, number: int, pids: dict[int, int]) -> int:
    """SIGKILL worker `number`; returns its pid once the supervisor has started a new one."""
    old = pids[number]
    os.kill(old, signal.SIGKILL)
    eventually(
        lambda: _workers(log_path).get(number, old) != old,
        timeout=60,
        message=f"the supervisor started worker {number} again",
    )
    return _workers(log_path)[number]


def test_a_worker_killed_while_a_kiosk_sends_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    # The console paces the kiosk (a burst of 5, then 5 a second), so sending lasts
    # long enough for both workers to be killed in turn, whichever holds its connection.
    monkeypatch.setenv("LOBBYDESK_KIOSK_WRITE_BURST", "5")
    monkeypatch.setenv("LOBBYDESK_KIOSK_WRITES_PER_SECOND", "5")
    data = tmp_path / "console"
    app = make_app(data, SECRET_KEY=SECRET)
    add_staff(app, "wangfang", password=PASSWORD)
    store = _paired_store(app, tmp_path / "kiosk.db")
    log_path = tmp_path / "console.log"
    console = ConsoleProcess(
        data, secret_key=SECRET, args=["--processes", "2"], log_path=log_path
    ).start()
    sender = Sender(store, console.url)
    try:
        eventually(lambda: len(_workers(log_path)) == 2, message="two workers started")
        pids = _workers(log_path)
        desk = ReceptionHttp(console.url, "wangfang", PASSWORD, page="/queue")
        for _ in range(CALLS):
            body = {"kind": "help", "created_at": to_iso(datetime.now(UTC)),
                    "language": "zh_CN", "screen": "home"}  # fmt: skip
            sender.outbox.enqueue("escalation.help", "/api/v1/escalations", body)
        sender.thread.start()

        eventually(lambda: sender.acked() >= 5, timeout=60, message="writes under way")
        first = _kill_worker(log_path, 1, pids)
        halfway = sender.acked()
        eventually(lambda: sender.acked() > halfway or sender.done.is_set(), timeout=60)
        second = _kill_worker(log_path, 2, pids)
        eventually(sender.done.is_set, timeout=120, message="the outbox drained")

        items = sender.outbox.items()
        assert {item.state for item in items} == {ACKED}
        rows = list(building_db(app).query("SELECT id FROM escalations ORDER BY id"))
        assert len(rows) == CALLS  # each call exactly once
        assert sorted(item.response_json["id"] for item in items) == [row["id"] for row in rows]

        log = log_path.read_text()
        assert f"worker 1 (pid {pids[1]}) was killed by SIGKILL" in log
        assert f"worker 2 (pid {pids[2]}) was killed by SIGKILL" in log
        assert _alive(first) and _alive(second)
        # Still one address that answers, and the receptionist is still signed in.
        assert requests.get(f"{console.url}/healthz", timeout=10).status_code == 200
        queue = desk.http.get(f"{console.url}/queue/rows", timeout=10)
        assert queue.status_code == 200 and "/login" not in queue.url
    finally:
        sender.worker.stop()
        sender.done.set()
        console.stop()
        store.close()
    assert console.process.returncode == 0  # the supervisor stopped cleanly …
    assert not _alive(first) and not _alive(second)  # … and took its workers with it


def test_a_killed_supervisor_leaves_no_worker_serving(tmp_path):
    data = tmp_path / "console"
    make_app(data, SECRET_KEY=SECRET)
    log_path = tmp_path / "console.log"
    console = ConsoleProcess(
        data, secret_key=SECRET, args=["--processes", "2"], log_path=log_path
    ).start()
    eventually(lambda: len(_workers(log_path)) == 2, message="two workers started")
    pids = _workers(log_path).values()
    console.kill()
    eventually(lambda: not any(_alive(pid) for pid in pids), timeout=60, message="workers gone")


def test_a_worker_that_keeps_dying_young_is_restarted_ever_more_slowly(caplog):
    caplog.set_level("WARNING", logger="console.workers")
    with socket.socket() as listener:
        crashing = [sys.executable, "-c", "raise SystemExit(3)"]
        worker = Worker(1, crashing, listener.fileno())
        worker.start()
        pauses = []
        for _ in range(4):
            worker.process.wait(timeout=30)
            now = worker.started_at + 1  # it died within a second: young
            worker.tend(now)  # the exit is noticed and the restart scheduled
            pauses.append(worker.restart_at - now)
            worker.tend(worker.restart_at)  # the pause is over: started again
        assert pauses == pytest.approx([0.5, 1.0, 2.0, 4.0])
        worker.process.wait(timeout=30)
        lived_long = worker.started_at + YOUNG_SECONDS + 1  # not a crash loop any more
        worker.tend(lived_long)
        assert worker.restart_at - lived_long == pytest.approx(0.5)
    assert "console worker 1 (pid" in caplog.text and "exited with code 3" in caplog.text
