"""Delivering a message to a resident over their channels, in one place for both
message tables: `notifications` (visitors, tickets) and `parcel_notices` (pickup codes).

A message is for one resident and sits on one of their consented channels
(`channel_id`; `channel` and `recipient` mirror it for older readers). Its states:

    pending ─ sent ──────────────────────────────▶ sent
    pending ─ failed, the resident has a next channel ─▶ pending on that channel, due now
    pending ─ failed on the last channel ────────▶ pending on the first channel, one
              round more, due after RETRY_DELAYS; after MAX_ATTEMPTS rounds ▶ failed
    pending ─ resident moved out or erased ──────▶ cancelled, with the reason
    failed  ─ staff retry ───────────────────────▶ pending on the first channel, round 0

`attempts` counts the rounds that failed on every channel. Each try is a row of
notification_attempts: the channel and the error text, never the message (it may
hold a pickup code). `notifications` has no 'cancelled' status (its CHECK predates
this), so a cancelled notification is 'failed' with the reason as last_error, as
residents.move_out writes it; `state()` reads both the same way.

There is no "in flight" state: a crash between a send and its record leaves the
message pending, so it is sent again. A duplicate beats a lost pickup code.

A message with no resident (a department's work order, a message queued before the
roster existed) goes to its stored recipient as before, as a single channel.
Network I/O happens outside write transactions; each outcome is one transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import sqlite_utils

from shared import residents, terms
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import NotFound, StaleState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # rounds through all of a resident's channels
RETRY_DELAYS = (30, 120, 600, 1800, 3600)  # seconds after round 1, 2, …
REFUSED = "the message service refused or could not be reached"
# What a failed try stores (and staff read through REASON_LABELS): a cause in words,
# never an exception's name or a server's text. The detail goes to the log only.
NO_MAIL_SERVER = "no mail server set up"  # configuration: LOBBYDESK_NOTIFY_EMAIL_URL
BAD_ADDRESS = "the address cannot be used"  # the resident's channel: fix it, then retry
SEND_FAILED = "sending failed"  # anything else: transient, tried again on its own
MOVED_OUT = "moved out"  # the reason residents.move_out writes
ERASED = "erased"
NO_CHANNEL = "no consented channel"
NOTHING_LEFT = "nothing left to collect"
CANCEL_REASONS = (MOVED_OUT, ERASED)
REASON_LABELS = {
    MOVED_OUT: "住户已迁出 · The resident moved out",
    ERASED: "住户资料已删除 · The resident's data was erased",
    NO_CHANNEL: "没有可用的通知渠道 · No consented contact channel",
    NOTHING_LEFT: "快递已取走或取件码已过期 · Parcels collected or the code expired",
    REFUSED: "对方服务拒收或无法连接 · The message service refused or could not be reached",
    NO_MAIL_SERVER: "未发送：未配置邮件服务器 · Not sent: no mail server set up",
    BAD_ADDRESS: "地址无法使用，请核对联系方式 · The address cannot be used: check the contact details",
    SEND_FAILED: "发送失败，将自动重试 · Sending failed; it is tried again on its own",
}
# Kinds of failure, for what staff can do about them: "config" (an administrator sets
# something; Retry cannot help), "address" (fix the resident's channel, then Retry),
# "transient" (the console tries again; Retry sends now), "cancelled" (nothing to do).
FAILURE_KINDS = {
    NO_MAIL_SERVER: "config",
    BAD_ADDRESS: "address",
    NO_CHANNEL: "address",
    REFUSED: "transient",
    SEND_FAILED: "transient",
    MOVED_OUT: "cancelled",
    ERASED: "cancelled",
    NOTHING_LEFT: "cancelled",
}
# Rows stored before the causes had words: their text as it was written then.
_LEGACY_NO_MAIL_SERVER = "no mail server configured"
KIND_LABELS = {
    "visitor.arrived": "访客到达 · Visitor arrived",
    "ticket.status": "报修进展 · Ticket status",
    "ticket.update": "报修更新 · Ticket update",
    "ticket.assigned": "派工单（部门）· Work order (department)",
    "parcel.waiting": "快递待取 · Parcel waiting",
    "parcel.reminder": "快递提醒 · Parcel reminder",
    "resident.link": "住户页链接 · Resident page link",
}
STATE_LABELS = terms.labels("message_state")


@dataclass(frozen=True)
class Source:
    """One message table: its name in notification_attempts and how it says cancelled."""

    name: str
    table: str
    cancelled_status: str


NOTIFICATION = Source("notification", "notifications", "failed")
PARCEL_NOTICE = Source("parcel_notice", "parcel_notices", "cancelled")
SOURCES = {source.name: source for source in (NOTIFICATION, PARCEL_NOTICE)}


class Refused(Exception):
    """A sender's answer: the service did not take the message."""


