"""Finding residents: the search keys written beside each resident (name, given
name, pinyin and its initials, phone and its last four digits) and the readers
the console, the kiosk's directory and the messages use."""

from __future__ import annotations

import sqlite_utils

from shared import names


def pinyin_keys(name: str) -> tuple[str, ...]:
    from shared.parcels import pinyin_keys as keys  # cached there, used by parcel intake too

    return keys(name)


def _phone_keys(e164: str | None) -> set[str]:
    if not e164:
        return set()
    digits = e164[3:] if e164.startswith("+86") else e164[1:]
    return {digits, digits[-4:]}


def search_keys(resident: dict) -> set[str]:
    name = "".join(resident["name"].split()).casefold()
    keys = {name, *pinyin_keys(resident["name"])}
    if names.is_cjk(resident["name"]) and len(name) > 1:
        keys.add(name[1:])  # the given name: 建国 finds 王建国
    else:
        keys.update(word.casefold() for word in resident["name"].split())
    keys |= _phone_keys(resident.get("phone")) | _phone_keys(resident.get("alt_phone"))
    return {k for k in keys if k}


def write_search_keys(db, resident_id: int, resident: dict) -> None:
    """Replace the resident's rows in resident_search (every writer calls it)."""
    db.execute("DELETE FROM resident_search WHERE resident_id = ?", (resident_id,))
    db.conn.executemany(
        "INSERT INTO resident_search (resident_id, key) VALUES (?, ?)",
        [(resident_id, key) for key in sorted(search_keys(resident))],
    )


def search_text(text: str) -> str:
    """What a typed query is matched as: no spaces, case-folded; a phone as its digits."""
    query = "".join(str(text or "").split()).casefold()[:40]
    digits = "".join(ch for ch in query if ch.isdigit())
    if query and all(ch.isdigit() or ch in "+-()" for ch in query) and len(digits) >= 4:
        if query.startswith("+86") or (query.startswith("86") and len(digits) == 13):
            digits = digits[2:]
        return digits
    return query


def active_of(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    """The unit's residents living there now: its hosts and the people its messages go to."""
    return list(
        db.query(
            "SELECT * FROM residents WHERE unit_id = ? AND moved_out_on IS NULL ORDER BY"
            " CASE role WHEN 'owner' THEN 0 WHEN 'tenant' THEN 1 ELSE 2 END, id",
            (unit_id,),
        )
    )


def channels_of(db: sqlite_utils.Database, resident_id: int) -> list[dict]:
    """The resident's consented channels in fallback order."""
    return list(
        db.query(
            "SELECT * FROM resident_channels WHERE resident_id = ? AND withdrawn_at IS NULL"
            " ORDER BY position, id",
            (resident_id,),
        )
    )


def search(
    db: sqlite_utils.Database, text: str, *, include_moved_out: bool = False, limit: int = 50
) -> list[dict]:
    """The directory: residents by unit (label or keypad code), name, given name, pinyin
    or its initials, or phone (all or the last four digits), as prefixes."""
    query = search_text(text)
    if not query:
        return []
    upper = query + "\uffff"
    ids = [
        row["resident_id"]
        for row in db.query(
            "SELECT DISTINCT resident_id FROM resident_search WHERE key >= ? AND key < ? LIMIT 500",
            (query, upper),
        )
    ]
    unit_ids = [
        row["id"]
        for row in db.query(
            "SELECT id FROM units WHERE (number >= ? COLLATE NOCASE AND number < ? COLLATE NOCASE)"
            " OR (keypad >= ? AND keypad < ?) LIMIT 200",
            (query, upper, query, upper),
        )
    ]
    return _rows(db, ids, unit_ids, include_moved_out, limit)


def _rows(db, ids, unit_ids, include_moved_out: bool, limit: int) -> list[dict]:
    if not ids and not unit_ids:
        return []
    active = "" if include_moved_out else " AND r.moved_out_on IS NULL"
    id_marks, unit_marks = (
        ",".join("?" * len(ids)) or "NULL",
        ",".join("?" * len(unit_ids)) or "NULL",
    )
    return list(
        db.query(
            "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"  # noqa: S608
            f" WHERE (r.id IN ({id_marks}) OR r.unit_id IN ({unit_marks})){active}"
            " AND r.erased_at IS NULL ORDER BY r.moved_out_on IS NOT NULL, u.number, r.id LIMIT ?",
            (*ids, *unit_ids, limit),
        )
    )
