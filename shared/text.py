"""Free text typed by people (tickets, handover notes): which characters are refused.

A note or a ticket must read the same everywhere it is shown. Control characters
(Cc: escapes, NUL, a lone CR), format characters (Cf: bidi overrides and marks,
zero-width spaces and joiners, the BOM, U+061C), line and paragraph separators
(Zl, Zp), private-use (Co) and surrogate (Cs) code points can hide text, reorder
it or break a page, a CSV or a log line, so they are refused with the position
of the first one. Each caller names the few layout characters it allows
("\\n", and "\\t" for handover notes).
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})


def refused_character(text: str, allowed: str = "\n") -> tuple[int, str] | None:
    """(1-based position, character) of the first refused character, or None."""
    for position, ch in enumerate(text, start=1):
        if ch not in allowed and unicodedata.category(ch) in REFUSED_CATEGORIES:
            return position, ch
    return None


def refusal_message(position: int, ch: str) -> str:
    """What to tell the person who typed it, in both languages."""
    code = f"U+{ord(ch):04X}"
    return (
        f"第 {position} 个字符是不可见的控制字符（{code}），请删除 · "
        f"Character {position} is a control character ({code}) that is not allowed; "
        "please remove it."
    )
