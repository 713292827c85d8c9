"""The kiosk <-> console HTTP protocol, in one place for both sides.

Every kiosk write is a POST with `Authorization: Bearer <token>` and an
`Idempotency-Key` made once when the item was queued (SECURITY.md 14).
Errors are JSON: {"error": {"code": "...", "message": "..."}}; clients switch
on `code` and show their own text in the kiosk's language.
"""

from __future__ import annotations

import re

from shared.clock import parse_utc
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
    if not _KEY_PATTERN.match(key):
        raise InvalidRequest("Idempotency-Key must be 16-64 characters of A-Z a-z 0-9 _ -")
    return key


def _require_object(body) -> dict:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def _timestamp(body: dict, field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidRequest(f"{field} must be an ISO 8601 time with a zone")
    try:
        moment = parse_utc(value)
    except (ValueError, OverflowError) as error:  # overflow: year 1 or 9999 moved to UTC
        raise InvalidRequest(f"{field} must be an ISO 8601 time with a zone") from error
    if not 2000 <= moment.year < 2100:
        raise InvalidRequest(f"{field} must be a time between 2000 and 2099")
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
