"""The kiosk <-> console HTTP protocol, in one place for both sides.

Every kiosk write is a POST with `Authorization: Bearer <token>` and an
`Idempotency-Key` made once when the item was queued (SECURITY.md 14).
Errors are JSON: {"error": {"code": "...", "message": "..."}}; clients switch
on `code` and show their own text in the kiosk's language.
"""

from __future__ import annotations

import re

from shared import kiosk_time
from shared.errors import InvalidRequest, LobbyDeskError

API_PREFIX = "/api/v1"

# The kiosk <-> console protocol, a whole number apart from the software version
# (shared/version.py). Raise PROTOCOL_VERSION when the console changes the API in a
# way an older kiosk cannot follow or a newer kiosk relies on (a field removed or
# renamed, a meaning changed); additions an older kiosk can ignore need no bump.
# Raise OLDEST_KIOSK_PROTOCOL only when the console stops serving kiosks of an older
# protocol: from then they get 426 update_required and keep their items queued
# until they are updated (docs/UPGRADING.md).
PROTOCOL_VERSION = 1
OLDEST_KIOSK_PROTOCOL = 1
# Sent by the kiosk with every request; a request without it is from a kiosk made
# before these headers existed, which speaks protocol 1.
PROTOCOL_HEADER = "X-Lobbydesk-Protocol"
VERSION_HEADER = "X-Lobbydesk-Version"
PROTOCOL_BEFORE_HEADERS = 1
UPDATE_REQUIRED = "update_required"
CONSOLE_TOO_OLD = "console_too_old"
MAX_BODY_BYTES = 64 * 1024
LONG_POLL_MAX_SECONDS = 25
OUTBOX_DEPTH_HEADER = "X-Outbox-Depth"
IDEMPOTENCY_HEADER = "Idempotency-Key"
LANGUAGES = ("zh_CN", "en")

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SCREEN_PATTERN = re.compile(r"^[a-z_]{1,32}$")
_VERSION_PATTERN = re.compile(r"^[0-9A-Za-z.+_-]{1,32}$")
_PROTOCOL_PATTERN = re.compile(r"^[0-9]{1,4}$")


class ProtocolMismatch(LobbyDeskError):
    """The kiosk and the console speak protocols the other cannot serve: 426. The
    kiosk keeps the item queued (kiosk/client.py), it is not refused for good."""

    http_status = 426

    def __init__(self, code: str, message: str, kiosk_protocol: int, kiosk_version: str | None):
        super().__init__(message)
        self.code = code
        self.kiosk_protocol = kiosk_protocol
        self.kiosk_version = kiosk_version

    def details(self) -> dict:
        """The versions beside code and message, for a kiosk log and for support."""
        return {
            "kiosk_protocol": self.kiosk_protocol,
            "kiosk_version": self.kiosk_version,
            "console_protocol": PROTOCOL_VERSION,
            "oldest_kiosk_protocol": OLDEST_KIOSK_PROTOCOL,
        }


def read_software(protocol_header: str | None, version_header: str | None):
    """(protocol, version) a kiosk announced; no protocol header counts as protocol 1
    (kiosks made before the header), no version header as None (not known)."""
    if protocol_header is None:
        protocol_number = PROTOCOL_BEFORE_HEADERS
    elif _PROTOCOL_PATTERN.fullmatch(protocol_header):
        protocol_number = int(protocol_header)
    else:
        raise InvalidRequest(
            f"{PROTOCOL_HEADER} 应为整数 · {PROTOCOL_HEADER} must be a whole number."
        )
    if version_header is not None and not _VERSION_PATTERN.fullmatch(version_header):
        raise InvalidRequest(
            f"{VERSION_HEADER} 应为简短的版本号，如 0.6.0 · {VERSION_HEADER} must be a short "
            "version such as 0.6.0."
        )
    return protocol_number, version_header


def mismatch(protocol_number: int, version: str | None, console_version: str):
    """None when this console serves the kiosk's protocol, else the 426 to answer."""
    shown = version or "?"
    if protocol_number < OLDEST_KIOSK_PROTOCOL:
        return ProtocolMismatch(
            UPDATE_REQUIRED,
            f"需要更新终端：终端版本 {shown} 使用协议 {protocol_number}，控制台 "
            f"{console_version} 需要协议 ≥ {OLDEST_KIOSK_PROTOCOL} · Update this kiosk: "
            f"kiosk version {shown} speaks protocol {protocol_number}; console "
            f"{console_version} needs protocol {OLDEST_KIOSK_PROTOCOL} or newer.",
            protocol_number,
            version,
        )
    if protocol_number > PROTOCOL_VERSION:
        return ProtocolMismatch(
            CONSOLE_TOO_OLD,
            f"控制台版本过旧：终端版本 {shown} 使用协议 {protocol_number}，控制台 "
            f"{console_version} 最高支持协议 {PROTOCOL_VERSION}，请先升级控制台 · The console "
            f"is too old: kiosk version {shown} speaks protocol {protocol_number}; console "
            f"{console_version} speaks up to protocol {PROTOCOL_VERSION}. Upgrade the console.",
            protocol_number,
            version,
        )
    return None


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
