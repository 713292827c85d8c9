"""The manager's KPI dashboard: response, repairs and complaints, satisfaction, volumes.

One date range (building time, the last 30 days by default). Every table is
built once here as rows of display strings: the page shows them, and
/dashboard/<table>.csv exports the very same rows (formula-safe cells), so a
table and its CSV cannot disagree. Two exceptions keep a long range readable
(and the page quick): above WEEKLY_ABOVE_DAYS days the page shows the weekly
tables and charts instead of the daily ones (whose CSVs, linked beside them,
still have every day), and the low-ratings table shows its newest
PAGE_LIMIT rows (its CSV has them all). The monthly PDF
(console/report_pdf.py) prints the same tables for one calendar month.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request, url_for
from markupsafe import Markup

from console import charts, report_pdf
from console.db import get_clock, get_db
from console.exports import csv_response
from console.security import role_required
from shared import building, kpi, terms
from shared.ticket_catalog import LOW_RATING, LOW_RATING_REASONS, bilingual, reason_label

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
MANAGERS = ("manager",)  # admins may do everything
DASH = "—"
WEEKLY_ABOVE_DAYS = 92  # longer ranges: weekly tables and charts on the page
PAGE_LIMIT = 100  # low ratings listed on the page (newest first)

SOURCE_LABELS = {
    "visit": "访客登记 · Visitors",
    "help": "呼叫前台与提醒 · Help calls & alerts",
    "handover": "快递交付 · Parcel handovers",
}
KIND_LABELS = terms.labels("ticket_kind")
URGENCY_LABELS = terms.labels("urgency")


@dataclass
class Table:
    name: str
    title: str
    columns: tuple[tuple[str, str], ...]
    rows: list[dict]
    note: str = ""
    left_out: int = 0  # rows not on the page (its CSV has them)


# --- formatting: one place, so the page, the CSV and the PDF say the same ----------------


def seconds_text(value: float | None) -> str:
    """60.0 -> '60', 59.55 -> '59.6'."""
    if value is None:
        return DASH
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def share_text(share: float | None) -> str:
    if share is None:
        return DASH
    text = f"{share * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def duration_text(seconds: float | None) -> str:
    """A resolution or dwell time as people say it: '45 s', '12 min', '4 h 10 min', '2 d 3 h'."""
    if seconds is None:
        return DASH
    if seconds < 90:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def average_text(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


# --- the tables ----------------------------------------------------------------------------

_RESPONSE_COLUMNS = (
    ("requests", "请求 Requests"),
    ("answered", "已响应 Answered"),
    ("unanswered", "未响应 Unanswered"),
    ("p50", "p50 秒 s"),
    ("p90", "p90 秒 s"),
    ("within", "60 秒内 Within 60 s"),
    ("share", "60 秒内占比 Share within 60 s"),
)
_VOLUME_COLUMNS = (
    ("visits", "访客登记 Visits"),
    ("visitors", "访客人数 Visitors"),
    ("help", "呼叫前台 Help calls"),
    ("parcels_in", "快递入库 Parcels in"),
    ("parcels_out", "快递取件 Parcels out"),
    ("repairs", "报修 Repairs"),
    ("complaints", "投诉 Complaints"),
)


def _response_cells(bucket: dict) -> dict:
    return {
        "requests": str(bucket["requests"]),
        "answered": str(bucket["answered"]),
        "unanswered": str(bucket["unanswered"]),
        "p50": seconds_text(bucket["p50"]),
        "p90": seconds_text(bucket["p90"]),
        "within": str(bucket.get("within", 0)),
        "share": share_text(bucket["share"]),
    }


SECTION_TABLES = {
    "response": (
        "response",
        "response_hourly",
        "response_daily",
        "response_weekly",
        "response_staff",
    ),
    "tickets": ("tickets",),
    "satisfaction": ("ratings", "ratings_weekly", "low_reasons", "low_ratings"),
    "volumes": ("volumes_daily", "volumes_weekly", "volumes_hourly", "parcels"),
}


def build_tables(kpis: dict) -> dict[str, Table]:
    """The tables of the sections kpis holds, by name (the name is its CSV's URL)."""
    tables: list[Table] = []
    if "response" in kpis:
        tables += _response_tables(kpis["response"])
    if "tickets" in kpis:
        tables += _tickets_tables(kpis["tickets"])
    if "satisfaction" in kpis:
        tables += _satisfaction_tables(kpis["satisfaction"])
    if "volumes" in kpis:
        tables += _volumes_tables(kpis["volumes"])
    return {table.name: table for table in tables}


def _response_tables(response: dict) -> list[Table]:
    """Response: by source, hour of day, week, staff member and day."""
    standard = response["standard_seconds"]
    tables = [
        Table(
            "response",
            "响应速度 · Response to kiosk requests",
            (("source", "来源 Source"), *_RESPONSE_COLUMNS),
            [
                {"source": SOURCE_LABELS[row["source"]], **_response_cells(row)}
                for row in response["sources"]
            ]
            + [{"source": "合计 · All", **_response_cells(response["total"])}],
            f"从终端提交到员工处理；{standard} 秒内占比按全部请求计，未响应的算作超时"
            f"（提交不足 {standard} 秒的除外）· From the kiosk request to a staff answer; the"
            f" within-{standard}-s share is of all requests: one never answered counts as missed"
            f" (once it is {standard} s old).",
        ),
        Table(
            "response_hourly",
            "各时段响应 · Response by hour of day",
            (("hour", "时段 Hour"), *_RESPONSE_COLUMNS),
            [
                {"hour": f"{row['hour']:02d}:00", **_response_cells(row)}
                for row in response["hours"]
            ],
        ),
        Table(
            "response_weekly",
            "每周响应 · Response by week",
            (("week", "周（周一起）Week of"), *_RESPONSE_COLUMNS),
            [
                {"week": row["week_start"].isoformat(), **_response_cells(row)}
                for row in response["weeks"]
            ],
            "每周从周一起，首尾两周只计本期内的日子 · Weeks start on Monday; the first and last"
            " count only the days in the range.",
        ),
        Table(
            "response_staff",
            "各员工响应 · Response by staff member",
            (("name", "员工 Staff"), *_RESPONSE_COLUMNS[1:2], *_RESPONSE_COLUMNS[3:]),
            [{"name": row["name"], **_response_cells(row)} for row in response["staff"]],
        ),
    ]
    if "days" in response:  # (a page showing weeks computed none)
        tables.append(
            Table(
                "response_daily",
                "每日响应 · Response by day",
                (("day", "日期 Date"), *_RESPONSE_COLUMNS),
                [{"day": row["day"], **_response_cells(row)} for row in response["days"]],
            )
        )
    return tables


def _tickets_tables(tickets: dict) -> list[Table]:
    """Resolution time against the SLA."""
    return [
        Table(
            "tickets",
            "报修与投诉处理时间 · Repair and complaint resolution time",
            (
                ("kind", "类型 Kind"),
                ("urgency", "紧急程度 Urgency"),
                ("sla", "时限 SLA"),
                ("received", "新收 Received"),
                ("resolved", " ".join(terms.pair("ticket_status", "resolved"))),
                ("p50", "解决用时 p50"),
                ("p90", "解决用时 p90"),
                ("share", "按时解决 Within SLA"),
                ("open", "当前未结 Open now"),
                ("overdue", "当前逾期 Overdue now"),
            ),
            [
                {
                    "kind": KIND_LABELS[row["kind"]],
                    "urgency": URGENCY_LABELS[row["urgency"]] if row["urgency"] else "合计 · All",
                    "sla": duration_text(row["sla_minutes"] * 60)
                    if row["sla_minutes"] is not None
                    else DASH,
                    "received": str(row["received"]),
                    "resolved": str(row["resolved"]),
                    "p50": duration_text(row["p50"]),
                    "p90": duration_text(row["p90"]),
                    "share": share_text(row["share"]),
                    "open": str(row["open"]),
                    "overdue": str(row["overdue"]),
                }
                for row in tickets["rows"]
            ],
            "用时：本期内解决的工单，从受理到解决；未结与逾期为当前数 · Times: tickets resolved in"
            " the period, received to resolved; open and overdue are counts right now.",
        ),
    ]


def _satisfaction_tables(satisfaction: dict) -> list[Table]:
    """Ratings: distribution, weeks, reasons and the low ones (all, or the newest of them
    when the page computed only those)."""
    low = satisfaction["low"]
    return [
        Table(
            "ratings",
            "评分分布 · Ratings",
            (("rating", "评分 Rating"), ("count", "数量 Count"), ("share", "占比 Share")),
            [
                {
                    "rating": f"{stars} ★",
                    "count": str(satisfaction["distribution"][stars]),
                    "share": share_text(
                        satisfaction["distribution"][stars] / satisfaction["count"]
                        if satisfaction["count"]
                        else None
                    ),
                }
                for stars in range(5, 0, -1)
            ]
            + [
                {
                    "rating": "合计 · All",
                    "count": str(satisfaction["count"]),
                    "share": share_text(1.0 if satisfaction["count"] else None),
                }
            ],
        ),
        Table(
            "ratings_weekly",
            "每周评分 · Ratings by week",
            (
                ("week", "周（周一起）Week of"),
                ("count", "评分数 Ratings"),
                ("average", "平均 Average"),
                ("low", f"低分 ≤{LOW_RATING} Low"),
            ),
            [
                {
                    "week": week["week_start"].isoformat(),
                    "count": str(week["count"]),
                    "average": average_text(week["average"]),
                    "low": str(week["low"]),
                }
                for week in satisfaction["weeks"]
            ],
        ),
        Table(
            "low_reasons",
            "低分原因 · Why ratings were low",
            (("reason", "原因 Reason"), ("count", "次数 Count")),
            [
                {"reason": _reason(row["key"]), "count": str(row["count"])}
                for row in satisfaction["reasons"]
            ],
        ),
        Table(
            "low_ratings",
            f"低分评价（≤{LOW_RATING}）· Low ratings",
            (
                ("number", "工单号 Ticket"),
                ("rated", "评分时间 Rated"),
                ("rating", "评分 Rating"),
                ("kind", "类型 Kind"),
                ("category", "类别 Category"),
                ("reasons", "原因 Reasons"),
                ("comment", "留言 Comment"),
            ),
            [
                {
                    "number": row["number"],
                    "rated": row["rated_local"],
                    "rating": str(row["rating"]),
                    "kind": KIND_LABELS.get(row["kind"], row["kind"]),
                    "category": category_text(row["category"], row["problem"]),
                    "reasons": "；".join(_reason(key) for key in row["reasons"]) or DASH,
                    "comment": row["comment"],
                }
                for row in low
            ],
            left_out=satisfaction["low_count"] - len(low),
        ),
    ]


def _volumes_tables(volumes: dict) -> list[Table]:
    """Volumes by day, week and hour of day; parcels."""
    return [
        Table(
            "volumes_daily",
            "每日工作量 · Volumes by day",
            (("day", "日期 Date"), *_VOLUME_COLUMNS),
            [
                {"day": row["day"], **{key: str(row[key]) for key, _label in _VOLUME_COLUMNS}}
                for row in volumes["days"]
            ]
            + [
                {
                    "day": "合计 · Total",
                    **{key: str(volumes["totals"][key]) for key, _label in _VOLUME_COLUMNS},
                }
            ],
        ),
        Table(
            "volumes_weekly",
            "每周工作量 · Volumes by week",
            (("week", "周（周一起）Week of"), *_VOLUME_COLUMNS),
            [
                {
                    "week": row["week_start"].isoformat(),
                    **{key: str(row[key]) for key, _label in _VOLUME_COLUMNS},
                }
                for row in volumes["weeks"]
            ]
            + [
                {
                    "week": "合计 · Total",
                    **{key: str(volumes["totals"][key]) for key, _label in _VOLUME_COLUMNS},
                }
            ],
            "每周从周一起，首尾两周只计本期内的日子 · Weeks start on Monday; the first and last"
            " count only the days in the range.",
        ),
        Table(
            "volumes_hourly",
            "各时段工作量 · Volumes by hour of day",
            (("hour", "时段 Hour"), *_VOLUME_COLUMNS),
            [
                {
                    "hour": f"{row['hour']:02d}:00",
                    **{key: str(row[key]) for key, _label in _VOLUME_COLUMNS},
                }
                for row in volumes["hours"]
            ],
        ),
        Table(
            "parcels",
            "快递 · Parcels",
            (("measure", "指标 Measure"), ("value", "数值 Value")),
            [
                {"measure": "本期入库 · Received", "value": str(volumes["totals"]["parcels_in"])},
                {"measure": "本期取件 · Collected", "value": str(volumes["totals"]["parcels_out"])},
                {
                    "measure": "存放时长 p50 · Time on the shelf p50",
                    "value": duration_text(volumes["parcel_dwell"]["p50"]),
                },
                {
                    "measure": "存放时长 p90 · Time on the shelf p90",
                    "value": duration_text(volumes["parcel_dwell"]["p90"]),
                },
                {"measure": "当前待取 · Waiting now", "value": str(volumes["parcels_waiting"])},
                {
                    "measure": "当前逾期待取 · Overdue now (code expired)",
                    "value": str(volumes["parcels_overdue"]),
                },
            ],
            "存放时长：本期取走的快递，从入库到取件 · Time on the shelf: parcels collected in the"
            " period, received to collected.",
        ),
    ]


def category_text(category: str, problem: str | None) -> str:
    """'电 · Electrical / 灯不亮 · Light out'."""
    if not problem:
        return bilingual(category)
    return f"{bilingual(category)} / {bilingual(f'{category}.{problem}')}"


def _reason(key: str) -> str:
    zh, en = reason_label(key, "zh_CN"), reason_label(key, "en")
    return zh if zh == en else f"{zh} · {en}"


def _response_tile(response: dict) -> dict:
    """The share within the standard of ALL requests, with its "n of N" and the ones never
    answered beside it (a share of answered requests alone flattered the desk)."""
    total, standard = response["total"], response["standard_seconds"]
    within, requests, never = total.get("within", 0), total["requests"], total["unanswered"]
    return {
        "label": f"{standard} 秒内响应 · Answered within {standard} s",
        "value": share_text(total["share"]),
        "detail": f"{within} / {requests} 个请求，{never} 个未响应 · {within} of {requests}"
        f" requests, {never} never answered; p50 {seconds_text(total['p50'])} s",
        "state": _state(total["share"], 0.9, 0.7),
    }


def headline(kpis: dict) -> list[dict]:
    """The figures at the top of the page (and of the PDF)."""
    response, satisfaction = kpis["response"], kpis["satisfaction"]
    totals = {row["kind"]: row for row in kpis["tickets"]["rows"] if row["urgency"] is None}
    overdue_tickets = sum(row["overdue"] for row in totals.values())
    return [
        _response_tile(response),
        {
            "label": "未响应 · Never answered",
            "value": str(response["total"]["unanswered"]),
            "detail": f"共 {response['total']['requests']} 个请求 · of {response['total']['requests']} requests",
            "state": "bad" if response["total"]["unanswered"] else "ok",
        },
        {
            "label": "平均评分 · Average rating",
            "value": average_text(satisfaction["average"]),
            "detail": f"{satisfaction['count']} 个评分 · ratings, {satisfaction['low_count']} ≤ {LOW_RATING}",
            "state": _state(satisfaction["average"], 4.5, 4.0, scale=1),
        },
        {
            "label": "投诉解决 p50 · Complaints resolved p50",
            "value": duration_text(totals["complaint"]["p50"]),
            "detail": f"{share_text(totals['complaint']['share'])} 按时 · within SLA",
            "state": _state(totals["complaint"]["share"], 0.9, 0.7),
        },
        {
            "label": "工单逾期 · Tickets overdue now",
            "value": str(overdue_tickets),
            "detail": f"未结 · open {sum(row['open'] for row in totals.values())}",
            "state": "bad" if overdue_tickets else "ok",
        },
        {
            "label": "快递逾期 · Parcels overdue now",
            "value": str(kpis["volumes"]["parcels_overdue"]),
            "detail": f"{terms.term('parcel_status', 'waiting')} {kpis['volumes']['parcels_waiting']}",
            "state": "warn" if kpis["volumes"]["parcels_overdue"] else "ok",
        },
    ]


def _state(value: float | None, good: float, fair: float, scale: float = 1) -> str:
    if value is None:
        return "none"
    return "ok" if value >= good * scale else "warn" if value >= fair * scale else "bad"


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
