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
