"""Opening kiosk.db at start, and salvaging what it holds when it is damaged.

A power cut, a dying SD card or a filesystem repair can leave kiosk.db
truncated, zeroed, with a garbage header, or with its WAL lost or garbled.
Starting on such a file used to end in a raw traceback (or, for an emptied
file, in "not paired yet" with the queued items gone unmentioned). Now:

1. the file is checked before the store uses it (SQLite's own quick_check, and
   whether SQLite had to throw away a WAL that was there);
2. a damaged file is moved aside with its -wal/-shm, kept for support as
   `kiosk.db.damaged-<UTC time>` (the names keep SQLite able to open it);
3. what can be read is copied into a fresh kiosk.db: the pairing and cached
   state, and every outbox item still to send (ready, in flight, dead) with its
   ORIGINAL idempotency key, so the console still applies each exactly once;
4. the fresh store records the incident (the screen shows it) and queues a
   `storage_salvaged` alert for the console's kiosk page, sent once paired.

Reading uses SQLite's own recovery where it exists: the `sqlite3` command's
`.recover` when the binary is on PATH (it is optional: not in the bootstrap),
else a row-by-row read with Python's sqlite3 that skips unreadable rows
(kiosk/salvage_read.py). Nothing here parses SQLite pages.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from kiosk import store as keys
from kiosk.outbox import IN_FLIGHT, READY, Outbox
from kiosk.salvage_read import WAL_HEADER_BYTES, Rescued, rescue
from kiosk.store import KioskStore
from shared.clock import SystemClock, to_iso
from shared.db import write_transaction

log = logging.getLogger(__name__)

ALERT_KIND = "kiosk.alert"  # the same kind kiosk/sync.py uses for dead letters
ALERT_PATH = "/api/v1/alerts"


class StorageDamaged(Exception):
    """kiosk.db failed a check at start; the message says which."""


@dataclass(frozen=True)
class Incident:
    """What a salvage found: counts only, never personal data (stored in kiosk_state)."""

    salvaged: int  # outbox items still to send that were recovered
    lost: int  # items known to be waiting that could not be read
    uncertain: bool  # the lost count may be short: some of the file could not be read at all
    paired: bool  # the pairing (token) was recovered
    kept_as: str  # the damaged file, kept for support
    reason: str  # what the check found
    method: str  # "sqlite3 .recover" or "row by row"
    at: str  # when (UTC)
    alert_id: int | None = None  # the queued alert for the console
    delivered: bool = False  # the console has acknowledged the alert

    def as_dict(self) -> dict:
        return asdict(self)


def open_kiosk_store(path: str | Path, clock=None, *, use_cli: bool = True) -> KioskStore:
    """Open kiosk.db for the kiosk; a damaged file is salvaged, never a traceback.

    Returns the store (fresh, when salvaged: its STORAGE_INCIDENT key says so).
    """
    path = Path(path)
    clock = clock or SystemClock()
    wal_copy = _keep_wal_copy(path)
    try:
        store = _open_checked(path, clock)
    except StorageDamaged as damage:
        log.error("kiosk.db is damaged (%s): moving it aside and salvaging", damage)
        kept = _move_aside(path, wal_copy, clock)
        return _salvage_into_fresh_store(path, kept, str(damage), clock, use_cli)
    finally:
        if wal_copy is not None:
            wal_copy.unlink(missing_ok=True)
    _put_back_in_flight(store)
    return store


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _shm(path: Path) -> Path:
    return path.with_name(path.name + "-shm")


def _keep_wal_copy(path: Path) -> Path | None:
    """Closing the checking connection makes SQLite delete the WAL (after
    checkpointing it, or after discarding it as garbage), so the WAL is copied
    first: if the file proves damaged, the copy is what support gets."""
    wal = _wal(path)
    if not wal.is_file() or wal.stat().st_size == 0:
        return None
    copy = path.with_name(path.name + ".wal-at-start")
    try:
        shutil.copyfile(wal, copy)
    except OSError:  # a full disk: check without the copy rather than not start
        log.warning("could not keep a copy of %s before checking it", wal, exc_info=True)
        copy.unlink(missing_ok=True)
        return None
    return copy


def _open_checked(path: Path, clock) -> KioskStore:
    if path.exists() and path.stat().st_size == 0:
        # A kiosk.db in WAL mode always has its header page: an empty file is a
        # truncation (a filesystem repair after a power cut), not a new kiosk.
        raise StorageDamaged("the file is empty")
    if _shm(path).exists() and not _wal(path).exists():
        # SQLite deletes both on a clean close and leaves both after a crash: a
        # -shm alone means the WAL, and whatever was committed only in it, is gone.
        raise StorageDamaged("the write-ahead log is missing after an unclean stop")
    if path.exists():
        _check(path)
    try:
        return KioskStore.open(path, clock)
    except sqlite3.DatabaseError as error:  # e.g. a migration meets a malformed page
        raise StorageDamaged(str(error)) from error


def _check(path: Path) -> None:
    """SQLite's own checks on an existing file, on a plain connection."""
    wal = _wal(path)
    wal_bytes = wal.stat().st_size if wal.is_file() else 0
    conn = None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StorageDamaged("; ".join(problems[:3]))
        if wal_bytes > WAL_HEADER_BYTES:
            # SQLite ignores a WAL whose header or first frame fails its checksum:
            # it then reports no frames at all. Committed items were in it.
            _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames <= 0:
                raise StorageDamaged(f"the write-ahead log ({wal_bytes} bytes) is unreadable")
    except sqlite3.DatabaseError as error:
        raise StorageDamaged(str(error)) from error
    finally:
        if conn is not None:
            conn.close()


