"""Opening SQLite files the one durable way.

Every connection, console or kiosk, gets WAL, synchronous=FULL, foreign keys
and a busy timeout (SECURITY.md 28-29), and we read them back so a wrong
setting fails loudly at start instead of losing commits on a power cut.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from shared.errors import DatabaseSettingsWrong

BUSY_TIMEOUT_MS = 5000
_SYNCHRONOUS_FULL = 2

# One writer at a time per process: SQLite's own busy handler sleeps 1, 2, 5 …
# 100 ms between retries, which made POST p99 three times worse than queueing
# writers on a lock (DESIGN.md, measured).
_write_lock = threading.RLock()


def connect(
    path: str | Path, factory: type[sqlite3.Connection] = sqlite3.Connection
) -> sqlite_utils.Database:
    """A sqlite-utils Database over a connection with our pragmas applied.

    `factory`: a sqlite3.Connection subclass (the kiosk's watches its errors)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; writes that must go
    # together use write_transaction() explicitly.
    conn = sqlite3.connect(
        str(path),
        isolation_level=None,
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
        factory=factory,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        db = sqlite_utils.Database(conn, execute_plugins=False)
        check_settings(db)
    except BaseException:
        conn.close()  # e.g. "file is not a database": leave no handle on a damaged file
        raise
    return db


def _use_wal(conn: sqlite3.Connection) -> None:
    """WAL is stored in the file, so only its first opener switches it. Switching
    needs the file to itself and does not wait on busy_timeout: when several
    processes create the database at once, the losers retry until the winner's
    switch is done (then there is nothing left to do)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def check_settings(db: sqlite_utils.Database) -> None:
    conn = db.conn
    actual = {
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
        "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
        "foreign_keys": conn.execute("PRAGMA foreign_keys").fetchone()[0],
        "busy_timeout": conn.execute("PRAGMA busy_timeout").fetchone()[0],
    }
    wrong = []
    if str(actual["journal_mode"]).lower() != "wal":
        wrong.append(f"journal_mode={actual['journal_mode']} (need wal)")
    if actual["synchronous"] != _SYNCHRONOUS_FULL:
        wrong.append(f"synchronous={actual['synchronous']} (need 2 = FULL)")
    if actual["foreign_keys"] != 1:
        wrong.append("foreign_keys off")
    if actual["busy_timeout"] < BUSY_TIMEOUT_MS:
        wrong.append(f"busy_timeout={actual['busy_timeout']} ms (need >= {BUSY_TIMEOUT_MS})")
    if wrong:
        raise DatabaseSettingsWrong("; ".join(wrong))


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """BEGIN IMMEDIATE … COMMIT, serialised per process.

    IMMEDIATE takes the write lock up front so two writers never both read,
    then collide on upgrade. Nested use becomes a savepoint via atomic().
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with _write_lock:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")


def one(db: sqlite_utils.Database, sql: str, params=()) -> dict | None:
    """The first row of a query as a dict, or None."""
    return next(iter(db.query(sql, params)), None)
