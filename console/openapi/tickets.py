"""Repairs and complaints (shared/tickets/): report, look up, rate."""

from __future__ import annotations

from console.openapi.parts import (
    COMMON_ERRORS,
    LANGUAGE,
    TIME,
    body,
    closed_object,
    errors,
    json_answer,
    kiosk_write,
)
from shared import ticket_catalog, tickets

_FIND_BY = [
    closed_object(["qr"], {"qr": {"type": "string", "minLength": 1, "maxLength": 512}}),
    closed_object(
        ["number", "unit"],
        {
            "number": {"type": "string", "pattern": "^#?[0-9]{1,12}$"},
            "unit": {"type": "string", "minLength": 1, "maxLength": 12},
        },
    ),
]
_RATING = {
    "rating": {"type": "integer", "minimum": 1, "maximum": 5},
    "reasons": {
        "type": "array",
        "maxItems": len(ticket_catalog.REASON_KEYS),
        "items": {"type": "string", "enum": list(ticket_catalog.REASON_KEYS)},
    },
    "comment": {"type": "string", "maxLength": tickets.MAX_COMMENT},
}
_RATE_BY = closed_object(["qr", "rating"], {**_FIND_BY[0]["properties"], **_RATING})
_SUMMARY = {
    "type": "object",
    "required": [
        "number",
        "status",
        "kind",
        "category",
        "problem",
        "urgency",
        "received_at",
        "sla_due_at",
        "latest_update",
        "can_rate",
        "rating",
    ],
    "properties": {
        "number": {"type": "string"},
        "status": {"type": "string", "enum": list(tickets.STATUSES)},
        "can_rate": {"type": "boolean"},
    },
}


def paths() -> dict:
    return {**_report(), **_lookup(), **_rating()}


def _report_body() -> dict:
    return closed_object(
        ["unit", "category", "problem"],
        {
            "unit": {"type": "string", "maxLength": 12},
            "category": {
                "type": "string",
                "enum": [c.key for c in ticket_catalog.CATEGORIES],
            },
            "problem": {"type": "string", "maxLength": 40},
            "urgency": {"type": "string", "enum": list(tickets.URGENCIES)},
            "description": {
                "type": "string",
                "maxLength": tickets.MAX_DESCRIPTION,
            },
            "photo": {
                "type": "string",
                "format": "byte",
                "maxLength": tickets.MAX_PHOTO_BYTES * 4 // 3 + 8,
            },
            "language": LANGUAGE,
            "created_at": TIME,
        },
    )


def _report() -> dict:
    return {
        "/tickets": {
            "post": kiosk_write(
                summary="Report a repair or complaint (emergencies also call reception)",
                description=(
                    "category.problem from the catalog (shared/ticket_catalog.py); "
                    "an emergency problem forces urgency 'emergency'. The photo is a base64 "
                    "JPEG or PNG of at most 2 MB, stored re-encoded without metadata."
                ),
                request=_report_body(),
                responses={
                    "201": json_answer(
                        {
                            "type": "object",
                            "required": [
                                "id",
                                "number",
                                "status",
                                "urgency",
                                "received_at",
                                "sla_due_at",
                                "expected_minutes",
                                "emergency",
                                "qr",
                            ],
                        },
                        "recorded",
                    ),
                    # 503 busy + Retry-After: the console's picture pool is full (retry)
                    **errors(*COMMON_ERRORS, 422, 503),
                },
            )
        },
    }


def _lookup() -> dict:
    return {
        "/tickets/lookup": {
            "post": {
                "summary": "A ticket's status for the resident: by its QR, or number + unit",
                "description": "Ticket numbers are sequential, so look-ups by number + unit "
                f"are throttled per kiosk: each miss (404) is audited, and after "
                f"{tickets.LOOKUP_MISS_LIMIT} misses in "
                f"{int(tickets.LOOKUP_WINDOW.total_seconds() // 60)} minutes every number + "
                "unit look-up from that kiosk gets 429 too_many_attempts with Retry-After "
                "(until the oldest miss ages out). Look-ups by QR are never throttled.",
                "requestBody": body({"oneOf": _FIND_BY}),
                "responses": {
                    "200": json_answer(_SUMMARY),
                    **errors(*COMMON_ERRORS, 404, 410, 429),
                },
            }
        },
    }


def _rating() -> dict:
    return {
        "/tickets/rating": {
            "post": kiosk_write(
                summary="Rate a resolved ticket 1-5 (reasons when 3 or less), once",
                description=(
                    "Only with the signed QR from the ticket's receipt (the resident "
                    "scans it); a body with number + unit is refused with 400 rating_needs_qr. "
                    "Residents without the receipt rate through the link in the 'resolved' message."
                ),
                request=_RATE_BY,
                responses={
                    "200": json_answer(_SUMMARY, "rated"),
                    **errors(*COMMON_ERRORS, 404, 409, 410, 422),
                },
            )
        },
    }
