"""The deny list: people reception does not let in by themselves. A registration
that matches it (same phone, or same name) waits for staff with the reason shown,
never confirmed automatically (shared/visitors.py `register`)."""

from __future__ import annotations

import sqlite_utils

from shared import audit, names, phones
from shared.clock import to_iso
from shared.db import write_transaction
from shared.errors import InvalidRequest


def deny_match(db: sqlite_utils.Database, name: str, phone: str | None) -> str | None:
    """Why this person matches the deny list, for staff; None if they do not."""
    entries = db.query("SELECT * FROM deny_list WHERE removed_at IS NULL ORDER BY id")
    reasons = []
    for entry in entries:
        if phone and entry["phone"] == phone:
            reasons.append(f"电话相同 · same phone ({entry['reason']})")
        elif entry["name"] and entry["name"].casefold() == name.casefold():
            reasons.append(f"姓名相同 · same name ({entry['reason']})")
    return "; ".join(reasons) or None


def add_to_deny_list(db, clock, *, name: str, phone: str, reason: str, staff_id: int) -> int:
    name = names.clean(name) if name.strip() else None
    phone = phones.normalise(phone) if phone.strip() else None
    reason = " ".join(reason.split())[:200]
    if not (name or phone):
        raise InvalidRequest("请填写姓名或电话 · Give a name or a phone number.")
    if not reason:
        raise InvalidRequest("请填写原因 · Give a reason.")
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO deny_list (name, phone, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, phone, reason, staff_id, to_iso(clock.now())),
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="deny_list.add",
            target=f"deny:{cursor.lastrowid}",
        )
    return cursor.lastrowid


def remove_from_deny_list(db, clock, entry_id: int, *, staff_id: int) -> None:
    with write_transaction(db):
        db.execute(
            "UPDATE deny_list SET removed_at = ?, removed_by = ? WHERE id = ? AND removed_at IS NULL",
            (to_iso(clock.now()), staff_id, entry_id),
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="deny_list.remove",
            target=f"deny:{entry_id}",
        )


def deny_list(db) -> list[dict]:
    return list(db.query("SELECT * FROM deny_list WHERE removed_at IS NULL ORDER BY id DESC"))
