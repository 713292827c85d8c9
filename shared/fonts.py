"""Finding one font with both Chinese and Latin glyphs (kiosk screens, PDFs).

Kivy has no font fallback chain: a glyph missing from the font is a box
(docs/KIOSK_HEADLESS.md). So we pick one font that has both, in this order: the
LOBBYDESK_FONT environment variable, the settings' font_path, then known
system fonts. noto-cjk's .ttc is not a candidate: Kivy opens face 0, the
Japanese variant.
"""

from __future__ import annotations

import os
from pathlib import Path

from shared.errors import LobbyDeskError


class FontNotFound(LobbyDeskError):
    """找不到含中文字形的字体 · No font with Chinese glyphs was found."""

    code = "font_not_found"


ENV_VAR = "LOBBYDESK_FONT"

CANDIDATES = (
    # Debian / Ubuntu: fonts-wqy-microhei, fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    # Fedora
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    # Arch
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    # Windows: Microsoft YaHei
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/msyh.ttf",
    # macOS
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)

HOW_TO_FIX = (
    "The kiosk needs a font with Chinese and Latin characters. On Debian or Ubuntu: "
    "`sudo apt-get install fonts-wqy-microhei`. Or point LOBBYDESK_FONT (or the "
    "font_path setting) at a .ttf/.ttc that has both, e.g. Microsoft YaHei (msyh.ttc)."
)


def find_font(font_path: str | os.PathLike | None = None) -> Path:
    """The font file to use; raises FontNotFound with what to install."""
    explicit = [(ENV_VAR, os.environ.get(ENV_VAR)), ("font_path", font_path)]
    for origin, value in explicit:
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise FontNotFound(
                    f"{origin} is set to {str(path)!r}, which is not a file. " + HOW_TO_FIX
                )
            return path
    for candidate in CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FontNotFound("No font with Chinese glyphs was found. " + HOW_TO_FIX)
