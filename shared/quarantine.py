"""Kiosk writes held for staff: never applied by themselves, never lost.

Two ways in (`reason`):
- revoked: a kiosk can be revoked while it still has work queued (stolen,
  replaced, re-paired). Its requests carry real visitors' and residents' data,
  so the console keeps them aside — once per Idempotency-Key.
- refused: the console refused one of a kiosk's requests as it was (an unknown
  unit, a body it cannot read). The kiosk sends the whole item back here, and
  it waits in the live queue, where someone at the desk sees it within the minute.
Either way staff decide: accept / resend (applied now, through the same domain
functions, as if the kiosk had sent it again) or discard.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import sqlite_utils

from shared import audit, escalations, phones, signing, terms, tickets, tokens, visitors
from shared import ticket_catalog as catalog
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, LobbyDeskError, NotFound, StaleState

TICKETS = "/api/v1/tickets"
TICKET_RATING = "/api/v1/tickets/rating"
# What staff may accept into the live data; a parcel pickup from a revoked
# kiosk is never released after the fact: the resident is served at the desk.
ACCEPTABLE_PATHS = {"/api/v1/escalations", "/api/v1/visits", TICKETS, TICKET_RATING}


def revoked_kiosk(db: sqlite_utils.Database, token: str | None) -> dict | None:
    if not token:
        return None
    return one(
        db,
        "SELECT * FROM kiosks WHERE token_hash = ? AND revoked_at IS NOT NULL",
        (tokens.hash_token(token),),
    )


# What one revoked kiosk may leave in the quarantine (held, undecided): beyond it the
# kiosk is told 429 and staff get one kiosk alert, so a stolen token cannot fill the disk.
MAX_HELD_PER_KIOSK = 200
MAX_HELD_BYTES_PER_KIOSK = 20 * 1024 * 1024
FULL_ALERT_KIND = "quarantine_full"
FULL_RETRY_AFTER = 3600


class QuarantineFull(LobbyDeskError):
    """A kiosk has as much held (revoked writes, or refused requests) as it may; staff
    decide on some first."""

    code = "quarantine_full"
    http_status = 429
    retry_after = FULL_RETRY_AFTER

    def __init__(self):
        super().__init__(
            f"隔离区已满（每台终端最多 {MAX_HELD_PER_KIOSK} 条、"
            f"{MAX_HELD_BYTES_PER_KIOSK // (1024 * 1024)} MB）· This kiosk's quarantine is full "
            f"(at most {MAX_HELD_PER_KIOSK} items, {MAX_HELD_BYTES_PER_KIOSK // (1024 * 1024)} MB): "
            "staff must decide on the held items first."
        )


def _room_for(db, kiosk_id: int, size: int, reason: str = "revoked") -> bool:
    count = one(
        db,
        "SELECT count(*) AS n FROM quarantine WHERE kiosk_id = ? AND status = 'held'"
        " AND reason = ?",
        (kiosk_id, reason),
    )["n"]
    if count >= MAX_HELD_PER_KIOSK:
        return False
    held_bytes = one(
        db,
        "SELECT coalesce(sum(length(CAST(body AS BLOB))), 0) AS n FROM quarantine"
        " WHERE kiosk_id = ? AND status = 'held' AND reason = ?",
        (kiosk_id, reason),
    )["n"]
    return held_bytes + size <= MAX_HELD_BYTES_PER_KIOSK


def _alert_full_once(db, clock, kiosk_id: int) -> None:
    """One open alert per kiosk on the kiosks page, however often it keeps sending."""
    if one(
        db,
        "SELECT id FROM kiosk_alerts WHERE kiosk_id = ? AND kind = ? AND dismissed_at IS NULL",
        (kiosk_id, FULL_ALERT_KIND),
    ):
        return
    now = to_iso(clock.now())
    db.execute(
        "INSERT INTO kiosk_alerts (kiosk_id, kind, item_kind, error, created_at, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            kiosk_id, FULL_ALERT_KIND, "隔离区已满 · Quarantine full",
            f"已停用的终端仍在发送，已达上限（{MAX_HELD_PER_KIOSK} 条 / "
            f"{MAX_HELD_BYTES_PER_KIOSK // (1024 * 1024)} MB），之后的请求被拒绝 · A revoked kiosk "
            "keeps sending and reached its quarantine limit: further requests are refused.",
            now, now,
        ),
    )  # fmt: skip
    audit.record(db, clock, actor=f"kiosk:{kiosk_id}", action="quarantine.full")


def hold(db: sqlite_utils.Database, clock, *, kiosk_id: int, key: str, path: str, body: str) -> int:
    """Keep the request aside; the same key again returns the same held item.
    QuarantineFull (429) once the kiosk has MAX_HELD_PER_KIOSK items or
    MAX_HELD_BYTES_PER_KIOSK bytes held (staff are alerted once)."""
    with write_transaction(db):
        row = one(db, "SELECT id FROM quarantine WHERE kiosk_id = ? AND key = ?", (kiosk_id, key))
        if row is None:
            if not _room_for(db, kiosk_id, len(body.encode("utf-8"))):
                _alert_full_once(db, clock, kiosk_id)
                full = True
            else:
                full = False
                db.execute(
                    "INSERT INTO quarantine (kiosk_id, key, path, body, received_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (kiosk_id, key, path, body, to_iso(clock.now())),
                )
                row = one(
                    db, "SELECT id FROM quarantine WHERE kiosk_id = ? AND key = ?", (kiosk_id, key)
                )
        else:
            full = False
        if not full:
            audit.record(
                db,
                clock,
                actor=f"kiosk:{kiosk_id}",
                action="quarantine.hold",
                target=f"quarantine:{row['id']}",
            )
    if full:
        raise QuarantineFull()
    return row["id"]


MAX_REFUSED_BODY_CHARS = 3 * 1024 * 1024  # a refused repair report keeps its photo
_REFUSED_FIELDS = {"key", "path", "kind", "body", "error", "language"}


def _refused_report(body) -> dict:
    """What a kiosk says about a request the console refused; strict, clear errors."""
    if (
        not isinstance(body, dict)
        or set(body) - _REFUSED_FIELDS
        or not {"key", "path"} <= set(body)
    ):
        raise InvalidRequest(f"send {', '.join(sorted(_REFUSED_FIELDS))}")
    from shared.protocol import LANGUAGES, check_idempotency_key

    check_idempotency_key(body["key"] if isinstance(body["key"], str) else None)
    path = body["path"]
    if not isinstance(path, str) or not path.startswith("/api/v1/") or len(path) > 64:
        raise InvalidRequest("path must be the /api/v1/ path the kiosk sent to")
    text = body.get("body")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_REFUSED_BODY_CHARS):
        raise InvalidRequest("body must be the request's text as the kiosk sent it")
    for field, limit in (("kind", 40), ("error", 300)):
        value = body.get(field, "")
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidRequest(f"{field} must be at most {limit} characters")
    language = body.get("language")
    if language is not None and language not in LANGUAGES:
        raise InvalidRequest(f"language must be one of {', '.join(LANGUAGES)}")
    return {**body, "body": text or ""}


def hold_refused(db: sqlite_utils.Database, clock, *, kiosk_id: int, report) -> dict:
    """Keep a refused request for the desk (the same item twice is kept once). Bounded
    per kiosk like a revoked kiosk's writes (QuarantineFull: 429, which the kiosk
    retries later, losing nothing), so a faulty or hostile kiosk cannot bury the live
    queue; the queue says how many wait beyond those shown. Call inside the API's
    transaction."""
    item = _refused_report(report)
    existing = one(
        db, "SELECT id FROM quarantine WHERE kiosk_id = ? AND key = ?", (kiosk_id, item["key"])
    )
    if existing is not None:
        return {"id": existing["id"]}
    if not _room_for(db, kiosk_id, len(item["body"].encode("utf-8")), "refused"):
        raise QuarantineFull()
    cursor = db.execute(
        "INSERT INTO quarantine (kiosk_id, key, path, body, received_at, reason,"
        " item_kind, error, language) VALUES (?, ?, ?, ?, ?, 'refused', ?, ?, ?)",
        (
            kiosk_id, item["key"], item["path"], item["body"], to_iso(clock.now()),
            item.get("kind") or None, item.get("error") or None, item.get("language"),
        ),
    )  # fmt: skip
    audit.record(
        db, clock, actor=f"kiosk:{kiosk_id}", action="quarantine.refused",
        target=f"quarantine:{cursor.lastrowid}", detail={"path": item["path"]},
    )  # fmt: skip
    return {"id": cursor.lastrowid}


REFUSED_SHOWN = 20  # rows in the live queue; the rest are counted, not loaded


def refused_waiting(db: sqlite_utils.Database, limit: int = REFUSED_SHOWN) -> list[dict]:
    """The oldest refused requests no one has decided on yet, for the live queue: never
    a whole body (a repair's photo stays in the database, only its length comes out)."""
    return list(
        db.query(
            "SELECT q.id, q.kiosk_id, q.key, q.path, q.received_at, q.status, q.reason,"
            " q.item_kind, q.error, q.language, k.name AS kiosk_name,"
            " CASE WHEN q.path = :tickets AND json_valid(q.body)"
            "  THEN json_remove(q.body, '$.photo') ELSE substr(q.body, 1, :chars) END AS body,"
            " CASE WHEN q.path = :tickets AND json_valid(q.body)"
            "  THEN length(json_extract(q.body, '$.photo')) END AS photo_chars"
            " FROM quarantine q JOIN kiosks k ON k.id = q.kiosk_id"
            " WHERE q.reason = 'refused' AND q.status = 'held' ORDER BY q.id LIMIT :limit",
            {"tickets": TICKETS, "chars": _PAGE_BODY_CHARS, "limit": limit},
        )
    )


def refused_count(db: sqlite_utils.Database) -> int:
    return one(
        db, "SELECT count(*) AS n FROM quarantine WHERE reason = 'refused' AND status = 'held'"
    )["n"]


def refused_item(db: sqlite_utils.Database, item_id: int) -> dict:
    """A refused request by id; NotFound for anything else (a revoked kiosk's held
    write is decided on the quarantine page, by the roles allowed there)."""
    row = one(db, "SELECT id FROM quarantine WHERE id = ? AND reason = 'refused'", (item_id,))
    if row is None:
        raise NotFound(f"没有这条被拒请求 · No refused request {item_id}.")
    return row


def held(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT q.*, k.name AS kiosk_name FROM quarantine q JOIN kiosks k ON k.id = q.kiosk_id"
            " WHERE q.status = 'held' AND q.reason = 'revoked' ORDER BY q.id"
        )
    )


