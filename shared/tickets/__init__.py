"""Repair requests (S5) and complaints (S6): one ticket, one follow-up trail.

A resident reports at the kiosk in taps (unit → category → common problem →
urgency → optional text and photo) or reception records it at the desk. The
SLA is the time to *resolve*, counted from `received_at` (the console's clock)
by urgency; a ticket still open past `sla_due_at` is overdue. Emergencies (S8)
raise an emergency escalation in the same transaction, so the live queue shows
them at once.

Workflow: new → assigned → in_progress → resolved → closed, with shortcuts and a
reopen (see TRANSITIONS). Every change is guarded by the status it expects, is
written to ticket_updates (the trail staff see; some updates are visible to the
resident) and to the audit log, and queues a bilingual message to the unit's
residents. A resolved ticket asks for a rating (1-5, reasons when ≤ 3) once per
resolution: at the kiosk, or through a signed link in the message.

Photos are decoded, opened and checked by Pillow, then re-encoded as a JPEG of
at most 1600 px a side with no metadata (GPS, camera …): the original bytes are
never stored (SECURITY.md 15). The API does that before its write transaction
(prepare_kiosk_report), so a photo never holds the database's write lock.

Looking a ticket up by number + unit is throttled per kiosk (ticket numbers are
sequential): each miss is audited, and after LOOKUP_MISS_LIMIT misses in
LOOKUP_WINDOW the kiosk gets 429 until the oldest ages out. Rating at the kiosk
needs the ticket's signed QR; the number + unit alone never rate a ticket.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import audit, building, kiosk_time, notifications, phones, signing, terms
from shared import ticket_catalog as catalog
from shared.clock import local_time, parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, NotFound, StaleState
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
_PALETTE_MODES = ("1", "P")
PHOTO_FOLDER = ("photos", "tickets")
_PHOTO_FORMATS = ("JPEG", "PNG")  # only these decoders ever see the bytes
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
_NUMBER = re.compile(r"[0-9]{1,12}")


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
            f"Too many look-ups found no ticket: try again in {minutes} minute"
            f"{'s' if minutes > 1 else ''}, scan the ticket's QR code, or call reception.",
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


def photo_folder(data_dir: str | Path) -> Path:
    """Where ticket photos live: DATA_DIR/photos/tickets/<ticket id>.jpg."""
    return Path(data_dir).joinpath(*PHOTO_FOLDER)


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


def _clean_time(value, field: str, timezone: str, now: datetime) -> str | None:
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


def _settings(db) -> dict:
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
        for contact in contacts(_settings(db)):
            if contact["key"] == ref:
                return f"{contact.get('name_zh', ref)} · {contact.get('name_en', ref)}"
        return ref
    if kind == "staff" and ref.isdigit():
        row = one(db, "SELECT display_name FROM staff WHERE id = ?", (int(ref),))
        if row:
            return row["display_name"]
    return assigned_to


# --- photos --------------------------------------------------------------------------------


def prepare_photo(encoded) -> bytes:
    """A base64 JPEG/PNG from the kiosk → a clean JPEG (≤ 1600 px, no metadata).

    Up to a second of work for a big photo: call it outside any write transaction.
    Only the header is read before the size checks; a JPEG is decoded straight at
    a reduced scale (draft), so a 16-megapixel photo decodes as about 4."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(encoded, str):
        raise PhotoRejected("photo must be base64 text · 照片格式不对")
    if len(encoded) > (MAX_PHOTO_BYTES * 4) // 3 + 8:
        raise PhotoRejected("照片太大（最大 2 MB）· The photo is too large (2 MB at most).")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise PhotoRejected("照片数据无效 · The photo data is not valid base64.") from error
    if len(raw) > MAX_PHOTO_BYTES:
        raise PhotoRejected("照片太大（最大 2 MB）· The photo is too large (2 MB at most).")
    if not raw:
        raise PhotoRejected()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=_PHOTO_FORMATS) as probe:
                if probe.format not in ("JPEG", "PNG"):
                    raise PhotoRejected()
                width, height = probe.size
                if not width or not height:
                    raise PhotoRejected()
                if width * height > MAX_PHOTO_PIXELS:
                    raise PhotoRejected(
                        f"照片像素太多（最多 {MAX_PHOTO_PIXELS // 10_000} 万像素）· The photo "
                        f"has too many pixels ({width} × {height}; at most "
                        f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels): take a smaller one."
                    )
                if probe.mode in _PALETTE_MODES and width * height > MAX_PALETTE_PIXELS:
                    raise PhotoRejected(
                        f"这张图片不像照片，尺寸也太大 · This picture ({width} × {height}, "
                        f"{'black and white' if probe.mode == '1' else 'a few colours'}) is not "
                        f"a photo and too large: take a photo with the camera."
                    )
                probe.verify()
            with Image.open(io.BytesIO(raw), formats=_PHOTO_FORMATS) as image:
                if image.format == "JPEG" and max(width, height) > MAX_PHOTO_SIDE:
                    # Decode at 1/2, 1/4 or 1/8 scale when that still covers the stored size.
                    scale = MAX_PHOTO_SIDE / max(width, height)
                    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
                image.load()
                image = ImageOps.exif_transpose(image)  # keep it upright, then drop the EXIF
                image = image.convert("RGB")
                image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
                # A fresh image holds pixels only: no EXIF, GPS, XMP, ICC or comments.
                clean = Image.new("RGB", image.size)
                clean.paste(image)
                out = io.BytesIO()
                clean.save(out, format="JPEG", quality=85, optimize=True)
    except PhotoRejected:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise PhotoRejected() from error
    return out.getvalue()


