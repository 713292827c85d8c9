"""The residents' messages about a batch: queued with the batch, rendered with the
code only when sent, delivered and retried as every message to residents is
(shared/delivery.py, shared/notifications.py)."""

from __future__ import annotations

import html

import sqlite_utils

from shared import building, delivery, notifications
from shared.clock import local_time, to_iso
from shared.db import one
from shared.parcels.batches import get_batch, waiting_in_batch
from shared.parcels.codes import pickup_token, qr_png, unseal_code
from shared.parcels.tracking import carrier_label, tracking_tail
from shared.terms import plural

NOTICE_BATCH = 20
QR_FILENAME = "pickup-qr.png"


def _recipient(db, resident: dict) -> dict | None:
    """The channel a new message to this resident starts on (shared.delivery's rule,
    the same as for visitor and ticket messages); None: they get no messages."""
    channel = delivery.first_channel(db, resident)
    return delivery.channel_columns(channel) if channel else None


def queue_notices(db, clock, batch: dict, *, kind: str) -> int:
    """One message per resident with a channel; a message not yet tried is reused,
    since it is rendered at send time and will list every parcel waiting."""
    now = to_iso(clock.now())
    queued = 0
    for resident in building.residents_of(db, batch["unit_id"]):
        target = _recipient(db, resident)
        if target is None:
            continue
        pending = one(
            db,
            "SELECT id FROM parcel_notices WHERE batch_id = ? AND resident_id = ? AND kind = ?"
            " AND status = 'pending' AND attempts = 0",
            (batch["id"], resident["id"], kind),
        )
        if pending is None:
            db.execute(
                "INSERT INTO parcel_notices (batch_id, resident_id, kind, channel, recipient,"
                " channel_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch["id"], resident["id"], kind, target["channel"], target["recipient"],
                 target["channel_id"], now, now),
            )  # fmt: skip
        queued += 1
    return queued


def render_notice(db, batch: dict, parcels: list[dict], code: str, *, kind: str) -> dict:
    """Subject (never the code: subjects end up in logs and previews), text and HTML bodies."""
    current = building.current(db)
    settings = current["settings"]
    until = local_time(batch["expires_at"], current["timezone"], "%Y-%m-%d")
    count = len(parcels)
    if kind == "parcel.reminder":
        subject = (
            f"快递待取提醒 · Reminder: {plural('parcels', count, 'en')} waiting — {current['name']}"
        )
        lead_zh, lead_en = "温馨提醒：", "Reminder: "
    else:
        subject = (
            f"您有快递待取 · {plural('parcels', count, 'en')} waiting for you — {current['name']}"
        )
        lead_zh, lead_en = "", ""
    where_zh, where_en = (
        ("请到货架自取", "take them from the shelf")
        if settings["parcel_self_service"]
        else ("请到大堂服务台领取", "collect them at the lobby desk")
    )
    # "1 parcel … is", "2 parcels … are": the catalogue's forms for a count (shared/terms.py)
    at_lobby_zh, at_lobby_en = (
        plural("parcels_at_lobby", count, language, unit=batch["unit_number"])
        for language in ("zh", "en")
    )
    lines = [
        f"{carrier_label(p['carrier'])} {tracking_tail(p['tracking_number'])}"
        + (f" · 货架 Shelf {p['shelf']}" if settings["parcel_self_service"] else "")
        for p in parcels
    ]
    text = (
        f"{lead_zh}您好！{at_lobby_zh}，{where_zh}。\n"
        f"取件码：{code}（请在大堂终端输入房号 {batch['unit_number']} 和取件码，或扫描二维码）\n"
        f"有效期至 {until}。\n\n"
        f"{lead_en}Hello! {at_lobby_en}; {where_en}.\n"
        f"Pickup code: {code} (enter unit {batch['unit_number']} and the code at the lobby kiosk, "
        f"or scan the QR code). Valid until {until}.\n\n" + "\n".join(lines) + "\n"
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body_html = (
        f"<p>{html.escape(lead_zh)}您好！{html.escape(at_lobby_zh)}，"
        f"{where_zh}。<br>{html.escape(lead_en)}Hello! {html.escape(at_lobby_en)}; {where_en}.</p>"
        f'<p style="font-size:20px">取件码：<b style="letter-spacing:3px">{code}</b>'
        " · Pickup code</p>"
        f"<p>在大堂终端扫描二维码，或输入房号和取件码。有效期至 {until}。<br>"
        f"Scan this QR code at the lobby kiosk, or enter your unit and the code. "
        f"Valid until {until}.</p>"
        f'<p><img src="cid:{QR_FILENAME}" alt="QR" width="240" height="240"></p>'
        f"<ul>{items}</ul>"
    )
    return {"subject": subject, "text": text, "html": body_html}


def _notice_sender(db, secret_key: str, email_url: str | None):
    def send(row: dict, target: dict) -> None:
        batch = get_batch(db, row["batch_id"])
        parcels = waiting_in_batch(db, row["batch_id"]) if batch else []
        if batch is None or batch["status"] != "open" or not parcels or not batch["code_sealed"]:
            raise delivery.Cancelled(delivery.NOTHING_LEFT)
        code = unseal_code(secret_key, batch["code_sealed"])
        message = render_notice(db, batch, parcels, code, kind=row["kind"])
        qr = qr_png(pickup_token(secret_key, batch))
        notifications.send(
            target,
            email_url,
            title=message["subject"],
            text=message["text"],
            html=message["html"],
            image=(QR_FILENAME, qr),
        )

    return send


def deliver_notices(
    db: sqlite_utils.Database, clock, secret_key: str, email_url: str | None, limit=NOTICE_BATCH
) -> int:
    """Send due parcel messages through shared.delivery (the resident's channels in
    order, retries, never to a resident who moved out); the code is rendered here, at
    send time, and is never stored in a message row, an attempt or a log."""
    send = _notice_sender(db, secret_key, email_url)
    return delivery.deliver(db, clock, delivery.PARCEL_NOTICE, send, limit=limit)


def retry_notice(db: sqlite_utils.Database, clock, notice_id: int, *, staff_id: int) -> None:
    notifications.retry_by_staff(
        db, clock, delivery.PARCEL_NOTICE, notice_id, staff_id=staff_id,
        action="parcel.notice_retry",
    )  # fmt: skip


def troubled_notices(db: sqlite_utils.Database) -> list[dict]:
    """Messages that failed or are being retried, for the console's list."""
    return list(
        db.query(
            "SELECT n.*, r.name AS resident_name, u.number AS unit_number FROM parcel_notices n"
            " JOIN residents r ON r.id = n.resident_id JOIN parcel_batches b ON b.id = n.batch_id"
            " JOIN units u ON u.id = b.unit_id"
            " WHERE n.status = 'failed' OR (n.status = 'pending' AND n.attempts > 0)"
            " ORDER BY n.id DESC LIMIT 100"
        )
    )
