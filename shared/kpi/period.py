"""The dashboard's date range: whole local days in the building's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.clock import to_iso
from shared.errors import LobbyDeskError

DEFAULT_DAYS = 30
MAX_DAYS = 366
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class InvalidPeriod(LobbyDeskError):
    """请按 YYYY-MM-DD 选择日期，开始不晚于结束 · Choose dates as YYYY-MM-DD, the start on or before the end."""

    code = "invalid_period"


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive, in the building's time zone."""

    first: date
    last: date
    timezone: str

    def _utc(self, day: date) -> str:
        return to_iso(datetime.combine(day, time(), tzinfo=ZoneInfo(self.timezone)))

    @property
    def start(self) -> str:
        """UTC ISO of the first day's local midnight (inclusive)."""
        return self._utc(self.first)

    @property
    def end(self) -> str:
        """UTC ISO of the local midnight after the last day (exclusive)."""
        return self._utc(self.last + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _day(text: str, which: str) -> date:
    text = (text or "").strip()
    try:
        if not _DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidPeriod(
            f"{which}日期应为 YYYY-MM-DD · The {'start' if which == '开始' else 'end'} date"
            " must be written YYYY-MM-DD."
        ) from None


def parse_period(from_text: str, to_text: str, *, today: date, timezone: str) -> Period:
    """The range a manager asked for; empty fields mean the last 30 days up to today."""
    from_text, to_text = (from_text or "").strip(), (to_text or "").strip()
    last = _day(to_text, "结束") if to_text else today
    first = _day(from_text, "开始") if from_text else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidPeriod("开始日期晚于结束日期 · The start date is after the end date.")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidPeriod(f"最多查看 {MAX_DAYS} 天 · Choose at most {MAX_DAYS} days.")
    return Period(first, last, timezone)


def month_period(text: str, *, timezone: str) -> Period:
    """'2026-11' -> the whole month in building time."""
    found = _MONTH.match((text or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        raise InvalidPeriod("月份应为 YYYY-MM · Give the month as YYYY-MM, e.g. 2026-11.")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), timezone)


def previous_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def _weeks(period: Period) -> list[date]:
    """The Mondays of the weeks the period touches (its first week may start before it)."""
    monday = period.first - timedelta(days=period.first.weekday())
    mondays = []
    while monday <= period.last:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


def today(clock, timezone: str) -> date:
    return clock.now().astimezone(ZoneInfo(timezone)).date()