def _save_photo(photo_dir: str | Path, ticket_id: int, jpeg: bytes) -> str:
    folder = Path(photo_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{int(ticket_id)}.jpg"
    temporary = folder / f".{name}.tmp"
    with open(temporary, "wb") as file:
        file.write(jpeg)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, folder / name)
    return name


# --- creating ------------------------------------------------------------------------------

_KIOSK_FIELDS = {
    "unit",
    "category",
    "problem",
    "urgency",
    "description",
    "photo",
    "language",
    "created_at",
}


def validate_kiosk_body(body, now: datetime | None = None) -> dict:
    """POST /api/v1/tickets, checked field by field (the photo is checked later).
    created_at must be a time with a zone; a kiosk clock far off is flagged when the
    ticket is stored (shared/kiosk_time.py), never refused."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    unknown = set(body) - _KIOSK_FIELDS
    if unknown:
        raise InvalidRequest(f"unexpected fields: {', '.join(sorted(unknown))}")
    if not isinstance(body.get("unit"), str):
        raise InvalidRequest("unit must be the unit number as text")
    problem = catalog.problem(body.get("category"), body.get("problem"))
    urgency = body.get("urgency", "normal")
    if urgency not in URGENCIES:
        raise InvalidRequest(f"urgency must be one of {', '.join(URGENCIES)}")
    if problem.emergency:
        urgency = "emergency"
    language = body.get("language", "zh_CN")
    if language not in catalog.LANGUAGES:
        raise InvalidRequest("language must be zh_CN or en")
    created_at = body.get("created_at")
    if created_at is not None:
        kiosk_time.parse(created_at)  # its plausibility is flagged when stored, never refused
    photo = body.get("photo")
    if photo is not None and not isinstance(photo, str):
        raise PhotoRejected("photo must be base64 text · 照片格式不对")
    return {
        "unit": body["unit"],
        "category": body["category"],
        "problem": problem,
        "urgency": urgency,
        "description": clean_text(body.get("description"), "description", MAX_DESCRIPTION),
        "photo": photo or None,
        "language": language,
        "created_at": created_at,
    }


def _insert(db, clock, fields: dict) -> int:
    now = clock.now()
    settings = _settings(db)
    due = now + timedelta(minutes=sla_minutes(settings, fields["urgency"]))
    columns = {
        **fields,
        "status": "new",
        "received_at": to_iso(now),
        "created_at": fields.get("created_at") or to_iso(now),
        "sla_due_at": to_iso(due),
    }
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    cursor = db.execute(
        f"INSERT INTO tickets ({names}) VALUES ({marks})",  # noqa: S608 - fixed column names
        list(columns.values()),
    )
    return cursor.lastrowid


def _update(
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


def _raise_emergency(db, clock, ticket: dict, *, kiosk_id: int | None) -> int:
    """S8: an emergency escalation in the live queue, linked both ways to the ticket."""
    place = ticket["location"] or ticket.get("unit_number") or ""
    what = catalog.bilingual(f"{ticket['category']}.{ticket['problem']}")
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO escalations (kiosk_id, kind, language, screen, note, created_at, received_at,"
        " ticket_id) VALUES (?, 'emergency', ?, 'repair', ?, ?, ?, ?)",
        (
            kiosk_id,
            ticket["language"],
            f"报修单 Ticket {ticket['id']} · {place} · {what}",
            ticket["created_at"] or now,
            now,
            ticket["id"],
        ),
    )
    db.execute(
        "UPDATE tickets SET escalation_id = ? WHERE id = ?", (cursor.lastrowid, ticket["id"])
    )
    return cursor.lastrowid


def prepare_kiosk_report(body, now: datetime, run=None) -> bytes | None:
    """The slow part of a kiosk report, done before any write transaction: the body
    checked, then its photo (if any) decoded and re-encoded. Returns the clean JPEG
    for create_from_kiosk(photo_jpeg=…), or None without a photo. `run(work, arg)`
    runs the photo work elsewhere (the console's image pool, shared/image_work.py)."""
    fields = validate_kiosk_body(body, now)
    if not fields["photo"]:
        return None
    return (
        run(prepare_photo, fields["photo"]) if run is not None else prepare_photo(fields["photo"])
    )


def create_from_kiosk(
    db: sqlite_utils.Database,
    clock,
    *,
    kiosk_id: int | None,
    body,
    photo_dir: str | Path,
    photo_jpeg: bytes | None = None,
) -> dict:
    """A resident's report from the kiosk. Call inside the API's write transaction:
    nothing is stored unless every field (and the photo) passed. `photo_jpeg` is
    the body's photo already prepared (prepare_kiosk_report); without it the photo
    is decoded here, inside the caller's transaction."""
    fields = validate_kiosk_body(body, clock.now())
    sent = kiosk_time.judge(fields["created_at"], clock.now()) if fields["created_at"] else None
    unit = building.unit_by_number(db, fields["unit"])
    photo = None
    if fields["photo"]:
        photo = photo_jpeg if photo_jpeg is not None else prepare_photo(fields["photo"])
    problem = fields["problem"]
    category = catalog.category(fields["category"])
    with write_transaction(db):
        ticket_id = _insert(
            db,
            clock,
            {
                "kind": category.kind,
                "kiosk_id": kiosk_id,
                "unit_id": unit["id"],
                "location": unit["number"],
                "category": category.key,
                "problem": problem.key,
                "urgency": fields["urgency"],
                "description": fields["description"],
                "language": fields["language"],
                "source": "kiosk",
                "created_at": sent.stored if sent else None,
                "clock_doubtful": int(bool(sent and sent.doubtful)),
            },
        )
        _update(db, clock, ticket_id, kind="created", text="终端报修 · Reported at the kiosk")
        ticket = get(db, ticket_id)
        if ticket["urgency"] == "emergency":
            _raise_emergency(db, clock, ticket, kiosk_id=kiosk_id)
        if photo is not None:
            name = _save_photo(photo_dir, ticket_id, photo)
            db.execute("UPDATE tickets SET photo_path = ? WHERE id = ?", (name, ticket_id))
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="ticket.create",
            target=f"ticket:{ticket_id}",
            detail={"urgency": ticket["urgency"], "category": ticket["category"]},
        )
    settings = _settings(db)
    return {
        "id": ticket["id"],
        "number": ticket["number"],
        "status": ticket["status"],
        "urgency": ticket["urgency"],
        "category": ticket["category"],
        "problem": ticket["problem"],
        "received_at": ticket["received_at"],
        "sla_due_at": ticket["sla_due_at"],
        "expected_minutes": sla_minutes(settings, ticket["urgency"]),
        "emergency": ticket["urgency"] == "emergency",
    }


