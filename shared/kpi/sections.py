"""The dashboard's other sections: repairs and complaints against the SLA (S5, S6),
satisfaction, and volumes with the parcels' shelf time."""

from __future__ import annotations

import bisect
import json
from datetime import date

import sqlite_utils

from shared import tickets as ticket_rules
from shared.kpi.local_sql import _ms, _Sql
from shared.kpi.period import Period, _weeks
from shared.kpi.stats import _between, _merged, _summary_ms
from shared.ticket_catalog import LOW_RATING, REASON_KEYS

KINDS = ("repair", "complaint")
URGENCIES = ("emergency", "urgent", "normal")  # most urgent first, as the tables list them


def sla_minutes(settings: dict) -> dict[str, int]:
    """Minutes to resolve, by urgency: the building's ticket_sla_minutes (shared.tickets' rule)."""
    return {urgency: ticket_rules.sla_minutes(settings, urgency) for urgency in URGENCIES}


def _ticket_figures(db: sqlite_utils.Database, period: Period, now: str, keys: list) -> dict:
    """Per (kind, urgency): tickets received in the period, sorted resolution times (ms) of
    those resolved in it, and how many are open and overdue right now."""
    figures = {
        "received": dict.fromkeys(keys, 0),
        "durations": {key: [] for key in keys},
        "open": dict.fromkeys(keys, 0),
        "overdue": dict.fromkeys(keys, 0),
    }
    params = {"start": period.start, "end": period.end, "now": now}
    # One pass of sums (GROUP BY would sort every ticket); names from the fixed tuples above.
    sums = ", ".join(f"sum(kind = '{kind}' AND urgency = '{urgency}')" for kind, urgency in keys)
    counts = db.execute(
        f"SELECT {sums} FROM tickets WHERE received_at >= :start AND received_at < :end",  # noqa: S608
        params,
    ).fetchone()
    for key, count in zip(keys, counts, strict=True):
        figures["received"][key] = count or 0
    for kind, urgency, milliseconds in db.execute(
        f"SELECT kind, urgency, {_ms('resolved_at')} FROM tickets"  # noqa: S608
        " WHERE resolved_at >= :start AND resolved_at < :end",
        params,
    ):
        figures["durations"][(kind, urgency)].append(milliseconds)
    for values in figures["durations"].values():
        values.sort()
    # Overdue as shared.tickets.is_overdue has it: open, and past a (non-empty) sla_due_at.
    marks = ", ".join(f"'{status}'" for status in ticket_rules.OPEN_STATUSES)
    for kind, urgency, count, overdue in db.execute(
        "SELECT kind, urgency, count(*), sum(sla_due_at != '' AND sla_due_at < :now)"  # noqa: S608
        f" FROM tickets WHERE status IN ({marks}) GROUP BY kind, urgency",
        params,
    ):
        figures["open"][(kind, urgency)] = count
        figures["overdue"][(kind, urgency)] = overdue or 0
    return figures


def _ticket_row(figures: dict, sla: dict, kind: str, urgency: str | None, parts: list) -> dict:
    durations = figures["durations"]
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
        "received": sum(figures["received"][key] for key in parts),
        "resolved": summary["count"],
        "p50": summary["p50"],
        "p90": summary["p90"],
        "within_sla": summary["within"],
        "share": summary["share"],
        "open": sum(figures["open"][key] for key in parts),
        "overdue": sum(figures["overdue"][key] for key in parts),
    }


def tickets(db: sqlite_utils.Database, period: Period, *, now: str, sla: dict[str, int]) -> dict:
    """Resolution time per kind and urgency against the SLA; open and overdue right now."""
    keys = [(kind, urgency) for kind in KINDS for urgency in URGENCIES]
    figures = _ticket_figures(db, period, now, keys)
    rows = []
    for kind in KINDS:
        rows.extend(
            _ticket_row(figures, sla, kind, urgency, [(kind, urgency)]) for urgency in URGENCIES
        )
        rows.append(_ticket_row(figures, sla, kind, None, [(kind, u) for u in URGENCIES]))
    return {"rows": rows, "sla_minutes": sla}


# From the rating history (ticket_ratings): a ticket reopened and rated again counts
# both ratings, so reopening can never make a bad one disappear.
_RATED = "rated_at >= :start AND rated_at < :end"


def satisfaction(
    db: sqlite_utils.Database, period: Period, *, low_limit: int | None = None
) -> dict:
    """Ratings given in the period: average, 1-5 distribution, weekly trend, low ratings
    with their reasons (low_limit: list only the newest so many; low_count has them all)."""
    sql = _Sql(period)
    params = {**sql.params, "low": LOW_RATING, "limit": -1 if low_limit is None else low_limit}
    distribution = dict.fromkeys(range(1, 6), 0)
    mondays = _weeks(period)
    weeks = [dict.fromkeys(range(1, 6), 0) for _ in mondays]
    # Counted in SQL per local day and rating (index ticket_ratings_rated covers it).
    for day, rating, count in db.execute(
        f"SELECT {sql.slot('rated_at')} / 24 AS day, rating, count(*) FROM ticket_ratings"  # noqa: S608
        f" WHERE {_RATED} GROUP BY day, rating",
        params,
    ):
        distribution[rating] += count
        weeks[sql.week(day)][rating] += count
    count = sum(distribution.values())
    return {
        "count": count,
        "average": sum(r * n for r, n in distribution.items()) / count if count else None,
        "distribution": distribution,
        "low_count": sum(n for r, n in distribution.items() if r <= LOW_RATING),
        "weeks": [_week_row(m, r) for m, r in zip(mondays, weeks, strict=True)],
        "low": _low_ratings(db, sql, params),
        "reasons": [{"key": key, "count": n} for key, n in _reasons(db, params).items()],
    }


def _week_row(monday: date, ratings: dict[int, int]) -> dict:
    rated_that_week = sum(ratings.values())
    return {
        "week_start": monday,
        "count": rated_that_week,
        "average": (
            sum(r * n for r, n in ratings.items()) / rated_that_week if rated_that_week else None
        ),
        "low": sum(n for r, n in ratings.items() if r <= LOW_RATING),
    }


def _reasons(db: sqlite_utils.Database, params: dict) -> dict[str, int]:
    """The reasons of every low rating: each string of a JSON list (as _reason_keys reads them)."""
    reasons = dict.fromkeys(REASON_KEYS, 0)
    for key, count in db.execute(
        "SELECT reason.value, count(*) FROM ticket_ratings, json_each(ticket_ratings.reasons)"  # noqa: S608
        f" AS reason WHERE {_RATED} AND rating <= :low AND json_valid(reasons)"
        " AND json_type(reasons) = 'array' AND reason.type = 'text' GROUP BY reason.value",
        params,
    ):
        reasons[key] = reasons.get(key, 0) + count
    return reasons


def _low_ratings(db: sqlite_utils.Database, sql: _Sql, params: dict) -> list[dict]:
    """The low ratings, newest first (at most params["limit"]; -1: all)."""
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
        low.append(
            {
                "id": ticket_id,
                "number": str(ticket_id),
                "kind": kind,
                "category": category,
                "problem": problem,
                "rating": rating,
                "reasons": _reason_keys(reasons_json),
                "comment": comment or "",
                "rated_local": local[:16],
            }
        )
    return low


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
