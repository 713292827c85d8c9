"""Bilingual text. zh_CN is the default (S14); English is on every screen.

The catalogue is one JSON file per surface in assets/translations/, each key
holding both languages side by side so a missing translation is obvious.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "assets" / "translations"


class MissingTranslation(KeyError):
    pass


@cache
def catalogue(surface: str) -> dict[str, dict[str, str]]:
    with open(TRANSLATIONS_DIR / f"{surface}.json", encoding="utf-8") as file:
        return json.load(file)


def text(surface: str, key: str, language: str, **values) -> str:
    try:
        template = catalogue(surface)[key][language]
    except KeyError as error:
        raise MissingTranslation(f"{surface}:{key}:{language}") from error
    return template.format(**values) if values else template


def other_language(language: str) -> str:
    return "en" if language == "zh_CN" else "zh_CN"
