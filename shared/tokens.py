"""Random secrets and how we store them.

Tokens carry 256 random bits from `secrets`; at that entropy a plain SHA-256
is a sound way to store them (SECURITY.md 13): no one can brute-force it.
"""

from __future__ import annotations

import hashlib
import secrets

# No 0/O, 1/I/L: a pairing code is read off one screen and typed on another.
_PAIRING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PAIRING_CODE_LENGTH = 10  # 31**10 ≈ 2**49, single use, 15 minutes


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_pairing_code() -> str:
    raw = "".join(secrets.choice(_PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_pairing_code(code: str) -> str:
    """Accept what people type: lower case, spaces, missing or extra dashes."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == PAIRING_CODE_LENGTH else cleaned


def new_idempotency_key() -> str:
    return secrets.token_hex(16)