def _form_value(form: dict, key: str):
    value = form.get(key)
    return value.strip() if isinstance(value, str) else value


def create_at_desk(db: sqlite_utils.Database, clock, *, staff_id: int, form: dict) -> dict:
    """A repair or complaint recorded by reception (S6: time, place, people, events)."""
    if not isinstance(form, dict):
        raise InvalidRequest("the form must be a mapping")
    current = building.current(db)
    category = catalog.category(_form_value(form, "category"))
    problem_key = _form_value(form, "problem") or None
    problem = catalog.problem(category.key, problem_key) if problem_key else None
    kind = _form_value(form, "kind") or category.kind
    if kind not in KINDS:
        raise InvalidRequest("类型须为报修或投诉 · kind must be repair or complaint")
    urgency = _form_value(form, "urgency") or "normal"
    if urgency not in URGENCIES:
        raise InvalidRequest(f"urgency must be one of {', '.join(URGENCIES)}")
    if problem is not None and problem.emergency:
        urgency = "emergency"
    unit_text = _form_value(form, "unit")
    unit = building.unit_by_number(db, unit_text) if unit_text else None
    location = clean_text(form.get("location"), "location", MAX_SHORT_TEXT, multiline=False)
    if unit is None and not location:
        raise InvalidRequest("请填写房号或地点 · Give the unit or the place.")
    phone = _form_value(form, "reporter_phone")
    fields = {
        "kind": kind,
        "unit_id": unit["id"] if unit else None,
        "location": location or unit["number"],
        "category": category.key,
        "problem": problem.key if problem else None,
        "urgency": urgency,
        "description": clean_text(form.get("description"), "description", MAX_DESCRIPTION),
        "reporter_name": clean_text(
            form.get("reporter_name"), "reporter_name", 40, multiline=False
        ),
        "reporter_phone": phones.normalise(phone) if phone else None,
        "incident_at": _clean_time(
            form.get("incident_at"), "incident_at", current["timezone"], clock.now()
        ),
        "people_involved": clean_text(form.get("people_involved"), "people_involved", MAX_PEOPLE),
        "language": "zh_CN",
        "source": "desk",
        "created_at": None,
    }
    with write_transaction(db):
        ticket_id = _insert(db, clock, fields)
        _update(
            db,
            clock,
            ticket_id,
            kind="created",
            text=f"前台登记 · Recorded at the desk ({kind_label(kind)})",
            staff_id=staff_id,
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.create",
            target=f"ticket:{ticket_id}",
            detail={"kind": kind, "urgency": urgency, "category": category.key, "source": "desk"},
        )
    return get(db, ticket_id)


# --- reading -------------------------------------------------------------------------------


def _decorate(row: dict) -> dict:
    row["number"] = str(row["id"])
    try:
        reasons = json.loads(row.get("rating_reasons") or "[]")
    except ValueError:
        reasons = []
    row["rating_reason_keys"] = reasons if isinstance(reasons, list) else []
    return row


_SELECT = (
    "SELECT t.*, u.number AS unit_number, s.display_name AS assigned_staff_name"
    " FROM tickets t LEFT JOIN units u ON u.id = t.unit_id"
    " LEFT JOIN staff s ON s.id = t.assigned_staff_id"
)


def get(db: sqlite_utils.Database, ticket_id) -> dict:
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise TicketNotFound()
    row = one(db, f"{_SELECT} WHERE t.id = ?", (ticket_id,))
    if row is None:
        raise TicketNotFound()
    return _decorate(row)


def timeline(db: sqlite_utils.Database, ticket_id: int) -> list[dict]:
    """The trail, oldest first, each with the staff member's display name (or None)."""
    return [
        {**row, "resident_visible": bool(row["resident_visible"])}
        for row in db.query(
            "SELECT tu.*, s.display_name FROM ticket_updates tu"
            " LEFT JOIN staff s ON s.id = tu.staff_id WHERE tu.ticket_id = ? ORDER BY tu.id",
            (ticket_id,),
        )
    ]


