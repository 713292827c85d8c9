"""Messages to residents through apprise (email, SMS gateways, WeCom, DingTalk).

Queued in the same transaction as the event that causes them, then sent by
`deliver_due` (the console runs it on a background thread) with retries and
backoff; a message that keeps failing is marked failed and shown to staff.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import quote

import apprise
import sqlite_utils

from shared.clock import to_iso
from shared.db import write_transaction

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
RETRY_DELAYS = (30, 120, 600, 1800, 3600)  # seconds after attempt 1, 2, …


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
    """Queue a message by the resident's preferred channel; None if they have none."""
    if resident.get("preferred_channel") == "apprise" and resident.get("notify_url"):
        channel, recipient = "apprise", resident["notify_url"]
    elif resident.get("email"):
        channel, recipient = "email", resident["email"]
    else:
        return None
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO notifications (kind, channel, recipient, subject, body, related,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, channel, recipient, subject, body, related, now, now),
    )
    return cursor.lastrowid


def apprise_url(row: dict, email_url: str | None) -> str:
    if row["channel"] == "apprise":
        return row["recipient"]
    if not email_url:
        raise RuntimeError("no mail server configured (LOBBYDESK_NOTIFY_EMAIL_URL)")
    separator = "&" if "?" in email_url else "?"
    return f"{email_url}{separator}to={quote(row['recipient'])}"


def _send(url: str, subject: str, body: str) -> bool:
    sender = apprise.Apprise()
    if not sender.add(url):
        return False
    return bool(sender.notify(title=subject, body=body))


def deliver_due(db: sqlite_utils.Database, clock, email_url: str | None, limit: int = 20) -> int:
    """Send what is due; returns how many were sent. Network I/O is outside transactions."""
    now = clock.now()
    due = list(
        db.query(
            "SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ?"
            " ORDER BY id LIMIT ?",
            (to_iso(now), limit),
        )
    )
    sent = 0
    for row in due:
        try:
            ok = _send(apprise_url(row, email_url), row["subject"], row["body"])
            error = None if ok else "the message service refused or could not be reached"
        except Exception as failure:  # noqa: BLE001 - any plugin failure is a failed attempt
            ok, error = False, f"{type(failure).__name__}: {failure}"[:300]
        with write_transaction(db):
            if ok:
                sent += 1
                db.execute(
                    "UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
                    " last_error = NULL WHERE id = ?",
                    (to_iso(clock.now()), row["id"]),
                )
            else:
                attempts = row["attempts"] + 1
                delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
                db.execute(
                    "UPDATE notifications SET attempts = ?, last_error = ?, next_attempt_at = ?,"
                    " status = ? WHERE id = ?",
                    (
                        attempts,
                        error,
                        to_iso(clock.now() + timedelta(seconds=delay)),
                        "failed" if attempts >= MAX_ATTEMPTS else "pending",
                        row["id"],
                    ),
                )
                log.warning("notification %s failed (attempt %s): %s", row["id"], attempts, error)
    return sent


def retry(db: sqlite_utils.Database, clock, notification_id: int) -> None:
    """Staff asked to try a failed message again now."""
    db.execute(
        "UPDATE notifications SET status = 'pending', next_attempt_at = ? WHERE id = ?"
        " AND status != 'sent'",
        (to_iso(clock.now()), notification_id),
    )


def failed(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM notifications WHERE status = 'failed' ORDER BY id DESC"))
