"""Reception starts an emergency broadcast in Chromium: the red banner is on every page,
the roll call is one click away with the visitor on site, and ending it tells the kiosk."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from shared.clock import local_time
from shared.tokens import new_idempotency_key
from tests.browser.actions import SCREENSHOTS, open_live_queue, sign_in
from tests.helpers import StaffBrowser, building_db


def _visitor_on_site(console, kiosk, name="张先生", unit="203", party=2) -> int:
    """A visitor registered at the kiosk and confirmed by reception."""
    response = kiosk.session.post(
        f"{kiosk.base_url}/api/v1/visits",
        json={"name": name, "phone": "13812345678", "unit": unit, "purpose": "visit",
              "party_size": party, "language": "zh_CN", "created_at": datetime.now(UTC).isoformat()},
        headers={"Idempotency-Key": new_idempotency_key()},
        timeout=5,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    visit_id = response.json()["id"]
    desk = StaffBrowser(console.app.test_client())
    desk.login()
    assert desk.post(f"/visitors/{visit_id}/decide", decision="confirm_id").status_code == 302
    return visit_id


def _arrived(console, visit_id: int) -> str:
    """When reception confirmed the visitor, on the building's clock (HH:MM)."""
    visit = next(iter(building_db(console.app).query(
        "SELECT decided_at FROM visits WHERE id = ?", (visit_id,))))  # fmt: skip
    return local_time(visit["decided_at"], "Asia/Shanghai", "%H:%M")