def held_count(db: sqlite_utils.Database) -> int:
    return one(
        db, "SELECT count(*) AS n FROM quarantine WHERE status = 'held' AND reason = 'revoked'"
    )["n"]


PAGE_SIZE = 25
_PAGE_BODY_CHARS = 64 * 1024


def held_page(
    db: sqlite_utils.Database, *, after: int = 0, limit: int | None = None
) -> tuple[list[dict], bool]:
    """One page of held items, oldest first, after item id `after`; and whether more follow.

    Never a whole body: a repair report's base64 photo stays in the database
    (only its length comes out, as `photo_chars`), other bodies are cut to 64 KB."""
    limit = limit or PAGE_SIZE
    rows = list(
        db.query(
            "SELECT q.id, q.kiosk_id, q.key, q.path, q.received_at, q.status, q.reason,"
            " k.name AS kiosk_name,"
            " CASE WHEN q.path = :tickets AND json_valid(q.body)"
            "  THEN json_remove(q.body, '$.photo') ELSE substr(q.body, 1, :chars) END AS body,"
            " CASE WHEN q.path = :tickets AND json_valid(q.body)"
            "  THEN length(json_extract(q.body, '$.photo')) END AS photo_chars"
            " FROM quarantine q JOIN kiosks k ON k.id = q.kiosk_id"
            " WHERE q.status = 'held' AND q.reason = 'revoked' AND q.id > :after"
            " ORDER BY q.id LIMIT :limit",
            {"tickets": TICKETS, "chars": _PAGE_BODY_CHARS, "after": after, "limit": limit + 1},
        )
    )
    return rows[:limit], len(rows) > limit


