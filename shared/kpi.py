"""The desk's KPIs (STANDARDS.md, "How the desk is measured"), over a date range.

Plain SQL over indexed range scans (migration 0011_kpi_indexes); percentiles in
Python over the fetched durations. Every time is stored in UTC; days and hours
of day are the building's own (its time zone, daylight saving included), so a
range "2026-11-01 to 2026-11-30" means local midnight to local midnight and a
visitor at 09:15 local time counts in the 09 o'clock bucket.

- Response (S3): kiosk requests that need a person, from the console's
  received_at to the first answer: visits (decided_at), help calls and other
  escalations (acknowledged_at), kiosk pickups awaiting a desk handover
  (done_at). p50 / p90 seconds and the share answered within the 60-second
  standard (of those answered); unanswered ones are counted apart.
- Repairs and complaints (S5, S6): resolution time received_at -> resolved_at
  of tickets resolved in the range, per kind and urgency, against the
  building's ticket_sla_minutes; open and overdue counts right now.
- Satisfaction: ratings given in the range (rated_at); average, 1-5
  distribution, weekly trend (weeks start on Monday), low ratings with reasons.
- Volumes: visits, visitors, help calls, parcels in and out, repairs and
  complaints per day and per hour of day; parcel dwell time (received ->
  collected, for parcels collected in the range), parcels waiting and overdue
  now (shared.parcels' rule: still waiting after the pickup code expired).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from shared import building
from shared import tickets as ticket_rules
from shared.clock import to_iso
from shared.errors import LobbyDeskError
from shared.escalations import RESPONSE_STANDARD_SECONDS
from shared.ticket_catalog import LOW_RATING, REASON_KEYS

DEFAULT_DAYS = 30
MAX_DAYS = 366
KINDS = ("repair", "complaint")
URGENCIES = ("emergency", "urgent", "normal")  # most urgent first, as the tables list them
SOURCES = ("visit", "help", "handover")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class InvalidPeriod(LobbyDeskError):
    """Choose dates as YYYY-MM-DD, the start on or before the end."""

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


class _Sql:
    """Named parameters for one query, and building time for its stored UTC columns.

    `local(column)` is SQL for the wall-clock time ('YYYY-MM-DD HH:MM:SS'). For
    counting and bucketing by hour, `hour(column)` is cheaper: when the zone's
    offsets over the period are whole hours changing on whole UTC hours (Asia/Shanghai,
    and nearly every zone), SQL only cuts the UTC hour out of the stored text and
    `local_hour()` shifts each distinct hour in Python, once; otherwise SQL converts
    every row. Either way the result is the local 'YYYY-MM-DD HH'.
    """

    def __init__(self, period: Period):
        self.params: dict = {"start": period.start, "end": period.end}
        self._segments = _segments(period)
        self._by_utc_hour = all(offset % 60 == 0 for _until, offset in self._segments) and all(
            until[13:] == ":00:00.000000+00:00" for until, _offset in self._segments[:-1]
        )
        self._hours: dict[str, str] = {}

    def local(self, column: str) -> str:
        """SQL for the building's wall-clock time of a stored UTC column ('YYYY-MM-DD HH:MM:SS')."""
        *changes, (_none, final) = self._segments
        prefix = f"m{len(self.params)}_"
        self.params[prefix + "final"] = f"{final:+d} minutes"
        if not changes:
            return f"datetime({column}, :{prefix}final)"
        cases = []
        for index, (until, offset) in enumerate(changes):
            self.params[f"{prefix}u{index}"] = until
            self.params[f"{prefix}m{index}"] = f"{offset:+d} minutes"
            cases.append(f"WHEN {column} < :{prefix}u{index} THEN :{prefix}m{index}")
        return f"datetime({column}, CASE {' '.join(cases)} ELSE :{prefix}final END)"

    def hour(self, column: str) -> str:
        """SQL for an hour key of the column; pass its values through local_hour()."""
        if self._by_utc_hour:
            return f"substr({column}, 1, 13)"
        return f"substr({self.local(column)}, 1, 13)"

    def local_hour(self, key: str) -> str:
        """A key from hour() as the local 'YYYY-MM-DD HH'."""
        if not self._by_utc_hour:
            return key
        local = self._hours.get(key)
        if local is None:
            moment = datetime.fromisoformat(key + ":00:00+00:00")
            stamp = to_iso(moment)
            offset = next(o for until, o in self._segments if until is None or stamp < until)
            local = self._hours[key] = (moment + timedelta(minutes=offset)).strftime("%Y-%m-%d %H")
        return local


