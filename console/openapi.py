"""The kiosk API described as OpenAPI 3, served at /api/v1/openapi.json.

Kept true by tests: every /api/v1 route is described here and nothing else is
(tests/test_openapi.py), and schemathesis drives the live server from this
document (no 5xx, no invalid input accepted).
"""

from __future__ import annotations

from shared.protocol import API_PREFIX

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_TIME = {"type": "string", "format": "date-time", "maxLength": 40}
_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Made once when the item is queued; reused on every retry.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
}
_DEPTH = {
    "name": "X-Outbox-Depth",
    "in": "header",
    "required": False,
    "description": "How many items the kiosk still has to send (heartbeat).",
    "schema": {"type": "string", "pattern": "^[0-9]{1,7}$"},
}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending this request again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _errors(*statuses: int) -> dict:
    answers = {}
    for status in statuses:
        answer = {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        if status == 429:
            answer["description"] = "too many requests: wait Retry-After seconds"
            answer["headers"] = _RETRY_AFTER
        answers[str(status)] = answer
    return answers


def _rate_limited_writes(paths: dict) -> dict:
    """Every write (it carries an Idempotency-Key) may be refused with 429 + Retry-After:
    the kiosk's allowance of new writes (a burst, then about one a second) is used up.
    A replayed key is never refused."""
    for item in paths.values():
        for operation in item.values():
            if _KEY in operation.get("parameters", []):
                operation["responses"].setdefault("429", _errors(429)["429"])
    return paths


def _json(schema: dict, description: str = "ok") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_PHONE = {"type": "string", "maxLength": 20, "description": "Chinese mobile (11 digits) or E.164"}
_COMMON_ERRORS = (400, 401, 413)


def _batch_paths() -> dict:
    """A kiosk's backlog in one request: each item answered as if sent alone."""
    item = {
        "type": "object",
        "required": ["key", "path", "body"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
            "path": {"type": "string", "maxLength": 64},
            "body": {"type": "object"},
        },
    }
    answer = {
        "type": "object",
        "required": ["key", "status", "body"],
        "properties": {
            "key": {"type": "string"},
            "status": {"type": "integer"},
            "body": {"type": "object"},
        },
    }
    return {
        "/batch": {
            "post": {
                "summary": "Send queued writes together (a backlog after an outage)",
                "description": "Up to 100 writes to /api/v1/escalations, /alerts, /visits, "
                "/visits/sign-out, /tickets or /tickets/rating, applied in transactions of 20, "
                "each under its own Idempotency-Key exactly as if sent alone (a parcel "
                "pickup always travels alone). An item refused by the kiosk's backlog "
                "allowance is answered 429 with retry_after; the others still apply.",
                "parameters": [_DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["items"],
                        "additionalProperties": False,
                        "properties": {
                            "items": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 100,
                                "items": item,
                            }
                        },
                    }
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {"results": {"type": "array", "items": answer}},
                        },
                        "every item's answer, in order",
                    ),
                    **_errors(*_COMMON_ERRORS),
                },
            }
        }
    }


