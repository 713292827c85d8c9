"""Links to the resident's own page: signed for one resident and one unit, 24 hours,
checked against the database on every use, sent only through the resident's own
channel, throttled, audited; the kiosk's request answers the same whoever asked."""

from __future__ import annotations

import json
import re

import pytest

from shared import resident_links, residents, signing, tickets
from shared.errors import LobbyDeskError
from tests.helpers import add_resident, building_db

SECRET = "test-" + "x" * 40
PUBLIC = "http://lobby.test"
LINK = re.compile(r"https?://[^/\s]+/me/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def wang(app, clock):
    return add_resident(app, "101", "王建国", phone="13800138000", clock=clock)


def _resident(app, resident_id):
    return residents.get(building_db(app), resident_id)


def _token(app, clock, resident_id, **override):
    return resident_links.issue(SECRET, {**_resident(app, resident_id), **override}, clock.now())


def _audit(app, action):
    rows = building_db(app).query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


def _links_sent(app, resident_id):
    rows = building_db(app).query(
        "SELECT * FROM notifications WHERE resident_id = ? AND kind = 'resident.link'",
        (resident_id,),
    )
    return [LINK.search(r["body"]).group(1) for r in rows]


def test_a_link_opens_the_page_of_its_resident_and_unit(app, clock, wang):
    scope = resident_links.check(building_db(app), clock, SECRET, _token(app, clock, wang))
    assert scope["resident"]["id"] == wang
    assert scope["unit"]["number"] == "101"


def test_a_link_works_for_24_hours_then_expires(app, clock, wang):
    token = _token(app, clock, wang)
    clock.advance(hours=23, minutes=59)
    resident_links.check(building_db(app), clock, SECRET, token)
    clock.advance(minutes=2)
    with pytest.raises(signing.TokenExpired):
        resident_links.check(building_db(app), clock, SECRET, token)


def test_a_link_signed_for_another_unit_is_refused(app, clock, wang):
    other_unit = building_db(app).execute("SELECT id FROM units WHERE number = '202'").fetchone()[0]
    token = _token(app, clock, wang, unit_id=other_unit)
    with pytest.raises(resident_links.LinkRefused):
        resident_links.check(building_db(app), clock, SECRET, token)


def test_a_resident_who_moved_out_loses_the_page(app, clock, wang):
    token = _token(app, clock, wang)
    residents.move_out(building_db(app), clock, [wang], actor="test")
    with pytest.raises(resident_links.LinkRefused):
        resident_links.check(building_db(app), clock, SECRET, token)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
        lambda t: t[:10] + "x" + t[11:],  # the payload
        lambda t: t[:20],  # truncated
    ],
    ids=["signature", "payload", "truncated"],
)
def test_a_tampered_link_is_refused(app, clock, wang, tamper):
    with pytest.raises(signing.TokenInvalid):
        resident_links.check(building_db(app), clock, SECRET, tamper(_token(app, clock, wang)))


def test_another_signed_link_is_not_a_resident_page_link(app, clock, wang):
    rating = tickets.rating_link_token(SECRET, {"id": wang, "reopened_count": 0}, clock.now())
    with pytest.raises(signing.TokenInvalid):
        resident_links.check(building_db(app), clock, SECRET, rating)


def test_sending_queues_a_working_link_on_the_residents_own_channel_and_audits_it(app, clock, wang):
    queued = resident_links.send(
        building_db(app), clock, SECRET, PUBLIC, wang, actor="staff:7", via="desk"
    )
    message = (
        building_db(app)
        .execute("SELECT recipient, subject FROM notifications WHERE id = ?", (queued,))
        .fetchone()
    )
    assert message[0] == "wang@example.com"
    assert "住户页" in message[1] and "resident page" in message[1]
    [token] = _links_sent(app, wang)
    assert resident_links.check(building_db(app), clock, SECRET, token)["resident"]["id"] == wang
    [row] = _audit(app, "resident_link.send")
    assert row["actor"] == "staff:7" and row["target"] == f"resident:{wang}"
    assert row["detail"] == {"via": "desk", "queued": True}
    assert token not in json.dumps(row)  # never a token in the audit log


def test_a_resident_without_a_channel_gets_nothing_and_that_is_audited(app, clock):
    quiet = add_resident(app, "102", "李四", email=None, clock=clock)
    assert (
        resident_links.send(building_db(app), clock, SECRET, PUBLIC, quiet, actor="t", via="desk")
        is None
    )
    assert _audit(app, "resident_link.send")[0]["detail"]["queued"] is False


