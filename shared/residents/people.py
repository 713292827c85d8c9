"""Residents coming, changing and going: create, update, move in, move out, each
in one write transaction with its audit row."""

from __future__ import annotations

import sqlite_utils

from shared import audit
from shared.clock import local_time, to_iso
from shared.db import one, write_transaction
from shared.errors import NotFound, StaleState
from shared.residents.directory import active_of, channels_of, write_search_keys
from shared.residents.fields import (
    FIELDS,
    InvalidResident,
    check_move_out_date,
    clean,
    clean_date,
)


def today(db: sqlite_utils.Database, clock) -> str:
    """The building's date now (moves are dated in building time)."""
    from shared import building

    timezone = building.current(db)["timezone"]
    return local_time(to_iso(clock.now()), timezone, "%Y-%m-%d")


def active_unit(db, unit_id: int) -> dict:
    """The unit, if it is in use (InvalidResident otherwise): people join no retired unit."""
    unit = one(db, "SELECT * FROM units WHERE id = ?", (unit_id,))
    if unit is None or unit["retired_at"]:
        raise InvalidResident("没有这个房号或已停用 · No such unit in use.", "unit")
    return unit


def save_channels(db, clock, resident_id: int, channels: list[dict]) -> None:
    """Replace the resident's channels: unchanged ones keep their consent time."""
    now = to_iso(clock.now())
    current = {
        (c["kind"], c["address"]): c
        for c in db.query(
            "SELECT * FROM resident_channels WHERE resident_id = ? AND withdrawn_at IS NULL",
            (resident_id,),
        )
    }
    kept = set()
    for position, channel in enumerate(channels, start=1):
        key = (channel["kind"], channel["address"])
        if key in current:
            kept.add(current[key]["id"])
            db.execute(
                "UPDATE resident_channels SET position = ? WHERE id = ?",
                (position, current[key]["id"]),
            )
        else:
            db.execute(
                "INSERT INTO resident_channels (resident_id, kind, address, position, consent_at,"
                " consent_source) VALUES (?, ?, ?, ?, ?, ?)",
                (resident_id, *key, position, channel["consent_at"], channel["consent_source"]),
            )
    for old in current.values():
        if old["id"] not in kept:
            db.execute(
                "UPDATE resident_channels SET withdrawn_at = ? WHERE id = ?", (now, old["id"])
            )


def insert_resident(db, clock, unit_id: int, resident: dict) -> int:
    """The one insert path (create, move_in, the roster import): row, channels, search keys."""
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO residents (unit_id, name, role, phone, alt_phone, email, language,"
        " moved_in_on, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            unit_id,
            *(resident[k] for k in ("name", "role", "phone", "alt_phone", "email", "language")),
            resident["moved_in_on"],
            now,
            now,
        ),
    )
    resident_id = cursor.lastrowid
    save_channels(db, clock, resident_id, resident["channels"])
    write_search_keys(db, resident_id, resident)
    return resident_id


def create(db: sqlite_utils.Database, clock, unit_id: int, fields: dict, *, actor: str) -> int:
    """A new resident of a unit in use; returns the id."""
    resident = clean(fields, today=today(db, clock))
    with write_transaction(db):
        active_unit(db, unit_id)
        resident_id = insert_resident(db, clock, unit_id, resident)
        audit.record(
            db,
            clock,
            actor=actor,
            action="resident.create",
            target=f"resident:{resident_id}",
            detail={"unit_id": unit_id, "role": resident["role"]},
        )
    return resident_id


def get(db: sqlite_utils.Database, resident_id: int) -> dict:
    row = one(
        db,
        "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"
        " WHERE r.id = ?",
        (resident_id,),
    )
    if row is None:
        raise NotFound(f"没有这位住户 · No resident {resident_id}.")
    row["channels"] = channels_of(db, resident_id)
    return row