def test_reception_starts_an_emergency_takes_the_roll_call_and_ends_it(
    page, console, kiosk, reception_staff
):
    visit_id = _visitor_on_site(console, kiosk)
    cursor = kiosk.feed(after=0, wait=0)["cursor"]
    sign_in(page, console.url, reception_staff)
    expect(page.locator("#emergency-banner")).to_have_count(0)

    page.get_by_role("link", name="紧急广播 · Emergency").click()
    page.get_by_role("link", name="火警 · Fire alarm").click()
    zh = page.get_by_label("中文说明 · Chinese instructions")
    expect(zh).to_have_value(
        "请保持冷静，立即从最近的安全出口经楼梯疏散到室外集合点。不要乘坐电梯，不要返回取物品。请听从工作人员指挥。"
    )
    zh.fill("请立即从东侧楼梯疏散到室外集合点，不要乘坐电梯。")
    page.get_by_role("button", name="向所有终端广播 · Broadcast to every kiosk").click()

    banner = page.locator("#emergency-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("紧急广播进行中 · Emergency broadcast on")
    expect(banner).to_contain_text("火警 · Fire alarm")
    expect(page.locator(".emergency-active")).to_contain_text("请立即从东侧楼梯疏散到室外集合点")
    page.screenshot(path=str(SCREENSHOTS / "broadcast_console_emergency.png"), full_page=True)
    started = kiosk.feed(after=cursor, wait=5)["events"]
    assert [e["kind"] for e in started] == ["emergency.started"]
    assert (
        started[0]["payload"]["instructions_zh"]
        == "请立即从东侧楼梯疏散到室外集合点，不要乘坐电梯。"
    )

    page.get_by_role("link", name="访客记录 · Visitor log").click()  # on every page
    expect(page.locator("#emergency-banner")).to_be_visible()

    banner.get_by_role("link", name="点名 · Roll call").click()
    row = page.locator(f'tr[data-visit-id="{visit_id}"]')
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("203")
    expect(cells.nth(1)).to_have_text("张先生")
    expect(cells.nth(2)).to_have_text("2")
    expect(cells.nth(3)).to_have_text(_arrived(console, visit_id))
    expect(page.locator("#roll-call-total")).to_have_text(
        "在场访客 1 组，共 2 人 · 1 party, 2 people on site"
    )
    page.screenshot(path=str(SCREENSHOTS / "broadcast_console_roll_call.png"), full_page=True)
    page.emulate_media(media="print")  # what the printer gets: the list, no menus or banner
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("#emergency-banner")).to_be_hidden()
    expect(row).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "broadcast_console_roll_call_print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.get_by_role("link", name="返回 · Back").click()
    page.get_by_role("button", name="结束紧急广播 · End the emergency").click()
    expect(page.get_by_role("alert").filter(has_text="Tick the confirmation first")).to_be_visible()
    expect(page.locator("#emergency-banner")).to_be_visible()  # not ended without the tick
    page.get_by_label("I confirm: every kiosk takes the instructions down").check()
    page.get_by_role("button", name="结束紧急广播 · End the emergency").click()
    expect(page.locator("#emergency-banner")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("紧急广播已结束")
    after = started[-1]["id"]
    assert [e["kind"] for e in kiosk.feed(after=after, wait=5)["events"]] == ["emergency.ended"]


def test_an_emergency_started_at_another_desk_shows_on_an_open_live_queue(
    page, console, reception_staff
):
    """The receptionist keeps the live queue open and never reloads it: an emergency a
    colleague starts appears there, and goes when it is ended."""
    open_live_queue(page, console.url, reception_staff)
    expect(page.locator("tr.emergency-row")).to_have_count(0)
    colleague = StaffBrowser(console.app.test_client())
    colleague.login()
    started = colleague.post(
        "/emergency/start",
        kind="water",
        instructions_zh="地下室进水，请勿进入地下车库。",
        instructions_en="The basement is flooding: keep out of the car park.",
    )
    assert started.status_code == 302
    row = page.locator("tr.emergency-row")
    expect(row).to_contain_text("紧急广播进行中 · Emergency broadcast on")
    page.screenshot(path=str(SCREENSHOTS / "console_queue_emergency_live.png"), full_page=True)
    [emergency] = building_db(console.app).query("SELECT id FROM emergencies")
    assert colleague.post(f"/emergency/{emergency['id']}/end", confirm="yes").status_code == 302
    expect(row).to_have_count(0)


def test_a_manager_publishes_a_notice_with_a_picture_in_the_browser(page, console, kiosk, tmp_path):
    import io

    from PIL import Image

    from tests.helpers import add_staff

    add_staff(console.app, username="lijingli", role="manager", display_name="李经理")
    poster = tmp_path / "poster.png"
    Image.new("RGB", (1200, 800), (0, 121, 107)).save(poster, format="PNG")
    sign_in(page, console.url, "lijingli")
    page.get_by_role("link", name="公告 · Notices").click()
    page.get_by_role("link", name="＋ 新公告 · New notice").click()
    chinese = page.locator("fieldset[lang=zh-CN]")
    english = page.locator("fieldset[lang=en]")
    chinese.get_by_label("标题 · Title").fill("电梯保养")
    chinese.get_by_label("内容 · Text").fill("12月1日上午2号电梯停用保养。")
    english.get_by_label("标题 · Title").fill("Lift maintenance")
    english.get_by_label("内容 · Text").fill(
        "Lift 2 is out of service on the morning of 1 December."
    )
    page.get_by_label("结束 · Ends (可不填 · optional)").fill("2030-12-01T12:00")
    page.get_by_label("优先级 · Priority (0–9, 9 在前 · 9 first)").fill("4")
    page.get_by_label("图片 · Picture", exact=False).set_input_files(str(poster))
    page.screenshot(path=str(SCREENSHOTS / "broadcast_console_notice_form.png"), full_page=True)
    page.get_by_role("button", name="发布 · Publish").click()

    row = page.locator("table.announcements-table tbody tr").first
    expect(row).to_contain_text("电梯保养")
    expect(row).to_contain_text("展示中 · Showing")
    expect(row).to_contain_text("2030-12-01 12:00")
    thumb = row.locator("img.thumb")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.naturalWidth") == 1200  # served, re-encoded
    page.screenshot(path=str(SCREENSHOTS / "broadcast_console_notices.png"), full_page=True)
    [notice] = kiosk.session.get(f"{console.url}/api/v1/announcements", timeout=5).json()[
        "announcements"
    ]
    assert (notice["title_en"], notice["priority"]) == ("Lift maintenance", 4)
    picture = kiosk.session.get(
        f"{console.url}/api/v1/announcements/{notice['id']}/image", timeout=5
    )
    with Image.open(io.BytesIO(picture.content)) as image:
        assert image.format == "JPEG" and image.size == (1200, 800)
