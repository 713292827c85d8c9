"""Font Awesome 4.7 glyphs for the kiosk's tiles and buttons.

The ticket catalog names each category's icon ("tint", "bolt" …, FA 4.7
names); `glyph(name)` turns a name into the character to draw with the font
registered as FONT_NAME. Where the font is missing (Debian package
fonts-font-awesome not installed) the icons are left out: `glyph()` returns ""
and the screens show their text alone. That is logged once.
"""

from __future__ import annotations

import logging
import os

from kiosk.fonts import ICON_FONT_CANDIDATES, find_icon_font

log = logging.getLogger(__name__)

FONT_NAME = "LobbyDeskIcons"

# FA 4.7 code points (fontawesome-webfont.ttf); only the ones the kiosk uses.
GLYPHS = {
    "tint": 0xF043,
    "bolt": 0xF0E7,
    "building": 0xF1AD,
    "lock": 0xF023,
    "trash": 0xF1F8,
    "volume-up": 0xF028,
    "shield": 0xF132,
    "ellipsis-h": 0xF141,
    "wrench": 0xF0AD,
    "warning": 0xF071,
    "phone": 0xF095,
    "check-circle": 0xF058,
    "qrcode": 0xF029,
    "search": 0xF002,
    "star": 0xF005,
    "pencil": 0xF040,
    "clock-o": 0xF017,
    "camera": 0xF030,
    "bell": 0xF0F3,
}

_state: dict = {"path": None, "checked": False}


def register(candidates=ICON_FONT_CANDIDATES) -> bool:
    """Register the icon font with Kivy once; False (logged once) when it is missing."""
    if _state["checked"]:
        return _state["path"] is not None
    _state["checked"] = True
    path = find_icon_font(candidates)
    if path is None:
        log.warning(
            "Font Awesome not found (looked in %s): icons are left out, text is shown alone."
            " Install the Debian package fonts-font-awesome.",
            os.pathsep.join(candidates),
        )
        return False
    from kivy.core.text import LabelBase

    LabelBase.register(FONT_NAME, str(path))
    _state["path"] = path
    return True


def available() -> bool:
    return _state["path"] is not None


def glyph(name: str | None) -> str:
    """The icon's character, or "" (no font, or an icon the kiosk does not know)."""
    if not available() or name not in GLYPHS:
        return ""
    return chr(GLYPHS[name])


def font_name() -> str:
    """For a Label's font_name: the icon font, or Kivy's default when it is missing."""
    from kivy.core.text import DEFAULT_FONT

    return FONT_NAME if available() else DEFAULT_FONT
