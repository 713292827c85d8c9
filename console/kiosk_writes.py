"""What a kiosk may write, and how each write is applied exactly once.

Every kiosk write (a help call, a visit, a repair …) has one handler here. The
single endpoints in console/api.py and the batch endpoint both go through
`apply_one` / `apply_batch`, so a queued item means the same thing whichever
way it travels, under the same Idempotency-Key and the same fingerprint: a
kiosk may send an item alone, lose the answer, and resend it inside a batch.

A batch is one request for many items, applied in transactions of BATCH_CHUNK
items: each item runs in its own savepoint, so one refused item rolls back alone
and the others commit together (one fsync per chunk, which is what makes a
backlog drain fast), and the write lock is let go between chunks so other
kiosks' live writes are not held up behind a whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from console import pickup_answers
from shared import (
    audit,
    escalations,
    idempotency,
    kiosks,
    names,
    parcels,
    protocol,
    quarantine,
    rate_limit,
    signing,
    tickets,
    visitors,
)
from shared.db import is_storage_full, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError
from shared.invitations import redemption as invitations

log = logging.getLogger(__name__)

BATCH_MAX_ITEMS = 100
# Items applied per transaction: the write lock is let go between chunks, so another
# kiosk's live write waits for at most one chunk, not a whole batch.
BATCH_CHUNK = 20
BATCH_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class WriteContext:
    """Everything a handler needs about the request, without Flask."""

    db: sqlite_utils.Database
    clock: Any
    kiosk_id: int
    secret_key: str
    photo_dir: Any
    # Pictures are decoded in the console's small pool (shared/image_work.py) …
    images: Any = None
    # … and sign-outs by phone are limited per kiosk (console/limits.py): raises RateLimited.
    limit_phone_sign_out: Callable[[], None] | None = None
    # Invitation passes: the building's signing key, and the scan limit per kiosk.
    pass_key: Any = None
    limit_pass_scan: Callable[[], None] | None = None


@dataclass(frozen=True)
class Write:
    handler: Callable[[WriteContext, Any, Any], tuple[dict, int]]
    prepare: Callable[[WriteContext, Any], Any] | None = None
    rejected_action: str | None = None  # audited when a signed pass/QR is refused
    batchable: bool = True


# -- the handlers -------------------------------------------------------------------


def _help_call(ctx: WriteContext, raw, _prepared):
    body = protocol.validate_help_call(raw)
    row = escalations.raise_help_call(
        ctx.db,
        ctx.clock,
        kiosk_id=ctx.kiosk_id,
        created_at=body["created_at"],
        language=body["language"],
        screen=body["screen"],
    )
    return {"id": row["id"], "status": row["status"], "received_at": row["received_at"]}, 201


def _alert(ctx: WriteContext, raw, _prepared):
    return kiosks.record_alert(ctx.db, ctx.clock, ctx.kiosk_id, raw), 201


def _visit(ctx: WriteContext, raw, _prepared):
    visit = visitors.register(ctx.db, ctx.clock, kiosk_id=ctx.kiosk_id, body=raw)
    return {"id": visit["id"], "status": visit["status"], "received_at": visit["received_at"]}, 201


def _prepare_sign_out(ctx: WriteContext, raw) -> None:
    """A new sign-out by phone counts against the kiosk's limit, before any transaction
    (a refusal is audited in its own; a replayed key never gets here)."""
    if isinstance(raw, dict) and "phone" in raw and ctx.limit_phone_sign_out is not None:
        ctx.limit_phone_sign_out()


def _sign_out(ctx: WriteContext, raw, _prepared):
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"pass", "phone"} & set(raw)):
        raise InvalidRequest('send {"pass": "<scanned pass>"} or {"phone": "<number>"}')
    if "pass" in raw:
        visit = visitors.sign_out_by_pass(
            ctx.db, ctx.clock, ctx.secret_key, raw["pass"], kiosk_id=ctx.kiosk_id
        )
    else:
        visit = visitors.sign_out_by_phone(ctx.db, ctx.clock, raw["phone"], kiosk_id=ctx.kiosk_id)
    return {"visit_id": visit["id"], "masked_name": names.mask(visit["name"])}, 200


def _pickup(ctx: WriteContext, raw, _prepared):
    outcome = parcels.pickup(
        ctx.db, ctx.clock, secret_key=ctx.secret_key, kiosk_id=ctx.kiosk_id, body=raw
    )
    return pickup_answers.envelope(outcome)


def _refused(ctx: WriteContext, raw, _prepared):
    """A request this console refused, sent back whole for the desk (shared/quarantine.py)."""
    return quarantine.hold_refused(ctx.db, ctx.clock, kiosk_id=ctx.kiosk_id, report=raw), 201


def _prepare_ticket(ctx: WriteContext, raw):
    """Decode and re-encode the photo before the write transaction (slow work)."""
    run = ctx.images.run if ctx.images is not None else None
    return tickets.prepare_kiosk_report(raw, ctx.clock.now(), run=run)


def _ticket(ctx: WriteContext, raw, photo_jpeg):
    created = tickets.create_from_kiosk(
        ctx.db,
        ctx.clock,
        kiosk_id=ctx.kiosk_id,
        body=raw,
        photo_dir=ctx.photo_dir,
        photo_jpeg=photo_jpeg,
    )
    return {**created, "qr": tickets.ticket_qr(ctx.secret_key, created, ctx.clock.now())}, 201


def _rating(ctx: WriteContext, raw, _prepared):
    summary = tickets.rate_by_qr(ctx.db, ctx.clock, ctx.secret_key, raw, kiosk_id=ctx.kiosk_id)
    return summary, 200


PREFIX = protocol.API_PREFIX
WRITES: dict[str, Write] = {
    f"{PREFIX}/escalations": Write(_help_call),
    f"{PREFIX}/alerts": Write(_alert),
    f"{PREFIX}/refused": Write(_refused),
    f"{PREFIX}/visits": Write(_visit),
    f"{PREFIX}/visits/sign-out": Write(
        _sign_out, prepare=_prepare_sign_out, rejected_action="visit.pass_rejected"
    ),
    # A pickup answers a person standing at the kiosk, with its own pause and throttle
    # answers (423/429, not stored): it always travels alone.
    f"{PREFIX}/parcels/pickup": Write(_pickup, batchable=False),
    f"{PREFIX}/tickets": Write(_ticket, prepare=_prepare_ticket),
    f"{PREFIX}/tickets/rating": Write(_rating, rejected_action="ticket.qr_rejected"),
    # Refusals are answers (stored, audited inside): shared/invitations/redemption.py.
    f"{PREFIX}/invitations/redeem": Write(
        invitations.kiosk_write, prepare=invitations.prepare_kiosk_write
    ),
}


# -- applying one write -------------------------------------------------------------


def _audit_rejected(ctx: WriteContext, write: Write, rejected: LobbyDeskError) -> None:
    """Forged, truncated or expired passes and QR codes are refused and logged."""
    with write_transaction(ctx.db):
        audit.record(
            ctx.db,
            ctx.clock,
            actor=f"kiosk:{ctx.kiosk_id}",
            action=write.rejected_action,
            detail={"reason": rejected.code},
        )


def _run(ctx: WriteContext, write: Write, key: str, fingerprint: str, raw, prepared):
    """Inside the caller's transaction: the handler and its idempotency record."""
    stored = idempotency.replay(ctx.db, ctx.kiosk_id, key, fingerprint)  # a twin won the race
    if stored is not None:
        return stored[1], stored[0]
    answer, status = write.handler(ctx, raw, prepared)
    idempotency.remember(ctx.db, ctx.clock, ctx.kiosk_id, key, fingerprint, status, answer)
    return answer, status


