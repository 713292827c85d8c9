"""Emergency broadcast (S8): staff start it, every kiosk shows it full-screen until ended.

One emergency at a time (a partial unique index holds the database to it as
well). Starting or ending one appends an event to every paired kiosk's feed in
the same transaction, so a kiosk that is offline at that moment learns it from
its feed cursor when it reconnects; `state_for_kiosk` answers a kiosk that
restarted (or re-paired) during an emergency. The roll call lists the visitors
on site now (shared.visitors.on_site), for the evacuation.
"""

from __future__ import annotations

import re

import sqlite_utils

from shared import audit, building, feed, terms, visitors
from shared.clock import local_time, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, NotFound

EVENT_STARTED = "emergency.started"
EVENT_ENDED = "emergency.ended"
MAX_INSTRUCTIONS = 500

# What staff pick, with instructions prefilled in both languages (editable). The
# kinds' names are the catalogue's (shared/terms.py "emergency_kind"), as on the kiosk.
_INSTRUCTIONS = {
    "fire": {
        "instructions_zh": "请保持冷静，立即从最近的安全出口经楼梯疏散到室外集合点。"
        "不要乘坐电梯，不要返回取物品。请听从工作人员指挥。",
        "instructions_en": "Stay calm and leave now by the nearest exit and the stairs to the "
        "assembly point outside. Do not use the lifts. Do not go back for belongings. "
        "Follow staff instructions.",
    },
    "power": {
        "instructions_zh": "大楼停电，电梯已停止运行，请勿乘坐电梯；走楼梯时请扶好扶手。"
        "如有人被困电梯，请立即告知前台。",
        "instructions_en": "The building has lost power and the lifts are stopped: do not use "
        "them, and hold the handrail on the stairs. If someone is trapped in a lift, tell "
        "reception at once.",
    },
    "water": {
        "instructions_zh": "大楼发生漏水或停水。请远离积水区域和电气设备，不要乘坐电梯。"
        "请听从工作人员指挥。",
        "instructions_en": "There is a burst pipe or a water cut in the building. Keep away "
        "from standing water and electrical equipment, and do not use the lifts. Follow "
        "staff instructions.",
    },
    "other": {
        "instructions_zh": "大楼发生紧急情况。请保持冷静，听从工作人员指挥。",
        "instructions_en": "There is an emergency in the building. Stay calm and follow staff "
        "instructions.",
    },
}
KINDS = {
    kind: {
        "title_zh": terms.term("emergency_kind", kind, "zh"),
        "title_en": terms.term("emergency_kind", kind, "en"),
        **texts,
    }
    for kind, texts in _INSTRUCTIONS.items()
}


class EmergencyAlreadyActive(LobbyDeskError):
    """已有紧急广播进行中，请先结束它 · An emergency broadcast is already on; end it first."""

    code = "emergency_active"
    http_status = 409


class EmergencyNotActive(LobbyDeskError):
    """该紧急广播已结束 · This emergency broadcast has already ended."""

    code = "emergency_not_active"
    http_status = 409


def _clean_instructions(text, language: str) -> str:
    if not isinstance(text, str):
        text = ""
    # One paragraph per line as typed; runs of spaces and blank lines squeezed.
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    cleaned = "\n".join(line for line in lines if line)
    zh_name, en_name = ("中文说明", "Chinese") if language == "zh" else ("英文说明", "English")
    if not cleaned:
        raise InvalidRequest(f"请填写{zh_name} · Give the {en_name} instructions.")
    if len(cleaned) > MAX_INSTRUCTIONS:
        raise InvalidRequest(
            f"{zh_name}最多 {MAX_INSTRUCTIONS} 字 · The {en_name} instructions are at most"
            f" {MAX_INSTRUCTIONS} characters."
        )
    return cleaned


def kiosk_ids(db: sqlite_utils.Database) -> list[int]:
    """Every kiosk that was paired and is not revoked: online or not, it gets the event."""
    rows = db.query(
        "SELECT id FROM kiosks WHERE paired_at IS NOT NULL AND revoked_at IS NULL ORDER BY id"
    )
    return [row["id"] for row in rows]


def to_every_kiosk(db: sqlite_utils.Database, clock, kind: str, payload: dict) -> int:
    """Append one feed event per kiosk. Call inside the write transaction. Returns the count."""
    ids = kiosk_ids(db)
    for kiosk_id in ids:
        feed.append(db, clock, kiosk_id, kind, payload)
    return len(ids)


def get(db: sqlite_utils.Database, emergency_id: int) -> dict:
    row = one(
        db,
        "SELECT e.*, s.display_name AS started_by_name, x.display_name AS ended_by_name"
        " FROM emergencies e LEFT JOIN staff s ON s.id = e.started_by"
        " LEFT JOIN staff x ON x.id = e.ended_by WHERE e.id = ?",
        (emergency_id,),
    )
    if row is None:
        raise NotFound(f"emergency {emergency_id} does not exist")
    return {**row, **_titles(row["kind"])}


def _titles(kind: str) -> dict:
    known = KINDS.get(kind, KINDS["other"])
    return {"title_zh": known["title_zh"], "title_en": known["title_en"]}