class BadAddress(Exception):
    """A sender's answer: the channel's address is not one the service can use."""


class NotConfigured(Exception):
    """The console lacks a setting this message needs (the mail server)."""


class Cancelled(Exception):
    """A sender's answer: this message must not be sent any more (the reason)."""


# --- channels -----------------------------------------------------------------------------


def first_channel(db: sqlite_utils.Database, resident: dict) -> dict | None:
    """Where a new message to this resident starts; None if they get no messages."""
    if resident.get("moved_out_on") or resident.get("erased_at"):
        return None
    channels = residents.channels_of(db, resident["id"])
    return channels[0] if channels else None


def channel_columns(channel: dict) -> dict:
    """What a message row stores for the channel it is on."""
    plain_email = channel["kind"] == "email" and "://" not in channel["address"]
    return {
        "channel_id": channel["id"],
        "channel": "email" if plain_email else "apprise",
        "recipient": channel["address"],
    }


def apprise_url(target: dict, email_url: str | None) -> str:
    """A plain e-mail address goes through the console's mail server; a URL as it is."""
    if "://" in target["address"]:
        return target["address"]
    if not email_url:
        raise NotConfigured("no mail server: set LOBBYDESK_NOTIFY_EMAIL_URL")
    separator = "&" if "?" in email_url else "?"
    return f"{email_url}{separator}to={quote(target['address'])}"


def _hint(text: str) -> str:
    return "•••" if len(text) <= 4 else text[:2] + "•••"


def _mask_email(address: str) -> str:
    local, at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}" if at else _hint(address)


def mask_address(address: str | None) -> str:
    """An address staff may see: the e-mail's domain, a URL's service and host; never
    a whole local part, credential or token (a bot's key is often its path or host)."""
    address = str(address or "")
    if "://" not in address:
        return _mask_email(address) if address else ""
    try:
        parts = urlsplit(address)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return address.split("://", 1)[0] + "://•••"
    host = parts.hostname or ""
    if not ("." in host or host == "localhost"):
        host = _hint(host)  # wecombot://<key>, dingtalk://<token>: the host is the secret
    user = "•••@" if parts.username or parts.password else ""
    path = "/".join(_hint(part) if part else "" for part in parts.path.split("/"))
    query = "&".join(
        f"{key}={_mask_email(value) if '@' in value else _hint(value)}"
        for key, value in parse_qsl(parts.query)
    )
    return f"{parts.scheme}://{user}{host}{port}{path}" + (f"?{query}" if query else "")


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def _error_text(failure: Exception) -> str:
    """What is kept of a failure: its cause in words (REASON_LABELS). The detail, any
    URL in it masked (a mail server URL carries its password, a webhook its token),
    goes to the log for whoever runs the console."""
    if isinstance(failure, NotConfigured):
        return NO_MAIL_SERVER
    if isinstance(failure, BadAddress):
        return BAD_ADDRESS
    if isinstance(failure, Refused):
        return REFUSED
    detail = _URL.sub(lambda m: mask_address(m.group(0)), f"{type(failure).__name__}: {failure}")
    log.warning("a message could not be sent: %s", detail[:300])
    return SEND_FAILED


def failure_kind(last_error: str | None) -> str | None:
    """config, address, transient or cancelled (FAILURE_KINDS) for a stored error; None
    when there is none. Unknown text (older rows) is transient."""
    if not last_error:
        return None
    if _LEGACY_NO_MAIL_SERVER in last_error:
        return "config"
    return FAILURE_KINDS.get(last_error, "transient")


def reason_text(last_error: str | None) -> str:
    """A stored error as staff read it, in both languages; never an exception's name."""
    if not last_error:
        return ""
    if last_error in REASON_LABELS:
        return REASON_LABELS[last_error]
    if failure_kind(last_error) == "config":
        return REASON_LABELS[NO_MAIL_SERVER]
    return REASON_LABELS[SEND_FAILED]


# --- the state machine ----------------------------------------------------------------------


def state(status: str, last_error: str | None) -> str:
    """pending, sent, failed or cancelled, from either table's columns."""
    if status == "failed" and last_error in CANCEL_REASONS:
        return "cancelled"
    return status


def _set(db, source: Source, message_id: int, columns: dict, *, only_pending=True) -> int:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    guard = " AND status = 'pending'" if only_pending else ""
    return db.execute(
        f"UPDATE {source.table} SET {assignments} WHERE id = ?{guard}",  # noqa: S608 - fixed names
        (*columns.values(), message_id),
    ).rowcount


