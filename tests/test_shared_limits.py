"""Limits that several console processes share through coordination.db (issue 9):
a kiosk's write bucket and an address's window count the same whichever process
answers, survive a restart, bear a clock stepping back, and clean up after themselves."""

from __future__ import annotations

import threading

import pytest

from shared import rate_limit
from shared.coordination import Coordination, path_in
from tests.helpers import KioskCaller, StaffBrowser, add_staff, make_app, paired_kiosk


@pytest.fixture
def second(tmp_path):
    """Another process's connection to the same coordination.db."""
    opened = Coordination(path_in(tmp_path))
    yield opened
    opened.close()


def _rows(coordinated, table: str) -> int:
    return coordinated.read(f"SELECT count(*) FROM {table}")[0][0]


def test_two_processes_share_one_kiosks_bucket(coordinated, second):
    here = rate_limit.TokenBuckets(coordinated, "kiosk_writes", capacity=5, rate=1)
    there = rate_limit.TokenBuckets(second, "kiosk_writes", capacity=5, rate=1)
    assert [here.take(7, 100.0) for _ in range(5)] == [0.0] * 5
    assert there.take(7, 100.0) == pytest.approx(1.0)  # the burst is spent, whoever asks
    assert there.take(8, 100.0) == 0.0  # another kiosk has its own bucket
    assert here.take(7, 101.0) == 0.0  # one token a second comes back, for both
    with pytest.raises(rate_limit.RateLimited):
        there.check(7, 101.0)


def test_two_limits_with_the_same_key_count_apart(coordinated):
    writes = rate_limit.TokenBuckets(coordinated, "kiosk_writes", capacity=1, rate=1)
    backlog = rate_limit.TokenBuckets(coordinated, "kiosk_backlog", capacity=1, rate=1)
    assert writes.take(7, 0.0) == 0.0 and backlog.take(7, 0.0) == 0.0
    lookups = rate_limit.WindowLimit(coordinated, "lookup", 1, 60)
    scans = rate_limit.WindowLimit(coordinated, "pass_scan", 1, 60)
    assert lookups.hit(7, 0.0) == 0.0 and scans.hit(7, 0.0) == 0.0


def test_two_processes_share_one_addresss_window(coordinated, second):
    here = rate_limit.WindowLimit(coordinated, "login_failure", limit=3, window=600)
    there = rate_limit.WindowLimit(second, "login_failure", limit=3, window=600)
    assert here.hit("10.0.0.9", 1000.0) == 0.0
    assert there.hit("10.0.0.9", 1010.0) == 0.0
    assert here.hit("10.0.0.9", 1020.0) == 0.0
    assert there.wait("10.0.0.9", 1030.0) == pytest.approx(570.0)
    assert there.hit("10.0.0.9", 1030.0) == pytest.approx(570.0)  # refused, not counted
    assert there.hit("10.0.0.10", 1030.0) == 0.0
    assert here.hit("10.0.0.9", 1600.0) == 0.0  # the first failure aged out


def test_a_restart_does_not_reset_a_window_or_a_bucket(tmp_path):
    before = Coordination(path_in(tmp_path))
    window = rate_limit.WindowLimit(before, "lookup", limit=2, window=600)
    bucket = rate_limit.TokenBuckets(before, "kiosk_writes", capacity=1, rate=0.01)
    window.hit(3, 0.0), window.hit(3, 1.0), bucket.take(3, 0.0)
    before.close()
    after = Coordination(path_in(tmp_path))
    try:
        assert rate_limit.WindowLimit(after, "lookup", 2, 600).hit(3, 2.0) > 590
        assert rate_limit.TokenBuckets(after, "kiosk_writes", 1, 0.01).take(3, 2.0) > 90
    finally:
        after.close()


def test_a_clock_stepping_back_never_locks_out_longer_than_the_window(coordinated):
    window = rate_limit.WindowLimit(coordinated, "lookup", limit=2, window=60)
    window.hit(1, 10_000.0), window.hit(1, 10_001.0)
    assert window.hit(1, 10_002.0) > 0
    # The clock goes back an hour: the two hits count as "now", for one window only.
    assert 0 < window.wait(1, 6_400.0) <= 60
    assert window.hit(1, 6_460.0) == 0.0
    bucket = rate_limit.TokenBuckets(coordinated, "kiosk_writes", capacity=2, rate=1)
    bucket.take(1, 10_000.0), bucket.take(1, 10_000.0)
    assert bucket.take(1, 6_400.0) == pytest.approx(1.0)  # refills nothing, waits one token
    assert bucket.take(1, 6_401.0) == 0.0


