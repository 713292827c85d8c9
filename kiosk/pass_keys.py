"""The console's pass key, kept in the kiosk's store so invitation passes are verified
at the kiosk even with the console out of reach (docs/INVITATIONS.md).

The SyncWorker fetches GET /pass-key after pairing and every PASS_KEY_INTERVAL, and
adds each `invitation.revoked` feed event to the stored revoked list before handing
the event on. Plain Python: the view-model reads `verifying_key()` at each scan.
"""

from __future__ import annotations

import time

from kiosk import store as keys
from shared.clock import to_iso

REVOKED_EVENT = "invitation.revoked"


def fetch(store, client, clock):
    """GET /pass-key; a good answer replaces the stored copy, a failure keeps it."""
    result = client.pass_key()
    body = result.body or {}
    if result.ok and isinstance(body.get("public_key"), str):
        revoked = [i for i in body.get("revoked") or [] if _is_id(i)]
        kept = {
            "public_key": body["public_key"],
            "building_id": body.get("building_id"),
            "revoked": revoked,
            "fetched_at": to_iso(clock.now()),
        }
        store.set(**{keys.PASS_KEY: kept})
    return result


def due(last_fetch: float | None, interval: float, online: bool | None) -> bool:
    """Fetch now? At start, then every `interval` s (monotonic), while the console answers."""
    if online is False:
        return False  # the feeder's probe says when the console is back
    return last_fetch is None or time.monotonic() - last_fetch >= interval


def keep_revocation(store, event) -> bool:
    """An invitation.revoked event: stored before the event is handed on, so the pass
    is refused offline from the next scan."""
    if not isinstance(event, dict) or event.get("kind") != REVOKED_EVENT:
        return False
    invitation_id = (event.get("payload") or {}).get("invitation_id")
    return _is_id(invitation_id) and store.add_revoked(invitation_id)


def verifying_key(store) -> dict | None:
    """{"public_key", "building_id", "revoked"} as kept, or None before the first fetch."""
    kept = store.get(keys.PASS_KEY)
    if not isinstance(kept, dict) or not isinstance(kept.get("public_key"), str):
        return None
    if not _is_id(kept.get("building_id")):
        return None
    return kept


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
