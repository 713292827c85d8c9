"""The ticket's words, limits and rules: statuses, urgencies, the workflow's
TRANSITIONS, the errors, text and time checks, the SLA rule and the trail row
(ticket_updates) every change writes."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import building, terms
from shared.clock import parse_utc, to_iso
from shared.db import one
from shared.errors import InvalidRequest, LobbyDeskError, NotFound
from shared.rate_limit import RateLimited
from shared.text import refusal_message, refused_character

STATUSES = ("new", "assigned", "in_progress", "resolved", "closed")
OPEN_STATUSES = ("new", "assigned", "in_progress")
URGENCIES = ("normal", "urgent", "emergency")
KINDS = ("repair", "complaint")
SOURCES = ("kiosk", "desk")
RATED_VIA = ("kiosk", "link", "desk")
MAX_DESCRIPTION = 500
MAX_NOTE = 500
MAX_COMMENT = 200
MAX_SHORT_TEXT = 80
MAX_PEOPLE = 200
MAX_PHOTO_BYTES = 2_000_000
MAX_PHOTO_SIDE = 1600
# A kiosk camera's photo is at most 12 megapixels (4000 × 3000); a bigger picture (or a
# decompression bomb) is refused from its header, never decoded. A 16 MP PNG of a few
# KB cost 2 s of CPU to decode; the decoding runs in the console's image pool.
MAX_PHOTO_PIXELS = 12_000_000
# Palette and black-and-white pictures compress to almost nothing: a few KB can
# unpack to a huge image, and no phone takes photos like that.
MAX_PALETTE_PIXELS = 4_000_000
PALETTE_MODES = ("1", "P")
PHOTO_FOLDER = ("photos", "tickets")
PHOTO_FORMATS = ("JPEG", "PNG")  # only these decoders ever see the bytes
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

TICKET_QR = "lobbydesk.ticket"  # a purpose salt, not a secret
TICKET_RATING = "lobbydesk.ticket-rating"  # a purpose salt, not a secret
QR_VALID_FOR = timedelta(days=365)
RATING_LINK_VALID_FOR = timedelta(days=30)
LOOKUP_MISS_LIMIT = 5  # number + unit look-ups that find nothing, per kiosk …
LOOKUP_WINDOW = timedelta(minutes=10)  # … within this window: then 429 until the oldest ages out
LOOKUP_MISSED = "ticket.lookup_missed"
# Times people and kiosks give (created_at, incident_at) lie in this window; the
# latest is the console's now + TIME_SLACK (a kiosk's clock may run a little ahead).
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
TIME_SLACK = timedelta(days=1)

# status → where staff may move it; "reopen" goes back to assigned (or new).
TRANSITIONS = {
    "new": ("assigned", "in_progress", "resolved", "closed"),
    "assigned": ("in_progress", "resolved", "closed"),
    "in_progress": ("resolved", "closed"),
    "resolved": ("closed", "reopen"),
    "closed": ("reopen",),
}
# The words live in shared.terms (one source for pages, dashboard, PDF and CSV).
STATUS_LABELS = terms.pairs("ticket_status")
URGENCY_LABELS = terms.pairs("urgency")
KIND_LABELS = terms.pairs("ticket_kind")
TICKET_NUMBER = re.compile(r"[0-9]{1,12}")


# --- errors ------------------------------------------------------------------------------


class TicketNotFound(NotFound):
    """没有找到这张报修单，请核对单号和房号 · No ticket matches; check the number and the unit."""

    code = "ticket_not_found"
    http_status = 404


class TransitionRefused(LobbyDeskError):
    """这一步现在不能做，请刷新查看当前状态 · This step is not possible now; reload to see the ticket's state."""

    code = "ticket_transition"
    http_status = 409


class NotResolved(LobbyDeskError):
    """报修单解决后才能评价 · You can rate a ticket once it is resolved."""

    code = "ticket_not_resolved"
    http_status = 409


class AlreadyRated(LobbyDeskError):
    """这张报修单已经评价过了，谢谢 · This ticket has already been rated. Thank you."""

    code = "ticket_already_rated"
    http_status = 409


class PhotoRejected(LobbyDeskError):
    """照片无法使用，请重新拍摄 JPEG 或 PNG 照片 · The photo cannot be used; take a JPEG or PNG photo again."""

    code = "photo_rejected"
    http_status = 422


class RatingNeedsQr(InvalidRequest):
    """请扫描报修单二维码评价 · Scan the ticket's QR code to rate it (the number and unit alone cannot rate a ticket)."""

    code = "rating_needs_qr"
    http_status = 400


class LookupThrottled(RateLimited):
    """Too many look-ups by number + unit found nothing at this kiosk."""

    code = "too_many_attempts"

    def __init__(self, retry_after: float):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            retry_after,
            f"查询未找到的次数太多，请 {minutes} 分钟后再试，或扫描报修单二维码、呼叫前台 · "
            f"Too many look-ups found no ticket: try again in {terms.plural('minutes', minutes, 'en')}"
            ", scan the ticket's QR code, or call reception.",
        )


class RatingLinkOutdated(LobbyDeskError):
    """报修单已重新处理，这个评价链接已失效；解决后会发送新链接 · This ticket was reopened, so this link no longer works; a new one comes when it is resolved."""

    code = "rating_link_outdated"
    http_status = 410


# --- small helpers --------------------------------------------------------------------


