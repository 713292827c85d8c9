"""The manager's KPI dashboard, its CSV exports and the monthly PDF, on the known November
of tests/test_kpi.py (every figure below follows from what happened that month)."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from console.exports import csv_safe
from shared.clock import FrozenClock
from shared.db import write_transaction
from tests.helpers import StaffBrowser, add_staff, building_db
from tests.test_kpi import NOVEMBER, START, build_november

TABLES = (
    "response",
    "response_hourly",
    "response_daily",
    "response_staff",
    "tickets",
    "ratings",
    "ratings_weekly",
    "low_reasons",
    "low_ratings",
    "volumes_daily",
    "volumes_hourly",
    "parcels",
)


@pytest.fixture
def clock():
    return FrozenClock(START)


class _Tables(HTMLParser):
    """Every <table data-table="…"> of a page as rows of cell texts (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = self.tables.setdefault(attrs["data-table"], [])
        elif self._table is not None and tag == "tr":
            self._row = []
            if "class" in attrs and attrs["class"] == "empty":
                self._row = None
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def rows_by_first_cell(table: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *rows = table
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


@pytest.fixture
def manager(app, clock):
    build_november(app, clock)
    add_staff(app, username="zhou", role="manager", display_name="周经理")
    browser = StaffBrowser(app.test_client())
    assert browser.login("zhou").status_code == 302
    return browser


@pytest.fixture
def november_page(manager):
    page = manager.client.get("/dashboard", query_string=NOVEMBER)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_manager_sees_response_times_against_the_60_second_standard(november_page):
    tables = tables_of(november_page)
    response = rows_by_first_cell(tables["response"])
    assert tables["response"][0] == [
        "来源 Source",
        "请求 Requests",
        "已响应 Answered",
        "未响应 Unanswered",
        "p50 秒 s",
        "p90 秒 s",
        "60 秒内 Within 60 s",
        "60 秒内占比 Share within 60 s",
    ]
    visitors = response["访客登记 · Visitors"]
    assert [visitors[k] for k in list(visitors)[1:]] == ["5", "4", "1", "60", "84", "2", "40%"]
    # Of all six requests: the visitor never answered counts against the standard.
    assert list(response["合计 · All"].values())[1:] == ["6", "5", "1", "50", "82", "3", "50%"]
    assert list(response["快递交付 · Parcel handovers"].values())[1:] == [
        "0",
        "0",
        "0",
        "—",
        "—",
        "0",
        "—",
    ]
    hourly = rows_by_first_cell(tables["response_hourly"])
    assert list(hourly["17:00"].values())[1:] == ["2", "2", "0", "40", "48", "2", "100%"]
    assert list(hourly["18:00"].values())[1:] == ["2", "2", "0", "80", "88", "0", "0%"]
    assert list(hourly["00:00"].values())[1:] == ["1", "1", "0", "40", "40", "1", "100%"]
    staff = rows_by_first_cell(tables["response_staff"])
    assert list(staff["王芳"].values())[1:] == ["3", "40", "64", "2", "66.7%"]
    assert list(staff["李娜"].values())[1:] == ["2", "70", "86", "1", "50%"]
    daily = rows_by_first_cell(tables["response_daily"])
    assert len(daily) == 30 and list(daily["2026-11-27"].values())[1:3] == ["5", "4"]


def test_resolution_satisfaction_and_volumes_as_the_manager_reads_them(november_page):
    tables = tables_of(november_page)
    tickets = {(row[0], row[1]): row for row in tables["tickets"][1:]}
    assert tickets[("报修 · Repair", "一般 · Normal")][2:] == [
        "3 d", "3", "2", "3 d", "3 d 19 h", "50%", "1", "0",
    ]  # fmt: skip
    assert tickets[("报修 · Repair", "危急 · Emergency")][2:8] == [
        "15 min",
        "1",
        "1",
        "20 min",
        "20 min",
        "0%",
    ]
    assert tickets[("投诉 · Complaint", "合计 · All")][2:] == [
        "—", "2", "2", "4 d 12 h", "7 d 7 h", "50%", "0", "0",
    ]  # fmt: skip
    ratings = rows_by_first_cell(tables["ratings"])
    assert ratings["5 ★"]["数量 Count"] == "2" and ratings["5 ★"]["占比 Share"] == "33.3%"
    assert ratings["合计 · All"]["数量 Count"] == "6"
    weekly = rows_by_first_cell(tables["ratings_weekly"])
    assert list(weekly["2026-11-02"].values())[1:] == ["5", "3.00", "3"]
    assert list(weekly["2026-11-16"].values())[1:] == ["0", "—", "0"]
    low = tables["low_ratings"]
    assert [row[0] for row in low[1:]] == ["2", "5", "4"]  # ticket numbers, newest first
    assert '<a href="/tickets/2">2</a>' in november_page  # each opens the ticket
    assert low[1][5] == "响应太慢 · Too slow；问题没解决 · Not fixed"
    assert low[1][6] == "=HYPERLINK(1)"
    assert low[1][4] == "电 · Electrical / 灯不亮 · Light out"
    reasons = rows_by_first_cell(tables["low_reasons"])
    assert reasons["服务态度不好 · Unfriendly service"]["次数 Count"] == "1"
    assert reasons["现场没清理 · Mess left behind"]["次数 Count"] == "0"
    daily = rows_by_first_cell(tables["volumes_daily"])
    assert list(daily["2026-11-27"].values())[1:] == ["5", "6", "0", "0", "0", "0", "0"]
    assert list(daily["2026-11-26"].values())[1:] == ["0", "0", "0", "2", "2", "0", "0"]
    assert list(daily["合计 · Total"].values())[1:] == ["5", "6", "1", "3", "2", "6", "2"]
    parcels = rows_by_first_cell(tables["parcels"])
    assert parcels["存放时长 p50 · Time on the shelf p50"]["数值 Value"] == "4 h"
    assert parcels["存放时长 p90 · Time on the shelf p90"]["数值 Value"] == "5 h 36 min"
    assert parcels["当前逾期待取 · Overdue now (code expired)"]["数值 Value"] == "1"


def test_the_headline_figures(november_page):
    tiles = re.findall(
        r'<div class="label">([^<]+)</div><div class="value">([^<]+)</div>', november_page
    )
    assert dict(tiles) == {
        "60 秒内响应 · Answered within 60 s": "50%",
        "未响应 · Never answered": "1",
        "平均评分 · Average rating": "3.33",
        "投诉解决 p50 · Complaints resolved p50": "4 d 12 h",
        "工单逾期 · Tickets overdue now": "1",
        "快递逾期 · Parcels overdue now": "1",
    }


@pytest.mark.parametrize("name", TABLES)
def test_every_table_has_a_csv_with_the_same_rows(manager, november_page, name):
    table = tables_of(november_page)[name]
    link = re.search(
        rf'href="(/dashboard/{name}\.csv\?[^"]+)"', november_page.replace("&amp;", "&")
    )
    assert link, f"no CSV link for {name}"
    assert "from=2026-11-01" in link.group(1) and "to=2026-11-30" in link.group(1)
    answer = manager.client.get(link.group(1))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [[csv_safe(cell) for cell in row] for row in table]
    assert len(rows) > 1


def _csv_rows(manager, url: str) -> list[list[str]]:
    answer = manager.client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True)[1:])))


