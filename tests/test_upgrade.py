"""An upgrade from the previous release's database, with a kiosk queuing, loses nothing.

The old database is tests/fixtures/release_0_5.sqlite, made by the previous release's
own code (tests/fixtures/make_release_0_5.py). A real `lobbydesk console` process of
this version is started on it; a real kiosk (KioskStore + Outbox + SyncWorker threads,
over HTTP) queues while the console is down and while it restarts. Deadlines are
generous: the machine may be loaded; nothing here measures speed."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import requests

from kiosk.client import ConsoleClient
from kiosk.outbox import ACKED, Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.backup import list_backups
from shared.clock import to_iso
from shared.schema import known_migrations
from tests.helpers import letters
from tests.servers import ConsoleProcess

FIXTURES = Path(__file__).parent / "fixtures"
RELEASE = json.loads((FIXTURES / "release_0_5.json").read_text())
DEADLINE = 90


def _wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def _kiosk(tmp_path: Path) -> KioskStore:
    """The release's paired kiosk, as it would be found on the device."""
    store = KioskStore.open(tmp_path / "kiosk.db")
    store.save_pairing(
        {"token": RELEASE["kiosk_token"], "kiosk": {"id": 1, "name": "大堂 A · Lobby A"}}
    )
    return store


def _queue_visit(outbox: Outbox, name: str, phone: str) -> int:
    body = {
        "name": name, "phone": phone, "unit": "1802", "purpose": "visit", "party_size": 1,
        "language": "zh_CN", "created_at": to_iso(outbox.store.clock.now()),
    }  # fmt: skip
    return outbox.enqueue("visit.register", "/api/v1/visits", body)


def _queue_help(outbox: Outbox) -> int:
    body = {"kind": "help", "created_at": to_iso(outbox.store.clock.now()), "language": "en"}
    return outbox.enqueue("escalation.help", "/api/v1/escalations", {**body, "screen": "home"})


def _query(db_path: Path, sql: str) -> list:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _all_acked(outbox: Outbox, ids: list[int]) -> bool:
    states = {outbox.get(item_id).state for item_id in ids}
    assert "dead" not in states, "a queued request was refused"
    return states == {ACKED}


def _staff_session(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={**RELEASE["staff"], "csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302
    return session


def _old_records_readable(base: str) -> None:
    staff = _staff_session(base)
    visitors = staff.get(f"{base}/visitors/", timeout=30).text
    for name in RELEASE["visitors"]:
        assert name in visitors
    tickets = staff.get(f"{base}/tickets/", timeout=30).text
    assert "1501" in tickets
    parcels = staff.get(f"{base}/parcels/list", params={"view": "waiting"}, timeout=30).text
    assert all(tracking[-4:] in parcels for tracking in RELEASE["parcel_tracking"])
    kiosks = staff.get(f"{base}/admin/kiosks/", timeout=30).text
    assert "0.6.0 (protocol 1)" in kiosks  # the kiosk's version, recorded after the upgrade


def _visit_counts(db_path: Path) -> dict[str, int]:
    return dict(_query(db_path, "SELECT name, count(*) FROM visits GROUP BY name"))


def test_an_upgrade_from_the_previous_release_with_a_kiosk_queuing_loses_nothing(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    db_path = data_dir / "lobbydesk.db"
    shutil.copyfile(FIXTURES / "release_0_5.sqlite", db_path)
    os.chmod(db_path, 0o600)
    assert _query(db_path, "SELECT max(name) FROM _sqlite_migrations")[0][0] == (
        "0018_handover_open_items"
    )
    old_help_calls = _query(db_path, "SELECT count(*) FROM escalations")[0][0]
    # as systemd would run it, on the old database
    console = ConsoleProcess(data_dir, secret_key=RELEASE["secret_key"], start_timeout=DEADLINE)
    store = _kiosk(tmp_path)
    outbox = Outbox(store)
    worker = SyncWorker(store, ConsoleClient(console.url, store.token))
    worker.start()  # the console is down: everything waits in the outbox
    try:
        queued = [
            _queue_visit(outbox, f"Upgrade {letters(n)}", f"1390000{n:04d}") for n in range(8)
        ]
        queued.append(_queue_help(outbox))
        worker.wake()
        _wait_for(lambda: outbox.get(queued[0]).attempts >= 1, "a send tried and refused")
        assert not any(outbox.get(item_id).state == ACKED for item_id in queued)

        console.start()  # the upgraded console on the old database
        _wait_for(lambda: _all_acked(outbox, queued), "the queued requests delivered")

        [pre_migration] = [b for b in list_backups(data_dir / "backups")]
        assert pre_migration["reason"] == "pre-migration"
        assert _query(pre_migration["path"], "SELECT max(name) FROM _sqlite_migrations")[0][0] == (
            "0018_handover_open_items"
        )  # the backup is the database as the old release left it
        applied = {row[0] for row in _query(db_path, "SELECT name FROM _sqlite_migrations")}
        assert applied == known_migrations() and "0019_kiosk_software" in applied
        _old_records_readable(console.url)
        counts = _visit_counts(db_path)
        assert all(counts[f"Upgrade {letters(n)}"] == 1 for n in range(8))
        assert _query(db_path, "SELECT count(*) FROM escalations")[0][0] == old_help_calls + 1

        # A restart mid-flight: the kiosk keeps queuing while the console stops and starts.
        more, stop_queuing = [], threading.Event()

        def keep_queuing():
            queuer = KioskStore.open(tmp_path / "kiosk.db")
            n = 0
            while not stop_queuing.is_set():
                more.append(
                    _queue_visit(Outbox(queuer), f"Restart {letters(n)}", f"1370000{n:04d}")
                )
                worker.wake()
                n += 1
                stop_queuing.wait(0.1)  # a visitor every tenth of a second: pacing, not a wait
            queuer.close()

        def queued_more(count: int, what: str) -> None:
            """Wait until `count` more visits are queued from now (the phases below)."""
            target = len(more) + count
            _wait_for(lambda: len(more) >= target, what)

        queuing = threading.Thread(target=keep_queuing)
        queuing.start()
        queued_more(4, "visits queued while the console runs")
        console.stop()
        queued_more(3, "visits queued while the console is down")
        console.start()
        queued_more(3, "visits queued after it is back")
        stop_queuing.set()
        queuing.join()
        _wait_for(lambda: _all_acked(outbox, more), "the requests queued across the restart")
        counts = _visit_counts(db_path)
        assert len(more) >= 10
        assert [counts.get(f"Restart {letters(n)}") for n in range(len(more))] == [1] * len(more)
        assert all(counts[f"Upgrade {letters(n)}"] == 1 for n in range(8))
        assert len(list_backups(data_dir / "backups")) == 1  # nothing to migrate: no new backup
    finally:
        worker.stop()
        console.stop()
        store.close()
