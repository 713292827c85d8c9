"""kiosk/outbox_policy.py without a window: which parcel pickups and ticket ratings the
kiosk withdraws from its outbox, and what each flow is told (a Refusal, as data)."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta

import pytest

from kiosk.outbox import DEAD, IN_FLIGHT, READY, Outbox
from kiosk.outbox_policy import withdraw_refused_ratings, withdraw_stale_pickups
from kiosk.refusals import Refusal
from kiosk.store import KioskStore
from kiosk.viewmodels import parcel as pv
from kiosk.viewmodels import ticket_status as ts


@pytest.fixture
def outbox(tmp_path, clock):  # clock: tests/conftest.py
    with closing(KioskStore.open(tmp_path / "kiosk.db", clock)) as store:
        yield Outbox(store)


@pytest.fixture
def parcel(clock):
    return pv.ParcelViewModel(clock)


def pickup(outbox: Outbox) -> int:
    return outbox.enqueue(pv.KIND, pv.PATH, {"unit": "101", "code": "123456"})


def waiting_for(parcel, outbox_id: int) -> None:
    """The parcel flow sent this pickup, online, and waits for the answer."""
    parcel.on_online(True)
    parcel.begin()
    parcel.state = pv.SAVING
    parcel.on_saved(outbox_id)


def test_the_pickup_the_flow_waits_for_stays_until_its_time_is_up(outbox, parcel, clock):
    item_id = pickup(outbox)
    waiting_for(parcel, item_id)
    assert withdraw_stale_pickups(outbox, parcel, clock.now()) == []
    assert outbox.get(item_id).state == READY
    later = clock.advance(seconds=pv.ANSWER_SECONDS)
    [withdrawn] = withdraw_stale_pickups(outbox, parcel, later)
    assert (withdrawn.outbox_id, withdrawn.kind) == (item_id, pv.KIND)
    assert withdrawn.refusal == Refusal(pv.WITHDRAWN, pv.WITHDRAWN_TEXT)
    item = outbox.get(item_id)
    assert (item.state, item.last_error, item.last_error_code) == (
        DEAD,
        pv.WITHDRAWN_TEXT,
        pv.WITHDRAWN,
    )
    assert parcel.on_dead(item_id, withdrawn.refusal) and parcel.state == pv.OFFLINE


def test_a_pickup_nobody_waits_for_goes_at_once_and_other_kinds_stay(outbox, parcel, clock):
    other = outbox.enqueue("visit.register", "/api/v1/visits", {"unit": "101"})
    item_id = pickup(outbox)
    [withdrawn] = withdraw_stale_pickups(outbox, parcel, clock.now())
    assert withdrawn.outbox_id == item_id
    assert outbox.get(other).state == READY


def test_one_on_the_wire_is_left_to_finish_except_after_a_restart(outbox, parcel, clock):
    item_id = pickup(outbox)
    outbox.mark_in_flight(item_id)
    assert withdraw_stale_pickups(outbox, parcel, clock.now()) == []
    assert outbox.get(item_id).state == IN_FLIGHT
    [withdrawn] = withdraw_stale_pickups(outbox, parcel, clock.now(), starting=True)
    assert withdrawn.outbox_id == item_id and outbox.get(item_id).state == DEAD


def test_a_throttled_pickup_goes_with_the_consoles_code_even_while_awaited(outbox, parcel, clock):
    item_id = pickup(outbox)
    waiting_for(parcel, item_id)
    outbox.mark_in_flight(item_id)
    text = "HTTP 429 too_many_attempts: slow down"
    outbox.release(item_id, text, clock.now() + timedelta(seconds=30), "too_many_attempts")
    [withdrawn] = withdraw_stale_pickups(outbox, parcel, clock.now())
    assert withdrawn.refusal == Refusal("too_many_attempts", text)
    assert outbox.get(item_id).last_error_code == "too_many_attempts"
    assert parcel.on_dead(item_id, withdrawn.refusal) and parcel.state == pv.FAILED


def test_the_code_decides_not_the_words(outbox, parcel, clock):
    """A description that merely mentions a code is no refusal with that code."""
    item_id = pickup(outbox)
    waiting_for(parcel, item_id)
    outbox.mark_in_flight(item_id)
    outbox.retry_later(item_id, "HTTP 429 too_many_attempts: x", clock.now(), "rate_limited")
    assert withdraw_stale_pickups(outbox, parcel, clock.now()) == []


def rating(outbox: Outbox, clock, code: str | None) -> int:
    item_id = outbox.enqueue(ts.KIND, ts.PATH, {"qr": "q", "rating": 5, "reasons": []})
    outbox.mark_in_flight(item_id)
    outbox.retry_later(item_id, f"HTTP 409 {code}: no", clock.now(), code)
    return item_id


@pytest.mark.parametrize("code", ts.FINAL_CONFLICTS)
def test_a_rating_refused_for_good_is_withdrawn_with_its_code(outbox, clock, code):
    item_id = rating(outbox, clock, code)
    [withdrawn] = withdraw_refused_ratings(outbox)
    assert (withdrawn.outbox_id, withdrawn.refusal.code) == (item_id, code)
    assert outbox.get(item_id).state == DEAD


def test_a_rating_merely_waiting_is_kept(outbox, clock):
    conflict = rating(outbox, clock, "idempotency_conflict")
    no_code = rating(outbox, clock, None)
    assert withdraw_refused_ratings(outbox) == []
    assert outbox.get(conflict).state == READY and outbox.get(no_code).state == READY
