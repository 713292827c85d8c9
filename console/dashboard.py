"""The manager's KPI dashboard: response, repairs and complaints, satisfaction, volumes.

One date range (building time, the last 30 days by default). Every table is
built once (console/kpi_tables.py) as rows of display strings: the page shows them, and
/dashboard/<table>.csv exports the very same rows (formula-safe cells), so a
table and its CSV cannot disagree. Two exceptions keep a long range readable
(and the page quick): above WEEKLY_ABOVE_DAYS days the page shows the weekly
tables and charts instead of the daily ones (whose CSVs, linked beside them,
still have every day), and the low-ratings table shows its newest
PAGE_LIMIT rows (its CSV has them all). The monthly PDF
(console/report_pdf.py) prints the same tables for one calendar month.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from markupsafe import Markup

from console import charts, report_pdf
from console.db import get_clock, get_db
from console.exports import csv_response
from console.kpi_tables import SECTION_TABLES, build_tables
from console.kpi_tables import URGENCY_LABELS as URGENCY_LABELS  # the page's words, read here too
from console.kpi_text import headline
from console.security import role_required
from shared import building, kpi
from shared.ticket_catalog import LOW_RATING_REASONS

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
MANAGERS = ("manager",)  # admins may do everything
WEEKLY_ABOVE_DAYS = 92  # longer ranges: weekly tables and charts on the page
PAGE_LIMIT = 100  # low ratings listed on the page (newest first)


# --- views -----------------------------------------------------------------------------------


def _period() -> kpi.Period:
    timezone = building.current(get_db())["timezone"]
    return kpi.parse_period(
        request.args.get("from", "")[:20],
        request.args.get("to", "")[:20],
        today=kpi.today(get_clock(), timezone),
        timezone=timezone,
    )


@bp.get("")
@role_required(*MANAGERS)
def index():
    db = get_db()
    timezone = building.current(db)["timezone"]
    today = kpi.today(get_clock(), timezone)
    try:
        period = _period()
    except kpi.InvalidPeriod as error:
        return render_template(
            "dashboard/index.html",
            error=str(error),
            form={"from": request.args.get("from", "")[:20], "to": request.args.get("to", "")[:20]},
            report_month=kpi.previous_month(today),
        ), 400
    weekly = len(period.days) > WEEKLY_ABOVE_DAYS
    kpis = kpi.compute(db, get_clock(), period, per_day=not weekly, low_limit=PAGE_LIMIT)
    range_args = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    svgs = charts.render_all(kpis, weekly=weekly)
    return render_template(
        "dashboard/index.html",
        error=None,
        form=range_args,
        range_args=range_args,
        period=period,
        weekly=weekly,
        weekly_above=WEEKLY_ABOVE_DAYS,
        headline=headline(kpis),
        tables=build_tables(kpis),
        charts={name: Markup(svg) for name, svg in svgs.items()},  # noqa: S704 - pygal's escaped SVG
        report_month=kpi.previous_month(today),
        timezone=timezone,
        low_reasons=LOW_RATING_REASONS,
    )


@bp.get("/<name>.csv")
@role_required(*MANAGERS)
def table_csv(name: str):
    section = next((key for key, names in SECTION_TABLES.items() if name in names), None)
    if section is None:
        abort(404)
    period = _period()
    table = build_tables(kpi.compute(get_db(), get_clock(), period, sections=(section,)))[name]
    return csv_response(
        table.rows,
        table.columns,
        f"lobbydesk-{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv",
    )


@bp.get("/report.pdf")
@role_required(*MANAGERS)
def report():
    db = get_db()
    current = building.current(db)
    month = request.args.get("month", "")[:20] or kpi.previous_month(
        kpi.today(get_clock(), current["timezone"])
    )
    period = kpi.month_period(month, timezone=current["timezone"])
    kpis = kpi.compute(db, get_clock(), period)
    pdf = report_pdf.monthly_report(
        building=current["name"],
        building_en=current.get("name_en") or "",
        month=month,
        kpis=kpis,
        tables=build_tables(kpis),
        headline=headline(kpis),
        generated=get_clock().now(),
        timezone=current["timezone"],
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=lobbydesk-report-{month}.pdf"},
    )


@bp.get("/charts.css")
@role_required(*MANAGERS)
def stylesheet():
    return Response(charts.stylesheet() + DASHBOARD_CSS, mimetype="text/css")


def csv_url(name: str, range_args: dict) -> str:
    return url_for("dashboard.table_csv", name=name, **range_args)


# The page's own layout, served with the chart styles (the CSP allows stylesheets
# from this console only, and style.css belongs to every page).
DASHBOARD_CSS = """
.dashboard .tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(175px, 1fr)); gap:12px; margin:16px 0; }
.dashboard .tile { background:#fff; border:1px solid var(--line); border-radius:10px; padding:12px 14px; border-top:4px solid var(--line); }
.dashboard .tile.ok { border-top-color:var(--ok); } .dashboard .tile.warn { border-top-color:var(--warn); } .dashboard .tile.bad { border-top-color:var(--bad); }
.dashboard .tile .label { color:var(--muted); font-size:13px; }
.dashboard .tile .value { font-size:28px; font-weight:700; font-variant-numeric:tabular-nums; margin:4px 0; }
.dashboard .tile .detail { color:var(--muted); font-size:13px; }
.dashboard h2 { margin:28px 0 8px; border-bottom:2px solid var(--line); padding-bottom:6px; }
.dashboard h2 small, .dashboard h3 small { font-weight:400; color:var(--muted); font-size:70%; margin-left:6px; }
.dashboard .charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(460px, 1fr)); gap:12px; }
.dashboard figure.chart { margin:0; background:#fff; border:1px solid var(--line); border-radius:10px; padding:8px; }
.dashboard .kpi-table { margin:12px 0 20px; }
.dashboard .kpi-table header { display:flex; align-items:baseline; justify-content:space-between; gap:12px; }
.dashboard .kpi-table .exports { display:flex; flex-wrap:wrap; gap:8px; }
.dashboard .kpi-table h3 { margin:8px 0; font-size:17px; }
.dashboard .kpi-table .scroll { max-height:420px; overflow:auto; border-radius:10px; }
.dashboard .kpi-table table { font-size:14px; }
.dashboard .kpi-table th, .dashboard .kpi-table td { padding:6px 10px; }
.dashboard .kpi-table td.num { text-align:right; font-variant-numeric:tabular-nums; }
.dashboard .kpi-table th { position:sticky; top:0; }
.dashboard .kpi-table tr.total td { font-weight:700; background:#f5f7fa; }
.dashboard .side-by-side { display:grid; grid-template-columns:repeat(auto-fill, minmax(420px, 1fr)); gap:16px; }
.dashboard .range { display:flex; flex-wrap:wrap; gap:12px; align-items:flex-end; }
.dashboard .range label { margin:0; } .dashboard .range input { width:auto; }
.dashboard .note { color:var(--muted); font-size:13px; margin:4px 0 0; }
"""
