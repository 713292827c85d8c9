"""The shift handover log (交接班记录), the pass-on log of a concierge desk.

During a shift a receptionist writes notes (open until someone marks them
done). Ending the shift makes a handover: every note written since the
previous handover plus every note still open, whoever wrote it. Each
receptionist other than its author acknowledges the latest handover
("已阅 · Read"); until they do, every staff page says so. Who read it, and
when, is kept for the author and for managers.
"""

from __future__ import annotations

import json

import sqlite_utils

from shared import audit, terms
from shared.clock import local_day_start, parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, NotFound, StaleState
from shared.text import refusal_message, refused_character

MAX_TEXT_LENGTH = 1000
MAX_UNIT_LENGTH = 12
CATEGORIES = terms.labels("handover_category")
STATUSES = ("open", "done")
# Whose pages carry the unread-handover banner: the receptionists taking over.
MUST_ACKNOWLEDGE_ROLES = ("reception",)
# Line breaks and tabs are how people lay out a note; every other control or
# invisible character (shared/text.py) could make a note read differently from
# what was typed.
_ALLOWED_CONTROLS = "\n\t"


class InvalidNote(LobbyDeskError):
    """请填写交接内容：1–1000 个字，不含控制字符 · Write the note: 1-1000 characters, no control characters."""

    code = "invalid_note"


class UnknownNoteUnit(LobbyDeskError):
    """本楼没有这个房号 · There is no such unit in this building."""

    code = "unknown_unit"


class NotForTheAuthor(LobbyDeskError):
    """交班人不能确认自己的交接记录 · The handover's author does not acknowledge their own handover."""

    code = "own_handover"
    http_status = 409


def clean_text(text) -> str:
    """The note as stored: line endings made \\n, outer blank space trimmed; or InvalidNote."""
    if not isinstance(text, str):
        raise InvalidNote()
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidNote("请填写交接内容 · Write the note first.")
    refused = refused_character(text, _ALLOWED_CONTROLS)
    if refused is not None:
        raise InvalidNote(refusal_message(*refused))
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidNote(
            f"最多 {MAX_TEXT_LENGTH} 字，现在 {len(text)} 字 · At most {MAX_TEXT_LENGTH} "
            f"characters; this note has {len(text)}."
        )
    return text


def _category(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in CATEGORIES:
        raise InvalidNote("请选择列表中的类别 · Pick a category from the list.")
    return value


def _unit_id(db: sqlite_utils.Database, typed) -> int | None:
    typed = (typed or "").strip() if isinstance(typed, str) else typed
    if typed in (None, ""):
        return None
    if not isinstance(typed, str) or len(typed) > MAX_UNIT_LENGTH:
        raise UnknownNoteUnit("房号最多 12 个字符 · A unit number has at most 12 characters.")
    unit = one(db, "SELECT id FROM units WHERE number = ? COLLATE NOCASE", (typed,))
    if unit is None:
        raise UnknownNoteUnit(f"没有房号“{typed}” · There is no unit “{typed}” in this building.")
    return unit["id"]


def add_note(
    db: sqlite_utils.Database,
    clock,
    *,
    staff_id: int,
    text,
    category=None,
    unit=None,
) -> int:
    """A new open note; every input is checked before anything is written."""
    text = clean_text(text)
    category = _category(category)
    with write_transaction(db):
        unit_id = _unit_id(db, unit)
        cursor = db.execute(
            "INSERT INTO handover_notes (author_id, text, category, unit_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (staff_id, text, category, unit_id, to_iso(clock.now())),
        )
        # The text stays out of the audit log: it may name residents or visitors.
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="handover.note_add",
            target=f"handover_note:{cursor.lastrowid}",
            detail={"category": category, "unit_id": unit_id, "length": len(text)},
        )
    return cursor.lastrowid


_NOTE_SQL = (
    "SELECT n.*, u.number AS unit_number, a.display_name AS author_name,"
    " d.display_name AS done_by_name"
    " FROM handover_notes n JOIN staff a ON a.id = n.author_id"
    " LEFT JOIN units u ON u.id = n.unit_id LEFT JOIN staff d ON d.id = n.done_by"
)


