"""The manager's dashboard in Chromium: the charts are drawn, styled from the console's own
stylesheet (the CSP refuses inline styles and scripts), and nothing is refused."""

from __future__ import annotations

from playwright.sync_api import expect

from bench.dashboard import NOW, seed
from shared.clock import FrozenClock, parse_utc
from tests.browser.actions import SCREENSHOTS, sign_in
from tests.helpers import add_staff, building_db, paired_kiosk

RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
CHARTS = (
    "response_by_day",
    "response_by_hour",
    "ticket_sla",
    "rating_distribution",
    "rating_trend",
    "volumes_by_day",
    "volumes_by_hour",
)


def test_the_manager_sees_every_chart_drawn_and_styled(page, start_console):
    console = start_console(FrozenClock(NOW))
    add_staff(console.app, username="zhou", role="manager", display_name="周经理")
    add_staff(console.app, username="wangfang", role="reception", display_name="王芳")
    paired_kiosk(console.app)
    db = building_db(console.app)
    seed(db, parse_utc(NOW), days=45, scale=0.5)  # six weeks of a busy lobby, at half volume
    db.close()

    page.add_init_script(RECORD_CSP_VIOLATIONS)
    sign_in(page, console.url, "zhou")
    page.get_by_role("link", name="统计 · Dashboard").click()
    expect(page).to_have_url(f"{console.url}/dashboard")
    expect(page.locator("h1")).to_contain_text("服务统计")

    for name in CHARTS:
        chart = page.locator(f'figure[data-chart="{name}"] svg.kpi-chart')
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 120, (name, box)
        # Data was drawn: a line, bars or printed values, not pygal's "no data" text.
        assert chart.locator("path.line, rect.rect, text.value").count() > 0, name
        assert chart.locator("text.no_data").count() == 0, name

    # Styled by /dashboard/charts.css: the first series is blue, the plot white, and the
    # axis labels use the page's Chinese-capable font.
    first_line = page.locator('figure[data-chart="response_by_day"] .serie-0 path.line').first
    assert first_line.evaluate("e => getComputedStyle(e).stroke") == "rgb(11, 107, 203)"
    assert first_line.evaluate("e => getComputedStyle(e).fill") == "none"
    background = page.locator('figure[data-chart="ticket_sla"] svg .background').first
    assert background.evaluate("e => getComputedStyle(e).fill") == "rgb(255, 255, 255)"
    title = page.locator('figure[data-chart="rating_distribution"] text.title').first
    assert "Microsoft YaHei" in title.evaluate("e => getComputedStyle(e).fontFamily")

    # The headline tiles and tables are there, each table with its CSV link.
    expect(page.locator(".tile")).to_have_count(6)
    assert page.locator("table[data-table]").count() == page.locator("a.csv").count() == 12
    assert page.evaluate("window.__cspViolations") == []

    page.screenshot(path=str(SCREENSHOTS / "console_dashboard.png"), full_page=True)


def test_a_whole_year_is_drawn_week_by_week(page, start_console):
    console = start_console(FrozenClock(NOW))
    add_staff(console.app, username="zhou", role="manager", display_name="周经理")
    add_staff(console.app, username="wangfang", role="reception", display_name="王芳")
    paired_kiosk(console.app)
    db = building_db(console.app)
    seed(db, parse_utc(NOW), days=240, scale=0.25)  # eight months of a quieter lobby
    db.close()

    page.add_init_script(RECORD_CSP_VIOLATIONS)
    sign_in(page, console.url, "zhou")
    page.goto(f"{console.url}/dashboard?from=2025-11-28&to=2026-11-27")
    expect(page.locator("#period")).to_contain_text("2025-11-28 – 2026-11-27（365 天 · days）")
    for name in CHARTS:
        chart = page.locator(f'figure[data-chart="{name}"] svg.kpi-chart')
        expect(chart).to_be_visible()
        assert chart.locator("path.line, rect.rect, text.value").count() > 0, name
    expect(page.locator('figure[data-chart="response_by_day"] text.title')).to_have_text(
        "每周响应时间（秒）· Response time by week (s)"
    )
    expect(page.locator('figure[data-chart="volumes_by_day"] text.title')).to_have_text(
        "每周工作量 · Weekly volumes"
    )
    # Weeks on the page, every day in the daily CSVs linked beside them.
    assert page.locator('table[data-table="response_daily"]').count() == 0
    expect(page.locator('table[data-table="response_weekly"] tbody tr')).to_have_count(53)
    expect(page.locator('table[data-table="volumes_weekly"] tbody tr')).to_have_count(54)
    daily = page.locator("a.csv.daily")
    expect(daily).to_have_count(2)
    expect(daily.first).to_have_text("逐日 CSV · Daily CSV")
    # Hundreds of low ratings: the newest 100 on the page, all of them in the CSV.
    expect(page.locator('table[data-table="low_ratings"] tbody tr')).to_have_count(100)
    expect(page.locator("#table-low_ratings p.more")).to_contain_text("the CSV has them all")
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=str(SCREENSHOTS / "console_dashboard_year.png"), full_page=True)