def _ticket_paths() -> dict:
    """Repairs and complaints (shared/tickets/): report, look up, rate."""
    from shared import ticket_catalog, tickets

    find_by = [
        {
            "type": "object",
            "required": ["qr"],
            "additionalProperties": False,
            "properties": {"qr": {"type": "string", "minLength": 1, "maxLength": 512}},
        },
        {
            "type": "object",
            "required": ["number", "unit"],
            "additionalProperties": False,
            "properties": {
                "number": {"type": "string", "pattern": "^#?[0-9]{1,12}$"},
                "unit": {"type": "string", "minLength": 1, "maxLength": 12},
            },
        },
    ]
    rating = {
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "reasons": {
            "type": "array",
            "maxItems": len(ticket_catalog.REASON_KEYS),
            "items": {"type": "string", "enum": list(ticket_catalog.REASON_KEYS)},
        },
        "comment": {"type": "string", "maxLength": tickets.MAX_COMMENT},
    }
    rate_by = {
        "type": "object",
        "required": ["qr", "rating"],
        "additionalProperties": False,
        "properties": {**find_by[0]["properties"], **rating},
    }
    summary = {
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
    return {
        "/tickets": {
            "post": {
                "summary": "Report a repair or complaint (emergencies also call reception)",
                "description": "category.problem from the catalog (shared/ticket_catalog.py); "
                "an emergency problem forces urgency 'emergency'. The photo is a base64 "
                "JPEG or PNG of at most 2 MB, stored re-encoded without metadata.",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["unit", "category", "problem"],
                        "additionalProperties": False,
                        "properties": {
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
                            "language": {"type": "string", "enum": ["zh_CN", "en"]},
                            "created_at": _TIME,
                        },
                    }
                ),
                "responses": {
                    "201": _json(
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
                    **_errors(*_COMMON_ERRORS, 422, 503),
                },
            }
        },
        "/tickets/lookup": {
            "post": {
                "summary": "A ticket's status for the resident: by its QR, or number + unit",
                "description": "Ticket numbers are sequential, so look-ups by number + unit "
                f"are throttled per kiosk: each miss (404) is audited, and after "
                f"{tickets.LOOKUP_MISS_LIMIT} misses in "
                f"{int(tickets.LOOKUP_WINDOW.total_seconds() // 60)} minutes every number + "
                "unit look-up from that kiosk gets 429 too_many_attempts with Retry-After "
                "(until the oldest miss ages out). Look-ups by QR are never throttled.",
                "requestBody": _body({"oneOf": find_by}),
                "responses": {"200": _json(summary), **_errors(*_COMMON_ERRORS, 404, 410, 429)},
            }
        },
        "/tickets/rating": {
            "post": {
                "summary": "Rate a resolved ticket 1-5 (reasons when 3 or less), once",
                "description": "Only with the signed QR from the ticket's receipt (the resident "
                "scans it); a body with number + unit is refused with 400 rating_needs_qr. "
                "Residents without the receipt rate through the link in the 'resolved' message.",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(rate_by),
                "responses": {
                    "200": _json(summary, "rated"),
                    **_errors(*_COMMON_ERRORS, 404, 409, 410, 422),
                },
            }
        },
    }


def _invitation_paths() -> dict:
    """A visitor's invitation pass (shared/invitations/, docs/INVITATIONS.md)."""
    refusal = {
        "allOf": [
            _ERROR,
            {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {
                            "call_reception": {"type": "boolean"},
                            "reason": {"type": "string"},
                            "escalation_id": {"type": "integer"},
                        },
                    }
                },
            },
        ]
    }
    answer = {
        "type": "object",
        "required": ["outcome", "invitation_id", "unit", "greeting_zh", "greeting_en"],
        "properties": {
            "outcome": {"type": "string", "enum": ["valid", "signed_in", "see_staff"]},
            "invitation_id": {"type": "integer"},
            "visit_id": {"type": "integer"},
            "masked_name": {"type": "string", "nullable": True},
            "unit": {"type": "string"},
            "party_size": {"type": "integer"},
            "purpose": {"type": "string"},
            "greeting_zh": {"type": "string"},
            "greeting_en": {"type": "string"},
            "pass_token": {"type": "string", "description": "the visit's sign-out pass"},
        },
    }
    return {
        "/pass-key": {
            "get": {
                "summary": "The public key that signs invitation passes, and the revoked ones",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["algorithm", "public_key", "scheme", "building_id"],
                            "properties": {
                                "algorithm": {"type": "string", "enum": ["Ed25519"]},
                                "public_key": {"type": "string"},
                                "scheme": {"type": "string"},
                                "building_id": {"type": "integer"},
                                "revoked": {"type": "array", "items": {"type": "integer"}},
                            },
                        }
                    ),
                    **_errors(401),
                },
            }
        },
        "/invitations/redeem": {
            "post": {
                "summary": "Check a scanned invitation pass, or sign its visitor in (once a day)",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["pass"],
                        "properties": {
                            "pass": {"type": "string", "minLength": 1, "maxLength": 512},
                            "confirm": {"type": "boolean", "default": True},
                            "offline": {"type": "boolean", "default": False},
                            "language": {"type": "string", "enum": ["zh_CN", "en"]},
                            "created_at": _TIME,
                        },
                    }
                ),
                "responses": {
                    "200": _json(answer, "the pass is valid: whom it is for (confirm false)"),
                    "201": _json(answer, "signed in, or waiting for staff (see_staff)"),
                    **{
                        str(status): _json(refusal, "refused (audited)")
                        for status in (403, 409, 410)
                    },
                    **_errors(*_COMMON_ERRORS, 422),
                },
            }
        },
    }


