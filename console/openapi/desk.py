"""What a kiosk reports to the desk: a call for help, a dead letter, a refused request."""

from __future__ import annotations

from console.openapi.parts import (
    COMMON_ERRORS,
    LANGUAGE,
    TIME,
    closed_object,
    errors,
    json_answer,
    kiosk_write,
)


def paths() -> dict:
    return {**_escalations_and_alerts(), **_refused()}


def _escalations_and_alerts() -> dict:
    return {
        "/escalations": {
            "post": kiosk_write(
                summary="Call reception",
                request=closed_object(
                    ["kind", "created_at"],
                    {
                        "kind": {"type": "string", "enum": ["help"]},
                        "created_at": TIME,
                        "language": LANGUAGE,
                        "screen": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
                    },
                ),
                responses={
                    "201": json_answer(
                        {"type": "object", "required": ["id", "status", "received_at"]}, "recorded"
                    ),
                    **errors(*COMMON_ERRORS, 422),
                },
            )
        },
        "/alerts": {
            "post": kiosk_write(
                summary="Report an item the kiosk dead-lettered (never a silent drop)",
                request=closed_object(
                    ["kind", "item_kind", "error", "created_at"],
                    {
                        "kind": {"type": "string", "enum": ["dead_letter"]},
                        "item_kind": {"type": "string", "minLength": 1, "maxLength": 40},
                        "error": {"type": "string", "maxLength": 300},
                        "created_at": TIME,
                    },
                ),
                responses={
                    "201": json_answer({"type": "object", "required": ["id"]}, "recorded"),
                    **errors(*COMMON_ERRORS, 422),
                },
            )
        },
    }


def _refused() -> dict:
    return {
        "/refused": {
            "post": kiosk_write(
                summary="Send back a request this console refused, whole, for the desk",
                description=(
                    "It waits in the live queue until staff resend it (once the "
                    "cause is fixed) or discard it. The same key again keeps it once."
                ),
                request=closed_object(
                    ["key", "path"],
                    {
                        "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
                        "path": {"type": "string", "pattern": "^/api/v1/", "maxLength": 64},
                        "kind": {"type": "string", "maxLength": 40},
                        "body": {"type": "string", "description": "the request as sent"},
                        "error": {"type": "string", "maxLength": 300},
                        "language": LANGUAGE,
                    },
                ),
                responses={
                    "201": json_answer({"type": "object", "required": ["id"]}, "kept for the desk"),
                    **errors(*COMMON_ERRORS, 422),
                },
            )
        },
    }
