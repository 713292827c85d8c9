"""What an invitation may say: checked field by field, each error naming its field.

Kinds: `once` (one date), `window` (from–to, at most MAX_WINDOW_DAYS days) and
`recurring` (weekdays until a date, at most MAX_RECURRING_DAYS ahead). Dates are the
building's dates; the first one may not lie in the past.
"""

from __future__ import annotations

from datetime import date, timedelta

from shared import names, phones, terms
from shared.errors import InvalidRequest
from shared.visitors import MAX_PARTY_SIZE, PURPOSE_LABELS, PURPOSES

KINDS = ("once", "window", "recurring")
KIND_LABELS = terms.labels("invitation_kind")
WEEKDAY_LABELS = {
    1: "周一 · Mon",
    2: "周二 · Tue",
    3: "周三 · Wed",
    4: "周四 · Thu",
    5: "周五 · Fri",
    6: "周六 · Sat",
    7: "周日 · Sun",
}
MAX_WINDOW_DAYS = 31
MAX_RECURRING_DAYS = 366
MAX_NOTE = 200
__all__ = ["KIND_LABELS", "KINDS", "PURPOSE_LABELS", "PURPOSES", "WEEKDAY_LABELS", "clean"]


class InvalidInvitation(InvalidRequest):
    """预约信息有误 · This invitation cannot be saved as it is."""

    code = "invalid_invitation"
    http_status = 422

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _date(value, field: str) -> date:
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise InvalidInvitation(
            "请填写日期，如 2026-12-01 · Enter a date such as 2026-12-01.", field
        ) from None


def _name(value) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None  # the name is optional: the host may not know it
    try:
        return names.clean(text)
    except names.InvalidName:
        raise InvalidInvitation(
            "姓名仅限文字，最多 40 个字 · A name is letters only, at most 40 characters.", "name"
        ) from None


def _phone(value, required: bool) -> str | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise InvalidInvitation(
                "本楼要求每位访客登记手机号 · This building asks every visitor for a mobile number.",
                "phone",
            )
        return None
    try:
        return phones.normalise(text)
    except phones.InvalidPhone:
        raise InvalidInvitation(
            "请填写有效的手机号 · Enter a valid mobile number.", "phone"
        ) from None


def _party(value) -> int:
    text = str(value).strip() if value not in (None, "") else "1"
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PARTY_SIZE:
        raise InvalidInvitation(
            f"人数为 1–{MAX_PARTY_SIZE} · The party is 1–{MAX_PARTY_SIZE} people.", "party_size"
        )
    return int(text)


def _weekdays(value) -> str:
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    days = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 7:
            raise InvalidInvitation(
                "请选择星期几 · Choose the weekdays (1 = Monday … 7 = Sunday).", "weekdays"
            )
        days.add(int(text))
    if not days:
        raise InvalidInvitation("请至少选择一天 · Choose at least one weekday.", "weekdays")
    return ",".join(str(day) for day in sorted(days))


def _dates(fields: dict, kind: str, today: date) -> tuple[date, date, str]:
    """(starts_on, ends_on, weekdays) for the kind."""
    starts = _date(fields.get("starts_on"), "starts_on")
    if starts < today:
        raise InvalidInvitation("日期不能早于今天 · The date cannot be before today.", "starts_on")
    if kind == "once":
        return starts, starts, ""
    ends = _date(fields.get("ends_on"), "ends_on")
    if ends < starts:
        raise InvalidInvitation(
            "结束日期不能早于开始日期 · The end date cannot be before the start.", "ends_on"
        )
    if kind == "window":
        if ends - starts >= timedelta(days=MAX_WINDOW_DAYS):
            raise InvalidInvitation(
                f"时间段最长 {MAX_WINDOW_DAYS} 天 · A window is at most {MAX_WINDOW_DAYS} days.",
                "ends_on",
            )
        return starts, ends, ""
    if ends - starts >= timedelta(days=MAX_RECURRING_DAYS):
        raise InvalidInvitation(
            "定期预约最长一年 · A recurring invitation lasts at most a year.", "ends_on"
        )
    return starts, ends, _weekdays(fields.get("weekdays"))


def clean(fields: dict, *, today: date, phone_required: bool = False) -> dict:
    """The invitation's columns from what a person typed; InvalidInvitation(field) else."""
    if not isinstance(fields, dict):
        raise InvalidInvitation("请求格式不正确 · The invitation must be a set of fields.", "kind")
    kind = str(fields.get("kind") or "once")
    if kind not in KINDS:
        raise InvalidInvitation("请选择预约类型 · Choose the kind of invitation.", "kind")
    purpose = str(fields.get("purpose") or "visit")
    if purpose not in PURPOSES:
        raise InvalidInvitation("请选择来访事由 · Choose the purpose of the visit.", "purpose")
    note = " ".join(str(fields.get("note") or "").split())
    if len(note) > MAX_NOTE:
        raise InvalidInvitation(
            f"备注最多 {MAX_NOTE} 字 · The note is at most {MAX_NOTE} characters.", "note"
        )
    starts, ends, weekdays = _dates(fields, kind, today)
    return {
        "visitor_name": _name(fields.get("name")),
        "visitor_phone": _phone(fields.get("phone"), phone_required),
        "party_size": _party(fields.get("party_size")),
        "purpose": purpose,
        "kind": kind,
        "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat(),
        "weekdays": weekdays,
        "note": note,
    }


def valid_on(invitation: dict, day: date) -> bool:
    """Whether the invitation lets its visitor in on this building date."""
    if not invitation["starts_on"] <= day.isoformat() <= invitation["ends_on"]:
        return False
    if invitation["kind"] != "recurring":
        return True
    return str(day.isoweekday()) in invitation["weekdays"].split(",")
