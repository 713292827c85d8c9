"""Kiosk pickups waiting at the desk, until staff hand the parcels over."""

from __future__ import annotations

import sqlite_utils

from shared import audit
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import StaleState
from shared.parcels.tracking import carrier_label, tracking_tail


def create_handover(db, clock, batch: dict, parcels: list[dict], *, kiosk_id, method) -> int:
    shelves = ", ".join(dict.fromkeys(p["shelf"] for p in parcels if p["shelf"]))
    cursor = db.execute(
        "INSERT INTO parcel_handovers (batch_id, unit_id, kiosk_id, method, shelves,"
        " parcel_count, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            batch["id"],
            batch["unit_id"],
            kiosk_id,
            method,
            shelves,
            len(parcels),
            to_iso(clock.now()),
        ),
    )
    db.execute(
        "UPDATE parcels SET handover_id = ? WHERE batch_id = ? AND status = 'collected'"
        " AND handover_id IS NULL",
        (cursor.lastrowid, batch["id"]),
    )
    return cursor.lastrowid


def open_handovers(db: sqlite_utils.Database) -> list[dict]:
    """Kiosk pickups waiting at the desk, for the live queue."""
    rows = list(
        db.query(
            "SELECT h.*, u.number AS unit_number, k.name AS kiosk_name FROM parcel_handovers h"
            " JOIN units u ON u.id = h.unit_id LEFT JOIN kiosks k ON k.id = h.kiosk_id"
            " WHERE h.status = 'open' ORDER BY h.received_at, h.id"
        )
    )
    for row in rows:
        row["parcels"] = [
            {
                **p,
                "carrier_label": carrier_label(p["carrier"]),
                "tail": tracking_tail(p["tracking_number"]),
            }
            for p in db.query(
                "SELECT * FROM parcels WHERE handover_id = ? ORDER BY shelf, id", (row["id"],)
            )
        ]
    return rows


def complete_handover(db: sqlite_utils.Database, clock, handover_id: int, *, staff_id: int) -> None:
    """Staff gave the parcels of a kiosk pickup to the resident."""
    now = to_iso(clock.now())
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE parcel_handovers SET status = 'done', done_at = ?, done_by = ?"
            " WHERE id = ? AND status = 'open'",
            (now, staff_id, handover_id),
        )
        if cursor.rowcount != 1:
            raise StaleState(f"这次交付已完成 · Handover {handover_id} was already completed.")
        handover = one(db, "SELECT * FROM parcel_handovers WHERE id = ?", (handover_id,))
        db.execute(
            "UPDATE parcels SET handed_over_at = ?, handed_over_by = ? WHERE handover_id = ?",
            (now, staff_id, handover_id),
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.hand_over",
            target=f"parcel_batch:{handover['batch_id']}",
            detail={"method": handover["method"], "handover": handover_id},
        )
