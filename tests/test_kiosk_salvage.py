"""A damaged kiosk.db at start (kiosk/salvage.py): moved aside and kept, what can be
read salvaged with the ORIGINAL idempotency keys, the loss counted or said to be
uncertain, and an alert queued for the console. Real SQLite files, really damaged."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from console.server import ConsoleServer
from kiosk import store as keys
from kiosk.client import ConsoleClient
from kiosk.errors import KioskNotPaired
from kiosk.main import pair_kiosk, run_kiosk
from kiosk.outbox import ACKED, DEAD, Outbox
from kiosk.salvage import open_kiosk_store
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared import kiosks
from tests.helpers import KioskCaller, StaffBrowser, add_staff, building_db, make_app, paired_kiosk

PAIRING = {
    "token": "t" * 43,
    "kiosk": {"id": 3, "name": "大堂 A"},
    "building": {"name": "滨江花园", "name_en": "Riverside Gardens"},
}
WAITING = 12


def help_call(outbox: Outbox, n: int) -> int:
    body = {"kind": "help", "created_at": "2026-11-27T08:00:00+00:00", "language": "zh_CN",
            "screen": "home" if n % 2 else "visitor"}  # fmt: skip
    return outbox.enqueue("escalation.help", "/api/v1/escalations", body)


def kiosk_with_a_queue(path, clock, *, history: int = 30, cache_kb: int = 0) -> set[str]:
    """A paired kiosk with delivered history and WAITING items still to send (one of
    them in flight, one dead-lettered); closed cleanly. Returns the waiting keys."""
    store = KioskStore.open(path, clock)
    store.save_pairing(PAIRING)
    store.set(feed_cursor=41)
    outbox = Outbox(store)
    for n in range(history):
        item_id = help_call(outbox, n)
        outbox.mark_in_flight(item_id)
        outbox.mark_acked(item_id, {"id": n})
    waiting = [help_call(outbox, n) for n in range(WAITING)]
    outbox.mark_in_flight(waiting[0])
    outbox.mark_dead(waiting[0], "HTTP 422")
    outbox.mark_in_flight(waiting[1])  # the kiosk stopped mid-send
    if cache_kb:  # written last: its pages are at the end of the file
        store.set(announcements_cache="公告" * (cache_kb * 256))
    keys_waiting = {outbox.get(i).idempotency_key for i in waiting}
    store.close()
    return keys_waiting


def sent_items(store: KioskStore):
    return [i for i in Outbox(store).items() if i.kind != "kiosk.alert"]


def the_alert(store: KioskStore):
    [alert] = [i for i in Outbox(store).items() if i.kind == "kiosk.alert"]
    return alert


def kept_files(directory):
    return sorted(p.name for p in directory.iterdir() if ".damaged-" in p.name)


def truncate_half(path):
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size // 2)


def overwrite_header(path):
    with open(path, "r+b") as file:
        file.write(os.urandom(100))


@pytest.mark.parametrize("use_cli", [False, True], ids=["python", "sqlite3-cli"])
@pytest.mark.parametrize(
    "damage, cache_kb",
    [(overwrite_header, 0), (truncate_half, 64)],
    ids=["header overwritten", "truncated to half"],
)
def test_a_damaged_file_is_kept_and_every_waiting_item_salvaged(
    tmp_path, clock, damage, cache_kb, use_cli
):
    path = tmp_path / "kiosk.db"
    waiting_keys = kiosk_with_a_queue(path, clock, cache_kb=cache_kb)
    damage(path)
    damaged_bytes = path.read_bytes()

    store = open_kiosk_store(path, clock, use_cli=use_cli)
    try:
        [kept] = kept_files(tmp_path)
        assert kept == "kiosk.db.damaged-20261127T090000Z"
        assert (tmp_path / kept).read_bytes() == damaged_bytes  # kept exactly as found
        items = sent_items(store)
        assert {i.idempotency_key for i in items} == waiting_keys  # the ORIGINAL keys
        assert [i.state for i in items].count(DEAD) == 1  # dead stays dead (kept, reported)
        assert "in_flight" not in {i.state for i in items}  # back to ready: resent, same key
        assert store.token == PAIRING["token"] and store.get(keys.FEED_CURSOR) == 41
        incident = store.get(keys.STORAGE_INCIDENT)
        assert (incident["salvaged"], incident["lost"], incident["uncertain"]) == (
            WAITING,
            0,
            False,
        )
        assert incident["paired"] and incident["kept_as"] == kept
        alert = the_alert(store)
        assert alert.state == "ready" and alert.id == incident["alert_id"]
        assert alert.body_json == {"kind": "storage_salvaged", "salvaged": WAITING, "lost": 0,
                                   "uncertain": False, "created_at": incident["at"]}  # fmt: skip
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


def test_rows_on_an_unreadable_page_are_counted_as_lost(tmp_path, clock):
    """The outbox_state index still lists the waiting items whose rows are gone."""
    path = tmp_path / "kiosk.db"
    waiting_keys = kiosk_with_a_queue(path, clock, history=0)
    conn = sqlite3.connect(path)
    leaves = [row[0] for row in conn.execute(
        "SELECT pageno FROM dbstat WHERE name = 'outbox' AND pagetype = 'leaf' ORDER BY pageno")]  # fmt: skip
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    on_its_leaves = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    conn.close()
    with open(path, "r+b") as file:  # the outbox's leaf pages, zeroed (bad sectors)
        for leaf in leaves:
            file.seek((leaf - 1) * page_size)
            file.write(b"\0" * page_size)

    store = open_kiosk_store(path, clock, use_cli=False)
    try:
        incident = store.get(keys.STORAGE_INCIDENT)
        assert (incident["salvaged"], incident["lost"]) == (0, on_its_leaves) == (0, WAITING)
        assert incident["uncertain"] is False and store.token == PAIRING["token"]
        assert the_alert(store).body_json["lost"] == WAITING
        assert waiting_keys  # (they existed: the index said so)
    finally:
        store.close()


@pytest.mark.parametrize("how", ["zeroed", "emptied"])
def test_nothing_readable_is_said_to_be_maybe_lost_and_the_pairing_is_gone(tmp_path, clock, how):
    path = tmp_path / "kiosk.db"
    kiosk_with_a_queue(path, clock)
    path.write_bytes(b"\0" * path.stat().st_size if how == "zeroed" else b"")
    store = open_kiosk_store(path, clock)
    try:
        assert kept_files(tmp_path) == ["kiosk.db.damaged-20261127T090000Z"]
        assert sent_items(store) == [] and store.token is None
        incident = store.get(keys.STORAGE_INCIDENT)
        assert (incident["salvaged"], incident["lost"], incident["uncertain"]) == (0, 0, True)
        assert the_alert(store).body_json["uncertain"] is True
    finally:
        store.close()


def crash_with_items_in_the_wal(path, n=WAITING) -> set[str]:
    """A kiosk process that queued n items (committed, still only in the WAL) and died."""
    code = f"""
