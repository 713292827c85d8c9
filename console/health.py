"""`GET /healthz`: is this console fit to serve? For a monitor, a load balancer or
a person with curl; no sign-in, no personal data, cheap enough to ask every few
seconds (one `SELECT 1`, one statvfs, one listing of the backup folder).

- "failing" (HTTP 503): the database does not answer, the disk has less free
  space than MIN_FREE_BYTES, or a write has met a full disk (SQLITE_FULL, see
  console/errors.py) and none has gone through since;
- "degraded" (HTTP 200): the console serves, but a person should look: the
  disk has no room left for one more backup, or the newest scheduled or manual
  backup is older than twice BACKUP_INTERVAL_HOURS (or there is none that long
  after the start, or scheduled backups are off);
- "ok" otherwise.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from console.db import database_path, get_db
from console.errors import storage_full_since
from shared import backup
from shared.clock import to_iso
from shared.version import __version__

bp = Blueprint("health", __name__)

# Below this the console cannot count on finishing a write (a WAL checkpoint, a
# session row, a kiosk's batch): the point where it stops being fit to serve.
MIN_FREE_BYTES = 64 * 1024 * 1024
_STARTED = "lobbydesk.health.started_at"
# The backups the schedule counts (shared/backup.py `due`): not pre-migration ones.
_ROUTINE = ("scheduled", "manual")
_RANK = {"ok": 0, "degraded": 1, "failing": 2}


@bp.record_once
def _remember_start(state) -> None:
    # "No backup yet" is only worth a warning once the first one is overdue.
    state.app.extensions[_STARTED] = state.app.extensions["lobbydesk.clock"].now()


@bp.get("/healthz")
def healthz():
    checks = {"database": _database(), "disk": _disk(), "backup": _backup()}
    status = max((check["status"] for check in checks.values()), key=_RANK.__getitem__)
    body = {"status": status, "version": __version__, "checks": checks}
    return jsonify(body), 503 if status == "failing" else 200


def _database() -> dict:
    try:
        get_db().execute("SELECT 1").fetchone()
    except (sqlite3.Error, OSError):
        current_app.logger.exception("health check: the database does not answer")
        return {"status": "failing"}
    return {"status": "ok"}


def _disk() -> dict:
    data_dir = current_app.config["DATA_DIR"]
    threshold = current_app.config.get("HEALTH_MIN_FREE_BYTES", MIN_FREE_BYTES)
    try:
        free = shutil.disk_usage(data_dir).free  # statvfs of the data folder's file system
    except OSError:
        current_app.logger.exception("health check: cannot measure the data folder's disk")
        free = None
    full_since = storage_full_since(current_app)
    if free is None or free < threshold or full_since is not None:
        status = "failing"
    elif free < threshold + _database_bytes():
        status = "degraded"  # the next backup (a copy of the database) would not fit
    else:
        status = "ok"
    return {
        "status": status,
        "free_bytes": free,
        "min_free_bytes": threshold,
        "write_refused": full_since is not None,
    }


def _database_bytes() -> int:
    try:
        return os.stat(database_path(current_app)).st_size
    except OSError:
        return 0


def _backup() -> dict:
    interval = float(current_app.config.get("BACKUP_INTERVAL_HOURS") or 0)
    now: datetime = current_app.extensions["lobbydesk.clock"].now()
    folder = backup.folder(Path(current_app.config["DATA_DIR"]))
    routine = [b for b in backup.list_backups(folder) if b["reason"] in _ROUTINE]
    last = routine[0]["taken_at"] if routine else None
    age_hours = (now - last).total_seconds() / 3600 if last else None
    if interval <= 0:
        status = "degraded"  # no scheduled backups: nothing protects the building's data
    elif last is None:
        since_start = (now - current_app.extensions[_STARTED]).total_seconds() / 3600
        status = "degraded" if since_start > 2 * interval else "ok"
    else:
        status = "degraded" if age_hours > 2 * interval else "ok"
    return {
        "status": status,
        "last": to_iso(last) if last else None,
        "age_hours": round(age_hours, 1) if age_hours is not None else None,
        "interval_hours": interval,
    }
