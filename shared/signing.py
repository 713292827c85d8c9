"""Signed tokens for QR codes and links: HMAC-SHA-256 with a purpose salt.

itsdangerous signs with SHA-1 by default; SECURITY.md 10 asks for SHA-256.
Payloads carry ids only: a signed payload is readable by anyone (SECURITY.md 21).
Expiry is checked against the injectable clock, so tests can move time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer

from shared.errors import LobbyDeskError

VISITOR_PASS = "lobbydesk.visitor-pass"  # noqa: S105 - a purpose salt, not a secret
PARCEL_PICKUP = "lobbydesk.parcel-pickup"  # a purpose salt
MAX_TOKEN_LENGTH = 512


class TokenInvalid(LobbyDeskError):
    """此码在这里无效，请到前台 · This code is not valid here. Please see reception."""

    code = "token_invalid"


class TokenExpired(LobbyDeskError):
    """此码已过期，请到前台 · This code has expired. Please see reception."""

    code = "token_expired"
    http_status = 410


def _serializer(secret_key: str, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        secret_key, salt=purpose, signer_kwargs={"digest_method": hashlib.sha256}
    )


def sign(secret_key: str, purpose: str, payload: dict, expires_at: datetime) -> str:
    return _serializer(secret_key, purpose).dumps({**payload, "exp": int(expires_at.timestamp())})


def verify(secret_key: str, purpose: str, token, now: datetime) -> dict:
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise TokenInvalid()
    try:
        payload = _serializer(secret_key, purpose).loads(token)
    except BadSignature as error:
        raise TokenInvalid() from error
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise TokenInvalid()
    if payload["exp"] < now.timestamp():
        raise TokenExpired()
    return payload