def _decide(db, clock, item_id: int, status: str, staff_id: int, result: dict | None) -> None:
    cursor = db.execute(
        "UPDATE quarantine SET status = ?, decided_by = ?, decided_at = ?, result = ?"
        " WHERE id = ? AND status = 'held'",
        (status, staff_id, to_iso(clock.now()), json.dumps(result) if result else None, item_id),
    )
    if cursor.rowcount != 1:
        raise StaleState(f"这条请求已处理 · Held request {item_id} was already decided.")
    audit.record(
        db,
        clock,
        actor=f"staff:{staff_id}",
        action=f"quarantine.{status}",
        target=f"quarantine:{item_id}",
    )


def discard(db: sqlite_utils.Database, clock, item_id: int, *, staff_id: int) -> None:
    with write_transaction(db):
        _get(db, item_id)
        _decide(db, clock, item_id, "discarded", staff_id, None)


def _prepared_photo(db: sqlite_utils.Database, clock, item_id: int) -> bytes | None:
    """A held repair report's photo, decoded and re-encoded before the write
    transaction (as the API does), so a large photo never holds the write lock."""
    item = _get(db, item_id)
    if item["path"] != TICKETS or item["status"] != "held":
        return None
    try:
        body = json.loads(item["body"])
    except ValueError:
        return None  # accept() refuses it with the reason
    return tickets.prepare_kiosk_report(body, clock.now())


