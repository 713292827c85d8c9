"""Pickup codes: made, hashed, sealed until sent; and the signed pickup QR."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets

from shared import signing
from shared.clock import parse_utc

CODE_DIGITS = 6
_CODE_HASH_PURPOSE = b"lobbydesk.parcel-code"
_CODE_SEAL_PURPOSE = b"lobbydesk.parcel-code-seal"
CODE_PATTERN = re.compile(r"^[0-9]{6}$")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(secret_key: str, unit_id: int, code: str) -> str:
    """HMAC-SHA-256 of the code, bound to its unit, keyed with the console's secret."""
    message = _CODE_HASH_PURPOSE + f"|{unit_id}|{code}".encode()
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _keystream(secret_key: str, nonce: str) -> bytes:
    return hmac.new(
        secret_key.encode("utf-8"), _CODE_SEAL_PURPOSE + b"|" + nonce.encode(), hashlib.sha256
    ).digest()


def seal_code(secret_key: str, code: str) -> str:
    nonce = secrets.token_hex(8)
    sealed = bytes(
        a ^ b for a, b in zip(code.encode(), _keystream(secret_key, nonce), strict=False)
    )
    return f"{nonce}.{sealed.hex()}"


def unseal_code(secret_key: str, sealed: str) -> str:
    nonce, _dot, data = sealed.partition(".")
    raw = bytes.fromhex(data)
    plain = bytes(a ^ b for a, b in zip(raw, _keystream(secret_key, nonce), strict=False))
    return plain.decode("utf-8", "replace")


def pickup_token(secret_key: str, batch: dict) -> str:
    """The QR: ids only (unit id, batch id), signed, expiring with the batch."""
    return signing.sign(
        secret_key,
        signing.PARCEL_PICKUP,
        {"u": batch["unit_id"], "b": batch["id"]},
        parse_utc(batch["expires_at"]),
    )


def qr_png(text: str) -> bytes:
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(text, box_size=8, border=3).save(buffer, format="PNG")
    return buffer.getvalue()