def _close(db, source: Source, row: dict, status: str, reason: str) -> None:
    with write_transaction(db):
        _set(db, source, row["id"], {"status": status, "last_error": reason})
    log.info("%s %s not sent: %s", source.name, row["id"], reason)


def _resolve(db, source: Source, row: dict) -> dict | None:
    """The channel to try now, or None when the message was closed instead."""
    if row["resident_id"] is None:
        kind = "email" if row["channel"] == "email" else residents.channel_kind_of(row["recipient"])
        return {"channel_id": None, "kind": kind, "address": row["recipient"]}
    resident = one(
        db, "SELECT moved_out_on, erased_at FROM residents WHERE id = ?", (row["resident_id"],)
    )
    if resident is None or resident["erased_at"] or resident["moved_out_on"]:
        reason = MOVED_OUT if resident and not resident["erased_at"] else ERASED
        _close(db, source, row, source.cancelled_status, reason)
        return None
    channels = residents.channels_of(db, row["resident_id"])
    if not channels:
        _close(db, source, row, "failed", NO_CHANNEL)  # staff add a channel and retry
        return None
    # A withdrawn channel (the resident changed their details): their first one now.
    channel = next((c for c in channels if c["id"] == row["channel_id"]), channels[0])
    if channel["id"] != row["channel_id"] or channel["address"] != row["recipient"]:
        with write_transaction(db):
            _set(db, source, row["id"], channel_columns(channel))
    return {"channel_id": channel["id"], "kind": channel["kind"], "address": channel["address"]}


def _next_channel(db, row: dict, target: dict) -> dict | None:
    if row["resident_id"] is None:
        return None
    channels = residents.channels_of(db, row["resident_id"])
    ids = [c["id"] for c in channels]
    if target["channel_id"] not in ids:
        return None
    position = ids.index(target["channel_id"])
    return channels[position + 1] if position + 1 < len(channels) else None


def _first_columns(db, row: dict) -> dict:
    if row["resident_id"] is None:
        return {}
    channels = residents.channels_of(db, row["resident_id"])
    return channel_columns(channels[0]) if channels else {}


def _record(db, clock, source: Source, row: dict, target: dict, error: str | None):
    """Store how a try went and move the message on; returns the message again when
    it moved to the resident's next channel (due now), else None."""
    now = clock.now()
    with write_transaction(db):
        db.execute(
            "INSERT INTO notification_attempts (source, message_id, channel_id, channel_kind,"
            " outcome, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (source.name, row["id"], target["channel_id"], target["kind"],
             "sent" if error is None else "failed", error, to_iso(now)),
        )  # fmt: skip
        if error is None:
            columns = {"status": "sent", "sent_at": to_iso(now), "last_error": None}
            _set(db, source, row["id"], columns, only_pending=False)  # it did go out
            return None
        following = _next_channel(db, row, target)
        moved = False
        if following is not None:
            columns = {**channel_columns(following), "last_error": error}
            moved = bool(_set(db, source, row["id"], {**columns, "next_attempt_at": to_iso(now)}))
        else:
            rounds = row["attempts"] + 1
            delay = RETRY_DELAYS[min(rounds - 1, len(RETRY_DELAYS) - 1)]
            columns = {
                **_first_columns(db, row),
                "attempts": rounds,
                "last_error": error,
                "next_attempt_at": to_iso(now + timedelta(seconds=delay)),
                "status": "failed" if rounds >= MAX_ATTEMPTS else "pending",
            }
            _set(db, source, row["id"], columns)
    # The id, channel and error only: the message (maybe with a pickup code) never.
    log.warning("%s %s failed on %s: %s", source.name, row["id"], target["kind"], error)
    if not moved:
        return None
    return one(db, f"SELECT * FROM {source.table} WHERE id = ?", (row["id"],))  # noqa: S608


def deliver(db: sqlite_utils.Database, clock, source: Source, send, *, limit: int) -> int:
    """Try what is due; returns how many were sent. `send(row, target)` does the network
    I/O (outside any transaction) and raises Refused, Cancelled or any error."""
    due = list(
        db.query(
            f"SELECT * FROM {source.table} WHERE status = 'pending'"  # noqa: S608
            " AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (to_iso(clock.now()), limit),
        )
    )
    sent = 0
    for row in due:
        while row is not None:  # bounded: it only moves on to a later channel
            target = _resolve(db, source, row)
            if target is None:
                break
            try:
                send(row, target)
                error = None
            except Cancelled as reason:
                _close(db, source, row, source.cancelled_status, str(reason))
                break
            except Exception as failure:  # noqa: BLE001 - any plugin failure is a failed try
                error = _error_text(failure)
            sent += error is None
            row = _record(db, clock, source, row, target, error)
    return sent


