"""No mail server is said once, to whoever can fix it, on the resident messages page
as on the waiting-parcels page; Retry (which cannot help) is not offered (issue 4/9)."""

from __future__ import annotations

from shared import parcels
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db


def log_parcel(reception, tracking, unit):
    return reception.client.post(
        "/parcels/",
        data={"csrf_token": reception.csrf, "tracking": tracking, "unit": unit, "shelf": "A-3"},
        headers={"X-Requested-With": "fetch", "X-CSRF-Token": reception.csrf},
    )


def test_the_messages_page_says_no_mail_server_once_and_offers_no_retry(
    app, client, reception, clock
):
    for unit, name in (("101", "王建国"), ("102", "李娜")):
        add_resident(app, unit=unit, name=name, email=f"r{unit}@example.com")
        log_parcel(reception, f"SF12345678901{unit[-2:]}", unit)
    db = building_db(app)
    for _ in range(8):  # every try runs out against the missing server: failed for good
        parcels.deliver_notices(db, clock, app.config["SECRET_KEY"], None)
        clock.advance(hours=2)
    reception.login()  # the hours passed signed the desk out
    page = client.get("/residents/messages").get_data(as_text=True)
    assert page.count('data-state="failed"') == 2
    assert ">重试 · Retry<" not in page
    assert page.count("设置后自动发送 · Sent once set up") == 2
    assert page.count('id="mail-server-missing"') == 1 and "ask your administrator" in page
    assert "LOBBYDESK_NOTIFY_EMAIL_URL" not in page
    add_staff(app, username="admin", role="admin", display_name="管理员")
    admin = StaffBrowser(app.test_client())
    assert admin.login("admin").status_code == 302
    page = admin.client.get("/residents/messages").get_data(as_text=True)
    assert page.count('id="mail-server-missing"') == 1
    assert "LOBBYDESK_NOTIFY_EMAIL_URL" in page and "mailtos://" in page
