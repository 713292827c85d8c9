"""A kiosk disk that fills up and frees again, with a real SQLite limit.

`PRAGMA max_page_count` makes SQLite itself answer SQLITE_FULL ("database or
disk is full") when a write needs a page the file may not grow to. It is a
per-connection setting, so every connection to kiosk.db is tracked (the app's,
and the sync threads' through KioskStore.reopen) and limited together. Capping
the file at its size is not enough: SQLite first uses the room left in its
pages, so filler rows (acknowledged outbox rows, like a long-lived kiosk's
history, and state keys) take that room first, until writes keep failing.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from kiosk.store import KioskStore

NO_LIMIT = 1_073_741_823  # SQLite's default max_page_count
FILLER_KIND = "test.filler"


class FullDisk:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.connections: list[sqlite3.Connection] = []
        self.limit = NO_LIMIT

    def track(self, store: KioskStore) -> KioskStore:
        self.connections.append(store.db.conn)
        self._apply(store.db.conn)
        return store

    def _apply(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute(f"PRAGMA max_page_count = {self.limit}")
        except sqlite3.ProgrammingError:  # closed meanwhile
            pass

    def fill(self) -> None:
        filler = sqlite3.connect(str(self.path), isolation_level=None, timeout=5)
        try:
            pages = filler.execute("PRAGMA page_count").fetchone()[0]
            self.limit = pages
            for conn in [*self.connections, filler]:
                self._apply(conn)
            failures = 0
            while failures < 60:  # random keys: every index leaf gets its turn
                failures = 0 if _add_filler(filler) else failures + 1
        finally:
            filler.close()

    def lift(self) -> None:
        self.limit = NO_LIMIT
        for conn in self.connections:
            self._apply(conn)
        filler = sqlite3.connect(str(self.path), isolation_level=None, timeout=5)
        try:
            filler.execute("DELETE FROM outbox WHERE kind = ?", (FILLER_KIND,))
            filler.execute("DELETE FROM kiosk_state WHERE key LIKE 'test.filler.%'")
        finally:
            filler.close()


def _add_filler(conn: sqlite3.Connection) -> bool:
    key = uuid.uuid4().hex
    try:
        conn.execute(
            "INSERT INTO outbox (kind, path, idempotency_key, state, next_attempt_at,"
            " created_at) VALUES (?, '/x', ?, 'acked', 'x', 'x')",
            (FILLER_KIND, key),
        )
        return True
    except sqlite3.OperationalError:
        pass
    try:
        conn.execute(
            "INSERT INTO kiosk_state (key, value, updated_at) VALUES (?, '0', 'x')",
            (f"test.filler.{key}",),
        )
        return True
    except sqlite3.OperationalError:
        return False


def track_every_connection(monkeypatch, disk: FullDisk) -> None:
    """Connections the sync threads open later are limited too."""
    reopen = KioskStore.reopen

    def tracked(store):
        return disk.track(reopen(store))

    monkeypatch.setattr(KioskStore, "reopen", tracked)