def update(db: sqlite_utils.Database, clock, resident_id: int, fields: dict, *, actor: str) -> None:
    """Change a resident's details and channels (the audit names the fields, not values)."""
    resident = clean(fields, today=today(db, clock))
    with write_transaction(db):
        before = get(db, resident_id)
        if before["moved_out_on"] or before["erased_at"]:
            raise StaleState("这位住户已迁出 · This resident has moved out.")
        db.execute(
            "UPDATE residents SET name = ?, role = ?, phone = ?, alt_phone = ?, email = ?,"
            " language = ?, moved_in_on = ?, updated_at = ? WHERE id = ?",
            (*(resident[k] for k in FIELDS), to_iso(clock.now()), resident_id),
        )
        save_channels(db, clock, resident_id, resident["channels"])
        write_search_keys(db, resident_id, resident)
        changed = [k for k in FIELDS if before[k] != resident[k]]
        if [(c["kind"], c["address"]) for c in before["channels"]] != [
            (c["kind"], c["address"]) for c in resident["channels"]
        ]:
            changed.append("channels")
        audit.record(
            db,
            clock,
            actor=actor,
            action="resident.update",
            target=f"resident:{resident_id}",
            detail={"fields": changed},
        )


def move_out(
    db: sqlite_utils.Database, clock, resident_ids, *, on: str | None = None, actor: str
) -> int:
    """Move residents out (dated today or earlier): from now on they get no messages and
    are not shown as hosts; messages still queued for them are cancelled."""
    today_text = today(db, clock)
    moved_out_on = clean_date(on, "moved_out_on", "迁出日期", "Move-out date") or today_text
    with write_transaction(db):
        moved = 0
        for resident_id in resident_ids:
            resident = get(db, int(resident_id))
            if resident["moved_out_on"]:
                continue
            check_move_out_date(moved_out_on, today_text, resident["moved_in_on"])
            db.execute(
                "UPDATE residents SET moved_out_on = ?, updated_at = ? WHERE id = ?",
                (moved_out_on, to_iso(clock.now()), resident["id"]),
            )
            cancel_messages(db, resident["id"])
            audit.record(
                db,
                clock,
                actor=actor,
                action="resident.move_out",
                target=f"resident:{resident['id']}",
                detail={"unit_id": resident["unit_id"], "on": moved_out_on},
            )
            moved += 1
    return moved


def cancel_messages(db, resident_id: int) -> None:
    """A moved-out resident is sent nothing that is still queued for them."""
    db.execute(
        "UPDATE parcel_notices SET status = 'cancelled' WHERE resident_id = ? AND status = 'pending'",
        (resident_id,),
    )
    db.execute(
        "UPDATE notifications SET status = 'failed', last_error = 'moved out'"
        " WHERE resident_id = ? AND status = 'pending'",
        (resident_id,),
    )


def move_in(
    db: sqlite_utils.Database,
    clock,
    unit_id: int,
    people: list[dict],
    *,
    replace: bool = False,
    on: str | None = None,
    actor: str,
) -> list[int]:
    """A household moves in, all at once: with `replace`, everyone living there now is
    moved out on the same day first. Nothing is written if any person is invalid."""
    if not people:
        raise InvalidResident("请至少登记一位住户 · Enter at least one person.", "name")
    today_text = today(db, clock)
    moved_in_on = clean_date(on, "moved_in_on", "入住日期", "Move-in date") or today_text
    cleaned = [clean({**p, "moved_in_on": moved_in_on}, today=today_text) for p in people]
    with write_transaction(db):
        active_unit(db, unit_id)
        if replace:
            current = [r["id"] for r in active_of(db, unit_id)]
            move_out(db, clock, current, on=min(moved_in_on, today_text), actor=actor)
        ids = [insert_resident(db, clock, unit_id, person) for person in cleaned]
        audit.record(
            db,
            clock,
            actor=actor,
            action="unit.move_in",
            target=f"unit:{unit_id}",
            detail={"residents": ids, "replace": replace, "on": moved_in_on},
        )
    return ids
