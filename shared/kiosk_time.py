"""One rule for the times kiosks send (created_at on visits, help calls, repairs, alerts).

The console's own received_at rules every clock the desk is measured by; the
kiosk's time is kept as a record of when the person pressed the button. A kiosk
clock can be wrong by hours or decades (a battery reset to 1970, a bad time
server), and nobody at the kiosk can fix that, so no item is ever refused for
its time: a time outside the plausible window, or one that cannot be placed
on the UTC line at all (year 1 with an offset), is stored flagged as doubtful
for staff to see. Only text that is not a time at all is refused, as any
malformed field is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import to_iso
from shared.errors import InvalidRequest

# A kiosk may hold items through a long outage: weeks old is still believable.
PLAUSIBLE_AGE = timedelta(days=60)
# Clocks drift a little ahead; more than this is a wrong clock.
PLAUSIBLE_AHEAD = timedelta(minutes=10)
MAX_CHARS = 40


@dataclass(frozen=True)
class KioskTime:
    stored: str  # the kiosk's time in UTC, or the console's when it cannot be placed
    doubtful: bool


def parse(value, field: str = "created_at") -> datetime:
    """The moment a kiosk sent, with its zone; InvalidRequest if it is not a time."""
    message = f"{field} must be an ISO 8601 time with a zone"
    if not isinstance(value, str) or len(value) > MAX_CHARS:
        raise InvalidRequest(message)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidRequest(message) from error
    if moment.tzinfo is None:
        raise InvalidRequest(message)
    return moment


def judge(value, now: datetime, field: str = "created_at") -> KioskTime:
    """The stored form of a kiosk's time and whether staff should doubt it."""
    moment = parse(value, field)
    try:
        stored = to_iso(moment)  # years 1 and 9999 with an offset do not fit in UTC
    except (OverflowError, ValueError):
        return KioskTime(to_iso(now), True)
    doubtful = not (now - PLAUSIBLE_AGE <= moment <= now + PLAUSIBLE_AHEAD)
    return KioskTime(stored, doubtful)