def _latest_visible(db, ticket_id: int) -> dict | None:
    row = one(
        db,
        "SELECT text, at FROM ticket_updates WHERE ticket_id = ? AND resident_visible = 1"
        " ORDER BY id DESC LIMIT 1",
        (ticket_id,),
    )
    return {"text": row["text"], "at": row["at"]} if row else None


def resident_summary(db: sqlite_utils.Database, clock, ticket: dict) -> dict:
    """What the resident may see: no names, phones, description or staff notes."""
    return {
        "number": str(ticket["id"]),
        "status": ticket["status"],
        "kind": ticket["kind"],
        "category": ticket["category"],
        "problem": ticket["problem"],
        "urgency": ticket["urgency"],
        "received_at": ticket["received_at"],
        "sla_due_at": ticket["sla_due_at"],
        "overdue": is_overdue(ticket, clock.now()),
        "latest_update": _latest_visible(db, ticket["id"]),
        "can_rate": ticket["status"] in ("resolved", "closed") and ticket["rating"] is None,
        "rating": ticket["rating"],
    }


# --- signed QR and links ------------------------------------------------------------------


def ticket_qr(secret_key: str, ticket: dict, now: datetime) -> str:
    """The status QR on the kiosk's receipt: the ticket id, signed; nothing else."""
    return signing.sign(secret_key, TICKET_QR, {"t": ticket["id"]}, now + QR_VALID_FOR)


def rating_link_token(secret_key: str, ticket: dict, now: datetime) -> str:
    """For the rating link in the "resolved" message; bound to this resolution."""
    return signing.sign(
        secret_key,
        TICKET_RATING,
        {"t": ticket["id"], "r": ticket["reopened_count"]},
        now + RATING_LINK_VALID_FOR,
    )


def rating_url(public_url: str, secret_key: str, ticket: dict, now: datetime) -> str:
    return f"{public_url.rstrip('/')}/rate/{rating_link_token(secret_key, ticket, now)}"


def _by_qr(db, clock, secret_key: str, qr) -> dict:
    payload = signing.verify(secret_key, TICKET_QR, qr, clock.now())
    ticket_id = payload.get("t")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise signing.TokenInvalid()
    return get(db, ticket_id)


def _by_number(db, number: str, unit: str) -> dict | None:
    number = number.strip().removeprefix("#")
    if not _NUMBER.fullmatch(number) or not 1 <= len(unit.strip()) <= 12:
        return None
    row = one(
        db,
        "SELECT t.id FROM tickets t JOIN units u ON u.id = t.unit_id"
        " WHERE t.id = ? AND u.number = ?",
        (int(number), unit.strip()),
    )
    return get(db, row["id"]) if row else None


def _check_lookup_throttle(db, clock, actor: str) -> None:
    """429 once `actor` had LOOKUP_MISS_LIMIT misses within LOOKUP_WINDOW.

    The misses are the audit log's own rows (one per miss, append-only, so a
    restart forgets nothing). Newest first through the (action, id) index, and
    only back to the window's start: a few rows, however long the log."""
    now = clock.now()
    since = to_iso(now - LOOKUP_WINDOW)
    recent = []
    rows = db.execute(
        "SELECT actor, at FROM audit_log WHERE action = ? ORDER BY id DESC", (LOOKUP_MISSED,)
    )
    try:
        for row_actor, at in rows:
            if at <= since:
                return
            if row_actor == actor:
                recent.append(parse_utc(at))
                if len(recent) == LOOKUP_MISS_LIMIT:
                    frees_at = recent[-1] + LOOKUP_WINDOW  # the oldest of the last five
                    raise LookupThrottled((frees_at - now).total_seconds())
    finally:
        rows.close()


def lookup(
    db: sqlite_utils.Database, clock, secret_key: str, body, *, kiosk_id: int | None = None
) -> dict:
    """The kiosk's status check: {"qr"} or {"number", "unit"} → resident_summary.

    By number + unit, a miss is audited (ticket.lookup_missed) and a kiosk with
    LOOKUP_MISS_LIMIT misses in LOOKUP_WINDOW gets LookupThrottled (429) for every
    number + unit look-up, found or not, until the oldest miss ages out."""
    if not isinstance(body, dict) or set(body) not in ({"qr"}, {"number", "unit"}):
        raise InvalidRequest('send {"qr": "..."} or {"number": "...", "unit": "..."}')
    if "qr" in body:
        return resident_summary(db, clock, _by_qr(db, clock, secret_key, body["qr"]))
    number, unit = body["number"], body["unit"]
    if not isinstance(number, str) or not isinstance(unit, str):
        raise InvalidRequest('send {"qr": "..."} or {"number": "...", "unit": "..."}')
    actor = f"kiosk:{kiosk_id}" if kiosk_id is not None else "system"
    with write_transaction(db):
        _check_lookup_throttle(db, clock, actor)
        ticket = _by_number(db, number, unit)
        if ticket is None:
            audit.record(
                db,
                clock,
                actor=actor,
                action=LOOKUP_MISSED,
                detail={"number": number.strip()[:20], "unit": unit.strip()[:12]},
            )
    if ticket is None:
        raise TicketNotFound()
    return resident_summary(db, clock, ticket)


# --- rating --------------------------------------------------------------------------------


