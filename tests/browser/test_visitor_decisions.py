"""Reception confirms and denies visitors in Chromium; the kiosk hears each decision."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from console import live
from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, open_live_queue

# Installed before any page script: the version each "queue" event of the page's stream
# carried, so a test can wait until the page has heard a given change.
RECORD_QUEUE_EVENTS = """
window.__queueVersions = [];
const RealEventSource = window.EventSource;
window.EventSource = class extends RealEventSource {
  constructor(url, init) {
    super(url, init);
    this.addEventListener("queue", (event) => window.__queueVersions.push(Number(event.data)));
  }
};
"""


def heard(page, version: int) -> None:
    """Wait until the page's stream has delivered the change numbered `version`. The
    recorder was added before the page's own listener, and one event's listeners all
    run before any other script: when this returns, the page has handled it too."""
    page.wait_for_function(f"() => window.__queueVersions.some((v) => v >= {version})")


def _register(kiosk, name, phone, unit="101"):
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/visits",
        json={"name": name, "phone": phone, "unit": unit, "purpose": "visit", "party_size": 2,
              "language": "zh_CN", "created_at": datetime.now(UTC).isoformat()},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_reception_confirms_one_visitor_and_denies_another_live(
    page, console, kiosk, reception_staff
):
    page.add_init_script(RECORD_QUEUE_EVENTS)
    open_live_queue(page, console.url, reception_staff)
    first = _register(kiosk, "张先生", "13812345678")
    second = _register(kiosk, "李女士", "13900001111")
    first_row = page.locator(f'tr[data-visit-id="{first}"]')
    second_row = page.locator(f'tr[data-visit-id="{second}"]')
    expect(first_row).to_contain_text("张先生")  # arrived without a reload
    expect(first_row).to_contain_text("138 1234 5678")
    expect(second_row).to_contain_text("李女士")
    page.screenshot(path=str(SCREENSHOTS / "console_queue_visitors.png"))

    first_row.get_by_role("button", name="已核验证件 · ID checked — confirm").click()
    expect(first_row).to_have_count(0)
    reason = second_row.get_by_label("拒绝原因 · Reason for denial")
    reason.fill("住户不在家")
    third = _register(kiosk, "王先生", "13700002222")  # the queue changes while she types …
    heard(page, live.hub(console.app).version)
    expect(reason).to_have_value("住户不在家")  # … and what she typed is not wiped
    second_row.get_by_role("button", name="拒绝 · Deny").click()
    expect(second_row).to_have_count(0)
    expect(page.locator(f'tr[data-visit-id="{third}"]')).to_contain_text("王先生")  # caught up

    events = kiosk.feed(after=0, wait=5)["events"]
    while len(events) < 2:
        events += kiosk.feed(after=events[-1]["id"] if events else 0, wait=5)["events"]
    outcome = {e["payload"]["visit_id"]: e["kind"] for e in events}
    assert outcome == {first: "visit.confirmed", second: "visit.denied"}  # the third still waits
    confirmed = next(e for e in events if e["kind"] == "visit.confirmed")
    assert confirmed["payload"]["pass_token"] and confirmed["payload"]["unit"] == "101"

    page.goto(console.url + "/visitors/on-site")
    expect(page.locator("table.on-site")).to_contain_text("张先生")
    expect(page.locator("table.on-site")).not_to_contain_text("李女士")


def test_what_she_types_survives_the_refresh_that_follows_her_own_action(
    page, console, kiosk, reception_staff
):
    """She confirms one visitor and starts the next one's denial reason before the
    queue has redrawn: the redraw must keep her words, her cursor and her focus."""
    open_live_queue(page, console.url, reception_staff)
    first = _register(kiosk, "张先生", "13812345678")
    second = _register(kiosk, "李女士", "13900001111")
    first_row = page.locator(f'tr[data-visit-id="{first}"]')
    second_row = page.locator(f'tr[data-visit-id="{second}"]')
    expect(second_row).to_contain_text("李女士")

    held, gate = [], {"open": False}  # every rows fetch waits here until she has typed

    def hold(route):
        route.continue_() if gate["open"] else held.append(route)

    page.route("**/queue/rows*", hold)
    first_row.get_by_role("button", name="已核验证件 · ID checked — confirm").click()
    page.wait_for_function("() => !!document.querySelector('#queue-feedback .feedback-line')")
    while not held:  # the forced redraw after her action is on its way
        page.wait_for_timeout(50)
    reason = second_row.get_by_label("拒绝原因 · Reason for denial")
    reason.fill("住户不在家")
    gate["open"] = True
    for route in held:
        route.continue_()

    expect(first_row).to_have_count(0)  # the redraw landed …
    expect(reason).to_have_value("住户不在家")  # … and kept her words
    expect(reason).to_be_focused()
    page.keyboard.type("，已电话确认")
    expect(reason).to_have_value("住户不在家，已电话确认")  # the caret stayed at the end
