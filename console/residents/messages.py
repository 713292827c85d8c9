"""Messages to residents and how each delivery went: visitor and ticket messages and
parcel notices together, newest first, each with every try on every channel.

Addresses are masked (an e-mail's local part, a URL's credentials and tokens):
reception needs to see which channel failed, not a bot's secret key. A failed
message can be retried here (audited by shared.notifications / shared.parcels).
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for

from console.db import get_db
from console.residents import READ, bp
from console.security import role_required
from shared import building, delivery, notifications, parcels, residents, terms
from shared.clock import local_time
from shared.errors import LobbyDeskError

LIMIT = 200
# An attempt's outcome in the words of the message's own state (shared/terms.py).
ATTEMPT_OUTCOMES = {outcome: terms.term("message_state", outcome) for outcome in ("sent", "failed")}


def _filters(values) -> dict:
    state = values.get("status", "")
    return {
        "unit_id": values.get("unit_id", type=int),
        "resident_id": values.get("resident_id", type=int),
        "state": state if state in delivery.STATE_LABELS else None,
    }


def _channel(kind: str | None, address: str | None) -> str:
    label = residents.CHANNEL_LABELS.get(kind or "", kind or "—")
    shown = delivery.mask_address(address)
    return f"{label} {shown}" if shown else label


def _reason(text: str | None) -> str:
    return delivery.reason_text(text)


def _attempt_view(attempt: dict, message: dict, timezone: str) -> dict:
    # An attempt of a message with no resident went to the message's own recipient.
    address = attempt["address"] if attempt["channel_id"] else None
    if address is None and message["resident_id"] is None:
        address = message["recipient"]
    return {
        "at_local": local_time(attempt["at"], timezone, "%m-%d %H:%M:%S"),
        "channel": _channel(attempt["channel_kind"], address),
        "outcome": attempt["outcome"],
        "outcome_text": ATTEMPT_OUTCOMES.get(attempt["outcome"], attempt["outcome"]),
        "error": _reason(attempt["error"]),
    }


def _message_view(row: dict, tries: list[dict], timezone: str) -> dict:
    kind = row["channel_kind"] or (
        "email" if row["channel"] == "email" else residents.channel_kind_of(row["recipient"] or "")
    )
    return {
        **row,
        "created_local": local_time(row["created_at"], timezone),
        "sent_local": local_time(row["sent_at"], timezone, "%m-%d %H:%M"),
        "next_local": local_time(row["next_attempt_at"], timezone, "%m-%d %H:%M"),
        "kind_text": delivery.KIND_LABELS.get(row["kind"], row["kind"]),
        "channel_text": _channel(kind, row["recipient"]) if row["recipient"] else "—",
        "state_text": delivery.STATE_LABELS[row["state"]],
        "reason": _reason(row["last_error"]),
        # No mail server: Retry cannot help; the page says once, above the rows, what to set.
        "failure": delivery.failure_kind(row["last_error"]),
        "attempts_shown": [_attempt_view(a, row, timezone) for a in tries],
        "retry_endpoint": "residents.retry_parcel_notice"
        if row["source"] == "parcel_notice"
        else "residents.retry_notification",
    }


@bp.get("/messages")
@role_required(*READ)
def messages():
    db = get_db()
    filters = _filters(request.args)
    timezone = building.current(db)["timezone"]
    rows = delivery.messages(db, **filters, limit=LIMIT)
    tries = delivery.attempts_of(db, rows)
    shown = [_message_view(r, tries.get((r["source"], r["id"]), []), timezone) for r in rows]
    unit = None
    if filters["unit_id"] is not None:
        unit = next(iter(db.query("SELECT * FROM units WHERE id = ?", (filters["unit_id"],))), None)
    resident = None
    if filters["resident_id"] is not None:
        resident = next(
            iter(db.query("SELECT * FROM residents WHERE id = ?", (filters["resident_id"],))), None
        )
    return render_template(
        "residents/messages.html",
        rows=shown,
        filters=filters,
        unit=unit,
        resident=resident,
        states=delivery.STATE_LABELS,
        limit_reached=len(rows) >= LIMIT,
        mail_server_missing=any(r["failure"] == "config" and r["state"] != "sent" for r in shown),
    )


def _back():
    kept = {k: v for k, v in _filters(request.form).items() if v is not None}
    if "state" in kept:
        kept["status"] = kept.pop("state")
    return redirect(url_for("residents.messages", **kept))


def _retry(action, message_id: int):
    try:
        action(
            get_db(), current_app.extensions["lobbydesk.clock"], message_id, staff_id=g.staff["id"]
        )
    except LobbyDeskError as error:
        flash(str(error), "error")
    else:
        flash("将立即重试 · The message will be sent again now.", "ok")
    return _back()


@bp.post("/messages/notifications/<int:message_id>/retry")
@role_required(*READ)
def retry_notification(message_id: int):
    return _retry(notifications.retry, message_id)


@bp.post("/messages/parcel-notices/<int:message_id>/retry")
@role_required(*READ)
def retry_parcel_notice(message_id: int):
    return _retry(parcels.retry_notice, message_id)
