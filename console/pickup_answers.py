"""A kiosk pickup's outcome (shared/parcels/pickup.py) said in HTTP: the JSON answer
and its status, for console/kiosk_writes.py (stored under the Idempotency-Key) and
console/api.py (the pause and throttle refusals raised before the code is looked at)."""

from __future__ import annotations

from shared import parcels
from shared.clock import to_iso
from shared.errors import LobbyDeskError


def refusal(error: LobbyDeskError) -> dict:
    """{"error": {code, message, and what the kiosk shows or waits on}}: the attempts
    left, until when the unit's code entry is paused, how many seconds to wait."""
    extra: dict = {}
    if getattr(error, "attempts_left", None) is not None:
        extra["attempts_left"] = error.attempts_left
    if isinstance(error, parcels.CodeEntryPaused):
        extra["paused_until"] = to_iso(error.paused_until)
    if getattr(error, "retry_after", None) is not None:
        extra["retry_after"] = error.retry_after
    return {"error": {"code": error.code, "message": str(error), **extra}}


def envelope(outcome: parcels.PickupOutcome) -> tuple[dict, int]:
    """(answer, status): the parcels and where to collect them, or the refusal."""
    if outcome.refused is not None:
        return refusal(outcome.refused), outcome.refused.http_status
    return parcels.pickup_answer(outcome.parcels, outcome.self_service), 200
