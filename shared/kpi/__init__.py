"""The desk's KPIs (STANDARDS.md, "How the desk is measured"), over a date range.

Plain SQL over indexed range scans (migrations 0011_kpi_indexes, 0012_kpi_more_indexes).
Every time is stored in UTC; days and hours of day are the building's own (its time
zone, daylight saving included), so a range "2026-11-01 to 2026-11-30" means local
midnight to local midnight and a visitor at 09:15 local time counts in the 09 o'clock
bucket. SQL gives each row its local hour as one integer (see _Sql); counts are summed
in SQL, and only durations come to Python, in milliseconds, for the percentiles. A
whole year is ~125,000 answer times: over ranges longer than ORDERED_SCAN_DAYS they are
read in order of length from an index, so no list needs sorting.

- Response (S3): kiosk requests that need a person, from the console's
  received_at to the first answer: visits (decided_at), help calls and other
  escalations (acknowledged_at), kiosk pickups awaiting a desk handover
  (done_at). p50 / p90 seconds and the share answered within the 60-second
  standard of ALL requests: one never answered counts against it (once it is
  older than 60 s; a younger one may still be answered in time, so it is left
  out until then). "within" of "requests" is shown beside the share.
- Repairs and complaints (S5, S6): resolution time received_at -> resolved_at
  of tickets resolved in the range, per kind and urgency, against the
  building's ticket_sla_minutes; open and overdue counts right now.
- Satisfaction: ratings given in the range (rated_at); average, 1-5
  distribution, weekly trend (weeks start on Monday), low ratings with reasons.
- Volumes: visits, visitors, help calls, parcels in and out, repairs and
  complaints per day, week and hour of day; parcel dwell time (received ->
  collected, for parcels collected in the range), parcels waiting and overdue
  now (shared.parcels' rule: still waiting after the pickup code expired).
"""

from __future__ import annotations

import bisect
import functools
import gc
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, repeat
from operator import itemgetter
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import building
from shared import tickets as ticket_rules
from shared.clock import parse_utc, to_iso
from shared.errors import LobbyDeskError
from shared.escalations import RESPONSE_STANDARD_SECONDS
from shared.ticket_catalog import LOW_RATING, REASON_KEYS

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Above this many days answer and shelf times are read in order of length from the whole
# of migration 0012's index (no sorting) instead of the range index (then sorted): the
# index holds all history, so this pays once the range is a good part of it.
ORDERED_SCAN_DAYS = 92
KINDS = ("repair", "complaint")
URGENCIES = ("emergency", "urgent", "normal")  # most urgent first, as the tables list them
SOURCES = ("visit", "help", "handover")
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


# --- statistics ---------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default): 30, 50, 70, 90 -> p50 60."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(durations: list[float], limit_seconds: float | None = None) -> dict:
    """count, p50, p90 and (given a limit) how many and what share were within it."""
    ordered = sorted(durations)
    summary = {
        "count": len(ordered),
        "p50": percentile(ordered, 0.5),
        "p90": percentile(ordered, 0.9),
    }
    if limit_seconds is not None:
        within = bisect.bisect_right(ordered, limit_seconds)
        summary["within"] = within
        summary["share"] = within / len(ordered) if ordered else None
    return summary


def _between(below_ms: float, above_ms: float, fraction: float) -> float:
    """percentile()'s interpolation, in seconds, of two durations in milliseconds (n / 1000
    is the very float the seconds rounded to the millisecond would be)."""
    below, above = below_ms / 1000, above_ms / 1000
    return below + (above - below) * fraction


def _percentile_ms(ordered_ms, q: float) -> float | None:
    """percentile() in seconds of a sorted list (or _Union) of milliseconds."""
    if not ordered_ms:
        return None
    position = (len(ordered_ms) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered_ms) - 1)
    return _between(ordered_ms[low], ordered_ms[high], position - low)


