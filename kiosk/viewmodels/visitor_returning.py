"""A returning visitor, recognised from the phone: "Welcome back, 张**", and "same as last
time" in one tap (the unit and purpose of the last visit, from the console's look-up).
A mixin of VisitorViewModel (kiosk/viewmodels/visitor.py).

Whoever types a phone number at the kiosk sees what it shows, so it shows as little
as the kiosk shows of other personal data: the console's masked name (张**) and the
last unit masked too (`mask_unit`: 3-1204 → 3-12**). The visitor knows where they
go; a stranger typing someone's number learns the building and floor at most.
"""

from __future__ import annotations

from kiosk.client import Result
from kiosk.viewmodels.effects import Enqueue
from kiosk.viewmodels.unit_entry import MAX_LABEL_CHARS as MAX_UNIT_LABEL
from kiosk.viewmodels.visitor_steps import NAME, PHONE, PURPOSE, PURPOSES, RETURNING, UNIT

UNIT_MASK = "**"


def mask_unit(unit: str | None) -> str:
    """The last two characters hidden with a fixed "**" (1201 → 12**, 3-1204 → 3-12**,
    101 → 1**): the room is the private part; a fixed mask tells no length."""
    unit = (unit or "").strip()
    if not unit:
        return ""
    return unit[: max(0, len(unit) - 2)] + UNIT_MASK


class ReturningVisitor:
    """The phone look-up's answer and the returning visitor's choices."""

    def on_lookup(self, generation: int, result: Result) -> bool:
        """POST /visitors/lookup answered (or failed: then the visitor types a name)."""
        if generation != self.generation or not self.lookup_pending or self.step != PHONE:
            return False
        self.lookup_pending = False
        body = result.body or {}
        if result.ok and body.get("found") is True and isinstance(body.get("masked_name"), str):
            self.returning_name = body["masked_name"][:20]
            self._remember_last_visit(body)
            self.step = RETURNING
        else:
            self._after_phone()
        return True

    def _remember_last_visit(self, body: dict) -> None:
        unit, purpose = body.get("last_unit"), body.get("last_purpose")
        ok_unit = isinstance(unit, str) and 0 < len(unit) <= MAX_UNIT_LABEL
        self.last_unit = unit if ok_unit else None
        self.last_purpose = purpose if purpose in PURPOSES else PURPOSES[0]

    def same_as_last(self, language: str) -> Enqueue | None:
        """ "Yes, same as last time": the returning visitor, the last unit and purpose, one
        person — sent at once. The console checks the unit again and staff confirm (S2)."""
        if self.step != RETURNING or not self.last_unit or not self.phone:
            return None
        self.returning = True
        self._clear_name()
        self.unit, self.unit_checked = self.last_unit, True
        self.purpose, self.party_size = self.last_purpose, 1
        self.step = PURPOSE
        return self.submit(language)

    def confirm_returning(self, yes: bool) -> None:
        if self.step != RETURNING:
            return
        self.returning = bool(yes)
        if yes:
            self._clear_name()
            self.step = UNIT
        else:
            self.returning_name = None
            self.step = NAME

    @property
    def last_unit_shown(self) -> str:
        """The last unit as the kiosk shows it: masked."""
        return mask_unit(self.last_unit)
