"""Reading roster files: CSV as Excel writes it, and XLSX.

A property's roster comes out of Excel on a Chinese Windows PC (GBK/GB18030
CSV), a newer Excel (UTF-8 CSV with a BOM), WPS or a web tool (plain UTF-8), or
as an .xlsx. The encoding is detected line by line and never guessed: a file
that mixes encodings or decodes to implausible text is refused with a message
saying how to save it, rather than imported as mojibake.
"""

from __future__ import annotations

import csv
import io
import zipfile
from xml.etree.ElementTree import ParseError

from shared.roster.formats import (
    FORMULA_STARTS,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    Column,
    FileRefused,
    Problem,
    Table,
    header_names,
    norm,
)

_MAX_PHYSICAL_ROWS = 5 * MAX_ROWS  # blank rows padded in by a spreadsheet count here
_REFUSED_STARTS = ("=", "@")  # "+" and "-" start phone numbers and floors
FORMULA_MESSAGE = "公式，请只粘贴数值 · A formula: paste values only."


def read_table(
    content: bytes, filename: str, columns: tuple[Column, ...], required: tuple = ()
) -> Table:
    """The rows of a CSV or XLSX file, or a Table whose problems say why not.
    `required` holds groups of column keys: each group needs one of its columns."""
    table = Table()
    try:
        raw = _raw_rows(content, filename)
        _take_rows(table, raw, columns)
    except FileRefused as refused:
        table.problems = [Problem(0, "", str(refused))]
        return table
    by_key = {c.key: c for c in columns}
    for group in required:
        if not set(group) & set(table.keys):
            names = " / ".join(by_key[k].header for k in group)
            table.problems.append(
                Problem(table.header_row, "", f"缺少列 · Missing column: {names}")
            )
    return table


def _raw_rows(content: bytes, filename: str):
    if not content:
        raise FileRefused("文件是空的 · The file is empty.")
    if len(content) > MAX_BYTES:
        raise FileRefused(
            f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分成几个文件 · "
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into several files."
        )
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "这是旧版 Excel (.xls) 文件，请另存为 .xlsx 或 CSV · "
            "This is an old Excel (.xls) file: save it as .xlsx or CSV."
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise FileRefused(
            "这不是有效的 Excel (.xlsx) 文件 · This is not a valid Excel (.xlsx) file."
        )
    return _csv_rows(decode_text(content))


def decode_text(content: bytes) -> str:
    """The text of a CSV: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
    "Unicode text"), or GB18030/GBK, decided line by line; a file that mixes them
    or holds binary is refused."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise _undecodable() from None
    if b"\x00" in content[:8192]:
        raise _not_a_table()
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _decode_gb(content)


def _decode_gb(content: bytes) -> str:
    """GB18030 (a superset of GBK and GB2312) — unless some lines are UTF-8 Chinese,
    or the decoded text does not look like Chinese an Excel user would type."""
    utf8_lines, bad_lines = [], []
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            try:
                line.decode("gb18030")
            except UnicodeDecodeError:
                bad_lines.append(number)
            continue
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            utf8_lines.append(number)
    if bad_lines:
        raise _undecodable(bad_lines)
    if utf8_lines:
        raise FileRefused(
            f"文件混用了 UTF-8 与 GBK 编码（如第 {_lines(utf8_lines)} 行）· The file mixes UTF-8 "
            f"and GBK text (e.g. line {_lines(utf8_lines)}): save it again as “CSV UTF-8”."
        )
    text = content.decode("gb18030")
    if not _plausible_chinese(text):
        raise _undecodable()
    return text


def _plausible_chinese(text: str) -> bool:
    """Big5 or Shift-JIS bytes also decode as GB18030, into rare characters: real
    names and addresses are nearly all in GB2312's common set."""
    wide = [ch for ch in text if not ch.isascii()]
    if not wide:
        return True
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(wide)


def _lines(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:5])) + (" …" if len(numbers) > 5 else "")


def _undecodable(lines: list[int] | None = None) -> FileRefused:
    where = f"（第 {_lines(lines)} 行 · line {_lines(lines)}）" if lines else ""
    return FileRefused(
        f"无法识别文件的文字编码{where} · The file's text encoding cannot be read{where}: "
        "in Excel choose 另存为 · Save as → “CSV UTF-8” or “Excel 工作簿 (.xlsx)”."
    )


def _not_a_table() -> FileRefused:
    return FileRefused(
        "这不是 CSV 或 Excel (.xlsx) 文件 · This is not a CSV or Excel (.xlsx) file."
    )


def _csv_rows(text: str):
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield [_text_cell(cell) for cell in cells[:MAX_COLUMNS]]
    except csv.Error:
        raise _not_a_table() from None


