"""An injectable clock. Every time the product stores is UTC; the building's
time zone is applied only when a time is shown."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | str = "2026-11-27T09:00:00+00:00"):
        self._now = parse_utc(start) if isinstance(start, str) else start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def to_iso(moment: datetime) -> str:
    """The one stored form of a time: ISO 8601 in UTC with microseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored: give a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return moment.astimezone(UTC)


def local_day_start(day: str, timezone: str, plus_days: int = 0) -> str:
    """The stored (UTC) form of local midnight at the start of `day` ('YYYY-MM-DD') in
    the building's zone, `plus_days` later: the bounds of a date filter."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(timezone))
    return to_iso(midnight + timedelta(days=plus_days))


def local_time(stored: str | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the building's wall clock shows it."""
    if not stored:
        return ""
    return parse_utc(stored).astimezone(ZoneInfo(timezone)).strftime(fmt)
