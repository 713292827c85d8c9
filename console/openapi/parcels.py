"""A parcel pickup at the kiosk (shared/parcels/)."""

from __future__ import annotations

from console.openapi.parts import COMMON_ERRORS, DEPTH, KEY, body, errors, json_answer


def paths() -> dict:
    return {
        "/parcels/pickup": {
            "post": {
                "summary": "Collect every waiting parcel of a unit: unit + 6-digit code, or the signed QR",
                "parameters": [KEY, DEPTH],
                "requestBody": body(
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
                    "200": json_answer(
                        {
                            "type": "object",
                            "required": ["parcels"],
                            "properties": {"parcels": {"type": "array"}},
                        },
                        "released, exactly once",
                    ),
                    **errors(*COMMON_ERRORS, 404, 409, 410, 422, 423, 429),
                },
            }
        },
    }
