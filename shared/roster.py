"""The roster a property already has: residents and units files in, the roster out.

`preview` reads a file and says, row by row, what is wrong and what importing
it would do, writing nothing. `apply` does it all or nothing in one write
transaction, after checking everything again: the building may have changed
since the preview. Every resident goes through `residents.clean`, the same
validation as the console's forms.

Re-importing a file updates the residents it matches (same unit and phone, or
same unit and name when the row has no phone) instead of adding them twice.
Residents absent from the file are left alone, and an empty cell leaves what is
on record: a file adds and corrects, it never erases. Consent (PIPL) is per
row: without it, the row sets no contact channels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import audit, building, residents, terms, units
from shared.clock import local_time, to_iso
from shared.db import one, write_transaction
from shared.errors import InvalidRequest, NotFound, StaleState
from shared.roster_files import (
    KIND_WORDS,
    LANGUAGE_WORDS,
    MAX_BYTES,
    RESIDENT_COLUMNS,
    ROLE_WORDS,
    UNIT_COLUMNS,
    YES_NO_WORDS,
    Problem,
    parse_moment,
    read_table,
    word,
    write_csv,
    write_xlsx,
)
from shared.terms import plural

KINDS = ("residents", "units")
FORMATS = ("csv", "xlsx")
ACTION_LABELS = {
    "add": "新增 · Add",
    "update": "更新 · Update",
    "move_out": "迁出 · Move out",
    "unchanged": "不变 · Unchanged",
}
_FIELDS = ("name", "role", "phone", "alt_phone", "email", "language", "moved_in_on")
_PLACEHOLDERS = {"name": "X", "role": "owner", "language": "zh_CN"}  # to find the next problem
_STALE_UPLOADS = timedelta(days=1)
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")  # 1.38123E+10: Excel's display, not the number
_SCIENTIFIC_MESSAGE = (
    "号码被 Excel 写成了科学计数法，请把该列设为“文本”后重新输入 · Excel wrote this number in "
    "scientific notation: format the column as Text and type the numbers again."
)


@dataclass
class Change:
    """What importing one row does."""

    row: int
    action: str  # add, update, move_out, unchanged
    unit: str
    name: str
    fields: list[str] = field(default_factory=list)  # the column keys that change
    unit_id: int | None = None
    resident_id: int | None = None
    record: dict | None = None  # cleaned fields to write
    moved_out_on: str | None = None


@dataclass
class Preview:
    kind: str
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


class RosterHasProblems(InvalidRequest):
    """The file has problems; nothing was imported. 文件有问题，未导入。"""

    code = "roster_has_problems"
    http_status = 422

    def __init__(self, preview: Preview):
        count = len(preview.errors)
        super().__init__(
            f"文件有 {plural('problems', count, 'zh')}，未导入任何内容 · "
            f"The file has {plural('problems', count, 'en')}; nothing was imported."
        )
        self.preview = preview


def column_label(kind: str, key: str) -> str:
    """The column a problem is about, as the export heads it ("手机 Phone")."""
    columns = RESIDENT_COLUMNS if kind == "residents" else UNIT_COLUMNS
    aliases = {"channels": "notify_url", "moved_out": "moved_out_on", "target": "number"}
    key = aliases.get(key, key)
    return next((c.header for c in columns if c.key == key), "")


# --- residents: what a file would do ----------------------------------------------------


class _Context:
    """The building as it is now, read once for the whole file."""

    def __init__(self, db: sqlite_utils.Database, clock):
        self.today = residents.today(db, clock)
        self.zone = ZoneInfo(building.current(db)["timezone"])
        self.now = clock.now()
        self.labels, self.keypads = {}, {}
        for unit in db.query("SELECT id, number, keypad, retired_at FROM units ORDER BY id"):
            label = unit["number"].casefold()
            if label not in self.labels or self.labels[label]["retired_at"]:
                self.labels[label] = unit  # a unit in use wins over a retired one of that label
            if unit["keypad"] and not unit["retired_at"]:
                self.keypads[unit["keypad"]] = unit
        self.people: dict[int, list[dict]] = {}
        by_id = {}
        for person in db.query(
            "SELECT id, unit_id, name, role, phone, alt_phone, email, language, moved_in_on,"
            " moved_out_on FROM residents WHERE erased_at IS NULL ORDER BY id"
        ):
            person["channels"] = []
            by_id[person["id"]] = person
            self.people.setdefault(person["unit_id"], []).append(person)
        for channel in db.query(
            "SELECT resident_id, kind, address FROM resident_channels WHERE withdrawn_at IS NULL"
            " ORDER BY resident_id, position, id"
        ):
            if channel["resident_id"] in by_id:
                by_id[channel["resident_id"]]["channels"].append(
                    (channel["kind"], channel["address"])
                )
        self.consent_column = True
        self.matched: set[int] = set()
        self.seen: dict[tuple, int] = {}

    def unit(self, typed: str, row: int, problems: list) -> dict | None:
        """The unit in use a row names, as the kiosk reads it (label or keypad code)."""
        text = typed.strip()
        found = self.labels.get(text.casefold())
        if found and not found["retired_at"]:
            return found
        if text.isdigit() and text in self.keypads:
            return self.keypads[text]
        if not text:
            message = "请填写房号 · Enter the unit."
        elif found:
            message = f"房号 {text} 已停用 · Unit {text} is retired."
        else:
            message = (
                f"没有房号 {text}，请先添加或导入房号表 · "
                f"No unit {text}: add it first, or import a units file."
            )
        problems.append(Problem(row, "unit", message))
        return None


def preview(db: sqlite_utils.Database, clock, content: bytes, filename: str) -> Preview:
    """What importing this residents file would do, row by row. Writes nothing."""
    result = Preview("residents")
    table = read_table(content, filename, RESIDENT_COLUMNS, (("unit",), ("name",)))
    result.problems.extend(table.problems)
    if not table.refused:
        context = _Context(db, clock)
        context.consent_column = "consent" in table.keys
        if not context.consent_column:
            result.problems.append(
                Problem(
                    1,
                    "consent",
                    "没有“同意通知”列：不设置任何通知渠道（已有的保持不变）· No “Consent” column: "
                    "no contact channels are set from this file (existing ones stay as they are).",
                    "warning",
                )
            )
        for number, cells in table.rows:
            change = _resident_row(context, number, cells, result.problems)
            if change:
                result.changes.append(change)
        left_alone = sum(
            1
            for people in context.people.values()
            for p in people
            if not p["moved_out_on"] and p["id"] not in context.matched
        )
        if left_alone:
            result.problems.append(
                Problem(
                    0,
                    "",
                    f"{plural('residents_left_alone', left_alone, 'zh')}（迁出请到其房号页面）· "
                    f"{plural('residents_left_alone', left_alone, 'en')} "
                    "(move people out on their unit's page).",
                    "warning",
                )
            )
        result.summary["left_alone"] = left_alone
    _finish(result, len(table.rows))
    return result


def _finish(result: Preview, rows: int) -> None:
    """One problem per row and column (the first: a formula hides the rest)."""
    kept, seen = [], set()
    for problem in result.problems:
        key = (problem.row, problem.field, problem.level)
        if key not in seen or not problem.field:
            seen.add(key)
            kept.append(problem)
    result.problems = sorted(kept, key=lambda p: (p.row, p.level != "error"))
    bad_rows = {p.row for p in result.errors}
    result.changes = [c for c in result.changes if c.row not in bad_rows]
    counts = {action: 0 for action in ACTION_LABELS}
    for change in result.changes:
        counts[change.action] += 1
    result.summary.update(
        rows=rows, errors=len(result.errors), warnings=len(result.warnings), **counts
    )


def _resident_row(ctx: _Context, number: int, cells: dict, problems: list) -> Change | None:
    unit = ctx.unit(cells.get("unit", ""), number, problems)
    consent_at = _consent(ctx, cells.get("consent", ""), number, problems)
    fields = {key: cells.get(key, "") for key in ("name", "phone", "alt_phone", "email")}
    fields["role"] = _typed_word(cells.get("role", ""), ROLE_WORDS)
    fields["language"] = _typed_word(cells.get("language", ""), LANGUAGE_WORDS)
    fields["moved_in_on"] = _date_text(cells.get("moved_in_on", ""))
    for key in ("phone", "alt_phone"):
        if _SCIENTIFIC.match(fields[key]):
            problems.append(Problem(number, key, _SCIENTIFIC_MESSAGE))
            fields[key] = ""
    record = _every_problem(
        lambda trial: residents.clean(trial, today=ctx.today),
        residents.InvalidResident,
        fields,
        _PLACEHOLDERS,
        number,
        problems,
    )
    channels = _channels(cells, consent_at, number, problems)
    if record is None or unit is None or channels is False:
        return None
    if consent_at is None and ctx.consent_column:
        problems.append(
            Problem(
                number,
                "consent",
                "未填同意通知：此行不设置通知渠道（已有的保持不变）· No consent: this row sets "
                "no contact channels (existing ones stay as they are).",
                "warning",
            )
        )
    record["channels"] = channels
    key = (unit["id"], record["phone"] or "name:" + record["name"].casefold())
    if key in ctx.seen:
        problems.append(
            Problem(
                number,
                "",
                f"与第 {ctx.seen[key]} 行是同一人（同房号同手机或同姓名）· Same person as row "
                f"{ctx.seen[key]} (same unit and phone, or same unit and name).",
            )
        )
        return None
    ctx.seen[key] = number
    return _decide(ctx, number, unit, record, cells, problems)


def _typed_word(text: str, lookup: dict) -> str:
    """ "业主 Owner" → "owner"; anything else as typed, for the domain to refuse."""
    return (word(text, lookup) or text) if text else ""


def _date_text(text: str) -> str:
    moment = parse_moment(text) if text else None
    return moment[0].isoformat() if moment else text  # else residents.clean says why


def _every_problem(check, error_type, fields: dict, stand_ins: dict, number: int, problems):
    """Run a domain check until it passes, so that every wrong field of the row is
    reported (a check names only the first): each wrong value gets a stand-in."""
    trial, found = dict(fields), False
    for _attempt in range(len(fields) + 2):
        try:
            checked = check(trial)
        except error_type as error:
            problems.append(Problem(number, error.field, str(error)))
            found = True
            stand_in = stand_ins.get(error.field, "")
            if trial.get(error.field) == stand_in:
                return None
            trial[error.field] = stand_in
        else:
            return None if found else checked
    return None


EARLIEST_CONSENT_YEAR = 2000


def _consent(ctx: _Context, text: str, number: int, problems: list) -> str | None:
    """When the resident agreed to the row's channels: "是/yes" means now (the
    import), a date or time means then (building time); no consent is None."""
    answer = word(text, YES_NO_WORDS) if text else False
    if answer is True:
        return to_iso(ctx.now)
    if answer is False:
        return None
    moment = parse_moment(text)
    if moment is None:
        problems.append(
            Problem(
                number,
                "consent",
                "同意通知请填“是”、“否”或同意的日期 · Consent: yes, no, or the date the "
                "resident agreed.",
            )
        )
        return None
    day, hms = moment
    agreed = datetime(day.year, day.month, day.day, *(hms or (0, 0, 0)), tzinfo=ctx.zone)
    if day.year < EARLIEST_CONSENT_YEAR:  # year 1 cannot even be placed in UTC
        problems.append(
            Problem(
                number,
                "consent",
                f"同意日期不可能早于 {EARLIEST_CONSENT_YEAR} 年 · The consent date cannot be "
                f"before {EARLIEST_CONSENT_YEAR}.",
            )
        )
        return None
    if agreed > ctx.now:
        problems.append(
            Problem(
                number,
                "consent",
                "同意时间不能晚于现在 · The consent time cannot be in the future.",
            )
        )
        return None
    return to_iso(agreed)


def _channels(cells: dict, consent_at: str | None, number: int, problems: list):
    """The row's channels in fallback order (the notify URLs, then the e-mail), each
    checked as residents.clean_channel checks a form's; None leaves them as they are,
    False means a channel is wrong."""
    if consent_at is None:
        return None
    addresses = [(a, "notify_url") for a in cells.get("notify_url", "").split()]
    email = cells.get("email", "").strip()
    if email and email not in [a for a, _ in addresses]:
        addresses.append((email, "email"))
    if not addresses:
        problems.append(
            Problem(
                number,
                "notify_url",
                "已同意通知，但没有邮箱或通知地址 · Consent given, but no e-mail or notify URL.",
                "warning",
            )
        )
    if len(addresses) > residents.MAX_CHANNELS:
        problems.append(
            Problem(
                number,
                "notify_url",
                f"最多 {residents.MAX_CHANNELS} 个通知渠道 · "
                f"At most {residents.MAX_CHANNELS} channels.",
            )
        )
        return False
    cleaned, wrong = [], False
    for position, (address, column) in enumerate(addresses, start=1):
        try:
            cleaned.append(
                residents.clean_channel(
                    {"address": address, "consent_at": consent_at, "consent_source": "import"},
                    position,
                )
            )
        except residents.InvalidResident as error:
            problems.append(Problem(number, column, str(error)))
            wrong = True
    return False if wrong else cleaned


def _same_name(person: dict, record: dict) -> bool:
    return person["name"].casefold() == record["name"].casefold()


def _match(ctx: _Context, unit_id: int, record: dict) -> dict | None:
    living = [
        p
        for p in ctx.people.get(unit_id, ())
        if not p["moved_out_on"] and p["id"] not in ctx.matched
    ]
    if record["phone"]:
        same = [p for p in living if p["phone"] == record["phone"]] or [
            p for p in living if p["phone"] is None and _same_name(p, record)
        ]
    else:
        same = [p for p in living if _same_name(p, record)]
    return same[0] if same else None


def _decide(ctx, number: int, unit: dict, record: dict, cells: dict, problems) -> Change | None:
    change = Change(number, "add", unit["number"], record["name"], unit_id=unit["id"])
    person = _match(ctx, unit["id"], record)
    moved_out_on = cells.get("moved_out_on", "")
    if person is None:
        if moved_out_on and not cells.get("moved_in_on"):
            record["moved_in_on"] = None  # a past resident whose move-in is not known
        record["channels"] = record["channels"] or []
        change.record = record
        if moved_out_on:
            if _already_moved_out(ctx, unit["id"], record, _date_text(moved_out_on)):
                change.action = "unchanged"
                return change
            change.moved_out_on = _move_out_on(ctx, number, moved_out_on, record, problems)
        return change
    ctx.matched.add(person["id"])
    merged = {key: record[key] if cells.get(key) else person[key] for key in _FIELDS}
    merged["channels"] = record["channels"]
    change.resident_id, change.record = person["id"], merged
    change.fields = [key for key in _FIELDS if merged[key] != person[key]]
    if (
        merged["channels"] is not None
        and [(c["kind"], c["address"]) for c in merged["channels"]] != person["channels"]
    ):
        change.fields.append("notify_url")
    change.action = "update" if change.fields else "unchanged"
    if moved_out_on:
        change.moved_out_on = _move_out_on(ctx, number, moved_out_on, merged, problems)
        change.action = "move_out"
    return change


def _already_moved_out(ctx: _Context, unit_id: int, record: dict, on: str) -> bool:
    """A past resident the building already has (an export with moved-out people)."""
    return any(
        p["moved_out_on"] == on
        and (p["phone"] == record["phone"] if record["phone"] else _same_name(p, record))
        for p in ctx.people.get(unit_id, ())
    )


def _move_out_on(ctx: _Context, number: int, text: str, record: dict, problems) -> str | None:
    try:
        return residents.check_move_out_on(
            _date_text(text), today=ctx.today, moved_in_on=record["moved_in_on"]
        )
    except residents.InvalidResident as error:
        problems.append(Problem(number, error.field, str(error)))
        return None


# --- residents: writing ----------------------------------------------------------------


def apply(db: sqlite_utils.Database, clock, content: bytes, filename: str, *, actor: str) -> dict:
    """Import the file: every row or none (RosterHasProblems carries the preview)."""
    with write_transaction(db):
        result = preview(db, clock, content, filename)  # again: the building may have changed
        if result.errors:
            raise RosterHasProblems(result)
        adds = [c for c in result.changes if c.action == "add"]
        ids = residents.insert_many(db, clock, [(c.unit_id, c.record) for c in adds])
        residents.update_many(
            db,
            clock,
            [(c.resident_id, c.record) for c in result.changes if c.resident_id and c.fields],
        )
        moves = [(new_id, c.moved_out_on) for new_id, c in zip(ids, adds, strict=True)]
        moves += [(c.resident_id, c.moved_out_on) for c in result.changes if c.resident_id]
        residents.move_out_many(db, clock, [(i, on) for i, on in moves if on])
        audit.record(
            db,
            clock,
            actor=actor,
            action="roster.import",
            detail={"kind": "residents", "file": filename, **result.summary},
        )
    return result.summary


# --- units files -------------------------------------------------------------------------


def preview_units(db: sqlite_utils.Database, clock, content: bytes, filename: str) -> Preview:
    """What importing this units file would add; a unit already there with the same
    details is unchanged, with other details it is a problem (rename it on its page)."""
    result = Preview("units")
    table = read_table(content, filename, UNIT_COLUMNS, (("number", "room"),))
    result.problems.extend(table.problems)
    if not table.refused:
        existing = {u["number"].casefold(): u for u in db.query("SELECT * FROM units")}
        keypads = {u["keypad"]: u for u in existing.values() if not u["retired_at"]}
        seen: dict[str, int] = {}
        for number, cells in table.rows:
            change = _unit_row(number, cells, existing, keypads, seen, result.problems)
            if change:
                result.changes.append(change)
    _finish(result, len(table.rows))
    return result


def _unit_row(number, cells, existing, keypads, seen, problems) -> Change | None:
    fields = {**cells, "kind": _typed_word(cells.get("kind", ""), KIND_WORDS)}
    unit = _every_problem(units.clean, units.InvalidUnit, fields, {}, number, problems)
    if unit is None:
        return None
    label = unit["number"]
    for key, what in ((label.casefold(), "房号 · unit"), ("#" + unit["keypad"], "门牌码 · keypad")):
        if key in seen:
            problems.append(
                Problem(
                    number,
                    "number" if key[0] != "#" else "keypad",
                    f"{what} 与第 {seen[key]} 行相同 · Same {what.split(' · ')[1]} as row "
                    f"{seen[key]}.",
                )
            )
            return None
        seen[key] = number
    change = Change(number, "add", label, "", record=unit)
    before = existing.get(label.casefold())
    if before is not None:
        same = not before["retired_at"] and all(before[k] == unit[k] for k in unit)
        if same:
            change.action = "unchanged"
            return change
        retired = "（已停用）" if before["retired_at"] else ""
        problems.append(
            Problem(
                number,
                "number",
                f"已有房号 {label}{retired}，信息不同；请在房号页面修改 · Unit {label} already "
                "exists with other details: change it on its page.",
            )
        )
        return None
    holder = keypads.get(unit["keypad"])
    if holder is not None:
        problems.append(
            Problem(
                number,
                "keypad",
                f"门牌码 {unit['keypad']} 已属于 {holder['number']} · Keypad code "
                f"{unit['keypad']} already belongs to {holder['number']}.",
            )
        )
        return None
    return change


def apply_units(db: sqlite_utils.Database, clock, content: bytes, filename: str, *, actor: str):
    """Add the file's new units through units.add_many: all of them or none."""
    with write_transaction(db):
        result = preview_units(db, clock, content, filename)
        if result.errors:
            raise RosterHasProblems(result)
        units.add_many(
            db, clock, [c.record for c in result.changes if c.action == "add"], actor=actor
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="roster.import",
            detail={"kind": "units", "file": filename, **result.summary},
        )
    return result.summary


