"""One row of a residents file checked against the building as it is: which unit,
which resident it matches (same unit and phone, or same unit and name), the
consent and channels it sets, and what importing it would change."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import building, residents
from shared.clock import to_iso
from shared.residents.fields import FIELDS
from shared.roster.changes import Change, date_text, every_problem, typed_word
from shared.roster.formats import (
    LANGUAGE_WORDS,
    ROLE_WORDS,
    YES_NO_WORDS,
    Problem,
    parse_moment,
    word,
)

_PLACEHOLDERS = {"name": "X", "role": "owner", "language": "zh_CN"}  # to find the next problem
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")  # 1.38123E+10: Excel's display, not the number
_SCIENTIFIC_MESSAGE = (
    "号码被 Excel 写成了科学计数法，请把该列设为“文本”后重新输入 · Excel wrote this number in "
    "scientific notation: format the column as Text and type the numbers again."
)


class Context:
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


def resident_row(ctx: Context, number: int, cells: dict, problems: list) -> Change | None:
    unit = ctx.unit(cells.get("unit", ""), number, problems)
    consent_at = _consent(ctx, cells.get("consent", ""), number, problems)
    fields = {key: cells.get(key, "") for key in ("name", "phone", "alt_phone", "email")}
    fields["role"] = typed_word(cells.get("role", ""), ROLE_WORDS)
    fields["language"] = typed_word(cells.get("language", ""), LANGUAGE_WORDS)
    fields["moved_in_on"] = date_text(cells.get("moved_in_on", ""))
    for key in ("phone", "alt_phone"):
        if _SCIENTIFIC.match(fields[key]):
            problems.append(Problem(number, key, _SCIENTIFIC_MESSAGE))
            fields[key] = ""
    record = every_problem(
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


EARLIEST_CONSENT_YEAR = 2000


def _consent(ctx: Context, text: str, number: int, problems: list) -> str | None:
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


def _match(ctx: Context, unit_id: int, record: dict) -> dict | None:
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
            if _already_moved_out(ctx, unit["id"], record, date_text(moved_out_on)):
                change.action = "unchanged"
                return change
            change.moved_out_on = _move_out_on(ctx, number, moved_out_on, record, problems)
        return change
    ctx.matched.add(person["id"])
    merged = {key: record[key] if cells.get(key) else person[key] for key in FIELDS}
    merged["channels"] = record["channels"]
    change.resident_id, change.record = person["id"], merged
    change.fields = [key for key in FIELDS if merged[key] != person[key]]
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


def _already_moved_out(ctx: Context, unit_id: int, record: dict, on: str) -> bool:
    """A past resident the building already has (an export with moved-out people)."""
    return any(
        p["moved_out_on"] == on
        and (p["phone"] == record["phone"] if record["phone"] else _same_name(p, record))
        for p in ctx.people.get(unit_id, ())
    )


def _move_out_on(ctx: Context, number: int, text: str, record: dict, problems) -> str | None:
    try:
        return residents.check_move_out_on(
            date_text(text), today=ctx.today, moved_in_on=record["moved_in_on"]
        )
    except residents.InvalidResident as error:
        problems.append(Problem(number, error.field, str(error)))
        return None
