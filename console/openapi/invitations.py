"""A visitor's invitation pass (shared/invitations/, docs/INVITATIONS.md)."""

from __future__ import annotations

from console.openapi.parts import (
    COMMON_ERRORS,
    ERROR,
    LANGUAGE,
    TIME,
    errors,
    json_answer,
    kiosk_write,
)

_REFUSAL = {
    "allOf": [
        ERROR,
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
_ANSWER = {
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


def paths() -> dict:
    return {**_pass_key(), **_redeem()}


def _pass_key() -> dict:
    return {
        "/pass-key": {
            "get": {
                "summary": "The public key that signs invitation passes, and the revoked ones",
                "responses": {
                    "200": json_answer(
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
                    **errors(401),
                },
            }
        },
    }


def _redeem() -> dict:
    return {
        "/invitations/redeem": {
            "post": kiosk_write(
                summary="Check a scanned invitation pass, or sign its visitor in (once a day)",
                request={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["pass"],
                    "properties": {
                        "pass": {"type": "string", "minLength": 1, "maxLength": 512},
                        "confirm": {"type": "boolean", "default": True},
                        "offline": {"type": "boolean", "default": False},
                        "language": LANGUAGE,
                        "created_at": TIME,
                    },
                },
                responses={
                    "200": json_answer(
                        _ANSWER, "the pass is valid: whom it is for (confirm false)"
                    ),
                    "201": json_answer(_ANSWER, "signed in, or waiting for staff (see_staff)"),
                    **{
                        str(status): json_answer(_REFUSAL, "refused (audited)")
                        for status in (403, 409, 410)
                    },
                    **errors(*COMMON_ERRORS, 422),
                },
            )
        },
    }
