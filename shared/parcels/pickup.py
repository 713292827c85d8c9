"""Pickup at the kiosk: by unit and code or by QR, every waiting parcel of the batch
released exactly once. `pickup` returns what happened as a PickupOutcome; the console
(console/pickup_answers.py) says it in HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

from shared import audit, building, signing
from shared.clock import parse_utc, to_iso
from shared.db import one
from shared.errors import InvalidRequest, LobbyDeskError
from shared.parcels.batches import building_settings, close_batch, get_batch, waiting_in_batch
from shared.parcels.codes import CODE_PATTERN, code_hash
from shared.parcels.guessing import (
    CodeEntryPaused,
    active_pause,
    check_kiosk_throttle,
    record_attempt,
    wrong_code,
)
from shared.parcels.handover import create_handover
from shared.parcels.tracking import carrier_label, tracking_tail
from shared.terms import plural

RELEASE_METHODS = {
    "kiosk_code": "终端取件码 · Kiosk, code",
    "kiosk_qr": "终端二维码 · Kiosk, QR",
    "desk_qr": "前台扫码 · Desk, QR",
    "desk": "前台交付 · Desk",
}


class InvalidCodeFormat(LobbyDeskError):
    """取件码为 6 位数字 · A pickup code is 6 digits."""

    code = "invalid_code_format"


class AlreadyCollected(LobbyDeskError):
    """这些快递已被取走 · These parcels were already collected."""

    code = "already_collected"
    http_status = 410


class CodeExpired(LobbyDeskError):
    """取件码已过期，请到前台 · This pickup code has expired. Please see reception."""

    code = "code_expired"
    http_status = 410


def validate_pickup(body) -> dict:
    """POST /api/v1/parcels/pickup: {"unit", "code"} or {"qr"}."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    if set(body) == {"qr"}:
        if not isinstance(body["qr"], str) or not 1 <= len(body["qr"]) <= signing.MAX_TOKEN_LENGTH:
            raise InvalidRequest("qr must be the scanned text")
        return {"qr": body["qr"]}
    if set(body) == {"unit", "code"}:
        unit, code = body["unit"], body["code"]
        if not isinstance(unit, str) or not 1 <= len(unit.strip()) <= 12:
            raise InvalidRequest("unit must be the unit number")
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            raise InvalidCodeFormat()
        return {"unit": unit.strip(), "code": code}
    raise InvalidRequest('send {"unit": "1201", "code": "123456"} or {"qr": "<scanned text>"}')


def batch_from_token(db, clock, secret_key: str, token) -> dict:
    """The open batch a pickup QR names; TokenInvalid / TokenExpired / AlreadyCollected /
    CodeExpired otherwise."""
    payload = signing.verify(secret_key, signing.PARCEL_PICKUP, token, clock.now())
    unit_id, batch_id = payload.get("u"), payload.get("b")
    if not isinstance(unit_id, int) or not isinstance(batch_id, int):
        raise signing.TokenInvalid()
    batch = get_batch(db, batch_id)
    if batch is None or batch["unit_id"] != unit_id:
        raise signing.TokenInvalid()
    check_open(db, clock, batch)
    return batch


def check_open(db, clock, batch: dict) -> None:
    if batch["status"] == "collected":
        raise AlreadyCollected()
    if batch["status"] == "expired" or parse_utc(batch["expires_at"]) <= clock.now():
        raise CodeExpired()


def release(
    db: sqlite_utils.Database,
    clock,
    batch: dict,
    *,
    method: str,
    kiosk_id: int | None = None,
    staff_id: int | None = None,
) -> list[dict]:
    """Release every waiting parcel of the batch, exactly once. Call inside write_transaction."""
    if method not in RELEASE_METHODS:
        raise InvalidRequest(f"method must be one of {', '.join(RELEASE_METHODS)}")
    parcels = waiting_in_batch(db, batch["id"])
    now = to_iso(clock.now())
    at_desk = method.startswith("desk")
    # The guard (SECURITY.md 19): one UPDATE on status; zero rows means someone was first.
    cursor = db.execute(
        "UPDATE parcels SET status = 'collected', collected_at = ?, release_method = ?,"
        " released_by = ?, released_kiosk_id = ?, handed_over_at = ?, handed_over_by = ?"
        " WHERE batch_id = ? AND status = 'waiting'",
        (
            now,
            method,
            staff_id,
            kiosk_id,
            now if at_desk else None,
            staff_id if at_desk else None,
            batch["id"],
        ),
    )
    if cursor.rowcount == 0 or cursor.rowcount != len(parcels):
        raise AlreadyCollected()
    if not close_batch(db, batch["id"], "collected", now):
        raise AlreadyCollected()
    actor = f"staff:{staff_id}" if staff_id else f"kiosk:{kiosk_id}"
    audit.record(
        db,
        clock,
        actor=actor,
        action="parcel.release",
        target=f"parcel_batch:{batch['id']}",
        detail={
            "method": method,
            "unit": batch.get("unit_number"),
            "parcels": [p["id"] for p in parcels],
        },
    )
    return parcels


