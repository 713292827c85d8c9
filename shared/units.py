"""Units as buildings really name them: towers, entrances, floors, rooms, shops, offices.

A unit's `number` is its label, as residents say it and as it is printed
("3-1-1201", "A座1201", "商铺 S-03"); its `keypad` code is the digits a person
types on the kiosk's number pad (derived from the label unless given). Units are
never deleted: renaming keeps the row (and so every visit, parcel and ticket
that points at it), merging moves the people to the other unit and retires this
one, retiring frees the keypad code. Every change is audited.
"""

from __future__ import annotations

import string

import sqlite_utils

from shared import audit, terms
from shared.building import UnknownUnit
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, NotFound, StaleState
from shared.text import refused_character

KINDS = ("home", "shop", "office")
KIND_LABELS = terms.labels("unit_kind")
MAX_LABEL = 24
MAX_PART = 12
MAX_KEYPAD = 8  # the kiosk's unit field (kiosk/viewmodels/unit_entry.py)


class InvalidUnit(InvalidRequest):
    """This unit cannot be saved as it is. 房号信息有误。"""

    code = "invalid_unit"
    http_status = 422

    def __init__(self, message: str, field: str = "number"):
        super().__init__(message)
        self.field = field


def _part(value, field: str, label_zh: str, label_en: str, limit: int = MAX_PART) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise InvalidUnit(
            f"{label_zh}最多 {limit} 个字符 · {label_en}: at most {limit} characters.", field
        )
    if refused_character(text, allowed=""):
        raise InvalidUnit(
            f"{label_zh}含有不可见字符 · {label_en} has an invisible character.", field
        )
    return text


def compose_label(tower: str, entrance: str, room: str) -> str:
    """The usual Chinese label: 3-1-1201 (tower-entrance-room), A座1201, or just 1201."""
    if tower and entrance:
        return f"{tower}-{entrance}-{room}"
    if tower:
        return f"{tower}座{room}" if tower.isalpha() and tower.isascii() else f"{tower}-{room}"
    return room


def derive_keypad(label: str) -> str:
    """Digits for the number pad: digits kept, Latin letters by alphabet place (A=1,
    B=2 …), everything else dropped. 3-1-1201 → 311201, A座1201 → 11201."""
    digits = []
    for ch in label:
        if ch.isascii() and ch.isdigit():
            digits.append(ch)
        elif ch.isascii() and ch.upper() in string.ascii_uppercase:
            digits.append(str(string.ascii_uppercase.index(ch.upper()) + 1))
    return "".join(digits)


def floor_of(room: str) -> int | None:
    """1201 → 12, 101 → 1; None when the room is not a plain number."""
    return int(room[:-2]) if room.isdigit() and len(room) >= 3 else None


def clean(fields: dict) -> dict:
    """Validated unit fields from a form, a file row or a command: a label (given,
    or composed of tower, entrance and room), a keypad code, a kind and a floor."""
    tower = _part(fields.get("tower"), "tower", "楼栋", "Tower/block")
    entrance = _part(fields.get("entrance"), "entrance", "单元", "Entrance")
    room = _part(fields.get("room"), "room", "房间", "Room")
    label = _part(fields.get("number"), "number", "房号", "Unit", MAX_LABEL)
    if not label:
        if not room:
            raise InvalidUnit("请填写房号或房间号 · Enter the unit or its room number.", "number")
        label = compose_label(tower, entrance, room)
        if len(label) > MAX_LABEL:
            raise InvalidUnit(
                f"房号最多 {MAX_LABEL} 个字符 · Unit: at most {MAX_LABEL} characters."
            )
    kind = str(fields.get("kind") or "home").strip().lower()
    if kind not in KINDS:
        raise InvalidUnit("类型应为住宅、商铺或办公 · Kind must be home, shop or office.", "kind")
    keypad = "".join(str(fields.get("keypad") or "").split()) or derive_keypad(label)
    if not keypad.isdigit() or not keypad.isascii() or len(keypad) > MAX_KEYPAD:
        raise InvalidUnit(
            f"门牌码应为 1–{MAX_KEYPAD} 位数字 · Keypad code: 1–{MAX_KEYPAD} digits.", "keypad"
        )
    floor = fields.get("floor")
    if floor in (None, ""):
        floor = floor_of(room or label)
    else:
        try:
            floor = int(str(floor).strip())
        except ValueError:
            raise InvalidUnit("楼层应为整数 · Floor must be a whole number.", "floor") from None
        if not -10 <= floor <= 300:
            raise InvalidUnit("楼层超出范围 · Floor is out of range.", "floor")
    return {
        "number": label,
        "tower": tower,
        "entrance": entrance,
        "room": room or label,
        "kind": kind,
        "keypad": keypad,
        "floor": floor,
    }


