"""Wrong codes: the unit's pause and the spraying kiosk's wait (SECURITY.md 17-18)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlite_utils

from shared import audit, escalations
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import LobbyDeskError, StaleState

UNIT_WRONG_LIMIT = 5  # wrong codes for one unit …
UNIT_WINDOW = timedelta(minutes=15)  # … within this window pause code entry …
UNIT_PAUSE = timedelta(minutes=15)  # … for this long.
KIOSK_WRONG_LIMIT = 10  # wrong codes from one kiosk, any units …
KIOSK_WINDOW = timedelta(minutes=10)  # … within this window: the kiosk is slowed,
KIOSK_FIRST_WAIT = timedelta(seconds=10)  # … waiting this long after a wrong code,
KIOSK_MAX_WAIT = timedelta(minutes=4)  # … doubling with each further one up to this.


class WrongCode(LobbyDeskError):
    """The unit and code do not match. Check the code in your message."""

    code = "wrong_code"
    http_status = 400

    def __init__(self, attempts_left: int):
        self.attempts_left = attempts_left
        super().__init__()


class CodeEntryPaused(LobbyDeskError):
    """Too many wrong codes for this unit: code entry is paused. Please see reception."""

    code = "code_entry_paused"
    http_status = 423

    def __init__(self, paused_until: datetime, now: datetime, attempts_left: int | None = None):
        self.paused_until = paused_until
        self.retry_after = max(1, math.ceil((paused_until - now).total_seconds()))
        # 0 when this wrong code itself paused the unit; None for a pause met on arrival
        self.attempts_left = attempts_left
        super().__init__()


class PickupThrottled(LobbyDeskError):
    """Too many wrong codes from this kiosk. Please wait, or see reception."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"这台终端输错取件码次数太多，请 {retry_after} 秒后再试，或联系前台 · Too many wrong "
            f"codes at this kiosk: try again in {retry_after} s, or see reception."
        )


def record_attempt(db, clock, *, unit_id: int, kiosk_id: int | None, outcome: str) -> None:
    db.execute(
        "INSERT INTO parcel_code_attempts (unit_id, kiosk_id, outcome, at) VALUES (?, ?, ?, ?)",
        (unit_id, kiosk_id, outcome, to_iso(clock.now())),
    )


def _kiosk_wait(db, clock, kiosk_id: int) -> tuple[datetime | None, bool]:
    """(until when the kiosk is slowed or None, whether the one code allowed during
    that wait was used). Worked out from the kiosk's wrong codes in KIOSK_WINDOW."""
    until, slot_used = None, False
    rows = db.query(
        "SELECT at FROM parcel_code_attempts WHERE kiosk_id = ? AND outcome = 'wrong'"
        " AND at > ? ORDER BY at, id",
        (kiosk_id, to_iso(clock.now() - KIOSK_WINDOW)),
    )
    for count, row in enumerate(rows, start=1):
        at = parse_utc(row["at"])
        if count < KIOSK_WRONG_LIMIT:
            continue
        slot_used = until is not None and at < until  # this try came during a wait
        wait = min(KIOSK_FIRST_WAIT * 2 ** (count - KIOSK_WRONG_LIMIT), KIOSK_MAX_WAIT)
        until = at + wait
    return until, slot_used


def check_kiosk_throttle(db, clock, kiosk_id: int, unit_id: int) -> None:
    """PickupThrottled while the kiosk is slowed, except one code for a unit that has
    no recent wrong codes (a resident after the sprayer left)."""
    until, slot_used = _kiosk_wait(db, clock, kiosk_id)
    now = clock.now()
    if until is None or until <= now:
        return
    if not slot_used and wrong_count(db, clock, unit_id) == 0:
        return
    raise PickupThrottled(max(1, math.ceil((until - now).total_seconds())))


def _note_spray(db, clock, kiosk_id: int | None) -> None:
    """From the kiosk's KIOSK_WRONG_LIMIT-th wrong code in the window: one escalation
    for reception (raised once, then its count kept current) and an audit row."""
    if kiosk_id is None:
        return
    recent = one(
        db,
        "SELECT COUNT(*) AS wrong, COUNT(DISTINCT unit_id) AS units FROM parcel_code_attempts"
        " WHERE kiosk_id = ? AND outcome = 'wrong' AND at > ?",
        (kiosk_id, to_iso(clock.now() - KIOSK_WINDOW)),
    )
    if recent["wrong"] < KIOSK_WRONG_LIMIT:
        return
    escalation, new = escalations.raise_or_count_pickup_spray(
        db, clock, kiosk_id=kiosk_id, wrong=recent["wrong"], units=recent["units"]
    )
    if new:
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="parcel.pickup_spray",
            target=f"kiosk:{kiosk_id}",
            detail={**recent, "escalation": escalation["id"]},
        )