def get_note(db: sqlite_utils.Database, note_id: int) -> dict:
    note = one(db, _NOTE_SQL + " WHERE n.id = ?", (note_id,))
    if note is None:
        raise NotFound(f"交接事项 {note_id} 不存在 · Handover note {note_id} does not exist.")
    return note


def set_status(
    db: sqlite_utils.Database, clock, note_id: int, status: str, *, staff_id: int
) -> dict:
    """Mark a note done (recording who and when) or open again; returns the note."""
    if status not in STATUSES:
        raise InvalidRequest(f"状态无效 · The status must be one of {', '.join(STATUSES)}.")
    with write_transaction(db):
        note = get_note(db, note_id)
        if note["status"] == status:
            if status == "done":
                raise StaleState(
                    f"{note['done_by_name']} 已标记完成 · {note['done_by_name']} already "
                    "marked this done."
                )
            raise StaleState("该事项已重新打开 · This note is already open again.")
        if status == "done":
            db.execute(
                "UPDATE handover_notes SET status = 'done', done_at = ?, done_by = ? WHERE id = ?",
                (to_iso(clock.now()), staff_id, note_id),
            )
        else:
            db.execute(
                "UPDATE handover_notes SET status = 'open', done_at = NULL, done_by = NULL"
                " WHERE id = ?",
                (note_id,),
            )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="handover.note_done" if status == "done" else "handover.note_reopen",
            target=f"handover_note:{note_id}",
        )
        return get_note(db, note_id)


def latest(db: sqlite_utils.Database) -> dict | None:
    return one(
        db,
        "SELECT h.*, s.display_name AS author_name FROM handovers h"
        " JOIN staff s ON s.id = h.author_id ORDER BY h.id DESC LIMIT 1",
    )


def current_shift(db: sqlite_utils.Database) -> dict:
    """What ending the shift now would hand over: new notes since the last handover,
    then every older note still open (oldest first within each)."""
    previous = latest(db)
    since = previous["last_note_id"] if previous else 0
    notes = list(
        db.query(
            _NOTE_SQL + " WHERE n.id > ? OR n.status = 'open' ORDER BY n.id",
            (since,),
        )
    )
    for note in notes:
        note["carried"] = note["id"] <= since
    return {"previous": previous, "notes": notes, "since_note_id": since}


# The live queue's words for an escalation (shared/terms.py), so the handover says what
# the queue said.
ESCALATION_LABELS = terms.labels("escalation_kind")

# The order the open items are listed in: what endangers people first.
OPEN_KINDS = ("emergency_broadcast", "escalation", "visitor", "parcel_handover", "ticket")


def _waited(since: str, now) -> int:
    return max(0, int((now - parse_utc(since)).total_seconds()))


def open_items(db: sqlite_utils.Database, clock) -> list[dict]:
    """What is still waiting or open at the desk, for the receptionist ending a shift:
    the emergency broadcast, unacknowledged escalations (emergencies first), waiting
    visitors, desk parcel pickups, open urgent tickets. Each: kind, text (bilingual),
    since (UTC), waited (seconds), and the id of the row it stands for."""
    from shared import emergency_broadcast, escalations, parcels, tickets, visitors

    now, items = clock.now(), []
    broadcast = emergency_broadcast.active(db)
    if broadcast:
        text = f"紧急广播仍在进行 · Emergency broadcast still on: {broadcast['title_zh']} · {broadcast['title_en']}"
        items.append(
            _item("emergency_broadcast", broadcast["id"], text, broadcast["started_at"], now)
        )
    waiting = [e for e in escalations.live_queue(db) if e["status"] == "open"]
    waiting.sort(key=lambda e: (e["kind"] != "emergency", e["received_at"], e["id"]))
    for row in waiting:
        text = ESCALATION_LABELS.get(row["kind"], row["kind"])
        text += f" — {row['kiosk_name']}" if row["kiosk_name"] else ""
        text += f" — {row['note']}" if row.get("note") and row["kind"] == "emergency" else ""
        items.append(_item("escalation", row["id"], text, row["received_at"], now))
    for visit in visitors.pending(db):
        # No names: the list is kept with the handover, where a person request
        # (shared/person.py) would not find them to delete.
        text = "访客等候 · Visitor waiting"
        text += f" → {visit['unit_number']}" if visit["unit_number"] else ""
        items.append(_item("visitor", visit["id"], text, visit["received_at"], now))
    for pickup in parcels.open_handovers(db):
        count = len(pickup["parcels"])
        text = f"快递取件待交付 · Parcel pickup at the desk: {pickup['unit_number']} ({count} 件 · parcels)"
        items.append(_item("parcel_handover", pickup["id"], text, pickup["received_at"], now))
    for urgency in ("emergency", "urgent"):
        found = tickets.search(
            db, clock, {"status": "open", "urgency": urgency}, page_size=tickets.MAX_PAGE_SIZE
        )
        for ticket in sorted(found["rows"], key=lambda t: (t["received_at"], t["id"])):
            place = ticket["location"] or ticket["unit_number"] or ""
            text = f"{tickets.urgency_label(urgency)} 工单 · ticket {ticket['id']}"
            text += f" — {place}" if place else ""
            items.append(_item("ticket", ticket["id"], text, ticket["received_at"], now))
    return items