def accept(
    db: sqlite_utils.Database,
    clock,
    item_id: int,
    *,
    staff_id: int,
    photo_dir: str | Path | None = None,
    secret_key: str | None = None,
) -> dict:
    """Apply a held request now, with the kiosk's original time kept as created_at.

    It goes through the same function the API uses, with the original body (a
    repair report with its photo too), so it is checked exactly as the API would
    have: a refusal (unknown unit, ticket not resolved yet …) leaves it held.
    Repair reports need `photo_dir` (shared.tickets.photo_folder), ratings by QR
    the console's `secret_key`."""
    photo_jpeg = _prepared_photo(db, clock, item_id)
    with write_transaction(db):
        item = _get(db, item_id)
        if item["status"] != "held":
            raise StaleState(f"这条请求已处理 · Held request {item_id} was already decided.")
        if item["path"] not in ACCEPTABLE_PATHS:
            raise InvalidRequest(
                "这类请求不能补录，请在前台处理 · This kind of request cannot be accepted; handle it at the desk."
            )
        try:
            body = json.loads(item["body"])
        except ValueError as error:
            raise InvalidRequest("the held request is not valid JSON") from error
        if item["path"] == "/api/v1/escalations":
            from shared.protocol import validate_help_call

            call = validate_help_call(body)
            row = escalations.raise_help_call(
                db, clock, kiosk_id=item["kiosk_id"], created_at=call["created_at"],
                language=call["language"], screen=call["screen"],
            )  # fmt: skip
            result = {"escalation_id": row["id"]}
        elif item["path"] == TICKETS:
            if photo_dir is None:
                raise ValueError("accepting a held repair report needs photo_dir")
            created = tickets.create_from_kiosk(
                db, clock, kiosk_id=item["kiosk_id"], body=body, photo_dir=photo_dir,
                photo_jpeg=photo_jpeg,
            )  # fmt: skip
            result = {"ticket_id": created["id"]}
        elif item["path"] == TICKET_RATING:
            if secret_key is None:
                raise ValueError("accepting a held rating needs the console's secret_key")
            summary = tickets.rate_by_qr(db, clock, secret_key, body, kiosk_id=item["kiosk_id"])
            result = {"ticket_id": int(summary["number"]), "rating": summary["rating"]}
        else:
            row = visitors.register(db, clock, kiosk_id=item["kiosk_id"], body=body)
            result = {"visit_id": row["id"]}
        _decide(db, clock, item_id, "accepted", staff_id, result)
    return result


# --- what staff read on the quarantine page ---------------------------------------------------


def summary(item: dict, *, secret_key: str | None = None, now: datetime | None = None) -> str:
    """A held request in words ("中文 · English"), instead of its raw JSON: for a
    repair report the unit, problem, urgency, description and whether a photo
    came with it; for a rating the ticket and the score. "" when the body is not
    a request of a kind staff can read (shown raw instead)."""
    try:
        body = json.loads(item["body"])
    except (ValueError, RecursionError):  # held before the edge capped JSON depth
        return ""
    if not isinstance(body, dict):
        return ""
    try:
        describe = _DESCRIBERS[item["path"]]
    except KeyError:
        return ""
    if item["path"] == TICKETS:  # held_page leaves the photo out: only its length comes
        return _describe_ticket(body, secret_key, now, photo_chars=item.get("photo_chars"))
    return describe(body, secret_key, now)


