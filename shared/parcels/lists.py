"""The console's parcel lists."""

from __future__ import annotations

import sqlite_utils

from shared.clock import to_iso
from shared.parcels.tracking import MAX_SEARCH_LENGTH

VIEWS = ("waiting", "overdue", "collected", "all")


def waiting_for_unit(db: sqlite_utils.Database, unit_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM parcels WHERE unit_id = ? AND status = 'waiting' ORDER BY id", (unit_id,)
        )
    )


def search(
    db: sqlite_utils.Database,
    clock,
    *,
    view: str = "waiting",
    text: str = "",
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict]:
    """Waiting / overdue / collected parcels, newest first, keyset-paged on id."""
    where, params = [], []
    if view == "waiting":
        where.append("p.status = 'waiting'")
    elif view == "overdue":
        where.append("p.status = 'waiting' AND p.expires_at <= ?")
        params.append(to_iso(clock.now()))
    elif view == "collected":
        where.append("p.status = 'collected'")
    text = " ".join(str(text).split())[:MAX_SEARCH_LENGTH]
    if text:
        clauses = [
            "p.unit_id IN (SELECT id FROM units WHERE number = ? COLLATE NOCASE)",
            "p.unit_id IN (SELECT unit_id FROM residents WHERE name LIKE ? AND moved_out_on IS NULL)",
        ]
        params += [text, f"%{text}%"]
        compact = "".join(text.split()).upper()
        if len(compact) >= 4:
            clauses.append("p.tracking_number LIKE ?")
            params.append(f"%{compact}%")
        where.append("(" + " OR ".join(clauses) + ")")
    if before_id:
        where.append("p.id < ?")
        params.append(before_id)
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    # The clauses are fixed strings; every value is a parameter.
    sql = (
        "SELECT p.*, u.number AS unit_number,"  # noqa: S608
        " (SELECT group_concat(name, '、') FROM residents r WHERE r.unit_id = p.unit_id"
        " AND r.moved_out_on IS NULL) AS residents,"
        " (SELECT status FROM parcel_notices n WHERE n.batch_id = p.batch_id"
        "   ORDER BY n.id DESC LIMIT 1) AS notice_status,"
        " s1.display_name AS released_by_name, s2.display_name AS handed_over_by_name"
        " FROM parcels p JOIN units u ON u.id = p.unit_id"
        " LEFT JOIN staff s1 ON s1.id = p.released_by"
        " LEFT JOIN staff s2 ON s2.id = p.handed_over_by"
        f"{where_sql} ORDER BY p.id DESC LIMIT ?"
    )
    return list(db.query(sql, [*params, limit]))


def recent_intake(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    return list(
        db.query(
            "SELECT p.*, u.number AS unit_number FROM parcels p JOIN units u ON u.id = p.unit_id"
            " ORDER BY p.id DESC LIMIT ?",
            (limit,),
        )
    )
