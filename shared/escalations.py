"""Escalations: anything at the kiosk that needs a person (S3, S7).

The 60-second clock of S3 runs from `received_at`, the console's own time,
so a kiosk with a wrong clock cannot make the desk look faster or slower.
"""

from __future__ import annotations

import sqlite_utils

from shared import audit, feed, kiosk_time, terms
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import NotFound, StaleState

RESPONSE_STANDARD_SECONDS = 60  # S3: on-site reception within one minute
WARNING_FROM_SECONDS = 45


def raise_help_call(
    db: sqlite_utils.Database, clock, *, kiosk_id: int, created_at: str, language: str, screen: str
) -> dict:
    """Record a "call reception" from a kiosk. Call inside the API's transaction.
    A kiosk clock that is far off never loses the call: its time is flagged."""
    now = clock.now()
    sent = kiosk_time.judge(created_at, now)
    cursor = db.execute(
        "INSERT INTO escalations (kiosk_id, kind, language, screen, created_at, received_at,"
        " clock_doubtful) VALUES (?, 'help', ?, ?, ?, ?, ?)",
        (kiosk_id, language, screen, sent.stored, to_iso(now), int(sent.doubtful)),
    )
    return get(db, cursor.lastrowid)


def raise_code_lockout(
    db: sqlite_utils.Database, clock, *, kiosk_id: int | None, unit_number: str
) -> dict:
    """Too many wrong pickup codes for a unit: reception checks who is at the kiosk.
    Call inside the pickup's transaction. The unit goes in the note; never the code."""
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO escalations (kiosk_id, kind, screen, note, created_at, received_at)"
        " VALUES (?, 'code_lockout', 'parcel_pickup', ?, ?, ?)",
        (kiosk_id, f"房号 · Unit {unit_number}", now, now),
    )
    return get(db, cursor.lastrowid)


PICKUP_SPRAY_SCREEN = "pickup_spray"  # a code_lockout for a whole kiosk, not one unit
PICKUP_SPRAY_LABEL = "可疑取件尝试 · Suspicious pickup attempts"


def _spray_note(wrong: int, units: int) -> str:
    return f"{wrong} 次错误取件码，{units} 个房号 · {wrong} wrong codes across {units} units"


def raise_or_count_pickup_spray(
    db: sqlite_utils.Database, clock, *, kiosk_id: int, wrong: int, units: int
) -> tuple[dict, bool]:
    """A kiosk sprays wrong pickup codes across units: ONE escalation per kiosk while it
    is unresolved, its note kept up to date with the count. Call inside the pickup's
    transaction. (kind 'code_lockout', screen 'pickup_spray': the same desk action —
    go and see who is at the kiosk — without rebuilding the table for a new kind.)
    Returns (the escalation, whether it is new)."""
    row = one(
        db,
        "SELECT id FROM escalations WHERE kiosk_id = ? AND kind = 'code_lockout'"
        " AND screen = ? AND status != 'resolved' ORDER BY id DESC LIMIT 1",
        (kiosk_id, PICKUP_SPRAY_SCREEN),
    )
    if row is not None:
        db.execute(
            "UPDATE escalations SET note = ? WHERE id = ?", (_spray_note(wrong, units), row["id"])
        )
        return get(db, row["id"]), False
    now = to_iso(clock.now())
    cursor = db.execute(
        "INSERT INTO escalations (kiosk_id, kind, screen, note, created_at, received_at)"
        " VALUES (?, 'code_lockout', ?, ?, ?, ?)",
        (kiosk_id, PICKUP_SPRAY_SCREEN, _spray_note(wrong, units), now, now),
    )
    return get(db, cursor.lastrowid), True


def get(db: sqlite_utils.Database, escalation_id: int) -> dict:
    row = one(db, "SELECT * FROM escalations WHERE id = ?", (escalation_id,))
    if row is None:
        raise NotFound(f"没有这条求助 · Escalation {escalation_id} does not exist.")
    return row


def acknowledge(db: sqlite_utils.Database, clock, escalation_id: int, *, staff_id: int) -> dict:
    """Staff said "on my way": the kiosk is told through its feed."""
    now = to_iso(clock.now())
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE escalations SET status = 'acknowledged', acknowledged_at = ?,"
            " acknowledged_by = ?, owner_id = ? WHERE id = ? AND status = 'open'",
            (now, staff_id, staff_id, escalation_id),
        )
        row = get(db, escalation_id)
        if cursor.rowcount != 1:
            raise StaleState(
                f"这条求助已{terms.term('escalation_status', row['status'], 'zh')} · Escalation"
                f" {escalation_id} is already {terms.term('escalation_status', row['status'], 'en')}."
            )
        staff = one(db, "SELECT display_name FROM staff WHERE id = ?", (staff_id,))
        if row["kiosk_id"]:
            feed.append(
                db,
                clock,
                row["kiosk_id"],
                "escalation.acknowledged",
                {"escalation_id": escalation_id, "staff_name": staff["display_name"]},
            )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="escalation.acknowledge",
            target=f"escalation:{escalation_id}",
        )
    return row


def resolve(db: sqlite_utils.Database, clock, escalation_id: int, *, staff_id: int) -> dict:
    now = to_iso(clock.now())
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE escalations SET status = 'resolved', resolved_at = ?, resolved_by = ?,"
            " acknowledged_at = COALESCE(acknowledged_at, ?),"
            " acknowledged_by = COALESCE(acknowledged_by, ?)"
            " WHERE id = ? AND status != 'resolved'",
            (now, staff_id, now, staff_id, escalation_id),
        )
        row = get(db, escalation_id)
        if cursor.rowcount != 1:
            raise StaleState(f"这条求助已处理 · Escalation {escalation_id} is already resolved.")
        if row["kiosk_id"]:
            feed.append(
                db, clock, row["kiosk_id"], "escalation.resolved", {"escalation_id": escalation_id}
            )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="escalation.resolve",
            target=f"escalation:{escalation_id}",
        )
    return row


def live_queue(db: sqlite_utils.Database) -> list[dict]:
    """What reception must act on, oldest first."""
    return list(
        db.query(
            "SELECT e.*, k.name AS kiosk_name, s.display_name AS acknowledged_by_name"
            " FROM escalations e LEFT JOIN kiosks k ON k.id = e.kiosk_id"
            " LEFT JOIN staff s ON s.id = e.acknowledged_by"
            " WHERE e.status != 'resolved' ORDER BY e.received_at, e.id"
        )
    )


def waiting_seconds(row: dict, clock) -> float:
    """How long the person at the kiosk has waited (until acknowledged)."""
    end = parse_utc(row["acknowledged_at"]) if row["acknowledged_at"] else clock.now()
    return (end - parse_utc(row["received_at"])).total_seconds()


def clock_state(seconds: float) -> str:
    """The S3 colour: ok, then warning from 45 s, overdue past 60 s."""
    if seconds > RESPONSE_STANDARD_SECONDS:
        return "overdue"
    if seconds >= WARNING_FROM_SECONDS:
        return "warning"
    return "ok"
