"""What the idle screen shows: notices, their pictures, the emergency broadcast."""

from __future__ import annotations

from console.openapi.parts import TIME, errors, json_answer


def paths() -> dict:
    return {**_notices(), **_broadcast()}


def _notices() -> dict:
    return {
        "/announcements": {
            "get": {
                "summary": "Notices for the idle screen: showing now and scheduled, highest priority first",
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "required": ["now", "announcements"],
                            "properties": {
                                "now": TIME,
                                "announcements": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    ),
                    **errors(401),
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
                    **errors(401, 404),
                },
            }
        },
    }


def _broadcast() -> dict:
    return {
        "/broadcast": {
            "get": {
                "summary": "The emergency broadcast on now (null when none), for a kiosk starting or reconnecting",
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "required": ["emergency", "latest_id"],
                            "properties": {
                                "emergency": {"type": "object", "nullable": True},
                                "latest_id": {"type": "integer"},
                            },
                        }
                    ),
                    **errors(401),
                },
            }
        },
    }
