"""The kiosk API, /api/v1. Bearer token per kiosk; JSON in and out.

Writes are exactly-once: the business row and the idempotency record commit in
one transaction, and a replayed key returns the original answer. New writes are
rate-limited per kiosk (SECURITY.md 16: a token bucket, shared/rate_limit.py);
a replay is never counted. Over the limit: 429 with Retry-After.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import time

from flask import Blueprint, current_app, g, request

from console import kiosk_writes, limits, live
from console.db import get_clock, get_db
from console.kiosk_requests import (
    backlog_buckets,
    hold_write_from_revoked_kiosk,
    idempotent_write,
    json_body,
    outbox_depth,
    pass_signing_key,
    refuse_other_protocol,
    software_headers,
    write_context,
)
from console.security import PUBLIC_API_ENDPOINTS
from shared import (
    audit,
    building,
    feed,
    kiosk_software,
    kiosks,
    protocol,
    rate_limit,
    signing,
    visitors,
)
from shared.clock import to_iso
from shared.db import is_storage_full, write_transaction
from shared.errors import InvalidRequest, KioskNotAuthorised, LobbyDeskError

bp = Blueprint("api", __name__, url_prefix=protocol.API_PREFIX)
MAX_CURSOR = 2**63 - 1  # SQLite's largest integer


@bp.before_request
def authenticate_kiosk():
    g.kiosk = None
    if request.endpoint in PUBLIC_API_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    db = get_db()
    try:
        g.kiosk = kiosks.authenticate(db, token)
    except KioskNotAuthorised:
        held = hold_write_from_revoked_kiosk(db, token)
        if held is not None:
            return held
        raise
    number, version = software_headers()
    depth = outbox_depth()
    try:
        # Recorded before any refusal below, so the kiosks page names the kiosk to update.
        kiosk_software.record(db, g.kiosk, number, version)
        if kiosks.heartbeat_due(g.kiosk, get_clock(), depth):
            with write_transaction(db):
                kiosks.record_heartbeat(db, get_clock(), g.kiosk["id"], depth)
    except sqlite3.OperationalError as error:
        if not is_storage_full(error):  # a full disk: reads go on, the heartbeat waits
            raise
    refuse_other_protocol(number, version)


@bp.errorhandler(protocol.ProtocolMismatch)
def _protocol_mismatch(error: protocol.ProtocolMismatch):
    body = {"error": {"code": error.code, "message": str(error), **error.details()}}
    return body, error.http_status, {"Upgrade": f"lobbydesk-protocol/{protocol.PROTOCOL_VERSION}"}


@bp.get("/openapi.json")
def openapi_document():
    from console.openapi import document

    return document(current_app.config["LONG_POLL_SECONDS"])


@bp.post("/pair")
def pair():
    """Failed pairings are limited per client address (console/limits.py) and audited
    in aggregate; over the limit every pairing from there waits (429 + Retry-After)."""
    wait = limits.failures_wait("pair_failure")
    if wait > 0:
        limits.audit_refusal(
            get_db(), actor="anonymous", action="kiosk.pair_limited", key=limits.client_address(),
            device=limits.client_address(),
        )  # fmt: skip
        seconds = max(1, math.ceil(wait))
        raise rate_limit.RateLimited(
            seconds,
            f"配对失败次数太多，请 {seconds} 秒后再试 · Too many failed pairings from this "
            f"address: try again in {seconds} s.",
        )
    body = protocol.validate_pairing(json_body())
    number, version = software_headers()
    refuse_other_protocol(number, version)  # before the code is used up
    try:
        result = kiosks.pair(get_db(), get_clock(), body["code"], device=body["device"])
    except LobbyDeskError as failed:
        limits.count_failure("pair_failure")
        limits.audit_refusal(
            get_db(), actor="anonymous", action="kiosk.pair_failed", key=limits.client_address(),
            device=limits.client_address(), reason=failed.code,
        )  # fmt: skip
        raise
    kiosk_software.record(get_db(), {"id": result["kiosk"]["id"]}, number, version)
    return result, 201


@bp.get("/ping")
def ping():
    return {"ok": True, "time": to_iso(get_clock().now()), "kiosk": g.kiosk["name"]}


@bp.errorhandler(rate_limit.RateLimited)
def _rate_limited(error: rate_limit.RateLimited):
    body = {"error": {"code": error.code, "message": str(error), "retry_after": error.retry_after}}
    return body, error.http_status, {"Retry-After": str(error.retry_after)}


@bp.post("/batch")
def write_batch():
    """Many queued writes in one request and one transaction (a kiosk's backlog):
    each item is answered as if it had been sent alone, under its own key."""
    # Backlog sign-outs by phone happened earlier, at the kiosk's own pace: the live
    # look-up limit would hold the whole backlog behind them; the allowance bounds them.
    context = dataclasses.replace(write_context(), limit_phone_sign_out=None, limit_pass_scan=None)
    answers = kiosk_writes.apply_batch(
        context, json_body(), backlog_buckets(), get_clock().now().timestamp()
    )
    live.hub(current_app).publish()
    return {"results": answers}


# --- invitations: a visitor's signed pass (shared/invitations/, docs/INVITATIONS.md) -----


@bp.get("/pass-key")
def pass_key():
    """What a kiosk keeps to verify invitation passes offline: the public key, the
    building, and the invitations revoked whose passes have not yet expired (later
    revocations arrive in the feed as invitation.revoked)."""
    from shared import invitations, pass_signing

    db = get_db()
    return {
        **pass_signing.published(pass_signing_key()),
        "building_id": building.current(db)["id"],
        "revoked": invitations.revoked_ids(db, invitations.building_today(db, get_clock())),
    }


@bp.post("/invitations/redeem")
def redeem_invitation():
    """A scanned pass: check it (confirm false) or sign the visitor in, exactly once per
    Idempotency-Key. Refusals are answers with a code (pass_expired, pass_revoked,
    pass_invalid, pass_used, pass_other_building, pass_not_today), audited; a pass
    used a second time that day also raises an escalation for the desk."""
    return idempotent_write()


@bp.post("/escalations")
def create_escalation():
    return idempotent_write()


@bp.post("/alerts")
def kiosk_alert():
    """The kiosk had to give up on an item: staff see it on the kiosk page."""
    return idempotent_write()


@bp.post("/refused")
def report_refused():
    """A request this console refused, sent back whole: it waits in the live queue for
    the desk to resend (once the cause is fixed) or discard."""
    return idempotent_write()


@bp.get("/feed")
def kiosk_feed():
    """Long-poll: answer at once if there is news after `after`, else wait for some.

    Every answer carries the database's feed epoch and its base; a kiosk holding
    another epoch (or none) is read from min(after, base) (shared/feed.py)."""
    try:
        after = int(request.args.get("after", "0"))
        wait = float(request.args.get("wait", "0"))
    except ValueError as error:
        raise InvalidRequest("after and wait must be numbers") from error
    if not 0 <= after <= MAX_CURSOR:
        raise InvalidRequest(f"after must be an event id, 0-{MAX_CURSOR}")
    if not 0 <= wait <= current_app.config["LONG_POLL_SECONDS"]:  # also refuses nan
        raise InvalidRequest(f"wait must be 0-{current_app.config['LONG_POLL_SECONDS']} seconds")
    if len(request.args.getlist("epoch")) > 1:
        raise InvalidRequest("send epoch once")
    kiosk_epoch = feed.check_epoch(request.args.get("epoch"))
    current = feed.current_epoch(get_db())
    start = feed.read_from(current, after, kiosk_epoch, feed.max_event_id(get_db()))
    # Served by console/server.py, `front` is set: answer at once; its event loop
    # does the waiting, holding no thread, and asks again when this kiosk has news.
    front = request.environ.get("lobbydesk.front")
    hub = live.hub(current_app)
    deadline = time.monotonic() + wait
    while True:
        seen = hub.version  # read before querying, so no publish slips between
        events = feed.after(get_db(), g.kiosk["id"], start)
        remaining = deadline - time.monotonic()
        if events or remaining <= 0 or hub.closed or front is not None:
            break
        hub.wait_for_change(seen, timeout=remaining)
    if front is not None:
        front.update(kiosk_id=g.kiosk["id"], start=start, events=bool(events))
    cursor = events[-1]["id"] if events else start
    return {"events": events, "cursor": cursor, "epoch": current.epoch, "base": current.base}


@bp.get("/settings")
def kiosk_settings():
    """What a kiosk shows and needs to know; cached by the kiosk for offline use."""
    current = building.current(get_db())
    settings = current["settings"]
    return {
        "building": {"name": current["name"], "name_en": current["name_en"]},
        "desk_phone": current["desk_phone"],
        "visit_retention_days": settings["visit_retention_days"],
        "visitor_phone_required": settings["visitor_phone_required"],
        "visitor_photo_enabled": settings["visitor_photo_enabled"],
        "directions_zh": settings["directions_zh"],
        "directions_en": settings["directions_en"],
        "ticket_sla_minutes": settings["ticket_sla_minutes"],
    }


@bp.get("/units/<number>")
def unit_exists(number: str):
    """Lets the kiosk check a host unit before the visitor goes on; residents stay private."""
    unit = building.unit_by_number(get_db(), number)
    return {"unit": unit["number"], "exists": True}


@bp.post("/visitors/lookup")
def returning_visitor():
    """No idempotency key: is this phone a known visitor? Only a masked name (and, asked
    with last_visit, the unit and purpose of the latest visit). Limited
    per kiosk (429 + Retry-After: the kiosk asks for the name instead); each look-up
    is audited, refusals in aggregate (console/limits.py)."""
    body = json_body()
    if not isinstance(body, dict) or "phone" not in body or set(body) - {"phone", "last_visit"}:
        raise InvalidRequest('send {"phone": "...", "last_visit": true}')
    if not isinstance(body.get("last_visit", False), bool):
        raise InvalidRequest("last_visit must be true or false")
    db, kiosk_id = get_db(), g.kiosk["id"]
    limits.per_kiosk(db, "lookup", kiosk_id, visitors.LookupLimited)
    answer = visitors.lookup_returning(db, body["phone"], get_clock(), kiosk_id=kiosk_id)
    if answer["found"] and body.get("last_visit"):
        # "Same host as last time?" on the kiosk: one tap instead of a unit and a purpose.
        answer.update(visitors.last_visit(db, body["phone"]))
    return answer


@bp.post("/visits")
def register_visit():
    return idempotent_write()


@bp.post("/visits/sign-out")
def sign_out_visit():
    """By the scanned pass or the phone; forged or expired passes are refused and logged."""
    return idempotent_write()


# --- parcels: pickup at the kiosk (shared/parcels/pickup.py) ----------------------------


@bp.post("/parcels/pickup")
def parcel_pickup():
    """{"unit", "code"} or {"qr"} → the parcels and where to collect them, exactly once.

    Outcomes are stored under the Idempotency-Key (a release, a wrong code, a refused
    QR, the lockout); a pause (423) or throttle (429) is not, so the same key works
    again after Retry-After.
    """
    from console import pickup_answers
    from shared import parcels
    from shared.clock import parse_utc

    try:
        answer, status = idempotent_write()
    except (parcels.CodeEntryPaused, parcels.PickupThrottled) as refused:
        body = pickup_answers.refusal(refused)
        return body, refused.http_status, {"Retry-After": str(refused.retry_after)}
    if status == 423:  # the lockout itself, or its replay: say how long is left now
        until = parse_utc(answer["error"]["paused_until"])
        left = max(1, int((until - get_clock().now()).total_seconds()) + 1)
        return answer, status, {"Retry-After": str(left)}
    return answer, status


# --- tickets: repairs and complaints from the kiosk (shared/tickets/) -----------------


def _audit_rejected_qr(rejected, action: str) -> None:
    """Forged, truncated or expired ticket QR codes are refused and logged (SECURITY.md 21)."""
    db = get_db()
    with write_transaction(db):
        audit.record(
            db,
            get_clock(),
            actor=f"kiosk:{g.kiosk['id']}",
            action=action,
            detail={"reason": rejected.code},
        )


@bp.url_value_preprocessor
def _ticket_body_limit(endpoint, _values):
    """A photo of up to 2 MB travels as base64 inside the JSON body of POST /tickets.
    Set before any before_request reads the body (a revoked kiosk's write is held)."""
    if endpoint in ("api.create_ticket", "api.report_refused"):
        from shared import tickets

        request.max_content_length = tickets.MAX_PHOTO_BYTES * 4 // 3 + 64 * 1024
    elif endpoint == "api.write_batch":
        request.max_content_length = kiosk_writes.BATCH_MAX_BYTES


@bp.post("/tickets")
def create_ticket():
    """A repair or complaint from the kiosk, exactly once; an optional base64 photo,
    decoded before the write transaction (a replayed key is answered without it)."""
    return idempotent_write()


@bp.post("/tickets/lookup")
def ticket_lookup():
    """No idempotency key: a ticket's status for the resident at the kiosk. By number +
    unit, misses are audited and throttled per kiosk (429 + Retry-After)."""
    from shared import tickets

    body = json_body()
    try:
        return tickets.lookup(
            get_db(), get_clock(), current_app.config["SECRET_KEY"], body, kiosk_id=g.kiosk["id"]
        )
    except (signing.TokenInvalid, signing.TokenExpired) as rejected:
        _audit_rejected_qr(rejected, "ticket.qr_rejected")
        raise


@bp.post("/tickets/rating")
def ticket_rating():
    """The resident's 1-5 rating of a resolved ticket (reasons when 3 or less), once,
    by the ticket's signed QR only ({"number", "unit"} → 400 rating_needs_qr)."""
    return idempotent_write()


# --- the resident's page link, asked for at the kiosk (shared/resident_links.py) -----------


@bp.post("/resident-link")
def resident_link():
    """{"unit", "phone"} (the whole mobile or its last 4 digits) → the same neutral answer
    whether or not a resident matched; a match gets a fresh link on their own channel.
    Once per Idempotency-Key; throttled per kiosk (429, not stored) and per resident."""
    from console.resident_page import throttle
    from console.settings import public_url
    from shared import idempotency, resident_links

    key = protocol.check_idempotency_key(request.headers.get(protocol.IDEMPOTENCY_HEADER))
    raw, db, kiosk_id, secret = (
        json_body(),
        get_db(),
        g.kiosk["id"],
        current_app.config["SECRET_KEY"],
    )
    fingerprint = idempotency.request_hash(secret, "POST", request.path, raw)
    stored = idempotency.replay(db, kiosk_id, key, fingerprint)
    if stored is not None:
        return stored[1], stored[0]
    body = protocol.validate_resident_link(raw)
    now = get_clock().now().timestamp()
    throttle().address_send(("kiosk", kiosk_id), now)
    with write_transaction(db):
        answer = resident_links.request_from_kiosk(
            db, get_clock(), secret, public_url(current_app.config), body, kiosk_id=kiosk_id,
            allow_resident=lambda resident_id: throttle().resident_send_allowed(resident_id, now),
        )  # fmt: skip
        idempotency.remember(db, get_clock(), kiosk_id, key, fingerprint, 200, answer)
    return answer, 200


# --- announcements and the emergency broadcast (shared/announcements.py, shared/emergency_broadcast.py)


@bp.get("/announcements")
def kiosk_announcements():
    """The idle screen's notices: showing now and scheduled, in show order, with the console's time."""
    from shared import announcements

    return announcements.for_kiosks(get_db(), get_clock().now())


@bp.get("/announcements/<int:announcement_id>/image")
def kiosk_announcement_image(announcement_id: int):
    """A notice's picture: a JPEG re-encoded at upload, without metadata."""
    from flask import Response

    from shared import announcements

    path = announcements.image_file(get_db(), current_app.config["DATA_DIR"], announcement_id)
    return Response(path.read_bytes(), mimetype="image/jpeg")  # at most a few hundred KB


@bp.get("/broadcast")
def kiosk_broadcast():
    """The emergency on now (or null): asked at start and on reconnect, besides the feed."""
    from shared import emergency_broadcast

    return emergency_broadcast.state_for_kiosk(get_db())
