"""Limits on the console's doors that strangers or a stolen kiosk token can knock on.

- per kiosk: returning-visitor look-ups and sign-out by phone (each answer says
  whether a phone number is a visitor's, so a flood would enumerate them);
- per client address: pairing attempts that fail and failed staff sign-ins
  (`request.remote_addr`: the server puts the forwarded address there only when the
  request came through LOBBYDESK_TRUSTED_PROXY, and drops forwarded headers from
  anyone else, see console/server.py);
- image work (kiosk repair photos, announcement pictures) in one small pool
  (shared/image_work.py), so pictures never take every core.

Counts live in coordination.db (shared/rate_limit.py), so every console process
serving the building counts together and a restart forgets nothing; only the
limiter objects are cached per app. Refusals are audited in aggregate: a row per
minute and key with the count since the last row (rate_limit.RefusalTally).
"""

from __future__ import annotations

from flask import current_app, request

from console.db import get_clock, get_coordination
from shared import audit, image_work, rate_limit
from shared.db import write_transaction

LOOKUP_LIMIT = 20  # returning-visitor look-ups per kiosk …
LOOKUP_WINDOW = 600  # … in any 10 minutes
PHONE_SIGN_OUT_LIMIT = 10  # sign-outs by phone per kiosk …
PHONE_SIGN_OUT_WINDOW = 600  # … in any 10 minutes
PAIR_FAILURE_LIMIT = 10  # failed pairings per client address …
PAIR_FAILURE_WINDOW = 600  # … in any 10 minutes, then every pairing waits
LOGIN_FAILURE_LIMIT = 30  # failed sign-ins per client address, any usernames …
LOGIN_FAILURE_WINDOW = 600  # … in any 10 minutes (the per-account guard is shared/login_guard.py)
LIMITS = {  # name → (events, seconds); each can be set in the config as <NAME>_LIMIT/_WINDOW
    "lookup": (LOOKUP_LIMIT, LOOKUP_WINDOW),
    "phone_sign_out": (PHONE_SIGN_OUT_LIMIT, PHONE_SIGN_OUT_WINDOW),
    "pair_failure": (PAIR_FAILURE_LIMIT, PAIR_FAILURE_WINDOW),
    "login_failure": (LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW),
}
IMAGE_WORKERS = 1  # pictures decoded at once: one core, whatever the load
IMAGE_QUEUE = 4  # pictures waiting for it; more get 503 + Retry-After


def _now() -> float:
    return get_clock().now().timestamp()


def _shared(name: str, make):
    found = current_app.extensions.get(name)
    if found is None:
        found = current_app.extensions.setdefault(name, make())
    return found


def _window(name: str) -> rate_limit.WindowLimit:
    config = current_app.config
    limit, window = LIMITS[name]
    return _shared(
        f"lobbydesk.limit.{name}",
        lambda: rate_limit.WindowLimit(
            get_coordination(),
            name,
            config.get(f"{name.upper()}_LIMIT", limit),
            config.get(f"{name.upper()}_WINDOW", window),
        ),
    )


def client_address() -> str:
    return request.remote_addr or "unknown"


def audit_refusal(db, *, actor: str, action: str, key, device: str | None = None, **detail):
    """Audit a refusal, in aggregate (one row a minute per key, with the count)."""
    tally = _shared("lobbydesk.limit.refusals", lambda: rate_limit.RefusalTally(get_coordination()))
    refused = tally.add((action, key), _now())
    if refused:
        with write_transaction(db):
            audit.record(
                db,
                get_clock(),
                actor=actor,
                action=action,
                detail={"refused": refused, **detail},
                device=device,
            )


def per_kiosk(db, name: str, kiosk_id: int, error: type[rate_limit.RateLimited]) -> None:
    """Count one `name` request from the kiosk; over the limit: audited, `error` raised."""
    wait = _window(name).hit(kiosk_id, _now())
    if wait > 0:
        audit_refusal(db, actor=f"kiosk:{kiosk_id}", action=f"limit.{name}", key=kiosk_id)
        raise error(wait)


def failures_wait(name: str) -> float:
    """Seconds this client address must wait before another `name` attempt (0: now)."""
    return _window(name).wait(client_address(), _now())


def count_failure(name: str) -> None:
    _window(name).hit(client_address(), _now())


def image_pool() -> image_work.ImagePool:
    """The console's one pool for decoding pictures (closed with the app's server)."""
    config = current_app.config
    return _shared(
        "lobbydesk.image_pool",
        lambda: image_work.ImagePool(
            config.get("IMAGE_WORKERS", IMAGE_WORKERS), config.get("IMAGE_QUEUE", IMAGE_QUEUE)
        ),
    )
