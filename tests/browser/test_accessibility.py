"""axe-core over every staff page (and the resident's rating pages) with a working day's
data on them: no violation of impact serious or critical (WCAG 2.x A/AA), and the
keyboard basics axe cannot judge: the skip link comes first and the focus ring shows."""

from __future__ import annotations

import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.browser.accessibility import blocking_violations, describe
from tests.browser.actions import KioskHttp, sign_in
from tests.browser.conftest import PAGE_TIMEOUT_MS
from tests.browser.desk_day import ADMIN, RECEPTION, seed_desk_day


@pytest.fixture
def a11y_page(browser, start_console) -> Page:
    # axe is injected as a <script>, which the console's CSP (rightly) refuses.
    context = browser.new_context(
        viewport={"width": 1366, "height": 768},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


def staff_pages(found: dict) -> list[str]:
    """The pages behind the nav and the main detail pages, as an admin reaches them."""
    unit, ticket, shift = found["unit"], found["ticket"], found["handover"]
    return [
        "/", "/visitors/", "/visitors/on-site", "/visitors/deny-list",
        "/residents/", "/residents/?q=101", "/residents/units", f"/residents/units/{unit}",
        f"/residents/units/{unit}/edit", f"/residents/units/{unit}/move-in",
        f"/residents/units/{unit}/residents/new", "/residents/units/new", "/residents/1/edit",
        "/residents/messages", "/residents/import",
        "/parcels/", "/parcels/list", "/parcels/desk",
        "/handover/", f"/handover/{shift}", "/handover/log",
        "/announcements/", "/announcements/new", "/announcements/1/edit",
        "/emergency/", "/emergency/roll-call",
        "/tickets/", f"/tickets/{ticket}", "/tickets/new", "/tickets/settings",
        "/dashboard",
        "/admin/kiosks/", "/admin/kiosks/quarantine",
        "/admin/", "/admin/staff", "/admin/audit", "/admin/settings", "/admin/person",
        "/admin/backups", "/admin/staff/1/active", "/admin/staff/1/password",
        "/announcements/1/withdraw",  # the shared confirmation page (console/confirm.py)
        "/account/password",
        "/tickets/999999",  # the error page
    ]  # fmt: skip


class Audit:
    """Runs axe on page after page and keeps every blocking finding for one readable report."""

    def __init__(self, page: Page, base_url: str):
        self.page, self.base_url, self.findings, self.seen = page, base_url, [], []

    def check(self, label: str) -> None:
        self.page.wait_for_load_state("load")
        self.seen.append(label)
        violations = blocking_violations(self.page)
        if violations:
            self.findings.append(describe(label, violations))

    def visit(self, path: str, label: str = "") -> None:
        self.page.goto(self.base_url + path)
        self.check(label or path)

    def assert_clean(self) -> None:
        if self.findings:
            pytest.fail(
                f"axe-core found serious or critical problems on {len(self.findings)} of "
                f"{len(self.seen)} pages:\n\n" + "\n\n".join(self.findings),
                pytrace=False,
            )


def _nav_paths(page: Page, base_url: str) -> list[str]:
    hrefs = page.locator("header nav a").evaluate_all("links => links.map(a => a.href)")
    return [href.removeprefix(base_url) for href in hrefs]


def _roster_preview(audit: Audit, tmp_path) -> None:
    """Upload a roster with one good and one bad row: the preview lists its problems."""
    book = Workbook()
    book.active.append(["房号 Unit", "姓名 Name", "身份 Role", "手机 Phone", "邮箱 Email"])
    book.active.append(["101", "王小明", "家庭成员", "13800138011", ""])
    book.active.append(["909", "赵六", "业主", "13700137004", ""])  # no such unit
    book.save(tmp_path / "roster.xlsx")
    audit.page.goto(audit.base_url + "/residents/import")
    audit.page.get_by_label("文件 · File").set_input_files(str(tmp_path / "roster.xlsx"))
    audit.page.get_by_role("button", name="上传并预览 · Upload and preview").click()
    expect(audit.page).to_have_url(re.compile(r"/residents/import/\d+$"))
    audit.check("/residents/import/<id> (preview)")


def _pairing(audit: Audit) -> None:
    audit.page.goto(audit.base_url + "/admin/kiosks/")
    audit.page.get_by_label("新终端名称 · New kiosk name").fill("大堂 B · Lobby B")
    audit.page.get_by_role("button", name="添加并配对 · Add and pair").click()
    expect(audit.page.locator(".pairing-code")).to_be_visible()
    audit.check("/admin/kiosks/ → pairing code")


def _rating(audit: Audit, token: str) -> None:
    audit.visit(f"/rate/{token}", "/rate/<token> (form)")
    audit.page.get_by_role("button", name=re.compile(r"^2 · ")).click()
    expect(audit.page.get_by_role("button", name="提交评价 · Send my rating")).to_be_visible()
    audit.check("/rate/<token> (reasons)")
    audit.page.get_by_role("button", name="提交评价 · Send my rating").click()
    audit.check("/rate/<token> (thanks)")
    audit.visit("/rate/not-a-real-token", "/rate/<bad token> (refused)")


def _emergency(audit: Audit) -> None:
    """An emergency on: the red banner on every page; on the live queue it shows once (the
    banner), the queue's own broadcast line stays in the page, hidden under it."""
    audit.visit("/emergency/?kind=fire", "/emergency/ (starting one)")
    audit.page.get_by_role("button", name="向所有终端广播 · Broadcast to every kiosk").click()
    expect(audit.page.locator("#emergency-banner")).to_be_visible()
    audit.check("/emergency/ (on)")
    audit.visit("/", "/ (emergency on)")
    expect(audit.page.locator("#emergency-banner")).to_be_visible()
    expect(audit.page.locator("tr.emergency-row")).to_be_attached()
    audit.check("/ (emergency on)")
    audit.visit("/emergency/roll-call", "/emergency/roll-call (emergency on)")


def test_every_staff_page_has_no_serious_or_critical_axe_violation(a11y_page, console, tmp_path):
    found = seed_desk_day(console, KioskHttp)
    page, url = a11y_page, console.url
    audit = Audit(page, url)
    audit.visit("/login", "/login (signed out)")
    _rating(audit, found["rating_token"])

    sign_in(page, url, ADMIN)
    pages = staff_pages(found)
    missing = [p for p in _nav_paths(page, url) if p not in pages]
    for path in pages + missing:  # a nav entry added later is crawled too
        audit.visit(path)
    _roster_preview(audit, tmp_path)
    _pairing(audit)
    page.goto(url + "/admin/staff")
    page.get_by_role("button", name="退出 · Sign out").click()

    # The receptionist taking over sees the unread-handover banner on every page.
    sign_in(page, url, RECEPTION)
    audit.visit("/", "/ (reception, handover banner)")
    _emergency(audit)
    assert len(audit.seen) >= 45, audit.seen
    audit.assert_clean()


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two computed colours ("rgb(r, g, b)")."""

    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _ring(page: Page) -> dict:
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
            return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
                    shadow: s.boxShadow, text: document.activeElement.innerText}; }"""
    )


def test_the_skip_link_comes_first_and_the_focus_ring_shows_on_blue_buttons(page, console):
    seed_desk_day(console, KioskHttp)
    sign_in(page, console.url, RECEPTION)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容 · Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown once it has the focus
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # From the main content the next Tab stops are the page's own, not the 13 nav links.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('main')")

    # Tab on to the first blue (primary) button: its ring is >= 2 px and stands out
    # (>= 3:1) from the white gap around the button, which itself is not blue.
    for _ in range(60):
        if page.evaluate("() => document.activeElement.matches('button.primary')"):
            break
        page.keyboard.press("Tab")
    ring = _ring(page)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    gap = re.search(r"rgba?\([^)]*\)", ring["shadow"]).group(0)
    button = page.evaluate("() => getComputedStyle(document.activeElement).backgroundColor")
    assert _contrast(ring["color"], gap) >= 3, ring
    assert _contrast(ring["color"], button) >= 3, (ring, button)
    assert _contrast(ring["color"], "rgb(245, 247, 250)") >= 3, ring  # the page background
