"""The background jobs run in one console process at a time (docs/ARCHITECTURE.md,
"Several processes"): a lease in coordination.db decides which.

Leases on real coordination.db files (two Coordination objects over one file are
two processes as far as SQLite can tell); the last test serves one data folder
from two consoles and a due notification reaches the real SMTP server once."""

from __future__ import annotations

import subprocess
import sys

from console.server import ConsoleServer
from shared import leases, notifications
from shared.clock import SystemClock
from shared.coordination import Coordination, path_in
from shared.db import write_transaction
from tests.helpers import add_resident, building_db, eventually, holds_for, make_app
from tests.mailbox import Mailbox

TTL = 30.0
NOW = 1_800_000_000.0


def _two_processes(tmp_path) -> tuple[Coordination, Coordination]:
    return Coordination(path_in(tmp_path)), Coordination(path_in(tmp_path))


def test_of_two_holders_only_one_gets_the_lease_until_it_expires(tmp_path):
    first, second = _two_processes(tmp_path)
    assert leases.take_or_renew(first, "background", "host:1:a", TTL, NOW)
    assert not leases.take_or_renew(second, "background", "host:2:b", TTL, NOW + 1)
    assert leases.take_or_renew(first, "background", "host:1:a", TTL, NOW + 20)  # renewed
    assert not leases.take_or_renew(second, "background", "host:2:b", TTL, NOW + 40)
    assert leases.holder_of(second, "background", NOW + 40) == "host:1:a"

    # the first stops renewing (killed): once its lease runs out the second takes over
    assert leases.take_or_renew(second, "background", "host:2:b", TTL, NOW + 20 + TTL)
    assert leases.holder_of(first, "background", NOW + 20 + TTL) == "host:2:b"
    # the first wakes up late: its renewal fails, it must not run the jobs
    assert not leases.take_or_renew(first, "background", "host:1:a", TTL, NOW + 51)


def test_a_released_lease_is_taken_at_once_and_release_by_a_former_holder_does_nothing(tmp_path):
    first, second = _two_processes(tmp_path)
    assert leases.take_or_renew(first, "background", "host:1:a", TTL, NOW)
    leases.release(first, "background", "host:1:a")
    assert leases.holder_of(second, "background", NOW + 1) is None
    assert leases.take_or_renew(second, "background", "host:2:b", TTL, NOW + 1)

    leases.release(first, "background", "host:1:a")  # no longer the holder: nothing happens
    assert leases.holder_of(first, "background", NOW + 2) == "host:2:b"
    assert leases.take_or_renew(first, "other-job", "host:1:a", TTL, NOW + 2)  # names apart


def test_a_dead_process_on_this_host_does_not_hold_the_lease(tmp_path):
    """A console restarted after a SIGKILL does not wait out its predecessor's lease."""
    first, second = _two_processes(tmp_path)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True)  # fmt: skip
    dead = leases.new_holder().split(":")[0] + f":{ended.stdout.strip()}:dead"
    assert leases.take_or_renew(first, "background", dead, TTL, NOW)
    assert leases.take_or_renew(second, "background", leases.new_holder(), TTL, NOW + 1)

    alive = leases.new_holder()  # this very process, under another name: still alive
    assert leases.take_or_renew(first, "alive", alive, TTL, NOW)
    assert not leases.take_or_renew(second, "alive", leases.new_holder(), TTL, NOW + 1)


def test_two_consoles_over_one_data_folder_send_a_due_notification_once(tmp_path):
    mailbox = Mailbox().start()
    config = {"NOTIFY_EMAIL_URL": mailbox.apprise_url, "NOTIFY_INTERVAL_SECONDS": 0.05}
    first = ConsoleServer(make_app(tmp_path, **config)).start_in_background()
    second = ConsoleServer(make_app(tmp_path, building=None, **config)).start_in_background()
    try:
        eventually(lambda: first._jobs.holding or second._jobs.holding, message="a holder")
        resident_id = add_resident(first.app)
        db = building_db(first.app)
        with write_transaction(db):
            notifications.enqueue_for_resident(
                db,
                SystemClock(),
                db["residents"].get(resident_id),
                kind="visitor.arrived",
                subject="访客到访 Visitor at the desk",
                body="张先生 is at the desk.",
                related=None,
            )
        db.close()
        eventually(lambda: len(mailbox.messages) >= 1, message="the notification was sent")
        # Both consoles go round every 50 ms: a second copy would come within a second.
        holds_for(lambda: len(mailbox.messages) == 1, 2, message="sent once")
        assert [first._jobs.holding, second._jobs.holding].count(True) == 1
    finally:
        first.stop()
        second.stop()
        mailbox.stop()