def _summary_ms(ordered_ms, limit_seconds: float | None = None) -> dict:
    """summarise() of milliseconds already sorted (a list or a _Union), in seconds."""
    summary = {
        "count": len(ordered_ms),
        "p50": _percentile_ms(ordered_ms, 0.5),
        "p90": _percentile_ms(ordered_ms, 0.9),
    }
    if limit_seconds is not None:
        within = _count_upto(ordered_ms, limit_seconds * 1000)
        summary["within"] = within
        summary["share"] = within / len(ordered_ms) if ordered_ms else None
    return summary


def _count_upto(ordered_ms, limit_ms: float) -> int:
    if isinstance(ordered_ms, _Union):
        return ordered_ms.count_upto(limit_ms)
    return bisect.bisect_right(ordered_ms, limit_ms)


def _merged(lists) -> list[float]:
    """One sorted list of several sorted ones (Python's sort merges sorted runs in linear time)."""
    return sorted(chain.from_iterable(lists))


class _Union:
    """A few long sorted lists of whole milliseconds read as one, without merging them:
    the k-th value is the least v with more than k values <= v (bisection on v)."""

    def __init__(self, lists):
        self.lists = [values for values in lists if values]

    def __len__(self) -> int:
        return sum(map(len, self.lists))

    def count_upto(self, limit_ms: float) -> int:
        return sum(bisect.bisect_right(values, limit_ms) for values in self.lists)

    def __getitem__(self, k: int) -> float:
        low = min(values[0] for values in self.lists)
        high = max(values[-1] for values in self.lists)
        while low < high:
            middle = (low + high) // 2
            if self.count_upto(middle) > k:
                high = middle
            else:
                low = middle + 1
        return low


class _Lists(dict):
    """A list per key, made on first use."""

    def __missing__(self, key):
        value = self[key] = []
        return value


# --- building time in SQL ------------------------------------------------------------------


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


def _weeks(period: Period) -> list[date]:
    """The Mondays of the weeks the period touches (its first week may start before it)."""
    monday = period.first - timedelta(days=period.first.weekday())
    mondays = []
    while monday <= period.last:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


# --- the sections --------------------------------------------------------------------------

_REQUEST_SOURCES = {
    # source: (table, answered at, answered by)
    "visit": ("visits", "decided_at", "decided_by"),
    "help": ("escalations", "acknowledged_at", "acknowledged_by"),
    "handover": ("parcel_handovers", "done_at", "done_by"),
}


def _bucket(ordered_ms, unanswered: int) -> dict:
    """A request never answered missed the standard too: the share is of all requests
    (a share of answered ones only read 100 % while people were left waiting)."""
    summary = _summary_ms(ordered_ms, RESPONSE_STANDARD_SECONDS)
    requests = summary["count"] + unanswered
    return {
        **summary,
        "share": summary["within"] / requests if requests else None,
        "answered": summary["count"],
        "unanswered": unanswered,
        "requests": requests,
    }


