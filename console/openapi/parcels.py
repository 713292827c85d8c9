"""A parcel pickup at the kiosk (shared/parcels/)."""

from __future__ import annotations

from console.openapi.parts import COMMON_ERRORS, closed_object, errors, json_answer, kiosk_write


def paths() -> dict:
    return {
        "/parcels/pickup": {
            "post": kiosk_write(
                summary="Collect every waiting parcel of a unit: unit + 6-digit code, or the signed QR",
                request={
                    "oneOf": [
                        closed_object(
                            ["unit", "code"],
                            {
                                "unit": {"type": "string", "maxLength": 12},
                                "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                            },
                        ),
                        closed_object(["qr"], {"qr": {"type": "string", "maxLength": 512}}),
                    ]
                },
                responses={
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
            )
        },
    }
