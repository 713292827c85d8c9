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

The parts: period (the date range), stats (percentiles over sorted milliseconds),
local_sql (building time in SQL), response and sections (the four sections); compute()
here puts them together. Names with a leading underscore are shared inside this package
only (tests read a few of them).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

import sqlite_utils

from shared import building
from shared.clock import to_iso
from shared.kpi.local_sql import ORDERED_SCAN_DAYS, _Sql
from shared.kpi.period import (
    DEFAULT_DAYS,
    MAX_DAYS,
    InvalidPeriod,
    Period,
    month_period,
    parse_period,
    previous_month,
    today,
)
from shared.kpi.response import SOURCES, response
from shared.kpi.sections import (
    KINDS,
    URGENCIES,
    VOLUME_COLUMNS,
    satisfaction,
    sla_minutes,
    tickets,
    volumes,
)
from shared.kpi.stats import _summary_ms, _Union, percentile, summarise

__all__ = [
    "DEFAULT_DAYS",
    "KINDS",
    "MAX_DAYS",
    "ORDERED_SCAN_DAYS",
    "SECTIONS",
    "SOURCES",
    "URGENCIES",
    "VOLUME_COLUMNS",
    "InvalidPeriod",
    "Period",
    "_Sql",
    "_Union",
    "_summary_ms",
    "compute",
    "month_period",
    "parse_period",
    "percentile",
    "previous_month",
    "response",
    "satisfaction",
    "sla_minutes",
    "summarise",
    "tickets",
    "today",
    "volumes",
]

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