def _item(kind: str, row_id: int, text: str, since: str, now) -> dict:
    return {"kind": kind, "id": row_id, "text": text, "since": since, "waited": _waited(since, now)}


def stored_open_items(handover: dict) -> list[dict]:
    """The open items a handover was written with ([] for one from before they were kept)."""
    try:
        items = json.loads(handover.get("open_items") or "[]")
    except ValueError:
        return []
    return items if isinstance(items, list) else []


def end_shift(
    db: sqlite_utils.Database,
    clock,
    *,
    staff_id: int,
    previous_id: int | None,
    open_items_seen: int | None = None,
) -> int:
    """The outgoing receptionist hands over; returns the new handover's id.

    `previous_id` is the latest handover the receptionist's page showed (None
    for the first ever): if someone else ended the shift meanwhile, nothing
    is written and StaleState says so. `open_items_seen` is how many open items
    the confirmation showed: when more are open now, StaleState too (she confirms
    again, having seen them). What is open is written into the handover.
    """
    with write_transaction(db):
        still_open = open_items(db, clock)
        if open_items_seen is not None and len(still_open) > open_items_seen:
            raise StaleState(
                "交班前又有新的未完成事项，请查看后再确认 · Something new is waiting since you "
                "looked: check the list, then confirm again."
            )
        shift = current_shift(db)
        previous = shift["previous"]
        if (previous["id"] if previous else None) != (previous_id or None):
            who = previous["author_name"] if previous else "?"
            raise StaleState(
                f"{who} 刚刚已交班，请查看后再交班 · "
                f"{who} has just ended the shift; check it before ending yours."
            )
        last_note = one(db, "SELECT COALESCE(MAX(id), 0) AS id FROM handover_notes")["id"]
        cursor = db.execute(
            "INSERT INTO handovers (author_id, created_at, last_note_id, open_items)"
            " VALUES (?, ?, ?, ?)",
            (staff_id, to_iso(clock.now()), last_note, json.dumps(still_open, ensure_ascii=False)),
        )
        handover_id = cursor.lastrowid
        for note in shift["notes"]:
            db.execute(
                "INSERT INTO handover_items (handover_id, note_id, status_then, carried)"
                " VALUES (?, ?, ?, ?)",
                (handover_id, note["id"], note["status"], int(note["carried"])),
            )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="handover.end_shift",
            target=f"handover:{handover_id}",
            detail={
                "notes": len(shift["notes"]),
                "open": sum(1 for n in shift["notes"] if n["status"] == "open"),
                "open_items": {k: sum(i["kind"] == k for i in still_open) for k in OPEN_KINDS},
            },
        )
    return handover_id


