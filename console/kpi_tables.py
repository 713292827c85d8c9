"""The dashboard's tables, built once as rows of display strings: the page shows them,
/dashboard/<table>.csv exports the very same rows and the monthly PDF prints them
(console/dashboard.py, console/report_pdf.py), so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.kpi_text import DASH, average_text, duration_text, seconds_text, share_text
from shared import terms
from shared.ticket_catalog import LOW_RATING, bilingual, reason_label

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
    return [
        _ratings_table(satisfaction),
        _ratings_weekly_table(satisfaction),
        _low_reasons_table(satisfaction),
        _low_ratings_table(satisfaction),
    ]


def _ratings_table(satisfaction: dict) -> Table:
    """How many of each rating, and their shares."""
    return Table(
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
    )


def _ratings_weekly_table(satisfaction: dict) -> Table:
    """Ratings by week: how many, their average, the low ones."""
    return Table(
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
    )


def _low_reasons_table(satisfaction: dict) -> Table:
    """Why ratings were low, by reason."""
    return Table(
        "low_reasons",
        "低分原因 · Why ratings were low",
        (("reason", "原因 Reason"), ("count", "次数 Count")),
        [
            {"reason": _reason(row["key"]), "count": str(row["count"])}
            for row in satisfaction["reasons"]
        ],
    )


def _low_ratings_table(satisfaction: dict) -> Table:
    """The low ratings themselves (on the page, the newest of them)."""
    low = satisfaction["low"]
    return Table(
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
    )


def _volumes_tables(volumes: dict) -> list[Table]:
    """Volumes by day, week and hour of day; parcels."""
    return [
        Table(
            "volumes_daily",
            "每日工作量 · Volumes by day",
            (("day", "日期 Date"), *_VOLUME_COLUMNS),
            [{"day": row["day"], **_volume_cells(row)} for row in volumes["days"]]
            + [{"day": "合计 · Total", **_volume_cells(volumes["totals"])}],
        ),
        Table(
            "volumes_weekly",
            "每周工作量 · Volumes by week",
            (("week", "周（周一起）Week of"), *_VOLUME_COLUMNS),
            [
                {"week": row["week_start"].isoformat(), **_volume_cells(row)}
                for row in volumes["weeks"]
            ]
            + [{"week": "合计 · Total", **_volume_cells(volumes["totals"])}],
            "每周从周一起，首尾两周只计本期内的日子 · Weeks start on Monday; the first and last"
            " count only the days in the range.",
        ),
        Table(
            "volumes_hourly",
            "各时段工作量 · Volumes by hour of day",
            (("hour", "时段 Hour"), *_VOLUME_COLUMNS),
            [{"hour": f"{row['hour']:02d}:00", **_volume_cells(row)} for row in volumes["hours"]],
        ),
        _parcels_table(volumes),
    ]


def _volume_cells(row: dict) -> dict:
    return {key: str(row[key]) for key, _label in _VOLUME_COLUMNS}


def _parcels_table(volumes: dict) -> Table:
    """Parcels in and out, their time on the shelf, the ones waiting now."""
    return Table(
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
    )


def category_text(category: str, problem: str | None) -> str:
    """'电 · Electrical / 灯不亮 · Light out'."""
    if not problem:
        return bilingual(category)
    return f"{bilingual(category)} / {bilingual(f'{category}.{problem}')}"


def _reason(key: str) -> str:
    zh, en = reason_label(key, "zh_CN"), reason_label(key, "en")
    return zh if zh == en else f"{zh} · {en}"
