"""Colours and sizes shared by the kiosk's .kv files (high contrast, big targets).

White text on each tile colour has a contrast ratio of at least 5:1 (WCAG AA).
"""

from __future__ import annotations


def _rgba(hex_colour: str) -> list[float]:
    value = hex_colour.lstrip("#")
    return [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0]


BACKGROUND = _rgba("#F3F5F8")
SURFACE = _rgba("#FFFFFF")
LINE = _rgba("#DDE2EA")
INK = _rgba("#14213D")
MUTED = _rgba("#525C70")
GREEN = _rgba("#1B7F37")
RED = _rgba("#C62828")
AMBER = _rgba("#A35F00")

VISITOR = _rgba("#1F5FAD")
PARCEL = _rgba("#00796B")
REPAIR = _rgba("#B3430E")
HELP = _rgba("#C62828")

# The S3 colours for the help screen's status stripe.
STATE_COLOURS = {
    "idle": MUTED,
    "saving": MUTED,
    "waiting": AMBER,
    "sent": VISITOR,
    "coming": GREEN,
    "resolved": GREEN,
    "failed": RED,
}


def pressed(colour) -> list[float]:
    return [c * 0.8 for c in colour[:3]] + [1.0]


# The smallest tap target anywhere on the kiosk, in px (dp at density 1): the
# letter pad's keys; buttons and the numeric keys are bigger.
MIN_TARGET = 96

# The bottom bar (NavBar) of every screen, in dp: the idle countdown sits just above
# it, so "More time" never covers Back or the primary button.
NAV_HEIGHT = 144


def text_units(text: str) -> int:
    """A text's width in half-width units (a Chinese character counts two): a fixed-width
    button picks a smaller size for a long label rather than break it mid-word."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