def apply_one(ctx: WriteContext, path: str, key: str, raw, take_token: Callable[[], None]):
    """One write, once per key: (answer, status). A stored key is answered at once and
    never counted; a new one calls `take_token()` first (raises RateLimited)."""
    write = WRITES[path]
    fingerprint = idempotency.request_hash(ctx.secret_key, "POST", path, raw)
    stored = idempotency.replay(ctx.db, ctx.kiosk_id, key, fingerprint)
    if stored is not None:
        return stored[1], stored[0]
    take_token()
    try:
        prepared = write.prepare(ctx, raw) if write.prepare is not None else None
        with write_transaction(ctx.db):
            return _run(ctx, write, key, fingerprint, raw, prepared)
    except (signing.TokenInvalid, signing.TokenExpired) as rejected:
        if write.rejected_action:
            _audit_rejected(ctx, write, rejected)
        raise


# -- applying a batch ---------------------------------------------------------------


@dataclass
class _Item:
    index: int
    key: str
    path: str
    raw: Any
    fingerprint: str = ""
    prepared: Any = None
    result: dict | None = None


def _error(item: _Item, status: int, code: str, message: str, **extra) -> dict:
    return {
        "key": item.key,
        "status": status,
        "body": {"error": {"code": code, "message": message, **extra}},
    }


