"""Repairs in Chromium: a resident reports at the kiosk (over HTTP), reception triages,
assigns, starts, tells the resident and resolves it on the ticket page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, open_live_queue, sign_in
from tests.helpers import building_db

# Installed before any page script runs: CSP violations land here.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def report(kiosk, **body) -> dict:
    """What the kiosk's repair flow sends: POST /api/v1/tickets with an idempotency key."""
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/tickets",
        json={"unit": "101", "category": "water", "problem": "dripping_tap", **body},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_reception_works_a_kiosk_ticket_from_new_to_resolved(
    page, frozen_console, frozen_kiosk, frozen_reception_staff
):
    SCREENSHOTS.mkdir(exist_ok=True)
    clock, url = frozen_console.clock, frozen_console.url
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    # Earlier tickets, so the list looks like a working day: one is past its time.
    late = report(frozen_kiosk, unit="203", urgency="urgent", problem="blocked_drain")
    report(frozen_kiosk, unit="102", category="electrical", problem="light_out")
    clock.advance(hours=4, minutes=20)
    report(frozen_kiosk, unit="301", category="elevator", problem="noise", urgency="urgent")
    ticket = report(
        frozen_kiosk,
        unit="101",
        category="other",
        problem="other",
        description="卫生间天花板在滴水，楼上好像漏水",
    )

    sign_in(page, url, frozen_reception_staff)
    page.get_by_role("link", name="报修投诉 · Repairs").click()
    expect(page).to_have_url(f"{url}/tickets/")
    rows = page.locator("tr[data-ticket-id]")
    expect(rows).to_have_count(4)
    expect(rows.first).to_have_attribute("data-ticket-id", str(ticket["id"]))
    overdue = page.locator(f'tr[data-ticket-id="{late["id"]}"]')
    expect(overdue).to_have_class(re.compile(r"\boverdue-row\b"))
    expect(overdue).to_contain_text("超时 · Overdue")
    expect(page.locator("#count-open")).to_have_text("4")
    expect(page.locator("#count-overdue")).to_have_text("1")
    page.screenshot(path=SCREENSHOTS / "console_tickets_list.png", full_page=True)

    page.get_by_label("只看超时 · Overdue only").check()
    page.get_by_role("button", name="查询 · Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-ticket-id", str(late["id"]))
    page.get_by_role("link", name="清除 · Clear").click()
    expect(rows).to_have_count(4)

    rows.first.get_by_role("link", name=ticket["number"]).click()
    expect(page).to_have_url(f"{url}/tickets/{ticket['id']}")
    expect(page.locator("h1")).to_contain_text(f"工单 {ticket['number']}")
    expect(page.locator("#ticket-status")).to_have_text("待处理 · New")
    expect(page.locator("#ticket-place")).to_contain_text("101")
    expect(page.locator("#details")).to_contain_text("卫生间天花板在滴水")
    expect(page.locator("#ticket-assignee")).to_have_text("未派单 · not assigned")

    # Triage: it is a leak from above, and urgent.
    triage = page.locator("form#triage")
    triage.get_by_label("类别 · Category").select_option("water")
    triage.get_by_label("问题 · Problem").select_option("water.ceiling_leak")
    triage.get_by_label("紧急程度 · Urgency").select_option("urgent")
    triage.get_by_role("button", name="保存分类 · Save triage").click()
    expect(page.locator(".flash.ok")).to_have_text(
        "已分类：天花板渗水，紧急 · Triaged: Water coming through the ceiling, urgent"
    )
    expect(page.locator("#ticket-problem")).to_have_text(
        "天花板渗水 · Water coming through the ceiling"
    )
    expect(page.locator("#ticket-urgency")).to_have_text("紧急 · Urgent")
    expect(page.locator("#sla-text")).to_have_text("剩余 4 小时 0 分 · 4 h 0 min left")

    # Assign to the maintenance department.
    assign = page.locator("form#assign")
    assign.get_by_label("派给 · Assign to").select_option("dept:maintenance")
    assign.get_by_role("button", name="派单 · Assign").click()
    expect(page.locator("#ticket-assignee")).to_have_text("工程维修部 · Maintenance")
    expect(page.locator("#ticket-status")).to_have_text("已派工 · Assigned")

    # Work starts; an internal note, then one the resident sees.
    clock.advance(minutes=12)
    page.locator("form#status").get_by_role("button", name="开始处理 · Start work").click()
    expect(page.locator("#ticket-status")).to_have_text("处理中 · In progress")
    note = page.locator("form#note")
    note.get_by_label("内容 · Text").fill("楼上 201 无人在家，已联系业主")
    note.get_by_role("button", name="添加备注 · Add note").click()
    expect(page.locator(".flash.ok")).to_have_text("已添加内部备注 · Internal note added.")
    note.get_by_label("内容 · Text").fill("已关闭楼上进水阀，师傅正在更换接头")
    note.get_by_label("住户可见（会通知住户）· Resident-visible (the resident is told)").check()
    note.get_by_role("button", name="添加备注 · Add note").click()
    updates = page.locator("ol.timeline li.update")
    internal = updates.filter(has_text="楼上 201 无人在家")
    visible = updates.filter(has_text="已关闭楼上进水阀")
    expect(internal).to_contain_text("内部 · Internal")
    expect(internal).to_have_class(re.compile(r"\binternal\b"))
    expect(visible).to_contain_text("住户可见 · Resident-visible")
    expect(visible).to_have_class(re.compile(r"\bvisible\b"))
    expect(visible).to_contain_text("王芳")

    # Resolved, with a word for the resident.
    clock.advance(minutes=25)  # under the 30-minute idle sign-out
    status = page.locator("form#status")
    status.get_by_label("给住户的话（可选）· Message to the resident (optional)").fill(
        "接头已更换，已试水无渗漏"
    )
    status.get_by_role("button", name="已解决 · Resolved").click()
    expect(page.locator("#ticket-status")).to_have_text("已解决 · Resolved")
    expect(page.locator("#sla-text")).to_have_text("按时完成 · Finished in time")
    expect(status.get_by_role("button", name="重新打开 · Reopen")).to_be_visible()
    expect(status.get_by_role("button", name="开始处理 · Start work")).to_have_count(0)
    expect(updates.last).to_contain_text("接头已更换，已试水无渗漏")
    expect(updates.last).to_contain_text("住户可见 · Resident-visible")
    page.screenshot(path=SCREENSHOTS / "console_ticket_page.png", full_page=True)

    stored = (
        building_db(frozen_console.app)
        .execute(
            "SELECT status, assigned_to, urgency, problem FROM tickets WHERE id = ?",
            (ticket["id"],),
        )
        .fetchone()
    )
    assert tuple(stored) == ("resolved", "dept:maintenance", "urgent", "ceiling_leak")
    assert page.evaluate("window.__cspViolations") == []


def test_an_emergency_report_reaches_the_live_queue_with_a_link_to_its_ticket(
    page, console, kiosk, reception_staff
):
    open_live_queue(page, console.url, reception_staff)
    ticket = report(kiosk, unit="302", category="elevator", problem="trapped")
    row = page.locator("tr.item").filter(has_text="危急情况 · Emergency")
    expect(row).to_contain_text("有人被困电梯 · Someone trapped in the elevator")
    expect(row).to_contain_text("302")
    page.screenshot(path=SCREENSHOTS / "console_queue_emergency_ticket.png", full_page=True)
    row.get_by_role("link", name=re.compile(f"Ticket {ticket['number']}")).click()
    expect(page).to_have_url(f"{console.url}/tickets/{ticket['id']}")
    expect(page.locator("#ticket-urgency")).to_have_text("危急 · Emergency")