def _bi(pair: tuple[str, str]) -> str:
    return f"{pair[0]} · {pair[1]}"


def status_label(status: str) -> str:
    return _bi(STATUS_LABELS.get(status, (status, status)))


def urgency_label(urgency: str) -> str:
    return _bi(URGENCY_LABELS.get(urgency, (urgency, urgency)))


def kind_label(kind: str) -> str:
    return _bi(KIND_LABELS.get(kind, (kind, kind)))


# The step after each status on the ticket page (the one primary button there).
_NEXT_AFTER = {"assigned": "in_progress", "in_progress": "resolved", "resolved": "closed"}


def is_triaged(ticket: dict, updates=()) -> bool:
    """Staff sorted it: a desk ticket as it was typed in, a kiosk one once triaged on
    its page (the resident's own category is a guess until then)."""
    return ticket.get("source") == "desk" or any(u.get("kind") == "triage" for u in updates)


def next_action(ticket: dict, updates=()) -> str | None:
    """What reception should do next with the ticket: "triage", "assign", or the
    status to move it to ("in_progress", "resolved", "closed"); None once closed.

    `updates` is the ticket's timeline (to tell whether a new ticket was triaged)."""
    status = ticket.get("status")
    if status == "new":
        return "assign" if is_triaged(ticket, updates) else "triage"
    return _NEXT_AFTER.get(status)


def sla_minutes(settings: dict, urgency: str) -> int:
    table = settings.get("ticket_sla_minutes") or {}
    defaults = building.SETTING_DEFAULTS["ticket_sla_minutes"]
    value = table.get(urgency, defaults.get(urgency, defaults["normal"]))
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = defaults.get(urgency, defaults["normal"])
    return max(1, minutes)


def is_overdue(ticket: dict, now: datetime) -> bool:
    due = ticket.get("sla_due_at")
    return ticket.get("status") in OPEN_STATUSES and bool(due) and parse_utc(due) < now


def clean_text(value, field: str, limit: int, *, multiline: bool = True) -> str | None:
    """Free text from a person: a string, at most `limit` characters, no control
    characters except newlines (CR LF becomes LF); empty becomes None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be text")
    text = value.replace("\r\n", "\n")
    refused = refused_character(text, "\n" if multiline else "")
    if refused is not None:
        raise InvalidRequest(f"{field}: {refusal_message(*refused)}")
    text = text.strip()
    if len(text) > limit:
        raise InvalidRequest(
            f"{field}: 最多 {limit} 个字 · at most {limit} characters (got {len(text)})"
        )
    return text or None


def _in_window(moment: datetime, field: str, now: datetime | None) -> str:
    """The moment in UTC (stored form) if it lies between EARLIEST_TIME and now +
    TIME_SLACK (no upper bound without `now`); a clear InvalidRequest otherwise."""
    latest = now + TIME_SLACK if now is not None else None
    message = (
        f"{field}: 时间须在 2000-01-01 到明天之间 · must be a time between 2000-01-01 and tomorrow"
    )
    try:
        utc = moment.astimezone(UTC)  # years 1 and 9999 with an offset do not fit: OverflowError
    except (OverflowError, ValueError) as error:
        raise InvalidRequest(message) from error
    if utc < EARLIEST_TIME or (latest is not None and utc > latest):
        raise InvalidRequest(message)
    return to_iso(utc)


def clean_time(value, field: str, timezone: str, now: datetime) -> str | None:
    """An ISO time with a zone, or a zone-less one (a datetime-local form field) read
    as the building's wall clock, within the sane window; stored in UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidRequest(f"{field} must be a date and time")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidRequest(f"{field}: 时间格式不对 · not a date and time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return _in_window(moment, field, now)


def building_settings(db) -> dict:
    return building.current(db)["settings"]


def contacts(settings: dict) -> list[dict]:
    """The departments tickets can be assigned to."""
    return [
        c for c in settings.get("ticket_contacts") or [] if isinstance(c, dict) and c.get("key")
    ]


def assignee_label(db: sqlite_utils.Database, assigned_to: str | None) -> str:
    """Whom a ticket is assigned to: "dept:maintenance" → "工程维修部 · Maintenance"."""
    if not assigned_to:
        return ""
    kind, _colon, ref = assigned_to.partition(":")
    if kind == "dept":
        for contact in contacts(building_settings(db)):
            if contact["key"] == ref:
                return f"{contact.get('name_zh', ref)} · {contact.get('name_en', ref)}"
        return ref
    if kind == "staff" and ref.isdigit():
        row = one(db, "SELECT display_name FROM staff WHERE id = ?", (int(ref),))
        if row:
            return row["display_name"]
    return assigned_to


def add_update(
    db,
    clock,
    ticket_id: int,
    *,
    kind: str,
    text: str,
    staff_id: int | None = None,
    resident_visible: bool = False,
    status_from: str | None = None,
    status_to: str | None = None,
) -> int:
    """One row on the ticket's trail (ticket_updates): every change writes one, in the
    caller's transaction, so the trail and the ticket never disagree."""
    cursor = db.execute(
        "INSERT INTO ticket_updates (ticket_id, at, staff_id, resident_visible, text, kind,"
        " status_from, status_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            to_iso(clock.now()),
            staff_id,
            int(resident_visible),
            text,
            kind,
            status_from,
            status_to,
        ),
    )
    return cursor.lastrowid
