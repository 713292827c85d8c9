"""Names people type at the kiosk: cleaned, bounded, and masked for display.

Control and formatting characters (CR/LF, right-to-left overrides, zero-width
joiners) are removed, so a name cannot forge a log line or flip a console row;
symbols such as emoji are refused with a message the kiosk can show.
"""

from __future__ import annotations

import unicodedata

from shared.errors import LobbyDeskError

MAX_NAME_LENGTH = 40


class InvalidName(LobbyDeskError):
    """请输入姓名：仅限文字，最多 40 个字 · Please enter a name: letters only, at most 40 characters."""

    code = "invalid_name"


def clean(text) -> str:
    if not isinstance(text, str):
        raise InvalidName()
    kept = "".join(
        " " if ch in "\r\n\t" else ch
        for ch in text
        if unicodedata.category(ch)[0] != "C" or ch in "\r\n\t"
    )
    name = " ".join(kept.split())
    if not name:
        raise InvalidName("Please enter a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"A name can have at most {MAX_NAME_LENGTH} characters.")
    for ch in name:
        category = unicodedata.category(ch)
        if category[0] not in ("L", "M", "Z") and ch not in "-.'·":
            raise InvalidName("Please use letters only in the name.")
    return name


def is_cjk(name: str) -> bool:
    return any("CJK" in unicodedata.name(ch, "") for ch in name)


MASK = "**"


def mask(name: str) -> str:
    """张先生 → 张**; Emily Carter → E**; 欧阳娜娜 → 欧**.

    The first character and a fixed "**", whatever the name's length or words:
    a mask that kept letter counts (E**** C*****) narrowed a guess at the name."""
    name = name.strip()
    return (name[:1] or "?") + MASK