def _seconds(done: str, start: str = "received_at") -> str:
    return f"round((julianday({done}) - julianday({start})) * 86400, 3)"


# --- the sections --------------------------------------------------------------------------

_REQUEST_SOURCES = {
    # source: (table, answered at, answered by)
    "visit": ("visits", "decided_at", "decided_by"),
    "help": ("escalations", "acknowledged_at", "acknowledged_by"),
    "handover": ("parcel_handovers", "done_at", "done_by"),
}


def _bucket(durations: list[float], unanswered: int) -> dict:
    summary = summarise(durations, RESPONSE_STANDARD_SECONDS)
    return {
        **summary,
        "answered": summary["count"],
        "unanswered": unanswered,
        "requests": summary["count"] + unanswered,
    }


def response(db: sqlite_utils.Database, period: Period) -> dict:
    """Response to kiosk requests that need a person, by source, hour, day and staff member."""
    # (source, hour key) -> answer times, and the count not answered yet
    answered: dict[tuple[str, str], list[float]] = {}
    unanswered: dict[tuple[str, str], int] = {}
    by_staff: dict[int | None, list[float]] = {}
    sql = _Sql(period)
    for source, (table, done, by) in _REQUEST_SOURCES.items():
        # Table and column names come from the fixed map above; values are parameters.
        query = (
            f"SELECT {sql.hour('received_at')}, {by},"  # noqa: S608
            f" CASE WHEN {done} IS NULL THEN NULL ELSE {_seconds(done)} END"
            f" FROM {table} WHERE received_at >= :start AND received_at < :end"
        )
        for hour_key, staff_id, seconds in db.execute(query, sql.params).fetchall():
            key = (source, hour_key)
            if seconds is None:
                unanswered[key] = unanswered.get(key, 0) + 1
            else:
                answered.setdefault(key, []).append(seconds)
                by_staff.setdefault(staff_id, []).append(seconds)
    groups = {
        "source": {s: ([], [0]) for s in SOURCES},
        "hour": {h: ([], [0]) for h in range(24)},
        "day": {d.isoformat(): ([], [0]) for d in period.days},
        "all": {None: ([], [0])},
    }
    for key in answered.keys() | unanswered.keys():
        source, local_hour = key[0], sql.local_hour(key[1])
        values, missing = answered.get(key, []), unanswered.get(key, 0)
        for group, bucket in (
            ("source", source),
            ("hour", int(local_hour[11:13])),
            ("day", local_hour[:10]),
            ("all", None),
        ):
            durations, count = groups[group][bucket]
            durations.extend(values)
            count[0] += missing
    names = _staff_names(db, [key for key in by_staff if key is not None])
    staff_rows = [
        {"staff_id": key, "name": names.get(key, f"#{key}" if key else "—"), **_bucket(v, 0)}
        for key, v in by_staff.items()
    ]
    staff_rows.sort(key=lambda row: (-row["answered"], row["name"]))

    def rows(group: str, label: str) -> list[dict]:
        return [{label: k, **_bucket(d, u[0])} for k, (d, u) in groups[group].items()]

    return {
        "standard_seconds": RESPONSE_STANDARD_SECONDS,
        "sources": rows("source", "source"),
        "total": rows("all", "all")[0],
        "hours": rows("hour", "hour"),
        "days": rows("day", "day"),
        "staff": staff_rows,
    }


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
    for kind, urgency, count in db.execute(
        "SELECT kind, urgency, count(*) FROM tickets"
        " WHERE received_at >= :start AND received_at < :end GROUP BY kind, urgency",
        params,
    ):
        received[(kind, urgency)] = count
    for kind, urgency, seconds in db.execute(
        f"SELECT kind, urgency, {_seconds('resolved_at')} FROM tickets"  # noqa: S608
        " WHERE resolved_at >= :start AND resolved_at < :end",
        params,
    ):
        durations[(kind, urgency)].append(seconds)
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
        resolved = [value for key in parts for value in durations[key]]
        limit = sla[urgency] * 60 if urgency else None
        if urgency:
            summary = summarise(resolved, limit)
        else:  # a kind's total: each ticket against its own urgency's SLA
            summary = summarise(resolved)
            summary["within"] = sum(
                1 for key in parts for value in durations[key] if value <= sla[key[1]] * 60
            )
            summary["share"] = summary["within"] / len(resolved) if resolved else None
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


