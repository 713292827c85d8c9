"""A unit's batch of parcels: reading it, and closing it (collected or expired)."""

from __future__ import annotations

import sqlite_utils

from shared import audit, building
from shared.clock import to_iso
from shared.db import one
from shared.errors import NotFound


def building_settings(db) -> dict:
    return building.current(db)["settings"]


def get(db: sqlite_utils.Database, parcel_id: int) -> dict:
    row = one(
        db,
        "SELECT p.*, u.number AS unit_number FROM parcels p JOIN units u ON u.id = p.unit_id"
        " WHERE p.id = ?",
        (parcel_id,),
    )
    if row is None:
        raise NotFound(f"没有这件快递 · Parcel {parcel_id} does not exist.")
    return row


def get_batch(db: sqlite_utils.Database, batch_id: int) -> dict | None:
    return one(
        db,
        "SELECT b.*, u.number AS unit_number FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
        " WHERE b.id = ?",
        (batch_id,),
    )


def reminder_days(settings: dict) -> list[float]:
    days = settings.get("parcel_reminder_days") or []
    return sorted(float(d) for d in days if isinstance(d, int | float) and d > 0)


def waiting_in_batch(db, batch_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM parcels WHERE batch_id = ? AND status = 'waiting' ORDER BY id",
            (batch_id,),
        )
    )


def close_batch(db, batch_id: int, status: str, now: str) -> bool:
    """Close an open batch ('collected' or 'expired'): the sealed code is wiped, no more
    reminders, and its messages not yet sent are cancelled. False if it was not open."""
    cursor = db.execute(
        "UPDATE parcel_batches SET status = ?, closed_at = ?, code_sealed = NULL,"
        " next_reminder_at = NULL WHERE id = ? AND status = 'open'",
        (status, now, batch_id),
    )
    if cursor.rowcount != 1:
        return False
    db.execute(
        "UPDATE parcel_notices SET status = 'cancelled' WHERE batch_id = ? AND status = 'pending'",
        (batch_id,),
    )
    return True


def expire_batch(db, clock, batch: dict) -> None:
    if close_batch(db, batch["id"], "expired", to_iso(clock.now())):
        audit.record(
            db,
            clock,
            actor="system",
            action="parcel.code_expire",
            target=f"parcel_batch:{batch['id']}",
        )
