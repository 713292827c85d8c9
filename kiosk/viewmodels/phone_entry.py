"""Typing a phone number on the kiosk's numeric keypad (visitor and sign-out flows)."""

from __future__ import annotations

MAX_PHONE_CHARS = 16  # "+" and up to 15 digits: the longest E.164 number


def press(digits: str, key: str) -> str:
    """The digits after one keypad key: ⌫, clear, a leading +, or a digit."""
    if key == "back":
        return digits[:-1]
    if key == "clear":
        return ""
    if key == "+" and not digits:
        return "+"
    if key.isdigit() and len(digits) < MAX_PHONE_CHARS:
        return digits + key
    return digits