def get(db: sqlite_utils.Database, handover_id: int) -> dict:
    """A handover with its notes (as they stand now, and as they were) and its readers."""
    handover = one(
        db,
        "SELECT h.*, s.display_name AS author_name FROM handovers h"
        " JOIN staff s ON s.id = h.author_id WHERE h.id = ?",
        (handover_id,),
    )
    if handover is None:
        raise NotFound(f"交接记录 {handover_id} 不存在 · Handover {handover_id} does not exist.")
    handover["notes"] = list(
        db.query(
            _NOTE_SQL.replace("SELECT n.*", "SELECT n.*, i.status_then, i.carried")
            + " JOIN handover_items i ON i.note_id = n.id WHERE i.handover_id = ?"
            " ORDER BY i.carried, n.id",
            (handover_id,),
        )
    )
    handover["reads"] = reads(db, handover_id)
    handover["open_items_then"] = stored_open_items(handover)
    return handover


def reads(db: sqlite_utils.Database, handover_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT r.staff_id, r.read_at, s.display_name AS reader_name FROM handover_reads r"
            " JOIN staff s ON s.id = r.staff_id WHERE r.handover_id = ? ORDER BY r.read_at",
            (handover_id,),
        )
    )


def mark_read(db: sqlite_utils.Database, clock, handover_id: int, *, staff_id: int) -> bool:
    """Acknowledge a handover ("已阅 · Read"); False if this person had already."""
    with write_transaction(db):
        handover = get(db, handover_id)
        if handover["author_id"] == staff_id:
            raise NotForTheAuthor(
                "这是您自己的交班记录，由接班同事确认 · This is your own handover: the colleague "
                "taking over acknowledges it."
            )
        if any(r["staff_id"] == staff_id for r in handover["reads"]):
            return False
        db.execute(
            "INSERT INTO handover_reads (handover_id, staff_id, read_at) VALUES (?, ?, ?)",
            (handover_id, staff_id, to_iso(clock.now())),
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="handover.read",
            target=f"handover:{handover_id}",
        )
    return True


def unread_for(db: sqlite_utils.Database, member: dict | None) -> dict | None:
    """The latest handover if this staff member still has to acknowledge it."""
    if not member or member["role"] not in MUST_ACKNOWLEDGE_ROLES:
        return None
    return one(
        db,
        "SELECT h.*, s.display_name AS author_name FROM handovers h"
        " JOIN staff s ON s.id = h.author_id"
        " WHERE h.id = (SELECT MAX(id) FROM handovers) AND h.author_id != ?"
        " AND NOT EXISTS (SELECT 1 FROM handover_reads r WHERE r.handover_id = h.id"
        " AND r.staff_id = ?)",
        (member["id"], member["id"]),
    )


def search(
    db: sqlite_utils.Database,
    *,
    day_from: str = "",
    day_to: str = "",
    status: str = "",
    timezone: str = "Asia/Shanghai",
    before_id: int | None = None,
    limit: int = 20,
) -> list[dict]:
    """The log for managers: handovers newest first (keyset paging by before_id), each
    with its notes (only those now `status`, when given) and who acknowledged it.

    With a status filter, a handover none of whose notes match is left out.
    """
    where, params = [], []
    if day_from:
        where.append("h.created_at >= ?")
        params.append(local_day_start(day_from, timezone))
    if day_to:
        where.append("h.created_at < ?")
        params.append(local_day_start(day_to, timezone, plus_days=1))
    if before_id:
        where.append("h.id < ?")
        params.append(before_id)
    if status in STATUSES:
        where.append(
            "EXISTS (SELECT 1 FROM handover_items i JOIN handover_notes n ON n.id = i.note_id"
            " WHERE i.handover_id = h.id AND n.status = ?)"
        )
        params.append(status)
    # The clauses are fixed strings; every value is a parameter.
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    ids = [
        row["id"]
        for row in db.query(
            f"SELECT h.id FROM handovers h{where_sql} ORDER BY h.id DESC LIMIT ?",  # noqa: S608
            [*params, limit],
        )
    ]
    handovers = [get(db, handover_id) for handover_id in ids]
    if status in STATUSES:
        for handover in handovers:
            handover["notes"] = [n for n in handover["notes"] if n["status"] == status]
    return handovers
