"""CSV exports for staff: formula-safe cells (SECURITY.md 9), UTF-8 that Excel opens."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ becomes text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_response(rows: Iterable[dict], columns, filename: str) -> Response:
    """`columns` is ((key, header label), …); every cell goes through csv_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _key, label in columns])
    for row in rows:
        writer.writerow([csv_safe(row.get(key)) for key, _label in columns])
    return Response(
        "\ufeff" + buffer.getvalue(),  # BOM: Excel opens UTF-8 Chinese correctly
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