def test_a_long_range_shows_weeks_and_the_daily_csv_keeps_every_day(manager):
    year = {"from": "2025-12-01", "to": "2026-11-30"}
    page = manager.client.get("/dashboard", query_string=year).get_data(as_text=True)
    tables = tables_of(page)
    assert "response_daily" not in tables and "volumes_daily" not in tables
    weekly = rows_by_first_cell(tables["response_weekly"])
    assert tables["response_weekly"][0][0] == "周（周一起）Week of"
    assert list(weekly)[0] == "2025-12-01" and list(weekly)[-1] == "2026-11-30"
    assert list(weekly["2026-11-23"].values())[1:] == ["6", "5", "1", "50", "82", "3", "50%"]
    volumes = rows_by_first_cell(tables["volumes_weekly"])
    assert list(volumes["2026-11-23"].values())[1:] == ["5", "6", "1", "2", "2", "1", "0"]
    assert list(volumes["合计 · Total"].values())[1:] == ["5", "6", "1", "3", "2", "6", "2"]
    assert "每周响应时间（秒）· Response time by week (s)" in page
    assert "每周工作量 · Weekly volumes" in page and "每日工作量" not in page
    flat = page.replace("&amp;", "&")
    for weekly_name, daily_name in (
        ("response_weekly", "response_daily"),
        ("volumes_weekly", "volumes_daily"),
    ):
        link = re.search(rf'href="(/dashboard/{weekly_name}\.csv\?[^"]+)"', flat).group(1)
        assert _csv_rows(manager, link) == [
            [csv_safe(cell) for cell in row] for row in tables[weekly_name]
        ]
        daily = re.search(
            rf'href="(/dashboard/{daily_name}\.csv\?[^"]+)">逐日 CSV · Daily CSV', flat
        ).group(1)
        rows = _csv_rows(manager, daily)
        days = [row[0] for row in rows[1:] if row[0][:2] == "20"]
        assert len(days) == 365 and days[0] == "2025-12-01" and days[-1] == "2026-11-30"
    assert "the daily CSV has every day" in page