def response(
    db: sqlite_utils.Database, period: Period, *, per_day: bool = True, now: str | None = None
) -> dict:
    """Response to kiosk requests that need a person, by source, hour, day, week and staff
    member (per_day=False: no "days", for a page that shows weeks only). Unanswered ones
    count from 60 s after they came in (`now`, UTC ISO; None: all of them).

    Each answered request's time (ms) goes to its day (or week), its hour of day and its
    staff member. Over long ranges the rows are read from migration 0012's answer-time
    index in order of length (ORDER BY), so the lists are built nearly sorted; over short
    ones the range index is read and the short lists are sorted.
    """
    sql = _Sql(period)
    mondays = _weeks(period)
    week_of_day = [sql.week(index) for index in range(sql.days)]
    # The days' lists, or the weeks' ones: the day (week) and hour of day of each local
    # hour of the period (slot = day index * 24 + hour).
    spans: list[list[float]] = [[] for _ in range(sql.days if per_day else len(mondays))]
    span_of_day = range(sql.days) if per_day else week_of_day
    hours: list[list[float]] = [[] for _ in range(24)]
    to_span = list(chain.from_iterable(repeat(spans[span].append, 24) for span in span_of_day))
    to_hour = [values.append for values in hours] * sql.days
    by_staff = _Lists()
    sources: dict[str, list[float]] = {}
    missing = {"source": dict.fromkeys(SOURCES, 0), "day": [0] * sql.days, "hour": [0] * 24}
    slot = sql.slot("received_at")
    cutoff = sql.params["end"]
    if now is not None:
        cutoff = min(cutoff, to_iso(parse_utc(now) - timedelta(seconds=RESPONSE_STANDARD_SECONDS)))
    unanswered_params = {**sql.params, "cutoff": cutoff}
    for source, (table, done, by) in _REQUEST_SOURCES.items():
        # Table and column names come from the fixed map above; values are parameters.
        answer = _ms(done)
        access, order = (
            (f" INDEXED BY {table}_answer_kpi", f" ORDER BY {answer}") if sql.ordered else ("", "")
        )
        rows = db.execute(
            f"SELECT {slot}, {by}, {answer} FROM {table}{access}"  # noqa: S608
            f" WHERE {done} IS NOT NULL AND received_at >= :start AND received_at < :end{order}",
            sql.params,
        ).fetchall()
        for index, staff_id, milliseconds in rows:
            to_span[index](milliseconds)
            to_hour[index](milliseconds)
            by_staff[staff_id].append(milliseconds)
        sources[source] = list(map(itemgetter(2), rows))
        for index, count in db.execute(
            f"SELECT {slot} AS slot, count(*) FROM {table}"  # noqa: S608
            f" WHERE {done} IS NULL AND received_at >= :start AND received_at < :end"
            " AND received_at < :cutoff GROUP BY slot",
            unanswered_params,
        ):
            missing["source"][source] += count
            missing["day"][index // 24] += count
            missing["hour"][index % 24] += count
    # Read in order of length, each list is one sorted run per source, which sort()
    # merges in linear time; read by range, the lists are sorted here.
    for values in (*sources.values(), *spans, *hours, *by_staff.values()):
        values.sort()
    weeks_missing = [0] * len(mondays)
    for index, week in enumerate(week_of_day):
        weeks_missing[week] += missing["day"][index]
    if per_day:
        weeks: list = [[] for _ in mondays]
        for index, week in enumerate(week_of_day):
            weeks[week].append(spans[index])
        weeks = [_merged(days) for days in weeks]
    else:
        weeks = spans
    names = _staff_names(db, [key for key in by_staff if key is not None])
    staff_rows = [
        {"staff_id": key, "name": names.get(key, f"#{key}" if key else "—"), **_bucket(v, 0)}
        for key, v in by_staff.items()
    ]
    staff_rows.sort(key=lambda row: (-row["answered"], row["name"]))
    result = {
        "standard_seconds": RESPONSE_STANDARD_SECONDS,
        "sources": [{"source": s, **_bucket(sources[s], missing["source"][s])} for s in SOURCES],
        "total": {
            "all": None,
            **_bucket(_Union(sources.values()), sum(missing["source"].values())),
        },
        "hours": [{"hour": h, **_bucket(hours[h], missing["hour"][h])} for h in range(24)],
        "weeks": [
            {"week_start": monday, **_bucket(weeks[w], weeks_missing[w])}
            for w, monday in enumerate(mondays)
        ],
        "staff": staff_rows,
    }
    if per_day:
        result["days"] = [
            {"day": day.isoformat(), **_bucket(spans[i], missing["day"][i])}
            for i, day in enumerate(period.days)
        ]
    return result


def _staff_names(db: sqlite_utils.Database, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    query = f"SELECT id, display_name FROM staff WHERE id IN ({marks})"  # noqa: S608
    return dict(db.execute(query, ids).fetchall())


def sla_minutes(settings: dict) -> dict[str, int]:
    """Minutes to resolve, by urgency: the building's ticket_sla_minutes (shared.tickets' rule)."""
    return {urgency: ticket_rules.sla_minutes(settings, urgency) for urgency in URGENCIES}


def tickets(db: sqlite_utils.Database, period: Period, *, now: str, sla: dict[str, int]) -> dict:
    """Resolution time per kind and urgency against the SLA; open and overdue right now."""
    keys = [(kind, urgency) for kind in KINDS for urgency in URGENCIES]
    received = dict.fromkeys(keys, 0)
    durations: dict[tuple, list] = {key: [] for key in keys}
    open_now = dict.fromkeys(keys, 0)
    overdue_now = dict.fromkeys(keys, 0)
    params = {"start": period.start, "end": period.end, "now": now}
    # One pass of sums (GROUP BY would sort every ticket); names from the fixed tuples above.
    sums = ", ".join(f"sum(kind = '{kind}' AND urgency = '{urgency}')" for kind, urgency in keys)
    counts = db.execute(
        f"SELECT {sums} FROM tickets WHERE received_at >= :start AND received_at < :end",  # noqa: S608
        params,
    ).fetchone()
    for key, count in zip(keys, counts, strict=True):
        received[key] = count or 0
    for kind, urgency, milliseconds in db.execute(
        f"SELECT kind, urgency, {_ms('resolved_at')} FROM tickets"  # noqa: S608
        " WHERE resolved_at >= :start AND resolved_at < :end",
        params,
    ):
        durations[(kind, urgency)].append(milliseconds)
    for values in durations.values():
        values.sort()
    # Overdue as shared.tickets.is_overdue has it: open, and past a (non-empty) sla_due_at.
    marks = ", ".join(f"'{status}'" for status in ticket_rules.OPEN_STATUSES)
    for kind, urgency, count, overdue in db.execute(
        "SELECT kind, urgency, count(*), sum(sla_due_at != '' AND sla_due_at < :now)"  # noqa: S608
        f" FROM tickets WHERE status IN ({marks}) GROUP BY kind, urgency",
        params,
    ):
        open_now[(kind, urgency)] = count
        overdue_now[(kind, urgency)] = overdue or 0

    def row(kind: str, urgency: str | None, parts: list[tuple]) -> dict:
        if urgency:
            summary = _summary_ms(durations[(kind, urgency)], sla[urgency] * 60)
        else:  # a kind's total: each ticket against its own urgency's SLA
            summary = _summary_ms(_merged(durations[key] for key in parts))
            summary["within"] = sum(
                bisect.bisect_right(durations[key], sla[key[1]] * 60000) for key in parts
            )
            summary["share"] = summary["within"] / summary["count"] if summary["count"] else None
        return {
            "kind": kind,
            "urgency": urgency,
            "sla_minutes": sla[urgency] if urgency else None,
            "received": sum(received[key] for key in parts),
            "resolved": summary["count"],
            "p50": summary["p50"],
            "p90": summary["p90"],
            "within_sla": summary["within"],
            "share": summary["share"],
            "open": sum(open_now[key] for key in parts),
            "overdue": sum(overdue_now[key] for key in parts),
        }

    rows = []
    for kind in KINDS:
        rows.extend(row(kind, urgency, [(kind, urgency)]) for urgency in URGENCIES)
        rows.append(row(kind, None, [(kind, urgency) for urgency in URGENCIES]))
    return {"rows": rows, "sla_minutes": sla}


def satisfaction(
    db: sqlite_utils.Database, period: Period, *, low_limit: int | None = None
) -> dict:
    """Ratings given in the period: average, 1-5 distribution, weekly trend, low ratings
    with their reasons (low_limit: list only the newest so many; low_count has them all)."""
    sql = _Sql(period)
    # From the rating history (ticket_ratings): a ticket reopened and rated again counts
    # both ratings, so reopening can never make a bad one disappear.
    rated = "rated_at >= :start AND rated_at < :end"
    params = {**sql.params, "low": LOW_RATING, "limit": -1 if low_limit is None else low_limit}
    distribution = dict.fromkeys(range(1, 6), 0)
    mondays = _weeks(period)
    weeks = [dict.fromkeys(range(1, 6), 0) for _ in mondays]
    # Counted in SQL per local day and rating (index ticket_ratings_rated covers it).
    for day, rating, count in db.execute(
        f"SELECT {sql.slot('rated_at')} / 24 AS day, rating, count(*) FROM ticket_ratings"  # noqa: S608
        f" WHERE {rated} GROUP BY day, rating",
        params,
    ):
        distribution[rating] += count
        weeks[sql.week(day)][rating] += count
    # The reasons of every low rating: each string of a JSON list (as _reason_keys reads them).
    reasons = dict.fromkeys(REASON_KEYS, 0)
    for key, count in db.execute(
        "SELECT reason.value, count(*) FROM ticket_ratings, json_each(ticket_ratings.reasons)"  # noqa: S608
        f" AS reason WHERE {rated} AND rating <= :low AND json_valid(reasons)"
        " AND json_type(reasons) = 'array' AND reason.type = 'text' GROUP BY reason.value",
        params,
    ):
        reasons[key] = reasons.get(key, 0) + count
    low = []
    for ticket_id, kind, category, problem, rating, reasons_json, comment, local in db.execute(
        "SELECT tickets.id, kind, category, problem, ticket_ratings.rating, reasons, comment,"  # noqa: S608
        f" {sql.local('ticket_ratings.rated_at')} FROM ticket_ratings JOIN tickets"
        " ON tickets.id = ticket_ratings.ticket_id"
        " WHERE ticket_ratings.rated_at >= :start AND ticket_ratings.rated_at < :end"
        " AND ticket_ratings.rating <= :low"
        " ORDER BY ticket_ratings.rated_at DESC, ticket_ratings.id DESC LIMIT :limit",
        params,
    ):
        keys = _reason_keys(reasons_json)
        low.append(
            {
                "id": ticket_id,
                "number": str(ticket_id),
                "kind": kind,
                "category": category,
                "problem": problem,
                "rating": rating,
                "reasons": keys,
                "comment": comment or "",
                "rated_local": local[:16],
            }
        )
    count = sum(distribution.values())

    def week_row(monday: date, ratings: dict[int, int]) -> dict:
        rated_that_week = sum(ratings.values())
        return {
            "week_start": monday,
            "count": rated_that_week,
            "average": (
                sum(r * n for r, n in ratings.items()) / rated_that_week
                if rated_that_week
                else None
            ),
            "low": sum(n for r, n in ratings.items() if r <= LOW_RATING),
        }

    return {
        "count": count,
        "average": sum(r * n for r, n in distribution.items()) / count if count else None,
        "distribution": distribution,
        "low_count": sum(n for r, n in distribution.items() if r <= LOW_RATING),
        "weeks": [week_row(m, r) for m, r in zip(mondays, weeks, strict=True)],
        "low": low,
        "reasons": [{"key": key, "count": n} for key, n in reasons.items()],
    }


def _reason_keys(text: str | None) -> list[str]:
    try:
        keys = json.loads(text or "[]")
    except ValueError:
        return []
    return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []


_VOLUME_QUERIES = (
    # (columns filled, table, time column, sums, more conditions): summed per local day and hour
    (("visits", "visitors"), "visits", "received_at", ("count(*)", "sum(party_size)"), ""),
    (("help",), "escalations", "received_at", ("count(*)",), ""),
    (("parcels_in",), "parcels", "received_at", ("count(*)",), ""),
    (("parcels_out",), "parcels", "collected_at", ("count(*)",), " AND collected_at IS NOT NULL"),
    (
        ("repairs", "complaints"),
        "tickets",
        "received_at",
        ("sum(kind = 'repair')", "sum(kind = 'complaint')"),
        "",
    ),
)
VOLUME_COLUMNS = (
    "visits",
    "visitors",
    "help",
    "parcels_in",
    "parcels_out",
    "repairs",
    "complaints",
)


def volumes(db: sqlite_utils.Database, period: Period, *, now: str) -> dict:
    """Per day, week and hour of day: visits, visitors, help calls, parcels in/out, tickets;
    parcel dwell time and what is waiting now."""
    sql = _Sql(period)
    days = [dict.fromkeys(VOLUME_COLUMNS, 0) for _ in range(sql.days)]
    hours = [dict.fromkeys(VOLUME_COLUMNS, 0) for _ in range(24)]
    for columns, table, at, sums, also in _VOLUME_QUERIES:
        # Summed in SQL: 366 + 24 rows at most come back. Fixed SQL text.
        for per_hour, index, counts in db.execute(
            sql.per_day_and_hour(table, at, sums, also), {**sql.params, **sql.bounds}
        ):
            target = hours[int(index)] if per_hour else days[index]
            for column, count in zip(columns, json.loads(counts), strict=True):
                target[column] += count or 0
    mondays = _weeks(period)
    weeks = [dict.fromkeys(VOLUME_COLUMNS, 0) for _ in mondays]
    for index, values in enumerate(days):
        week = weeks[sql.week(index)]
        for column in VOLUME_COLUMNS:
            week[column] += values[column]
    waiting, overdue = db.execute(
        "SELECT count(*), coalesce(sum(expires_at <= ?), 0) FROM parcels WHERE status = 'waiting'",
        (now,),
    ).fetchone()
    return {
        "columns": VOLUME_COLUMNS,
        "days": [
            {"day": day.isoformat(), **values}
            for day, values in zip(period.days, days, strict=True)
        ],
        "weeks": [
            {"week_start": monday, **values} for monday, values in zip(mondays, weeks, strict=True)
        ],
        "hours": [{"hour": hour, **values} for hour, values in enumerate(hours)],
        "totals": {c: sum(day[c] for day in days) for c in VOLUME_COLUMNS},
        "parcel_dwell": _dwell(db, sql, sum(day["parcels_out"] for day in days)),
        "parcels_waiting": waiting,
        "parcels_overdue": overdue,
    }


def _dwell(db: sqlite_utils.Database, sql: _Sql, count: int) -> dict:
    """count, p50 and p90 of the time on the shelf of the `count` parcels collected in the
    period.

    Only the two values around each percentile's rank are read (ORDER BY … LIMIT 2 OFFSET
    rank, from the nearer end): over long ranges along migration 0012's shelf-time index,
    which is in that order.
    """
    where = "collected_at IS NOT NULL AND collected_at >= :start AND collected_at < :end"
    shelf = _ms("collected_at")
    access = " INDEXED BY parcels_dwell_kpi" if sql.ordered else ""

    def at(q: float) -> float | None:
        if not count:
            return None
        position = (count - 1) * q
        rank = int(position)
        high = min(rank + 1, count - 1)
        if rank < count / 2:
            order, offset = "", rank
        else:  # counted from the longest
            order, offset = " DESC", count - 1 - high
        values = [
            row[0]
            for row in db.execute(
                f"SELECT {shelf} FROM parcels{access} WHERE {where}"  # noqa: S608
                f" ORDER BY {shelf}{order} LIMIT 2 OFFSET :offset",
                {**sql.params, "offset": offset},
            )
        ]
        values.sort()
        below, above = (values[0], values[-1]) if high > rank else (values[-1], values[-1])
        return _between(below, above, position - rank)

    return {"count": count, "p50": at(0.5), "p90": at(0.9)}


SECTIONS = ("response", "tickets", "satisfaction", "volumes")


def compute(
    db: sqlite_utils.Database,
    clock,
    period: Period,
    sections=SECTIONS,
    *,
    per_day: bool = True,
    low_limit: int | None = None,
) -> dict:
    """The dashboard's sections (all by default) for one period; per_day and low_limit as
    response() and satisfaction() take them (a page showing weeks, the newest low ratings)."""
    now = to_iso(clock.now())
    kpis: dict = {"period": period, "now": now}
    with _collector_paused():
        if "response" in sections:
            kpis["response"] = response(db, period, per_day=per_day, now=now)
        if "tickets" in sections:
            sla = sla_minutes(building.current(db)["settings"])
            kpis["tickets"] = tickets(db, period, now=now, sla=sla)
        if "satisfaction" in sections:
            kpis["satisfaction"] = satisfaction(db, period, low_limit=low_limit)
        if "volumes" in sections:
            kpis["volumes"] = volumes(db, period, now=now)
    return kpis


@contextmanager
def _collector_paused():
    """A year is ~125,000 rows fetched as tuples of numbers, which cannot form reference
    cycles; the cyclic garbage collector, triggered by their allocation, would only walk
    them and every other object of the process (~50 ms a year's page). Paused meanwhile;
    reference counting still frees everything."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def today(clock, timezone: str) -> date:
    return clock.now().astimezone(ZoneInfo(timezone)).date()