def _parse_items(body) -> list[_Item]:
    """The batch envelope: {"items": [{"key", "path", "body"}, …]}; the whole request
    is refused only when the envelope itself is wrong."""
    if not isinstance(body, dict) or set(body) != {"items"}:
        raise InvalidRequest('send {"items": [{"key", "path", "body"}, …]}')
    entries = body["items"]
    if not isinstance(entries, list) or not 1 <= len(entries) <= BATCH_MAX_ITEMS:
        raise InvalidRequest(f"items must be a list of 1-{BATCH_MAX_ITEMS} writes")
    items, keys = [], set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"key", "path", "body"}:
            raise InvalidRequest(f"item {index}: send key, path and body")
        key, path = entry["key"], entry["path"]
        if not isinstance(key, str) or not isinstance(path, str):
            raise InvalidRequest(f"item {index}: key and path must be text")
        protocol.check_idempotency_key(key)
        if key in keys:
            raise InvalidRequest(f"item {index}: the same Idempotency-Key twice in one batch")
        keys.add(key)
        items.append(_Item(index, key, path, entry["body"]))
    return items


def _check_path(item: _Item) -> dict | None:
    write = WRITES.get(item.path)
    if write is None or not write.batchable:
        return _error(item, 400, "not_batchable", f"{item.path} cannot travel in a batch")
    return None


def apply_batch(ctx: WriteContext, body, allowance: rate_limit.TokenBuckets, now: float):
    """Every item's answer, in order: {"key", "status", "body"} each, as if sent alone."""
    items = _parse_items(body)
    fresh = []
    for item in items:
        item.result = _check_path(item)
        if item.result is not None:
            continue
        item.fingerprint = idempotency.request_hash(ctx.secret_key, "POST", item.path, item.raw)
        try:
            stored = idempotency.replay(ctx.db, ctx.kiosk_id, item.key, item.fingerprint)
        except LobbyDeskError as error:
            item.result = _error(item, error.http_status, error.code, str(error))
            continue
        if stored is not None:
            item.result = {"key": item.key, "status": stored[0], "body": stored[1]}
        else:
            fresh.append(item)
    _limit(fresh, allowance, ctx.kiosk_id, now)
    _prepare(ctx, [item for item in fresh if item.result is None])
    granted = [item for item in fresh if item.result is None]
    for start in range(0, len(granted), BATCH_CHUNK):
        with write_transaction(ctx.db):
            for item in granted[start : start + BATCH_CHUNK]:
                item.result = _apply_in_savepoint(ctx, item)
    return [item.result for item in items]


def _limit(fresh: list[_Item], allowance, kiosk_id: int, now: float) -> None:
    taken, wait = allowance.take_up_to(kiosk_id, now, len(fresh))
    for item in fresh[taken:]:
        limited = rate_limit.RateLimited(wait)
        item.result = _error(item, 429, limited.code, str(limited), retry_after=limited.retry_after)


def _prepare(ctx: WriteContext, items: list[_Item]) -> None:
    for item in items:
        write = WRITES[item.path]
        if write.prepare is None:
            continue
        try:
            item.prepared = write.prepare(ctx, item.raw)
        except rate_limit.RateLimited as error:  # a limit or a busy image pool: retry later
            message = str(error)
            item.result = _error(
                item, error.http_status, error.code, message, retry_after=error.retry_after
            )
        except LobbyDeskError as error:
            item.result = _error(item, error.http_status, error.code, str(error))


def _apply_in_savepoint(ctx: WriteContext, item: _Item) -> dict:
    write = WRITES[item.path]
    try:
        with ctx.db.atomic():
            answer, status = _run(ctx, write, item.key, item.fingerprint, item.raw, item.prepared)
        return {"key": item.key, "status": status, "body": answer}
    except (signing.TokenInvalid, signing.TokenExpired) as rejected:
        if write.rejected_action:
            _audit_rejected(ctx, write, rejected)
        return _error(item, rejected.http_status, rejected.code, str(rejected))
    except LobbyDeskError as error:
        return _error(item, error.http_status, error.code, str(error))
    except Exception as error:  # a bug in one handler must not lose the rest of the batch
        if is_storage_full(error):
            raise  # the whole batch waits for room: 503 storage_full (console/errors.py)
        log.exception("batch item %s (%s) failed", item.index, item.path)
        return _error(item, 500, "internal_error", "服务器出错 · The console hit an error.")
