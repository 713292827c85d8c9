"""The unit step of the visitor and repair flows: the unit typed on the keypad,
then checked with the console when it can be.

An unknown unit (the console answers 422) says so and offers a call to
reception. Offline, or without a usable answer, the unit is accepted
unchecked: the console checks it again on delivery, so a network fault never
stops anyone at the screen.
"""

from __future__ import annotations

from kiosk.client import PERMANENT, Result
from kiosk.viewmodels import digit_entry
from kiosk.viewmodels.effects import Query

UNIT = "unit"  # the step
MAX_UNIT_CHARS = 8
MAX_LABEL_CHARS = 24  # shared/units.py MAX_LABEL


class UnitEntry:
    """Mixin for a view-model with a UNIT step.

    The view-model has `step`, `online`, `generation` (answers to older queries
    are ignored) and `_set_error(key, **values)`; it names its own texts and the
    step after the unit in the class attributes below, and calls `_forget_unit()`
    from its reset(). The screens read unit_digits, unit_checking and offer_call.
    """

    UNIT_EMPTY_ERROR: str  # translation key: nothing typed
    UNIT_UNKNOWN_ERROR: str  # translation key, with {unit}: the console does not know it
    STEP_AFTER_UNIT: str

    def _forget_unit(self) -> None:
        self.unit_digits = ""
        self.unit: str | None = None
        self.unit_checking = False
        self.unit_checked = False
        self.offer_call = False

    def unit_key(self, key: str) -> None:
        if self.step != UNIT or self.unit_checking:
            return
        self._set_error(None)
        self.offer_call = False
        self.unit_checked = False
        self.unit_digits = digit_entry.press(self.unit_digits, key, MAX_UNIT_CHARS)

    def unit_next(self) -> Query | None:
        if self.step != UNIT or self.unit_checking:
            return None
        if not self.unit_digits:
            self._set_error(self.UNIT_EMPTY_ERROR)
            return None
        self.unit = self.unit_digits
        self.offer_call = False
        if not self.online:
            self._accept_unit(checked=False)
            return None
        self.unit_checking = True
        return Query("unit_exists", (self.unit,), "on_unit_checked", self.generation)

    def _accept_unit(self, checked: bool) -> None:
        self.unit_checked = checked
        self.unit_checking = False
        self.step = self.STEP_AFTER_UNIT

    def on_unit_checked(self, generation: int, result: Result) -> bool:
        """GET /units/<n>: 200 exists (with the unit's label), 422 unknown; no answer →
        accept the typed digits (the console resolves keypad codes on delivery too)."""
        if generation != self.generation or not self.unit_checking or self.step != UNIT:
            return False
        if result.ok:
            # The console answers with the unit's label: 311201 typed is "3-1-1201" from here on.
            label = (result.body or {}).get("unit")
            if isinstance(label, str) and 0 < len(label) <= MAX_LABEL_CHARS:
                self.unit = label
            self._accept_unit(checked=True)
        elif result.outcome == PERMANENT:
            self.unit_checking = False
            self.offer_call = True
            self._set_error(self.UNIT_UNKNOWN_ERROR, unit=self.unit)
        else:  # no connection, 5xx, not authorised: the console checks it on delivery
            self._accept_unit(checked=False)
        return True
