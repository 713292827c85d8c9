"""The kiosk's own small SQLite file: its outbox and a little key/value state.

Only this kiosk's token, names to show and the feed cursor live in
`kiosk_state`; personal data lives only in queued outbox bodies, and only
until the console acknowledges them (SECURITY.md 27).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from kiosk.storage_health import StorageWatch, WatchedConnection
from shared import db as dbmod
from shared.clock import SystemClock, to_iso

migrations = Migrations("kiosk")

_INITIAL = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    method TEXT NOT NULL DEFAULT 'POST',
    path TEXT NOT NULL,
    body TEXT,                                  -- JSON text; NULL once acknowledged
    idempotency_key TEXT NOT NULL UNIQUE,       -- made once at enqueue, reused on retries
    state TEXT NOT NULL DEFAULT 'ready'
        CHECK (state IN ('ready', 'in_flight', 'acked', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    acked_at TEXT,
    response TEXT                               -- the console's JSON answer
);
CREATE INDEX outbox_state ON outbox(state, id);

CREATE TABLE kiosk_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,                        -- JSON
    updated_at TEXT NOT NULL
);
"""


@migrations(name="0001_initial")
def initial(db: sqlite_utils.Database) -> None:
    db.executescript(_INITIAL)


@migrations(name="0002_last_error_code")
def last_error_code(db: sqlite_utils.Database) -> None:
    """The console's error code beside last_error's text (kiosk/refusals.py): what the
    kiosk decides on is read as data, not parsed out of the message."""
    db.execute("ALTER TABLE outbox ADD COLUMN last_error_code TEXT")


# Keys of kiosk_state
TOKEN = "token"  # noqa: S105 (the key name, not a secret)
KIOSK_NAME = "kiosk_name"
KIOSK_ID = "kiosk_id"
BUILDING_NAME = "building_name"
BUILDING_NAME_EN = "building_name_en"
FEED_CURSOR = "feed_cursor"
FEED_EPOCH = "feed_epoch"  # the console's feed history the cursor belongs to (shared/feed.py)
# The console's public pass key, building id and revoked invitation ids (GET /pass-key,
# then invitation.revoked feed events): invitation passes are verified offline with it.
PASS_KEY = "pass_key"  # noqa: S105 (the key name, not a secret)
VISITOR_SETTINGS = "visitor_settings"  # retention days, phone required … (no personal data)
# What the salvage of a damaged kiosk.db found (kiosk/salvage.py): counts, no personal data.
STORAGE_INCIDENT = "storage_incident"
_PROBE_KEY = "storage_probe"  # written and removed at once (KioskStore.probe_write)


class KioskStore:
    """One connection to kiosk.db. Open one per thread (see `reopen`).

    Every connection of one kiosk shares a StorageWatch, so a full disk met by
    any thread reaches the screen (kiosk/storage_health.py). At start, open it
    with kiosk.salvage.open_kiosk_store, which also copes with a damaged file.
    """

    def __init__(
        self, db: sqlite_utils.Database, path: Path, clock=None, watch: StorageWatch | None = None
    ):
        self.db = db
        self.path = path
        self.clock = clock or SystemClock()
        self.watch = watch or StorageWatch()
        if isinstance(db.conn, WatchedConnection):
            db.conn.watch = self.watch

    @classmethod
    def open(cls, path: str | Path, clock=None, watch: StorageWatch | None = None) -> KioskStore:
        path = Path(path)
        db = dbmod.connect(path, factory=WatchedConnection)
        try:
            migrations.apply(db)
        except BaseException:
            db.conn.close()
            raise
        return cls(db, path, clock, watch)

    def reopen(self) -> KioskStore:
        """A second connection to the same file, for another thread."""
        return KioskStore.open(self.path, self.clock, self.watch)

    def close(self) -> None:
        self.db.conn.close()

    def get(self, key: str, default: Any = None) -> Any:
        row = dbmod.one(self.db, "SELECT value FROM kiosk_state WHERE key = ?", (key,))
        return default if row is None else json.loads(row["value"])

    def set(self, **values: Any) -> None:
        """Write several keys in one transaction."""
        now = to_iso(self.clock.now())
        with dbmod.write_transaction(self.db):
            for key, value in values.items():
                self.db.execute(
                    "INSERT INTO kiosk_state (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (key, json.dumps(value, ensure_ascii=False), now),
                )

    def probe_write(self) -> None:
        """Commit a write that needs fresh room (a row bigger than a page, added and
        removed): whether the disk takes writes again, without changing anything."""
        now = to_iso(self.clock.now())
        with dbmod.write_transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO kiosk_state (key, value, updated_at) VALUES (?, ?, ?)",
                (_PROBE_KEY, json.dumps("x" * 8192), now),
            )
            self.db.execute("DELETE FROM kiosk_state WHERE key = ?", (_PROBE_KEY,))

    @property
    def token(self) -> str | None:
        return self.get(TOKEN)

    def save_pairing(self, answer: dict) -> None:
        """Store what POST /pair answered: the token and the names to show."""
        kiosk = answer.get("kiosk") or {}
        building = answer.get("building") or {}
        self.set(
            **{
                TOKEN: answer["token"],
                KIOSK_ID: kiosk.get("id"),
                KIOSK_NAME: kiosk.get("name", ""),
                BUILDING_NAME: building.get("name", ""),
                BUILDING_NAME_EN: building.get("name_en", ""),
                # A new pairing is a new kiosk identity: its feed starts afresh.
                FEED_CURSOR: 0,
                FEED_EPOCH: None,
                PASS_KEY: None,  # another console's key, if any, is not this one's
            }
        )

    def add_revoked(self, invitation_id: int) -> bool:
        """An invitation.revoked feed event: its pass is refused offline from now on.
        False when no key is kept yet (the next GET /pass-key brings the list whole)."""
        with dbmod.write_transaction(self.db):
            kept = self.get(PASS_KEY)
            if not isinstance(kept, dict):
                return False
            revoked = [i for i in kept.get("revoked") or [] if isinstance(i, int)]
            if invitation_id not in revoked:
                revoked.append(invitation_id)
            self.set(**{PASS_KEY: {**kept, "revoked": revoked}})
        return True
