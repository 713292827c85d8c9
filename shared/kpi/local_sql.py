"""Building time in SQL: each stored UTC time's local day and hour, as integers."""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.clock import to_iso
from shared.kpi.period import Period

# Above this many days answer and shelf times are read in order of length from the whole
# of migration 0012's index (no sorting) instead of the range index (then sorted): the
# index holds all history, so this pays once the range is a good part of it.
ORDERED_SCAN_DAYS = 92


def _offset_minutes(zone: ZoneInfo, epoch: int) -> int:
    return int(
        datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset().total_seconds() // 60
    )


def _segments(period: Period) -> list[tuple[str | None, int]]:
    """[(until UTC ISO, offset minutes), …, (None, offset minutes)]: the zone's UTC
    offsets over the period (daylight-saving changes found to the second)."""
    zone = ZoneInfo(period.timezone)
    start = int(datetime.fromisoformat(period.start).timestamp())
    end = int(datetime.fromisoformat(period.end).timestamp())
    current = _offset_minutes(zone, start)
    segments: list[tuple[str | None, int]] = []
    moment = start
    while moment < end:
        following = min(moment + 86400, end)
        offset = _offset_minutes(zone, following)
        if offset != current:
            low, high = moment, following
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_minutes(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            segments.append((to_iso(datetime.fromtimestamp(high, UTC)), current))
            current = offset
        moment = following
    segments.append((None, current))
    return segments


_EPOCH = date(1970, 1, 1)


class _Sql:
    """Named parameters for one period's queries, and building time for stored UTC columns.

    Every local hour of the period has a number, its *slot*: day index * 24 + hour of
    day, counted on the building's wall clock from the first day's midnight. `slot(column)`
    is SQL for it: the stored UTC time in whole minutes (Unix time / 60), plus the zone's
    offset in force then (a CASE over the period's daylight-saving changes), less the first
    midnight, in whole hours. Integer arithmetic, right for every zone: the 02:30 that
    happens twice when summer time ends is hour 2 both times, Kathmandu's +05:45 and Lord
    Howe's half-hour change included.

    When the zone's offsets over the period are whole hours changing on whole UTC hours
    (Asia/Shanghai, Europe/Berlin, nearly every zone) the period is `aligned`: each local
    hour of day is one UTC hour of day in each stretch of one offset, so counts need no
    slot per row (per_day_and_hour()).
    """

    def __init__(self, period: Period):
        self.period = period
        self.days = len(period.days)
        self.ordered = self.days > ORDERED_SCAN_DAYS
        self._segments = _segments(period)
        self.params: dict = {
            "start": period.start,
            "end": period.end,
            "midnight": (period.first - _EPOCH).days * 1440,  # wall-clock minutes
        }
        for index, (until, _offset) in enumerate(self._segments[:-1]):
            self.params[f"until{index}"] = until
        self.aligned = all(offset % 60 == 0 for _until, offset in self._segments) and all(
            until[13:] == ":00:00.000000+00:00" for until, _offset in self._segments[:-1]
        )

    def _offset(self, column: str) -> str:
        """SQL for the zone's UTC offset in minutes at a stored UTC time (integers we made)."""
        *changes, (_none, final) = self._segments
        if not changes:
            return str(final)
        cases = " ".join(
            f"WHEN {column} < :until{index} THEN {offset}"
            for index, (_until, offset) in enumerate(changes)
        )
        return f"(CASE {cases} ELSE {final} END)"

    def local(self, column: str) -> str:
        """SQL for the building's wall-clock time of a stored UTC column ('YYYY-MM-DD HH:MM:SS')."""
        return f"datetime({column}, {self._offset(column)} || ' minutes')"

    def slot(self, column: str) -> str:
        """SQL for the column's local hour as a slot: day index * 24 + hour of day."""
        return f"max(({_minute(column)} + {self._offset(column)} - :midnight) / 60, 0)"

    def week(self, day_index: int) -> int:
        """The Monday-to-Sunday week (0 = the first day's) of the period's day_index-th day."""
        return (self.period.first.weekday() + day_index) // 7

    @functools.cached_property
    def bounds(self) -> dict[str, str]:
        """Parameters for per_day_and_hour(): JSON of [UTC start, UTC end] of each local day
        and (aligned periods) of [hour of day, UTC hour of day, UTC start, UTC end] for each
        hour of day and stretch of one UTC offset."""
        days = [
            [self.period._utc(day), self.period._utc(day + timedelta(days=1))]
            for day in self.period.days
        ]
        hours = []
        if self.aligned:
            low = self.period.start
            for until, offset in self._segments:
                high = until or self.period.end
                hours += [[h, f"{(h - offset // 60) % 24:02d}", low, high] for h in range(24)]
                low = high
        return {"day_bounds": json.dumps(days), "hour_bounds": json.dumps(hours)}

    def per_day_and_hour(self, table: str, at: str, sums: tuple[str, ...], also: str = ""):
        """SQL of sums over the rows whose `at` falls in the period, per local day
        (rows (0, day index, JSON [sums…])) and per hour of day (rows (1, hour, JSON [sums…])),
        with the parameters of `bounds`.

        Aligned: each day is a range of an index on `at`; each hour of day is a range of
        migration 0012's index on the UTC hour of day (substr(at, 12, 2), at) for each stretch
        of one offset. Otherwise every row gets its slot (correct, slower)."""
        # Table, column and SQL texts come from this module's fixed maps; values are parameters.
        if self.aligned:
            value = f"json_array({', '.join(sums)})"
            return (
                f"SELECT 0, day.key, (SELECT {value} FROM {table}"  # noqa: S608
                f" WHERE {at} >= day.value ->> 0 AND {at} < day.value ->> 1{also})"
                " FROM json_each(:day_bounds) AS day"
                f" UNION ALL SELECT 1, hour.value ->> 0, (SELECT {value} FROM {table}"
                f" WHERE substr({at}, 12, 2) = hour.value ->> 1 AND {at} >= hour.value ->> 2"
                f" AND {at} < hour.value ->> 3{also}) FROM json_each(:hour_bounds) AS hour"
            )
        names = [f"s{index}" for index in range(len(sums))]
        columns = ", ".join(
            f"{expression} AS {name}" for expression, name in zip(sums, names, strict=True)
        )
        totals = f"json_array({', '.join(f'sum({name})' for name in names)})"
        return (
            f"WITH slots AS MATERIALIZED (SELECT {self.slot(at)} AS slot, {columns}"  # noqa: S608
            f" FROM {table} WHERE {at} >= :start AND {at} < :end{also} GROUP BY slot)"
            f" SELECT 0, slot / 24, {totals} FROM slots GROUP BY 2"
            f" UNION ALL SELECT 1, slot % 24, {totals} FROM slots GROUP BY 2"
        )


def _minute(column: str) -> str:
    """SQL: the stored UTC time's minute, Unix time / 60 (as migration 0012's answer indexes
    store it for received_at)."""
    return f"CAST(strftime('%s', {column}) AS INTEGER) / 60"


def _ms(done: str, start: str = "received_at") -> str:
    """SQL: milliseconds from start to done, as migration 0012's indexes store them."""
    return f"round((julianday({done}) - julianday({start})) * 86400000)"
