"""What the desk keeps per unit beside its residents: standing instructions
("do not admit", where parcels go) and parcel proxies (李阿姨, the nanny)."""

from __future__ import annotations

import sqlite_utils

from shared import audit
from shared.clock import to_iso
from shared.db import write_transaction
from shared.errors import InvalidRequest, StaleState
from shared.residents.fields import (
    INSTRUCTION_KINDS,
    InvalidResident,
    clean_instruction,
    clean_name,
    clean_phone,
)
from shared.residents.people import active_unit


def add_instruction(
    db: sqlite_utils.Database, clock, unit_id: int, kind: str, text: str, *, actor: str
) -> int:
    if kind not in INSTRUCTION_KINDS:
        raise InvalidResident("未知的说明类型 · Unknown kind of instruction.", "kind")
    value = clean_instruction(text)
    with write_transaction(db):
        active_unit(db, unit_id)
        cursor = db.execute(
            "INSERT INTO unit_instructions (unit_id, kind, text, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?)",
            (unit_id, kind, value, to_iso(clock.now()), actor),
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="unit.instruction_add",
            target=f"unit:{unit_id}",
            detail={"kind": kind},
        )
    return cursor.lastrowid


def instructions_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM unit_instructions WHERE unit_id = ? AND removed_at IS NULL"
            " ORDER BY CASE kind WHEN 'do_not_admit' THEN 0 WHEN 'parcels' THEN 1 ELSE 2 END, id",
            (unit_id,),
        )
    )


def add_proxy(db: sqlite_utils.Database, clock, unit_id: int, fields: dict, *, actor: str) -> int:
    """Someone who may collect the unit's parcels at the desk (李阿姨, the nanny)."""
    name = clean_name(fields.get("name"), "proxy_name")
    phone = clean_phone(fields.get("phone"), "proxy_phone")
    note = " ".join(str(fields.get("note") or "").split())
    if note:
        note = clean_instruction(note, "proxy_note", 100)
    with write_transaction(db):
        active_unit(db, unit_id)
        cursor = db.execute(
            "INSERT INTO parcel_proxies (unit_id, name, phone, note, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (unit_id, name, phone, note, to_iso(clock.now()), actor),
        )
        audit.record(db, clock, actor=actor, action="unit.proxy_add", target=f"unit:{unit_id}")
    return cursor.lastrowid


def proxies_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM parcel_proxies WHERE unit_id = ? AND removed_at IS NULL ORDER BY id",
            (unit_id,),
        )
    )


def remove_standing(
    db: sqlite_utils.Database, clock, table: str, row_id: int, *, actor: str
) -> None:
    """Remove an instruction or a parcel proxy (kept, marked removed, for the audit)."""
    if table not in ("unit_instructions", "parcel_proxies"):
        raise InvalidRequest("unknown list")
    with write_transaction(db):
        cursor = db.execute(
            f"UPDATE {table} SET removed_at = ?, removed_by = ? WHERE id = ?"  # noqa: S608
            " AND removed_at IS NULL",
            (to_iso(clock.now()), actor, row_id),
        )
        if cursor.rowcount != 1:
            raise StaleState("已被移除 · It was already removed.")
        audit.record(db, clock, actor=actor, action=f"{table}.remove", target=f"{table}:{row_id}")
