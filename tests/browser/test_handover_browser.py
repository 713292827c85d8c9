"""The shift handover in Chromium: one receptionist writes notes and ends her shift, the
next one is stopped by the banner on every page until she has read it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.actions import SCREENSHOTS, sign_in
from tests.helpers import add_staff, building_db

BANNER = "交接班记录未阅读 · Handover not yet read"

# Installed before any page script runs: CSP violations (an inline style, say) land here.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def write_note(page, text: str, category: str, unit: str = "") -> None:
    page.get_by_label("内容 · Note").fill(text)
    page.get_by_label("类别 · Category").select_option(label=category)
    page.get_by_label("房号（可选）· Unit (optional)").fill(unit)
    page.get_by_role("button", name="记下 · Add note").click()
    expect(page.locator(".flash.ok")).to_have_text("已记下 · Note added.")


def test_a_shift_is_handed_over_and_the_next_receptionist_must_read_it(
    page, frozen_console, frozen_reception_staff
):
    url, clock = frozen_console.url, frozen_console.clock
    add_staff(frozen_console.app, username="liming", role="reception", display_name="李明")
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    SCREENSHOTS.mkdir(exist_ok=True)

    # Wang Fang (A) writes two notes during her shift and hands over.
    sign_in(page, url, frozen_reception_staff)
    expect(page.get_by_text(BANNER)).to_have_count(0)
    page.get_by_role("link", name="交接班 · Handover").click()
    write_note(page, "101 业主明早 9 点来取备用钥匙，钥匙在前台抽屉。", "待办 · To do", "101")
    # a bad try first: the typed text survives the refusal
    page.get_by_label("内容 · Note").fill(
        "快递柜 C 门关不上，已报物业维修部。\n维修师傅下午 3 点到。"
    )
    page.get_by_label("房号（可选）· Unit (optional)").fill("9999")
    page.get_by_role("button", name="记下 · Add note").click()
    expect(page.get_by_role("alert")).to_contain_text("There is no unit “9999”")
    expect(page.get_by_label("内容 · Note")).to_have_value(
        "快递柜 C 门关不上，已报物业维修部。\n维修师傅下午 3 点到。"
    )
    page.get_by_label("房号（可选）· Unit (optional)").fill("")
    page.get_by_label("类别 · Category").select_option(label="报修 · Repair")
    page.get_by_role("button", name="记下 · Add note").click()
    notes = page.locator("tr.note")
    expect(notes).to_have_count(2)
    expect(notes.nth(1)).to_contain_text("维修师傅下午 3 点到")
    page.screenshot(path=SCREENSHOTS / "console_handover_shift.png", full_page=True)
    expect(page.locator("table.handover-open-items")).to_contain_text("Nothing waiting or open.")
    page.get_by_label("I confirm: my shift ends").check()
    page.get_by_role("button", name="交班 · End shift").click()
    expect(page).to_have_url(re.compile(r"/handover/\d+$"))
    expect(page.locator(".handover-head")).to_contain_text("尚未有人阅读 · Not read yet")
    handover_url = page.url
    page.get_by_role("button", name="退出 · Sign out").click()

    # Li Ming (B) signs in: every page says the handover is waiting for her.
    clock.advance(minutes=10)
    sign_in(page, url, "liming")
    banner = page.locator(".handover-banner")
    expect(banner).to_contain_text(BANNER)
    expect(banner).to_contain_text("王芳")
    page.get_by_role("link", name="快递 · Parcels").click()
    expect(banner).to_contain_text(BANNER)
    banner.get_by_role("link", name="查看并确认 · Read it").click()
    expect(page).to_have_url(handover_url)
    expect(page.locator("tr.note")).to_have_count(2)
    expect(page.locator("tr.note").first).to_contain_text("101 业主明早 9 点来取备用钥匙")
    read = page.get_by_role("button", name="已阅 · Read")
    expect(read).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "console_handover.png", full_page=True)

    read.click()
    expect(page.locator(".flash.ok")).to_have_text("已阅 · Marked as read.")
    expect(page.locator(".handover-banner")).to_have_count(0)
    expect(page.get_by_role("button", name="已阅 · Read")).to_have_count(0)
    page.get_by_role("link", name="实时队列 · Live queue").click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator(".handover-banner")).to_have_count(0)
    page.get_by_role("button", name="退出 · Sign out").click()

    # Wang Fang sees who read her handover, and when.
    sign_in(page, url, frozen_reception_staff)
    expect(page.locator(".handover-banner")).to_have_count(0)
    page.goto(handover_url)
    expect(page.locator(".handover-head .reader")).to_have_text(
        re.compile(r"^李明 · \d\d-\d\d \d\d:\d\d$")
    )
    page.screenshot(path=SCREENSHOTS / "console_handover_author.png", full_page=True)

    page.get_by_role("button", name="退出 · Sign out").click()

    # The manager's log: who handed over, who acknowledged, and the notes.
    add_staff(frozen_console.app, username="zhao", role="manager", display_name="赵经理")
    sign_in(page, url, "zhao")
    page.get_by_role("link", name="交接班 · Handover").click()
    page.get_by_role("link", name="全部交接记录 · Full handover log").click()
    entry = page.locator("article.log-entry")
    expect(entry).to_have_count(1)
    expect(entry.locator(".reader")).to_contain_text("李明")
    page.get_by_label("事项状态 · Notes").select_option(label="已完成 · Done")
    page.get_by_role("button", name="查询 · Search").click()
    expect(page.locator("article.log-entry")).to_have_count(0)
    page.get_by_label("事项状态 · Notes").select_option(label="未完成 · Open")
    page.get_by_role("button", name="查询 · Search").click()
    expect(page.locator("article.log-entry tr.note")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "console_handover_log.png", full_page=True)

    reads = list(building_db(frozen_console.app).query("SELECT * FROM handover_reads"))
    assert len(reads) == 1 and reads[0]["read_at"] > "2026"
    assert page.evaluate("window.__cspViolations") == []