def test_the_page_lists_the_newest_low_ratings_and_the_csv_all(app, manager):
    db = building_db(app)
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO tickets (kind, unit_id, category, problem, urgency, status, created_at,"
            " received_at, resolved_at, rating, rating_reasons, rated_at)"
            " VALUES ('repair', 1, 'water', 'dripping_tap', 'normal', 'closed', ?, ?, ?, 1,"
            " '[\"slow\"]', ?)",
            [
                (f"2026-11-1{n % 9}T0{n % 9}:00:00.000000+00:00",) * 3
                + (f"2026-11-19T{n // 60:02d}:{n % 60:02d}:00.000000+00:00",)
                for n in range(120)
            ],
        )
        db.execute(  # the satisfaction figures count the rating history
            "INSERT INTO ticket_ratings (ticket_id, resolution, rating, reasons, via, rated_at)"
            " SELECT id, 0, rating, rating_reasons, 'kiosk', rated_at FROM tickets"
            " WHERE rating IS NOT NULL AND id NOT IN (SELECT ticket_id FROM ticket_ratings)"
        )
    db.close()
    page = manager.client.get("/dashboard", query_string=NOVEMBER).get_data(as_text=True)
    shown = tables_of(page)["low_ratings"][1:]
    assert len(shown) == 100
    assert "The newest 100 of 123; the CSV has them all." in page
    rows = _csv_rows(manager, "/dashboard/low_ratings.csv?from=2026-11-01&to=2026-11-30")
    assert len(rows) == 1 + 123
    assert rows[1:101] == [[csv_safe(cell) for cell in row] for row in shown]  # newest first
    assert rows[1][1] == "2026-11-19 09:59"  # 01:59 UTC, the last of the 120


def test_a_formula_in_a_comment_is_text_in_the_csv(manager, november_page):
    answer = manager.client.get("/dashboard/low_ratings.csv", query_string=NOVEMBER)
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True)[1:])))
    assert rows[1][6] == "'=HYPERLINK(1)"


def test_the_default_range_is_the_last_30_days_in_building_time(manager):
    # The console's clock reads 00:31 on 28 November in Shanghai (16:31 UTC on the 27th).
    page = manager.client.get("/dashboard").get_data(as_text=True)
    assert "2026-10-30 – 2026-11-28" in page
    assert 'name="from" value="2026-10-30"' in page and 'name="to" value="2026-11-28"' in page
    daily = tables_of(page)["response_daily"]
    assert daily[1][0] == "2026-10-30" and daily[-1][0] == "2026-11-28"
    assert 'name="month" value="2026-10"' in page  # the last whole month for the report


