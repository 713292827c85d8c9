"""State the console's processes share that is not the building's record.

Several console processes can serve one building behind one address
(docs/ARCHITECTURE.md, "Several processes"). What they must agree on lives here,
in `coordination.db` beside `lobbydesk.db`, never in one process's memory:

- rate limits and their refusal tallies (console/limits.py, kiosk write buckets);
- the live signal: a counter every publish moves, which each process watches to
  wake its own staff streams and kiosk long-polls (console/live.py);
- leases: which process runs the background jobs now (console/background.py).

Why a file of its own: none of this is worth an fsync. It is opened with
synchronous=NORMAL (a power cut can lose its last moments, which only ever lets
a request through or re-runs a lease), and its writes never queue behind the
building's durable writes. It holds no personal record beyond a client address
in a limit's recent hits, which age out with the window. Deleting the file is
harmless: it is recreated empty at the next start.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from shared.db import BUSY_TIMEOUT_MS, create_private

FILE_NAME = "coordination.db"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS limit_buckets (
    name TEXT NOT NULL, key TEXT NOT NULL, tokens REAL NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limit_hits (name TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS limit_hits_by_key ON limit_hits (name, key, at);
CREATE TABLE IF NOT EXISTS limit_refusals (
    key TEXT PRIMARY KEY, unwritten INTEGER NOT NULL, last_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS live_signal (
    id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL
);
INSERT OR IGNORE INTO live_signal (id, version) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL
) WITHOUT ROWID;
"""


def path_in(data_dir: str | Path) -> Path:
    return Path(data_dir) / FILE_NAME


class Coordination:
    """One connection to coordination.db for a whole process, shared by its threads.

    Every statement runs under `lock` (one thread at a time in this process) and every
    write in `write()` (BEGIN IMMEDIATE: one process at a time, the others wait on
    SQLite's busy timeout)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        create_private(self.path)
        self.conn = sqlite3.connect(
            str(self.path),
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        self.lock = threading.RLock()
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise sqlite3.OperationalError("coordination.db could not switch to WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            with self.write():
                if self.conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            self.conn.close()
            raise
        self.db = sqlite_utils.Database(self.conn, execute_plugins=False)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT on this process's connection."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def read(self, sql: str, params=()) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def data_version(self) -> int:
        """Moves whenever another connection (any process) has committed to the file."""
        with self.lock:
            return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.conn.close()