def _text_cell(text: str) -> tuple[str, str]:
    """(value, problem kind): "formula" for what a spreadsheet would run as one."""
    value = text.strip()
    if value.startswith(_REFUSED_STARTS):
        return value, "formula"
    if value[:1] == "'" and value[1:2] and value[1] in FORMULA_STARTS:
        value = value[1:]  # text protected the way our export (and Excel users) write it
    return value, ""


def _xlsx_rows(content: bytes):
    import openpyxl  # 0.2 s to import: only when an .xlsx comes in
    from openpyxl.utils.exceptions import InvalidFileException

    _check_unpacked_size(content)
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        OSError,
        ParseError,
    ):
        raise FileRefused(
            "这不是有效的 Excel (.xlsx) 文件 · This is not a valid Excel (.xlsx) file."
        ) from None
    try:
        sheet = book.worksheets[0]
        for cells in sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS):
            yield [_xlsx_cell(cell) for cell in cells]
    except (zipfile.BadZipFile, KeyError, IndexError, TypeError, ValueError, OSError, ParseError):
        raise FileRefused(
            "Excel 文件已损坏 · The Excel file is damaged: save it again and retry."
        ) from None
    finally:
        book.close()


# A zip bomb is refused before anything is unpacked: zipfile never unpacks more than
# a member's declared size (a lie fails its CRC check), so the declared sizes bound it.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_CELL_CHARS = 1000


def _check_unpacked_size(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl says it is not a valid file
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRefused(
            f"Excel 文件解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB · The Excel file "
            f"unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB: it is not a roster."
        )


def _xlsx_cell(cell) -> tuple[str, str]:
    value = cell.value
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise FileRefused(
            f"有单元格超过 {MAX_CELL_CHARS} 个字符 · A cell holds more than {MAX_CELL_CHARS} "
            "characters: this is not a roster."
        )
    if cell.data_type == "f":
        return str(cell.value), "formula"
    if value is None:
        return "", ""
    if hasattr(value, "hour"):  # a datetime: a date typed into a date cell reads as midnight
        return (value.date().isoformat() if value.time() == value.min.time() else str(value)), ""
    if isinstance(value, bool):
        return ("yes" if value else "no"), ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), ""  # a phone typed as a number: 13812345678.0
    return _text_cell(str(value))


def _take_rows(table: Table, raw, columns: tuple[Column, ...]) -> None:
    names = header_names(columns)
    header: list[str] | None = None
    physical = 0
    for physical, cells in enumerate(raw, start=1):
        if physical > _MAX_PHYSICAL_ROWS:
            raise _too_many_rows()
        if header is None:
            if any(value for value, _kind in cells):
                header = [value for value, _kind in cells]
                table.header_row = physical
                table.keys = _header_keys(table, header, names, columns, physical)
            continue
        if any(value for value, _kind in cells):
            _take_row(table, physical, cells)
            if len(table.rows) > MAX_ROWS:
                raise _too_many_rows()
    if header is None:
        raise FileRefused("文件里没有表头和数据 · The file has no header row and no data.")
    if not table.rows and not table.refused:
        table.problems.append(Problem(0, "", "文件里没有数据行 · The file has no data rows."))
    _unnamed_columns(table)


def _too_many_rows() -> FileRefused:
    return FileRefused(
        f"文件超过 {MAX_ROWS:,} 行，请分成几个文件 · "
        f"The file has more than {MAX_ROWS:,} rows: split it into several files."
    )


def _header_keys(table, header, names, columns, row: int) -> list[str]:
    keys, unknown, seen = [], [], {}
    for position, text in enumerate(header):
        key = names.get(norm(text), "") if text else ""
        if text and not key:
            unknown.append(text)
        if key and key in seen:
            table.problems.append(
                Problem(row, key, f"“{text}”列重复 · The column “{text}” appears twice.")
            )
            key = ""
        seen[key] = position
        keys.append(key or (f"?{position}" if text else ""))
    if unknown:
        known = "、".join(c.header for c in columns)
        table.problems.append(
            Problem(
                row,
                "",
                f"不认识的列：{'、'.join(unknown)} · Unknown columns: {', '.join(unknown)}. "
                f"可用的列 · Columns we read: {known}",
            )
        )
    return keys


def _take_row(table: Table, number: int, cells) -> None:
    values = {}
    for position, (value, kind) in enumerate(cells):
        key = table.keys[position] if position < len(table.keys) else "#"
        if not value or key.startswith("?"):
            continue
        if kind == "formula":
            table.problems.append(Problem(number, key, FORMULA_MESSAGE))
            continue  # the formula's text is not the value: nothing else to say about it
        values[key] = value
    table.rows.append((number, values))


def _unnamed_columns(table: Table) -> None:
    """Values under no header would be silently dropped: say where they are."""
    for number, values in table.rows:
        if values.pop("#", None) is not None or values.pop("", None) is not None:
            table.problems.append(
                Problem(
                    number,
                    "",
                    "有数据的列没有表头 · A column with values has no header: name it or delete it.",
                )
            )
