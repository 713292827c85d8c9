"""Residents hear about their ticket by e-mail (a real SMTP server on loopback) and
rate it through the signed link in the "resolved" message, without signing in.
The public page writes nothing but ratings: forged links go to the application
log, and posts are throttled per client address."""

from __future__ import annotations

import logging
import re
import warnings

import pytest

from shared import notifications, tickets
from tests.helpers import add_resident, add_staff, building_db
from tests.mailbox import Mailbox

SECRET = "test-" + "x" * 40
PUBLIC = "http://lobby.test"
LINK = re.compile(r"http://lobby\.test(/rate/[A-Za-z0-9_.\-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def staff_id(app):
    return add_staff(app, username="liming", display_name="李明")


@pytest.fixture(autouse=True)
def resident(app):
    add_resident(app, "101", "王建国", email="wang@example.com")
    add_resident(app, "101", "王小明", email=None)  # no channel: nobody to write to
    return "wang@example.com"


def report(kiosk, **fields):
    body = {"unit": "101", "category": "water", "problem": "dripping_tap", **fields}
    answer = kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers())
    assert answer.status_code == 201
    return answer.json


def move(app, clock, ticket_id, staff_id, status, message=None):
    return tickets.set_status(
        building_db(app),
        clock,
        ticket_id,
        staff_id=staff_id,
        status=status,
        message=message,
        secret_key=SECRET,
        public_url=PUBLIC,
    )


def deliver(app, clock) -> list[dict]:
    mailbox = Mailbox().start()
    try:
        with warnings.catch_warnings():
            # apprise imports its plugins on first use; pygal's old-style import hook
            # (imported by console/charts.py) turns each optional miss into an ImportWarning.
            warnings.simplefilter("ignore", ImportWarning)
            sent = notifications.deliver_due(building_db(app), clock, mailbox.apprise_url)
        mails = mailbox.wait_for(sent)
    finally:
        mailbox.stop()
    assert len(mails) == sent
    return [
        {
            "to": mail["to"],
            "subject": mail["message"]["subject"],
            "text": mail["message"].get_body(preferencelist=("plain", "html")).get_content(),
        }
        for mail in mails
    ]


def latest_link(app) -> str:
    """The rating link in the newest queued resident message."""
    row = building_db(app).execute(
        "SELECT body FROM notifications WHERE kind = 'ticket.status' ORDER BY id DESC LIMIT 1"
    )
    return LINK.search(row.fetchone()[0]).group(1)


def resolved_ticket(app, kiosk, clock, staff_id) -> tuple[dict, str]:
    created = report(kiosk)
    move(app, clock, created["id"], staff_id, "resolved", message="已更换水龙头")
    return created, latest_link(app)


def open_form(client, path):
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    return page, match.group(1) if match else None


def stored(app, ticket_id):
    return tickets.get(building_db(app), ticket_id)


