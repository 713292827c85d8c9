"""The kiosk <-> console HTTP protocol, in one place for both sides.

Every kiosk write is a POST with `Authorization: Bearer <token>` and an
`Idempotency-Key` made once when the item was queued (SECURITY.md 14).
Errors are JSON: {"error": {"code": "...", "message": "..."}}; clients switch
on `code` and show their own text in the kiosk's language.
"""

from __future__ import annotations

import re

from shared import kiosk_time
from shared.errors import InvalidRequest

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024
LONG_POLL_MAX_SECONDS = 25
OUTBOX_DEPTH_HEADER = "X-Outbox-Depth"
IDEMPOTENCY_HEADER = "Idempotency-Key"
LANGUAGES = ("zh_CN", "en")

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SCREEN_PATTERN = re.compile(r"^[a-z_]{1,32}$")


def check_idempotency_key(key: str | None) -> str:
    from shared.errors import IdempotencyKeyMissing

    if not key:
        raise IdempotencyKeyMissing()
    if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):  # "$" allows a final \n
        raise InvalidRequest("Idempotency-Key must be 16-64 characters of A-Z a-z 0-9 _ -")
    return key


def _require_object(body) -> dict:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def _timestamp(body: dict, field: str) -> str:
    """A time the kiosk sent: refused only when it is not a time at all; whether it
    is plausible is judged where it is stored (shared/kiosk_time.py)."""
    value = body.get(field)
    kiosk_time.parse(value, field)
    return value


def validate_help_call(body) -> dict:
    """POST /api/v1/escalations: a "call reception" tap."""
    body = _require_object(body)
    unknown = set(body) - {"kind", "created_at", "language", "screen"}
    if unknown:
        raise InvalidRequest(f"unexpected fields: {', '.join(sorted(unknown))}")
    if body.get("kind") != "help":
        raise InvalidRequest("kind must be 'help'")
    language = body.get("language", "zh_CN")
    if language not in LANGUAGES:
        raise InvalidRequest(f"language must be one of {', '.join(LANGUAGES)}")
    screen = body.get("screen", "home")
    if not isinstance(screen, str) or not _SCREEN_PATTERN.match(screen):
        raise InvalidRequest("screen must be a short lower-case name")
    return {
        "kind": "help",
        "created_at": _timestamp(body, "created_at"),
        "language": language,
        "screen": screen,
    }


def validate_pairing(body) -> dict:
    body = _require_object(body)
    code = body.get("code")
    if not isinstance(code, str) or not 4 <= len(code) <= 32:
        raise InvalidRequest("code must be the pairing code shown on the console")
    device = body.get("device")
    if device is not None and (not isinstance(device, str) or len(device) > 80):
        raise InvalidRequest("device must be a short text")
    return {"code": code, "device": device}


def validate_resident_link(body) -> dict:
    """POST /api/v1/resident-link: {"unit", "phone"}; the phone is the resident's whole
    mobile or its last 4 digits. Only the shape is checked here: whether anyone
    matches is never told (shared/resident_links.py)."""
    body = _require_object(body)
    if set(body) != {"unit", "phone"}:
        raise InvalidRequest('send {"unit": "...", "phone": "<mobile or its last 4 digits>"}')
    unit, phone = body["unit"], body["phone"]
    if not isinstance(unit, str) or not 1 <= len(unit) <= 40:
        raise InvalidRequest("unit must be the unit's number")
    if not isinstance(phone, str) or not 4 <= len(phone) <= 20:
        raise InvalidRequest("phone must be the mobile number or its last 4 digits")
    return {"unit": unit.strip(), "phone": phone.strip()}


def validate_invitation_redeem(body) -> dict:
    """POST /api/v1/invitations/redeem: a scanned invitation pass (shared/invitations/).

    `confirm` false only checks the pass and says whom it is for (the confirm screen);
    `offline` true says the kiosk already let the visitor in while the console was out
    of reach (this is the sync: a refusal then goes to the desk as an escalation)."""
    body = _require_object(body)
    unknown = set(body) - {"pass", "confirm", "offline", "language", "created_at"}
    if unknown:
        raise InvalidRequest(f"unexpected fields: {', '.join(sorted(unknown))}")
    scanned = body.get("pass")
    if not isinstance(scanned, str) or not 1 <= len(scanned) <= 512:
        raise InvalidRequest('send {"pass": "<scanned pass text>"}')
    confirm, offline = body.get("confirm", True), body.get("offline", False)
    if not isinstance(confirm, bool) or not isinstance(offline, bool):
        raise InvalidRequest("confirm and offline must be true or false")
    if offline and not confirm:
        raise InvalidRequest("an offline sign-in is always confirmed")
    language = body.get("language", "zh_CN")
    if language not in LANGUAGES:
        raise InvalidRequest(f"language must be one of {', '.join(LANGUAGES)}")
    created_at = body.get("created_at")
    if created_at is not None:
        _timestamp(body, "created_at")
    return {
        "pass": scanned,
        "confirm": confirm,
        "offline": offline,
        "language": language,
        "created_at": created_at,
    }
