"""The resident's own page on a phone (390×844 CSS pixels) in Chromium, with no
JavaScript at all: the resident opens the link from their message, sees their parcel
(masked), authorises someone to collect it, switches to English, and the page passes
axe with nothing sticking out sideways; then invites a recurring visitor and revokes
the pass."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from shared import parcels, resident_links, residents
from tests.browser.accessibility import blocking_violations, describe
from tests.browser.conftest import PAGE_TIMEOUT_MS
from tests.helpers import add_resident, add_staff, building_db

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser, start_console) -> Page:
    # Scripts off: the page must work without them. axe needs scripts (and bypass_csp),
    # so it runs in a second phone-sized context (axe_page).
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", java_script_enabled=False,
        is_mobile=True, has_touch=True, device_scale_factor=3,
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture
def axe_page(browser, start_console) -> Page:
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


def _resident_link(console) -> str:
    app = console.app
    clock = app.extensions["lobbydesk.clock"]
    resident_id = add_resident(app, "101", "王建国", phone="13800138000", clock=clock)
    staff_id = add_staff(app, username="liming", display_name="李明")
    db = building_db(app)
    parcels.intake(
        db, clock, secret_key=app.config["SECRET_KEY"], staff_id=staff_id,
        tracking="SF1234567890123", unit="101", shelf="A1",
    )  # fmt: skip
    token = resident_links.issue(
        app.config["SECRET_KEY"], residents.get(db, resident_id), clock.now()
    )
    return f"{console.url}/me/{token}"


def _sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _axe_clean(page: Page, url: str, label: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    violations = blocking_violations(page)
    assert not violations, describe(label, violations)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, label


def test_a_resident_authorises_a_collector_and_invites_and_revokes_on_their_phone(
    console, phone_page, axe_page
):
    link = _resident_link(console)
    page = phone_page
    page.goto(link)
    expect(page.get_by_role("heading", name="您好，王建国")).to_be_visible()
    parcel = page.locator("li.parcel")
    expect(parcel).to_contain_text("…0123")
    expect(parcel).not_to_contain_text("SF1234567890123")
    assert _sideways_overflow(page) <= 0

    form = page.get_by_role("group", name="授权他人代领")
    form.get_by_label("为哪件快递").select_option(index=1)  # the one parcel waiting
    form.get_by_label("姓名").fill("李阿姨")
    form.get_by_label("手机（可不填）").fill("1390013")  # a mistake first
    form.get_by_role("button", name="授权代领").click()
    expect(page.locator("#err-phone")).to_contain_text("不是有效的手机号")
    expect(form.get_by_label("姓名")).to_have_value("李阿姨")  # nothing typed is lost
    form.get_by_label("手机（可不填）").fill("13900139000")
    form.get_by_role("button", name="授权代领").click()

    expect(page.get_by_role("status")).to_contain_text("已授权 李阿姨 代领")
    collector = page.locator("li.proxy")
    expect(collector).to_contain_text("李阿姨")
    expect(collector).to_contain_text("139****9000")
    expect(collector).to_contain_text("P0000")  # labelled with the parcel it was for
    assert _sideways_overflow(page) <= 0

    form = page.get_by_role("group", name="邀请访客")
    form.get_by_label("访客姓名（可不填）").fill("张阿姨")
    form.get_by_role("radio", name="定期").check()
    starts = date.fromisoformat(form.get_by_label("日期（开始）").input_value())
    form.get_by_label("结束日期（时间段或定期）").fill((starts + timedelta(days=60)).isoformat())
    form.get_by_label("周二").check()
    form.get_by_label("周四").check()
    form.get_by_role("button", name="创建邀请").click()
    expect(page.get_by_role("status")).to_contain_text("邀请已创建")
    invitation = page.locator("li.invitation")
    expect(invitation).to_contain_text("张阿姨")
    expect(invitation).to_contain_text("周二、周四")
    expect(invitation.get_by_role("link", name="保存通行证二维码")).to_be_visible()
    invitation.get_by_role("button", name="作废通行证").click()
    expect(page.get_by_role("status")).to_contain_text("通行证已作废")
    expect(page.locator("li.invitation")).to_contain_text("已作废")
    expect(page.locator("li.invitation").get_by_role("button")).to_have_count(0)
    assert _sideways_overflow(page) <= 0

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Parcels waiting")).to_be_visible()
    expect(page.locator("li.proxy")).to_contain_text("May collect")

    _axe_clean(axe_page, link, "resident page (中文)")
    _axe_clean(axe_page, link + "?lang=en", "resident page (English)")
    _axe_clean(axe_page, link[:-4] + "abcd", "refused link page")
