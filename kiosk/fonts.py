"""Register one font with both Chinese and Latin glyphs as Kivy's default.

Kivy has no font fallback chain: a glyph missing from the font is a box
(KIVY.md). Which font, and where to look, is decided in shared/fonts.py (the
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