def _check_rating(rating, reasons, comment) -> tuple[int, list[str], str | None]:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidRequest("评分为 1-5 · rating must be a whole number 1-5")
    if reasons is None:
        reasons = []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise InvalidRequest("reasons must be a list of reason keys")
    unknown = [r for r in reasons if r not in catalog.REASON_KEYS]
    if unknown:
        raise InvalidRequest(
            f"unknown reasons: {', '.join(unknown[:3])}; use {', '.join(catalog.REASON_KEYS)}"
        )
    # In the catalog's order, once each; only a low rating asks why.
    kept = [key for key in catalog.REASON_KEYS if key in reasons]
    if rating > catalog.LOW_RATING:
        kept = []
    return rating, kept, clean_text(comment, "comment", MAX_COMMENT)


def rate(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    rating,
    reasons,
    comment=None,
    via: str,
    actor: str | None = None,
) -> dict:
    """The resident's rating, once per resolution; returns resident_summary."""
    if via not in RATED_VIA:
        raise InvalidRequest(f"via must be one of {', '.join(RATED_VIA)}")
    rating, reasons, comment = _check_rating(rating, reasons, comment)
    now = to_iso(clock.now())
    with write_transaction(db):
        ticket = get(db, ticket_id)
        cursor = db.execute(
            "UPDATE tickets SET rating = ?, rating_reasons = ?, rating_comment = ?, rated_at = ?,"
            " rated_via = ? WHERE id = ? AND status IN ('resolved', 'closed') AND rating IS NULL",
            (rating, json.dumps(reasons), comment, now, via, ticket["id"]),
        )
        if cursor.rowcount != 1:
            if ticket["status"] not in ("resolved", "closed"):
                raise NotResolved()
            raise AlreadyRated()
        db.execute(
            "INSERT INTO ticket_ratings (ticket_id, resolution, rating, reasons, comment, via,"
            " rated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                ticket["id"],
                ticket["reopened_count"],
                rating,
                json.dumps(reasons),
                comment,
                via,
                now,
            ),
        )
        why = "、".join(catalog.reason_label(r, "zh_CN") for r in reasons)
        why_en = ", ".join(catalog.reason_label(r, "en") for r in reasons)
        text = f"评分 {rating}/5 · Rated {rating}/5"
        if reasons:
            text += f"：{why} · {why_en}"
        if comment:
            text += f"\n{comment}"
        _update(db, clock, ticket["id"], kind="rating", text=text)
        audit.record(
            db,
            clock,
            actor=actor or f"resident:{via}",
            action="ticket.rate",
            target=f"ticket:{ticket['id']}",
            detail={"rating": rating, "reasons": reasons, "via": via},
        )
        return resident_summary(db, clock, get(db, ticket["id"]))


def rate_by_qr(
    db: sqlite_utils.Database, clock, secret_key: str, body, *, kiosk_id: int | None = None
) -> dict:
    """The kiosk's rating: {"qr"} plus "rating", "reasons" (and optionally "comment").

    Only the signed QR on the resident's receipt rates a ticket: a ticket number
    is a sequential id and a unit is no secret, so {"number", "unit"} is refused
    with RatingNeedsQr (the resident scans the QR, or uses the link in the
    "resolved" message)."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    which = set(body) - {"rating", "reasons", "comment"}
    if which == {"number", "unit"}:
        raise RatingNeedsQr()
    if which != {"qr"} or "rating" not in body:
        raise InvalidRequest('send {"qr": "..."} with "rating" and "reasons"')
    ticket = _by_qr(db, clock, secret_key, body["qr"])
    return rate(
        db,
        clock,
        ticket["id"],
        rating=body["rating"],
        reasons=body.get("reasons", []),
        comment=body.get("comment"),
        via="kiosk",
        actor=f"kiosk:{kiosk_id}" if kiosk_id is not None else None,
    )


def check_rating_link(db: sqlite_utils.Database, clock, secret_key: str, token) -> dict:
    """The ticket a rating link is for, if the link still works (else the reason, raised):
    forged → TokenInvalid, expired → TokenExpired, from before a reopen →
    RatingLinkOutdated, used → AlreadyRated."""
    payload = signing.verify(secret_key, TICKET_RATING, token, clock.now())
    ticket_id, reopened = payload.get("t"), payload.get("r")
    if not isinstance(ticket_id, int) or not isinstance(reopened, int):
        raise signing.TokenInvalid()
    ticket = get(db, ticket_id)
    if ticket["reopened_count"] != reopened:
        raise RatingLinkOutdated()
    if ticket["rating"] is not None:
        raise AlreadyRated()
    if ticket["status"] not in ("resolved", "closed"):
        raise NotResolved()
    return ticket


def rate_by_link(
    db: sqlite_utils.Database, clock, secret_key: str, token, *, rating, reasons, comment=None
) -> dict:
    with write_transaction(db):
        ticket = check_rating_link(db, clock, secret_key, token)
        return rate(
            db,
            clock,
            ticket["id"],
            rating=rating,
            reasons=reasons,
            comment=comment,
            via="link",
        )


# --- staff work ----------------------------------------------------------------------------


def _notify_residents(db, clock, ticket: dict, *, kind: str, headline: tuple[str, str], extra=""):
    """A bilingual message to each resident of the ticket's unit who has a channel."""
    if not ticket.get("unit_id"):
        return 0
    number = ticket["id"]
    what_zh = catalog.label(f"{ticket['category']}.{ticket['problem']}", "zh_CN")
    what_en = catalog.label(f"{ticket['category']}.{ticket['problem']}", "en")
    if not ticket["problem"]:
        what_zh = catalog.label(ticket["category"], "zh_CN")
        what_en = catalog.label(ticket["category"], "en")
    name = building.current(db)["name"]
    subject = f"报修单 {number}：{headline[0]} · Ticket {number}: {headline[1]} — {name}"
    status_zh, status_en = STATUS_LABELS[ticket["status"]]
    body = (
        f"您好！您在 {ticket['unit_number']} 的{KIND_LABELS[ticket['kind']][0]}单 {number}"
        f"（{what_zh}）{headline[0]}。当前状态：{status_zh}。\n"
        f"Hello! Your {KIND_LABELS[ticket['kind']][1].lower()} ticket {number} for "
        f"{ticket['unit_number']} ({what_en}): {headline[1]}. Status now: {status_en}.\n"
        + (f"\n{extra}\n" if extra else "")
    )
    sent = 0
    for resident in building.residents_of(db, ticket["unit_id"]):
        queued = notifications.enqueue_for_resident(
            db,
            clock,
            resident,
            kind=kind,
            subject=subject,
            body=body,
            related=f"ticket:{number}",
        )
        sent += queued is not None
    return sent


