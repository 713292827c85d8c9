"""The attention badge in Chromium: off the queue page (logging parcels), reception sees
how many wait and for how long, hears or is notified if she chose to, and lands on the
item with one click. A kiosk calls over real HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from shared.tokens import new_idempotency_key
from tests.browser.actions import sign_in
from tests.helpers import building_db

# Installed before any page script: every desktop notification the page makes is kept.
RECORD_NOTIFICATIONS = """
window.__notes = [];
const RealNotification = window.Notification;
class RecordedNotification extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.__notes.push(this);
  }
}
window.Notification = RecordedNotification;
"""

# Every tone the page starts through the Web Audio API.
RECORD_TONES = """
window.__tones = 0;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__tones += 1;
  return realStart.apply(this, args);
};
"""


def badge(page):
    return page.locator("#attention-badge")


def ticks_pass(page, ticks: int = 2) -> None:
    """Wait until the badge's wait clock has moved on `ticks` times: the page redraws
    (and decides what to announce) twice a second, so each tick is at least one more
    round of that decision. Waits for what the page shows, not for a guessed time."""
    clock = badge(page).locator(".attention-wait")
    for _ in range(ticks):
        expect(clock).not_to_have_text(clock.inner_text())


def on_parcels_page(page, url: str, username: str) -> None:
    """Signed in, then off the queue: at the parcel intake with the badge live."""
    sign_in(page, url, username)
    page.goto(url + "/parcels/")
    expect(badge(page)).to_have_attribute("data-state", "live")


def test_a_kiosk_call_shows_on_the_parcels_page_badge_and_tab_title(
    page, console, kiosk, reception_staff
):
    on_parcels_page(page, console.url, reception_staff)
    expect(badge(page)).to_contain_text("无人等待 · none waiting")
    expect(page).to_have_title(re.compile(r"^快递"))  # no count while nothing waits

    escalation_id = kiosk.call_reception()["id"]

    expect(badge(page).locator(".attention-count")).to_have_text("1")
    expect(badge(page).locator(".attention-wait")).to_have_text(re.compile(r"^\d+ s$"))
    expect(badge(page)).to_have_class(re.compile(r"\bok\b"))
    expect(page).to_have_title(re.compile(r"^\(1\) \d+ s · 快递"))
    expect(badge(page)).to_have_attribute("href", f"/#item-escalation-{escalation_id}")
    # The wait ticks in the page, with no further request.
    expect(badge(page).locator(".attention-wait")).not_to_have_text("0 s")


def test_the_badge_turns_amber_then_red_by_the_consoles_clock(
    page, frozen_console, frozen_kiosk, frozen_reception_staff
):
    clock = frozen_console.clock
    on_parcels_page(page, frozen_console.url, frozen_reception_staff)
    frozen_kiosk.call_reception()
    expect(badge(page)).to_have_class(re.compile(r"\bok\b"))

    clock.advance(seconds=50)
    frozen_kiosk.call_reception()  # any change brings the console's time
    expect(badge(page).locator(".attention-count")).to_have_text("2")
    expect(badge(page)).to_have_class(re.compile(r"\bwarning\b"))
    expect(badge(page).locator(".attention-wait")).to_have_text(re.compile(r"^5\d s$"))
    expect(page).to_have_title(re.compile(r"^\(2\) 5\d s · "))

    clock.advance(seconds=11)
    frozen_kiosk.call_reception()
    expect(badge(page).locator(".attention-count")).to_have_text("3")
    expect(badge(page)).to_have_class(re.compile(r"\boverdue\b"))
    expect(page).to_have_title(re.compile(r"^\(3\) 6\d s · "))


def test_a_cut_stream_shows_offline_not_a_stale_number_and_recovers(
    page, console, kiosk, reception_staff
):
    kiosk.call_reception()
    sign_in(page, console.url, reception_staff)
    page.route("**/queue/stream", lambda route: route.abort())
    page.goto(console.url + "/parcels/")

    expect(badge(page)).to_have_attribute("data-state", "offline")
    expect(badge(page).locator(".attention-count")).to_have_text("?")
    expect(badge(page)).to_contain_text("连接中断 · offline")
    expect(page).to_have_title(re.compile(r"^\(\?\) "))

    page.unroute("**/queue/stream")
    kiosk.call_reception()  # arrived while the badge was offline
    expect(badge(page)).to_have_attribute("data-state", "live")
    expect(badge(page).locator(".attention-count")).to_have_text("2")
    expect(page).to_have_title(re.compile(r"^\(2\) \d+ s · "))


def test_a_network_lost_mid_shift_shows_offline_and_recovers(page, console, kiosk, reception_staff):
    on_parcels_page(page, console.url, reception_staff)
    kiosk.call_reception()
    expect(badge(page).locator(".attention-count")).to_have_text("1")

    page.context.set_offline(True)
    expect(badge(page)).to_have_attribute("data-state", "offline")
    expect(badge(page).locator(".attention-count")).to_have_text("?")
    kiosk.call_reception()  # while she cannot hear of it

    page.context.set_offline(False)
    expect(badge(page)).to_have_attribute("data-state", "live")
    expect(badge(page).locator(".attention-count")).to_have_text("2")


def test_a_failing_summary_shows_offline_even_with_no_news_and_recovers(
    page, console, kiosk, reception_staff
):
    console.app.config["ATTENTION_CHECK_SECONDS"] = 1  # the page checks in every second
    kiosk.call_reception()
    on_parcels_page(page, console.url, reception_staff)
    expect(badge(page).locator(".attention-count")).to_have_text("1")
    page.route("**/attention", lambda route: route.fulfill(status=503, body="busy"))
    expect(badge(page)).to_have_attribute("data-state", "offline")
    expect(badge(page).locator(".attention-count")).to_have_text("?")

    page.unroute("**/attention")
    kiosk.call_reception()
    expect(badge(page)).to_have_attribute("data-state", "live")
    expect(badge(page).locator(".attention-count")).to_have_text("2")


def test_a_click_on_the_badge_lands_on_the_item(page, console, kiosk, reception_staff):
    kiosk.call_reception()
    later = kiosk.call_reception()["id"]
    on_parcels_page(page, console.url, reception_staff)
    first = page.locator("tr.item").first  # not yet on this page
    expect(first).to_have_count(0)

    expect(badge(page).locator(".attention-count")).to_have_text("2")
    badge(page).click()

    expect(page).to_have_url(re.compile(r"/#item-escalation-\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    landed = page.locator(f"#{anchor}")
    expect(landed).to_have_class(re.compile(r"\battention-target\b"))
    expect(landed).to_be_in_viewport()
    assert anchor != f"item-escalation-{later}", "the badge leads to the longest wait first"
    # On the queue page the badge follows the page's own stream and stays live.
    expect(badge(page)).to_have_attribute("data-state", "live")
    expect(badge(page).locator(".attention-count")).to_have_text("2")


def test_opted_in_notifications_fire_for_a_new_request_and_past_45_s_once(
    page, frozen_console, frozen_kiosk, frozen_reception_staff
):
    url, clock = frozen_console.url, frozen_console.clock
    page.context.grant_permissions(["notifications"], origin=url)
    page.add_init_script(RECORD_NOTIFICATIONS)
    on_parcels_page(page, url, frozen_reception_staff)
    page.get_by_text("提醒 · Alerts").click()
    page.get_by_label("桌面通知 · Desktop notifications").check()

    first = frozen_kiosk.call_reception()["id"]
    page.wait_for_function("() => window.__notes.length === 1")
    assert page.evaluate("window.__notes[0].title") == (
        "新请求 · New request: 呼叫前台 · Call reception"
    )
    assert "大堂 A · Lobby A" in page.evaluate("window.__notes[0].body")

    # The choice is remembered for her; an item already announced is not announced again.
    page.reload()
    expect(badge(page)).to_have_attribute("data-state", "live")
    page.get_by_text("提醒 · Alerts").click()
    expect(page.get_by_label("桌面通知 · Desktop notifications")).to_be_checked()
    clock.advance(seconds=46)
    frozen_kiosk.call_reception()  # brings the console's time: the first call passed 45 s
    page.wait_for_function("() => window.__notes.length === 2")
    titles = page.evaluate("window.__notes.map((n) => n.title)")
    assert titles[0].startswith("已等待 45 秒以上 · Waiting over 45 s: 呼叫前台")
    assert titles[1].startswith("新请求 · New request")
    ticks_pass(page)  # the page goes on ticking; nothing is announced twice
    assert page.evaluate("window.__notes.length") == 2

    # A click on the notification lands on the item in the queue.
    page.evaluate("window.__notes[0].dispatchEvent(new Event('click'))")
    expect(page).to_have_url(f"{url}/#item-escalation-{first}")
    expect(page.locator(f"#item-escalation-{first}")).to_have_class(
        re.compile(r"\battention-target\b")
    )


def test_without_opting_in_nothing_sounds_or_pops_up(page, console, kiosk, reception_staff):
    page.context.grant_permissions(["notifications"], origin=console.url)
    page.add_init_script(RECORD_NOTIFICATIONS + RECORD_TONES)
    on_parcels_page(page, console.url, reception_staff)
    kiosk.call_reception()
    expect(badge(page).locator(".attention-count")).to_have_text("1")
    ticks_pass(page)
    assert page.evaluate("[window.__notes.length, window.__tones]") == [0, 0]


def test_an_opted_in_chime_sounds_for_a_new_request(page, console, kiosk, reception_staff):
    page.add_init_script(RECORD_TONES)
    on_parcels_page(page, console.url, reception_staff)
    page.get_by_text("提醒 · Alerts").click()
    page.get_by_label("提示音 · Chime").check()
    page.wait_for_function("() => window.__tones > 0")  # a sample as she turns it on
    sample = page.evaluate("window.__tones")

    kiosk.call_reception()
    page.wait_for_function(f"() => window.__tones > {sample}")


def test_an_emergency_is_flagged_on_the_badge_and_in_the_title(
    page, console, kiosk, reception_staff
):
    on_parcels_page(page, console.url, reception_staff)
    kiosk.call_reception()
    expect(badge(page).locator(".attention-count")).to_have_text("1")
    expect(badge(page).locator(".attention-emergency")).to_be_hidden()

    burst_pipe = {
        "unit": "101", "category": "water", "problem": "burst_pipe", "urgency": "normal",
        "language": "zh_CN", "created_at": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    answer = kiosk.session.post(
        f"{console.url}/api/v1/tickets",
        json=burst_pipe,
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text

    expect(badge(page).locator(".attention-count")).to_have_text("2")
    expect(badge(page).locator(".attention-emergency")).to_have_text("危急 · Emergency")
    expect(badge(page)).to_have_class(re.compile(r"\bemergency\b"))
    expect(page).to_have_title(re.compile(r"^\(2\) 危急 · Emergency · \d+ s · "))
    db = building_db(console.app)
    [emergency] = [r["id"] for r in db.query("SELECT id FROM escalations WHERE kind = 'emergency'")]
    db.close()
    # A click leads to the emergency first, though the call waited longer.
    expect(badge(page)).to_have_attribute("href", f"/#item-escalation-{emergency}")
