"""The desk's KPIs (shared/kpi.py) on a November whose every figure is known.

The month is built the way it happens: visitors register on the kiosk and two
receptionists decide on the console, a help call is acknowledged, repairs and
complaints are recorded, resolved and rated, parcels are logged and handed
over — on a FrozenClock in a Shanghai building (UTC+8), so days and hours of
day must come out in building time.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from shared import kpi, parcels, tickets
from shared.clock import FrozenClock, parse_utc, to_iso
from shared.db import write_transaction
from shared.schema import open_building_db
from tests.helpers import KioskCaller, StaffBrowser, add_staff, building_db, paired_kiosk

# Monday 2 November 2026, 09:00 in Shanghai.
START = "2026-11-02T01:00:00+00:00"
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def clock():
    return FrozenClock(START)


def _signed_in(app, username: str) -> StaffBrowser:
    browser = StaffBrowser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def _visit(kiosk: KioskCaller, clock, party_size: int = 1) -> int:
    answer = kiosk.client.post(
        "/api/v1/visits",
        json={
            "name": "张先生",
            "phone": "13812345678",
            "unit": "101",
            "purpose": "visit",
            "party_size": party_size,
            "language": "zh_CN",
            "created_at": to_iso(clock.now()),
        },
        headers=kiosk.headers(),
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.json["id"]


def build_november(app, clock) -> dict:
    """The known month. Returns the staff ids and ticket ids by name."""
    ids = {
        "wang": add_staff(app, username="wangfang", role="reception", display_name="王芳"),
        "li": add_staff(app, username="lina", role="reception", display_name="李娜"),
    }
    secret = app.config["SECRET_KEY"]
    db = building_db(app)

    def desk_ticket(category: str, problem: str, urgency: str = "normal", unit: str = "101") -> int:
        form = {"category": category, "problem": problem, "urgency": urgency, "unit": unit}
        return tickets.create_at_desk(db, clock, staff_id=ids["wang"], form=form)["id"]

    def resolve_and_rate(ticket_id: int, rating: int, reasons=(), comment=None) -> None:
        tickets.set_status(
            db, clock, ticket_id, staff_id=ids["wang"], status="resolved", secret_key=secret,
            public_url="http://desk.example",
        )  # fmt: skip
        tickets.rate(
            db, clock, ticket_id, rating=rating, reasons=list(reasons), comment=comment, via="kiosk"
        )

    # Repairs and complaints, all received Monday 2 November 09:00.
    t = {
        "normal_2d": desk_ticket("water", "dripping_tap"),
        "normal_4d": desk_ticket("electrical", "light_out"),
        "urgent_3h": desk_ticket("elevator", "noise", "urgent"),
        "emergency_20m": desk_ticket("water", "burst_pipe"),  # an emergency problem
        "complaint_1d": desk_ticket("noise", "neighbour_noise"),
        "complaint_8d": desk_ticket("noise", "renovation"),
        "urgent_open": desk_ticket("doors", "lock_broken", "urgent"),
    }
    clock.advance(minutes=20)  # Mon 09:20
    resolve_and_rate(t["emergency_20m"], 3, ["no_update"])
    clock.advance(minutes=160)  # Mon 12:00
    resolve_and_rate(t["urgent_3h"], 4)
    clock.advance(hours=21)  # Tue 3 Nov 09:00
    resolve_and_rate(t["complaint_1d"], 1, ["attitude"])
    clock.advance(days=1)  # Wed 4 Nov 09:00
    resolve_and_rate(t["normal_2d"], 5)
    clock.advance(days=2)  # Fri 6 Nov 09:00
    resolve_and_rate(t["normal_4d"], 2, ["slow", "not_fixed"], comment="=HYPERLINK(1)")
    clock.advance(days=4)  # Tue 10 Nov 09:00
    resolve_and_rate(t["complaint_8d"], 5)

    # Parcels: one left on the shelf since 12 November (its code expired on the 26th) …
    def log(unit: str, tracking: str) -> int:
        return parcels.intake(
            db, clock, secret_key=secret, staff_id=ids["li"], tracking=tracking, unit=unit,
            shelf="A-1",
        )["parcel"]["id"]  # fmt: skip

    clock.advance(days=2, hours=1)  # Thu 12 Nov 10:00
    log("103", "SF1000000000001")
    # … two logged on Thursday 26 November at 10:00 and 11:00, collected at 12:00 and 17:00.
    clock.advance(days=14)  # 26 Nov 10:00
    first = log("101", "SF1000000000002")
    clock.advance(hours=1)
    second = log("102", "SF1000000000003")
    clock.advance(hours=1)
    checked = {"id_checked": True, "collector": "王建国"}  # the desk checked an ID
    parcels.hand_over_at_desk(db, clock, [first], staff_id=ids["li"], **checked)  # 2 h on the shelf
    clock.advance(hours=5)
    parcels.hand_over_at_desk(db, clock, [second], staff_id=ids["wang"], **checked)  # 6 h
    db.close()

    # Friday 27 November: five visitors at the kiosk, one help call just after midnight.
    _kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(app.test_client(), token)
    usernames = {"wang": "wangfang", "li": "lina"}

    def visit_answered_after(seconds: int, by: str, party_size: int = 1) -> None:
        visit_id = _visit(kiosk, clock, party_size)
        clock.advance(seconds=seconds)
        # Signed in afresh each time: the hours between exceed the 30-minute idle timeout.
        desk = _signed_in(app, usernames[by])
        answer = desk.post(f"/visitors/{visit_id}/decide", decision="confirm_id")
        assert answer.status_code == 302

    clock.advance(days=1)  # Fri 27 Nov 17:00 (09:00 UTC)
    visit_answered_after(30, "wang")
    clock.advance(seconds=570)  # 17:10
    visit_answered_after(50, "li", party_size=2)
    clock.advance(seconds=2950)  # 18:00
    visit_answered_after(70, "wang")
    clock.advance(seconds=1730)  # 18:30
    visit_answered_after(90, "li")
    clock.advance(seconds=1710)  # 19:00
    _visit(kiosk, clock)  # nobody answers this one
    clock.advance(hours=5, minutes=30)  # Sat 28 Nov 00:30 (Fri 16:30 UTC)
    call = kiosk.call_reception(created_at=to_iso(clock.now()))
    assert call.status_code == 201
    clock.advance(seconds=40)
    desk = _signed_in(app, "wangfang")
    acknowledged = desk.post(f"/queue/escalations/{call.json['id']}/acknowledge")
    assert acknowledged.status_code in (200, 302)
    clock.advance(minutes=1)  # Sat 00:31: a repair that is open but not yet due
    db = building_db(app)
    t["normal_open"] = desk_ticket("public_area", "dirty")
    db.close()
    return {**ids, "tickets": t}


def november(app, clock):
    db = open_building_db(f"{app.config['DATA_DIR']}/lobbydesk.db")
    period = kpi.parse_period(
        NOVEMBER["from"], NOVEMBER["to"], today=date(2026, 11, 28), timezone="Asia/Shanghai"
    )
    try:
        return kpi.compute(db, clock, period)
    finally:
        db.close()


@pytest.fixture
def known(app, clock):
    ids = build_november(app, clock)
    return ids, november(app, clock)


def test_response_percentiles_and_the_60_second_share(known):
    _ids, kpis = known
    response = kpis["response"]
    visits, help_calls, handovers = response["sources"]
    # Four visitors answered in 30, 50, 70 and 90 s; a fifth still waiting.
    assert (visits["source"], visits["answered"], visits["unanswered"]) == ("visit", 4, 1)
    assert visits["p50"] == 60 and visits["p90"] == 84
    # The share is of all five: the one never answered missed the standard too.
    assert visits["within"] == 2 and visits["share"] == 0.4
    assert (help_calls["answered"], help_calls["p50"], help_calls["share"]) == (1, 40, 1.0)
    assert handovers["requests"] == 0 and handovers["p50"] is None and handovers["share"] is None
    # All five answers: 30, 40, 50, 70, 90.
    total = response["total"]
    assert (total["requests"], total["answered"], total["unanswered"]) == (6, 5, 1)
    assert total["p50"] == 50 and total["p90"] == 82 and total["share"] == 0.5


def _request(db, received: str, answered_after: int | None) -> None:
    answered = None
    if answered_after is not None:
        answered = to_iso(parse_utc(received) + timedelta(seconds=answered_after))
    db.execute(
        "INSERT INTO escalations (kind, screen, language, created_at, received_at, status,"
        " acknowledged_at) VALUES ('help', 'home', 'zh_CN', ?, ?, ?, ?)",
        (received, received, "acknowledged" if answered else "open", answered),
    )


def test_requests_never_answered_count_against_the_60_second_share(app):
    """8 requests: 5 answered within 60 s, 3 never answered. The share is 5 of 8, not
    5 of 5; a request still inside its first 60 s is not counted against the desk yet."""
    db = building_db(app)
    base = parse_utc("2026-11-27T02:00:00+00:00")
    with write_transaction(db):
        for minute, after in enumerate((10, 20, 30, 40, 50, None, None, None)):
            _request(db, to_iso(base + timedelta(minutes=minute)), after)
        _request(db, to_iso(base + timedelta(minutes=30)), None)  # 30 s old "now"
    period = kpi.Period(date(2026, 11, 27), date(2026, 11, 27), "Asia/Shanghai")
    now = to_iso(base + timedelta(minutes=30, seconds=30))
    total = kpi.response(db, period, now=now)["total"]
    db.close()
    assert (total["within"], total["requests"], total["unanswered"]) == (5, 8, 3)
    assert total["share"] == 5 / 8


def test_response_by_hour_and_day_are_in_building_time(known):
    _ids, kpis = known
    hours = {row["hour"]: row for row in kpis["response"]["hours"]}
    # 17:00 and 17:10 (30 s, 50 s); 18:00 and 18:30 (70 s, 90 s); 19:00 unanswered;
    # the help call at 16:30 UTC is 00:30 in Shanghai.
    assert (hours[17]["answered"], hours[17]["p50"], hours[17]["share"]) == (2, 40, 1.0)
    assert (hours[18]["answered"], hours[18]["p50"], hours[18]["share"]) == (2, 80, 0.0)
    assert (hours[19]["answered"], hours[19]["unanswered"]) == (0, 1)
    assert (hours[0]["answered"], hours[0]["p50"]) == (1, 40)
    assert hours[16]["requests"] == 0 and hours[9]["requests"] == 0
    days = {row["day"]: row for row in kpis["response"]["days"]}
    assert len(days) == 30 and list(days)[0] == "2026-11-01" and list(days)[-1] == "2026-11-30"
    assert (days["2026-11-27"]["requests"], days["2026-11-27"]["p50"]) == (5, 60)
    assert (days["2026-11-28"]["requests"], days["2026-11-28"]["p50"]) == (1, 40)
    assert days["2026-11-26"]["requests"] == 0


def test_response_by_staff_member(known):
    _ids, kpis = known
    staff = {row["name"]: row for row in kpis["response"]["staff"]}
    assert set(staff) == {"王芳", "李娜"}
    # 王芳: 30, 40 (the help call), 70. 李娜: 50, 90.
    assert (staff["王芳"]["answered"], staff["王芳"]["p50"], staff["王芳"]["p90"]) == (3, 40, 64)
    assert staff["王芳"]["within"] == 2
    assert (staff["李娜"]["answered"], staff["李娜"]["p50"], staff["李娜"]["p90"]) == (2, 70, 86)
    assert staff["李娜"]["share"] == 0.5
    assert [row["name"] for row in kpis["response"]["staff"]] == ["王芳", "李娜"]


def test_resolution_time_against_each_urgencys_sla(known):
    _ids, kpis = known
    rows = {(row["kind"], row["urgency"]): row for row in kpis["tickets"]["rows"]}
    assert kpis["tickets"]["sla_minutes"] == {"emergency": 15, "urgent": 240, "normal": 4320}
    # 2 days and 4 days against 3 days; a third received on the 28th, open, not yet due
    normal = rows[("repair", "normal")]
    assert (normal["received"], normal["resolved"]) == (3, 2)
    assert normal["p50"] == 3 * 86400 and normal["p90"] == 3.8 * 86400
    assert (normal["within_sla"], normal["share"]) == (1, 0.5)
    assert (normal["open"], normal["overdue"]) == (1, 0)
    urgent = rows[("repair", "urgent")]  # 3 hours against 4; one still open, long overdue
    assert (urgent["received"], urgent["resolved"], urgent["p50"]) == (2, 1, 3 * 3600)
    assert (urgent["share"], urgent["open"], urgent["overdue"]) == (1.0, 1, 1)
    emergency = rows[("repair", "emergency")]  # 20 minutes against 15
    assert (emergency["resolved"], emergency["p50"], emergency["share"]) == (1, 1200, 0.0)
    repairs = rows[("repair", None)]
    assert (repairs["received"], repairs["resolved"], repairs["within_sla"]) == (6, 4, 2)
    assert (repairs["share"], repairs["open"], repairs["overdue"]) == (0.5, 2, 1)
    complaints = rows[("complaint", None)]  # 1 day and 8 days against 3 days
    assert (complaints["received"], complaints["resolved"]) == (2, 2)
    assert complaints["p50"] == 4.5 * 86400 and complaints["share"] == 0.5
    assert (complaints["open"], complaints["overdue"]) == (0, 0)


def test_open_and_overdue_are_counted_now_whatever_the_range(app, known, clock):
    _ids, _kpis = known
    db = building_db(app)
    # The repair received after midnight on the 28th is open but due on the 1st of December.
    early = kpi.compute(
        db, clock, kpi.Period(date(2026, 10, 1), date(2026, 10, 31), "Asia/Shanghai")
    )
    rows = {(row["kind"], row["urgency"]): row for row in early["tickets"]["rows"]}
    assert (rows[("repair", None)]["received"], rows[("repair", None)]["resolved"]) == (0, 0)
    assert (rows[("repair", None)]["open"], rows[("repair", None)]["overdue"]) == (2, 1)
    clock.advance(days=3, minutes=1)  # the open normal repair is now past its 3 days too
    later = kpi.compute(
        db, clock, kpi.Period(date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")
    )
    rows = {(row["kind"], row["urgency"]): row for row in later["tickets"]["rows"]}
    assert rows[("repair", "normal")]["overdue"] == 1 and rows[("repair", None)]["overdue"] == 2
    db.close()


def test_satisfaction_average_distribution_weeks_and_low_ratings(known):
    ids, kpis = known
    satisfaction = kpis["satisfaction"]
    assert satisfaction["count"] == 6
    assert satisfaction["average"] == pytest.approx(20 / 6)
    assert satisfaction["distribution"] == {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
    weeks = {week["week_start"].isoformat(): week for week in satisfaction["weeks"]}
    # Weeks start on Monday: 26 Oct (the range starts on Sunday 1 Nov) … 30 Nov.
    assert list(weeks) == [
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
        "2026-11-30",
    ]
    assert (
        weeks["2026-11-02"]["count"],
        weeks["2026-11-02"]["average"],
        weeks["2026-11-02"]["low"],
    ) == (5, 3.0, 3)
    assert (weeks["2026-11-09"]["count"], weeks["2026-11-09"]["average"]) == (1, 5.0)
    assert weeks["2026-11-16"]["average"] is None
    low = satisfaction["low"]  # newest first
    t = ids["tickets"]
    assert [row["id"] for row in low] == [t["normal_4d"], t["complaint_1d"], t["emergency_20m"]]
    assert low[0]["reasons"] == ["slow", "not_fixed"] and low[0]["comment"] == "=HYPERLINK(1)"
    assert low[0]["rated_local"] == "2026-11-06 09:00"
    counts = {row["key"]: row["count"] for row in satisfaction["reasons"]}
    assert counts == {
        "slow": 1, "not_fixed": 1, "attitude": 1, "mess": 0, "no_update": 1, "other": 0,
    }  # fmt: skip


def test_reopening_a_badly_rated_ticket_does_not_hide_its_rating(app, clock, known):
    """Satisfaction counts every rating ever given: a ticket rated 1, reopened, fixed and
    rated 5 counts both (so the desk cannot launder a bad rating by reopening)."""
    ids, before = known
    ticket_id = ids["tickets"]["normal_4d"]  # rated 2 in the known month
    db = building_db(app)
    secret = app.config["SECRET_KEY"]
    for status in ("reopen", "resolved"):
        tickets.set_status(
            db, clock, ticket_id, staff_id=ids["wang"], status=status, secret_key=secret,
            public_url="http://desk.example",
        )  # fmt: skip
    tickets.rate(db, clock, ticket_id, rating=5, reasons=[], via="link")
    db.close()
    after = november(app, clock)["satisfaction"]
    assert after["count"] == before["satisfaction"]["count"] + 1 == 7
    assert after["distribution"][5] == before["satisfaction"]["distribution"][5] + 1
    assert ticket_id in [row["id"] for row in after["low"]]  # the bad rating is still listed


def test_volumes_by_day_and_hour_and_parcel_dwell(known):
    _ids, kpis = known
    volumes = kpis["volumes"]
    days = {row["day"]: row for row in volumes["days"]}
    assert days["2026-11-02"]["repairs"] == 5 and days["2026-11-02"]["complaints"] == 2
    assert days["2026-11-12"]["parcels_in"] == 1
    assert (days["2026-11-26"]["parcels_in"], days["2026-11-26"]["parcels_out"]) == (2, 2)
    assert (days["2026-11-27"]["visits"], days["2026-11-27"]["visitors"]) == (5, 6)
    assert (days["2026-11-28"]["help"], days["2026-11-28"]["repairs"]) == (1, 1)
    hours = {row["hour"]: row for row in volumes["hours"]}
    assert (hours[17]["visits"], hours[18]["visits"], hours[19]["visits"]) == (2, 2, 1)
    assert (hours[10]["parcels_in"], hours[11]["parcels_in"]) == (2, 1)
    assert (hours[12]["parcels_out"], hours[17]["parcels_out"]) == (1, 1)
    assert hours[9]["repairs"] == 5 and hours[0]["help"] == 1 and hours[0]["repairs"] == 1
    assert volumes["totals"] == {
        "visits": 5, "visitors": 6, "help": 1, "parcels_in": 3, "parcels_out": 2,
        "repairs": 6, "complaints": 2,
    }  # fmt: skip
    # 2 h and 6 h on the shelf; one parcel waits past its code's expiry (shared.parcels' "overdue").
    assert volumes["parcel_dwell"]["p50"] == 4 * 3600
    assert volumes["parcel_dwell"]["p90"] == pytest.approx(5.6 * 3600)
    assert (volumes["parcels_waiting"], volumes["parcels_overdue"]) == (1, 1)


def test_days_and_hours_follow_daylight_saving_time(app, clock):
    """Berlin leaves summer time at 01:00 UTC on 25 October 2026: 02:30 happens twice."""
    db = building_db(app)
    with write_transaction(db):
        db.execute("UPDATE buildings SET timezone = 'Europe/Berlin'")
        for utc in (
            "2026-10-24T22:30:00",
            "2026-10-25T00:30:00",
            "2026-10-25T01:30:00",
            "2026-10-25T02:30:00",
        ):
            db.execute(
                "INSERT INTO visits (unit_id, name, status, created_at, received_at, decided_at,"
                " decided_by) VALUES (1, '访客', 'pending', ?, ?, NULL, NULL)",
                (utc + ".000000+00:00", utc + ".000000+00:00"),
            )
    period = kpi.Period(date(2026, 10, 25), date(2026, 10, 25), "Europe/Berlin")
    assert period.start == "2026-10-24T22:00:00.000000+00:00"
    assert period.end == "2026-10-25T23:00:00.000000+00:00"  # a 25-hour day
    hours = {row["hour"]: row["visits"] for row in kpi.volumes(db, period, now=START)["hours"]}
    # 00:30 CEST, 02:30 CEST, 02:30 CET, 03:30 CET
    assert {h: n for h, n in hours.items() if n} == {0: 1, 2: 2, 3: 1}
    db.close()


def test_a_zone_with_a_quarter_hour_offset_buckets_by_its_own_hours(app, clock):
    """Kathmandu is UTC+05:45: 03:20 UTC is 09:05 there, not 08:xx or 09:20."""
    db = building_db(app)
    with write_transaction(db):
        for utc in ("2026-11-27T03:20:00", "2026-11-27T03:10:00", "2026-11-27T18:20:00"):
            db.execute(
                "INSERT INTO visits (unit_id, name, status, created_at, received_at)"
                " VALUES (1, '访客', 'pending', ?, ?)",
                (utc + ".000000+00:00", utc + ".000000+00:00"),
            )
    period = kpi.Period(date(2026, 11, 27), date(2026, 11, 28), "Asia/Kathmandu")
    volumes = kpi.volumes(db, period, now=START)
    hours = {row["hour"]: row["visits"] for row in volumes["hours"] if row["visits"]}
    assert hours == {8: 1, 9: 1, 0: 1}  # 08:55, 09:05, and 00:05 the next day
    days = {row["day"]: row["visits"] for row in volumes["days"]}
    assert days == {"2026-11-27": 2, "2026-11-28": 1}
    db.close()


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [([30, 50, 70, 90], 60, 84), ([42], 42, 42), ([90, 30], 60, 84), ([], None, None)],
)
def test_percentiles_interpolate_between_ranks(values, p50, p90):
    summary = kpi.summarise(values, 60)
    assert (summary["p50"], summary["p90"]) == (p50, p90)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-31", "", "YYYY-MM-DD"),
        ("11/01/2026", "", "YYYY-MM-DD"),
        ("", "tomorrow", "YYYY-MM-DD"),
        ("2026-11-30", "2026-11-01", "after the end date"),
        ("2025-01-01", "2026-11-30", "at most 366 days"),
    ],
)
def test_a_bad_range_is_refused_with_a_clear_message(start, end, message):
    with pytest.raises(kpi.InvalidPeriod, match=message):
        kpi.parse_period(start, end, today=date(2026, 11, 28), timezone="Asia/Shanghai")


def test_the_default_range_is_the_last_30_days_and_a_month_is_whole():
    period = kpi.parse_period("", "", today=date(2026, 11, 28), timezone="Asia/Shanghai")
    assert (period.first, period.last, len(period.days)) == (
        date(2026, 10, 30),
        date(2026, 11, 28),
        30,
    )
    assert period.start == "2026-10-29T16:00:00.000000+00:00"  # local midnight
    february = kpi.month_period("2028-02", timezone="Asia/Shanghai")
    assert (february.first, february.last) == (date(2028, 2, 1), date(2028, 2, 29))
    december = kpi.month_period("2026-12", timezone="Asia/Shanghai")
    assert december.last == date(2026, 12, 31)
    assert kpi.previous_month(date(2027, 1, 15)) == "2026-12"
    for bad in ("2026-13", "2026-1", "november", ""):
        with pytest.raises(kpi.InvalidPeriod, match="YYYY-MM"):
            kpi.month_period(bad, timezone="Asia/Shanghai")


def test_a_half_hour_daylight_saving_change_is_applied_row_by_row(app, clock):
    """Lord Howe Island moves from UTC+10:30 to +11:00 at 15:30 UTC on 3 October 2026."""
    db = building_db(app)
    with write_transaction(db):
        for utc in ("2026-10-03T15:20:00", "2026-10-03T15:40:00", "2026-10-03T16:10:00"):
            db.execute(
                "INSERT INTO visits (unit_id, name, status, created_at, received_at)"
                " VALUES (1, '访客', 'pending', ?, ?)",
                (utc + ".000000+00:00", utc + ".000000+00:00"),
            )
    period = kpi.Period(date(2026, 10, 4), date(2026, 10, 4), "Australia/Lord_Howe")
    hours = {row["hour"]: row["visits"] for row in kpi.volumes(db, period, now=START)["hours"]}
    # 01:50 (+10:30), 02:40 and 03:10 (+11:00); at a fixed +10:30 the last would be 02:40.
    assert {h: n for h, n in hours.items() if n} == {1: 1, 2: 1, 3: 1}
    response = kpi.response(db, period)
    assert {row["hour"]: row["unanswered"] for row in response["hours"] if row["unanswered"]} == {
        1: 1,
        2: 1,
        3: 1,
    }
    db.close()


def _plans(db) -> list[tuple[str, list[str]]]:
    """Record the query plan of every SELECT on db (the staff-name lookup aside)."""
    plans = []
    execute = db.execute

    def explain(sql, params=()):
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and "FROM staff" not in sql:
            plan = [row[3] for row in execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            plans.append((sql, plan))
        return execute(sql, params)

    db.execute = explain
    return plans


TABLES = ("visits", "escalations", "parcel_handovers", "parcels", "tickets", "ticket_ratings")


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 10, 1), date(2026, 10, 31)), (date(2025, 12, 1), date(2026, 11, 30))],
    ids=["a month", "a year"],
)
def test_every_kpi_query_reads_an_index_not_a_whole_table(app, clock, first, last):
    """The dashboard stays fast with years of data only if no table is read whole: a range
    is an index search, and over a long range answer and shelf times are read in order of
    length from their index (migration 0012) instead of being sorted."""
    db = building_db(app)
    execute = db.execute
    plans = _plans(db)
    period, now = kpi.Period(first, last, "Asia/Shanghai"), to_iso(clock.now())
    kpi.response(db, period)
    kpi.tickets(db, period, now=now, sla={"emergency": 15, "urgent": 240, "normal": 4320})
    kpi.satisfaction(db, period)
    kpi.volumes(db, period, now=now)
    assert len(plans) >= 14
    ordered = len(period.days) > kpi.ORDERED_SCAN_DAYS
    for sql, plan in plans:
        reads = [line for line in plan if any(f" {t} " in f"{line} " for t in TABLES)]
        assert reads, (sql, plan)
        for line in reads:
            # never a bare "SCAN visits" (a rowid lookup of a joined ticket is fine)
            assert "INDEX" in line or "INTEGER PRIMARY KEY" in line, (sql, plan)
            if "INDEXED BY" in sql:  # the answer or shelf times in order of length
                assert ordered and line.startswith("SCAN") and "_kpi" in line, (sql, plan)
                assert not any("ORDER BY" in step for step in plan), (sql, plan)
                # … with the times and minutes as the index stores them, not recomputed
                code = execute("EXPLAIN " + sql, {**kpi._Sql(period).params, "offset": 0})
                called = {row[5] for row in code if row[1] in ("Function", "PureFunc")}
                assert not any(name.startswith(("julianday", "strftime")) for name in called)
            elif ":start" in sql or "day.value" in sql:  # a date range: a range of an index
                assert line.startswith("SEARCH"), (sql, plan)
    assert ordered == any("INDEXED BY" in sql for sql, _plan in plans)
    db.close()


def test_a_long_range_gives_the_month_the_same_figures(app, known, clock):
    """Over more than ORDERED_SCAN_DAYS days the times come in order of length from an
    index, not sorted here: the November of a half year must read exactly as November."""
    _ids, month = known
    db = building_db(app)
    period = kpi.Period(date(2026, 6, 1), date(2026, 11, 30), "Asia/Shanghai")
    assert len(period.days) > kpi.ORDERED_SCAN_DAYS
    half_year = kpi.compute(db, clock, period)
    db.close()
    for key in ("sources", "total", "hours", "staff"):
        assert half_year["response"][key] == month["response"][key], key
    november_days = [row for row in half_year["response"]["days"] if row["day"] >= "2026-11-01"]
    assert november_days == month["response"]["days"]
    assert half_year["tickets"] == month["tickets"]
    assert half_year["volumes"]["hours"] == month["volumes"]["hours"]
    assert half_year["volumes"]["totals"] == month["volumes"]["totals"]
    assert half_year["volumes"]["parcel_dwell"] == month["volumes"]["parcel_dwell"]
    assert half_year["satisfaction"]["low"] == month["satisfaction"]["low"]
    assert half_year["satisfaction"]["distribution"] == month["satisfaction"]["distribution"]


def test_weeks_start_on_monday_and_count_only_days_in_the_range(known):
    _ids, kpis = known
    weeks = {row["week_start"].isoformat(): row for row in kpis["response"]["weeks"]}
    assert list(weeks) == [
        "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30",
    ]  # fmt: skip
    # 23-29 November: the five visitors of the 27th and the help call of the 28th.
    last_full = weeks["2026-11-23"]
    assert (last_full["requests"], last_full["answered"], last_full["unanswered"]) == (6, 5, 1)
    assert (last_full["p50"], last_full["p90"], last_full["share"]) == (50, 82, 0.5)
    assert weeks["2026-10-26"]["requests"] == 0  # only Sunday 1 November is in the range
    volumes = {row["week_start"].isoformat(): row for row in kpis["volumes"]["weeks"]}
    assert (volumes["2026-11-23"]["visits"], volumes["2026-11-23"]["visitors"]) == (5, 6)
    assert (volumes["2026-11-23"]["parcels_in"], volumes["2026-11-23"]["parcels_out"]) == (2, 2)
    assert (volumes["2026-11-02"]["repairs"], volumes["2026-11-09"]["parcels_in"]) == (5, 1)
    for column in kpi.VOLUME_COLUMNS:
        assert sum(week[column] for week in volumes.values()) == kpis["volumes"]["totals"][column]


def _requests_at(app, rows) -> None:
    """Visits received at the given UTC times, answered after so many seconds (or not)."""
    db = building_db(app)
    with write_transaction(db):
        for utc, seconds in rows:
            received = parse_utc(utc + "+00:00")
            decided = None if seconds is None else to_iso(received + timedelta(seconds=seconds))
            db.execute(
                "INSERT INTO visits (unit_id, name, status, created_at, received_at, decided_at,"
                " decided_by) VALUES (1, '访客', 'pending', ?, ?, ?, NULL)",
                (to_iso(received), to_iso(received), decided),
            )
    db.close()


@pytest.mark.parametrize(
    ("timezone", "rows", "hours", "days"),
    [
        (
            # Summer time starts at 01:00 UTC on 29 March and ends at 01:00 UTC on 25 October.
            "Europe/Berlin",
            [
                ("2026-03-29T00:30:00", 30),  # 01:30 CET
                ("2026-03-29T01:30:00", 90),  # 03:30 CEST
                ("2026-06-30T22:30:00", 70),  # 00:30 CEST on 1 July
                ("2026-10-25T00:30:00", 50),  # 02:30 CEST
                ("2026-10-25T01:30:00", None),  # 02:30 CET, the second time round
            ],
            {0: (1, 0, 70), 1: (1, 0, 30), 2: (1, 1, 50), 3: (1, 0, 90)},
            {"2026-03-29": (2, 0, 60), "2026-07-01": (1, 0, 70), "2026-10-25": (1, 1, 50)},
        ),
        (
            "Asia/Kathmandu",  # UTC+05:45
            [
                ("2026-11-27T03:20:00", 40),  # 09:05
                ("2026-11-27T03:10:00", 20),  # 08:55
                ("2026-11-27T18:20:00", None),  # 00:05 on the 28th
            ],
            {8: (1, 0, 20), 9: (1, 0, 40), 0: (0, 1, None)},
            {"2026-11-27": (2, 0, 30), "2026-11-28": (0, 1, None)},
        ),
    ],
    ids=["Berlin", "Kathmandu"],
)
def test_a_whole_year_keeps_each_zones_own_hours_and_days(app, timezone, rows, hours, days):
    """A year is read in order of answer time: each request still lands in its local hour
    and day, daylight saving and quarter-hour offsets included."""
    _requests_at(app, rows)
    db = building_db(app)
    period = kpi.Period(date(2026, 1, 1), date(2026, 12, 31), timezone)
    response = kpi.response(db, period)
    volumes = kpi.volumes(db, period, now=START)
    db.close()

    def seen(row):
        return row["answered"], row["unanswered"], row["p50"]

    assert {row["hour"]: seen(row) for row in response["hours"] if row["requests"]} == hours
    assert {row["day"]: seen(row) for row in response["days"] if row["requests"]} == days
    assert {row["hour"]: row["visits"] for row in volumes["hours"] if row["visits"]} == {
        hour: answered + unanswered for hour, (answered, unanswered, _p50) in hours.items()
    }
    assert {row["day"]: row["visits"] for row in volumes["days"] if row["visits"]} == {
        day: answered + unanswered for day, (answered, unanswered, _p50) in days.items()
    }


def test_the_total_of_several_sorted_lists_is_read_without_merging_them():
    rng = random.Random(5)
    lists = [sorted(float(rng.randrange(1000, 900000)) for _ in range(n)) for n in (700, 90, 31)]
    merged = sorted(value for values in lists for value in values)
    union = kpi._summary_ms(kpi._Union(lists), 60)
    assert union == kpi._summary_ms(merged, 60)
    assert union["p50"] == kpi.summarise([value / 1000 for value in merged])["p50"]


def test_reasons_that_are_not_a_list_of_words_count_for_nothing(app, known, clock):
    ids, _kpis = known
    db = building_db(app)
    t = ids["tickets"]
    with write_transaction(db):
        set_reasons = "UPDATE ticket_ratings SET reasons = ? WHERE ticket_id = ?"
        db.execute(set_reasons, ('{"slow": 1}', t["normal_4d"]))
        db.execute(set_reasons, ("oops", t["complaint_1d"]))
        db.execute(set_reasons, ('["no_update", 7, "slow"]', t["emergency_20m"]))
    period = kpi.parse_period(
        NOVEMBER["from"], NOVEMBER["to"], today=date(2026, 11, 28), timezone="Asia/Shanghai"
    )
    satisfaction = kpi.satisfaction(db, period)
    newest = kpi.satisfaction(db, period, low_limit=1)
    db.close()
    counts = {row["key"]: row["count"] for row in satisfaction["reasons"] if row["count"]}
    assert counts == {"no_update": 1, "slow": 1}
    assert [row["reasons"] for row in satisfaction["low"]] == [[], [], ["no_update", "slow"]]
    # Only the newest listed; the counts and reasons are still of all three.
    assert [row["id"] for row in newest["low"]] == [t["normal_4d"]]
    assert newest["low_count"] == 3 and newest["reasons"] == satisfaction["reasons"]