import os
from kiosk.store import KioskStore
from kiosk.outbox import Outbox
store = KioskStore.open({str(path)!r})
store.save_pairing({PAIRING!r})
store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the pairing is in the file
outbox = Outbox(store)
for n in range({n}):
    outbox.enqueue("escalation.help", "/api/v1/escalations", {{"kind": "help", "n": n}})
print(" ".join(i.idempotency_key for i in outbox.items()), flush=True)
os._exit(0)  # no close: no checkpoint
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_a_crash_with_items_in_the_wal_loses_nothing(tmp_path, clock):
    path = tmp_path / "kiosk.db"
    queued = crash_with_items_in_the_wal(path)
    store = open_kiosk_store(path, clock)
    try:
        assert {i.idempotency_key for i in Outbox(store).items()} == queued
        assert store.get(keys.STORAGE_INCIDENT) is None and kept_files(tmp_path) == []
    finally:
        store.close()


def test_a_garbage_wal_is_kept_and_the_loss_is_said_to_be_uncertain(tmp_path, clock):
    """SQLite ignores a WAL that fails its checksums, so what was only in it is gone:
    the kiosk cannot count it, so it says some items may be lost."""
    path = tmp_path / "kiosk.db"
    crash_with_items_in_the_wal(path)
    wal = tmp_path / "kiosk.db-wal"
    garbage = os.urandom(wal.stat().st_size)
    wal.write_bytes(garbage)
    store = open_kiosk_store(path, clock)
    try:
        kept = "kiosk.db.damaged-20261127T090000Z"
        assert (tmp_path / f"{kept}-wal").read_bytes() == garbage  # kept as found
        assert store.token == PAIRING["token"]  # it was checkpointed into the file
        incident = store.get(keys.STORAGE_INCIDENT)
        assert (incident["salvaged"], incident["uncertain"]) == (0, True)
        assert the_alert(store).state == "ready"
    finally:
        store.close()


def test_a_lost_wal_after_a_crash_is_noticed_by_its_leftover_shm(tmp_path, clock):
    path = tmp_path / "kiosk.db"
    crash_with_items_in_the_wal(path)
    (tmp_path / "kiosk.db-wal").unlink()  # e.g. a filesystem repair; the -shm is left
    store = open_kiosk_store(path, clock)
    try:
        assert "kiosk.db.damaged-20261127T090000Z-shm" in kept_files(tmp_path)
        incident = store.get(keys.STORAGE_INCIDENT)
        assert (incident["salvaged"], incident["uncertain"]) == (0, True)
    finally:
        store.close()


