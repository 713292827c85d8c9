"""Per-kiosk event feed: what the console tells a kiosk, in order.

The kiosk long-polls with the id of the last event it has seen (its cursor).
"""

from __future__ import annotations

import json

import sqlite_utils

from shared.clock import to_iso


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
