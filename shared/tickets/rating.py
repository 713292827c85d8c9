"""The resident's rating of a resolved ticket, once per resolution: at the kiosk
(signed QR only) or through the signed link in the "resolved" message."""

from __future__ import annotations

import json

import sqlite_utils

from shared import audit, signing
from shared import ticket_catalog as catalog
from shared.clock import to_iso
from shared.db import write_transaction
from shared.errors import InvalidRequest
from shared.tickets.lookups import by_qr
from shared.tickets.model import (
    MAX_COMMENT,
    RATED_VIA,
    TICKET_RATING,
    AlreadyRated,
    NotResolved,
    RatingLinkOutdated,
    RatingNeedsQr,
    add_update,
    clean_text,
)
from shared.tickets.queries import get, resident_summary


def _check_rating(rating, reasons, comment) -> tuple[int, list[str], str | None]:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidRequest("评分为 1-5 · rating must be a whole number 1-5")
    if reasons is None:
        reasons = []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise InvalidRequest("reasons must be a list of reason keys")
    unknown = [r for r in reasons if r not in catalog.REASON_KEYS]
    if unknown:
        raise InvalidRequest(
            f"unknown reasons: {', '.join(unknown[:3])}; use {', '.join(catalog.REASON_KEYS)}"
        )
    # In the catalog's order, once each; only a low rating asks why.
    kept = [key for key in catalog.REASON_KEYS if key in reasons]
    if rating > catalog.LOW_RATING:
        kept = []
    return rating, kept, clean_text(comment, "comment", MAX_COMMENT)


def rate(
    db: sqlite_utils.Database,
    clock,
    ticket_id: int,
    *,
    rating,
    reasons,
    comment=None,
    via: str,
    actor: str | None = None,
) -> dict:
    """The resident's rating, once per resolution; returns resident_summary."""
    if via not in RATED_VIA:
        raise InvalidRequest(f"via must be one of {', '.join(RATED_VIA)}")
    rating, reasons, comment = _check_rating(rating, reasons, comment)
    now = to_iso(clock.now())
    with write_transaction(db):
        ticket = get(db, ticket_id)
        cursor = db.execute(
            "UPDATE tickets SET rating = ?, rating_reasons = ?, rating_comment = ?, rated_at = ?,"
            " rated_via = ? WHERE id = ? AND status IN ('resolved', 'closed') AND rating IS NULL",
            (rating, json.dumps(reasons), comment, now, via, ticket["id"]),
        )
        if cursor.rowcount != 1:
            if ticket["status"] not in ("resolved", "closed"):
                raise NotResolved()
            raise AlreadyRated()
        db.execute(
            "INSERT INTO ticket_ratings (ticket_id, resolution, rating, reasons, comment, via,"
            " rated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                ticket["id"],
                ticket["reopened_count"],
                rating,
                json.dumps(reasons),
                comment,
                via,
                now,
            ),
        )
        why = "、".join(catalog.reason_label(r, "zh_CN") for r in reasons)
        why_en = ", ".join(catalog.reason_label(r, "en") for r in reasons)
        text = f"评分 {rating}/5 · Rated {rating}/5"
        if reasons:
            text += f"：{why} · {why_en}"
        if comment:
            text += f"\n{comment}"
        add_update(db, clock, ticket["id"], kind="rating", text=text)
        audit.record(
            db,
            clock,
            actor=actor or f"resident:{via}",
            action="ticket.rate",
            target=f"ticket:{ticket['id']}",
            detail={"rating": rating, "reasons": reasons, "via": via},
        )
        return resident_summary(db, clock, get(db, ticket["id"]))


def rate_by_qr(
    db: sqlite_utils.Database, clock, secret_key: str, body, *, kiosk_id: int | None = None
) -> dict:
    """The kiosk's rating: {"qr"} plus "rating", "reasons" (and optionally "comment").

    Only the signed QR on the resident's receipt rates a ticket: a ticket number
    is a sequential id and a unit is no secret, so {"number", "unit"} is refused
    with RatingNeedsQr (the resident scans the QR, or uses the link in the
    "resolved" message)."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    which = set(body) - {"rating", "reasons", "comment"}
    if which == {"number", "unit"}:
        raise RatingNeedsQr()
    if which != {"qr"} or "rating" not in body:
        raise InvalidRequest('send {"qr": "..."} with "rating" and "reasons"')
    ticket = by_qr(db, clock, secret_key, body["qr"])
    return rate(
        db,
        clock,
        ticket["id"],
        rating=body["rating"],
        reasons=body.get("reasons", []),
        comment=body.get("comment"),
        via="kiosk",
        actor=f"kiosk:{kiosk_id}" if kiosk_id is not None else None,
    )


def check_rating_link(db: sqlite_utils.Database, clock, secret_key: str, token) -> dict:
    """The ticket a rating link is for, if the link still works (else the reason, raised):
    forged → TokenInvalid, expired → TokenExpired, from before a reopen →
    RatingLinkOutdated, used → AlreadyRated."""
    payload = signing.verify(secret_key, TICKET_RATING, token, clock.now())
    ticket_id, reopened = payload.get("t"), payload.get("r")
    if not isinstance(ticket_id, int) or not isinstance(reopened, int):
        raise signing.TokenInvalid()
    ticket = get(db, ticket_id)
    if ticket["reopened_count"] != reopened:
        raise RatingLinkOutdated()
    if ticket["rating"] is not None:
        raise AlreadyRated()
    if ticket["status"] not in ("resolved", "closed"):
        raise NotResolved()
    return ticket


def rate_by_link(
    db: sqlite_utils.Database, clock, secret_key: str, token, *, rating, reasons, comment=None
) -> dict:
    with write_transaction(db):
        ticket = check_rating_link(db, clock, secret_key, token)
        return rate(
            db,
            clock,
            ticket["id"],
            rating=rating,
            reasons=reasons,
            comment=comment,
            via="link",
        )