def test_a_lost_wal_and_shm_cannot_be_noticed(tmp_path, clock):
    """Honest limit: with both gone the file is a consistent, older database, and
    nothing in it says that items were committed after its last checkpoint."""
    path = tmp_path / "kiosk.db"
    crash_with_items_in_the_wal(path)
    (tmp_path / "kiosk.db-wal").unlink()
    (tmp_path / "kiosk.db-shm").unlink()
    store = open_kiosk_store(path, clock)
    try:
        assert store.token == PAIRING["token"] and Outbox(store).items() == []
        assert store.get(keys.STORAGE_INCIDENT) is None
    finally:
        store.close()


def test_salvaged_items_reach_the_console_exactly_once_with_the_alert(tmp_path, clock):
    """One item the console already applied (its answer never stored, the kiosk died)
    and one it never saw: after the salvage each is applied once, and staff read
    the salvage on the kiosks page in both languages."""
    app = make_app(tmp_path / "console")
    _kiosk_id, token = paired_kiosk(app)
    path = tmp_path / "kiosk" / "kiosk.db"
    store = KioskStore.open(path, clock)
    store.save_pairing({**PAIRING, "token": token})
    outbox = Outbox(store)
    applied, fresh = help_call(outbox, 1), help_call(outbox, 2)
    caller = KioskCaller(app.test_client(), token)
    item = outbox.get(applied)  # delivered once already, same key
    assert caller.client.post(item.path, json=item.body_json,
                              headers=caller.headers(item.idempotency_key)).status_code == 201  # fmt: skip
    store.close()
    overwrite_header(path)

    store = open_kiosk_store(path, clock)
    server = ConsoleServer(app).start_in_background()
    try:
        worker = SyncWorker(store, ConsoleClient(server.url, store.token), clock=clock)
        for _ in range(10):
            if worker.drain_once() is None:
                break
        assert {i.state for i in Outbox(store).items()} == {ACKED}
        assert [i.id for i in sent_items(store)] == [applied, fresh]
    finally:
        server.stop()
        store.close()
    db = building_db(app)
    assert db.execute("SELECT COUNT(*) FROM escalations").fetchone()[0] == 2  # not 3
    [alert] = kiosks.open_alerts(db)
    assert alert["kind"] == "storage_salvaged"
    assert alert["storage"] == {"salvaged": 2, "lost": 0, "uncertain": False}
    add_staff(app, username="admin", role="admin", display_name="管理员")
    staff = StaffBrowser(app.test_client())
    staff.login("admin")
    page = staff.client.get("/admin/kiosks/").get_data(as_text=True)
    assert "终端存储损坏 · Kiosk storage damaged" in page
    assert "已恢复 2 条待发送记录" in page and "2 waiting items recovered" in page


def test_no_readable_pairing_says_so_and_the_items_wait_for_the_new_pairing(tmp_path, clock):
    from kiosk.config import KioskSettings

    app = make_app(tmp_path / "console")
    data_dir = tmp_path / "kiosk"
    path = data_dir / "kiosk.db"
    store = KioskStore.open(path, clock)  # never paired, or the pairing unreadable
    outbox = Outbox(store)
    queued = {outbox.get(help_call(outbox, n)).idempotency_key for n in range(3)}
    store.close()
    overwrite_header(path)
    settings = KioskSettings(console_url="http://127.0.0.1:9", data_dir=data_dir)

    with pytest.raises(KioskNotPaired) as refused:
        run_kiosk(settings)
    message = str(refused.value)
    assert "not paired yet" in message
    assert "终端数据已损坏，已恢复 3 条待发送记录" in message
    assert "Kiosk storage was damaged: 3 waiting items recovered" in message
    assert "recovered items are sent once it is paired" in message

    server = ConsoleServer(app).start_in_background()
    try:
        db = building_db(app)
        created = kiosks.create(db, app.extensions["lobbydesk.clock"], building_id=1,
                                name="大堂 B", actor="test")  # fmt: skip
        db.close()
        pair_kiosk(server.url, created["pairing_code"], data_dir)
        store = open_kiosk_store(path, clock)
        assert {i.idempotency_key for i in sent_items(store)} == queued
        worker = SyncWorker(store, ConsoleClient(server.url, store.token), clock=clock)
        for _ in range(10):
            if worker.drain_once() is None:
                break
        assert {i.state for i in Outbox(store).items()} == {ACKED}
        store.close()
    finally:
        server.stop()
    db = building_db(app)
    assert db.execute("SELECT COUNT(*) FROM escalations").fetchone()[0] == 3
    [alert] = kiosks.open_alerts(db)
    assert alert["kiosk_name"] == "大堂 B" and alert["storage"]["salvaged"] == 3


def test_the_sqlite3_command_is_optional(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "kiosk.db"
    waiting_keys = kiosk_with_a_queue(path, clock)
    overwrite_header(path)
    store = open_kiosk_store(path, clock)
    try:
        assert {i.idempotency_key for i in sent_items(store)} == waiting_keys
        assert store.get(keys.STORAGE_INCIDENT)["method"] == "row by row"
    finally:
        store.close()
