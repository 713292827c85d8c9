"""A kiosk's own connection: pairing, heartbeat, settings and the long-polled feed."""

from __future__ import annotations

from console.openapi.parts import DEPTH, body, closed_object, errors, json_answer


def pairing() -> dict:
    return {
        "/pair": {
            "post": {
                "summary": "Exchange a one-time pairing code for this kiosk's token",
                "security": [],
                "requestBody": body(
                    closed_object(
                        ["code"],
                        {
                            "code": {"type": "string", "minLength": 4, "maxLength": 32},
                            "device": {"type": "string", "maxLength": 80},
                        },
                    )
                ),
                "responses": {
                    "201": json_answer(
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
                    **errors(400, 409, 410, 413, 429),
                },
            }
        },
        "/ping": {
            "get": {
                "summary": "Heartbeat: last seen and outbox depth",
                "parameters": [DEPTH],
                "responses": {
                    "200": json_answer({"type": "object", "required": ["ok", "time"]}),
                    **errors(400, 401),
                },
            }
        },
        "/settings": {
            "get": {
                "summary": "What the kiosk shows: building names, retention, visitor options",
                "responses": {"200": json_answer({"type": "object"}), **errors(401)},
            }
        },
    }


def feed(long_poll_seconds: float) -> dict:
    return {
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
                    "200": json_answer(
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
                    **errors(400, 401),
                },
            }
        },
    }
