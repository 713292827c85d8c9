"""Response to kiosk requests that need a person (S3): the 60-second standard."""

from __future__ import annotations

from datetime import timedelta
from itertools import chain, repeat
from operator import itemgetter

import sqlite_utils

from shared.clock import parse_utc, to_iso
from shared.escalations import RESPONSE_STANDARD_SECONDS
from shared.kpi.local_sql import _ms, _Sql
from shared.kpi.period import Period, _weeks
from shared.kpi.stats import _Lists, _merged, _summary_ms, _Union

SOURCES = ("visit", "help", "handover")

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


class _Answers:
    """Each answered request's time (ms) in the lists of its day (or week), its hour of
    day, its staff member and its source; unanswered ones counted by source, day, hour."""

    def __init__(self, sql: _Sql, spans: int, span_of_day):
        self.spans: list[list[float]] = [[] for _ in range(spans)]
        self.hours: list[list[float]] = [[] for _ in range(24)]
        # By slot (day index * 24 + hour of day): the list a time goes to.
        self.to_span = list(
            chain.from_iterable(repeat(self.spans[span].append, 24) for span in span_of_day)
        )
        self.to_hour = [values.append for values in self.hours] * sql.days
        self.by_staff = _Lists()
        self.sources: dict[str, list[float]] = {}
        self.missing = {
            "source": dict.fromkeys(SOURCES, 0),
            "day": [0] * sql.days,
            "hour": [0] * 24,
        }

    def answered(self, source: str, rows: list[tuple]) -> None:
        to_span, to_hour, by_staff = self.to_span, self.to_hour, self.by_staff
        for index, staff_id, milliseconds in rows:
            to_span[index](milliseconds)
            to_hour[index](milliseconds)
            by_staff[staff_id].append(milliseconds)
        self.sources[source] = list(map(itemgetter(2), rows))

    def unanswered(self, source: str, counts) -> None:
        for index, count in counts:
            self.missing["source"][source] += count
            self.missing["day"][index // 24] += count
            self.missing["hour"][index % 24] += count

    def sort(self) -> None:
        """Read in order of length, each list is one sorted run per source, which sort()
        merges in linear time; read by range, the lists are sorted here."""
        for values in (*self.sources.values(), *self.spans, *self.hours, *self.by_staff.values()):
            values.sort()


def _read(db: sqlite_utils.Database, sql: _Sql, answers: _Answers, now: str | None) -> None:
    """Every source's answer times and unanswered counts in the period into `answers`."""
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
        answers.answered(source, rows)
        counts = db.execute(
            f"SELECT {slot} AS slot, count(*) FROM {table}"  # noqa: S608
            f" WHERE {done} IS NULL AND received_at >= :start AND received_at < :end"
            " AND received_at < :cutoff GROUP BY slot",
            unanswered_params,
        )
        answers.unanswered(source, counts)


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
    # The days' lists, or the weeks' ones.
    span_of_day = range(sql.days) if per_day else week_of_day
    answers = _Answers(sql, sql.days if per_day else len(mondays), span_of_day)
    _read(db, sql, answers, now)
    answers.sort()
    spans, missing = answers.spans, answers.missing
    weeks_missing = [0] * len(mondays)
    for index, week in enumerate(week_of_day):
        weeks_missing[week] += missing["day"][index]
    weeks = _weeks_of(spans, week_of_day, len(mondays)) if per_day else spans
    result = {
        "standard_seconds": RESPONSE_STANDARD_SECONDS,
        "sources": [
            {"source": s, **_bucket(answers.sources[s], missing["source"][s])} for s in SOURCES
        ],
        "total": {
            "all": None,
            **_bucket(_Union(answers.sources.values()), sum(missing["source"].values())),
        },
        "hours": [{"hour": h, **_bucket(answers.hours[h], missing["hour"][h])} for h in range(24)],
        "weeks": [
            {"week_start": monday, **_bucket(weeks[w], weeks_missing[w])}
            for w, monday in enumerate(mondays)
        ],
        "staff": _staff_rows(db, answers.by_staff),
    }
    if per_day:
        result["days"] = [
            {"day": day.isoformat(), **_bucket(spans[i], missing["day"][i])}
            for i, day in enumerate(period.days)
        ]
    return result


def _weeks_of(days: list[list[float]], week_of_day: list[int], count: int) -> list[list[float]]:
    """The weeks' sorted lists of the days' sorted ones."""
    weeks: list = [[] for _ in range(count)]
    for index, week in enumerate(week_of_day):
        weeks[week].append(days[index])
    return [_merged(lists) for lists in weeks]


def _staff_rows(db: sqlite_utils.Database, by_staff: dict) -> list[dict]:
    names = _staff_names(db, [key for key in by_staff if key is not None])
    rows = [
        {"staff_id": key, "name": names.get(key, f"#{key}" if key else "—"), **_bucket(v, 0)}
        for key, v in by_staff.items()
    ]
    rows.sort(key=lambda row: (-row["answered"], row["name"]))
    return rows


def _staff_names(db: sqlite_utils.Database, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    query = f"SELECT id, display_name FROM staff WHERE id IN ({marks})"  # noqa: S608
    return dict(db.execute(query, ids).fetchall())