@dataclass(frozen=True)
class PickupOutcome:
    """What a kiosk pickup came to: the parcels released and where they are collected,
    or the refusal to remember (a wrong code, a rejected QR, the lockout)."""

    parcels: list[dict] = field(default_factory=list)
    self_service: bool = False
    refused: LobbyDeskError | None = None


def pickup(
    db: sqlite_utils.Database, clock, *, secret_key: str, kiosk_id: int, body
) -> PickupOutcome:
    """The kiosk's pickup, inside the API's write transaction.

    Outcomes that must be remembered (a release, a wrong code, a rejected QR, a
    lockout) are returned so they commit with the idempotency record; refusals
    made before looking at the code (bad input, throttle, pause) are raised and
    leave nothing behind, so a retry after the wait is evaluated afresh.
    """
    fields = validate_pickup(body)
    settings = building_settings(db)
    try:
        if "qr" in fields:
            batch, method = _batch_by_qr(db, clock, secret_key, kiosk_id, fields["qr"]), "kiosk_qr"
        else:
            batch, method = _batch_by_code(db, clock, secret_key, kiosk_id, fields), "kiosk_code"
    except _Refused as refused:
        return PickupOutcome(refused=refused.error)
    parcels = release(db, clock, batch, method=method, kiosk_id=kiosk_id)
    self_service = bool(settings["parcel_self_service"])
    if not self_service:
        create_handover(db, clock, batch, parcels, kiosk_id=kiosk_id, method=method)
    return PickupOutcome(parcels=parcels, self_service=self_service)


class _Refused(Exception):
    """A refusal already written down (audit, attempt): answered, and committed."""

    def __init__(self, error: LobbyDeskError):
        self.error = error
        super().__init__(error.code)


def _batch_by_qr(db, clock, secret_key: str, kiosk_id: int, token: str) -> dict:
    try:
        return batch_from_token(db, clock, secret_key, token)
    except (signing.TokenInvalid, signing.TokenExpired, AlreadyCollected, CodeExpired) as no:
        audit.record(
            db, clock, actor=f"kiosk:{kiosk_id}", action="parcel.qr_rejected",
            detail={"reason": no.code},
        )  # fmt: skip
        raise _Refused(no) from None


def _batch_by_code(db, clock, secret_key: str, kiosk_id: int, fields: dict) -> dict:
    unit = building.unit_by_number(db, fields["unit"])
    check_kiosk_throttle(db, clock, kiosk_id, unit["id"])
    pause = active_pause(db, clock, unit["id"])
    if pause is not None:
        raise CodeEntryPaused(parse_utc(pause["paused_until"]), clock.now())
    batch = one(
        db,
        "SELECT b.*, u.number AS unit_number FROM parcel_batches b"
        " JOIN units u ON u.id = b.unit_id WHERE b.unit_id = ? AND b.code_hash = ?"
        " ORDER BY b.id DESC LIMIT 1",
        (unit["id"], code_hash(secret_key, unit["id"], fields["code"])),
    )
    if batch is None:
        raise _Refused(wrong_code(db, clock, unit, kiosk_id))
    try:
        check_open(db, clock, batch)
    except (AlreadyCollected, CodeExpired) as no:
        audit.record(
            db, clock, actor=f"kiosk:{kiosk_id}", action="parcel.code_rejected",
            target=f"parcel_batch:{batch['id']}", detail={"reason": no.code},
        )  # fmt: skip
        raise _Refused(no) from None
    record_attempt(db, clock, unit_id=unit["id"], kiosk_id=kiosk_id, outcome="ok")
    return batch


def pickup_answer(parcels: list[dict], self_service: bool) -> dict:
    count = len(parcels)
    shelves = "、".join(dict.fromkeys(p["shelf"] for p in parcels if p["shelf"]))
    # "1 parcel … take it", "2 parcels … take them": the catalogue's forms (shared/terms.py)
    if self_service:
        zh, en = (
            plural("parcels_found_shelf", count, lang, shelves=shelves) for lang in ("zh", "en")
        )
    else:
        zh, en = (plural("parcels_found_desk", count, lang) for lang in ("zh", "en"))
    return {
        "parcels": [
            {
                "carrier": carrier_label(p["carrier"]),
                "shelf": p["shelf"],
                "tracking_tail": tracking_tail(p["tracking_number"]),
            }
            for p in parcels
        ],
        "collect_at": "shelf" if self_service else "desk",
        "message_zh": zh,
        "message_en": en,
    }