def test_a_moved_out_resident_is_sent_no_link(app, clock, wang):
    residents.move_out(building_db(app), clock, [wang], actor="test")
    with pytest.raises(resident_links.LinkRefused):
        resident_links.send(building_db(app), clock, SECRET, PUBLIC, wang, actor="t", via="desk")
    assert _links_sent(app, wang) == []


def test_the_kiosk_finds_a_resident_by_unit_and_phone_or_its_last_four(app, clock, wang):
    db = building_db(app)
    assert [r["id"] for r in resident_links.match_for_kiosk(db, "101", "8000")] == [wang]
    assert [r["id"] for r in resident_links.match_for_kiosk(db, "101", "138 0013 8000")] == [wang]
    assert resident_links.match_for_kiosk(db, "102", "8000") == []  # the wrong unit
    assert resident_links.match_for_kiosk(db, "101", "1234") == []
    assert resident_links.match_for_kiosk(db, "no-such", "8000") == []
    assert resident_links.match_for_kiosk(db, "101", "not a phone") == []


def test_throttles_count_per_resident_and_per_address(coordinated):
    throttle = resident_links.Throttle(
        coordinated,
        {"sends_per_resident": (2, 3600), "uses_per_address": (3, 600)},
    )
    throttle.resident_send(1, 0.0)
    throttle.resident_send(1, 1.0)
    with pytest.raises(resident_links.TooMany) as refused:
        throttle.resident_send(1, 2.0)
    assert refused.value.http_status == 429 and refused.value.retry_after >= 3590
    throttle.resident_send(2, 2.0)  # another resident is not held up
    throttle.resident_send(1, 3601.0)  # the window moved on
    for now in (0.0, 1.0, 2.0):
        throttle.address_use("10.0.0.9", now)
    with pytest.raises(LobbyDeskError):
        throttle.address_use("10.0.0.9", 3.0)
    throttle.address_use("10.0.0.10", 3.0)


# --- the kiosk's request: POST /api/v1/resident-link ----------------------------------------


def _ask(kiosk, key=None, **body):
    return kiosk.client.post(
        "/api/v1/resident-link", json={"unit": "101", "phone": "8000", **body},
        headers=kiosk.headers(key),
    )  # fmt: skip


def test_the_kiosk_gets_the_same_answer_whether_or_not_a_resident_matched(app, kiosk, wang):
    matched = _ask(kiosk)
    unmatched = _ask(kiosk, phone="1111")
    unknown_unit = _ask(kiosk, unit="9999")
    assert matched.status_code == unmatched.status_code == unknown_unit.status_code == 200
    assert matched.json == unmatched.json == unknown_unit.json
    assert len(_links_sent(app, wang)) == 1
    requests = _audit(app, "resident_link.request")
    assert [r["detail"]["matched"] for r in requests] == [1, 0, 0]


def test_a_replayed_kiosk_request_sends_no_second_link(app, kiosk, wang):
    first = _ask(kiosk, key="resident-link-key-0001")
    again = _ask(kiosk, key="resident-link-key-0001")
    assert again.status_code == 200 and again.json == first.json
    assert len(_links_sent(app, wang)) == 1


def test_a_resident_is_sent_a_few_links_an_hour_however_often_the_kiosk_asks(app, kiosk, wang):
    answers = [_ask(kiosk) for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert len(_links_sent(app, wang)) == resident_links.SENDS_PER_RESIDENT[0]


def test_a_kiosk_asking_too_often_is_told_to_wait(app, kiosk, wang):
    limit = resident_links.SENDS_PER_ADDRESS[0]
    answers = [_ask(kiosk, phone="0000") for _ in range(limit + 1)]
    assert [a.status_code for a in answers[:limit]] == [200] * limit
    assert answers[-1].status_code == 429
    assert int(answers[-1].headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "body",
    [{"unit": "101"}, {"unit": "101", "phone": "12"}, {"unit": 101, "phone": "8000"},
     {"unit": "101", "phone": "8000", "resident_id": 1}],
    ids=["no phone", "short phone", "number unit", "extra field"],
)  # fmt: skip
def test_a_malformed_kiosk_request_is_refused_and_sends_nothing(app, kiosk, wang, body):
    answer = kiosk.client.post("/api/v1/resident-link", json=body, headers=kiosk.headers())
    assert answer.status_code == 400
    assert _links_sent(app, wang) == []
