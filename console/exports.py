"""CSV exports for staff: formula-safe cells (SECURITY.md 9), UTF-8 that Excel opens."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import phonenumbers
from flask import Response

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ becomes text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def phone_cell(e164: str | None) -> str:
    """A phone as Excel opens it cleanly AND safely: Chinese mobiles in the national
    form people write ("138 1234 5678"), others as dialled from China ("00 44 20 …").
    Both start with a digit and hold spaces, so Excel keeps them as text (no formula,
    no 8.61E+12, no lost leading 0) and csv_safe has nothing to neutralise; the old
    "'+8613…" showed its apostrophe. Anything unreadable goes through csv_safe as text."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(str(e164), None)
    except phonenumbers.NumberParseException:
        return str(e164)
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_out_of_country_calling_number(number, "CN")


def csv_response(rows: Iterable[dict], columns, filename: str) -> Response:
    """`columns` is ((key, header label[, say]), …): `say(value)` turns a code into words
    (terms.formatter, phone_cell); every cell then goes through csv_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column[1] for column in columns])
    for row in rows:
        writer.writerow([csv_safe(_cell(row, column)) for column in columns])
    return Response(
        "\ufeff" + buffer.getvalue(),  # BOM: Excel opens UTF-8 Chinese correctly
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def _cell(row: dict, column: tuple):
    value = row.get(column[0])
    return column[2](value) if len(column) > 2 and value is not None else value