def _move_aside(path: Path, wal_copy: Path | None, clock) -> Path:
    """kiosk.db(-wal,-shm) → kiosk.db.damaged-<UTC>(-wal,-shm): kept, never deleted."""
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    if path.exists():
        path.rename(kept)
    if wal_copy is not None and wal_copy.exists():
        wal_copy.rename(_wal(kept))  # the WAL as it was before anything opened it
        _wal(path).unlink(missing_ok=True)
    elif _wal(path).exists():
        _wal(path).rename(_wal(kept))
    if _shm(path).exists():
        _shm(path).rename(_shm(kept))
    return kept


def _salvage_into_fresh_store(
    path: Path, kept: Path, reason: str, clock, use_cli: bool
) -> KioskStore:
    with tempfile.TemporaryDirectory(prefix="kiosk-salvage-") as scratch:
        rescued = rescue(kept, Path(scratch), use_cli=use_cli)
    store = KioskStore.open(path, clock)
    try:
        incident = _restore(store, rescued, kept, reason)
    except BaseException:
        store.close()
        raise
    log.error(
        "salvaged %s waiting items from %s (%s lost%s); pairing %s",
        incident.salvaged,
        kept.name,
        incident.lost,
        ", maybe more" if incident.uncertain else "",
        "kept" if incident.paired else "lost",
    )
    return store


def _restore(store: KioskStore, rescued: Rescued, kept: Path, reason: str) -> Incident:
    """Write what was rescued, the alert and the incident in one transaction."""
    now = to_iso(store.clock.now())
    state = {k: v for k, v in rescued.state.items() if k != keys.STORAGE_INCIDENT}
    incident = Incident(
        salvaged=len(rescued.items),
        lost=rescued.lost,
        uncertain=rescued.uncertain,
        paired=isinstance(state.get(keys.TOKEN), str) and bool(state.get(keys.TOKEN)),
        kept_as=kept.name,
        reason=reason[:300],
        method=rescued.method,
        at=now,
    )
    with write_transaction(store.db):
        for item in rescued.items:
            _insert_item(store, item)
        if state:
            store.set(**state)
        alert_id = Outbox(store).enqueue(ALERT_KIND, ALERT_PATH, alert_body(incident))
        incident = Incident(**{**incident.as_dict(), "alert_id": alert_id})
        store.set(**{keys.STORAGE_INCIDENT: incident.as_dict()})
    return incident


def alert_body(incident: Incident) -> dict:
    """What POST /api/v1/alerts takes for a salvage (shared/kiosks.record_alert)."""
    return {
        "kind": "storage_salvaged",
        "salvaged": incident.salvaged,
        "lost": incident.lost,
        "uncertain": incident.uncertain,
        "created_at": incident.at,
    }


def _insert_item(store: KioskStore, item: dict) -> None:
    """One rescued item, under its original id and idempotency key. One that was
    in flight goes back to ready: the console may or may not have it, and the
    same key makes the resend safe either way."""
    columns = (
        "id, kind, method, path, body, idempotency_key, state, attempts,"
        " next_attempt_at, last_error, created_at, last_error_code"
    )
    store.db.execute(
        f"INSERT INTO outbox ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (
            item["id"],
            item["kind"],
            item["method"],
            item["path"],
            item["body"],
            item["idempotency_key"],
            READY if item["state"] == IN_FLIGHT else item["state"],
            item["attempts"],
            item["next_attempt_at"],
            item["last_error"],
            item["created_at"],
            item.get("last_error_code"),  # None from a file older than the column
        ),
    )


def _put_back_in_flight(store: KioskStore) -> None:
    """What was in flight when the kiosk stopped goes back to ready now, not in the
    sender thread, whose first write would otherwise be this one: on a full disk
    it could fail there before the thread's loop (kiosk/sync.py) catches errors."""
    try:
        Outbox(store).recover()
    except sqlite3.Error:
        log.exception("could not put in-flight items back to ready at start")
