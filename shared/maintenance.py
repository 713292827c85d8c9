"""The console's daily housekeeping: the retention purge and the scheduled backup.

`run_due` is cheap when nothing is due (one indexed query, one folder listing),
so the background thread can call it every minute; what it last did is read
from the audit log and the backup folder, so a restart neither skips nor
repeats a day.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlite_utils

from shared import audit, backup, retention
from shared.clock import parse_utc
from shared.db import write_transaction

PURGE_EVERY = timedelta(days=1)


def run_due(
    db: sqlite_utils.Database,
    clock,
    data_dir: str | Path,
    backup_interval_hours: float = 24,
    backups_kept: int = backup.DEFAULT_KEEP,
) -> dict:
    done = {}
    now = clock.now()
    last = retention.last_purge_at(db)
    if last is None or now - parse_utc(last) >= PURGE_EVERY:
        done["purge"] = retention.purge(db, clock, data_dir=data_dir)
    if backup.due(backup.folder(data_dir), now, backup_interval_hours):
        path = backup.create(
            db, backup.folder(data_dir), reason="scheduled", now=now, keep=backups_kept
        )
        with write_transaction(db):
            audit.record(
                db, clock, actor="system", action="backup.create", detail={"file": path.name}
            )
        done["backup"] = path
    return done
