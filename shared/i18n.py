"""Bilingual text. zh_CN is the default (S14); English is on every screen.

The catalogue is JSON in assets/translations/ (one file per surface, plus one
per feature), each key holding both languages side by side so a missing
translation is obvious.
"""

from __future__ import annotations

import json
from fnmatch import fnmatch
from functools import cache

from shared.resources import asset
from shared.terms import plural_form

DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
TRANSLATIONS_DIR = asset("translations")  # in the wheel too (shared/resources.py)


class MissingTranslation(KeyError):
    pass


@cache
def catalogue(surface: str) -> dict[str, dict[str, str]]:
    """All keys of a surface: `<surface>.json` plus one `<surface>.<feature>.json` per feature."""
    merged: dict[str, dict[str, str]] = {}
    files = [
        TRANSLATIONS_DIR / f"{surface}.json",
        *sorted(
            (p for p in TRANSLATIONS_DIR.iterdir() if fnmatch(p.name, f"{surface}.*.json")),
            key=lambda p: p.name,
        ),
    ]
    for path in files:
        entries = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & entries.keys()
        if clash:
            raise ValueError(f"{path.name} repeats keys {sorted(clash)}")
        merged.update(entries)
    return merged


def text(surface: str, key: str, language: str, **values) -> str:
    """A key's words in a language; an entry that counts (a form for "one" and one for
    "other", see docs/WORDS.md) takes its form from the value `n`."""
    try:
        template = catalogue(surface)[key][language]
        if isinstance(template, dict):
            template = plural_form(template, values["n"])
    except KeyError as error:
        raise MissingTranslation(f"{surface}:{key}:{language}") from error
    return template.format(**values) if values else template


def other_language(language: str) -> str:
    return "en" if language == "zh_CN" else "zh_CN"
