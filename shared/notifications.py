"""Messages to residents through apprise (email, SMS gateways, WeCom, DingTalk).

Queued in the same transaction as the event that causes them, on the resident's
first consented channel, then sent by `deliver_due` (the console runs it on a
background thread). Falling back to the resident's next channel, retries with
backoff, cancelling for a resident who moved out: shared/delivery.py, the one
state machine for these and parcel notices. A message that keeps failing is
marked failed and shown to staff (/residents/messages). `send` and `retry_by_staff`
are the one way both kinds of message go out and are retried (shared/parcels/notices.py).
"""

from __future__ import annotations

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


def send(
    target: dict,
    email_url: str | None,
    *,
    title: str,
    text: str,
    html: str | None = None,
    image: tuple[str, bytes] | None = None,
) -> None:
    """One message to one channel through apprise. An e-mail gets the HTML body (and
    the PNG `image` inline, as (file name, bytes)) when there is one; SMS gateways,
    WeCom, DingTalk, Feishu and webhooks get the text (an image does not survive SMS).
    BadAddress when apprise cannot read the URL, Refused when the service says no."""
    import apprise  # heavy: only when something is sent

    url = delivery.apprise_url(target, email_url)
    rich = html is not None and target["kind"] == "email"
    if rich:
        url += ("&" if "?" in url else "?") + "inline=yes"
    sender = apprise.Apprise()
    if not sender.add(url):
        raise delivery.BadAddress()  # apprise cannot read the URL: the address is wrong
    if not rich:
        sent = sender.notify(title=title, body=text)
    else:
        attachments = None
        if image is not None:
            from apprise.attachment.memory import AttachMemory

            name, content = image
            attachments = apprise.AppriseAttachment()
            attachments.add(AttachMemory(content=content, name=name, mimetype="image/png"))
        sent = sender.notify(title=title, body=html, body_format="html", attach=attachments)
    if not sent:
        raise delivery.Refused()


def _sender(email_url: str | None):
    def send_row(row: dict, target: dict) -> None:
        send(target, email_url, title=row["subject"], text=row["body"])

    return send_row


def deliver_due(
    db: sqlite_utils.Database, clock, email_url: str | None, limit: int = DELIVER_BATCH
) -> int:
    """Send what is due; returns how many were sent. Network I/O is outside transactions."""
    return delivery.deliver(db, clock, delivery.NOTIFICATION, _sender(email_url), limit=limit)


def retry_by_staff(
    db: sqlite_utils.Database, clock, source, message_id: int, *, staff_id: int, action: str
) -> None:
    """Staff asked to try a failed message of `source` (a shared.delivery table) again
    now; audited as `action`."""
    with write_transaction(db):
        delivery.retry(db, clock, source, message_id)
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action=action,
            target=f"{source.name}:{message_id}",
        )


def retry(db: sqlite_utils.Database, clock, notification_id: int, *, staff_id: int) -> None:
    """Staff asked to try a failed message again now (audited)."""
    retry_by_staff(
        db, clock, delivery.NOTIFICATION, notification_id, staff_id=staff_id,
        action="notification.retry",
    )  # fmt: skip


def failed(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM notifications WHERE status = 'failed' ORDER BY id DESC"))
