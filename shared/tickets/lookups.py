"""The ticket's signed QR and rating link, and the kiosk's status check by QR or by
number + unit (throttled per kiosk)."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from shared import audit, signing
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest
from shared.tickets.model import (
    LOOKUP_MISS_LIMIT,
    LOOKUP_MISSED,
    LOOKUP_WINDOW,
    QR_VALID_FOR,
    RATING_LINK_VALID_FOR,
    TICKET_NUMBER,
    TICKET_QR,
    TICKET_RATING,
    LookupThrottled,
    TicketNotFound,
)
from shared.tickets.queries import get, resident_summary


def ticket_qr(secret_key: str, ticket: dict, now: datetime) -> str:
    """The status QR on the kiosk's receipt: the ticket id, signed; nothing else."""
    return signing.sign(secret_key, TICKET_QR, {"t": ticket["id"]}, now + QR_VALID_FOR)


def rating_link_token(secret_key: str, ticket: dict, now: datetime) -> str:
    """For the rating link in the "resolved" message; bound to this resolution."""
    return signing.sign(
        secret_key,
        TICKET_RATING,
        {"t": ticket["id"], "r": ticket["reopened_count"]},
        now + RATING_LINK_VALID_FOR,
    )


def rating_url(public_url: str, secret_key: str, ticket: dict, now: datetime) -> str:
    return f"{public_url.rstrip('/')}/rate/{rating_link_token(secret_key, ticket, now)}"


def by_qr(db, clock, secret_key: str, qr) -> dict:
    payload = signing.verify(secret_key, TICKET_QR, qr, clock.now())
    ticket_id = payload.get("t")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise signing.TokenInvalid()
    return get(db, ticket_id)


def _by_number(db, number: str, unit: str) -> dict | None:
    number = number.strip().removeprefix("#")
    if not TICKET_NUMBER.fullmatch(number) or not 1 <= len(unit.strip()) <= 12:
        return None
    row = one(
        db,
        "SELECT t.id FROM tickets t JOIN units u ON u.id = t.unit_id"
        " WHERE t.id = ? AND u.number = ?",
        (int(number), unit.strip()),
    )
    return get(db, row["id"]) if row else None


def _check_lookup_throttle(db, clock, actor: str) -> None:
    """429 once `actor` had LOOKUP_MISS_LIMIT misses within LOOKUP_WINDOW.

    The misses are the audit log's own rows (one per miss, append-only, so a
    restart forgets nothing). Newest first through the (action, id) index, and
    only back to the window's start: a few rows, however long the log."""
    now = clock.now()
    since = to_iso(now - LOOKUP_WINDOW)
    recent = []
    rows = db.execute(
        "SELECT actor, at FROM audit_log WHERE action = ? ORDER BY id DESC", (LOOKUP_MISSED,)
    )
    try:
        for row_actor, at in rows:
            if at <= since:
                return
            if row_actor == actor:
                recent.append(parse_utc(at))
                if len(recent) == LOOKUP_MISS_LIMIT:
                    frees_at = recent[-1] + LOOKUP_WINDOW  # the oldest of the last five
                    raise LookupThrottled((frees_at - now).total_seconds())
    finally:
        rows.close()


def lookup(
    db: sqlite_utils.Database, clock, secret_key: str, body, *, kiosk_id: int | None = None
) -> dict:
    """The kiosk's status check: {"qr"} or {"number", "unit"} → resident_summary.

    By number + unit, a miss is audited (ticket.lookup_missed) and a kiosk with
    LOOKUP_MISS_LIMIT misses in LOOKUP_WINDOW gets LookupThrottled (429) for every
    number + unit look-up, found or not, until the oldest miss ages out."""
    if not isinstance(body, dict) or set(body) not in ({"qr"}, {"number", "unit"}):
        raise InvalidRequest('send {"qr": "..."} or {"number": "...", "unit": "..."}')
    if "qr" in body:
        return resident_summary(db, clock, by_qr(db, clock, secret_key, body["qr"]))
    number, unit = body["number"], body["unit"]
    if not isinstance(number, str) or not isinstance(unit, str):
        raise InvalidRequest('send {"qr": "..."} or {"number": "...", "unit": "..."}')
    actor = f"kiosk:{kiosk_id}" if kiosk_id is not None else "system"
    with write_transaction(db):
        _check_lookup_throttle(db, clock, actor)
        ticket = _by_number(db, number, unit)
        if ticket is None:
            audit.record(
                db,
                clock,
                actor=actor,
                action=LOOKUP_MISSED,
                detail={"number": number.strip()[:20], "unit": unit.strip()[:12]},
            )
    if ticket is None:
        raise TicketNotFound()
    return resident_summary(db, clock, ticket)