def satisfaction(db: sqlite_utils.Database, period: Period) -> dict:
    """Ratings given in the period: average, 1-5 distribution, weekly trend, low ratings."""
    sql = _Sql(period)
    query = (
        f"SELECT id, kind, category, problem, rating, rating_reasons, rating_comment,"  # noqa: S608
        f" {sql.local('rated_at')} FROM tickets"
        " WHERE rated_at >= :start AND rated_at < :end AND rating IS NOT NULL"
        " ORDER BY rated_at DESC, id DESC"
    )
    rows = db.execute(query, sql.params).fetchall()
    distribution = dict.fromkeys(range(1, 6), 0)
    first_monday = period.first - timedelta(days=period.first.weekday())
    weeks: dict[date, list[int]] = {}
    monday = first_monday
    while monday <= period.last:
        weeks[monday] = []
        monday += timedelta(days=7)
    low, reasons = [], dict.fromkeys(REASON_KEYS, 0)
    for ticket_id, kind, category, problem, rating, reasons_json, comment, local in rows:
        distribution[rating] += 1
        day = date.fromisoformat(local[:10])
        weeks[day - timedelta(days=day.weekday())].append(rating)
        if rating <= LOW_RATING:
            keys = _reason_keys(reasons_json)
            for key in keys:
                reasons[key] = reasons.get(key, 0) + 1
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
    count = len(rows)
    return {
        "count": count,
        "average": sum(r * n for r, n in distribution.items()) / count if count else None,
        "distribution": distribution,
        "low_count": len(low),
        "weeks": [
            {
                "week_start": monday,
                "count": len(ratings),
                "average": sum(ratings) / len(ratings) if ratings else None,
                "low": sum(1 for r in ratings if r <= LOW_RATING),
            }
            for monday, ratings in weeks.items()
        ],
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
    # (columns filled, SQL after SELECT <local hour>, ...): counts grouped by local hour
    (("visits", "visitors"), "count(*), sum(party_size) FROM visits", "received_at"),
    (("help",), "count(*) FROM escalations", "received_at"),
    (("parcels_in",), "count(*) FROM parcels", "received_at"),
    (("parcels_out",), "count(*) FROM parcels", "collected_at"),
    (
        ("repairs", "complaints"),
        "sum(kind = 'repair'), sum(kind = 'complaint') FROM tickets",
        "received_at",
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
    """Per day and per hour of day: visits, visitors, help calls, parcels in/out, tickets;
    parcel dwell time and what is waiting now."""
    days = {d.isoformat(): dict.fromkeys(VOLUME_COLUMNS, 0) for d in period.days}
    hours = {h: dict.fromkeys(VOLUME_COLUMNS, 0) for h in range(24)}
    sql = _Sql(period)
    for columns, source, at in _VOLUME_QUERIES:
        # Counted in SQL by local hour: at most 24 rows a day come back. Fixed SQL text.
        query = (
            f"SELECT {sql.hour(at)} AS hour_key, {source}"
            f" WHERE {at} >= :start AND {at} < :end GROUP BY hour_key"
        )
        for hour_key, *counts in db.execute(query, sql.params).fetchall():
            local_hour = sql.local_hour(hour_key)
            day, hour = days[local_hour[:10]], hours[int(local_hour[11:13])]
            for column, count in zip(columns, counts, strict=True):
                day[column] += count or 0
                hour[column] += count or 0
    dwell = [
        row[0]
        for row in db.execute(
            f"SELECT {_seconds('collected_at')} FROM parcels"  # noqa: S608
            " WHERE collected_at >= :start AND collected_at < :end",
            {"start": period.start, "end": period.end},
        ).fetchall()
    ]
    waiting, overdue = db.execute(
        "SELECT count(*), coalesce(sum(expires_at <= ?), 0) FROM parcels WHERE status = 'waiting'",
        (now,),
    ).fetchone()
    return {
        "columns": VOLUME_COLUMNS,
        "days": [{"day": key, **values} for key, values in days.items()],
        "hours": [{"hour": key, **values} for key, values in hours.items()],
        "totals": {c: sum(day[c] for day in days.values()) for c in VOLUME_COLUMNS},
        "parcel_dwell": summarise(dwell),
        "parcels_waiting": waiting,
        "parcels_overdue": overdue,
    }


def compute(db: sqlite_utils.Database, clock, period: Period) -> dict:
    """Every section of the dashboard for one period."""
    settings = building.current(db)["settings"]
    now = to_iso(clock.now())
    return {
        "period": period,
        "now": now,
        "response": response(db, period),
        "tickets": tickets(db, period, now=now, sla=sla_minutes(settings)),
        "satisfaction": satisfaction(db, period),
        "volumes": volumes(db, period, now=now),
    }


def today(clock, timezone: str) -> date:
    return clock.now().astimezone(ZoneInfo(timezone)).date()