def _check_free(db, fields: dict, *, except_id: int | None = None) -> None:
    same_label = one(
        db,
        "SELECT id, retired_at FROM units WHERE number = ? COLLATE NOCASE AND id IS NOT ?",
        (fields["number"], except_id),
    )
    if same_label:
        retired = "（已停用）" if same_label["retired_at"] else ""
        raise InvalidUnit(
            f"已有房号 {fields['number']}{retired} · Unit {fields['number']} already exists.",
            "number",
        )
    # A label made of digits and another unit's keypad code must differ too: the kiosk
    # reads what is typed as a label first, so one would hide the other.
    same_keypad = one(
        db,
        "SELECT number FROM units WHERE retired_at IS NULL AND id IS NOT ?"
        " AND (keypad = ? OR number = ? OR keypad = ?)",
        (except_id, fields["keypad"], fields["keypad"], fields["number"]),
    )
    if same_keypad:
        raise InvalidUnit(
            f"门牌码 {fields['keypad']} 已属于 {same_keypad['number']}，请另设 · "
            f"Keypad code {fields['keypad']} already belongs to {same_keypad['number']}; set another.",
            "keypad",
        )


def _building_id(db) -> int:
    row = one(db, "SELECT id FROM buildings ORDER BY id LIMIT 1")
    if row is None:
        raise InvalidRequest(
            "还没有楼宇，请运行 `lobbydesk admin init-building` · No building yet: run"
            " `lobbydesk admin init-building`."
        )
    return row["id"]


def add(db: sqlite_utils.Database, clock, fields: dict, *, actor: str) -> int:
    """A new unit; returns its id. InvalidUnit names the field that is wrong."""
    unit = clean(fields)
    with write_transaction(db):
        _check_free(db, unit)
        cursor = db.execute(
            "INSERT INTO units (building_id, number, tower, entrance, room, kind, keypad, floor,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_building_id(db), *(unit[k] for k in _COLUMNS), to_iso(clock.now())),
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="unit.add",
            target=f"unit:{cursor.lastrowid}",
            detail=unit,
        )
    return cursor.lastrowid


_COLUMNS = ("number", "tower", "entrance", "room", "kind", "keypad", "floor")


def add_many(db: sqlite_utils.Database, clock, rows: list[dict], *, actor: str) -> list[int]:
    """Several new units in one transaction (a building's first set-up, a units file):
    all or none. InvalidUnit says which row (1-based) is wrong."""
    cleaned = []
    for position, fields in enumerate(rows, start=1):
        try:
            cleaned.append(clean(fields))
        except InvalidUnit as error:
            raise InvalidUnit(f"第 {position} 行 · Row {position}: {error}", error.field) from None
    ids = []
    with write_transaction(db):
        building_id, now = _building_id(db), to_iso(clock.now())
        for position, unit in enumerate(cleaned, start=1):
            try:
                _check_free(db, unit)
            except InvalidUnit as error:
                raise InvalidUnit(
                    f"第 {position} 行 · Row {position}: {error}", error.field
                ) from None
            cursor = db.execute(
                "INSERT INTO units (building_id, number, tower, entrance, room, kind, keypad, floor,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (building_id, *(unit[k] for k in _COLUMNS), now),
            )
            ids.append(cursor.lastrowid)
        audit.record(db, clock, actor=actor, action="unit.add_many", detail={"count": len(ids)})
    return ids


def get(db: sqlite_utils.Database, unit_id: int) -> dict:
    unit = one(db, "SELECT * FROM units WHERE id = ?", (unit_id,))
    if unit is None:
        raise NotFound(f"没有这个房号 · No unit {unit_id}.")
    return unit


def update(db: sqlite_utils.Database, clock, unit_id: int, fields: dict, *, actor: str) -> dict:
    """Rename or re-describe a unit. Its history stays: every record points at its id."""
    unit = clean(fields)
    with write_transaction(db):
        before = get(db, unit_id)
        if before["retired_at"]:
            raise StaleState("这个房号已停用 · This unit is retired.")
        _check_free(db, unit, except_id=unit_id)
        db.execute(
            "UPDATE units SET number = ?, tower = ?, entrance = ?, room = ?, kind = ?, keypad = ?,"
            " floor = ? WHERE id = ?",
            (*(unit[k] for k in _COLUMNS), unit_id),
        )
        changed = {k: [before[k], unit[k]] for k in _COLUMNS if before[k] != unit[k]}
        audit.record(
            db, clock, actor=actor, action="unit.update", target=f"unit:{unit_id}", detail=changed
        )
    return unit


