"""Actions that cannot be undone ask first (issue 4/9): without the tick nothing
changes and the page says so beside the box (422); with it the action happens."""

from __future__ import annotations

import re

import pytest

from shared import residents, staff
from tests.helpers import PASSWORD, StaffBrowser, add_staff, building_db, paired_kiosk

NOTICE = {
    "title_zh": "周五停水通知",
    "title_en": "Water off on Friday",
    "body_zh": "周五全楼停水。",
    "body_en": "No water on Friday.",
    "priority": "5",
    "starts_at": "",
    "ends_at": "",
}


def signed_in(app, username, role):
    add_staff(app, username=username, role=role, display_name=f"{username}名")
    browser = StaffBrowser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


@pytest.fixture
def manager(app):
    return signed_in(app, "limanager", "manager")


@pytest.fixture
def admin(app):
    return signed_in(app, "zhaoadmin", "admin")


def text(response) -> str:
    return response.get_data(as_text=True)


def beside_the_box(html: str) -> str:
    """The error under the confirmation box, and that the box points at it."""
    assert re.search(r'name="confirm" value="yes"[^>]*aria-describedby="confirm-error"', html)
    found = re.search(r'id="confirm-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def refused_then_done(browser, path, check_unchanged, check_done, **data):
    page = browser.client.get(path)
    assert page.status_code == 200 and 'name="confirm"' in text(page)
    refused = browser.post(path, **data)
    assert refused.status_code == 422
    assert "Tick the confirmation first" in beside_the_box(text(refused))
    check_unchanged()
    done = browser.post(path, confirm="yes", **data)
    assert done.status_code == 302
    check_done()
    return text(browser.client.get(done.headers["Location"]))


def test_withdrawing_a_notice_names_it_and_asks_first(app, manager):
    manager.post("/announcements/new", **NOTICE)
    db = building_db(app)

    def withdrawn():
        return db.execute("SELECT withdrawn_at FROM announcements").fetchone()[0]

    path = "/announcements/1/withdraw"
    assert "Water off on Friday" in text(manager.client.get(path))
    after = refused_then_done(
        manager, path, lambda: withdrawn() is None or pytest.fail("withdrawn"), withdrawn
    )
    assert "已撤回 · Withdrawn: 周五停水通知" in after
    assert withdrawn() is not None


def test_removing_a_parcel_proxy_or_an_instruction_asks_first(app, manager):
    db = building_db(app)
    manager.post("/residents/units/1/proxies", name="李阿姨", phone="13700002222")
    manager.post("/residents/units/1/instructions", kind="note", text="快递放门卫室")
    [proxy] = residents.proxies_of(db, 1)
    [instruction] = residents.instructions_of(db, 1)
    assert "李阿姨" in text(manager.client.get(f"/residents/units/1/proxies/{proxy['id']}/remove"))
    after = refused_then_done(
        manager,
        f"/residents/units/1/proxies/{proxy['id']}/remove",
        lambda: len(residents.proxies_of(db, 1)) == 1 or pytest.fail("removed"),
        lambda: residents.proxies_of(db, 1) == [] or pytest.fail("kept"),
    )
    assert "已移除 · Removed: 李阿姨" in after
    refused_then_done(
        manager,
        f"/residents/units/1/instructions/{instruction['id']}/remove",
        lambda: len(residents.instructions_of(db, 1)) == 1 or pytest.fail("removed"),
        lambda: residents.instructions_of(db, 1) == [] or pytest.fail("kept"),
    )


def test_disabling_an_account_asks_first_and_enabling_does_not(app, admin):
    colleague = add_staff(app)
    db = building_db(app)

    def active():
        return staff.get(db, colleague)["active"]

    path = f"/admin/staff/{colleague}/active"
    assert "王芳 (wangfang)" in text(admin.client.get(path))
    after = refused_then_done(
        admin,
        path,
        lambda: active() == 1 or pytest.fail("disabled"),
        lambda: active() == 0 or pytest.fail("still active"),
        active="0",
    )
    assert "已停用，会话已结束 · Disabled; signed out everywhere." in after
    assert admin.post(path, active="1").status_code == 302 and active() == 1


def test_a_password_reset_shows_every_error_beside_its_box_and_never_the_password(app, admin):
    colleague = add_staff(app)
    path = f"/admin/staff/{colleague}/password"
    refused = admin.post(path, password="short")
    html = text(refused)
    assert refused.status_code == 422 and 'value="short"' not in html
    assert re.search(r'aria-invalid="true" aria-describedby="confirm-password-error"', html)
    assert "Use at least 8 characters" in html and "Tick the confirmation first" in html
    weak_but_ticked = admin.post(path, password="short", confirm="yes")
    assert weak_but_ticked.status_code == 422 and "confirm-error" not in text(weak_but_ticked)
    good = admin.post(path, password="a brand new pass phrase", confirm="yes")
    assert good.status_code == 302
    old = StaffBrowser(app.test_client())
    assert old.login("wangfang", PASSWORD).status_code != 302
    assert old.login("wangfang", "a brand new pass phrase").status_code == 302


def test_revoking_a_kiosk_asks_first(app, admin):
    kiosk_id, _token = paired_kiosk(app, name="大堂 B")
    db = building_db(app)

    def revoked():
        return db.execute("SELECT revoked_at FROM kiosks WHERE id = ?", (kiosk_id,)).fetchone()[0]

    path = f"/admin/kiosks/{kiosk_id}/revoke"
    assert "大堂 B" in text(admin.client.get(path))
    after = refused_then_done(
        admin,
        path,
        lambda: revoked() is None or pytest.fail("revoked"),
        lambda: revoked() is not None or pytest.fail("not revoked"),
    )
    assert "Kiosk revoked" in after
