"""Kiosks: creation, one-time pairing, token authentication, revocation.

A kiosk's credential is a 256-bit bearer token handed over once at pairing;
the console keeps only its SHA-256 (SECURITY.md 13).
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlite_utils

from shared import audit, kiosk_time, tokens
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.errors import (
    InvalidRequest,
    KioskNotAuthorised,
    NotFound,
    PairingCodeExpired,
    PairingCodeInvalid,
    PairingCodeUsed,
)

PAIRING_VALID_FOR = timedelta(minutes=15)


def create(db: sqlite_utils.Database, clock, *, building_id: int, name: str, actor: str) -> dict:
    """A new, unpaired kiosk and its one-time pairing code (shown once)."""
    name = " ".join(name.split())[:60]
    if not name:
        raise ValueError("a kiosk needs a name")
    code = tokens.new_pairing_code()
    now = clock.now()
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO kiosks (building_id, name, pairing_code_hash, pairing_expires_at,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            (
                building_id,
                name,
                tokens.hash_token(code),
                to_iso(now + PAIRING_VALID_FOR),
                to_iso(now),
            ),
        )
        kiosk_id = cursor.lastrowid
        audit.record(db, clock, actor=actor, action="kiosk.create", target=f"kiosk:{kiosk_id}")
    return {"id": kiosk_id, "name": name, "pairing_code": code}


def new_pairing_code(db: sqlite_utils.Database, clock, kiosk_id: int, *, actor: str) -> str:
    """Re-pair a kiosk (new device, lost token): the old token stops working."""
    code = tokens.new_pairing_code()
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE kiosks SET pairing_code_hash = ?, pairing_expires_at = ?, token_hash = NULL,"
            " revoked_at = NULL WHERE id = ?",
            (tokens.hash_token(code), to_iso(clock.now() + PAIRING_VALID_FOR), kiosk_id),
        )
        if cursor.rowcount != 1:
            raise NotFound(f"没有这台终端 · Kiosk {kiosk_id} does not exist.")
        audit.record(db, clock, actor=actor, action="kiosk.repair_code", target=f"kiosk:{kiosk_id}")
    return code


def pair(db: sqlite_utils.Database, clock, code: str, *, device: str | None = None) -> dict:
    """Exchange a pairing code for the kiosk's token (returned once, never stored)."""
    code_hash = tokens.hash_token(tokens.normalise_pairing_code(code))
    token = tokens.new_token()
    now = clock.now()
    with write_transaction(db):
        kiosk = one(db, "SELECT * FROM kiosks WHERE pairing_code_hash = ?", (code_hash,))
        if kiosk is None:
            raise PairingCodeInvalid()
        if kiosk["paired_at"] and kiosk["token_hash"]:
            raise PairingCodeUsed()
        if parse_utc(kiosk["pairing_expires_at"]) < now:
            raise PairingCodeExpired()
        db.execute(
            "UPDATE kiosks SET token_hash = ?, paired_at = ?, last_seen_at = ? WHERE id = ?",
            (tokens.hash_token(token), to_iso(now), to_iso(now), kiosk["id"]),
        )
        audit.record(
            db,
            clock,
            actor=f"kiosk:{kiosk['id']}",
            action="kiosk.pair",
            target=f"kiosk:{kiosk['id']}",
            device=device,
        )
    building = one(db, "SELECT * FROM buildings WHERE id = ?", (kiosk["building_id"],))
    return {
        "token": token,
        "kiosk": {"id": kiosk["id"], "name": kiosk["name"]},
        "building": {"name": building["name"], "name_en": building["name_en"]},
    }


def authenticate(db: sqlite_utils.Database, token: str | None) -> dict:
    if not token:
        raise KioskNotAuthorised()
    kiosk = one(
        db,
        "SELECT * FROM kiosks WHERE token_hash = ? AND revoked_at IS NULL",
        (tokens.hash_token(token),),
    )
    if kiosk is None:
        raise KioskNotAuthorised()
    return kiosk


HEARTBEAT_RESOLUTION_SECONDS = 10


def heartbeat_due(kiosk: dict, clock, outbox_depth: int | None) -> bool:
    """Write last-seen at most every 10 s (a commit costs an fsync), or when the depth moved."""
    if outbox_depth is not None and outbox_depth != kiosk["outbox_depth"]:
        return True
    seen = kiosk["last_seen_at"]
    return (
        not seen or (clock.now() - parse_utc(seen)).total_seconds() >= HEARTBEAT_RESOLUTION_SECONDS
    )


def record_heartbeat(db, clock, kiosk_id: int, outbox_depth: int | None) -> None:
    """Last seen and outbox depth, for the console's kiosk list."""
    if outbox_depth is None:
        db.execute(
            "UPDATE kiosks SET last_seen_at = ? WHERE id = ?", (to_iso(clock.now()), kiosk_id)
        )
    else:
        db.execute(
            "UPDATE kiosks SET last_seen_at = ?, outbox_depth = ? WHERE id = ?",
            (to_iso(clock.now()), outbox_depth, kiosk_id),
        )


