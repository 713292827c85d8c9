"""Opening SQLite files the one durable way.

Every connection, console or kiosk, gets WAL, synchronous=FULL, foreign keys
and a busy timeout (SECURITY.md 28-29), and we read them back so a wrong
setting fails loudly at start instead of losing commits on a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import os
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
# writers on a lock (docs/ARCHITECTURE.md, "Measured choices").
_write_lock = threading.RLock()


def connect(
    path: str | Path, factory: type[sqlite3.Connection] = sqlite3.Connection
) -> sqlite_utils.Database:
    """A sqlite-utils Database over a connection with our pragmas applied.

    `factory`: a sqlite3.Connection subclass (the kiosk's watches its errors).
    A new file is created readable by its owner only (0600, whatever the umask);
    SQLite gives its -wal and -shm files the database file's mode."""
    create_private(path)
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


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_PRIVATE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_dir(folder: str | Path) -> None:
    """Make a folder readable by its owner only (0700) if it is missing."""
    folder = Path(folder)
    if not folder.exists():
        folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)


def create_private(path: str | Path) -> None:
    """Make the folder (0700) and an empty database file (0600) if they are missing."""
    path = Path(path)
    private_dir(path.parent)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        except FileExistsError:
            pass  # another process made it first


def make_private(folder: str | Path, databases=(), files=()) -> None:
    """Owner-only modes on a data folder as it is: the folder 0700, each database with
    its -wal/-shm/-journal and each other file 0600 (files made by an older version)."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    os.chmod(folder, PRIVATE_DIR)
    for name in databases:
        for suffix in _PRIVATE_SUFFIXES:
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                os.chmod(candidate, PRIVATE_FILE)
    for name in files:
        candidate = folder / name
        if candidate.is_file():
            os.chmod(candidate, PRIVATE_FILE)


def is_storage_full(error: BaseException) -> bool:
    """SQLITE_FULL ("database or disk is full") or ENOSPC/EDQUOT from the OS."""
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return False


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
