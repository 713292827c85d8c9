"""What the live queue tells the receptionist in Chromium: each action in words (with an
undo for a visitor decision), and an indicator that stops saying "Live" when it is not."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.actions import open_live_queue
from tests.browser.test_queue_priority import register

CONFIRM = "已核验证件 · ID checked — confirm"
UNDO = "撤销 · Undo"


def kinds_for(kiosk, visit_id, want):
    """The kiosk's feed, read as the kiosk reads it, until `want` events for the visit."""
    events, cursor = [], 0
    for _ in range(10):
        answer = kiosk.feed(after=cursor, wait=2)
        cursor = answer["cursor"]
        events += [e["kind"] for e in answer["events"] if e["payload"].get("visit_id") == visit_id]
        if len(events) >= want:
            break
    return events


def test_a_confirm_is_said_in_the_live_region_and_undo_puts_the_visitor_back(
    page, console, kiosk, reception_staff
):
    open_live_queue(page, console.url, reception_staff)
    visit_id = register(kiosk, "张先生")
    row = page.locator(f'tr[data-visit-id="{visit_id}"]')
    row.get_by_role("button", name=CONFIRM).click()

    region = page.locator("#queue-feedback")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_contain_text("已确认 张** 入内 · 张** confirmed — let in.")
    expect(row).to_have_count(0)
    assert kinds_for(kiosk, visit_id, 1) == ["visit.confirmed"]

    region.get_by_role("button", name=UNDO).click()
    expect(region).to_contain_text("已撤销：张** 重新待核实")
    expect(row).to_have_attribute("data-status", "pending")  # back in the queue
    # the kiosk reads the visit as pending again: its decision was taken back
    assert kinds_for(kiosk, visit_id, 2) == ["visit.confirmed", "visit.reopened"]

    # a second decision offers its own undo, which goes when the window ends
    row.get_by_role("button", name=CONFIRM).click()
    expect(region.get_by_role("button", name=UNDO)).to_have_count(1)
    expect(region.get_by_role("button", name=UNDO)).to_have_count(0)
    expect(region).to_contain_text("张** confirmed — let in.")  # the words stay


def test_the_indicator_goes_stale_then_failed_when_the_rows_fail_and_recovers(
    page, console, kiosk, reception_staff
):
    open_live_queue(page, console.url, reception_staff)
    status = page.locator("#live-status")
    page.route("**/queue/rows", lambda route: route.fulfill(status=500, body="boom"))
    kiosk.call_reception()  # the stream says "changed"; the fetch of the rows fails
    expect(status).to_have_attribute("data-state", "stale")
    expect(status).to_contain_text("The queue may be out of date")
    expect(status).to_have_attribute("data-state", "failed")  # retries fail too
    expect(status).to_contain_text("The queue is NOT updating")

    page.unroute("**/queue/rows")
    escalation = page.locator("#queue-rows tr.item")
    expect(status).to_have_attribute("data-state", "live")  # backoff retry
    expect(escalation).to_contain_text("呼叫前台 · Call reception")  # the missed call arrives


def test_a_network_error_on_the_rows_is_not_live_either(page, console, kiosk, reception_staff):
    open_live_queue(page, console.url, reception_staff)
    status = page.locator("#live-status")
    page.route("**/queue/rows", lambda route: route.abort("connectionreset"))
    kiosk.call_reception()
    expect(status).to_have_attribute("data-state", "stale")
    page.unroute("**/queue/rows")
    expect(status).to_have_attribute("data-state", "live")


# Keeps the page's event streams reachable, so a test can cut one the way a half-open
# connection does: no error, just silence.
TRACK_STREAMS = """
const Original = window.EventSource;
window.__streams = [];
window.EventSource = function (url, init) {
  const stream = new Original(url, init);
  window.__streams.push(stream);
  return stream;
};
Object.assign(window.EventSource, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
"""


def test_the_indicator_goes_stale_when_the_stream_falls_silent_and_recovers(
    page, console, kiosk, reception_staff
):
    page.add_init_script(TRACK_STREAMS)
    open_live_queue(page, console.url, reception_staff)
    status = page.locator("#live-status")
    page.route("**/queue/stream", lambda route: route.abort("connectionreset"))
    page.evaluate("window.__streams.forEach((stream) => stream.close())")  # the stream is cut
    expect(status).to_have_attribute("data-state", "stale")
    expect(status).to_contain_text("The queue may be out of date")
    kiosk.call_reception()  # happens while the page cannot hear

    page.unroute("**/queue/stream")
    expect(status).to_have_attribute("data-state", "live")  # reconnected
    expect(page.locator("#queue-rows tr.item")).to_contain_text("呼叫前台 · Call reception")
