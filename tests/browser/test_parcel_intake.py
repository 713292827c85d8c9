"""Parcel intake in Chromium, driven the way a USB keyboard-wedge scanner drives it:
characters then Enter into whichever field has focus. No mouse from the first scan on."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.actions import SCREENSHOTS, sign_in
from tests.browser.conftest import PAGE_TIMEOUT_MS
from tests.helpers import add_resident, building_db, eventually
from tests.mailbox import Mailbox

# Installed before any page script runs: CSP violations (an inline script, say) land here.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def add_residents(app):
    for unit, name in (("101", "王建国"), ("202", "李秀英"), ("303", "Emily Carter")):
        add_resident(app, unit, name, email=f"r{unit}@example.com")


def scan(page, text: str) -> None:
    """What the scanner does: type fast, then Enter."""
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def type_and_enter(page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_three_parcels_in_a_row_with_the_keyboard_only(page, console, reception_staff):
    add_residents(console.app)
    mailbox = Mailbox().start()
    console.app.config["NOTIFY_EMAIL_URL"] = mailbox.apprise_url  # read by the notifier each round
    try:
        _log_three_parcels(page, console, reception_staff, mailbox)
    finally:
        mailbox.stop()


def _log_three_parcels(page, console, reception_staff, mailbox):
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    sign_in(page, console.url, reception_staff)
    page.goto(console.url + "/parcels/")
    expect(page.locator("#tracking")).to_be_focused()
    recent = page.locator("#recent")

    # 1: a unit number, a new shelf.
    scan(page, "SF1234567890123")
    expect(page.locator("#unit")).to_be_focused()
    type_and_enter(page, "101")
    expect(page.locator("#shelf")).to_be_focused()
    type_and_enter(page, "A-3")
    expect(recent.locator("tr").first).to_contain_text("SF1234567890123")
    expect(page.locator("#tracking")).to_be_focused()
    expect(page.locator("#intake-message")).to_contain_text("顺丰 SF Express")

    # 2: the resident's pinyin initials; the list offers the one unit, Enter takes it;
    # the shelf is kept (and selected) from the last parcel, so Enter saves.
    scan(page, "YT1234567890123")
    expect(page.locator("#carrier")).to_have_value("yto")  # recognised meanwhile
    page.keyboard.type("lxy")
    expect(page.locator("#unit-options li")).to_have_text(["202 · 李秀英"])
    page.keyboard.press("Enter")
    expect(page.locator("#unit")).to_have_value("202")
    expect(page.locator("#shelf")).to_be_focused()
    page.keyboard.press("Enter")
    expect(recent.locator("tr").first).to_contain_text("YT1234567890123")
    expect(recent.locator("tr").first).to_contain_text("A-3")

    # 3: a repeated tracking number is stopped with a warning; Enter again confirms.
    scan(page, "SF1234567890123")
    expect(page.locator("#tracking-info")).to_contain_text("already logged")
    type_and_enter(page, "303")
    type_and_enter(page, "B-1")
    expect(page.locator("#intake-message")).to_contain_text("already logged")
    expect(page.locator("#confirm-row")).to_be_visible()
    expect(page.locator("#shelf")).to_be_focused()
    page.screenshot(path=SCREENSHOTS / "console_parcels_duplicate.png", full_page=True)
    page.keyboard.press("Enter")
    expect(recent.locator("tr")).to_have_count(3)
    expect(recent.locator("tr").first).to_contain_text("303")
    expect(page.locator("#tracking")).to_be_focused()

    rows = list(building_db(console.app).query("SELECT * FROM parcels ORDER BY id"))
    assert [(r["tracking_number"], r["shelf"], r["carrier"]) for r in rows] == [
        ("SF1234567890123", "A-3", "sf"),
        ("YT1234567890123", "A-3", "yto"),
        ("SF1234567890123", "B-1", "sf"),
    ]
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=SCREENSHOTS / "console_parcels_intake.png", full_page=True)

    assert len(mailbox.wait_for(3)) == 3  # one message per resident, sent by the console

    def list_says_notified() -> bool:
        page.goto(console.url + "/parcels/list?view=waiting")
        return "已通知 · notified" in page.locator("tr[data-parcel-id]").first.inner_text()

    # The mail server holds a message a moment before the console records it as sent,
    # and the list is not a live page: a receptionist reloads it, as this does.
    eventually(list_says_notified, message="the waiting list says notified")
    expect(page.locator("tr[data-parcel-id]")).to_have_count(3)
    expect(page.locator("tr[data-parcel-id]").filter(has_text="李秀英")).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / "console_parcels_waiting.png", full_page=True)


def test_without_javascript_the_browser_walks_the_required_fields(
    browser, console, reception_staff
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        sign_in(page, console.url, reception_staff)
        page.goto(console.url + "/parcels/")
        expect(page.locator("#tracking")).to_be_focused()  # autofocus, no script
        scan(page, "SF1234567890123")
        expect(page.locator("#unit")).to_be_focused()  # the first empty required field
        type_and_enter(page, "101")
        expect(page.locator("#shelf")).to_be_focused()
        type_and_enter(page, "A-3")
        expect(page).to_have_url(re.compile(r"/parcels/\?shelf=A-3$"))
        expect(page.locator(".flash.ok")).to_contain_text("P00001")
        expect(page.locator("#tracking")).to_be_focused()
    finally:
        context.close()


def test_a_kiosk_pickup_appears_in_the_live_queue_to_hand_over(
    page, console, kiosk, reception_staff
):
    from shared import parcels
    from shared.db import write_transaction
    from shared.tokens import new_idempotency_key
    from tests.browser.actions import open_live_queue

    db = building_db(console.app)
    with write_transaction(db):
        for tracking, shelf in (("SF1234567890123", "A-3"), ("JD0012345678901", "C-2")):
            parcels.intake(
                db,
                console.app.extensions["lobbydesk.clock"],
                secret_key=console.app.config["SECRET_KEY"],
                staff_id=1,
                tracking=tracking,
                unit="101",
                shelf=shelf,
            )
    batch = parcels.get_batch(db, 1)
    code = parcels.unseal_code(console.app.config["SECRET_KEY"], batch["code_sealed"])
    open_live_queue(page, console.url, reception_staff)
    answer = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/parcels/pickup",
        json={"unit": "101", "code": code},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["collect_at"] == "desk"
    item = page.locator("tr.item.handover")
    expect(item).to_contain_text("101")
    expect(item).to_contain_text("货架 A-3")
    expect(item).to_contain_text("货架 C-2")
    page.screenshot(path=SCREENSHOTS / "console_queue_parcel_handover.png", full_page=True)
    item.get_by_role("button", name="已交付 · Handed over").click()
    expect(item).to_have_count(0)
    rows = list(building_db(console.app).query("SELECT * FROM parcels"))
    assert all(r["handed_over_by"] for r in rows)


def test_a_bad_tracking_number_is_said_once_in_both_languages(page, console, reception_staff):
    """The scan check and the save both refuse it; the page says so once, not twice."""
    sign_in(page, console.url, reception_staff)
    page.goto(console.url + "/parcels/")
    scan(page, "AB#1")
    type_and_enter(page, "101")
    type_and_enter(page, "A-3")
    message = page.locator("#intake-message")
    expect(message).to_contain_text("快递单号应为 6–40 位字母、数字或短横线")
    expect(message).to_contain_text("A tracking number is 6-40 letters")
    said = page.locator("#intake").get_by_text(re.compile("A tracking number is"))
    expect(said).to_have_count(1)
