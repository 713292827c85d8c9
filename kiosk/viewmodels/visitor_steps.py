"""The visitor flow's steps and outcome states (kiosk/viewmodels/visitor.py), in a module
of their own so the flow's parts (visitor_name.py, visitor_returning.py) share them."""

from __future__ import annotations

from kiosk.viewmodels.contract import FAILED, IDLE, OFFLINE, SAVING, WAITING  # noqa: F401
from kiosk.viewmodels.unit_entry import UNIT

PURPOSES = ("visit", "delivery", "contractor", "interview", "other")  # shared.visitors.PURPOSES

# steps (UNIT comes with UnitEntry, which runs it; IDLE with the contract)
PRIVACY = "privacy"
PHONE = "phone"
RETURNING = "returning"
NAME = "name"
PURPOSE = "purpose"
OUTCOME = "outcome"
STEPS = (PRIVACY, PHONE, RETURNING, NAME, UNIT, PURPOSE, OUTCOME)

# outcome states (SAVING, WAITING, OFFLINE and FAILED: the contract's)
SENT = "sent"
CONFIRMED = "confirmed"
DENIED = "denied"
UNDECIDED = (SAVING, WAITING, OFFLINE, SENT)
