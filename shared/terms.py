"""The one bilingual word for each domain value (a status, an urgency, a role …).

The words live in one catalogue, assets/translations/terms.json (package data, read
through shared/resources.py); this module only reads it. Pages, charts, the monthly
PDF, CSV/XLSX exports, the kiosk and the residents' messages all say a value through
`term()`, so a ticket that is 危急 · Emergency on its own page is 危急 · Emergency on
the dashboard and on the kiosk too (issue 4: the dashboard once said 紧急 for what the
ticket page called 危急). Chinese first, English second (STANDARDS.md S14). Each group
lists every value the schema allows (tests/test_terms.py checks the CHECK constraints
against it). Counts are said with `plural()`. Why and where: docs/WORDS.md.
"""

from __future__ import annotations

import json
from functools import cache

from shared.resources import asset

SEPARATOR = " · "
CATALOGUE = asset("translations", "terms.json")
# "zh" is what pages pass; "zh_CN" is the kiosk's and the residents' language code.
_CHINESE = ("zh", "zh_CN")


@cache
def _catalogue() -> dict:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def _load_terms() -> dict[str, dict[str, tuple[str, str]]]:
    return {
        group: {value: (words["zh_CN"], words["en"]) for value, words in values.items()}
        for group, values in _catalogue()["terms"].items()
    }


# {group: {value: (zh, en)}}, in the catalogue's order.
TERMS: dict[str, dict[str, tuple[str, str]]] = _load_terms()
PLURALS: dict[str, dict] = _catalogue()["plurals"]

# The dashboard and the PDF list urgencies most urgent first (the catalogue's order).
URGENCY_ORDER = tuple(TERMS["urgency"])


def pair(group: str, value: str | None) -> tuple[str, str]:
    """(zh, en) for a value; an unknown value is shown as it is in both (never a 500)."""
    if value is None:
        return ("—", "—")
    return TERMS[group].get(str(value), (str(value), str(value)))


def term(group: str, value: str | None, language: str | None = None) -> str:
    """ "中文 · English" (or one language: "zh"/"zh_CN", "en") for a value of a group."""
    zh, en = pair(group, value)
    if language in _CHINESE:
        return zh
    if language == "en":
        return en
    return zh if zh == en else f"{zh}{SEPARATOR}{en}"


def labels(group: str) -> dict[str, str]:
    """Every value of a group with its "中文 · English" words, in the catalogue's order."""
    return {value: term(group, value) for value in TERMS[group]}


def pairs(group: str) -> dict[str, tuple[str, str]]:
    return dict(TERMS[group])


def formatter(group: str):
    """A one-argument function saying a group's values (CSV columns take these)."""
    return lambda value: term(group, value)


def plural_form(forms: str | dict[str, str], n: int) -> str:
    """The form of a catalogue entry for a count: Chinese has one form (a string),
    English "one" for exactly 1 and "other" for any other count (0 parcels, 2 parcels)."""
    if isinstance(forms, str):
        return forms
    return forms["one"] if n == 1 else forms["other"]


def plural(key: str, n: int, language: str | None = None, **values) -> str:
    """A count in words: plural("parcels", 2, "en") → "2 parcels", "zh" → "2 件快递";
    no language: "2 件快递 · 2 parcels". Other placeholders come from `values`."""
    entry = PLURALS[key]
    zh = plural_form(entry["zh_CN"], n).format(n=n, **values)
    en = plural_form(entry["en"], n).format(n=n, **values)
    if language in _CHINESE:
        return zh
    if language == "en":
        return en
    return f"{zh}{SEPARATOR}{en}"
