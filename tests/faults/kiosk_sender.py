"""A kiosk sender as its own process, for kill -9 tests: queue some help calls,
then drain the outbox to the console until killed or done.

usage: python -m tests.faults.kiosk_sender KIOSK_DB CONSOLE_URL N_NEW
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from kiosk.client import ConsoleClient
from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from kiosk.sync import SyncWorker
from shared.clock import to_iso


def main(db_path: str, console_url: str, new_items: int) -> None:
    store = KioskStore.open(db_path)
    outbox = Outbox(store)
    outbox.recover()  # what a restarted kiosk does first: in_flight -> ready
    for _ in range(new_items):
        body = {
            "kind": "help",
            "created_at": to_iso(datetime.now(UTC)),
            "language": "zh_CN",
            "screen": "home",
        }
        outbox.enqueue("escalation.help", "/api/v1/escalations", body)
    print("queued", flush=True)
    worker = SyncWorker(store, ConsoleClient(console_url, store.token))
    while worker.drain_once(outbox) is not None:
        pass
    print("drained", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
