"""Which home tiles work right now (offline at a glance), with no window.

Offline, a tile that cannot work says so before anyone types: greyed, with the
reason. Only the console checks a parcel pickup code (a pickup never waits in
the outbox: kiosk/outbox_policy.py), so pickup needs the connection.
Visitor registration, sign-out, repairs, the emergency button and "call
reception" queue in the outbox and complete at the kiosk (each screen then
says honestly that it will be sent when the connection is back).
"""

from __future__ import annotations

NEEDS_CONSOLE = {"parcel": "home.offline.parcel_reason"}
UNAVAILABLE = "home.offline.unavailable"
# Each tile's name, its key named in full (tests/test_word_catalogue.py finds them).
TILE_KEYS = {
    "visitor": "home.visitor",
    "parcel": "home.parcel",
    "repair": "home.repair",
    "help": "home.help",
}


def available(service: str, online: bool) -> bool:
    return online or service not in NEEDS_CONSOLE


def reason_key(service: str, online: bool) -> str | None:
    """Why a tile is greyed (a translation key), or None if it works."""
    return None if available(service, online) else NEEDS_CONSOLE[service]