def document(long_poll_seconds: float) -> dict:
    paths = {
        "/pair": {
            "post": {
                "summary": "Exchange a one-time pairing code for this kiosk's token",
                "security": [],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["code"],
                        "additionalProperties": False,
                        "properties": {
                            "code": {"type": "string", "minLength": 4, "maxLength": 32},
                            "device": {"type": "string", "maxLength": 80},
                        },
                    }
                ),
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["token", "kiosk", "building"],
                            "properties": {
                                "token": {"type": "string"},
                                "kiosk": {"type": "object"},
                                "building": {"type": "object"},
                            },
                        },
                        "paired",
                    ),
                    # 429: too many failed pairings from this address (console/limits.py)
                    **_errors(400, 409, 410, 413, 429),
                },
            }
        },
        "/ping": {
            "get": {
                "summary": "Heartbeat: last seen and outbox depth",
                "parameters": [_DEPTH],
                "responses": {
                    "200": _json({"type": "object", "required": ["ok", "time"]}),
                    **_errors(400, 401),
                },
            }
        },
        "/settings": {
            "get": {
                "summary": "What the kiosk shows: building names, retention, visitor options",
                "responses": {"200": _json({"type": "object"}), **_errors(401)},
            }
        },
        "/escalations": {
            "post": {
                "summary": "Call reception",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["kind", "created_at"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"type": "string", "enum": ["help"]},
                            "created_at": _TIME,
                            "language": {"type": "string", "enum": ["zh_CN", "en"]},
                            "screen": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
                        },
                    }
                ),
                "responses": {
                    "201": _json(
                        {"type": "object", "required": ["id", "status", "received_at"]}, "recorded"
                    ),
                    **_errors(*_COMMON_ERRORS, 422),
                },
            }
        },
        "/alerts": {
            "post": {
                "summary": "Report an item the kiosk dead-lettered (never a silent drop)",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["kind", "item_kind", "error", "created_at"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"type": "string", "enum": ["dead_letter"]},
                            "item_kind": {"type": "string", "minLength": 1, "maxLength": 40},
                            "error": {"type": "string", "maxLength": 300},
                            "created_at": _TIME,
                        },
                    }
                ),
                "responses": {
                    "201": _json({"type": "object", "required": ["id"]}, "recorded"),
                    **_errors(*_COMMON_ERRORS, 422),
                },
            }
        },
        "/refused": {
            "post": {
                "summary": "Send back a request this console refused, whole, for the desk",
                "description": "It waits in the live queue until staff resend it (once the "
                "cause is fixed) or discard it. The same key again keeps it once.",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["key", "path"],
                        "additionalProperties": False,
                        "properties": {
                            "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
                            "path": {"type": "string", "pattern": "^/api/v1/", "maxLength": 64},
                            "kind": {"type": "string", "maxLength": 40},
                            "body": {"type": "string", "description": "the request as sent"},
                            "error": {"type": "string", "maxLength": 300},
                            "language": {"type": "string", "enum": ["zh_CN", "en"]},
                        },
                    }
                ),
                "responses": {
                    "201": _json({"type": "object", "required": ["id"]}, "kept for the desk"),
                    **_errors(*_COMMON_ERRORS, 422),
                },
            }
        },
        "/feed": {
            "get": {
                "summary": "Long-poll for news for this kiosk after a cursor",
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {
                        "name": "wait",
                        "in": "query",
                        "schema": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": long_poll_seconds,
                        },
                    },
                    {
                        "name": "epoch",
                        "in": "query",
                        "description": "the epoch of the last answer; absent or another one:"
                        " events are read from min(after, base)",
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["events", "cursor", "epoch", "base"],
                            "properties": {
                                "events": {"type": "array"},
                                "cursor": {"type": "integer"},
                                "epoch": {
                                    "type": "string",
                                    "description": "this database's feed history; a restore"
                                    " makes a new one. Store it with the cursor.",
                                },
                                "base": {
                                    "type": "integer",
                                    "description": "the event id the epoch started after",
                                },
                            },
                        }
                    ),
                    **_errors(400, 401),
                },
            }
        },
        "/units/{number}": {
            "get": {
                "summary": "Does this host unit exist? (residents stay private)",
                "parameters": [
                    {
                        "name": "number",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 12},
                    }
                ],
                "responses": {
                    "200": _json({"type": "object", "required": ["unit", "exists"]}),
                    **_errors(401, 404, 422),
                },
            }
        },
        "/visitors/lookup": {
            "post": {
                "summary": "Returning visitor by phone: only a masked name is returned",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["phone"],
                        "additionalProperties": False,
                        "properties": {"phone": _PHONE, "last_visit": {"type": "boolean"}},
                    }
                ),
                "responses": {
                    "200": _json({"type": "object", "required": ["found", "masked_name"]}),
                    # 429: the kiosk's look-ups in the window are used up (console/limits.py)
                    **_errors(*_COMMON_ERRORS, 429),
                },
            }
        },
        "/resident-link": {
            "post": {
                "summary": "Send a resident a fresh link to their own page",
                "description": "The unit and the resident's mobile (or its last 4 digits). "
                "The answer is the same whether or not a resident matched; a match gets the "
                "link on their own contact channel. Throttled per kiosk (429) and per resident "
                "(silently).",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["unit", "phone"],
                        "additionalProperties": False,
                        "properties": {
                            "unit": {"type": "string", "minLength": 1, "maxLength": 40},
                            "phone": {"type": "string", "minLength": 4, "maxLength": 20},
                        },
                    }
                ),
                "responses": {
                    "200": _json({"type": "object", "required": ["requested", "message"]}),
                    **_errors(*_COMMON_ERRORS, 422),
                },
            }
        },
        "/visits": {
            "post": {
                "summary": "Register a visitor",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["unit", "created_at"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string", "maxLength": 40},
                            "phone": _PHONE,
                            "returning": {"type": "boolean"},
                            "unit": {"type": "string", "maxLength": 12},
                            "purpose": {
                                "type": "string",
                                "enum": ["visit", "delivery", "contractor", "interview", "other"],
                            },
                            "party_size": {"type": "integer", "minimum": 1, "maximum": 10},
                            "language": {"type": "string", "enum": ["zh_CN", "en"]},
                            "created_at": _TIME,
                        },
                    }
                ),
                "responses": {
                    "201": _json(
                        {"type": "object", "required": ["id", "status", "received_at"]},
                        "registered",
                    ),
                    **_errors(*_COMMON_ERRORS, 404, 422),
                },
            }
        },
        "/visits/sign-out": {
            "post": {
                "summary": "Sign a visitor out by the pass QR or the phone number",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "maxProperties": 1,
                        "properties": {
                            "pass": {"type": "string", "maxLength": 512},
                            "phone": _PHONE,
                        },
                    }
                ),
                "responses": {
                    "200": _json(
                        {"type": "object", "required": ["visit_id", "masked_name"]}, "signed out"
                    ),
                    **_errors(*_COMMON_ERRORS, 404, 410, 422),
                },
            }
        },
        "/parcels/pickup": {
            "post": {
                "summary": "Collect every waiting parcel of a unit: unit + 6-digit code, or the signed QR",
                "parameters": [_KEY, _DEPTH],
                "requestBody": _body(
                    {
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["unit", "code"],
                                "additionalProperties": False,
                                "properties": {
                                    "unit": {"type": "string", "maxLength": 12},
                                    "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                                },
                            },
                            {
                                "type": "object",
                                "required": ["qr"],
                                "additionalProperties": False,
                                "properties": {"qr": {"type": "string", "maxLength": 512}},
                            },
                        ]
                    }
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["parcels"],
                            "properties": {"parcels": {"type": "array"}},
                        },
                        "released, exactly once",
                    ),
                    **_errors(*_COMMON_ERRORS, 404, 409, 410, 422, 423, 429),
                },
            }
        },
        **_ticket_paths(),
        **_batch_paths(),
        **_invitation_paths(),
        "/announcements": {
            "get": {
                "summary": "Notices for the idle screen: showing now and scheduled, highest priority first",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["now", "announcements"],
                            "properties": {
                                "now": _TIME,
                                "announcements": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    ),
                    **_errors(401),
                },
            }
        },
        "/announcements/{announcement_id}/image": {
            "get": {
                "summary": "A notice's picture (JPEG, re-encoded without metadata)",
                "parameters": [
                    {
                        "name": "announcement_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the picture",
                        "content": {
                            "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **_errors(401, 404),
                },
            }
        },
        "/broadcast": {
            "get": {
                "summary": "The emergency broadcast on now (null when none), for a kiosk starting or reconnecting",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["emergency", "latest_id"],
                            "properties": {
                                "emergency": {"type": "object", "nullable": True},
                                "latest_id": {"type": "integer"},
                            },
                        }
                    ),
                    **_errors(401),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"})},
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Lobby Desk kiosk API",
            "version": "1",
            "description": "What a lobby kiosk may ask of its console. Every write carries an "
            "Idempotency-Key (same key → the original answer; same key, other body → 422). "
            "New writes are rate-limited per kiosk (a burst, then about one a second): 429 "
            '{"error": {"code": "rate_limited", "message", "retry_after"}} with Retry-After; '
            "a replayed key is never limited.",
        },
        "servers": [{"url": API_PREFIX}],
        "components": {"securitySchemes": {"kiosk": {"type": "http", "scheme": "bearer"}}},
        "security": [{"kiosk": []}],
        "paths": _rate_limited_writes(paths),
    }
