"""Repairs and complaints in the domain (shared/tickets.py) on a real console and
real SQLite: the SLA clock, the workflow, what residents may see, the list."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from shared import building, tickets
from shared.clock import parse_utc
from shared.errors import InvalidRequest
from tests.helpers import add_staff, building_db

SECRET = "test-" + "x" * 40
PUBLIC = "http://lobby.test"


def report(kiosk, key=None, **fields):
    body = {
        "unit": "101",
        "category": "water",
        "problem": "dripping_tap",
        "urgency": "normal",
        "language": "zh_CN",
        "created_at": "2026-11-27T08:59:30+00:00",
        **fields,
    }
    return kiosk.client.post("/api/v1/tickets", json=body, headers=kiosk.headers(key))


def set_building_setting(app, **values):
    db = building_db(app)
    row = db["buildings"].get(1)
    db.execute(
        "UPDATE buildings SET settings = ? WHERE id = 1",
        (json.dumps({**json.loads(row["settings"]), **values}),),
    )


def move(db, clock, ticket_id, staff_id, status, message=None):
    return tickets.set_status(
        db,
        clock,
        ticket_id,
        staff_id=staff_id,
        status=status,
        message=message,
        secret_key=SECRET,
        public_url=PUBLIC,
    )


@pytest.fixture
def staff_id(app):
    return add_staff(app, username="liming", display_name="李明")


def test_a_kiosk_report_is_recorded_with_the_time_to_resolve_from_the_settings(app, kiosk):
    answer = report(kiosk, description="厨房水龙头一直滴水")
    assert answer.status_code == 201
    created = answer.json
    assert created["number"] == str(created["id"]) and created["status"] == "new"
    assert created["emergency"] is False and created["expected_minutes"] == 3 * 24 * 60
    ticket = tickets.get(building_db(app), created["id"])
    assert ticket["unit_number"] == "101" and ticket["location"] == "101"
    assert ticket["kind"] == "repair" and ticket["source"] == "kiosk"
    assert ticket["description"] == "厨房水龙头一直滴水"
    assert ticket["received_at"] == "2026-11-27T09:00:00.000000+00:00"
    assert (
        ticket["created_at"] == "2026-11-27T08:59:30.000000+00:00"
    )  # the kiosk's clock, kept apart
    assert ticket["sla_due_at"] == "2026-11-30T09:00:00.000000+00:00"
    [created_update] = tickets.timeline(building_db(app), created["id"])
    assert created_update["kind"] == "created" and not created_update["resident_visible"]
    audit = building_db(app).execute("SELECT actor, action FROM audit_log").fetchall()
    assert ("kiosk:1", "ticket.create") in audit


def test_the_sla_minutes_per_urgency_come_from_the_building_settings(app, kiosk):
    set_building_setting(app, ticket_sla_minutes={"emergency": 10, "urgent": 60, "normal": 600})
    urgent = report(kiosk, urgency="urgent").json
    normal = report(kiosk, urgency="normal").json
    assert urgent["expected_minutes"] == 60 and normal["expected_minutes"] == 600
    assert urgent["sla_due_at"] == "2026-11-27T10:00:00.000000+00:00"
    assert normal["sla_due_at"] == "2026-11-27T19:00:00.000000+00:00"


def test_a_complaint_category_makes_a_complaint(app, kiosk):
    created = report(kiosk, category="noise", problem="renovation").json
    assert tickets.get(building_db(app), created["id"])["kind"] == "complaint"


def test_an_emergency_problem_is_an_emergency_and_calls_reception_at_once(app, kiosk, reception):
    created = report(kiosk, category="water", problem="burst_pipe", urgency="normal").json
    assert created["urgency"] == "emergency" and created["emergency"] is True
    assert created["expected_minutes"] == 15
    db = building_db(app)
    [escalation] = list(db.query("SELECT * FROM escalations"))
    assert escalation["kind"] == "emergency" and escalation["ticket_id"] == created["id"]
    assert escalation["screen"] == "repair" and escalation["status"] == "open"
    assert tickets.get(db, created["id"])["escalation_id"] == escalation["id"]
    rows = reception.client.get("/queue/rows").get_data(as_text=True)
    assert f'data-id="{escalation["id"]}"' in rows and "危急情况 · Emergency" in rows


def test_urgent_but_not_emergency_raises_no_escalation(app, kiosk):
    report(kiosk, urgency="urgent")
    assert building_db(app).execute("SELECT COUNT(*) FROM escalations").fetchone()[0] == 0


def test_overdue_flips_exactly_when_the_clock_passes_the_due_time(app, kiosk, clock):
    created = report(kiosk, urgency="urgent").json  # 240 minutes
    db = building_db(app)

    def overdue_ids():
        return [r["id"] for r in tickets.search(db, clock, {"overdue": True})["rows"]]

    clock.advance(minutes=239, seconds=59)
    assert overdue_ids() == [] and tickets.counts(db, clock) == {"open": 1, "overdue": 0}
    clock.advance(seconds=1)  # exactly at the due time: not yet late
    assert not tickets.is_overdue(tickets.get(db, created["id"]), clock.now())
    assert overdue_ids() == []
    clock.advance(microseconds=1)
    assert tickets.is_overdue(tickets.get(db, created["id"]), clock.now())
    assert overdue_ids() == [created["id"]]
    assert tickets.counts(db, clock) == {"open": 1, "overdue": 1}
    [row] = tickets.search(db, clock, {})["rows"]
    assert row["overdue"] is True


def test_a_resolved_ticket_is_never_overdue(app, kiosk, clock, staff_id):
    created = report(kiosk, urgency="urgent").json
    db = building_db(app)
    move(db, clock, created["id"], staff_id, "resolved")
    clock.advance(days=2)
    assert tickets.counts(db, clock) == {"open": 0, "overdue": 0}
    assert tickets.search(db, clock, {"overdue": True})["rows"] == []


def test_triage_recomputes_the_due_time_from_when_the_ticket_came_in(app, kiosk, clock, staff_id):
    created = report(kiosk, urgency="normal").json
    db = building_db(app)
    clock.advance(hours=1)
    ticket = tickets.triage(
        db,
        clock,
        created["id"],
        staff_id=staff_id,
        category="electrical",
        problem="socket",
        urgency="urgent",
    )
    assert ticket["category"] == "electrical" and ticket["problem"] == "socket"
    assert ticket["sla_due_at"] == "2026-11-27T13:00:00.000000+00:00"  # 09:00 + 4 h, not 10:00
    clock.advance(hours=3, seconds=1)
    assert tickets.is_overdue(tickets.get(db, created["id"]), clock.now())
    last = tickets.timeline(db, created["id"])[-1]
    assert last["kind"] == "triage" and last["display_name"] == "李明"
    assert "紧急 · Urgent" in last["text"]


def test_triage_refuses_a_problem_of_another_category(app, kiosk, clock, staff_id):
    created = report(kiosk).json
    with pytest.raises(InvalidRequest):
        tickets.triage(
            building_db(app),
            clock,
            created["id"],
            staff_id=staff_id,
            category="water",
            problem="light_out",
            urgency="normal",
        )
    assert tickets.get(building_db(app), created["id"])["problem"] == "dripping_tap"


# The workflow, written out here so the code's own table is checked, not reused.
ALLOWED = {
    "new": {"assigned", "in_progress", "resolved", "closed"},
    "assigned": {"in_progress", "resolved", "closed"},
    "in_progress": {"resolved", "closed"},
    "resolved": {"closed", "reopen"},
    "closed": {"reopen"},
}
PATH_TO = {
    "new": [],
    "assigned": ["assigned"],
    "in_progress": ["in_progress"],
    "resolved": ["resolved"],
    "closed": ["closed"],
}


@pytest.mark.parametrize("start", list(ALLOWED))
@pytest.mark.parametrize("target", ["assigned", "in_progress", "resolved", "closed", "reopen"])
def test_the_workflow_allows_and_refuses_each_step(app, kiosk, clock, staff_id, start, target):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    for step in PATH_TO[start]:
        move(db, clock, ticket_id, staff_id, step)
    assert tickets.get(db, ticket_id)["status"] == start
    updates_before = len(tickets.timeline(db, ticket_id))
    if target in ALLOWED[start]:
        after = move(db, clock, ticket_id, staff_id, target)
        assert after["status"] == ("new" if target == "reopen" else target)
        last = tickets.timeline(db, ticket_id)[-1]
        assert (last["kind"], last["status_from"], last["status_to"]) == (
            "status",
            start,
            after["status"],
        )
    else:
        with pytest.raises(tickets.TransitionRefused) as refused:
            move(db, clock, ticket_id, staff_id, target)
        assert refused.value.http_status == 409
        assert tickets.get(db, ticket_id)["status"] == start
        assert len(tickets.timeline(db, ticket_id)) == updates_before


def test_the_workflow_times_are_stamped(app, kiosk, clock, staff_id):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    clock.advance(minutes=5)
    tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="dept:maintenance")
    clock.advance(minutes=5)
    move(db, clock, ticket_id, staff_id, "in_progress")
    clock.advance(minutes=5)
    move(db, clock, ticket_id, staff_id, "resolved")
    clock.advance(minutes=5)
    ticket = move(db, clock, ticket_id, staff_id, "closed")
    assert [
        ticket[k][11:16] for k in ("assigned_at", "started_at", "resolved_at", "closed_at")
    ] == [
        "09:05",
        "09:10",
        "09:15",
        "09:20",
    ]
    assert ticket["assigned_to"] == "dept:maintenance"


def test_reopen_counts_and_clears_the_resolution_and_the_rating(app, kiosk, clock, staff_id):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee=f"staff:{staff_id}")
    move(db, clock, ticket_id, staff_id, "resolved")
    tickets.rate(db, clock, ticket_id, rating=2, reasons=["not_fixed"], via="desk")
    ticket = move(db, clock, ticket_id, staff_id, "reopen")
    assert ticket["status"] == "assigned"  # it had an assignee
    assert ticket["reopened_count"] == 1 and ticket["resolved_at"] is None
    assert ticket["rating"] is None and ticket["rating_reasons"] is None
    assert ticket["assigned_staff_name"] == "李明"
    kinds = [u["kind"] for u in tickets.timeline(db, ticket_id)]
    assert kinds.count("rating") == 1  # the old rating stays on the trail
    move(db, clock, ticket_id, staff_id, "closed")
    ticket = move(db, clock, ticket_id, staff_id, "reopen")
    assert ticket["reopened_count"] == 2 and ticket["closed_at"] is None


def test_every_rating_is_kept_when_a_ticket_is_reopened_and_rated_again(
    app, kiosk, clock, staff_id
):
    """Reopening clears the current rating so the resident can rate the new fix, but the
    bad rating stays where the satisfaction figures are counted."""
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    move(db, clock, ticket_id, staff_id, "resolved")
    tickets.rate(db, clock, ticket_id, rating=1, reasons=["not_fixed"], via="link")
    move(db, clock, ticket_id, staff_id, "reopen")
    move(db, clock, ticket_id, staff_id, "resolved")
    tickets.rate(db, clock, ticket_id, rating=5, reasons=[], via="kiosk")
    ratings = list(
        db.query(
            "SELECT resolution, rating, reasons, via FROM ticket_ratings"
            " WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
    )
    assert ratings == [
        {"resolution": 0, "rating": 1, "reasons": '["not_fixed"]', "via": "link"},
        {"resolution": 1, "rating": 5, "reasons": "[]", "via": "kiosk"},
    ]
    assert tickets.get(db, ticket_id)["rating"] == 5


def test_reopening_a_ticket_nobody_was_assigned_to_makes_it_new_again(app, kiosk, clock, staff_id):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    move(db, clock, ticket_id, staff_id, "closed")
    assert move(db, clock, ticket_id, staff_id, "reopen")["status"] == "new"


def test_internal_notes_never_reach_the_resident(app, kiosk, clock, staff_id):
    db = building_db(app)
    created = report(kiosk).json
    tickets.add_note(
        db,
        clock,
        created["id"],
        staff_id=staff_id,
        text="钥匙在前台，住户不在家 internal",
        resident_visible=False,
    )
    summary = tickets.lookup(db, clock, SECRET, {"qr": created["qr"]})
    assert summary["latest_update"] is None
    clock.advance(minutes=1)
    tickets.add_note(
        db,
        clock,
        created["id"],
        staff_id=staff_id,
        text="师傅下午3点上门 · A plumber comes at 3 pm",
        resident_visible=True,
    )
    clock.advance(minutes=1)
    tickets.add_note(
        db,
        clock,
        created["id"],
        staff_id=staff_id,
        text="配件要订 internal",
        resident_visible=False,
    )
    move(db, clock, created["id"], staff_id, "in_progress")  # no message: internal too
    for summary in (
        tickets.lookup(db, clock, SECRET, {"number": created["number"], "unit": "101"}),
        tickets.resident_summary(db, clock, tickets.get(db, created["id"])),
    ):
        assert summary["latest_update"]["text"] == "师傅下午3点上门 · A plumber comes at 3 pm"
        assert "internal" not in json.dumps(summary, ensure_ascii=False)
        assert "description" not in summary
    trail = tickets.timeline(db, created["id"])
    assert [(u["kind"], u["resident_visible"]) for u in trail] == [
        ("created", False),
        ("note", False),
        ("note", True),
        ("note", False),
        ("status", False),
    ]


def test_a_status_message_is_what_the_resident_sees(app, kiosk, clock, staff_id):
    db = building_db(app)
    created = report(kiosk).json
    move(db, clock, created["id"], staff_id, "in_progress", message="已换新阀门\r\n请试用")
    summary = tickets.lookup(db, clock, SECRET, {"qr": created["qr"]})
    assert summary["status"] == "in_progress"
    assert summary["latest_update"]["text"] == "已换新阀门\n请试用"


def test_reception_records_a_complaint_with_time_place_and_people(app, clock, staff_id):
    db = building_db(app)
    ticket = tickets.create_at_desk(
        db,
        clock,
        staff_id=staff_id,
        form={
            "kind": "complaint",
            "unit": "",
            "location": "地下车库 B2",
            "category": "noise",
            "problem": "parking",
            "urgency": "normal",
            "description": "有车连续三天占用消防通道",
            "reporter_name": "陈女士",
            "reporter_phone": "138 1234 5678",
            "incident_at": "2026-11-26T22:30",  # the building's wall clock (Asia/Shanghai)
            "people_involved": "车牌 沪A12345 的车主",
        },
    )
    assert ticket["kind"] == "complaint" and ticket["source"] == "desk"
    assert ticket["unit_id"] is None and ticket["location"] == "地下车库 B2"
    assert ticket["reporter_phone"] == "+8613812345678"
    assert ticket["incident_at"] == "2026-11-26T14:30:00.000000+00:00"
    assert ticket["people_involved"] == "车牌 沪A12345 的车主"
    ticket = tickets.record_complaint(
        db,
        clock,
        ticket["id"],
        staff_id=staff_id,
        incident_at="2026-11-26T22:45",
        location="",
        people_involved="车主及保安 王师傅",
        forwarded_to="秩序维护部 · Security",
        resident_told="已电话告知陈女士今晚处理",
    )
    assert ticket["location"] == "地下车库 B2"  # an empty place keeps the old one
    assert ticket["incident_at"] == "2026-11-26T14:45:00.000000+00:00"
    assert ticket["forwarded_to"] == "秩序维护部 · Security"
    assert ticket["resident_told"] == "已电话告知陈女士今晚处理"
    last = tickets.timeline(db, ticket["id"])[-1]
    assert last["kind"] == "complaint" and "秩序维护部" in last["text"]
    assert "22:45" in last["text"]
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log").fetchall()]
    assert "ticket.complaint" in actions and "ticket.create" in actions


def test_a_desk_ticket_needs_a_unit_or_a_place(app, clock, staff_id):
    db = building_db(app)
    with pytest.raises(InvalidRequest, match="房号或地点"):
        tickets.create_at_desk(
            db, clock, staff_id=staff_id, form={"category": "public_area", "kind": "repair"}
        )
    with pytest.raises(building.UnknownUnit):
        tickets.create_at_desk(
            db, clock, staff_id=staff_id, form={"category": "public_area", "unit": "9999"}
        )
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0


def test_assigning_to_a_department_queues_its_work_order(app, kiosk, clock, staff_id):
    contacts = building.SETTING_DEFAULTS["ticket_contacts"]
    with_mail = [
        {**c, "notify_url": "mailto:repairs@example.com"} if c["key"] == "maintenance" else c
        for c in contacts
    ]
    set_building_setting(app, ticket_contacts=with_mail)
    db = building_db(app)
    ticket_id = report(kiosk, description="卫生间水龙头").json["id"]
    ticket = tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="dept:maintenance")
    assert ticket["status"] == "assigned"
    assert tickets.assignee_label(db, ticket["assigned_to"]) == "工程维修部 · Maintenance"
    [order] = list(db.query("SELECT * FROM notifications WHERE kind = 'ticket.assigned'"))
    assert order["channel"] == "email" and order["recipient"] == "repairs@example.com"
    assert f"Ticket {ticket_id}" in order["body"] and "卫生间水龙头" in order["body"]
    assert order["related"] == f"ticket:{ticket_id}"
    with pytest.raises(InvalidRequest):
        tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="dept:plumbers")
    with pytest.raises(InvalidRequest):
        tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="staff:999")
    # a department without a notify_url gets no message, the ticket is still assigned
    tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="dept:cleaning")
    assert db.execute("SELECT COUNT(*) FROM notifications").fetchone()[0] == 1


def test_a_resolved_ticket_cannot_be_assigned(app, kiosk, clock, staff_id):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    move(db, clock, ticket_id, staff_id, "resolved")
    with pytest.raises(tickets.TransitionRefused):
        tickets.assign(db, clock, ticket_id, staff_id=staff_id, assignee="dept:maintenance")


@pytest.fixture
def many(app, kiosk, clock, staff_id):
    """Seven tickets, a minute apart, with known categories, urgencies, kinds and states."""
    db = building_db(app)
    made = {}
    for name, unit, category, problem, urgency in (
        ("tap", "101", "water", "dripping_tap", "normal"),
        ("light", "102", "electrical", "light_out", "urgent"),
        ("noise", "101", "noise", "neighbour_noise", "normal"),
        ("lift", "201", "elevator", "noise", "urgent"),
        ("fire", "202", "security", "fire", "normal"),
        ("door", "101", "doors", "lock_broken", "normal"),
        ("drain", "301", "water", "blocked_drain", "urgent"),
    ):
        made[name] = report(
            kiosk, unit=unit, category=category, problem=problem, urgency=urgency
        ).json["id"]
        clock.advance(minutes=1)
    move(db, clock, made["light"], staff_id, "in_progress")
    move(db, clock, made["door"], staff_id, "resolved")
    move(db, clock, made["lift"], staff_id, "closed")
    tickets.assign(db, clock, made["drain"], staff_id=staff_id, assignee="dept:maintenance")
    return made


def _ids(app, clock, **filters):
    return [r["id"] for r in tickets.search(building_db(app), clock, filters)["rows"]]


def test_the_list_is_newest_first_with_units(app, clock, many):
    result = tickets.search(building_db(app), clock, {})
    assert [r["id"] for r in result["rows"]] == sorted(many.values(), reverse=True)
    assert result["rows"][-1]["unit_number"] == "101" and result["has_next"] is False


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "open"}, ["drain", "fire", "noise", "light", "tap"]),
        ({"status": "new"}, ["fire", "noise", "tap"]),
        ({"status": "assigned"}, ["drain"]),
        ({"status": "in_progress"}, ["light"]),
        ({"status": "resolved"}, ["door"]),
        ({"status": "closed"}, ["lift"]),
        ({"category": "water"}, ["drain", "tap"]),
        ({"category": "noise"}, ["noise"]),
        ({"urgency": "urgent"}, ["drain", "lift", "light"]),
        ({"urgency": "emergency"}, ["fire"]),
        ({"kind": "complaint"}, ["noise"]),
        ({"kind": "repair"}, ["drain", "door", "fire", "lift", "light", "tap"]),
        ({"q": "101"}, ["door", "noise", "tap"]),
        ({"q": "301"}, ["drain"]),
        ({"q": "9999"}, []),
        ({"q": "没有"}, []),
        ({"status": "open", "category": "water"}, ["drain", "tap"]),
        ({"status": "open", "urgency": "urgent"}, ["drain", "light"]),
    ],
)
def test_each_filter_returns_exactly_its_tickets(app, clock, many, filters, expected):
    assert _ids(app, clock, **filters) == [many[name] for name in expected]


def test_q_finds_a_ticket_by_its_number(app, clock, many):
    assert _ids(app, clock, q=str(many["lift"])) == [many["lift"]]
    assert _ids(app, clock, q=f"#{many['noise']}") == [many["noise"]]


def test_the_overdue_filter(app, clock, many):
    assert _ids(app, clock, overdue=True) == []
    clock.advance(minutes=20)  # the fire (emergency, 15 min) is late; the rest are not
    assert _ids(app, clock, overdue=True) == [many["fire"]]
    clock.advance(hours=4)  # the urgent ones still open are late too (closed "lift" is not)
    assert _ids(app, clock, overdue=True) == [many["drain"], many["fire"], many["light"]]
    assert tickets.counts(building_db(app), clock) == {"open": 5, "overdue": 3}


def test_pages_say_whether_there_is_a_next_one(app, clock, many):
    db = building_db(app)
    newest_first = sorted(many.values(), reverse=True)
    seen = []
    for page in (1, 2, 3, 4):
        result = tickets.search(db, clock, {}, page=page, page_size=2)
        seen += [r["id"] for r in result["rows"]]
        assert result["page"] == page and result["has_next"] is (page < 4)
    assert seen == newest_first


@pytest.mark.parametrize(
    "filters",
    [{"status": "pending"}, {"category": "plumbing"}, {"urgency": "high"}, {"kind": "idea"}],
)
def test_an_unknown_filter_value_is_refused(app, clock, filters):
    with pytest.raises(InvalidRequest):
        tickets.search(building_db(app), clock, filters)


def test_a_rating_is_taken_once_per_resolution_in_range_with_known_reasons(
    app, kiosk, clock, staff_id
):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    with pytest.raises(tickets.NotResolved):
        tickets.rate(db, clock, ticket_id, rating=5, reasons=[], via="kiosk")
    move(db, clock, ticket_id, staff_id, "resolved")
    for bad in (0, 6, "4", True, 2.5):
        with pytest.raises(InvalidRequest):
            tickets.rate(db, clock, ticket_id, rating=bad, reasons=[], via="kiosk")
    with pytest.raises(InvalidRequest):
        tickets.rate(db, clock, ticket_id, rating=2, reasons=["rude"], via="kiosk")
    summary = tickets.rate(
        db,
        clock,
        ticket_id,
        rating=2,
        reasons=["no_update", "slow"],
        comment="等了两天",
        via="kiosk",
    )
    assert summary["rating"] == 2 and summary["can_rate"] is False
    ticket = tickets.get(db, ticket_id)
    assert ticket["rating_reason_keys"] == ["slow", "no_update"]  # catalog order
    assert ticket["rating_comment"] == "等了两天" and ticket["rated_via"] == "kiosk"
    with pytest.raises(tickets.AlreadyRated):
        tickets.rate(db, clock, ticket_id, rating=5, reasons=[], via="kiosk")
    assert tickets.get(db, ticket_id)["rating"] == 2


def test_a_good_rating_keeps_no_reasons(app, kiosk, clock, staff_id):
    db = building_db(app)
    ticket_id = report(kiosk).json["id"]
    move(db, clock, ticket_id, staff_id, "resolved")
    tickets.rate(db, clock, ticket_id, rating=5, reasons=["slow"], via="kiosk")
    assert tickets.get(db, ticket_id)["rating_reason_keys"] == []


def test_the_qr_carries_only_the_ticket_id(app, kiosk, clock):
    import base64

    created = report(kiosk, description="私密描述").json
    payload = created["qr"].split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert json.loads(decoded).keys() == {"t", "exp"}
    expires = json.loads(decoded)["exp"]
    assert expires == int(
        (parse_utc("2026-11-27T09:00:00+00:00") + timedelta(days=365)).timestamp()
    )


# --- free text and times that are refused -------------------------------------------------

INVISIBLE = [
    "\u200f",  # right-to-left mark
    "\u200e",  # left-to-right mark
    "\u061c",  # Arabic letter mark
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\ue000",  # private use
    "\x1b",  # escape
    "\x85",  # next line (C1)
]


@pytest.mark.parametrize("ch", INVISIBLE)
def test_every_free_text_of_a_ticket_refuses_invisible_and_control_characters(
    app, kiosk, clock, staff_id, ch
):
    db = building_db(app)
    created = report(kiosk).json
    code = f"U+{ord(ch):04X}"
    desk = {"kind": "complaint", "unit": "101", "category": "noise", "problem": "pets"}
    attempts = [
        lambda field=field: tickets.create_at_desk(
            db, clock, staff_id=staff_id, form={**desk, field: f"甲{ch}乙"}
        )
        for field in ("description", "reporter_name", "location", "people_involved")
    ] + [
        lambda: tickets.add_note(
            db, clock, created["id"], staff_id=staff_id, text=f"备注{ch}", resident_visible=True
        ),
        lambda: move(db, clock, created["id"], staff_id, "in_progress", message=f"消息{ch}"),
        lambda: tickets.record_complaint(
            db, clock, created["id"], staff_id=staff_id, forwarded_to=f"保安部{ch}"
        ),
        lambda: tickets.record_complaint(
            db, clock, created["id"], staff_id=staff_id, resident_told=f"已告知{ch}"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidRequest, match=re.escape(code)) as refused:
            attempt()
        assert "控制字符" in str(refused.value) and "control character" in str(refused.value)
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    assert [u["kind"] for u in tickets.timeline(db, created["id"])] == ["created"]
    move(db, clock, created["id"], staff_id, "resolved")
    with pytest.raises(InvalidRequest, match=re.escape(code)):
        tickets.rate(db, clock, created["id"], rating=1, reasons=[], comment=f"差{ch}", via="kiosk")
    assert tickets.get(db, created["id"])["rating"] is None


def test_newlines_stay_where_text_may_have_lines_and_ordinary_writing_is_kept(
    app, kiosk, clock, staff_id
):
    db = building_db(app)
    created = report(kiosk).json
    text = "第一行\n第二行 — «Ünïcödé» 😀 ١٢٣ עברית"
    tickets.add_note(db, clock, created["id"], staff_id=staff_id, text=text, resident_visible=False)
    assert tickets.timeline(db, created["id"])[-1]["text"] == text
    with pytest.raises(InvalidRequest, match="U\\+000A"):  # a one-line field
        tickets.record_complaint(
            db, clock, created["id"], staff_id=staff_id, forwarded_to="保安部\n经理"
        )


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00",
        "0001-01-01T00:00+14:00",
        "1999-12-31T23:59",
        "9999-12-31T23:59",
        "9999-12-31T23:59+00:00",
        "2026-11-29T09:00+08:00",  # two days ahead
    ],
)
def test_an_incident_time_outside_2000_to_tomorrow_is_refused(app, clock, staff_id, when):
    db = building_db(app)
    form = {"kind": "complaint", "unit": "101", "category": "noise", "incident_at": when}
    with pytest.raises(InvalidRequest, match="2000-01-01") as refused:
        tickets.create_at_desk(db, clock, staff_id=staff_id, form=form)
    assert "明天" in str(refused.value) and "tomorrow" in str(refused.value)
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    ticket = tickets.create_at_desk(db, clock, staff_id=staff_id, form={**form, "incident_at": ""})
    with pytest.raises(InvalidRequest, match="2000-01-01"):
        tickets.record_complaint(db, clock, ticket["id"], staff_id=staff_id, incident_at=when)
    assert tickets.get(db, ticket["id"])["incident_at"] is None


def test_an_incident_time_from_last_night_or_the_year_2000_is_kept(app, clock, staff_id):
    db = building_db(app)
    form = {"kind": "complaint", "unit": "101", "category": "noise"}
    for when, stored in [
        ("2000-01-01T08:00", "2000-01-01T00:00:00.000000+00:00"),
        ("2026-11-28T09:00+08:00", "2026-11-28T01:00:00.000000+00:00"),  # within a day ahead
    ]:
        ticket = tickets.create_at_desk(
            db, clock, staff_id=staff_id, form={**form, "incident_at": when}
        )
        assert ticket["incident_at"] == stored


def test_number_lookups_that_miss_are_throttled_per_kiosk_in_the_domain(app, kiosk, clock):
    db = building_db(app)
    created = report(kiosk).json
    for _ in range(tickets.LOOKUP_MISS_LIMIT):
        with pytest.raises(tickets.TicketNotFound):
            tickets.lookup(db, clock, SECRET, {"number": "99", "unit": "101"}, kiosk_id=1)
    with pytest.raises(tickets.LookupThrottled) as throttled:
        tickets.lookup(db, clock, SECRET, {"number": created["number"], "unit": "101"}, kiosk_id=1)
    assert throttled.value.retry_after == 600 and throttled.value.http_status == 429
    # another kiosk, and the QR, are not affected
    found = tickets.lookup(
        db, clock, SECRET, {"number": created["number"], "unit": "101"}, kiosk_id=2
    )
    assert found["number"] == created["number"]
    assert tickets.lookup(db, clock, SECRET, {"qr": created["qr"]}, kiosk_id=1)["status"] == "new"
