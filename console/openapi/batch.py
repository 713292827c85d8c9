"""A kiosk's backlog in one request: each item answered as if sent alone."""

from __future__ import annotations

from console.openapi.parts import COMMON_ERRORS, DEPTH, body, closed_object, errors, json_answer

_ITEM = closed_object(
    ["key", "path", "body"],
    {
        "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
        "path": {"type": "string", "maxLength": 64},
        "body": {"type": "object"},
    },
)
_ANSWER = {
    "type": "object",
    "required": ["key", "status", "body"],
    "properties": {
        "key": {"type": "string"},
        "status": {"type": "integer"},
        "body": {"type": "object"},
    },
}


def paths() -> dict:
    return {
        "/batch": {
            "post": {
                "summary": "Send queued writes together (a backlog after an outage)",
                "description": "Up to 100 writes to /api/v1/escalations, /alerts, /visits, "
                "/visits/sign-out, /tickets or /tickets/rating, applied in transactions of 20, "
                "each under its own Idempotency-Key exactly as if sent alone (a parcel "
                "pickup always travels alone). An item refused by the kiosk's backlog "
                "allowance is answered 429 with retry_after; the others still apply.",
                "parameters": [DEPTH],
                "requestBody": body(
                    closed_object(
                        ["items"],
                        {
                            "items": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 100,
                                "items": _ITEM,
                            }
                        },
                    )
                ),
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {"results": {"type": "array", "items": _ANSWER}},
                        },
                        "every item's answer, in order",
                    ),
                    **errors(*COMMON_ERRORS),
                },
            }
        }
    }
