"""Messages to residents through apprise (email, SMS gateways, WeCom, DingTalk).

Queued in the same transaction as the event that causes them, on the resident's
first consented channel, then sent by `deliver_due` (the console runs it on a
background thread). Falling back to the resident's next channel, retries with
backoff, cancelling for a resident who moved out: shared/delivery.py, the one
state machine for these and parcel notices. A message that keeps failing is
marked failed and shown to staff (/residents/messages).
"""

from __future__ import annotations

import apprise
import sqlite_utils

from shared import audit, delivery
from shared.clock import to_iso
from shared.db import write_transaction
from shared.delivery import MAX_ATTEMPTS, RETRY_DELAYS  # noqa: F401 - their old home

DELIVER_BATCH = 20


def enqueue_for_resident(
    db: sqlite_utils.Database,
    clock,
    resident: dict,
    *,
    kind: str,
    subject: str,
    body: str,
    related: str,
) -> int | None:
    """Queue a message on the resident's first channel; None if they have none (or
    moved out). Call inside the transaction of the event it tells about."""
    channel = delivery.first_channel(db, resident)
    if channel is None:
        return None
    target = delivery.channel_columns(channel)
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO notifications (kind, channel, recipient, resident_id, channel_id, subject,"
        " body, related, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, target["channel"], target["recipient"], resident["id"], target["channel_id"],
         subject, body, related, now, now),
    )  # fmt: skip
    return cursor.lastrowid


def _sender(email_url: str | None):
    def send(row: dict, target: dict) -> None:
        sender = apprise.Apprise()
        if not sender.add(delivery.apprise_url(target, email_url)):
            raise delivery.BadAddress()  # apprise cannot read the URL: the address is wrong
        if not sender.notify(title=row["subject"], body=row["body"]):
            raise delivery.Refused()

    return send


def deliver_due(
    db: sqlite_utils.Database, clock, email_url: str | None, limit: int = DELIVER_BATCH
) -> int:
    """Send what is due; returns how many were sent. Network I/O is outside transactions."""
    return delivery.deliver(db, clock, delivery.NOTIFICATION, _sender(email_url), limit=limit)


def retry(db: sqlite_utils.Database, clock, notification_id: int, *, staff_id: int) -> None:
    """Staff asked to try a failed message again now (audited)."""
    with write_transaction(db):
        delivery.retry(db, clock, delivery.NOTIFICATION, notification_id)
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="notification.retry",
            target=f"notification:{notification_id}",
        )


def failed(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM notifications WHERE status = 'failed' ORDER BY id DESC"))