def _queue_for_department(db, clock, ticket: dict, contact: dict) -> int | None:
    url = (contact.get("notify_url") or "").strip()
    if not url:
        return None
    if url.lower().startswith("mailto:") and "://" not in url:
        channel, recipient = "email", url[7:]
    elif "@" in url and "://" not in url:
        channel, recipient = "email", url
    else:
        channel, recipient = "apprise", url
    current = building.current(db)
    what = catalog.bilingual(
        f"{ticket['category']}.{ticket['problem']}" if ticket["problem"] else ticket["category"]
    )
    due = local_time(ticket["sla_due_at"], current["timezone"])
    subject = f"新派工 · New work order {ticket['id']}: {what} ({urgency_label(ticket['urgency'])})"
    body = (
        f"报修单 Ticket {ticket['id']} · {kind_label(ticket['kind'])}\n"
        f"地点 Place: {ticket['location'] or ticket.get('unit_number') or ''}\n"
        f"问题 Problem: {what}\n"
        f"紧急程度 Urgency: {urgency_label(ticket['urgency'])}\n"
        f"请在此前解决 Resolve by: {due}\n"
        + (f"\n{ticket['description']}\n" if ticket["description"] else "")
    )
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO notifications (kind, channel, recipient, subject, body, related,"
        " next_attempt_at, created_at) VALUES ('ticket.assigned', ?, ?, ?, ?, ?, ?, ?)",
        (channel, recipient, subject, body, f"ticket:{ticket['id']}", now, now),
    )
    return cursor.lastrowid


def triage(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    category,
    problem,
    urgency,
) -> dict:
    """Staff correct the category, problem and urgency; the SLA is recomputed from
    received_at with the new urgency."""
    cat = catalog.category(category)
    prob = catalog.problem(cat.key, problem) if problem else None
    if urgency not in URGENCIES:
        raise InvalidRequest(f"urgency must be one of {', '.join(URGENCIES)}")
    with write_transaction(db):
        ticket = get(db, ticket_id)
        due = parse_utc(ticket["received_at"]) + timedelta(
            minutes=sla_minutes(_settings(db), urgency)
        )
        db.execute(
            "UPDATE tickets SET category = ?, problem = ?, urgency = ?, sla_due_at = ?"
            " WHERE id = ?",
            (cat.key, prob.key if prob else None, urgency, to_iso(due), ticket["id"]),
        )
        what = catalog.bilingual(f"{cat.key}.{prob.key}" if prob else cat.key)
        _update(
            db,
            clock,
            ticket["id"],
            kind="triage",
            text=f"分类 Category: {what}; 紧急程度 Urgency: {urgency_label(urgency)}",
            staff_id=staff_id,
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.triage",
            target=f"ticket:{ticket['id']}",
            detail={
                "from": [ticket["category"], ticket["problem"], ticket["urgency"]],
                "to": [cat.key, prob.key if prob else None, urgency],
            },
        )
    return get(db, ticket_id)


def assign(db: sqlite_utils.Database, clock, ticket_id: int, *, staff_id: int, assignee) -> dict:
    """Give the ticket to a department ("dept:<key>") or a staff member ("staff:<id>").
    A new ticket becomes assigned and its residents are told; the department's
    notify_url (if any) gets the work order."""
    if not isinstance(assignee, str):
        raise InvalidRequest("assignee must be dept:<key> or staff:<id>")
    kind, _colon, ref = assignee.partition(":")
    settings = _settings(db)
    contact, assigned_staff = None, None
    if kind == "dept":
        contact = next((c for c in contacts(settings) if c["key"] == ref), None)
        if contact is None:
            raise InvalidRequest("未知部门 · Unknown department")
    elif kind == "staff" and ref.isdigit():
        row = one(db, "SELECT id FROM staff WHERE id = ? AND active = 1", (int(ref),))
        if row is None:
            raise InvalidRequest("未知员工 · Unknown or inactive staff member")
        assigned_staff = row["id"]
    else:
        raise InvalidRequest("assignee must be dept:<key> or staff:<id>")
    with write_transaction(db):
        ticket = get(db, ticket_id)
        if ticket["status"] not in OPEN_STATUSES:
            raise TransitionRefused(
                "已解决或关闭的单子不能派工，请先重新打开 · Reopen a resolved or closed ticket before assigning it."
            )
        new_status = "assigned" if ticket["status"] == "new" else ticket["status"]
        now = to_iso(clock.now())
        cursor = db.execute(
            "UPDATE tickets SET assigned_to = ?, assigned_staff_id = ?, assigned_at = ?,"
            " status = ? WHERE id = ? AND status = ?",
            (assignee, assigned_staff, now, new_status, ticket["id"], ticket["status"]),
        )
        if cursor.rowcount != 1:
            raise StaleState()
        who = assignee_label(db, assignee)
        _update(
            db,
            clock,
            ticket["id"],
            kind="assign",
            text=f"派给 Assigned to: {who}",
            staff_id=staff_id,
            status_from=ticket["status"],
            status_to=new_status,
        )
        updated = get(db, ticket["id"])
        if contact is not None:
            _queue_for_department(db, clock, updated, contact)
        if new_status != ticket["status"]:
            _notify_residents(
                db, clock, updated, kind="ticket.status", headline=("已派工", "assigned")
            )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.assign",
            target=f"ticket:{ticket['id']}",
            detail={"assignee": assignee, "from": ticket["status"], "to": new_status},
        )
    return updated


