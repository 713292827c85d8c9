"""Expiry and reminders: the console's background thread (tests call them directly)."""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from shared import audit
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.parcels.batches import building_settings, expire_batch, reminder_days
from shared.parcels.notices import deliver_notices, queue_notices


def expire_codes(db: sqlite_utils.Database, clock) -> int:
    """Close batches whose code has expired; their parcels stay waiting (overdue, desk only)."""
    with write_transaction(db):
        due = list(
            db.query(
                "SELECT * FROM parcel_batches WHERE status = 'open' AND expires_at <= ?",
                (to_iso(clock.now()),),
            )
        )
        for batch in due:
            expire_batch(db, clock, batch)
    return len(due)


def queue_reminders(db: sqlite_utils.Database, clock) -> int:
    """Remind residents after each of `parcel_reminder_days` (from the oldest waiting parcel)."""
    now = clock.now()
    with write_transaction(db):
        settings = building_settings(db)
        days = reminder_days(settings)
        due = list(
            db.query(
                "SELECT b.*, u.number AS unit_number FROM parcel_batches b"
                " JOIN units u ON u.id = b.unit_id"
                " WHERE b.status = 'open' AND b.next_reminder_at <= ?",
                (to_iso(now),),
            )
        )
        for batch in due:
            oldest = one(
                db,
                "SELECT MIN(received_at) AS at FROM parcels WHERE batch_id = ? AND status = 'waiting'",
                (batch["id"],),
            )["at"]
            if oldest is None:
                continue
            waited = now - parse_utc(oldest)
            # Catch up without spamming: one reminder now, counting every step passed.
            passed = sum(1 for d in days if waited >= timedelta(days=d))
            following = [d for d in days[passed:]]
            db.execute(
                "UPDATE parcel_batches SET reminders_sent = ?, next_reminder_at = ? WHERE id = ?",
                (
                    max(passed, batch["reminders_sent"] + 1),
                    to_iso(parse_utc(oldest) + timedelta(days=following[0])) if following else None,
                    batch["id"],
                ),
            )
            queue_notices(db, clock, batch, kind="parcel.reminder")
            audit.record(
                db,
                clock,
                actor="system",
                action="parcel.reminder",
                target=f"parcel_batch:{batch['id']}",
                detail={"reminder": passed},
            )
    return len(due)


def run_jobs(db: sqlite_utils.Database, clock, secret_key: str, email_url: str | None) -> dict:
    """Everything parcels do on their own, for the console's background thread."""
    return {
        "expired": expire_codes(db, clock),
        "reminders": queue_reminders(db, clock),
        "sent": deliver_notices(db, clock, secret_key, email_url),
    }