def _text(value, limit: int = 80) -> str:
    if not isinstance(value, str):
        return ""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _describe_ticket(body: dict, _secret_key, _now, photo_chars: int | None = None) -> str:
    category, problem = _text(body.get("category"), 40), _text(body.get("problem"), 40)
    what = catalog.bilingual(f"{category}.{problem}" if problem else category)
    urgency = body.get("urgency", "normal")
    try:
        if catalog.problem(category, problem).emergency:
            urgency = "emergency"  # as create_from_kiosk will record it
    except LobbyDeskError:
        pass  # an unknown problem: accepting it will say so
    parts = [f"房号 Unit {_text(body.get('unit'), 12)}", what]
    if urgency in tickets.URGENCIES:
        parts.append(tickets.urgency_label(urgency))
    description = _text(body.get("description"))
    if description:
        parts.append(f"“{description}”")
    photo = body.get("photo")
    chars = len(photo) if isinstance(photo, str) else (photo_chars or 0)
    if chars:
        kilobytes = max(1, chars * 3 // 4 // 1024)
        parts.append(f"附照片 · with a photo ({kilobytes} KB)")
    else:
        parts.append("无照片 · no photo")
    return " · ".join(parts)


def _describe_rating(body: dict, secret_key, now) -> str:
    if "qr" in body:
        number = "?"
        if secret_key is not None and now is not None:
            try:
                payload = signing.verify(secret_key, tickets.TICKET_QR, body["qr"], now)
                number = str(payload.get("t", "?"))
            except (signing.TokenInvalid, signing.TokenExpired):
                number = "? (二维码无效 · QR not valid)"
        which = f"报修单 Ticket {number}（扫码 · by QR）"
    else:
        which = f"报修单 Ticket {_text(body.get('number'), 12)}，房号 Unit {_text(body.get('unit'), 12)}"
    rating = body.get("rating")
    parts = [which, f"评分 Rating {rating}/5" if isinstance(rating, int) else "评分 Rating ?"]
    reasons = body.get("reasons")
    if isinstance(reasons, list) and reasons:
        parts.append(
            "、".join(catalog.reason_label(r, "zh_CN") for r in reasons if isinstance(r, str))
            + " · "
            + ", ".join(catalog.reason_label(r, "en") for r in reasons if isinstance(r, str))
        )
    comment = _text(body.get("comment"))
    if comment:
        parts.append(f"“{comment}”")
    return " · ".join(parts)


def _describe_visit(body: dict, _secret_key, _now) -> str:
    phone = body.get("phone")
    try:
        shown = phones.display(phones.normalise(phone)) if phone else ""
    except LobbyDeskError:
        shown = _text(phone, 20)
    parts = [_text(body.get("name"), 40) or "（老访客 · returning visitor）", shown]
    parts.append(f"房号 Unit {_text(body.get('unit'), 12)}")
    return " · ".join(p for p in parts if p)


def _describe_help_call(body: dict, _secret_key, _now) -> str:
    return f"{terms.term('escalation_kind', 'help')} ({_text(body.get('created_at'), 40)})"


def _describe_pickup(body: dict, _secret_key, _now) -> str:
    """Never the code: only whose parcels were asked for."""
    if "qr" in body:
        return "取件 · Parcel pickup（扫码 · by QR）"
    return f"取件 · Parcel pickup · 房号 Unit {_text(body.get('unit'), 12)}"


def _describe_sign_out(body: dict, _secret_key, _now) -> str:
    if "pass" in body:
        return "访客离开 · Visitor signing out（扫通行证 · by pass）"
    return f"访客离开 · Visitor signing out · {_text(body.get('phone'), 20)}"


_DESCRIBERS = {
    TICKETS: _describe_ticket,
    TICKET_RATING: _describe_rating,
    "/api/v1/visits": _describe_visit,
    "/api/v1/escalations": _describe_help_call,
    "/api/v1/parcels/pickup": _describe_pickup,
    "/api/v1/visits/sign-out": _describe_sign_out,
}


def _get(db, item_id: int) -> dict:
    row = one(db, "SELECT * FROM quarantine WHERE id = ?", (item_id,))
    if row is None:
        raise NotFound(f"没有这条暂存请求 · Held request {item_id} does not exist.")
    return row
