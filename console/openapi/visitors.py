"""Visitors and residents at the kiosk: host units, returning visitors, sign-in and out,
the resident's own link."""

from __future__ import annotations

from console.openapi.parts import (
    COMMON_ERRORS,
    LANGUAGE,
    PHONE,
    TIME,
    body,
    closed_object,
    errors,
    json_answer,
    kiosk_write,
)


def paths() -> dict:
    return {**_lookups(), **_resident_link(), **_visits(), **_sign_out()}


def _lookups() -> dict:
    return {
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
                    "200": json_answer({"type": "object", "required": ["unit", "exists"]}),
                    **errors(401, 404, 422),
                },
            }
        },
        "/visitors/lookup": {
            "post": {
                "summary": "Returning visitor by phone: only a masked name is returned",
                "requestBody": body(
                    closed_object(["phone"], {"phone": PHONE, "last_visit": {"type": "boolean"}})
                ),
                "responses": {
                    "200": json_answer({"type": "object", "required": ["found", "masked_name"]}),
                    # 429: the kiosk's look-ups in the window are used up (console/limits.py)
                    **errors(*COMMON_ERRORS, 429),
                },
            }
        },
    }


def _resident_link() -> dict:
    return {
        "/resident-link": {
            "post": kiosk_write(
                summary="Send a resident a fresh link to their own page",
                description=(
                    "The unit and the resident's mobile (or its last 4 digits). "
                    "The answer is the same whether or not a resident matched; a match gets the "
                    "link on their own contact channel. Throttled per kiosk (429) and per resident "
                    "(silently)."
                ),
                request=closed_object(
                    ["unit", "phone"],
                    {
                        "unit": {"type": "string", "minLength": 1, "maxLength": 40},
                        "phone": {"type": "string", "minLength": 4, "maxLength": 20},
                    },
                ),
                responses={
                    "200": json_answer({"type": "object", "required": ["requested", "message"]}),
                    **errors(*COMMON_ERRORS, 422),
                },
            )
        },
    }


def _visits() -> dict:
    return {
        "/visits": {
            "post": kiosk_write(
                summary="Register a visitor",
                request=closed_object(
                    ["unit", "created_at"],
                    {
                        "name": {"type": "string", "maxLength": 40},
                        "phone": PHONE,
                        "returning": {"type": "boolean"},
                        "unit": {"type": "string", "maxLength": 12},
                        "purpose": {
                            "type": "string",
                            "enum": ["visit", "delivery", "contractor", "interview", "other"],
                        },
                        "party_size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "language": LANGUAGE,
                        "created_at": TIME,
                    },
                ),
                responses={
                    "201": json_answer(
                        {"type": "object", "required": ["id", "status", "received_at"]},
                        "registered",
                    ),
                    **errors(*COMMON_ERRORS, 404, 422),
                },
            )
        },
    }


def _sign_out() -> dict:
    return {
        "/visits/sign-out": {
            "post": kiosk_write(
                summary="Sign a visitor out by the pass QR or the phone number",
                request={
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {
                        "pass": {"type": "string", "maxLength": 512},
                        "phone": PHONE,
                    },
                },
                responses={
                    "200": json_answer(
                        {"type": "object", "required": ["visit_id", "masked_name"]}, "signed out"
                    ),
                    **errors(*COMMON_ERRORS, 404, 410, 422),
                },
            )
        },
    }
