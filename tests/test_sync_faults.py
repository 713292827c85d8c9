"""Exactly once under faults (SECURITY.md 14, 29, 32): real console, real kiosk outbox,
real HTTP, and the faults a lobby sees — a console killed after its commit, a kiosk
killed mid-send, a network that swallows packets, a week offline."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

from console.server import ConsoleServer
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import kiosks
from shared.clock import FrozenClock, to_iso
from tests.helpers import building_db, eventually, make_app
from tests.servers import ConsoleProcess, TcpProxy

SECRET = "fault-test-" + "s" * 40


def _paired_kiosk_store(app, path, clock=None) -> KioskStore:
    db = building_db(app)
    created = kiosks.create(
        db, app.extensions["lobbydesk.clock"], building_id=1, name="大堂 A", actor="test"
    )
    answer = kiosks.pair(db, app.extensions["lobbydesk.clock"], created["pairing_code"])
    db.close()
    store = KioskStore.open(path, clock)
    store.save_pairing(answer)
    return store


def _help_call(outbox: Outbox, created_at: str, screen: str = "home") -> int:
    body = {"kind": "help", "created_at": created_at, "language": "zh_CN", "screen": screen}
    return outbox.enqueue("escalation.help", "/api/v1/escalations", body)


def _escalations(app) -> list[dict]:
    return list(building_db(app).query("SELECT * FROM escalations ORDER BY id"))


def _drain(worker: SyncWorker, outbox: Outbox, rounds: int = 50) -> None:
    for _ in range(rounds):
        if worker.drain_once(outbox) is None:
            return
    raise AssertionError("the outbox did not drain")


class CuttingProxy(TcpProxy):
    """A TCP proxy between kiosk and console. When armed, the first response bytes
    from the console (sent only after its commit) trigger `on_response` — e.g.
    SIGKILL the console — and the kiosk's connection is cut before any byte arrives."""

    def __init__(self, upstream_port, on_response):
        self.on_response = on_response
        self.armed = True
        self.cuts = 0
        super().__init__(upstream_port)

    def _serve(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if self.armed:
                    self.armed = False
                    self.cuts += 1
                    self.on_response()
                    # linger 0: close sends RST; shutdown first wakes the pump thread's recv
                    client.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    client.shutdown(socket.SHUT_RDWR)
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()


def test_console_killed_after_commit_before_answering_yields_one_record(tmp_path):
    app = make_app(tmp_path / "console", SECRET_KEY=SECRET)
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db")
    console = ConsoleProcess(tmp_path / "console", secret_key=SECRET).start()
    proxy = CuttingProxy(console.port, on_response=console.kill)
    try:
        outbox = Outbox(store)
        item_id = _help_call(outbox, "2026-11-27T09:00:00+00:00")
        worker = SyncWorker(store, ConsoleClient(f"http://127.0.0.1:{proxy.port}", store.token))
        worker.drain_once(outbox)  # the console commits, is killed, the kiosk hears nothing
        assert proxy.cuts == 1 and console.process.returncode == -signal.SIGKILL
        assert outbox.get(item_id).state != ACKED  # not acknowledged: it will be sent again
        assert len(_escalations(app)) == 1  # … yet the console had committed it

        console.start()  # back up; the retry carries the same Idempotency-Key
        worker._retry_now = True  # skip the backoff wait: the kiosk would retry after it
        _drain(worker, outbox)
        assert outbox.get(item_id).state == ACKED
        [row] = _escalations(app)
        assert outbox.get(item_id).response_json["id"] == row["id"]  # the original answer
    finally:
        proxy.close()
        if console.process.poll() is None:
            console.kill()
        store.close()


# These tests are about durability, not pacing: the per-kiosk write limit is lifted
# (tests/test_kiosk_sync.py and tests/test_kiosk_api.py cover the limit).
UNPACED = {"KIOSK_WRITE_BURST": 1_000_000}


def test_kiosk_killed_mid_send_in_a_loop_loses_nothing_and_duplicates_nothing(tmp_path):
    app = make_app(tmp_path / "console", **UNPACED)
    server = ConsoleServer(app).start_in_background()
    db_path = tmp_path / "kiosk.db"
    _paired_kiosk_store(app, db_path).close()
    rng = random.Random(20261127)
    cycles = 20
    try:
        for _ in range(cycles):
            with subprocess.Popen(
                [sys.executable, "-m", "tests.faults.kiosk_sender", str(db_path), server.url, "5"],
                stdout=subprocess.PIPE, text=True,
            ) as sender:  # fmt: skip
                assert sender.stdout.readline().strip() == "queued"
                # Fault injection, not synchronisation: a kill at any moment is a valid
                # case (before, during or after a send); the random pause only varies it.
                time.sleep(rng.uniform(0.0, 0.05))
                sender.send_signal(signal.SIGKILL)
                sender.wait(timeout=5)
        # a last, uninterrupted run delivers whatever is left
        finished = subprocess.run(
            [sys.executable, "-m", "tests.faults.kiosk_sender", str(db_path), server.url, "0"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert "drained" in finished.stdout
    finally:
        server.stop()
    store = KioskStore.open(db_path)
    items = Outbox(store).items()
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    assert len(items) == cycles * 5
    assert {item.state for item in items} == {ACKED}
    rows = _escalations(app)
    assert len(rows) == len(items)  # each queued call exactly once
    assert sorted(item.response_json["id"] for item in items) == [row["id"] for row in rows]
    assert building_db(app).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_network_black_hole_makes_the_item_wait_not_the_kiosk(tmp_path):
    app = make_app(tmp_path / "console")
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db")
    hole = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        outbox = Outbox(store)
        item_id = _help_call(outbox, "2026-11-27T09:00:00+00:00")
        client = ConsoleClient(
            f"http://127.0.0.1:{hole.getsockname()[1]}", store.token, read_timeout=0.5
        )
        # It returns (an explicit read timeout), never hangs: run it aside and wait for
        # it with a deadline far above its 0.5 s timeout; a hang fails, not blocks, the run.
        answer = {}
        sending = threading.Thread(
            target=lambda: answer.update(wait=SyncWorker(store, client).drain_once(outbox)),
            daemon=True,
        )
        sending.start()
        eventually(lambda: "wait" in answer, message="drain_once returned from the black hole")
        wait = answer["wait"]
        item = outbox.get(item_id)
        assert item.state == "ready" and item.attempts == 1 and "timed out" in item.last_error
        assert wait is not None and wait > 0  # retried later, with backoff
    finally:
        hole.close()
        store.close()


def test_a_week_offline_with_5000_items_and_a_wrong_clock_is_delivered_once_in_order(tmp_path):
    app = make_app(tmp_path / "console", **UNPACED)
    kiosk_clock = FrozenClock("2026-11-19T09:00:00+00:00")  # a week ago … by a clock a day slow
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db", kiosk_clock)
    outbox = Outbox(store)
    created = []
    with store.db.conn:  # queue a week of work (timed writes are not the point here)
        for n in range(5000):
            stamp = to_iso(kiosk_clock.now() + timedelta(minutes=2 * n))
            created.append(stamp)
            _help_call(outbox, stamp, screen="home" if n % 2 else "visitor")
    kiosk_clock.advance(days=7)  # the console comes back a week later: a backlog, not live calls
    console_started = to_iso(app.extensions["lobbydesk.clock"].now())
    server = ConsoleServer(app).start_in_background()
    try:
        worker = SyncWorker(store, ConsoleClient(server.url, store.token), clock=kiosk_clock)
        _drain(worker, outbox)
    finally:
        server.stop()
    rows = _escalations(app)
    assert len(rows) == 5000
    assert [row["created_at"] for row in rows] == created  # in order, the kiosk's times kept
    assert all(row["received_at"] >= console_started for row in rows)  # the console's clock rules
    assert {item.state for item in outbox.items()} == {ACKED}
    store.close()


def test_a_dead_lettered_item_is_reported_to_the_console_not_dropped(tmp_path):
    app = make_app(tmp_path / "console")
    store = _paired_kiosk_store(app, tmp_path / "kiosk.db")
    server = ConsoleServer(app).start_in_background()
    try:
        outbox = Outbox(store)
        refused = outbox.enqueue(
            "escalation.help", "/api/v1/escalations", {"kind": "fire"}
        )  # never valid
        good = _help_call(outbox, "2026-11-27T09:00:00+00:00")
        dead = []
        worker = SyncWorker(
            store, ConsoleClient(server.url, store.token), on_dead=lambda *a: dead.append(a)
        )
        _drain(worker, outbox)
        assert outbox.get(refused).state == "dead" and outbox.get(refused).body_json == {
            "kind": "fire"
        }
        assert outbox.get(good).state == ACKED  # the queue moved on
        assert dead and dead[0][0] == refused
        # The whole item waits in the live queue for the desk (resend or discard).
        [held] = list(building_db(app).query("SELECT * FROM quarantine"))
        assert held["reason"] == "refused" and held["item_kind"] == "escalation.help"
        assert held["key"] == outbox.get(refused).idempotency_key and "kind" in held["error"]
        from tests.helpers import StaffBrowser, add_staff

        add_staff(app)
        staff = StaffBrowser(app.test_client())
        staff.login()
        rows = staff.client.get("/queue/rows").get_data(as_text=True)
        assert "A kiosk request was refused" in rows and "kind must be" in rows
        staff.post(f"/queue/refused/{held['id']}/discard")
        rows = staff.client.get("/queue/rows").get_data(as_text=True)
        assert "A kiosk request was refused" not in rows
    finally:
        server.stop()
        store.close()