def _open_work(db, unit_id: int) -> str | None:
    if one(db, "SELECT 1 FROM parcels WHERE unit_id = ? AND status = 'waiting'", (unit_id,)):
        return "还有待取包裹 · It still has parcels waiting"
    if one(db, "SELECT 1 FROM visits WHERE unit_id = ? AND status = 'pending'", (unit_id,)):
        return "还有访客在等待确认 · A visitor for it is waiting"
    return None


def retire(db: sqlite_utils.Database, clock, unit_id: int, *, actor: str) -> None:
    """Take a unit out of use (its keypad code is freed; its history stays)."""
    with write_transaction(db):
        unit = get(db, unit_id)
        if unit["retired_at"]:
            raise StaleState("这个房号已停用 · This unit is already retired.")
        if one(
            db,
            "SELECT 1 FROM residents WHERE unit_id = ? AND moved_out_on IS NULL",
            (unit_id,),
        ):
            raise StaleState("请先办理住户迁出 · Move its residents out first.")
        busy = _open_work(db, unit_id)
        if busy:
            raise StaleState(busy)
        db.execute("UPDATE units SET retired_at = ? WHERE id = ?", (to_iso(clock.now()), unit_id))
        audit.record(db, clock, actor=actor, action="unit.retire", target=f"unit:{unit_id}")


def merge(db: sqlite_utils.Database, clock, source_id: int, target_id: int, *, actor: str) -> None:
    """Join two units into one (a wall came down): the source's residents,
    instructions and parcel proxies move to the target; the source is retired and
    remembers where it went, so its visits, parcels and tickets show on the target."""
    if source_id == target_id:
        raise InvalidUnit("不能与自身合并 · A unit cannot be merged into itself.", "target")
    with write_transaction(db):
        source, target = get(db, source_id), get(db, target_id)
        if source["retired_at"] or target["retired_at"]:
            raise StaleState("已停用的房号不能合并 · A retired unit cannot be merged.")
        busy = _open_work(db, source_id)
        if busy:
            raise StaleState(busy)
        moved = db.execute(
            "UPDATE residents SET unit_id = ? WHERE unit_id = ? AND moved_out_on IS NULL",
            (target_id, source_id),
        ).rowcount
        for table in ("unit_instructions", "parcel_proxies"):
            db.execute(
                f"UPDATE {table} SET unit_id = ? WHERE unit_id = ? AND removed_at IS NULL",  # noqa: S608
                (target_id, source_id),
            )
        db.execute(
            "UPDATE units SET retired_at = ?, merged_into = ? WHERE id = ?",
            (to_iso(clock.now()), target_id, source_id),
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="unit.merge",
            target=f"unit:{source_id}",
            detail={"into": target["number"], "from": source["number"], "residents": moved},
        )


def lookup(db: sqlite_utils.Database, typed) -> dict:
    """The unit in use that a person typed: its label (any case) or its keypad code."""
    if not isinstance(typed, str):
        raise UnknownUnit()
    text = typed.strip()
    if not 1 <= len(text) <= MAX_LABEL:
        raise UnknownUnit()
    unit = one(
        db,
        "SELECT * FROM units WHERE number = ? COLLATE NOCASE AND retired_at IS NULL",
        (text,),
    )
    if unit is None and text.isdigit():
        unit = one(db, "SELECT * FROM units WHERE keypad = ? AND retired_at IS NULL", (text,))
    if unit is None:
        raise UnknownUnit()
    return unit


def family(db: sqlite_utils.Database, unit_id: int) -> list[int]:
    """This unit and every unit merged into it (at any depth): whose history it shows."""
    ids, frontier = [unit_id], [unit_id]
    while frontier and len(ids) < 100:
        marks = ",".join("?" * len(frontier))
        frontier = [
            row["id"]
            for row in db.query(
                f"SELECT id FROM units WHERE merged_into IN ({marks})",  # noqa: S608
                frontier,
            )
            if row["id"] not in ids
        ]
        ids.extend(frontier)
    return ids


def listing(db: sqlite_utils.Database, *, include_retired: bool = False) -> list[dict]:
    """Every unit with its count of residents, in label order."""
    where = "" if include_retired else "WHERE u.retired_at IS NULL"
    return list(
        db.query(
            "SELECT u.*, (SELECT count(*) FROM residents r WHERE r.unit_id = u.id"  # noqa: S608
            f" AND r.moved_out_on IS NULL) AS resident_count FROM units u {where}"
            " ORDER BY u.tower, u.entrance, u.floor, u.number"
        )
    )