# --- uploads kept for their preview (roster_imports) -------------------------------------


def store(db, clock, *, kind: str, filename: str, content: bytes, staff_id: int | None) -> int:
    """Keep an uploaded file until staff apply or discard its preview; uploads left
    unconfirmed for a day are dropped (their content, not the record)."""
    if kind not in KINDS:
        raise InvalidRequest("请选择住户表或房号表 · Choose a residents or a units file.")
    if not content:
        raise InvalidRequest("请选择文件 · Choose a file.")
    if len(content) > MAX_BYTES:
        raise InvalidRequest(
            f"文件超过 {MAX_BYTES // (1024 * 1024)} MB · The file is larger than "
            f"{MAX_BYTES // (1024 * 1024)} MB."
        )
    now = clock.now()
    with write_transaction(db):
        db.execute(
            "UPDATE roster_imports SET content = NULL, status = 'discarded'"
            " WHERE status = 'previewed' AND uploaded_at < ?",
            (to_iso(now - _STALE_UPLOADS),),
        )
        cursor = db.execute(
            "INSERT INTO roster_imports (kind, filename, content, uploaded_by, uploaded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, Path(filename or "").name[:120] or "roster", content, staff_id, to_iso(now)),
        )
    return cursor.lastrowid


def get_upload(db: sqlite_utils.Database, import_id: int) -> dict:
    row = one(db, "SELECT * FROM roster_imports WHERE id = ?", (import_id,))
    if row is None:
        raise NotFound(f"没有这次导入 · No import {import_id}.")
    row["summary"] = json.loads(row["summary"] or "{}")
    return row


