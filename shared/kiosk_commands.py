"""Commands staff send to one kiosk through its feed: for now, "exit for maintenance".

The kiosk in the lobby has no way out a visitor can find (no Escape, no F1, no
close button), so staff who need the desktop or a stopped app ask from the
console. The command is an ordinary feed event: the kiosk hears it on its
long-poll within a second when online, or on its next contact when it is not,
and it is audited like every staff action. No new table: the feed is already
per kiosk, ordered, and read exactly once (the kiosk stores its cursor).
"""

from __future__ import annotations

import sqlite_utils

from shared import audit, feed
from shared.clock import to_iso
from shared.db import one, write_transaction
from shared.errors import NotFound

EXIT_KIND = "kiosk.exit"  # kiosk/heartbeat.py answers it


def request_exit(db: sqlite_utils.Database, clock, kiosk_id: int, *, actor: str) -> int:
    """Queue the exit for a paired, not revoked kiosk; returns the feed event id."""
    with write_transaction(db):
        kiosk = one(
            db,
            "SELECT id, name FROM kiosks WHERE id = ? AND revoked_at IS NULL"
            " AND paired_at IS NOT NULL",
            (kiosk_id,),
        )
        if kiosk is None:
            raise NotFound(
                "没有这台已配对的终端 · No paired kiosk with that number (revoked or not paired)."
            )
        event_id = feed.append(
            db,
            clock,
            kiosk_id,
            EXIT_KIND,
            {"reason": "maintenance", "requested_at": to_iso(clock.now())},
        )
        audit.record(
            db,
            clock,
            actor=actor,
            action="kiosk.exit_requested",
            target=f"kiosk:{kiosk_id}",
            detail={"event": event_id},
        )
    return event_id
