"""Exactly-once kiosk writes (SECURITY.md 14).

The record of a key is written in the same transaction as the business row,
so a crash cannot leave one without the other: a retry after the console died
between commit and response gets the original answer, not a second record.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import sqlite_utils

from shared.clock import to_iso
from shared.db import one
from shared.errors import IdempotencyKeyReused


def request_hash(secret_key: str, method: str, path: str, body: dict) -> str:
    """A keyed fingerprint of the request: bodies can hold a pickup code, and a plain
    hash of a 6-digit code is undone offline in a second."""
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False)
    return hmac.new(
        secret_key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def replay(
    db: sqlite_utils.Database, kiosk_id: int, key: str, fingerprint: str
) -> tuple[int, dict] | None:
    """The stored (status, body) for this key, or None if it is new."""
    row = one(
        db,
        "SELECT request_hash, response_status, response_body FROM idempotency_records"
        " WHERE kiosk_id = ? AND key = ?",
        (kiosk_id, key),
    )
    if row is None:
        return None
    if row["request_hash"] != fingerprint:
        raise IdempotencyKeyReused()
    return row["response_status"], json.loads(row["response_body"])


def remember(
    db: sqlite_utils.Database,
    clock,
    kiosk_id: int,
    key: str,
    fingerprint: str,
    status: int,
    body: dict,
) -> None:
    db.execute(
        "INSERT INTO idempotency_records (kiosk_id, key, request_hash, response_status,"
        " response_body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (
            kiosk_id,
            key,
            fingerprint,
            status,
            json.dumps(body, ensure_ascii=False),
            to_iso(clock.now()),
        ),
    )
