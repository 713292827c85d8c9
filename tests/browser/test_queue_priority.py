"""The live queue's order and layout in Chromium: emergencies first and unmistakable,
the broadcast shown once, eight visitors at 1366×768, names whole at 1920."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, open_live_queue
from tests.helpers import StaffBrowser, add_resident

NAMES = [
    "张先生",
    "李女士",
    "Tom Baker",
    "王建华",
    "Emily Carter",
    "赵敏",
    "欧阳娜娜",
    "陈先生",
    "刘女士",
]


def register(kiosk, name, unit="101"):
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/visits",
        json={"name": name, "phone": "13812345678", "unit": unit, "purpose": "visit",
              "party_size": 1, "language": "zh_CN", "created_at": datetime.now(UTC).isoformat()},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()["id"]


def report_entrapment(kiosk):
    """Someone trapped in the lift, reported at the kiosk: an emergency escalation (S8)."""
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/tickets",
        json={"unit": "101", "category": "elevator", "problem": "trapped", "urgency": "emergency",
              "language": "zh_CN", "created_at": datetime.now(UTC).isoformat()},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )  # fmt: skip
    assert response.status_code == 201, response.text


def rows_within_viewport(page, selector):
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).filter((row) => {
             const box = row.getBoundingClientRect();
             return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
           }).length""",
        selector,
    )


def test_an_entrapment_goes_above_older_visitors_and_is_not_just_another_red_row(
    page, frozen_console, frozen_kiosk, frozen_reception_staff
):
    clock = frozen_console.clock
    open_live_queue(page, frozen_console.url, frozen_reception_staff)
    first = register(frozen_kiosk, "张先生")
    second = register(frozen_kiosk, "李女士")
    clock.advance(seconds=70)  # both visitors are overdue now
    report_entrapment(frozen_kiosk)

    rows = page.locator("#queue-rows tr.item")
    expect(rows).to_have_count(3)
    top = rows.nth(0)
    expect(top).to_contain_text("有人被困电梯 · Someone trapped in the elevator")
    expect(top).to_contain_text("危急优先 · Emergency first")
    expect(rows.nth(1)).to_have_attribute("data-visit-id", str(first))
    expect(rows.nth(2)).to_have_attribute("data-visit-id", str(second))
    expect(rows.nth(1)).to_have_class("item visit overdue")

    def background(row):
        return row.evaluate("(el) => getComputedStyle(el).backgroundColor")

    assert background(top) != background(rows.nth(1))  # not the same red as "late"
    page.screenshot(path=str(SCREENSHOTS / "console_queue_emergency_first.png"))


def test_eight_visitors_fit_on_a_1366_screen(page, console, kiosk, reception_staff):
    add_resident(console.app, "101", "王建国", email="wang@example.com", phone="+8613800138001")
    page.set_viewport_size({"width": 1366, "height": 768})
    open_live_queue(page, console.url, reception_staff)
    for name in NAMES:
        register(kiosk, name)
    expect(page.locator("#queue-rows tr.visit")).to_have_count(len(NAMES))
    visible = rows_within_viewport(page, "#queue-rows tr.visit")
    page.screenshot(path=str(SCREENSHOTS / "console_queue_1366.png"))
    assert visible >= 8, f"only {visible} visitor rows fit at 1366×768"


def test_names_never_wrap_on_a_1920_screen(page, console, kiosk, reception_staff):
    add_resident(console.app, "101", "王建国", email="wang@example.com", phone="+8613800138001")
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_live_queue(page, console.url, reception_staff)
    for name in NAMES[:4]:
        register(kiosk, name)
    names = page.locator("#queue-rows .visitor-name")
    expect(names).to_have_count(4)
    for index in range(4):
        # one line box per name, and nothing cut off
        lines, clipped = names.nth(index).evaluate(
            "(el) => [el.getClientRects().length, el.scrollWidth > el.clientWidth + 1]"
        )
        assert (lines, clipped) == (1, False), names.nth(index).inner_text()
    table_width = page.locator("table.queue").evaluate("(el) => el.getBoundingClientRect().width")
    assert table_width > 1600  # the page's 1200 px cap is lifted here
    page.screenshot(path=str(SCREENSHOTS / "console_queue_1920.png"))


def test_a_broadcast_shows_once_and_the_emergency_row_stays_above_the_fold(
    page, console, kiosk, reception_staff
):
    add_resident(console.app, "101", "王建国", email="wang@example.com", phone="+8613800138001")
    colleague = StaffBrowser(console.app.test_client())
    colleague.login()
    started = colleague.post(
        "/emergency/start",
        kind="fire",
        instructions_zh="请从楼梯疏散。",
        instructions_en="Leave by the stairs.",
    )
    assert started.status_code == 302
    for name in NAMES[:5]:
        register(kiosk, name)
    report_entrapment(kiosk)
    page.set_viewport_size({"width": 1366, "height": 768})
    open_live_queue(page, console.url, reception_staff)

    shown = page.get_by_text("紧急广播进行中 · Emergency broadcast on")
    expect(page.locator("#emergency-banner")).to_be_visible()
    expect(shown.locator("visible=true")).to_have_count(1)
    entrapment = page.locator("#queue-rows tr.item.emergency")
    expect(entrapment).to_contain_text("Someone trapped in the elevator")
    bottom = entrapment.evaluate("(el) => el.getBoundingClientRect().bottom")
    assert bottom <= 768, f"the emergency row ends at {bottom} px, below the fold"
    page.screenshot(path=str(SCREENSHOTS / "console_queue_broadcast_1366.png"))
