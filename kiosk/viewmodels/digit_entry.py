"""Typing digits on the kiosk's numeric keypad (kiosk/keypad.py): one field, or two.

Every flow edits its digit fields the same way, so a fix to ⌫, clear or a
length limit is made here once.
"""

from __future__ import annotations

import dataclasses

from kiosk.viewmodels.contract import ENTRY


def press(digits: str, key: str, limit: int) -> str:
    """The digits after one keypad key: ⌫ drops the last, clear empties the field,
    a digit is added while the field is shorter than `limit`; anything else is ignored."""
    if key == "back":
        return digits[:-1]
    if key == "clear":
        return ""
    if len(key) == 1 and key.isdigit() and len(digits) < limit:
        return digits + key
    return digits


@dataclasses.dataclass
class TwoFieldEntry:
    """Two digit fields typed on one keypad, the first then the second (parcel
    pickup: unit, code; ticket status: number, unit). The keypad types into the
    selected `field`; the view-model decides when keys count and what they clear.
    A dataclass, so two entries with the same typing compare equal."""

    first: tuple[str, int]  # (name, most digits)
    second: tuple[str, int]
    field: str = dataclasses.field(init=False)
    digits: dict[str, str] = dataclasses.field(init=False)  # name → what is typed

    def __post_init__(self) -> None:
        self.field = self.first[0]
        self.digits = {self.first[0]: "", self.second[0]: ""}

    def select(self, field: str) -> None:
        if field in self.digits:
            self.field = field

    def press(self, key: str) -> None:
        typed = self.digits[self.field]
        if key == "back" and not typed and self.field == self.second[0]:
            # ⌫ on an empty second field goes back to the first: a slip there is
            # fixed with ⌫ alone, without finding the field to tap.
            self.field = self.first[0]
            return
        _name, limit = self.first if self.field == self.first[0] else self.second
        self.digits[self.field] = press(typed, key, limit)

    def clear(self, *fields: str) -> None:
        """Empty the fields named (all of them when none is); the selection stays."""
        for field in fields or self.digits:
            self.digits[field] = ""


class KeypadEntry:
    """The entry step of a flow with a TwoFieldEntry (`self.entry`): the keypad types
    into the selected field while the flow is at ENTRY. A mixin of the flow's
    view-model, which clears its own error line (`_clear_error`) when a key is pressed."""

    @property
    def field(self) -> str:
        """The field the keypad types into."""
        return self.entry.field

    def select(self, field: str) -> None:
        if self.state == ENTRY:
            self.entry.select(field)

    def key(self, key: str) -> None:
        if self.state == ENTRY:
            self._clear_error()
            self.entry.press(key)

    def _clear_error(self) -> None:
        self.error_key = None
