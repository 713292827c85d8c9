"""Register one font with both Chinese and Latin glyphs as Kivy's default.

Kivy has no font fallback chain: a glyph missing from the font is a box
(docs/KIOSK_HEADLESS.md). Which font, and where to look, is decided in shared/fonts.py (the
console's PDFs use the same one).
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.errors import FontNotFound
from shared import fonts


def find_font(font_path: str | os.PathLike | None = None) -> Path:
    """The font file to use; raises FontNotFound (a kiosk setup error) with what to install."""
    try:
        return fonts.find_font(font_path)
    except fonts.FontNotFound as error:
        raise FontNotFound(str(error)) from error


def register_default_font(font_path: str | os.PathLike | None = None) -> Path:
    """Make the found font Kivy's default for every Label (imports Kivy)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = find_font(font_path)
    LabelBase.register(DEFAULT_FONT, str(path))
    return path


# Font Awesome 4.7 (Debian: fonts-font-awesome) for the repair flow's icons.
ICON_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/font-awesome/fontawesome-webfont.ttf",
    "/usr/share/fonts-font-awesome/fonts/fontawesome-webfont.ttf",
    "/usr/share/fonts/fontawesome/fontawesome-webfont.ttf",  # Fedora, Arch
)


def find_icon_font(candidates=ICON_FONT_CANDIDATES) -> Path | None:
    """The Font Awesome TTF, or None: the icons are then left out (text alone)."""
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return path
    return None
