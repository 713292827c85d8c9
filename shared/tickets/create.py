"""Creating tickets: a resident's report at the kiosk (S5, with an emergency
escalation for S8) and a repair or complaint recorded at the desk (S6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from shared import audit, building, kiosk_time, phones
from shared import ticket_catalog as catalog
from shared.clock import to_iso
from shared.db import write_transaction
from shared.errors import InvalidRequest
from shared.tickets import photos
from shared.tickets.model import (
    KINDS,
    MAX_DESCRIPTION,
    MAX_PEOPLE,
    MAX_SHORT_TEXT,
    URGENCIES,
    PhotoRejected,
    add_update,
    building_settings,
    clean_text,
    clean_time,
    kind_label,
    sla_minutes,
)
from shared.tickets.queries import get

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
    settings = building_settings(db)
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
    if run is None:
        return photos.prepare_photo(fields["photo"])
    return run(photos.prepare_photo, fields["photo"])


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
        photo = photo_jpeg if photo_jpeg is not None else photos.prepare_photo(fields["photo"])
    with write_transaction(db):
        ticket_id = _insert(db, clock, _kiosk_columns(fields, kiosk_id, unit, sent))
        add_update(db, clock, ticket_id, kind="created", text="终端报修 · Reported at the kiosk")
        ticket = get(db, ticket_id)
        if ticket["urgency"] == "emergency":
            _raise_emergency(db, clock, ticket, kiosk_id=kiosk_id)
        if photo is not None:
            name = photos.save_photo(photo_dir, ticket_id, photo)
            db.execute("UPDATE tickets SET photo_path = ? WHERE id = ?", (name, ticket_id))
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="ticket.create",
            target=f"ticket:{ticket_id}",
            detail={"urgency": ticket["urgency"], "category": ticket["category"]},
        )
    return _kiosk_answer(ticket, building_settings(db))


def _kiosk_columns(fields: dict, kiosk_id: int | None, unit: dict, sent) -> dict:
    """The new row of a kiosk report; `sent` is the kiosk's created_at as judged."""
    category = catalog.category(fields["category"])
    return {
        "kind": category.kind,
        "kiosk_id": kiosk_id,
        "unit_id": unit["id"],
        "location": unit["number"],
        "category": category.key,
        "problem": fields["problem"].key,
        "urgency": fields["urgency"],
        "description": fields["description"],
        "language": fields["language"],
        "source": "kiosk",
        "created_at": sent.stored if sent else None,
        "clock_doubtful": int(bool(sent and sent.doubtful)),
    }


def _kiosk_answer(ticket: dict, settings: dict) -> dict:
    """What the kiosk shows on its receipt (and keeps to replay a repeated report)."""
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
    fields = _desk_fields(db, clock, form)
    kind, urgency, category = fields["kind"], fields["urgency"], fields["category"]
    with write_transaction(db):
        ticket_id = _insert(db, clock, fields)
        add_update(
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
            detail={"kind": kind, "urgency": urgency, "category": category, "source": "desk"},
        )
    return get(db, ticket_id)


def _desk_fields(db, clock, form) -> dict:
    """The desk form checked field by field, as the new row's columns."""
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
    return {
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
        "incident_at": clean_time(
            form.get("incident_at"), "incident_at", current["timezone"], clock.now()
        ),
        "people_involved": clean_text(form.get("people_involved"), "people_involved", MAX_PEOPLE),
        "language": "zh_CN",
        "source": "desk",
        "created_at": None,
    }
