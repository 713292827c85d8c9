"""The desk's KPIs (shared/kpi.py) on a November whose every figure is known.

The month is built the way it happens: visitors register on the kiosk and two
receptionists decide on the console, a help call is acknowledged, repairs and
complaints are recorded, resolved and rated, parcels are logged and handed
over — on a FrozenClock in a Shanghai building (UTC+8), so days and hours of
day must come out in building time.
"""

from __future__ import annotations

from datetime import date

import pytest

from shared import kpi, parcels, tickets
from shared.clock import FrozenClock, to_iso
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
    parcels.hand_over_at_desk(db, clock, [first], staff_id=ids["li"])  # 2 h on the shelf
    clock.advance(hours=5)
    parcels.hand_over_at_desk(db, clock, [second], staff_id=ids["wang"])  # 6 h
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
    assert visits["within"] == 2 and visits["share"] == 0.5
    assert (help_calls["answered"], help_calls["p50"], help_calls["share"]) == (1, 40, 1.0)
    assert handovers["requests"] == 0 and handovers["p50"] is None and handovers["share"] is None
    # All five answers: 30, 40, 50, 70, 90.
    total = response["total"]
    assert (total["requests"], total["answered"], total["unanswered"]) == (6, 5, 1)
    assert total["p50"] == 50 and total["p90"] == 82 and total["share"] == 0.6


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


def test_every_kpi_query_reads_an_index_not_a_whole_table(app, clock):
    """The dashboard stays fast with years of data only if each range is an index search."""
    db = building_db(app)
    plans = []
    execute = db.execute

    def explain(sql, params=()):
        if sql.lstrip().upper().startswith("SELECT") and "FROM staff" not in sql:
            plan = [row[3] for row in execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            plans.append((sql, plan))
        return execute(sql, params)

    db.execute = explain
    kpi.compute(db, clock, kpi.Period(date(2026, 10, 1), date(2026, 10, 31), "Asia/Shanghai"))
    assert len(plans) >= 12
    for sql, plan in plans:
        tables = ("visits", "escalations", "parcel_handovers", "parcels", "tickets")
        assert not any(line in {f"SCAN {t}" for t in tables} for line in plan), (sql, plan)
        if "_at >= :start" in sql:  # a date range
            assert "INDEX" in plan[0] and plan[0].startswith("SEARCH"), (sql, plan)
    db.close()
