"""Reading what is still readable out of a damaged kiosk.db (kiosk/salvage.py).

Always from a scratch copy: the damaged file kept for support is never opened,
so nothing here can change it. Two ways, both SQLite's own:

- the `sqlite3` command's `.recover` (when the binary is on PATH) rebuilds
  whatever rows it finds, page by page, into a new database we then read;
- otherwise Python's sqlite3 reads the copy: the whole table if it can, else
  each row by its id, skipping the rows that raise.

Counting what was lost: outbox rows are never deleted, and the `outbox_state`
index lists the id of every row still to send (ready, in flight, dead). Read on
its own (it is a covering index: no table page is touched), it says which
waiting items existed even when their rows are unreadable. When that index
cannot be read either, the loss cannot be counted: `uncertain` says so.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import store as keys

log = logging.getLogger(__name__)

WAITING = ("ready", "in_flight", "dead")
WAL_HEADER_BYTES = 32  # a WAL no longer than its header holds no commit
_CLI_SECONDS = 60
_PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
_STATE_KEYS = (
    keys.TOKEN,
    keys.KIOSK_ID,
    keys.KIOSK_NAME,
    keys.BUILDING_NAME,
    keys.BUILDING_NAME_EN,
    keys.FEED_CURSOR,
    keys.VISITOR_SETTINGS,
)
_TEXT = ("kind", "method", "path", "idempotency_key", "next_attempt_at", "created_at")


@dataclass
class Rescued:
    items: list[dict] = field(default_factory=list)  # waiting outbox rows, in id order
    state: dict = field(default_factory=dict)  # kiosk_state key → value
    lost: int = 0
    uncertain: bool = False
    method: str = "row by row"


@dataclass
class _Reading:
    rows: dict[int, dict] = field(default_factory=dict)  # outbox rows read, by id
    complete: bool = False  # the whole table was read
    waiting_ids: set[int] = field(default_factory=set)  # from the outbox_state index
    index_complete: bool = False
    state: dict = field(default_factory=dict)


def rescue(kept: Path, scratch: Path, use_cli: bool = True) -> Rescued:
    """What can be read from the kept files (kept, kept-wal), via a scratch copy."""
    copy = scratch / "damaged.db"
    if kept.exists():
        shutil.copyfile(kept, copy)
    else:
        copy.touch()
    wal = kept.with_name(kept.name + "-wal")
    if wal.exists():  # (not the -shm: SQLite rebuilds it from the WAL)
        shutil.copyfile(wal, scratch / "damaged.db-wal")
    # A -shm kept without its WAL: the WAL was lost, and what only it held.
    wal_unusable = _wal_unusable(copy) or (
        kept.with_name(kept.name + "-shm").exists() and not wal.exists()
    )
    _make_openable(copy, scratch)
    direct = _read(copy)
    rows, method = direct.rows, "row by row"
    recovered = _cli_recover(copy, scratch / "recovered.db") if use_cli else None
    if recovered is not None:
        # .recover also finds rows on pages the table no longer reaches. Its
        # rebuilt index lists only what it found, so the loss is still counted
        # against the damaged file's own index (read directly, above).
        rows = {**_read(recovered).rows, **{i: r for i, r in rows.items() if _valid(r)}}
        method = "sqlite3 .recover"
    rescued = _rescued(direct, rows, method)
    # Items committed only in a WAL SQLite had to throw away left no trace to count.
    rescued.uncertain = rescued.uncertain or wal_unusable
    return rescued


def _wal_unusable(copy: Path) -> bool:
    """True if the copy has a WAL with more than a header in it and SQLite finds no
    valid frame (a garbage WAL is ignored, whole). Its valid frames, if any, are
    checkpointed into the copy here, which is what reading it would do anyway."""
    wal = copy.with_name(copy.name + "-wal")
    if not wal.exists() or wal.stat().st_size <= WAL_HEADER_BYTES:
        return False
    try:
        with _connect(copy) as conn:
            _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        conn.close()
    except sqlite3.DatabaseError:
        return True  # the main file does not open either: nothing to say it was usable
    return frames <= 0


def _rescued(direct: _Reading, rows: dict[int, dict], method: str) -> Rescued:
    good = {i: r for i, r in rows.items() if r["state"] in WAITING and _valid(r)}
    readable = {i for i, r in rows.items() if _valid(r)}
    return Rescued(
        items=[good[i] for i in sorted(good)],
        state=direct.state,
        lost=len(direct.waiting_ids - readable),
        # Without the whole index, waiting items may be missing unseen.
        uncertain=not direct.index_complete,
        method=method,
    )


def _opens(path: Path) -> bool:
    try:
        with _connect(path) as conn:
            conn.execute("SELECT name FROM sqlite_master").fetchall()
        return True
    except sqlite3.DatabaseError:
        return False


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def _make_openable(copy: Path, scratch: Path) -> None:
    """A garbage 100-byte file header (the page size, the format …) makes SQLite
    refuse the whole file though every page after it is intact. Put back a
    header SQLite itself wrote for an empty database, trying each page size;
    with its page count zeroed, SQLite sizes the database from the file."""
    if copy.stat().st_size < 100 or _opens(copy):
        return
    damaged_head = copy.read_bytes()[:100]
    for page_size in _PAGE_SIZES:
        template = scratch / f"template-{page_size}.db"
        with _connect(template) as conn:
            conn.execute(f"PRAGMA page_size = {page_size}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE t (x)")
        conn.close()
        header = bytearray(template.read_bytes()[:100])
        header[28:32] = b"\0\0\0\0"  # in-header page count: not trusted, use the file size
        with open(copy, "r+b") as file:
            file.write(header)
        if _opens(copy):
            log.warning("salvage: the file header was unreadable; page size %s fits", page_size)
            return
    with open(copy, "r+b") as file:  # nothing fitted: leave the copy as it was
        file.write(damaged_head)


def _cli_recover(copy: Path, target: Path) -> Path | None:
    """`sqlite3 copy .recover` → SQL → a new database. None if it did not work
    (or there is no sqlite3 command: it is optional)."""
    if shutil.which("sqlite3") is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 (our own copy, a fixed argument list)
            [shutil.which("sqlite3") or "sqlite3", str(copy), ".recover"],
            capture_output=True,
            timeout=_CLI_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        log.warning("salvage: sqlite3 .recover could not run", exc_info=True)
        return None
    if done.returncode != 0 or not done.stdout.strip():
        log.warning("salvage: sqlite3 .recover failed: %s", done.stderr[-500:])
        return None
    try:
        with _connect(target) as conn:
            conn.executescript(done.stdout.decode("utf-8", "replace"))
        conn.close()
    except sqlite3.Error:
        log.warning("salvage: the SQL .recover wrote could not be replayed", exc_info=True)
        return None
    return target


def _read(path: Path) -> _Reading:
    reading = _Reading()
    try:
        conn = _connect(path)
    except sqlite3.Error:
        return reading
    try:
        reading.state = _read_state(conn)
        reading.waiting_ids, reading.index_complete = _waiting_ids(conn)
        reading.rows, reading.complete = _all_rows(conn)
        if not reading.complete:
            wanted = (reading.waiting_ids | _more_ids(conn, reading.rows)) - reading.rows.keys()
            for item_id in sorted(wanted):
                row = _row(conn, item_id)
                if row is not None:
                    reading.rows[item_id] = row
    finally:
        conn.close()
    return reading


def _read_state(conn: sqlite3.Connection) -> dict:
    """kiosk_state: the whole table if it reads, else each known key on its own."""
    rows: list[tuple] = []
    try:
        rows = conn.execute("SELECT key, value FROM kiosk_state").fetchall()
    except sqlite3.DatabaseError:
        for key in _STATE_KEYS:
            try:
                rows += conn.execute(
                    "SELECT key, value FROM kiosk_state WHERE key = ?", (key,)
                ).fetchall()
            except sqlite3.DatabaseError:
                continue
    state = {}
    for key, value in rows:
        try:
            state[key] = json.loads(value)
        except (TypeError, ValueError):
            continue  # a garbled value is no value
    return state


def _waiting_ids(conn: sqlite3.Connection) -> tuple[set[int], bool]:
    ids: set[int] = set()
    try:
        cursor = conn.execute(
            "SELECT id FROM outbox INDEXED BY outbox_state WHERE state IN (?, ?, ?)", WAITING
        )
        for (item_id,) in cursor:
            ids.add(item_id)
        return ids, True
    except sqlite3.DatabaseError:  # unreadable or missing (e.g. after .recover): partial
        return ids, False


def _all_rows(conn: sqlite3.Connection) -> tuple[dict[int, dict], bool]:
    rows: dict[int, dict] = {}
    try:
        cursor = conn.execute("SELECT * FROM outbox ORDER BY id")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            rows[row[0]] = dict(zip(names, row, strict=True))
        return rows, True
    except sqlite3.DatabaseError:
        return rows, False


def _more_ids(conn: sqlite3.Connection, rows: dict) -> set[int]:
    """Ids to try one by one when the table scan broke off: up to the highest id
    ever given (sqlite_sequence), or a little past the last one read."""
    try:
        found = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        top = found[0] if found else None
    except sqlite3.DatabaseError:
        top = None
    if not isinstance(top, int):
        top = max(rows, default=0) + 1000
    return set(range(1, top + 1))


def _row(conn: sqlite3.Connection, item_id: int) -> dict | None:
    try:
        cursor = conn.execute("SELECT * FROM outbox WHERE id = ?", (item_id,))
        row = cursor.fetchone()
    except sqlite3.DatabaseError:
        return None
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _valid(row: dict) -> bool:
    """A row worth resending: every field the outbox needs, the body still JSON."""
    if not isinstance(row.get("id"), int) or row.get("state") not in (*WAITING, "acked"):
        return False
    if not all(isinstance(row.get(name), str) and row[name] for name in _TEXT):
        return False
    if not isinstance(row.get("attempts"), int):
        return False
    if row["state"] == "acked":
        return True
    try:
        json.loads(row.get("body") or "")
    except (TypeError, ValueError):
        return False
    return True