def test_refusals_are_tallied_once_a_minute_across_processes(coordinated, second):
    here, there = rate_limit.RefusalTally(coordinated), rate_limit.RefusalTally(second)
    key = ("limit.lookup", 4)
    assert here.add(key, 0.0) == 1  # the first refusal is written at once
    assert there.add(key, 10.0) == 0 and here.add(key, 20.0) == 0
    assert there.add(key, 61.0) == 3  # one row a minute, with every refusal since
    assert here.add(("limit.lookup", 5), 61.0) == 1


def test_concurrent_takes_from_two_connections_never_exceed_the_burst(coordinated, second):
    granted = []

    def take_many(connection):
        bucket = rate_limit.TokenBuckets(connection, "kiosk_writes", capacity=60, rate=0.001)
        granted.extend(bucket.take(9, 0.0) == 0.0 for _ in range(100))

    threads = [threading.Thread(target=take_many, args=(c,)) for c in (coordinated, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(granted) == 200 and sum(granted) == 60


def test_purge_drops_only_rows_that_no_longer_change_an_answer(coordinated):
    window = rate_limit.WindowLimit(coordinated, "pair_failure", limit=5, window=600)
    bucket = rate_limit.TokenBuckets(coordinated, "kiosk_writes", capacity=10, rate=1)
    tally = rate_limit.RefusalTally(coordinated)
    for address in ("10.0.0.1", "10.0.0.2"):
        window.hit(address, 0.0)
    window.hit("10.0.0.3", 500.0)
    bucket.take(1, 0.0)  # full again 1 s later
    [bucket.take(2, 0.0) for _ in range(10)]  # full again 10 s later
    tally.add("quiet", 0.0)  # written, nothing left unwritten
    tally.add("flood", 0.0), tally.add("flood", 30.0)  # one refusal not yet written
    window.purge(601.0), bucket.purge(5.0), tally.purge(61.0)
    assert coordinated.read("SELECT key FROM limit_hits") == [("10.0.0.3",)]
    assert coordinated.read("SELECT key FROM limit_buckets") == [("2",)]
    assert coordinated.read("SELECT key FROM limit_refusals") == [("refusals/flood",)]
    assert tally.add("flood", 62.0) == 2  # the paused flood's count was kept
    assert bucket.take(2, 5.0) == 0.0 and bucket.take(1, 5.0) == 0.0


def test_a_busy_limiter_sweeps_its_own_stale_rows(coordinated):
    window = rate_limit.WindowLimit(coordinated, "lookup", limit=5, window=60)
    for kiosk in range(50):
        window.hit(kiosk, 0.0)
    assert _rows(coordinated, "limit_hits") == 50
    window.hit("one more", 61.0 + rate_limit.SWEEP_EVERY)  # no call to purge()
    assert _rows(coordinated, "limit_hits") == 1


# --- two console processes over one data folder (create_app twice) ----------------------


@pytest.fixture
def two_consoles(tmp_path, clock):
    limits = {"LOGIN_FAILURE_LIMIT": 3, "KIOSK_WRITE_BURST": 3}
    first = make_app(tmp_path, clock, **limits)
    second = make_app(tmp_path, clock, building=None, **limits)
    yield first, second
    for app in (first, second):
        app.extensions["lobbydesk.coordination"].close()


def test_failed_sign_ins_from_one_address_count_across_both_consoles(two_consoles):
    first, second = two_consoles
    add_staff(first, username="boss", role="admin")
    on_first, on_second = StaffBrowser(first.test_client()), StaffBrowser(second.test_client())
    # Three wrong guesses at three names (the per-account guard never trips) …
    assert on_first.login("nobody", "wrong").status_code == 401
    assert on_second.login("noone", "wrong").status_code == 401
    assert on_first.login("anyone", "wrong").status_code == 401
    # … and this address is paused on both consoles, even for the right password.
    refused = on_second.login("boss")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert on_first.login("boss").status_code == 429


def test_kiosk_writes_over_the_burst_are_refused_by_the_other_console(two_consoles, clock):
    first, second = two_consoles
    _kiosk_id, token = paired_kiosk(first)
    via_first = KioskCaller(first.test_client(), token)
    via_second = KioskCaller(second.test_client(), token)
    assert [via_first.call_reception().status_code for _ in range(3)] == [201] * 3
    refused = via_second.call_reception()
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    clock.advance(seconds=1)  # two tokens a second come back, for both consoles
    assert via_second.call_reception().status_code == 201
