"""The roster out, in exactly the import format, as CSV or XLSX that a spreadsheet
shows as typed (no formulas, phones as text)."""

from __future__ import annotations

import csv
import io

import sqlite_utils

from shared import audit, building, terms
from shared.clock import local_time
from shared.db import write_transaction
from shared.errors import InvalidRequest
from shared.roster.changes import FORMATS
from shared.roster.formats import FORMULA_STARTS, RESIDENT_COLUMNS


def export(
    db: sqlite_utils.Database, clock, fmt: str = "csv", *, include_moved_out=False, actor: str
) -> bytes:
    """The roster as a file the import reads back unchanged (audited: it is personal data)."""
    if fmt not in FORMATS:
        raise InvalidRequest("格式应为 csv 或 xlsx · The format must be csv or xlsx.")
    rows = _export_rows(db, include_moved_out)
    with write_transaction(db):
        audit.record(
            db,
            clock,
            actor=actor,
            action="roster.export",
            detail={"format": fmt, "rows": len(rows), "moved_out": include_moved_out},
        )
    headers = [c.header for c in RESIDENT_COLUMNS]
    if fmt == "xlsx":
        return write_xlsx(headers, rows, title="住户 Residents")
    return write_csv(headers, rows)


_ROLE_OUT = {role: " ".join(words) for role, words in terms.pairs("resident_role").items()}
_LANGUAGE_OUT = {"zh_CN": "中文 Chinese", "en": "英文 English"}


def _export_rows(db: sqlite_utils.Database, include_moved_out: bool) -> list[list]:
    timezone = building.current(db)["timezone"]
    active = "" if include_moved_out else " AND r.moved_out_on IS NULL"
    people = list(
        db.query(
            "SELECT r.*, u.number AS unit_number FROM residents r JOIN units u ON u.id = r.unit_id"  # noqa: S608
            f" WHERE r.erased_at IS NULL{active} ORDER BY u.number, r.moved_out_on IS NOT NULL, r.id"
        )
    )
    channels: dict[int, list[dict]] = {}
    for channel in db.query(
        "SELECT resident_id, address, consent_at FROM resident_channels"
        " WHERE withdrawn_at IS NULL ORDER BY resident_id, position, id"
    ):
        channels.setdefault(channel["resident_id"], []).append(channel)
    return [_export_row(p, channels.get(p["id"], []), timezone) for p in people]


def _export_row(person: dict, channels: list[dict], timezone: str) -> list:
    addresses = [c["address"] for c in channels]
    if addresses and addresses[-1] == person["email"]:
        addresses.pop()  # the import adds the e-mail column's address last again
    consent = min((c["consent_at"] for c in channels), default=None)
    return [
        person["unit_number"],
        person["name"],
        _ROLE_OUT.get(person["role"], person["role"]),
        _phone_out(person["phone"]),
        _phone_out(person["alt_phone"]),
        person["email"] or "",
        _LANGUAGE_OUT.get(person["language"], person["language"]),
        person["moved_in_on"] or "",
        " ".join(addresses),
        local_time(consent, timezone, "%Y-%m-%d %H:%M:%S") if consent else "",
        person["moved_out_on"] or "",
    ]


def _phone_out(e164: str | None) -> str:
    """A Chinese mobile as people write it (13812345678); others in E.164."""
    if not e164:
        return ""
    return e164[3:] if e164.startswith("+86") else e164


def safe_cell(value) -> str:
    """Text a spreadsheet shows as typed: a leading = + - @ gets an apostrophe, as
    console/exports.py does for CSV (SECURITY.md 9); reading strips it again."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(headers: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a BOM, so Excel on Chinese Windows opens it correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(headers: list[str], rows: list[list], *, title: str) -> bytes:
    """Every cell a text cell: phones stay 13812345678, never 1.38E+10."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for letter_index, header in enumerate(headers):
        letter = openpyxl.utils.get_column_letter(letter_index + 1)
        sheet.column_dimensions[letter].width = max(12, min(40, len(header) * 1.6))
    sheet.append(headers)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
