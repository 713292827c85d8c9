"""Reflow (WCAG 1.4.10): at 200 % zoom on the desk's 1366×768 screen (a 683×384 CSS-pixel
viewport) and on a 320 px wide phone, the busiest pages read without sideways scrolling,
every action button can be reached, and the top bar leaves room for the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import KioskHttp, sign_in
from tests.browser.conftest import PAGE_TIMEOUT_MS
from tests.browser.desk_day import ADMIN, seed_desk_day

VIEWPORTS = {"200% zoom on 1366x768": (683, 384), "320 px phone": (320, 640)}


def pages(found: dict) -> list[str]:
    return [
        "/", "/tickets/", f"/tickets/{found['ticket']}", "/handover/", f"/handover/{found['handover']}",
        "/handover/log", "/admin/audit", "/parcels/", "/parcels/list", "/parcels/desk",
        "/dashboard", "/visitors/", "/residents/", f"/residents/units/{found['unit']}",
        "/admin/staff", "/admin/kiosks/",
    ]  # fmt: skip


def _context_page(browser, size, **options) -> Page:
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **options,
    )
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    return page


def _overflow(page: Page) -> str | None:
    """None when nothing sticks out sideways, else the widest culprits, named."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            if (document.documentElement.scrollWidth <= width) return null;
            const wide = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1
                             && !e.closest('[tabindex="0"]'))
                .slice(-4)
                .map(e => `<${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
                          + `${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''}>`
                          + ` right=${Math.round(e.getBoundingClientRect().right)}`);
            return `scrollWidth ${document.documentElement.scrollWidth} > ${width}: ` + wide.join(', ');
        }"""
    )


@pytest.mark.parametrize("size", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_busy_pages_reflow_without_sideways_scrolling(browser, console, size):
    found = seed_desk_day(console, KioskHttp)
    page = _context_page(browser, size)
    try:
        sign_in(page, console.url, ADMIN)
        # The live queue has its working rows, each with its buttons in reach.
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(page.locator("tr.item").nth(2)).to_be_visible()  # three rows at least
        # Read in one go: the live queue may swap its rows in between two look-ups.
        buttons = page.locator("tr.item button").evaluate_all(
            "all => all.map(b => [b.innerText, b.getBoundingClientRect().left,"
            " b.getBoundingClientRect().right])"
        )
        assert len(buttons) >= 3
        cut = [b for b in buttons if b[1] < 0 or b[2] > size[0] + 1]
        assert not cut, f"buttons cut off at {size[0]} px: {cut}"
        # Each stacked cell keeps its column's name, even on rows the queue swapped in.
        actions = page.locator("tr.item td.actions").first
        expect(actions).to_have_attribute("data-label", "操作 · Action")
        label = actions.evaluate("td => getComputedStyle(td, '::before').content")
        assert "操作 · Action" in label, label
        problems = []
        for path in pages(found):
            page.goto(console.url + path)
            page.wait_for_load_state("load")
            wide = _overflow(page)
            if wide:
                problems.append(f"{path}: {wide}")
        assert not problems, f"sideways scrolling at {size[0]}×{size[1]}:\n" + "\n".join(problems)
    finally:
        page.context.close()


def test_at_200_percent_zoom_the_nav_folds_into_a_menu_that_works_without_js(browser, console):
    seed_desk_day(console, KioskHttp)
    page = _context_page(browser, (683, 384), java_script_enabled=False)
    try:
        # Signing in is a plain form post; no script is needed.
        page.goto(console.url + "/login")
        page.get_by_label("用户名 · Username").fill(ADMIN)
        page.get_by_label("密码 · Password").fill("correct horse battery")
        page.get_by_role("button", name="登录 · Sign in").click()
        expect(page).to_have_url(console.url + "/")
        bar = page.locator("header.topbar").bounding_box()
        assert bar["height"] <= 384 / 3, f"the top bar takes {bar['height']} of 384 px"
        repairs = page.get_by_role("link", name="报修投诉 · Repairs")
        expect(repairs).to_be_hidden()
        page.get_by_text("菜单 · Menu").click()
        expect(repairs).to_be_visible()
        repairs.click()
        expect(page).to_have_url(console.url + "/tickets/")
    finally:
        page.context.close()


def test_on_the_desk_screen_the_nav_shows_without_a_menu(page, console):
    seed_desk_day(console, KioskHttp)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, console.url, ADMIN)
    expect(page.get_by_text("菜单 · Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="管理 · Admin")).to_be_visible()
