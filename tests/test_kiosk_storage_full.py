"""A full kiosk disk (tests/full_disk.py: SQLite's own SQLITE_FULL) and the console's
storage_salvaged alert: writes fail loudly and are retried, never crash or spin."""

from __future__ import annotations

import threading
import time

import pytest

from console.server import ConsoleServer
from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, Outbox
from kiosk.storage_health import FULL, IO_ERROR, classify
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from kiosk.viewmodels.storage import StorageNoticeModel
from shared import i18n
from shared.clock import FrozenClock
from tests.full_disk import FILLER_KIND, FullDisk, track_every_connection
from tests.helpers import KioskCaller, building_db, eventually, make_app, paired_kiosk


def test_sqlite_errors_are_told_apart():
    import sqlite3

    full = sqlite3.OperationalError("database or disk is full")
    io = sqlite3.OperationalError("disk I/O error")
    assert (classify(full), classify(io)) == (FULL, IO_ERROR)
    assert classify(sqlite3.OperationalError("database is locked")) is None
    assert classify(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    assert classify(ValueError("database or disk is full")) is None


def test_the_notice_comes_with_a_failure_and_goes_with_the_next_write():
    model = StorageNoticeModel()
    assert model.messages() == []
    assert model.on_write_failed(FULL) and not model.on_write_failed(FULL)
    [(key, values)] = model.messages()
    assert i18n.text("kiosk", key, "zh_CN") == "终端存储已满，请联系前台"
    assert i18n.text("kiosk", key, "en") == "This kiosk's storage is full: please ask reception"
    assert model.needs_probe
    assert model.on_write_succeeded() and model.messages() == []
    assert not model.on_write_succeeded()


@pytest.mark.parametrize(
    ("incident", "zh", "en"),
    [
        ({"salvaged": 12, "lost": 0}, "已恢复 12 条待发送记录", "12 waiting items recovered"),
        ({"salvaged": 9, "lost": 3}, "，3 条无法读取", ", 3 could not be read"),
        (
            {"salvaged": 0, "lost": 0, "uncertain": True},
            "部分记录可能已丢失",
            "some items may be lost",
        ),
        (
            {"salvaged": 2, "lost": 1, "uncertain": True},
            "至少 1 条无法读取",
            "at least 1 could not be read",
        ),
    ],
)
def test_the_salvage_notice_says_what_was_recovered_and_lost(incident, zh, en):
    incident = {**incident, "at": "2026-11-27T09:00:00+00:00", "alert_id": 7}
    model = StorageNoticeModel(incident)
    [(key, values)] = model.messages()
    assert zh in i18n.text("kiosk", key, "zh_CN", **values)
    assert en in i18n.text("kiosk", key, "en", **values)
    assert not model.on_acked(6) and model.on_acked(7)
    clock = FrozenClock("2026-11-27T09:05:00+00:00")
    assert not model.incident_over(clock.now())  # delivered, but up for 15 min at least
    clock.advance(seconds=15 * 60)
    assert model.incident_over(clock.now()) and model.messages() == []


def test_a_full_disk_fails_the_write_then_takes_it_when_space_returns(tmp_path):
    store = KioskStore.open(tmp_path / "kiosk.db")
    heard = []
    store.watch.listen(lambda problem, message: heard.append((problem, message)))
    disk = FullDisk(store.path)
    disk.track(store)
    outbox = Outbox(store)
    try:
        disk.fill()
        with pytest.raises(Exception, match="database or disk is full"):
            outbox.enqueue("escalation.help", "/api/v1/escalations", {"kind": "help"})
        with pytest.raises(Exception, match="database or disk is full"):
            store.probe_write()
        assert heard and {problem for problem, _ in heard} == {FULL}
        assert [i for i in outbox.items() if i.kind != FILLER_KIND] == []
        disk.lift()
        store.probe_write()
        outbox.enqueue("escalation.help", "/api/v1/escalations", {"kind": "help"})
        assert outbox.depth() == 1
    finally:
        store.close()


def test_a_full_disk_neither_kills_nor_spins_the_sender(tmp_path, monkeypatch):
    """The console refuses an item for good; reporting that (an alert, a new row)
    needs room the disk does not have. The sender thread logs it, waits its backoff
    (no hot loop), keeps going, and the queue behind is delivered."""
    app = make_app(tmp_path / "console")
    _kiosk_id, token = paired_kiosk(app)
    store = KioskStore.open(tmp_path / "kiosk.db")
    store.save_pairing({"token": token, "kiosk": {"id": 1}, "building": {}})
    disk = FullDisk(store.path)
    disk.track(store)
    track_every_connection(monkeypatch, disk)
    heard = []
    store.watch.listen(lambda problem, _m: heard.append((problem, threading.current_thread().name)))
    outbox = Outbox(store)
    refused = outbox.enqueue("escalation.help", "/api/v1/escalations", {"kind": "fire"})
    good = outbox.enqueue("escalation.help", "/api/v1/escalations", {"kind": "help",
                          "created_at": "2026-11-27T09:00:00+00:00", "language": "zh_CN",
                          "screen": "home"})  # fmt: skip
    disk.fill()
    waits = []

    def sleep(seconds):  # injected: records every wait the loops ask for
        waits.append(seconds)
        time.sleep(min(seconds, 0.05))

    server = ConsoleServer(app).start_in_background()
    worker = SyncWorker(store, ConsoleClient(server.url, token), sleep=sleep, ping_interval=0.2)
    try:
        worker.start()
        eventually(lambda: ("full", "kiosk-sender") in heard)
        eventually(lambda: outbox.get(good).state == ACKED)  # the queue moved on
        # Recording the refusal needed room: the item is kept, body and all, and is
        # tried again (never dead without its report).
        assert outbox.get(refused).state in ("ready", "in_flight")
        assert outbox.get(refused).body_json == {"kind": "fire"}
        assert all(thread.is_alive() for thread in worker._threads)
        assert min(waits) > 0  # every pass of a loop waits: none spins
        disk.lift()
        outbox.recover()  # what StorageDesk does once a write succeeds again
        worker.wake()
        eventually(lambda: outbox.get(refused).state == "dead")
        eventually(lambda: outbox.items()[-1].kind == "kiosk.refused")  # reported at last
        assert all(thread.is_alive() for thread in worker._threads)
    finally:
        worker.stop()
        server.stop()
        store.close()
    assert len(list(building_db(app).query("SELECT id FROM escalations"))) == 1


# -- the console's side: POST /api/v1/alerts with kind storage_salvaged -------
def alert(caller, **body):
    return caller.client.post("/api/v1/alerts", json=body, headers=caller.headers())


@pytest.fixture
def caller(tmp_path):
    app = make_app(tmp_path / "console")
    _kiosk_id, token = paired_kiosk(app)
    return KioskCaller(app.test_client(), token)


def test_a_storage_salvaged_alert_is_recorded(caller):
    answer = alert(caller, kind="storage_salvaged", salvaged=12, lost=3, uncertain=True,
                   created_at="2026-11-27T09:00:00+00:00")  # fmt: skip
    assert answer.status_code == 201
    answer = alert(caller, kind="storage_salvaged", salvaged=0, lost=0,
                   created_at="2026-11-27T09:00:00+00:00")  # fmt: skip
    assert answer.status_code == 201
    old_shape = alert(caller, kind="dead_letter", item_kind="visit.register", error="HTTP 422",
                      created_at="2026-11-27T09:00:00+00:00")  # fmt: skip
    assert old_shape.status_code == 201


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"salvaged": -1, "lost": 0}, "salvaged must be a whole number"),
        ({"salvaged": "12", "lost": 0}, "salvaged must be a whole number"),
        ({"salvaged": True, "lost": 0}, "salvaged must be a whole number"),
        ({"salvaged": 1.5, "lost": 0}, "salvaged must be a whole number"),
        ({"salvaged": 12}, "lost must be a whole number"),
        ({"salvaged": 12, "lost": 10**12}, "lost must be a whole number"),
        ({"salvaged": 1, "lost": 0, "uncertain": "yes"}, "uncertain must be true or false"),
        ({"salvaged": 1, "lost": 0, "item_kind": "x"}, "send kind, salvaged, lost"),
        ({"kind": "storage_exploded", "salvaged": 1, "lost": 0}, "kind must be"),
    ],
)
def test_a_bad_storage_salvaged_alert_is_a_clear_400(caller, body, says):
    answer = alert(caller, **{"kind": "storage_salvaged", "created_at": "2026-11-27T09:00:00+00:00",
                              **body})  # fmt: skip
    assert answer.status_code == 400
    assert says in answer.get_data(as_text=True)
