"""Common Chinese surnames, searchable by pinyin on an A–Z letter pad
(docs/ARCHITECTURE.md, "Typing Chinese on a kiosk").

Kivy has no pinyin input method, so a visitor picks a surname instead of
typing it: "w" finds 王 吴 魏 汪 万 …, "zh" finds 张 赵 周 朱 …, and "oy" (the
first letters of each syllable) finds 欧阳. The list is data
(assets/data/surnames.txt, most common first); readings come from pypinyin,
except where the file gives the surname reading (曾 zeng, not ceng).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources.abc import Traversable

from pypinyin import Style, lazy_pinyin

from shared.resources import asset

SURNAMES_FILE = asset("data", "surnames.txt")  # in the wheel too (shared/resources.py)
MAX_INITIALS = 6


@dataclass(frozen=True)
class Surname:
    text: str
    syllables: tuple[str, ...]

    @property
    def pinyin(self) -> str:
        """Joined reading, for display and prefix search: "ouyang"."""
        return "".join(self.syllables)

    @property
    def initials(self) -> str:
        """First letter of each syllable: "oy"."""
        return "".join(syllable[0] for syllable in self.syllables)

    def matches(self, typed: str) -> bool:
        return self.pinyin.startswith(typed) or self.initials.startswith(typed)


def parse(lines) -> list[Surname]:
    surnames, seen = [], set()
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        text, *reading = line.split()
        if text in seen:
            raise ValueError(f"surname {text} is listed twice")
        seen.add(text)
        if reading and len(reading) != len(text):
            raise ValueError(f"{text}: give one syllable per character, got {reading}")
        syllables = reading or lazy_pinyin(text, style=Style.NORMAL)
        # pypinyin writes ü as v (lv, nv): a visitor types l or n either way.
        surnames.append(Surname(text, tuple(s.lower() for s in syllables)))
    return surnames


@cache
def all_surnames(path: Traversable = SURNAMES_FILE) -> tuple[Surname, ...]:
    with path.open(encoding="utf-8") as file:
        return tuple(parse(file))


def search(typed: str, limit: int | None = None) -> list[Surname]:
    """Surnames whose pinyin (or syllable initials) start with `typed`, most common first."""
    typed = "".join(ch for ch in typed.lower() if "a" <= ch <= "z")
    found = [s for s in all_surnames() if s.matches(typed)]
    return found if limit is None else found[:limit]