def retry(db: sqlite_utils.Database, clock, source: Source, message_id: int) -> None:
    """Staff ask for a failed (or waiting) message to go now, from the resident's first
    channel with fresh rounds. Call inside a write transaction (the caller audits)."""
    row = one(db, f"SELECT * FROM {source.table} WHERE id = ?", (message_id,))  # noqa: S608
    if row is None:
        raise NotFound(f"没有这条消息 · No message {message_id}.")
    if state(row["status"], row["last_error"]) not in ("pending", "failed"):
        raise StaleState("这条消息已发送或已取消 · This message was already sent or cancelled.")
    columns = {}
    if row["resident_id"] is not None:
        resident = one(db, "SELECT * FROM residents WHERE id = ?", (row["resident_id"],))
        if resident is None or resident["moved_out_on"] or resident["erased_at"]:
            raise StaleState("住户已迁出，不再发送 · The resident has moved out: nothing is sent.")
        channel = first_channel(db, resident)
        if channel is None:
            raise StaleState(
                "住户没有可用的通知渠道，请先添加 · The resident has no consented channel: add one first."
            )
        columns = channel_columns(channel)
    now = to_iso(clock.now())
    columns.update(status="pending", attempts=0, next_attempt_at=now)
    _set(db, source, message_id, columns, only_pending=False)


def cancel_for_resident(db: sqlite_utils.Database, resident_id: int, reason: str) -> int:
    """Nothing more goes to this resident. Call inside a write transaction."""
    closed = 0
    for source in SOURCES.values():
        closed += db.execute(
            f"UPDATE {source.table} SET status = ?, last_error = ?"  # noqa: S608
            " WHERE resident_id = ? AND status = 'pending'",
            (source.cancelled_status, reason, resident_id),
        ).rowcount
    return closed


# --- reading: each message with its delivery, for staff ---------------------------------------

_STATE_SQL = (
    "CASE WHEN m.status = 'failed' AND m.last_error IN"
    f" ({', '.join(repr(reason) for reason in CANCEL_REASONS)}) THEN 'cancelled' ELSE m.status END"
)
_COLUMNS = (
    "m.id, m.kind, m.resident_id, m.channel_id, m.channel, m.recipient, m.status, m.attempts,"
    f" m.next_attempt_at, m.last_error, m.created_at, m.sent_at, {_STATE_SQL} AS state,"
    " r.name AS resident_name, r.moved_out_on, r.erased_at, c.kind AS channel_kind"
)
_FROM = {
    # a work order to a department has no resident and no unit here
    "notification": "FROM notifications m LEFT JOIN residents r ON r.id = m.resident_id"
    " LEFT JOIN units u ON u.id = r.unit_id",
    "parcel_notice": "FROM parcel_notices m JOIN parcel_batches b ON b.id = m.batch_id"
    " JOIN units u ON u.id = b.unit_id LEFT JOIN residents r ON r.id = m.resident_id",
}


def messages(
    db: sqlite_utils.Database,
    *,
    unit_id: int | None = None,
    resident_id: int | None = None,
    state: str | None = None,
    limit: int = 200,
) -> list[dict]:
    """Messages of both tables, newest first, each with its source and display state."""
    where, params = [], []
    for condition, value in (
        ("u.id = ?", unit_id),
        ("m.resident_id = ?", resident_id),
        (f"{_STATE_SQL} = ?", state),
    ):
        if value is not None:
            where.append(condition)
            params.append(value)
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    rows = []
    for name, from_sql in _FROM.items():
        # Each branch takes its newest `limit` by id (its index), then the two are merged.
        rows += db.query(
            f"SELECT '{name}' AS source, {_COLUMNS}, u.id AS unit_id, u.number AS unit_number"
            f" {from_sql} LEFT JOIN resident_channels c ON c.id = m.channel_id{where_sql}"
            " ORDER BY m.id DESC LIMIT ?",
            (*params, limit),
        )
    rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
    return rows[:limit]


def attempts_of(db: sqlite_utils.Database, rows: list[dict]) -> dict[tuple, list[dict]]:
    """Every try of these messages, oldest first, keyed by (source, message id)."""
    found: dict[tuple, list[dict]] = {}
    for name in SOURCES:
        ids = [row["id"] for row in rows if row["source"] == name]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for attempt in db.query(
                "SELECT a.*, c.address FROM notification_attempts a"  # noqa: S608
                " LEFT JOIN resident_channels c ON c.id = a.channel_id"
                f" WHERE a.source = ? AND a.message_id IN ({marks}) ORDER BY a.id",
                (name, *chunk),
            ):
                found.setdefault((name, attempt["message_id"]), []).append(attempt)
    return found
