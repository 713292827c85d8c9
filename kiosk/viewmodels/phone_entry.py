"""Typing a phone number on the kiosk's numeric keypad (visitor and sign-out flows)."""

from __future__ import annotations

from kiosk.viewmodels import digit_entry

MAX_PHONE_CHARS = 16  # "+" and up to 15 digits: the longest E.164 number


def press(digits: str, key: str) -> str:
    """The digits after one keypad key: a leading +, else ⌫, clear or a digit."""
    if key == "+" and not digits:
        return "+"
    return digit_entry.press(digits, key, MAX_PHONE_CHARS)
