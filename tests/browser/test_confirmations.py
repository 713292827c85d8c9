"""Irreversible actions ask first, in both languages, and work without JavaScript:
ending a shift with things still open, removing someone from the deny list,
disabling a colleague's account (the shared confirmation page, console/confirm.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.actions import sign_in
from tests.helpers import add_staff


def test_ending_a_shift_lists_what_is_open_and_needs_the_tick(
    page, console, kiosk, reception_staff
):
    kiosk.call_reception()  # a help call nobody has answered
    sign_in(page, console.url, reception_staff)
    page.goto(console.url + "/handover/")
    open_items = page.locator("tr.open-item")
    expect(open_items).to_have_count(1)
    expect(open_items.first).to_contain_text("呼叫前台 · Call reception")
    page.get_by_role("button", name="交班 · End shift").click()
    expect(page.locator("#end-shift-error")).to_contain_text("Tick the confirmation first")
    expect(page.locator("tr.open-item")).to_have_count(1)

    page.get_by_label("Hand over with these 1 open").check()
    page.get_by_role("button", name="交班 · End shift").click()
    expect(page).to_have_url(re.compile(r"/handover/\d+$"))
    expect(
        page.get_by_role("heading", name=re.compile("Still waiting or open at handover"))
    ).to_be_visible()
    expect(page.locator("tr.open-item")).to_contain_text("呼叫前台 · Call reception")


def test_removing_from_the_deny_list_asks_first(page, console, reception_staff):
    sign_in(page, console.url, reception_staff)
    page.goto(console.url + "/visitors/deny-list")
    page.get_by_label("姓名 · Name").fill("赵六")
    page.get_by_label("原因 · Reason").fill("多次闹事")
    page.get_by_role("button", name="加入 · Add").click()
    page.get_by_role("link", name="移除… · Remove…").click()
    expect(page.locator("h1")).to_contain_text("Remove from the deny list?")
    expect(page.locator(".deny-remove")).to_contain_text("赵六")
    page.get_by_role("button", name="移除 · Remove").click()
    expect(page.get_by_role("alert")).to_have_text("请先勾选确认 · Tick the confirmation first.")
    page.get_by_label("I confirm: remove this person from the deny list").check()
    page.get_by_role("button", name="移除 · Remove").click()
    expect(page.locator(".flash.ok")).to_have_text("已从黑名单移除 · Removed from the deny list.")
    expect(page.locator("table.deny-list")).to_contain_text("黑名单为空 · The deny list is empty.")


def test_disabling_an_account_names_it_and_needs_the_tick(page, console, reception_staff):
    add_staff(console.app, username="zhaoadmin", role="admin", display_name="赵管理")
    sign_in(page, console.url, "zhaoadmin")
    page.goto(console.url + "/admin/staff")
    row = page.locator("tr", has_text="wangfang")
    row.get_by_role("link", name="停用… · Disable…").click()
    expect(page.locator("h1")).to_contain_text("Disable this account?")
    expect(page.locator(".confirm-page")).to_contain_text("王芳 (wangfang)")
    page.get_by_role("button", name="停用 · Disable").click()
    box = page.get_by_label("I confirm: disable 王芳 (wangfang)")
    expect(box).to_have_attribute("aria-describedby", "confirm-error")
    expect(page.locator("#confirm-error")).to_contain_text("nothing was changed")
    box.check()
    page.get_by_role("button", name="停用 · Disable").click()
    expect(page.locator(".flash.ok")).to_contain_text("Disabled; signed out everywhere.")
    expect(page.locator("tr", has_text="wangfang")).to_contain_text("已停用 · Disabled")
