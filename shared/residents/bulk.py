"""Bulk writes for the roster import.

The roster import validates every row with clean() first, then writes thousands of
people in one transaction through the same insert path as create(), with one audit
row for the whole file (shared/roster/) instead of one per person.
"""

from __future__ import annotations

import sqlite_utils

from shared.clock import to_iso
from shared.db import write_transaction
from shared.errors import StaleState
from shared.residents.directory import write_search_keys
from shared.residents.fields import FIELDS
from shared.residents.people import cancel_messages, insert_resident, save_channels


def insert_many(db: sqlite_utils.Database, clock, people: list[tuple[int, dict]]) -> list[int]:
    """New residents, each (unit id, fields from clean()): their channels and search
    keys as create() writes them. Returns the ids in order."""
    with write_transaction(db):
        return [insert_resident(db, clock, unit_id, person) for unit_id, person in people]


def update_many(db: sqlite_utils.Database, clock, changes: list[tuple[int, dict]]) -> None:
    """(resident id, fields from clean()) for residents living there now; channels None
    leaves the resident's channels as they are (a row without consent)."""
    now = to_iso(clock.now())
    with write_transaction(db):
        for resident_id, resident in changes:
            cursor = db.execute(
                "UPDATE residents SET name = ?, role = ?, phone = ?, alt_phone = ?, email = ?,"
                " language = ?, moved_in_on = ?, updated_at = ? WHERE id = ?"
                " AND moved_out_on IS NULL AND erased_at IS NULL",
                (*(resident[k] for k in FIELDS), now, resident_id),
            )
            if cursor.rowcount != 1:
                raise StaleState("这位住户已迁出 · This resident has moved out.")
            if resident["channels"] is not None:
                save_channels(db, clock, resident_id, resident["channels"])
            write_search_keys(db, resident_id, resident)


def move_out_many(db: sqlite_utils.Database, clock, moves: list[tuple[int, str]]) -> None:
    """(resident id, checked move-out date): as move_out() does, without an audit row each."""
    now = to_iso(clock.now())
    with write_transaction(db):
        for resident_id, moved_out_on in moves:
            db.execute(
                "UPDATE residents SET moved_out_on = ?, updated_at = ? WHERE id = ?"
                " AND moved_out_on IS NULL",
                (moved_out_on, now, resident_id),
            )
            cancel_messages(db, resident_id)
