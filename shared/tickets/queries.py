"""Reading tickets: one ticket, its trail, what a resident may see, the staff list
and the navigation badge's counts."""

from __future__ import annotations

import json

import sqlite_utils

from shared import ticket_catalog as catalog
from shared.clock import to_iso
from shared.db import one
from shared.errors import InvalidRequest
from shared.tickets.model import (
    DEFAULT_PAGE_SIZE,
    KINDS,
    MAX_PAGE_SIZE,
    STATUSES,
    TICKET_NUMBER,
    URGENCIES,
    TicketNotFound,
    is_overdue,
)


def _decorate(row: dict) -> dict:
    row["number"] = str(row["id"])
    try:
        reasons = json.loads(row.get("rating_reasons") or "[]")
    except ValueError:
        reasons = []
    row["rating_reason_keys"] = reasons if isinstance(reasons, list) else []
    return row


_SELECT = (
    "SELECT t.*, u.number AS unit_number, s.display_name AS assigned_staff_name"
    " FROM tickets t LEFT JOIN units u ON u.id = t.unit_id"
    " LEFT JOIN staff s ON s.id = t.assigned_staff_id"
)


def get(db: sqlite_utils.Database, ticket_id) -> dict:
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise TicketNotFound()
    row = one(db, f"{_SELECT} WHERE t.id = ?", (ticket_id,))
    if row is None:
        raise TicketNotFound()
    return _decorate(row)


def timeline(db: sqlite_utils.Database, ticket_id: int) -> list[dict]:
    """The trail, oldest first, each with the staff member's display name (or None)."""
    return [
        {**row, "resident_visible": bool(row["resident_visible"])}
        for row in db.query(
            "SELECT tu.*, s.display_name FROM ticket_updates tu"
            " LEFT JOIN staff s ON s.id = tu.staff_id WHERE tu.ticket_id = ? ORDER BY tu.id",
            (ticket_id,),
        )
    ]


def _latest_visible(db, ticket_id: int) -> dict | None:
    row = one(
        db,
        "SELECT text, at FROM ticket_updates WHERE ticket_id = ? AND resident_visible = 1"
        " ORDER BY id DESC LIMIT 1",
        (ticket_id,),
    )
    return {"text": row["text"], "at": row["at"]} if row else None


def resident_summary(db: sqlite_utils.Database, clock, ticket: dict) -> dict:
    """What the resident may see: no names, phones, description or staff notes."""
    return {
        "number": str(ticket["id"]),
        "status": ticket["status"],
        "kind": ticket["kind"],
        "category": ticket["category"],
        "problem": ticket["problem"],
        "urgency": ticket["urgency"],
        "received_at": ticket["received_at"],
        "sla_due_at": ticket["sla_due_at"],
        "overdue": is_overdue(ticket, clock.now()),
        "latest_update": _latest_visible(db, ticket["id"]),
        "can_rate": ticket["status"] in ("resolved", "closed") and ticket["rating"] is None,
        "rating": ticket["rating"],
    }


def search(
    db: sqlite_utils.Database,
    clock,
    filters: dict | None = None,
    *,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict:
    """The ticket list, newest first. filters: status (a status or "open"), category,
    urgency, kind, overdue (true: only overdue), q (a ticket number or a unit number)."""
    filters = filters or {}
    if not isinstance(page, int) or page < 1:
        raise InvalidRequest("page must be 1 or more")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"page_size must be 1-{MAX_PAGE_SIZE}")
    where, params = _filter_clauses(filters, to_iso(clock.now()))
    q = " ".join(str(filters.get("q") or "").split())[:40]
    if q:
        found = _search_clause(db, q)
        if found is None:
            return {"rows": [], "has_next": False, "page": page}
        where.append(found[0])
        params += found[1]
    # The page's ids first (from the indexes alone where they cover it), then their rows:
    # at 100,000 tickets only the rows shown are ever read.
    order = " ORDER BY t.received_at DESC, t.id DESC"
    # Only fixed SQL text is joined here; every value is a "?" parameter.
    ids = "SELECT t.id FROM tickets t" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608
    sql = f"{_SELECT} WHERE t.id IN ({ids}{order} LIMIT ? OFFSET ?){order}"
    rows = list(db.query(sql, [*params, page_size + 1, (page - 1) * page_size]))
    moment = clock.now()
    result = []
    for row in rows[:page_size]:
        row = _decorate(row)
        row["overdue"] = is_overdue(row, moment)
        result.append(row)
    return {"rows": result, "has_next": len(rows) > page_size, "page": page}


def _filter_clauses(filters: dict, now: str) -> tuple[list[str], list]:
    """The WHERE clauses (fixed text) and their values for the list's filters."""
    where, params = [], []
    status = filters.get("status") or ""
    if status == "open":
        where.append("t.status IN ('new', 'assigned', 'in_progress')")
    elif status:
        if status not in STATUSES:
            raise InvalidRequest(f"status must be open or one of {', '.join(STATUSES)}")
        where.append("t.status = ?")
        params.append(status)
    category = filters.get("category") or ""
    if category:
        catalog.category(category)
        where.append("t.category = ?")
        params.append(category)
    urgency = filters.get("urgency") or ""
    if urgency:
        if urgency not in URGENCIES:
            raise InvalidRequest(f"urgency must be one of {', '.join(URGENCIES)}")
        where.append("t.urgency = ?")
        params.append(urgency)
    kind = filters.get("kind") or ""
    if kind:
        if kind not in KINDS:
            raise InvalidRequest("kind must be repair or complaint")
        where.append("t.kind = ?")
        params.append(kind)
    if filters.get("overdue") in (True, "1", "true", "on", "yes"):
        where.append(
            "t.status IN ('new', 'assigned', 'in_progress') AND t.sla_due_at > ''"
            " AND t.sla_due_at < ?"
        )
        params.append(now)
    return where, params


def _search_clause(db, q: str) -> tuple[str, list] | None:
    """The search box: a ticket number ("#12" or "12") or a unit number; None when it
    can be neither, so the list is empty without a query."""
    unit = one(db, "SELECT id FROM units WHERE number = ? COLLATE NOCASE", (q,))
    number = q.removeprefix("#")
    clauses, values = [], []
    if TICKET_NUMBER.fullmatch(number):
        clauses.append("t.id = ?")
        values.append(int(number))
    if unit is not None:
        clauses.append("t.unit_id = ?")
        values.append(unit["id"])
    if not clauses:
        return None
    return "(" + " OR ".join(clauses) + ")", values


def counts(db: sqlite_utils.Database, clock) -> dict:
    """For the navigation badge: open tickets and how many of them are overdue."""
    # Two counts, each from one index (tickets_status, tickets_sla_open); without
    # ANALYZE statistics SQLite would pick tickets_status for the second and read rows.
    opened = one(
        db,
        "SELECT COUNT(*) AS n FROM tickets WHERE status IN ('new', 'assigned', 'in_progress')",
    )
    late = one(
        db,
        "SELECT COUNT(*) AS n FROM tickets INDEXED BY tickets_sla_open"
        " WHERE status IN ('new', 'assigned', 'in_progress') AND sla_due_at > '' AND sla_due_at < ?",
        (to_iso(clock.now()),),
    )
    return {"open": opened["n"], "overdue": late["n"]}