def active(db: sqlite_utils.Database) -> dict | None:
    row = one(db, "SELECT id FROM emergencies WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1")
    return get(db, row["id"]) if row else None


def history(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    rows = db.query(
        "SELECT e.*, s.display_name AS started_by_name, x.display_name AS ended_by_name"
        " FROM emergencies e LEFT JOIN staff s ON s.id = e.started_by"
        " LEFT JOIN staff x ON x.id = e.ended_by ORDER BY e.id DESC LIMIT ?",
        (limit,),
    )
    return [{**row, **_titles(row["kind"])} for row in rows]


def kiosk_payload(emergency: dict) -> dict:
    """What a kiosk shows: no staff names, nothing personal."""
    return {
        "emergency_id": emergency["id"],
        "kind": emergency["kind"],
        "title_zh": emergency["title_zh"],
        "title_en": emergency["title_en"],
        "instructions_zh": emergency["instructions_zh"],
        "instructions_en": emergency["instructions_en"],
        "started_at": emergency["started_at"],
    }


def start_errors(*, kind: str, instructions_zh, instructions_en) -> dict[str, str]:
    """Every problem with a start form at once, field -> bilingual message (the console
    shows each beside its field); empty when `start` would accept the form."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "请选择紧急类型 · Choose the kind of emergency."
    for field, text, language in (
        ("instructions_zh", instructions_zh, "zh"),
        ("instructions_en", instructions_en, "en"),
    ):
        try:
            _clean_instructions(text, language)
        except InvalidRequest as error:
            errors[field] = str(error)
    return errors


def start(
    db: sqlite_utils.Database,
    clock,
    *,
    kind: str,
    instructions_zh,
    instructions_en,
    staff_id: int,
) -> dict:
    """Start the broadcast: the emergency row and every kiosk's event commit together."""
    if kind not in KINDS:
        raise InvalidRequest("请选择紧急类型 · Choose the kind of emergency.")
    zh = _clean_instructions(instructions_zh, "zh")
    en = _clean_instructions(instructions_en, "en")
    with write_transaction(db):
        if one(db, "SELECT id FROM emergencies WHERE ended_at IS NULL") is not None:
            raise EmergencyAlreadyActive()
        cursor = db.execute(
            "INSERT INTO emergencies (kind, instructions_zh, instructions_en, started_at,"
            " started_by) VALUES (?, ?, ?, ?, ?)",
            (kind, zh, en, to_iso(clock.now()), staff_id),
        )
        emergency = get(db, cursor.lastrowid)
        kiosks = to_every_kiosk(db, clock, EVENT_STARTED, kiosk_payload(emergency))
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="emergency.start",
            target=f"emergency:{emergency['id']}",
            detail={"kind": kind, "kiosks": kiosks},
        )
    return emergency


def end(db: sqlite_utils.Database, clock, emergency_id: int, *, staff_id: int) -> dict:
    """End it, exactly once: every kiosk goes back to its home screen."""
    with write_transaction(db):
        get(db, emergency_id)  # NotFound for an id that never existed
        cursor = db.execute(
            "UPDATE emergencies SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
            (to_iso(clock.now()), staff_id, emergency_id),
        )
        if cursor.rowcount != 1:
            raise EmergencyNotActive()
        to_every_kiosk(db, clock, EVENT_ENDED, {"emergency_id": emergency_id})
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="emergency.end",
            target=f"emergency:{emergency_id}",
        )
    return get(db, emergency_id)


def state_for_kiosk(db: sqlite_utils.Database) -> dict:
    """GET /api/v1/broadcast: the emergency now on (or null), and the newest emergency id
    the console knows, so a kiosk can tell a stale answer from a fresh one."""
    current = active(db)
    latest = one(db, "SELECT MAX(id) AS m FROM emergencies")["m"] or 0
    return {"emergency": kiosk_payload(current) if current else None, "latest_id": latest}


def _unit_key(number: str | None) -> tuple:
    """'2-1203' after '1203', '905' before '1203': numbers compared as numbers."""
    parts = re.split(r"(\d+)", number or "")
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts if part)


def summary(visits: int, people: int) -> str:
    """The roll call's count line, in both languages."""
    parties = f"{visits} {'party' if visits == 1 else 'parties'}"
    persons = f"{people} {'person' if people == 1 else 'people'}"
    return f"在场访客 {visits} 组，共 {people} 人 · {parties}, {persons} on site"


def roll_call(db: sqlite_utils.Database) -> dict:
    """Who is on site now, by unit then arrival: for counting people at the assembly point."""
    timezone = building.current(db)["timezone"]
    rows = [
        {
            "visit_id": visit["id"],
            "unit": visit["unit_number"] or "",
            "name": visit["name"],
            "party_size": visit["party_size"],
            "arrived": local_time(visit["decided_at"], timezone, "%H:%M"),
            "arrived_at": visit["decided_at"],
        }
        for visit in visitors.on_site(db)
    ]
    rows.sort(key=lambda row: (_unit_key(row["unit"]), row["arrived_at"] or "", row["visit_id"]))
    people = sum(row["party_size"] for row in rows)
    return {
        "rows": rows,
        "visits": len(rows),
        "people": people,
        "summary": summary(len(rows), people),
        "timezone": timezone,
    }
