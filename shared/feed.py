"""Per-kiosk event feed: what the console tells a kiosk, in order.

The kiosk long-polls with the id of the last event it has seen (its cursor).

Event ids only mean something within one history of the database. A restore
puts back an older history whose ids start again below every kiosk's cursor,
so each history has an *epoch*: random text, and the event id it started after
(its base). Every feed answer carries both; a kiosk sends back the epoch it
holds, and when that is not the current one (a restore, a new database, a
kiosk that never had one) the console reads from `min(cursor, base)`: a kiosk
whose cursor lies beyond the restored history starts again at the base and
misses nothing created since, and a kiosk behind the base loses nothing
either. The epoch is one row, made by migration 0016_feed_epoch and again by
every restore (shared/backup.py).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

import sqlite_utils

from shared.clock import to_iso
from shared.errors import InvalidRequest

# What a kiosk may send back as its epoch: what new_epoch() makes, with room for
# other random text; anything else is refused (400), never looked up.
EPOCH_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Epoch:
    epoch: str
    base: int


def new_epoch() -> str:
    return secrets.token_hex(16)


def max_event_id(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM kiosk_events").fetchone()[0]


def current_epoch(db: sqlite_utils.Database) -> Epoch:
    row = db.execute("SELECT epoch, base FROM feed_epoch WHERE id = 1").fetchone()
    return Epoch(row[0], row[1])


def start_epoch(db: sqlite_utils.Database, started_at: str) -> Epoch:
    """A new history starts here: a new epoch after the newest event (call inside
    a write transaction)."""
    epoch = Epoch(new_epoch(), max_event_id(db))
    db.execute(
        "INSERT INTO feed_epoch (id, epoch, base, started_at) VALUES (1, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch, base = excluded.base,"
        " started_at = excluded.started_at",
        (epoch.epoch, epoch.base, started_at),
    )
    return epoch


def check_epoch(value: str | None) -> str | None:
    """A kiosk's epoch parameter: None when absent, else it must look like one."""
    if value is None:
        return None
    if not EPOCH_PATTERN.fullmatch(value):
        raise InvalidRequest("epoch must be the text a feed answer gave (1-64 of A-Z a-z 0-9 _ -)")
    return value


def read_from(current: Epoch, cursor: int, kiosk_epoch: str | None, newest: int) -> int:
    """Where to read a kiosk's feed from: its cursor within the current epoch, else
    no further than the epoch's base. A kiosk that sends no epoch at all (software
    from before epochs) keeps its cursor unless the cursor lies beyond every event
    there is (a restore): otherwise it would be handed the same events on every poll."""
    if kiosk_epoch == current.epoch:
        return cursor
    if kiosk_epoch is None and cursor <= newest:
        return cursor
    return min(cursor, current.base)


def append(db: sqlite_utils.Database, clock, kiosk_id: int, kind: str, payload: dict) -> int:
    cursor = db.execute(
        "INSERT INTO kiosk_events (kiosk_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        (kiosk_id, kind, json.dumps(payload, ensure_ascii=False), to_iso(clock.now())),
    )
    return cursor.lastrowid


def after(db: sqlite_utils.Database, kiosk_id: int, cursor: int, limit: int = 100) -> list[dict]:
    rows = db.query(
        "SELECT id, kind, payload, created_at FROM kiosk_events"
        " WHERE kiosk_id = ? AND id > ? ORDER BY id LIMIT ?",
        (kiosk_id, cursor, limit),
    )
    return [{**row, "payload": json.loads(row["payload"])} for row in rows]


def latest_id(db: sqlite_utils.Database, kiosk_id: int) -> int:
    row = next(
        iter(db.query("SELECT MAX(id) AS m FROM kiosk_events WHERE kiosk_id = ?", (kiosk_id,)))
    )
    return row["m"] or 0
