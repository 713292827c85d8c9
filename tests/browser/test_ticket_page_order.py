"""The ticket page in the order of the work (triage → assign → progress) with the
next step as its one primary button; after a step the page opens at its top and
says the ticket's new state. In the list the ticket's summary opens it."""

from __future__ import annotations

from playwright.sync_api import expect

from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, sign_in


def report(kiosk) -> dict:
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/tickets",
        json={"unit": "101", "category": "water", "problem": "dripping_tap"},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    return response.json()


def top(page, selector: str) -> float:
    return page.locator(selector).bounding_box()["y"]


def expect_at_top_saying(page, text: str) -> None:
    """The page opened at its top (no jump to a form) with `text` in the status region."""
    message = page.get_by_role("status").filter(has_text=text)
    expect(message).to_have_text(text)
    expect(message).to_be_in_viewport()
    assert "#" not in page.url
    assert page.evaluate("window.scrollY") == 0


def test_the_next_step_is_the_one_primary_button_and_each_step_reports_its_new_state(
    page, console, kiosk, reception_staff
):
    ticket = report(kiosk)
    page.set_viewport_size({"width": 1280, "height": 700})
    sign_in(page, console.url, reception_staff)
    page.goto(f"{console.url}/tickets/{ticket['id']}")
    # Triage comes first, then assign, then progress.
    assert top(page, "form#triage") < top(page, "form#assign") < top(page, "form#status")
    primary = page.locator(".ticket-page button.primary")
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("保存分类 · Save triage")

    triage = page.locator("form#triage")
    triage.get_by_label("问题 · Problem").select_option("water.ceiling_leak")
    triage.get_by_label("紧急程度 · Urgency").select_option("urgent")
    triage.get_by_role("button", name="保存分类 · Save triage").click()
    expect_at_top_saying(
        page, "已分类：天花板渗水，紧急 · Triaged: Water coming through the ceiling, urgent"
    )
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("派单 · Assign")

    # The progress form sits below the fold: the page must not stay scrolled down to it.
    assert page.evaluate("document.documentElement.scrollHeight > window.innerHeight")
    page.locator("form#assign").get_by_label("派给 · Assign to").select_option("dept:maintenance")
    primary.click()
    expect_at_top_saying(page, "已指派给 工程维修部 · Assigned to Maintenance")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "console_ticket_page_assigned.png")
    expect(primary).to_have_text("开始处理 · Start work")

    primary.scroll_into_view_if_needed()
    primary.click()
    expect_at_top_saying(page, "状态：处理中 · Status: in progress")
    expect(page.locator("#ticket-status")).to_have_text("处理中 · In progress")
    expect(primary).to_have_text("已解决 · Resolved")

    # In the list, the ticket's summary opens it, not only its number.
    page.goto(f"{console.url}/tickets/")
    row = page.locator(f'tr[data-ticket-id="{ticket["id"]}"]')
    row.get_by_role("link", name="天花板渗水").click()
    expect(page).to_have_url(f"{console.url}/tickets/{ticket['id']}")