def test_the_resident_is_told_of_each_step_and_rates_through_the_link(
    app, client, kiosk, clock, staff_id, resident
):
    created = report(kiosk)
    ticket_id = created["id"]
    db = building_db(app)
    tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="dept:maintenance")
    clock.advance(minutes=10)
    move(app, clock, ticket_id, staff_id, "in_progress", message="师傅已上门 · The plumber is here")
    clock.advance(minutes=30)
    move(app, clock, ticket_id, staff_id, "resolved", message="已更换水龙头 · New tap fitted")

    mails = deliver(app, clock)
    assert [m["to"] for m in mails] == [[resident]] * 3  # the resident without e-mail gets none
    assigned, started, resolved = mails
    assert "报修单 1" in assigned["subject"] and "Ticket 1" in assigned["subject"]
    assert "已派工" in assigned["subject"] and "assigned" in assigned["subject"]
    assert "水龙头漏水" in assigned["text"] and "Dripping tap" in assigned["text"]
    assert "当前状态：已派工" in assigned["text"] and "Status now: Assigned" in assigned["text"]
    assert "正在处理" in started["subject"] and "work has started" in started["subject"]
    assert "师傅已上门 · The plumber is here" in started["text"]
    assert "已解决" in resolved["subject"] and "resolved" in resolved["subject"]
    assert "已更换水龙头 · New tap fitted" in resolved["text"]
    assert "请为这次服务打分" in resolved["text"] and "Please rate the service" in resolved["text"]
    assert LINK.search(assigned["text"]) is None and LINK.search(started["text"]) is None
    path = LINK.search(resolved["text"]).group(1)

    page, csrf = open_form(client, path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "服务评价" in html and "Rate our service" in html
    assert "报修单 <strong>1</strong>" in html and "水龙头漏水 · Dripping tap" in html
    assert all(f'name="rating" value="{n}"' in html for n in range(1, 6))

    # A low score first asks why (chips are checkboxes: no JavaScript needed) …
    why = client.post(path, data={"csrf_token": csrf, "rating": "2"})
    assert why.status_code == 200
    assert 'type="checkbox" name="reasons" value="slow"' in why.get_data(as_text=True)
    assert stored(app, ticket_id)["rating"] is None
    # … and the answer is stored with the reasons.
    thanks = client.post(
        path,
        data={
            "csrf_token": csrf,
            "rating": "2",
            "confirm": "1",
            "reasons": ["slow", "no_update"],
            "comment": "等了很久",
        },
    )
    assert thanks.status_code == 200
    assert "谢谢您的评价" in thanks.get_data(as_text=True)
    ticket = stored(app, ticket_id)
    assert ticket["rating"] == 2 and ticket["rated_via"] == "link"
    assert ticket["rating_reason_keys"] == ["slow", "no_update"]
    assert ticket["rating_comment"] == "等了很久"

    again = client.get(path)
    assert again.status_code == 409
    assert "已经评价过了" in again.get_data(as_text=True)
    assert "Already rated" in again.get_data(as_text=True)
    repost = client.post(path, data={"csrf_token": csrf, "rating": "5"})
    assert repost.status_code == 409 and stored(app, ticket_id)["rating"] == 2


def test_a_top_score_is_stored_with_one_tap(app, client, kiosk, clock, staff_id):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    _page, csrf = open_form(client, path)
    answer = client.post(path, data={"csrf_token": csrf, "rating": "5"})
    assert answer.status_code == 200
    assert stored(app, created["id"])["rating"] == 5


@pytest.mark.parametrize("rating", ["", "0", "6", "five", "2.5"])
def test_a_score_that_is_not_1_to_5_is_refused_on_the_page(
    app, client, kiosk, clock, staff_id, rating
):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    _page, csrf = open_form(client, path)
    answer = client.post(path, data={"csrf_token": csrf, "rating": rating, "confirm": "1"})
    assert answer.status_code == 400
    assert "请选择 1-5 分" in answer.get_data(as_text=True)
    assert stored(app, created["id"])["rating"] is None


def test_an_unknown_reason_is_refused_and_the_choices_kept(app, client, kiosk, clock, staff_id):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    _page, csrf = open_form(client, path)
    answer = client.post(
        path,
        data={"csrf_token": csrf, "rating": "1", "confirm": "1", "reasons": ["slow", "rude"]},
    )
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "unknown reasons: rude" in html
    assert 'value="slow" checked' in html
    assert stored(app, created["id"])["rating"] is None


def audit_rows(app) -> int:
    return building_db(app).execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]


def test_a_forged_link_is_refused_logged_and_nothing_is_stored(
    app, client, kiosk, clock, staff_id, caplog
):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    _page, csrf = open_form(client, path)  # a real form, for its CSRF token
    forged = path[:-1] + ("A" if path[-1] != "A" else "B")
    page = client.get(forged)
    assert page.status_code == 400
    assert "链接无效" in page.get_data(as_text=True)
    assert "This link is not valid" in page.get_data(as_text=True)
    before = audit_rows(app)
    with caplog.at_level(logging.WARNING, logger="console.rating"):
        answer = client.post(forged, data={"csrf_token": csrf, "rating": "1", "confirm": "1"})
    assert answer.status_code == 400
    assert stored(app, created["id"])["rating"] is None
    # The application log says so; the append-only audit log gets nothing from strangers.
    assert [r.getMessage() for r in caplog.records] == [
        "rating link refused (token_invalid) from 127.0.0.1"
    ]
    assert audit_rows(app) == before


