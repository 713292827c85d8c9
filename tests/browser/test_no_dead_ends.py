"""No dead ends in Chromium: a refused form comes back with what was typed and every
error beside its field, Back works after it, error pages offer links that work."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.actions import sign_in
from tests.helpers import add_staff


def test_staff_form_error_fix_success_then_back_works(page, console):
    add_staff(console.app, username="root", role="admin", display_name="管理员")
    sign_in(page, console.url, "root")
    page.goto(console.url + "/admin/staff")
    form = page.locator("form.new-account")
    form.get_by_label("用户名 · Username").fill("li ming")
    form.get_by_label("姓名 · Display name").fill("李明")
    form.get_by_label("初始密码 · First password").fill("password123")
    form.get_by_role("button", name="创建 · Create").click()

    # Both errors at once, each beside its field; the username and the name are kept.
    expect(page.get_by_role("alert")).to_contain_text("correct the 2 fields marked below")
    username = form.get_by_label("用户名 · Username")
    expect(username).to_have_value("li ming")
    expect(username).to_be_focused()
    expect(username).to_have_attribute("aria-describedby", "new-username-error")
    expect(page.locator("#new-username-error")).to_have_text(
        "用户名不能有空格 · A username cannot contain spaces."
    )
    expect(form.get_by_label("姓名 · Display name")).to_have_value("李明")
    expect(page.locator("#new-password-error")).to_contain_text("one of the most common")
    expect(form.get_by_label("初始密码 · First password")).to_have_attribute("aria-invalid", "true")

    username.fill("liming")
    form.get_by_label("初始密码 · First password").fill("correct horse battery")
    form.get_by_role("button", name="创建 · Create").click()
    expect(page.locator(".flash.ok")).to_have_text("账号已创建 · Account created.")
    expect(page.locator("tr[data-staff-id]")).to_have_count(2)

    page.go_back()  # once ERR_CACHE_MISS: the refused form's entry was a POST
    expect(page).to_have_url(console.url + "/admin/staff")
    expect(page.locator("form.new-account")).to_be_visible()
    expect(page.locator("tr[data-staff-id]")).to_have_count(2)


def test_a_person_delete_without_the_tick_shows_the_records_again(page, console):
    add_staff(console.app, username="mona", role="manager", display_name="Mona")
    sign_in(page, console.url, "mona")
    page.goto(console.url + "/admin/person")
    page.get_by_label("姓名 · Name").fill("欧阳娜娜")
    page.get_by_role("button", name="查找 · Find").click()
    expect(page).to_have_url(console.url + "/admin/person")  # redirected: Back works
    expect(page.get_by_text("找到 · Found")).to_be_visible()
    page.get_by_role("button", name="删除 · Delete").click()

    error = page.locator("#confirm-delete-error")
    expect(error).to_have_text(re.compile("Tick “I confirm: delete the ticked records” first"))
    confirm = page.get_by_label("I confirm: delete the ticked records")
    expect(confirm).to_have_attribute("aria-describedby", "confirm-delete-error")
    expect(page.get_by_label("姓名 · Name")).to_have_value("欧阳娜娜")
    page.go_back()
    expect(page).to_have_url(console.url + "/admin/person")
    expect(page.get_by_text("找到 · Found")).to_be_visible()


def test_an_error_page_says_what_to_do_and_its_links_work(page, console, reception_staff):
    sign_in(page, console.url, reception_staff)
    page.goto(console.url + "/tickets/99999", referer=console.url + "/handover/")
    expect(page.locator("h1")).to_contain_text("找不到 · Not found")
    expect(page.locator(".error-next")).to_contain_text("find it again from one of the pages below")
    links = page.locator(".error-links a")
    expect(links).to_have_text(
        ["返回上一页 · Back to the previous page", "报修投诉 · Repairs", "实时队列 · Live queue"]
    )
    expect(links.first).to_have_attribute("href", "/handover/")
    links.nth(1).click()
    expect(page).to_have_url(console.url + "/tickets/")

    # A page from elsewhere, or the failing URL itself, is never offered.
    page.goto(console.url + "/tickets/99999", referer="https://evil.example/handover/")
    expect(page.get_by_role("link", name="返回上一页 · Back to the previous page")).to_have_count(0)


def test_after_a_wrong_password_the_password_has_the_focus(page, console, reception_staff):
    page.goto(console.url + "/login")
    page.get_by_label("用户名 · Username").fill(reception_staff)
    page.get_by_label("密码 · Password").fill("not the password")
    page.get_by_role("button", name="登录 · Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "用户名或密码不正确 · Wrong username or password."
    )
    expect(page.get_by_label("用户名 · Username")).to_have_value(reception_staff)
    expect(page.get_by_label("密码 · Password")).to_be_focused()