def preview_upload(db: sqlite_utils.Database, clock, upload: dict) -> Preview | None:
    """The preview of a stored upload; None once it is applied or discarded."""
    if upload["status"] != "previewed" or upload["content"] is None:
        return None
    check = preview if upload["kind"] == "residents" else preview_units
    return check(db, clock, upload["content"], upload["filename"])


def apply_upload(db: sqlite_utils.Database, clock, import_id: int, *, actor: str) -> dict:
    """Apply a stored upload once; a second try is refused (StaleState)."""
    with write_transaction(db):
        upload = get_upload(db, import_id)
        if upload["status"] != "previewed" or upload["content"] is None:
            raise StaleState(_closed_message(upload["status"]))
        do = apply if upload["kind"] == "residents" else apply_units
        summary = do(db, clock, upload["content"], upload["filename"], actor=actor)
        db.execute(
            "UPDATE roster_imports SET status = 'applied', applied_at = ?, content = NULL,"
            " summary = ? WHERE id = ?",
            (to_iso(clock.now()), json.dumps(summary), import_id),
        )
    return summary


def discard_upload(db: sqlite_utils.Database, clock, import_id: int) -> None:
    with write_transaction(db):
        upload = get_upload(db, import_id)
        if upload["status"] != "previewed":
            raise StaleState(_closed_message(upload["status"]))
        db.execute(
            "UPDATE roster_imports SET status = 'discarded', content = NULL WHERE id = ?",
            (import_id,),
        )


def _closed_message(status: str) -> str:
    if status == "applied":
        return "这个文件已经导入过了 · This file was already imported."
    return "这个文件已放弃或已过期，请重新上传 · This upload was discarded or expired: upload it again."


def recent_uploads(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    rows = db.query(
        "SELECT i.id, i.kind, i.filename, i.uploaded_at, i.status, i.applied_at, i.summary,"
        " s.display_name AS uploaded_by_name FROM roster_imports i"
        " LEFT JOIN staff s ON s.id = i.uploaded_by ORDER BY i.id DESC LIMIT ?",
        (limit,),
    )
    return [{**row, "summary": json.loads(row["summary"] or "{}")} for row in rows]


# --- export, in exactly the import format -----------------------------------------------


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