def active_pause(db, clock, unit_id: int) -> dict | None:
    return one(
        db,
        "SELECT * FROM parcel_code_pauses WHERE unit_id = ? AND lifted_at IS NULL"
        " AND paused_until > ? ORDER BY id DESC LIMIT 1",
        (unit_id, to_iso(clock.now())),
    )


def wrong_count(db, clock, unit_id: int) -> int:
    """Wrong codes for the unit in the window, since its last success, pause or lift."""
    return one(
        db,
        "SELECT COUNT(*) AS n FROM parcel_code_attempts WHERE unit_id = ? AND outcome = 'wrong'"
        " AND at > ? AND id > COALESCE((SELECT MAX(id) FROM parcel_code_attempts"
        " WHERE unit_id = ? AND outcome IN ('ok', 'reset')), 0)",
        (unit_id, to_iso(clock.now() - UNIT_WINDOW), unit_id),
    )["n"]


def wrong_code(db, clock, unit: dict, kiosk_id: int | None) -> LobbyDeskError:
    """Remember a wrong code for the unit; the refusal to answer with: WrongCode with the
    attempts left, or, at the unit's limit, CodeEntryPaused (and reception is called)."""
    record_attempt(db, clock, unit_id=unit["id"], kiosk_id=kiosk_id, outcome="wrong")
    _note_spray(db, clock, kiosk_id)
    wrong = wrong_count(db, clock, unit["id"])
    if wrong < UNIT_WRONG_LIMIT:
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk_id}",
            action="parcel.code_wrong",
            target=f"unit:{unit['id']}",
            detail={"unit": unit["number"], "attempts_left": UNIT_WRONG_LIMIT - wrong},
        )
        return WrongCode(UNIT_WRONG_LIMIT - wrong)
    return _pause_unit(db, clock, unit, kiosk_id)


def _pause_unit(db, clock, unit: dict, kiosk_id: int | None) -> CodeEntryPaused:
    now = clock.now()
    paused_until = now + UNIT_PAUSE
    escalation = escalations.raise_code_lockout(
        db, clock, kiosk_id=kiosk_id, unit_number=unit["number"]
    )
    db.execute(
        "INSERT INTO parcel_code_pauses (unit_id, kiosk_id, paused_at, paused_until, escalation_id)"
        " VALUES (?, ?, ?, ?, ?)",
        (unit["id"], kiosk_id, to_iso(now), to_iso(paused_until), escalation["id"]),
    )
    record_attempt(db, clock, unit_id=unit["id"], kiosk_id=kiosk_id, outcome="reset")
    audit.record(
        db,
        clock,
        actor=f"kiosk:{kiosk_id}",
        action="parcel.code_lockout",
        target=f"unit:{unit['id']}",
        detail={"unit": unit["number"], "escalation": escalation["id"]},
    )
    return CodeEntryPaused(paused_until, now, attempts_left=0)


def lift_pause(db: sqlite_utils.Database, clock, unit_id: int, *, staff_id: int) -> None:
    """Reception checked the resident and lets code entry resume for the unit."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE parcel_code_pauses SET lifted_at = ?, lifted_by = ? WHERE unit_id = ?"
            " AND lifted_at IS NULL AND paused_until > ?",
            (to_iso(clock.now()), staff_id, unit_id, to_iso(clock.now())),
        )
        if cursor.rowcount == 0:
            raise StaleState("该房号的取件码输入没有暂停 · Code entry for this unit is not paused.")
        record_attempt(db, clock, unit_id=unit_id, kiosk_id=None, outcome="reset")
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="parcel.pause_lift",
            target=f"unit:{unit_id}",
        )


def active_pauses(db: sqlite_utils.Database, clock) -> list[dict]:
    return list(
        db.query(
            "SELECT p.*, u.number AS unit_number FROM parcel_code_pauses p"
            " JOIN units u ON u.id = p.unit_id WHERE p.lifted_at IS NULL AND p.paused_until > ?"
            " ORDER BY p.id DESC",
            (to_iso(clock.now()),),
        )
    )