_HEADLINES = {
    "assigned": ("已派工", "assigned"),
    "in_progress": ("正在处理", "work has started"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
    "new": ("已重新打开", "reopened"),
}


def set_status(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    status: str,
    message=None,
    secret_key: str,
    public_url: str,
) -> dict:
    """Move the ticket along TRANSITIONS (or "reopen"); `message` is for the resident."""
    message = clean_text(message, "message", MAX_NOTE)
    with write_transaction(db):
        ticket = get(db, ticket_id)
        current = ticket["status"]
        if status not in TRANSITIONS.get(current, ()):
            raise TransitionRefused(
                f"不能从“{status_label(current)}”改为“{status_label(status)}” · "
                f"A ticket that is {STATUS_LABELS[current][1].lower()} cannot go to "
                f"{STATUS_LABELS.get(status, (status, status))[1].lower()}."
            )
        now = to_iso(clock.now())
        if status == "reopen":
            target = "assigned" if ticket["assigned_to"] else "new"
            sql = (
                "UPDATE tickets SET status = ?, reopened_count = reopened_count + 1,"
                " resolved_at = NULL, closed_at = NULL, rating = NULL, rating_reasons = NULL,"
                " rating_comment = NULL, rated_at = NULL, rated_via = NULL"
                " WHERE id = ? AND status = ?"
            )
            params = (target, ticket["id"], current)
        else:
            target = status
            stamp = {
                "assigned": "assigned_at = COALESCE(assigned_at, ?)",
                "in_progress": "started_at = COALESCE(started_at, ?)",
                "resolved": "resolved_at = ?",
                "closed": "closed_at = ?",
            }[status]
            sql = f"UPDATE tickets SET status = ?, {stamp} WHERE id = ? AND status = ?"  # noqa: S608
            params = (target, now, ticket["id"], current)
        if db.execute(sql, params).rowcount != 1:
            raise StaleState()
        headline = ("已重新打开", "reopened") if status == "reopen" else _HEADLINES[target]
        _update(
            db,
            clock,
            ticket["id"],
            kind="status",
            text=message or f"状态 Status: {status_label(current)} → {status_label(target)}",
            staff_id=staff_id,
            resident_visible=bool(message),
            status_from=current,
            status_to=target,
        )
        updated = get(db, ticket["id"])
        extra = message or ""
        if target == "resolved":
            link = rating_url(public_url, secret_key, updated, clock.now())
            extra += (
                "\n\n" if extra else ""
            ) + f"请为这次服务打分（1-5 星）· Please rate the service (1-5 stars):\n{link}"
        _notify_residents(db, clock, updated, kind="ticket.status", headline=headline, extra=extra)
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.reopen" if status == "reopen" else "ticket.status",
            target=f"ticket:{ticket['id']}",
            detail={"from": current, "to": target, "with_message": bool(message)},
        )
    return updated


def add_note(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    text,
    resident_visible: bool,
) -> dict:
    """A note on the trail; a resident-visible one is also sent to the residents."""
    text = clean_text(text, "text", MAX_NOTE)
    if not text:
        raise InvalidRequest("请填写内容 · Write the note first.")
    with write_transaction(db):
        ticket = get(db, ticket_id)
        update_id = _update(
            db,
            clock,
            ticket["id"],
            kind="note",
            text=text,
            staff_id=staff_id,
            resident_visible=bool(resident_visible),
        )
        if resident_visible:
            _notify_residents(
                db, clock, ticket, kind="ticket.update", headline=("有新进展", "an update"),
                extra=text,
            )  # fmt: skip
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.note",
            target=f"ticket:{ticket['id']}",
            detail={"resident_visible": bool(resident_visible), "update": update_id},
        )
    return get(db, ticket_id)


