"""How the kiosk API (console/api.py) reads a request and makes a write.

The body and headers read within the edge's limits, the protocol check, the per-kiosk
write buckets (SECURITY.md 16), and the exactly-once write under an Idempotency-Key
(console/kiosk_writes.py), including a revoked kiosk's write held for staff.
"""

from __future__ import annotations

from flask import current_app, g, request

from console import kiosk_writes, limits, live
from console.db import get_clock, get_coordination, get_db
from shared import protocol, quarantine, rate_limit, visitors
from shared.errors import InvalidRequest
from shared.version import __version__


def json_body():
    """The request's JSON, read with the edge's limits (console/edge.py): too deep,
    a lone surrogate, a number out of range or not JSON at all → 400."""
    if request.mimetype != "application/json":
        raise InvalidRequest("请用 application/json 发送 · Send the body as application/json.")
    body = request.get_json()
    if body is None:
        raise InvalidRequest("内容不是有效的 JSON · The body is not valid JSON.")
    return body


def outbox_depth() -> int | None:
    raw = request.headers.get(protocol.OUTBOX_DEPTH_HEADER)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7:  # "²".isdigit() is True
        raise InvalidRequest(f"{protocol.OUTBOX_DEPTH_HEADER} must be a whole number")
    return int(raw)


def software_headers() -> tuple[int, str | None]:
    return protocol.read_software(
        request.headers.get(protocol.PROTOCOL_HEADER), request.headers.get(protocol.VERSION_HEADER)
    )


def refuse_other_protocol(number: int, version: str | None) -> None:
    """426 for a kiosk whose protocol this console does not serve: before any write,
    so nothing half-understood is stored; the kiosk keeps the item queued."""
    refusal = protocol.mismatch(number, version, __version__)
    if refusal is not None:
        raise refusal


def hold_write_from_revoked_kiosk(db, token):
    """A revoked kiosk's queued write goes to quarantine for staff (202), so the kiosk
    can let go of it; its reads still get 401. Anything else: None."""
    revoked = quarantine.revoked_kiosk(db, token)
    key = request.headers.get(protocol.IDEMPOTENCY_HEADER)
    if (
        revoked is None
        or request.method != "POST"
        or not key
        or request.path not in kiosk_writes.WRITES  # only writes, never a lookup
    ):
        return None
    refuse_other_protocol(*software_headers())  # held only what this console can read
    protocol.check_idempotency_key(key)
    json_body()  # JSON only, within the same caps as a live write (400/413 otherwise)
    write_buckets().check(revoked["id"], get_clock().now().timestamp())  # 429 + Retry-After
    body = request.get_data(as_text=True)
    try:
        held_id = quarantine.hold(
            db, get_clock(), kiosk_id=revoked["id"], key=key, path=request.path, body=body
        )
    except quarantine.QuarantineFull as full:
        live.hub(current_app).publish()  # the kiosks page shows the alert
        error = {"code": full.code, "message": str(full), "retry_after": full.retry_after}
        return {"error": error}, full.http_status, {"Retry-After": str(full.retry_after)}
    live.hub(current_app).publish()
    return {"quarantined": True, "quarantine_id": held_id}, 202


def _buckets(name: str, capacity_key: str, capacity: int) -> rate_limit.TokenBuckets:
    """The per-kiosk write buckets every console process shares (coordination.db).
    The burst or allowance and KIOSK_WRITES_PER_SECOND can be set in the config."""
    buckets = current_app.extensions.get(f"lobbydesk.{name}")
    if buckets is None:
        buckets = current_app.extensions.setdefault(
            f"lobbydesk.{name}",
            rate_limit.TokenBuckets(
                get_coordination(),
                name,
                current_app.config.get(capacity_key, capacity),
                current_app.config.get(
                    "KIOSK_WRITES_PER_SECOND", rate_limit.KIOSK_WRITES_PER_SECOND
                ),
            ),
        )
    return buckets


def write_buckets() -> rate_limit.TokenBuckets:
    """Single (live) writes: a burst, then a steady rate."""
    return _buckets("kiosk_writes", "KIOSK_WRITE_BURST", rate_limit.KIOSK_WRITE_BURST)


def backlog_buckets() -> rate_limit.TokenBuckets:
    """Items in batches: a large allowance, so a kiosk back from an outage drains at once."""
    return _buckets(
        "kiosk_backlog",
        "KIOSK_BACKLOG_ALLOWANCE",
        rate_limit.KIOSK_BACKLOG_ALLOWANCE,
    )


def write_context() -> kiosk_writes.WriteContext:
    from shared import tickets

    db, kiosk_id = get_db(), g.kiosk["id"]
    return kiosk_writes.WriteContext(
        db=db,
        clock=get_clock(),
        kiosk_id=kiosk_id,
        secret_key=current_app.config["SECRET_KEY"],
        photo_dir=tickets.photo_folder(current_app.config["DATA_DIR"]),
        images=limits.image_pool(),
        limit_phone_sign_out=lambda: limits.per_kiosk(
            db, "phone_sign_out", kiosk_id, visitors.SignOutLimited
        ),
        pass_key=pass_signing_key(),
        limit_pass_scan=lambda: _limit_pass_scan(db, kiosk_id),
    )


def idempotent_write():
    """This request's write (console/kiosk_writes.py), once per Idempotency-Key.

    A stored key is answered at once (never rate-limited); a new write takes a
    token from the kiosk's bucket first (RateLimited → 429 otherwise)."""
    key = protocol.check_idempotency_key(request.headers.get(protocol.IDEMPOTENCY_HEADER))
    raw = json_body()
    kiosk_id, now = g.kiosk["id"], get_clock().now().timestamp()
    answer, status = kiosk_writes.apply_one(
        write_context(),
        request.path,
        key,
        raw,
        take_token=lambda: write_buckets().check(kiosk_id, now),
    )
    live.hub(current_app).publish()
    return answer, status


PASS_SCAN_LIMIT = 12  # passes scanned per kiosk …
PASS_SCAN_WINDOW = 60  # … in any minute: more is a flood (guessing, a stuck scanner)


def pass_signing_key():
    from console.invitations import signing_key

    return signing_key()


def _limit_pass_scan(db, kiosk_id: int) -> None:
    """Count one new scan; over the limit: audited (in aggregate), 429 + Retry-After."""
    from shared import invitations

    config = current_app.config
    window = current_app.extensions.get("lobbydesk.limit.pass_scan")
    if window is None:
        window = current_app.extensions.setdefault(
            "lobbydesk.limit.pass_scan",
            rate_limit.WindowLimit(
                get_coordination(),
                "pass_scan",
                config.get("PASS_SCAN_LIMIT", PASS_SCAN_LIMIT),
                config.get("PASS_SCAN_WINDOW", PASS_SCAN_WINDOW),
            ),
        )
    wait = window.hit(kiosk_id, get_clock().now().timestamp())
    if wait > 0:
        limits.audit_refusal(db, actor=f"kiosk:{kiosk_id}", action="limit.pass_scan", key=kiosk_id)
        raise invitations.ScanLimited(wait)
