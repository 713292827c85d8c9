"""The live queue in a real browser: a kiosk calls over HTTP, reception sees it and answers."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from console import live
from shared import kiosks
from tests.browser.actions import SCREENSHOTS, open_live_queue, sign_in
from tests.helpers import add_staff, building_db, eventually

ON_MY_WAY = "我这就去 · On my way"
DONE = "已处理 · Done"

# Installed before any page script runs; CSP violations land here as well as in the console.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def row(page, escalation_id):
    return page.locator(f'tr.item[data-id="{escalation_id}"]')


def test_a_kiosk_call_appears_live_and_its_clock_ticks(page, console, kiosk, reception_staff):
    open_live_queue(page, console.url, reception_staff)
    page.evaluate("window.__sameDocument = true")

    escalation_id = kiosk.call_reception()["id"]
    call = row(page, escalation_id)
    expect(call).to_be_visible()  # how fast: bench/live_queue_latency.py
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    expect(call).to_contain_text("呼叫前台 · Call reception")
    expect(call).to_contain_text("大堂 A · Lobby A")
    expect(call).to_have_class(re.compile(r"\bok\b"))
    waited = call.locator(".waited")
    expect(waited).to_have_text(re.compile(r"^\d+ s$"))
    shown = int(waited.inner_text().removesuffix(" s"))  # 0 s unless the machine is busy
    # The clock ticks in the browser, with no further request.
    expect(waited).not_to_have_text(f"{shown} s")
    assert int(waited.inner_text().removesuffix(" s")) > shown


def test_the_row_turns_amber_then_red_by_the_consoles_clock(
    page, frozen_console, frozen_kiosk, frozen_reception_staff
):
    clock = frozen_console.clock
    open_live_queue(page, frozen_console.url, frozen_reception_staff)
    first = frozen_kiosk.call_reception()["id"]
    expect(row(page, first)).to_have_class(re.compile(r"\bok\b"))

    clock.advance(seconds=50)
    second = frozen_kiosk.call_reception()["id"]  # any change refreshes the rows
    expect(row(page, second)).to_be_visible()
    expect(row(page, first)).to_have_class(re.compile(r"\bwarning\b"))
    expect(row(page, first).locator(".waited")).to_have_text(re.compile(r"^5\d s$"))

    clock.advance(seconds=11)
    third = frozen_kiosk.call_reception()["id"]
    expect(row(page, third)).to_be_visible()
    expect(row(page, first)).to_have_class(re.compile(r"\boverdue\b"))
    expect(row(page, second)).to_have_class(re.compile(r"\bok\b"))
    expect(row(page, third)).to_have_class(re.compile(r"\bok\b"))


def test_on_my_way_tells_the_kiosk_who_is_coming(page, console, kiosk, reception_staff):
    open_live_queue(page, console.url, reception_staff)
    escalation_id = kiosk.call_reception()["id"]
    call = row(page, escalation_id)
    expect(call).to_be_visible()

    with ThreadPoolExecutor(max_workers=1) as pool:
        # The kiosk is already waiting on its feed when reception answers.
        news = pool.submit(kiosk.feed, after=0, wait=25)
        parked = live.connections(console.app)
        eventually(lambda: parked.feeds == 1, message="the kiosk's long-poll parked")
        call.get_by_role("button", name=ON_MY_WAY).click()
        feed = news.result(timeout=60)

    [event] = feed["events"]
    assert event["kind"] == "escalation.acknowledged"
    assert event["payload"] == {"escalation_id": escalation_id, "staff_name": "王芳"}
    expect(call).to_contain_text("On the way")
    expect(call).to_contain_text("王芳")
    expect(call).to_have_attribute("data-status", "acknowledged")
    expect(call.get_by_role("button", name=ON_MY_WAY)).to_have_count(0)

    call.get_by_role("button", name=DONE).click()
    expect(call).to_have_count(0)
    expect(page.locator("#queue-rows")).to_contain_text("Nothing waiting")
    later = kiosk.feed(after=feed["cursor"], wait=5)
    assert [e["kind"] for e in later["events"]] == ["escalation.resolved"]


def test_the_console_runs_under_its_csp_without_errors(page, console, kiosk):
    add_staff(console.app, username="admin", role="admin", display_name="前台管理员")
    problems = []

    def on_console(message):
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    violations = []

    def collect_violations():
        violations.extend(page.evaluate("window.__cspViolations || []"))

    sign_in(page, console.url, "admin")  # the login page, then the queue
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    escalation_id = kiosk.call_reception()["id"]
    row(page, escalation_id).get_by_role("button", name=ON_MY_WAY).click()
    expect(row(page, escalation_id)).to_contain_text("On the way")
    collect_violations()
    page.get_by_role("link", name="终端 · Kiosks").click()
    expect(page.locator("table.kiosks")).to_contain_text("大堂 A · Lobby A")
    collect_violations()
    page.get_by_role("button", name="退出 · Sign out").click()
    expect(page.get_by_role("button", name="登录 · Sign in")).to_be_visible()
    collect_violations()

    assert page.evaluate("document.querySelector('meta[http-equiv]')") is None
    assert problems == []
    assert violations == []


def test_screenshots_for_review(page, frozen_console, frozen_kiosk, frozen_reception_staff):
    """Login, a queue with every clock state, and the kiosk list, as people see them."""
    SCREENSHOTS.mkdir(exist_ok=True)
    clock, url = frozen_console.clock, frozen_console.url
    add_staff(frozen_console.app, username="admin", role="admin", display_name="前台管理员")
    db = building_db(frozen_console.app)
    back_door = kiosks.create(db, clock, building_id=1, name="后门 · Back door", actor="test")
    kiosks.pair(db, clock, back_door["pairing_code"])  # seen now, offline a minute later
    kiosks.create(db, clock, building_id=1, name="地库入口 · Garage", actor="test")
    tower_two = kiosks.create(db, clock, building_id=1, name="2 号楼 · Tower 2", actor="test")
    kiosks.revoke(db, clock, tower_two["id"], actor="test")
    db.close()

    page.goto(url + "/login")
    page.screenshot(path=SCREENSHOTS / "console_login.png", full_page=True)

    open_live_queue(page, url, frozen_reception_staff)
    overdue = frozen_kiosk.call_reception()["id"]
    clock.advance(seconds=15)
    warning = frozen_kiosk.call_reception()["id"]
    clock.advance(seconds=10)
    answered = frozen_kiosk.call_reception(language="en")["id"]
    clock.advance(seconds=12)
    row(page, answered).get_by_role("button", name=ON_MY_WAY).click()
    expect(row(page, answered)).to_contain_text("On the way")
    clock.advance(seconds=23)
    waiting = frozen_kiosk.call_reception()["id"]
    clock.advance(seconds=5)
    page.reload()  # the rows as the console's clock now has them
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(row(page, overdue)).to_have_class(re.compile(r"\boverdue\b"))
    expect(row(page, warning)).to_have_class(re.compile(r"\bwarning\b"))
    expect(row(page, answered)).to_have_class(re.compile(r"\bok\b"))
    expect(row(page, waiting)).to_have_class(re.compile(r"\bok\b"))
    page.screenshot(path=SCREENSHOTS / "console_queue.png", full_page=True)

    page.get_by_role("button", name="退出 · Sign out").click()
    sign_in(page, url, "admin")
    page.get_by_role("link", name="终端 · Kiosks").click()
    expect(page.locator("table.kiosks tbody tr")).to_have_count(4)
    page.screenshot(path=SCREENSHOTS / "console_kiosks.png", full_page=True)
