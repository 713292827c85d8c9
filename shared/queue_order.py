"""The order of the live queue (docs/LIVE_QUEUE.md, S3, S8).

Emergencies come first: an emergency escalation (a repair problem that forces
urgency "emergency", such as someone trapped in a lift) and a help call made
from the kiosk's emergency screen. Everything else follows. Within a class the
oldest comes first: the person who has waited longest at the kiosk is next.
An item someone already answered ("on my way") keeps its place in its class:
moving it would make rows jump under the receptionist's pointer.
"""

from __future__ import annotations

EMERGENCY = 0
ORDINARY = 1

# The kiosk screens whose help call is an emergency: "call reception" on the red
# emergency screen (kiosk/screens/repair_emergency.kv), and home's "紧急求助 · Emergency"
# with its hazard (kiosk/viewmodels/sos.py: screen "sos_<hazard>", named by
# shared/terms.py's "sos_screen" group), which needs no unit.
EMERGENCY_HELP_SCREENS = frozenset({"repair_emergency", "sos_elevator", "sos_fire", "sos_water"})


def priority(item: dict) -> int:
    """EMERGENCY or ORDINARY for one queue item (a dict with at least `type`)."""
    if item.get("type") != "escalation":
        return ORDINARY
    if item.get("kind") == "emergency":
        return EMERGENCY
    if item.get("kind") == "help" and item.get("screen") in EMERGENCY_HELP_SCREENS:
        return EMERGENCY
    return ORDINARY


def sort_key(item: dict) -> tuple:
    """Class first, then the oldest `received_at` (console time, ISO 8601 UTC, so it
    sorts as text); type and id only make the order stable between refreshes."""
    return (priority(item), item["received_at"], item.get("type", ""), item.get("id", 0))


def in_order(items: list[dict]) -> list[dict]:
    """The queue as the desk works it, each item marked with its `priority`."""
    for item in items:
        item["priority"] = priority(item)
    return sorted(items, key=sort_key)
