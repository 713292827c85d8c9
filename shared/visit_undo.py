"""Undo a visitor decision made by mistake, within seconds (docs/LIVE_QUEUE.md).

A receptionist who pressed "confirm" or "deny" on the wrong row can take it back
for UNDO_SECONDS. The visit is pending again: back in the live queue with its
first `received_at` (its S3 clock was never reset), and the kiosk is told with a
`visit.reopened` event on its feed. A kiosk still showing that visitor's pass or
"please see reception" goes back to "please wait" (kiosk/viewmodels/visitor.py);
the pass already shown stops working, since a sign-out needs a confirmed visit.
The visitor has "moved on" once they signed out: then there is nothing to undo.

Kept apart from shared/visitors.py (already at its size limit); it uses its
`get` and is the one path for an undo, from any screen.
"""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from shared import audit, feed, visitors
from shared.clock import parse_utc, to_iso
from shared.db import write_transaction
from shared.errors import LobbyDeskError, StaleState

UNDO_SECONDS = 10  # what the desk is offered
# The server accepts a click a little after the offer ends: the click made at 9.9 s
# is still on its way.
UNDO_GRACE_SECONDS = 3
UNDOABLE = ("confirmed", "denied")


class UndoExpired(StaleState):
    """这项决定已无法撤销 · This decision can no longer be undone."""

    code = "undo_expired"


class NotYourDecision(LobbyDeskError):
    """只有做出决定的前台可以撤销 · Only the person who decided can undo it."""

    code = "not_your_decision"
    http_status = 403


def undo_until(visit: dict) -> str | None:
    """When the desk stops offering an undo of this visit's decision (ISO, UTC)."""
    if visit["status"] not in UNDOABLE or not visit["decided_at"]:
        return None
    return to_iso(parse_utc(visit["decided_at"]) + timedelta(seconds=UNDO_SECONDS))


def undo_decision(db: sqlite_utils.Database, clock, visit_id: int, *, staff_id: int) -> dict:
    """Put a confirmed or denied visit back to pending, once, within the window, by the
    staff member who decided. Returns the visit and `host_told`: whether a "your
    visitor has arrived" message was already on its way (it cannot be called back)."""
    now = clock.now()
    with write_transaction(db):
        visit = visitors.get(db, visit_id)
        _check_undoable(visit, now, staff_id)
        earlier = visit["decision_method"]
        db.execute(
            "UPDATE visits SET status = 'pending', decided_at = NULL, decided_by = NULL,"
            " decision_method = NULL, deny_reason = NULL, host_notified_at = NULL"
            " WHERE id = ? AND status = ?",
            (visit_id, visit["status"]),
        )
        host_told = _withdraw_host_message(db, visit_id)
        if visit["kiosk_id"]:
            feed.append(db, clock, visit["kiosk_id"], "visit.reopened", {"visit_id": visit_id})
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="visit.undo",
            target=f"visit:{visit_id}",
            detail={"undid": earlier, "host_told": host_told},
        )
        visit = visitors.get(db, visit_id)
    return {**visit, "host_told": host_told}


def _check_undoable(visit: dict, now, staff_id: int) -> None:
    if visit["status"] not in UNDOABLE or not visit["decided_at"]:
        # pending already (undone twice), or signed out: the visitor moved on
        raise UndoExpired(
            f"已无可撤销的决定 · Nothing to undo: the visit is now {visit['status']}."
        )
    if visit["decided_by"] != staff_id:
        raise NotYourDecision()
    limit = parse_utc(visit["decided_at"]) + timedelta(seconds=UNDO_SECONDS + UNDO_GRACE_SECONDS)
    if now > limit:
        raise UndoExpired()


def _withdraw_host_message(db: sqlite_utils.Database, visit_id: int) -> bool:
    """Drop the host's "visitor arrived" message if no try has been made yet; True if
    one was already tried or sent (the host may have been told)."""
    related = f"visit:{visit_id}"
    db.execute(
        "DELETE FROM notifications WHERE related = ? AND kind = 'visitor.arrived'"
        " AND status = 'pending' AND attempts = 0 AND NOT EXISTS (SELECT 1 FROM"
        " notification_attempts a WHERE a.source = 'notification' AND a.message_id ="
        " notifications.id)",
        (related,),
    )
    left = db.execute(
        "SELECT COUNT(*) FROM notifications WHERE related = ? AND kind = 'visitor.arrived'",
        (related,),
    ).fetchone()[0]
    return left > 0


def offers(db: sqlite_utils.Database, clock, staff_id: int) -> list[dict]:
    """This staff member's decisions still open to an undo, newest first: what the
    queue page offers after a decision made without script (POST-redirect-GET)."""
    since = to_iso(clock.now() - timedelta(seconds=UNDO_SECONDS))
    return list(
        db.query(
            "SELECT v.*, u.number AS unit_number FROM visits v"
            " LEFT JOIN units u ON u.id = v.unit_id WHERE v.decided_by = ?"
            " AND v.decided_at >= ? AND v.status IN ('confirmed', 'denied')"
            " ORDER BY v.decided_at DESC, v.id DESC LIMIT 3",
            (staff_id, since),
        )
    )