def test_charts_are_inline_svg_that_the_csp_allows(manager, november_page):
    charts = re.findall(
        r'<figure class="chart" data-chart="(\w+)"><svg [^>]*class="pygal-chart kpi-chart"',
        november_page,
    )
    assert charts == [
        "response_by_day",
        "response_by_hour",
        "ticket_sla",
        "rating_distribution",
        "rating_trend",
        "volumes_by_day",
        "volumes_by_hour",
    ]
    # Nothing the Content-Security-Policy (scripts and styles from 'self' only) would refuse.
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", november_page)
    assert inline_scripts == [] and "<style" not in november_page
    assert " style=" not in november_page and "javascript:" not in november_page
    assert "每日响应时间（秒）· Response time by day (s)" in november_page
    assert "60 秒标准 · standard" in november_page
    css = manager.client.get("/dashboard/charts.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "svg.kpi-chart .color-0" in css.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/dashboard/charts.css">' in november_page


def test_the_monthly_pdf_has_the_kpi_headings_and_the_numbers(manager):
    answer = manager.client.get("/dashboard/report.pdf?month=2026-11")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.data))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for heading in (
        "客户满意度 · Customer satisfaction",
        "投诉处理时间 · Complaint resolution time",
        "服务响应速度 · Service response speed",
        "日常工作效率：工作量 · Efficiency of daily work: volumes",
    ):
        assert heading in flat
    assert flat.index("Customer satisfaction") < flat.index("Complaint resolution time")
    assert flat.index("Complaint resolution time") < flat.index("Service response speed")
    assert "2026-11-01 – 2026-11-30" in flat
    assert "6 ratings this month, average 3.33, 3 low" in flat
    assert "本月共收到 6 个评分" in flat
    assert "访客登记 · Visitors 5 4 1 60 84 2 40%" in flat
    assert "王芳 3 40 64 2 66.7%" in flat
    # The headline as on the page: the share of all requests, "n of N", never answered.
    assert "60 秒内响应 · Answered within 60 s 50%" in flat
    assert "3 of 6 requests, 1 never answered" in flat
    assert "4 d 12 h" in flat and "=HYPERLINK(1)" in flat
    # The ticket pages' urgency words (shared/terms.py), not a second set.
    assert "危急 · Emergency" in flat and "紧急 · Urgent" in flat and "加急" not in flat
    assert "存放时长 p50 · Time on the shelf p50 4 h" in flat


def test_the_report_prints_names_beyond_everyday_characters(app, manager):
    """The report's font is cut to everyday Chinese (GB 2312) for speed; a comment with
    rarer characters (镕, 堃: GBK only) is printed with the whole font."""
    db = building_db(app)
    with write_transaction(db):
        db.execute("UPDATE ticket_ratings SET comment = '王镕 与 李堃 来过' WHERE rating = 1")
    db.close()
    answer = manager.client.get("/dashboard/report.pdf?month=2026-11")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    assert "王镕 与 李堃 来过" in text
    plain = manager.client.get("/dashboard/report.pdf?month=2026-10")
    assert plain.status_code == 200 and plain.mimetype == "application/pdf"


def test_an_empty_month_still_makes_a_report(manager):
    answer = manager.client.get("/dashboard/report.pdf?month=2026-06")
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(answer.data)).pages
    )
    assert answer.status_code == 200
    assert "0 ratings this month, average —" in text and "Customer satisfaction" in text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/dashboard?from=2026-11-30&to=2026-11-01", "The start date is after the end date."),
        ("/dashboard?from=2026-02-30&to=2026-03-01", "YYYY-MM-DD"),
        ("/dashboard?from=2024-01-01&to=2026-11-01", "Choose at most 366 days."),
        ("/dashboard/response.csv?from=2026-13-01", "YYYY-MM-DD"),
        ("/dashboard/report.pdf?month=2026-13", "Give the month as YYYY-MM"),
    ],
)
def test_a_bad_range_or_month_gets_a_clear_error(manager, path, message):
    answer = manager.client.get(path)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in page


def test_a_bad_range_keeps_what_was_typed(manager):
    page = manager.client.get("/dashboard?from=2026-11-30&to=2026-11-01").get_data(as_text=True)
    assert 'value="2026-11-30"' in page and 'value="2026-11-01"' in page
    assert 'role="alert"' in page


def test_an_unknown_table_is_not_found(manager):
    assert manager.client.get("/dashboard/staff_passwords.csv").status_code == 404


def test_reception_may_not_open_the_dashboard_but_admins_may(app, client, reception):
    for path in (
        "/dashboard",
        "/dashboard/response.csv",
        "/dashboard/report.pdf",
        "/dashboard/charts.css",
    ):
        assert reception.client.get(path).status_code == 403
    assert b"/dashboard" not in reception.client.get("/").data  # no link in the nav either
    anonymous = app.test_client().get("/dashboard")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    add_staff(app, username="root", role="admin", display_name="管理员")
    admin = StaffBrowser(app.test_client())
    assert admin.login("root").status_code == 302
    home = admin.client.get("/").get_data(as_text=True)
    assert 'href="/dashboard">统计 · Dashboard</a>' in home
    assert admin.client.get("/dashboard").status_code == 200
