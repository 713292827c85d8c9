"""Messages reach residents over their own channels, in their fallback order; staff see
how each one went; moved-out residents get nothing, and their data goes when they
are erased (by request or by retention). Real SMTP and a real webhook on loopback."""

from __future__ import annotations

import json
import re
import socket
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared import notifications, parcels, residents, retention
from shared.tokens import new_idempotency_key
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db
from tests.mailbox import Mailbox

DEAD_MAIL = "mailto://127.0.0.1:9?from=desk@lobbydesk.test&mode=insecure"
PHONE = "+8613800138001"
EMAIL = "wang@example.com"


class Webhook:
    """A real HTTP endpoint on loopback keeping what apprise's json:// posts to it:
    a WeChat bridge, a building's own gateway …"""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self._server.server_address[1]}/{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_parcel(reception, tracking="SF1234567890123", unit="101"):
    return reception.client.post(
        "/parcels/",
        data={"csrf_token": reception.csrf, "tracking": tracking, "unit": unit, "shelf": "A-3"},
        headers={"X-Requested-With": "fetch", "X-CSRF-Token": reception.csrf},
    )


def pickup_code(app, unit="101") -> str:
    row = building_db(app).execute(
        "SELECT b.code_sealed FROM parcel_batches b JOIN units u ON u.id = b.unit_id"
        " WHERE u.number = ? AND b.status = 'open'",
        (unit,),
    )
    return parcels.unseal_code(app.config["SECRET_KEY"], row.fetchone()[0])


def deliver_parcel_notices(app, clock, email_url):
    return parcels.deliver_notices(building_db(app), clock, app.config["SECRET_KEY"], email_url)


def deliver_notifications(app, clock, email_url):
    with warnings.catch_warnings():
        # apprise's first plugin import meets pygal's old import hook (console/charts.py)
        warnings.simplefilter("ignore", ImportWarning)
        return notifications.deliver_due(building_db(app), clock, email_url)


def visitor_confirmed(kiosk, reception, clock, name="张先生"):
    answer = kiosk.client.post(
        "/api/v1/visits",
        json={"name": name, "phone": "13812345678", "unit": "101", "created_at": "2026-11-27T08:59:59+00:00"},
        headers=kiosk.headers(new_idempotency_key()),
    )  # fmt: skip
    assert answer.status_code == 201
    reception.post(f"/visitors/{answer.json['id']}/decide", decision="confirm_host")
    return answer.json["id"]


def move_out(app, clock, resident_id):
    residents.move_out(building_db(app), clock, [resident_id], actor="test")


def messages_page(browser, **args) -> str:
    response = browser.client.get("/residents/messages", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def message_row(page: str, key: str) -> str:
    return re.search(rf'<tr data-message="{key}".*?</tr>', page, re.S).group(0)


@pytest.fixture
def manager(app):
    add_staff(app, username="mona", role="manager", display_name="Mona")
    browser = StaffBrowser(app.test_client())
    browser.login("mona")
    return browser


# --- channels in their order ----------------------------------------------------------------


def test_a_dead_webhook_falls_back_to_email_and_staff_see_both_tries(app, reception, clock):
    dead_hook = f"json://127.0.0.1:{closed_port()}/x"
    add_resident(app, "101", "王建国", email=EMAIL, notify_url=dead_hook)
    log_parcel(reception)
    mailbox = Mailbox().start()
    try:
        assert deliver_parcel_notices(app, clock, mailbox.apprise_url) == 1  # one pass
        [mail] = mailbox.wait_for(1)
    finally:
        mailbox.stop()
    assert mail["to"] == [EMAIL]
    text = mail["message"].get_body(preferencelist=("plain",)).get_content()
    assert pickup_code(app) in text
    row = message_row(messages_page(reception), "parcel_notice:1")
    assert "快递待取 · Parcel waiting" in row and "王建国" in row and "101" in row
    assert "已发送 · Sent" in row
    tries = re.findall(r'<li class="attempt (\w+)">(.*?)</li>', row, re.S)
    assert [outcome for outcome, _ in tries] == ["failed", "sent"]
    assert "Webhook" in tries[0][1] and "E-mail" in tries[1][1]
    assert EMAIL not in row and "w•••@example.com" in row  # masked, not hidden
    assert pickup_code(app) not in messages_page(reception)


def test_other_channels_get_the_code_as_text_and_staff_never_see_the_token(app, reception, clock):
    token = "k3y5ecretT0ken9876543210"
    with Webhook() as hook:
        add_resident(app, "101", "Emily Carter", email=None, notify_url=hook.url(f"bridge/{token}"))
        log_parcel(reception)
        assert deliver_parcel_notices(app, clock, None) == 1
    [posted] = hook.received
    assert posted["path"] == f"/bridge/{token}"
    assert pickup_code(app) in posted["body"]["message"]
    page = messages_page(reception)
    assert token not in page and "Webhook" in page


def test_a_visitor_arrived_message_goes_to_the_residents_first_channel(
    app, kiosk, reception, clock
):
    with Webhook() as hook:
        add_resident(app, "101", "王建国", email=EMAIL, notify_url=hook.url("wang"))
        visitor_confirmed(kiosk, reception, clock, name="张先生")
        mailbox = Mailbox().start()
        try:
            assert deliver_notifications(app, clock, mailbox.apprise_url) == 1
        finally:
            mailbox.stop()
    [posted] = hook.received
    assert "张先生" in posted["body"]["title"] and not mailbox.messages  # not both channels
    row = message_row(messages_page(reception, unit_id=1), "notification:1")
    assert "访客到达 · Visitor arrived" in row and "已发送 · Sent" in row


# --- moved out --------------------------------------------------------------------------------


def test_a_moved_out_resident_gets_no_new_notice_and_a_pending_one_is_not_sent(
    app, reception, clock
):
    leaving = add_resident(app, "101", "王建国", email=EMAIL)
    log_parcel(reception)  # queued for them …
    move_out(app, clock, leaving)  # … and they leave before it goes out
    staying = add_resident(app, "101", "李娜", email="li@example.com")
    log_parcel(reception, tracking="YT1234567890123")
    db = building_db(app)
    notices = list(db.query("SELECT resident_id, status FROM parcel_notices ORDER BY id"))
    assert notices == [
        {"resident_id": leaving, "status": "cancelled"},
        {"resident_id": staying, "status": "pending"},
    ]
    mailbox = Mailbox().start()
    try:
        assert deliver_parcel_notices(app, clock, mailbox.apprise_url) == 1
        mails = mailbox.wait_for(1)
    finally:
        mailbox.stop()
    assert [m["to"] for m in mails] == [["li@example.com"]]
    row = message_row(messages_page(reception, status="cancelled"), "parcel_notice:1")
    assert "已取消 · Cancelled" in row and "已迁出 · Moved out" in row


def test_a_message_queued_before_a_move_out_is_cancelled_at_send_time(app, kiosk, reception, clock):
    """Even a message that slipped past the move-out's own cancelling is never sent."""
    resident_id = add_resident(app, "101", "王建国", email=EMAIL)
    visitor_confirmed(kiosk, reception, clock)
    db = building_db(app)
    db.execute("UPDATE residents SET moved_out_on = '2026-11-27' WHERE id = ?", (resident_id,))
    mailbox = Mailbox().start()
    try:
        assert deliver_notifications(app, clock, mailbox.apprise_url) == 0
    finally:
        mailbox.stop()
    assert not mailbox.messages
    row = db["notifications"].get(1)
    assert row["status"] == "failed" and row["last_error"] == "moved out"
    assert db["notification_attempts"].count == 0
    page = message_row(messages_page(reception), "notification:1")
    assert "已取消 · Cancelled" in page and "重试 · Retry" not in page


# --- retry from the page ----------------------------------------------------------------------


def test_a_failed_message_is_retried_from_the_messages_page(app, kiosk, reception, clock):
    add_resident(app, "101", "王建国", email=EMAIL)
    visitor_confirmed(kiosk, reception, clock)
    for _ in range(notifications.MAX_ATTEMPTS):
        deliver_notifications(app, clock, DEAD_MAIL)
        clock.advance(hours=2)
    db = building_db(app)
    assert db["notifications"].get(1)["status"] == "failed"
    reception.login()  # the shift went on: twelve hours later
    row = message_row(messages_page(reception, status="failed"), "notification:1")
    assert "失败 · Failed" in row and row.count('<li class="attempt failed">') == 6
    retry = "/residents/messages/notifications/1/retry"
    assert f'action="{retry}"' in row
    answer = reception.post(retry, status="failed")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("status=failed")
    assert db["notifications"].get(1)["status"] == "pending"
    audit = list(db.query("SELECT actor FROM audit_log WHERE action = 'notification.retry'"))
    assert audit == [{"actor": "staff:1"}]
    mailbox = Mailbox().start()
    try:
        assert deliver_notifications(app, clock, mailbox.apprise_url) == 1
        assert len(mailbox.wait_for(1)) == 1
    finally:
        mailbox.stop()
    assert "已发送 · Sent" in message_row(messages_page(reception), "notification:1")
    assert reception.post(retry).status_code == 302  # already sent: told, nothing happens
    assert db["notifications"].get(1)["status"] == "sent"


# --- the person tool and retention --------------------------------------------------------------


def _personal_text(app) -> str:
    return "\n".join(building_db(app).conn.iterdump())


def _leaves_nothing(app, hook_url: str) -> None:
    dump = _personal_text(app)
    for value in ("王建国", PHONE, "13800138001", EMAIL, hook_url, "wangjianguo"):
        assert value not in dump, value


def test_the_person_tool_finds_a_resident_with_channels_and_messages(app, manager, reception):
    add_resident(app, "101", "王建国", email=EMAIL, phone=PHONE)
    log_parcel(reception)
    searched = manager.post("/admin/person", name="王建国")
    assert searched.status_code == 302  # post-redirect-get: the browser's Back works
    page = manager.client.get(searched.headers["Location"]).get_data(as_text=True)
    assert "residents 1" in page and "parcel notices 1" in page and "channels 1" in page
    assert "w•••@example.com" in page and "快递待取 · Parcel waiting" in page
    exported = manager.post("/admin/person/export", phone="138 0013 8001", format="json").json
    assert [c["address"] for c in exported["resident_channels"]] == [EMAIL]
    assert len(exported["parcel_notices"]) == 1 and exported["residents"][0]["phone"] == PHONE


def test_erasing_a_moved_out_resident_leaves_no_personal_data_but_their_history(
    app, manager, reception, kiosk, clock
):
    hook = f"json://127.0.0.1:{closed_port()}/wang-bridge"
    resident_id = add_resident(app, "101", "王建国", email=EMAIL, phone=PHONE, notify_url=hook)
    log_parcel(reception)
    visitor_confirmed(kiosk, reception, clock)
    deliver_parcel_notices(app, clock, DEAD_MAIL)  # tries on both channels
    form = {"name": "王建国", "confirm": "yes", "resident_id": resident_id}
    manager.post("/admin/person/erase-residents", **form)
    assert building_db(app)["residents"].get(resident_id)["erased_at"] is None  # lives here
    move_out(app, clock, resident_id)
    assert manager.post("/admin/person/erase-residents", **form).status_code == 302
    db = building_db(app)
    _leaves_nothing(app, hook)
    erased = db["residents"].get(resident_id)
    assert erased["name"] == retention.ERASED_NAME and erased["erased_at"]
    assert db["parcels"].count == 1 and db["visits"].count == 1  # the building's history
    assert db["notification_attempts"].count == 2 and db["parcel_notices"].count == 1
    assert db["resident_channels"].count == 0 and db["resident_search"].count == 0
    actions = [r["action"] for r in db.query("SELECT action FROM audit_log ORDER BY id")]
    assert "resident.erase" in actions and "person.erase_residents" in actions
    assert "已删除 · erased" in messages_page(reception)  # the message list still reads


def test_retention_erases_residents_moved_out_longer_ago_than_the_building_keeps(
    app, manager, reception, clock
):
    gone = add_resident(app, "101", "王建国", email=EMAIL, phone=PHONE)
    log_parcel(reception)
    move_out(app, clock, gone)
    answer = manager.post(
        "/admin/settings/retention",
        visit_retention_days="90",
        photo_retention_days="30",
        resident_retention_days="200",
    )
    assert answer.status_code == 302
    clock.advance(days=150)
    recent = add_resident(app, "102", "李娜", email="li@example.com")
    move_out(app, clock, recent)
    db = building_db(app)
    assert retention.purge(db, clock)["residents_erased"] == 0
    clock.advance(days=51)  # 201 days since the first moved out, 51 since the second
    assert retention.purge(db, clock)["residents_erased"] == 1
    _leaves_nothing(app, EMAIL)
    assert db["residents"].get(recent)["name"] == "李娜"
    assert db["parcels"].count == 1


@pytest.mark.parametrize("value", ["0", "abc", "99999", ""])
def test_nonsense_resident_periods_are_refused(manager, value):
    manager.post(
        "/admin/settings/retention",
        visit_retention_days="90",
        photo_retention_days="30",
        resident_retention_days=value,
    )
    page = manager.client.get("/admin/settings").get_data(as_text=True)
    assert "Not saved" in page and 'name="resident_retention_days"' in page
    assert 'value="365"' in page
