"""Writes from a revoked kiosk: held for staff review, never applied, never lost.

A kiosk can be revoked while it still has work queued (stolen, replaced,
re-paired). Its requests carry real visitors' and residents' data, so the
console keeps them aside — once per Idempotency-Key — and staff decide:
accept (applied now, as if the kiosk had sent it) or discard.
"""

from __future__ import annotations

import json

import sqlite_utils

from shared import audit, escalations, tokens, visitors
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, NotFound, StaleState

# What staff may accept into the live data; a parcel pickup from a revoked
# kiosk is never released after the fact: the resident is served at the desk.
ACCEPTABLE_PATHS = {"/api/v1/escalations", "/api/v1/visits"}


def revoked_kiosk(db: sqlite_utils.Database, token: str | None) -> dict | None:
    if not token:
        return None
    return one(
        db,
        "SELECT * FROM kiosks WHERE token_hash = ? AND revoked_at IS NOT NULL",
        (tokens.hash_token(token),),
    )


def hold(db: sqlite_utils.Database, clock, *, kiosk_id: int, key: str, path: str, body: str) -> int:
    """Keep the request aside; the same key again returns the same held item."""
    with write_transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO quarantine (kiosk_id, key, path, body, received_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (kiosk_id, key, path, body, to_iso(clock.now())),
        )
        row = one(db, "SELECT id FROM quarantine WHERE kiosk_id = ? AND key = ?", (kiosk_id, key))
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="quarantine.hold",
            target=f"quarantine:{row['id']}",
        )
    return row["id"]


def held(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT q.*, k.name AS kiosk_name FROM quarantine q JOIN kiosks k ON k.id = q.kiosk_id"
            " WHERE q.status = 'held' ORDER BY q.id"
        )
    )


def _decide(db, clock, item_id: int, status: str, staff_id: int, result: dict | None) -> None:
    cursor = db.execute(
        "UPDATE quarantine SET status = ?, decided_by = ?, decided_at = ?, result = ?"
        " WHERE id = ? AND status = 'held'",
        (status, staff_id, to_iso(clock.now()), json.dumps(result) if result else None, item_id),
    )
    if cursor.rowcount != 1:
        raise StaleState(f"quarantined item {item_id} was already decided")
    audit.record(
        db,
        clock,
        actor=f"staff:{staff_id}",
        action=f"quarantine.{status}",
        target=f"quarantine:{item_id}",
    )


def discard(db: sqlite_utils.Database, clock, item_id: int, *, staff_id: int) -> None:
    with write_transaction(db):
        _get(db, item_id)
        _decide(db, clock, item_id, "discarded", staff_id, None)


def accept(db: sqlite_utils.Database, clock, item_id: int, *, staff_id: int) -> dict:
    """Apply a held request now, with the kiosk's original time kept as created_at."""
    with write_transaction(db):
        item = _get(db, item_id)
        if item["path"] not in ACCEPTABLE_PATHS:
            raise InvalidRequest(
                "这类请求不能补录，请在前台处理 · This kind of request cannot be accepted; handle it at the desk."
            )
        try:
            body = json.loads(item["body"])
        except ValueError as error:
            raise InvalidRequest("the held request is not valid JSON") from error
        if item["path"] == "/api/v1/escalations":
            from shared.protocol import validate_help_call

            call = validate_help_call(body)
            row = escalations.raise_help_call(
                db, clock, kiosk_id=item["kiosk_id"], created_at=call["created_at"],
                language=call["language"], screen=call["screen"],
            )  # fmt: skip
            result = {"escalation_id": row["id"]}
        else:
            row = visitors.register(db, clock, kiosk_id=item["kiosk_id"], body=body)
            result = {"visit_id": row["id"]}
        _decide(db, clock, item_id, "accepted", staff_id, result)
    return result


def _get(db, item_id: int) -> dict:
    row = one(db, "SELECT * FROM quarantine WHERE id = ?", (item_id,))
    if row is None:
        raise NotFound(f"quarantined item {item_id} does not exist")
    return row