def revoke(db: sqlite_utils.Database, clock, kiosk_id: int, *, actor: str) -> None:
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE kiosks SET revoked_at = ?, pairing_code_hash = NULL"
            " WHERE id = ? AND revoked_at IS NULL",
            (to_iso(clock.now()), kiosk_id),
        )
        if cursor.rowcount != 1:
            raise NotFound(
                f"没有这台终端或已停用 · Kiosk {kiosk_id} does not exist or is already revoked."
            )
        audit.record(db, clock, actor=actor, action="kiosk.revoke", target=f"kiosk:{kiosk_id}")


def list_all(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM kiosks ORDER BY id"))


ALERT_KINDS = ("dead_letter", "storage_salvaged")
_MAX_COUNT = 10_000_000


def record_alert(db: sqlite_utils.Database, clock, kiosk_id: int, body) -> dict:
    """A kiosk reports an item it had to dead-letter, or that its own storage was
    found damaged and salvaged. Call inside the API's transaction."""
    kind = body.get("kind") if isinstance(body, dict) else None
    if kind == "storage_salvaged":
        item_kind, error = _storage_salvaged(body)
    elif kind == "dead_letter":
        item_kind, error = _dead_letter(body)
    elif not isinstance(body, dict):
        raise InvalidRequest("send a JSON object")
    else:
        raise InvalidRequest("kind must be 'dead_letter' or 'storage_salvaged'")
    now = clock.now()
    sent = kiosk_time.judge(body.get("created_at"), now)
    cursor = db.execute(
        "INSERT INTO kiosk_alerts (kiosk_id, kind, item_kind, error, created_at, received_at,"
        " clock_doubtful) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kiosk_id, kind, item_kind, error, sent.stored, to_iso(now), int(sent.doubtful)),
    )
    return {"id": cursor.lastrowid}


def _dead_letter(body: dict) -> tuple[str, str]:
    if set(body) - {"kind", "item_kind", "error", "created_at"}:
        raise InvalidRequest("send kind, item_kind, error and created_at")
    item_kind, error = body.get("item_kind"), body.get("error")
    if not isinstance(item_kind, str) or not 0 < len(item_kind) <= 40:
        raise InvalidRequest("item_kind must be a short text")
    if not isinstance(error, str) or len(error) > 300:
        raise InvalidRequest("error must be at most 300 characters")
    return item_kind, error


def _storage_salvaged(body: dict) -> tuple[str, str]:
    """kiosk.db was damaged and salvaged (kiosk/salvage.py): the counts are kept, as
    JSON in the alert's error column, for the kiosks page to show in both languages."""
    if set(body) - {"kind", "salvaged", "lost", "uncertain", "created_at"}:
        raise InvalidRequest("send kind, salvaged, lost, created_at and optionally uncertain")
    counts = {}
    for name in ("salvaged", "lost"):
        value = body.get(name)
        if type(value) is not int or not 0 <= value <= _MAX_COUNT:  # (not a bool)
            raise InvalidRequest(f"{name} must be a whole number from 0 to {_MAX_COUNT}")
        counts[name] = value
    uncertain = body.get("uncertain", False)
    if not isinstance(uncertain, bool):
        raise InvalidRequest("uncertain must be true or false")
    counts["uncertain"] = uncertain
    return "kiosk.db", json.dumps(counts)


def storage_counts(alert: dict) -> dict | None:
    """The counts of a storage_salvaged alert (None for any other alert)."""
    if alert.get("kind") != "storage_salvaged":
        return None
    try:
        counts = json.loads(alert.get("error") or "")
    except ValueError:
        return None
    return counts if isinstance(counts, dict) else None


def open_alerts(db: sqlite_utils.Database) -> list[dict]:
    alerts = db.query(
        "SELECT a.*, k.name AS kiosk_name FROM kiosk_alerts a JOIN kiosks k ON k.id = a.kiosk_id"
        " WHERE a.dismissed_at IS NULL ORDER BY a.id"
    )
    return [{**alert, "storage": storage_counts(alert)} for alert in alerts]


def dismiss_alert(db: sqlite_utils.Database, clock, alert_id: int, *, staff_id: int) -> None:
    with write_transaction(db):
        db.execute(
            "UPDATE kiosk_alerts SET dismissed_at = ?, dismissed_by = ? WHERE id = ? AND dismissed_at IS NULL",
            (to_iso(clock.now()), staff_id, alert_id),
        )
        audit.record(
            db,
            clock,
            actor=f"staff:{staff_id}",
            action="kiosk.alert_dismiss",
            target=f"alert:{alert_id}",
        )
