"""Logging a parcel at the desk into its unit's open batch."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

from shared import audit, building
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest
from shared.parcels.batches import expire_batch, get, get_batch, reminder_days
from shared.parcels.codes import code_hash, new_code, seal_code
from shared.parcels.notices import queue_notices
from shared.parcels.tracking import (
    CARRIER_LABELS,
    DuplicateTracking,
    clean_shelf,
    earlier_with_tracking,
    guess_carrier,
    normalise_tracking,
    resolve_unit,
)


def _open_batch(db, clock, secret_key: str, unit_id: int, expires_at: datetime, settings) -> dict:
    """The unit's open batch (extended to `expires_at`), or a new one with a new code."""
    now = clock.now()
    batch = one(
        db, "SELECT * FROM parcel_batches WHERE unit_id = ? AND status = 'open'", (unit_id,)
    )
    if batch is not None and parse_utc(batch["expires_at"]) <= now:
        expire_batch(db, clock, batch)  # the job has not run yet: same rule
        batch = None
    if batch is not None:
        if parse_utc(batch["expires_at"]) < expires_at:
            db.execute(
                "UPDATE parcel_batches SET expires_at = ? WHERE id = ?",
                (to_iso(expires_at), batch["id"]),
            )
        return {**get_batch(db, batch["id"]), "joined": True}
    code = new_code()
    first_reminder = reminder_days(settings)[:1]
    cursor = db.execute(
        "INSERT INTO parcel_batches (unit_id, code_hash, code_sealed, status, created_at,"
        " expires_at, next_reminder_at) VALUES (?, ?, ?, 'open', ?, ?, ?)",
        (
            unit_id,
            code_hash(secret_key, unit_id, code),
            seal_code(secret_key, code),
            to_iso(now),
            to_iso(expires_at),
            to_iso(now + timedelta(days=first_reminder[0])) if first_reminder else None,
        ),
    )
    return {**get_batch(db, cursor.lastrowid), "joined": False}


def _add_parcel(db, now: datetime, expires_at: datetime, batch: dict, fields: dict) -> int:
    """The parcel's row, in the batch; parcels left from an expired batch join it too,
    so one code collects everything."""
    unit_id = batch["unit_id"]
    cursor = db.execute(
        "INSERT INTO parcels (unit_id, tracking_number, carrier, shelf, status, received_at,"
        " expires_at, batch_id, received_by) VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?, ?)",
        (unit_id, fields["tracking"], fields["carrier"], fields["shelf"], to_iso(now),
         to_iso(expires_at), batch["id"], fields["staff_id"]),
    )  # fmt: skip
    db.execute(
        "UPDATE parcels SET batch_id = ? WHERE unit_id = ? AND status = 'waiting'"
        " AND batch_id IS NOT ?",
        (batch["id"], unit_id, batch["id"]),
    )
    return cursor.lastrowid


def intake(
    db: sqlite_utils.Database,
    clock,
    *,
    secret_key: str,
    staff_id: int,
    tracking: str,
    unit: str,
    shelf: str,
    carrier: str = "",
    confirm_duplicate: bool = False,
) -> dict:
    """Log one parcel at the desk, put it in its unit's batch and queue the residents' message."""
    tracking = normalise_tracking(tracking)
    shelf = clean_shelf(shelf)
    if carrier and carrier not in CARRIER_LABELS:
        raise InvalidRequest("未知快递公司 · Unknown carrier.")
    fields = {
        "tracking": tracking,
        "carrier": carrier or guess_carrier(tracking),
        "shelf": shelf,
        "staff_id": staff_id,
    }
    with write_transaction(db):
        current = building.current(db)
        settings = current["settings"]
        unit_row = resolve_unit(db, unit)
        earlier = earlier_with_tracking(db, tracking)
        if earlier and not confirm_duplicate:
            raise DuplicateTracking(earlier, current["timezone"])
        now = clock.now()
        expires_at = now + timedelta(days=float(settings["parcel_code_valid_days"]))
        batch = _open_batch(db, clock, secret_key, unit_row["id"], expires_at, settings)
        parcel_id = _add_parcel(db, now, expires_at, batch, fields)
        queued = queue_notices(db, clock, batch, kind="parcel.waiting")
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.intake",
            target=f"parcel:{parcel_id}",
            detail={
                "unit": unit_row["number"],
                "batch": batch["id"],
                "joined_batch": batch["joined"],
                "duplicate_confirmed": bool(earlier),
            },
        )
    return {
        "parcel": get(db, parcel_id),
        "batch_id": batch["id"],
        "joined": batch["joined"],
        "notified": queued,
        "duplicate": bool(earlier),
    }