def test_posting_made_up_links_is_throttled_per_address_and_writes_nothing(
    app, client, kiosk, clock, staff_id
):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    _page, csrf = open_form(client, path)
    before = audit_rows(app)
    answers = [
        client.post("/rate/" + "A" * 500, data={"csrf_token": csrf, "rating": "5"})
        for _ in range(25)
    ]
    assert [a.status_code for a in answers] == [400] * 20 + [429] * 5
    refused = answers[-1]
    html = refused.get_data(as_text=True)
    assert "操作太频繁" in html and "Too many tries" in html
    assert "请 10 分钟后再试" in html and "try again in 10 minutes" in html
    assert refused.headers["Retry-After"] == "600"
    assert audit_rows(app) == before
    # Even the real link waits at that address …
    assert client.post(path, data={"csrf_token": csrf, "rating": "5"}).status_code == 429
    # … but the resident at home (another address) rates at once, and that is audited.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    _page, other_csrf = open_form(elsewhere, path)
    assert elsewhere.post(path, data={"csrf_token": other_csrf, "rating": "5"}).status_code == 200
    assert stored(app, created["id"])["rating"] == 5
    rated = building_db(app).execute(
        "SELECT actor, detail FROM audit_log WHERE action = 'ticket.rate'"
    )
    assert rated.fetchall() == [("resident:link", '{"rating": 5, "reasons": [], "via": "link"}')]
    # Ten minutes later the first address may post again.
    clock.advance(minutes=10)
    again = client.post("/rate/" + "A" * 500, data={"csrf_token": csrf, "rating": "5"})
    assert again.status_code == 400


def test_a_ticket_qr_is_not_a_rating_link(app, client, kiosk, clock, staff_id):
    created, _path = resolved_ticket(app, kiosk, clock, staff_id)
    assert client.get(f"/rate/{created['qr']}").status_code == 400


def test_without_the_form_token_nothing_is_stored(app, client, kiosk, clock, staff_id):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    client.get(path)
    assert client.post(path, data={"rating": "5"}).status_code == 400
    assert stored(app, created["id"])["rating"] is None


def test_a_link_from_before_a_reopen_is_refused(app, client, kiosk, clock, staff_id):
    created, old_path = resolved_ticket(app, kiosk, clock, staff_id)
    move(app, clock, created["id"], staff_id, "reopen", message="问题又出现了")
    page = client.get(old_path)
    assert page.status_code == 410 and "链接已失效" in page.get_data(as_text=True)
    move(app, clock, created["id"], staff_id, "resolved", message="这次修好了")
    new_path = latest_link(app)
    assert new_path != old_path
    _page, csrf = open_form(client, new_path)
    refused = client.post(old_path, data={"csrf_token": csrf, "rating": "4"})
    assert refused.status_code == 410 and stored(app, created["id"])["rating"] is None
    assert client.post(new_path, data={"csrf_token": csrf, "rating": "4"}).status_code == 200
    ticket = stored(app, created["id"])
    assert ticket["rating"] == 4 and ticket["reopened_count"] == 1


def test_a_link_expires_after_30_days(app, client, kiosk, clock, staff_id):
    created, path = resolved_ticket(app, kiosk, clock, staff_id)
    clock.advance(days=29, hours=23)
    assert client.get(path).status_code == 200
    clock.advance(hours=2)
    page = client.get(path)
    assert page.status_code == 410 and "链接已过期" in page.get_data(as_text=True)


def test_the_link_page_is_public_and_shows_no_personal_data(app, client, kiosk, clock, staff_id):
    created = report(kiosk, description="王建国家厨房漏水 13812345678")
    move(app, clock, created["id"], staff_id, "resolved")
    page = client.get(latest_link(app))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "13812345678" not in html and "王建国" not in html and "李明" not in html