def record_complaint(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    staff_id: int,
    incident_at=None,
    location=None,
    people_involved=None,
    forwarded_to=None,
    resident_told=None,
) -> dict:
    """S6: when and where it happened, who was involved, where it was forwarded, what
    the resident was told. Empty fields are cleared; the place is kept if left empty."""
    timezone = building.current(db)["timezone"]
    values = {
        "incident_at": _clean_time(incident_at, "incident_at", timezone, clock.now()),
        "people_involved": clean_text(people_involved, "people_involved", MAX_PEOPLE),
        "forwarded_to": clean_text(forwarded_to, "forwarded_to", MAX_SHORT_TEXT, multiline=False),
        "resident_told": clean_text(resident_told, "resident_told", MAX_COMMENT),
    }
    place = clean_text(location, "location", MAX_SHORT_TEXT, multiline=False)
    with write_transaction(db):
        ticket = get(db, ticket_id)
        db.execute(
            "UPDATE tickets SET incident_at = ?, people_involved = ?, forwarded_to = ?,"
            " resident_told = ?, location = COALESCE(?, location) WHERE id = ?",
            (*values.values(), place, ticket["id"]),
        )
        lines = []
        if values["incident_at"]:
            lines.append(f"时间 When: {local_time(values['incident_at'], timezone)}")
        if place:
            lines.append(f"地点 Where: {place}")
        if values["people_involved"]:
            lines.append(f"相关人员 People: {values['people_involved']}")
        if values["forwarded_to"]:
            lines.append(f"转交 Forwarded to: {values['forwarded_to']}")
        if values["resident_told"]:
            lines.append(f"已告知住户 Resident told: {values['resident_told']}")
        _update(
            db,
            clock,
            ticket["id"],
            kind="complaint",
            text="\n".join(lines) or "投诉记录已清空 · Complaint details cleared",
            staff_id=staff_id,
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="ticket.complaint",
            target=f"ticket:{ticket['id']}",
            detail={key: bool(value) for key, value in values.items()},
        )
    return get(db, ticket_id)


# --- lists -----------------------------------------------------------------------------------


def search(
    db: sqlite_utils.Database,
    clock,
    filters: dict | None = None,
    *,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict:
    """The ticket list, newest first. filters: status (a status or "open"), category,
    urgency, kind, overdue (true: only overdue), q (a ticket number or a unit number)."""
    filters = filters or {}
    if not isinstance(page, int) or page < 1:
        raise InvalidRequest("page must be 1 or more")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"page_size must be 1-{MAX_PAGE_SIZE}")
    where, params = [], []
    now = to_iso(clock.now())
    status = filters.get("status") or ""
    if status == "open":
        where.append("t.status IN ('new', 'assigned', 'in_progress')")
    elif status:
        if status not in STATUSES:
            raise InvalidRequest(f"status must be open or one of {', '.join(STATUSES)}")
        where.append("t.status = ?")
        params.append(status)
    category = filters.get("category") or ""
    if category:
        catalog.category(category)
        where.append("t.category = ?")
        params.append(category)
    urgency = filters.get("urgency") or ""
    if urgency:
        if urgency not in URGENCIES:
            raise InvalidRequest(f"urgency must be one of {', '.join(URGENCIES)}")
        where.append("t.urgency = ?")
        params.append(urgency)
    kind = filters.get("kind") or ""
    if kind:
        if kind not in KINDS:
            raise InvalidRequest("kind must be repair or complaint")
        where.append("t.kind = ?")
        params.append(kind)
    if filters.get("overdue") in (True, "1", "true", "on", "yes"):
        where.append(
            "t.status IN ('new', 'assigned', 'in_progress') AND t.sla_due_at > ''"
            " AND t.sla_due_at < ?"
        )
        params.append(now)
    q = " ".join(str(filters.get("q") or "").split())[:40]
    if q:
        unit = one(db, "SELECT id FROM units WHERE number = ? COLLATE NOCASE", (q,))
        number = q.removeprefix("#")
        clauses, values = [], []
        if _NUMBER.fullmatch(number):
            clauses.append("t.id = ?")
            values.append(int(number))
        if unit is not None:
            clauses.append("t.unit_id = ?")
            values.append(unit["id"])
        if not clauses:
            return {"rows": [], "has_next": False, "page": page}
        where.append("(" + " OR ".join(clauses) + ")")
        params += values
    # The page's ids first (from the indexes alone where they cover it), then their rows:
    # at 100,000 tickets only the rows shown are ever read.
    order = " ORDER BY t.received_at DESC, t.id DESC"
    # Only fixed SQL text is joined here; every value is a "?" parameter.
    ids = "SELECT t.id FROM tickets t" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608
    sql = f"{_SELECT} WHERE t.id IN ({ids}{order} LIMIT ? OFFSET ?){order}"
    rows = list(db.query(sql, [*params, page_size + 1, (page - 1) * page_size]))
    moment = clock.now()
    result = []
    for row in rows[:page_size]:
        row = _decorate(row)
        row["overdue"] = is_overdue(row, moment)
        result.append(row)
    return {"rows": result, "has_next": len(rows) > page_size, "page": page}


def counts(db: sqlite_utils.Database, clock) -> dict:
    """For the navigation badge: open tickets and how many of them are overdue."""
    # Two counts, each from one index (tickets_status, tickets_sla_open); without
    # ANALYZE statistics SQLite would pick tickets_status for the second and read rows.
    opened = one(
        db,
        "SELECT COUNT(*) AS n FROM tickets WHERE status IN ('new', 'assigned', 'in_progress')",
    )
    late = one(
        db,
        "SELECT COUNT(*) AS n FROM tickets INDEXED BY tickets_sla_open"
        " WHERE status IN ('new', 'assigned', 'in_progress') AND sla_due_at > '' AND sla_due_at < ?",
        (to_iso(clock.now()),),
    )
    return {"open": opened["n"], "overdue": late["n"]}
