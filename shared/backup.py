"""Backups of the building database (SECURITY.md 30).

Always through the SQLite backup API, never by copying the live file: a copy
taken while the console writes can catch half a transaction or miss what is
still in the WAL. A backup is written to a temporary name, checked with
`PRAGMA integrity_check`, switched to a single self-contained file
(journal_mode=DELETE), fsynced, then renamed into place, so a half-written
backup never looks like a good one.

Backups are taken on demand (`lobbydesk admin backup`), on a schedule (the
console's background thread) and before every migration; the newest N of each
kind are kept.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from shared import feed
from shared.clock import to_iso
from shared.db import connect, write_transaction

FOLDER = "backups"
DEFAULT_KEEP = 14
DATABASE_NAME = "lobbydesk.db"
_NAME = re.compile(r"^lobbydesk-(\d{8}T\d{12})Z-([a-z-]+)\.db$")
_STAMP = "%Y%m%dT%H%M%S%f"


class BackupFailed(Exception):
    """The backup or restore did not produce a sound database."""


def folder(data_dir: str | Path) -> Path:
    return Path(data_dir) / FOLDER


def _conn(source) -> sqlite3.Connection:
    return source.conn if isinstance(source, sqlite_utils.Database) else source


def create(
    source: sqlite_utils.Database | sqlite3.Connection,
    dest_dir: str | Path,
    *,
    reason: str = "manual",
    now: datetime | None = None,
    keep: int = DEFAULT_KEEP,
) -> Path:
    """Back up an open database into dest_dir; returns the new file."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    final = dest_dir / f"lobbydesk-{moment.strftime(_STAMP)}Z-{reason}.db"
    partial = final.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(str(partial))
    try:
        # pages=-1: one step, one consistent snapshot of the source even while
        # other connections keep writing (WAL readers see a fixed snapshot).
        _conn(source).backup(target, pages=-1)
        target.execute("PRAGMA journal_mode = DELETE")
        _check(target, partial)
    finally:
        target.close()
    _fsync(partial)
    os.replace(partial, final)
    _fsync_dir(dest_dir)
    rotate(dest_dir, keep=keep, reason=reason)
    return final


def create_from_file(
    db_path: str | Path, dest_dir: str | Path, *, reason: str = "manual", **kwargs
) -> Path:
    """Back up the database at db_path (which a running console may be writing)."""
    if not Path(db_path).exists():
        raise BackupFailed(f"no database at {db_path}")
    db = connect(db_path)
    try:
        return create(db, dest_dir, reason=reason, **kwargs)
    finally:
        db.close()


def _check(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupFailed(f"{path.name}: {error}") from error
    if result != "ok":
        raise BackupFailed(f"{path.name}: integrity_check says {result}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "posix":
        _fsync(path)


def list_backups(dest_dir: str | Path) -> list[dict]:
    """Backups in dest_dir, newest first: path, taken_at (UTC), reason, size."""
    dest_dir = Path(dest_dir)
    found = []
    if not dest_dir.is_dir():
        return found
    for path in dest_dir.iterdir():
        match = _NAME.match(path.name)
        if match:
            taken = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found.append(
                {
                    "path": path,
                    "name": path.name,
                    "taken_at": taken,
                    "reason": match.group(2),
                    "size": path.stat().st_size,
                }
            )
    return sorted(found, key=lambda b: b["taken_at"], reverse=True)


def rotate(dest_dir: str | Path, *, keep: int = DEFAULT_KEEP, reason: str | None = None) -> int:
    """Delete all but the newest `keep` backups of a kind; returns how many went."""
    keep = max(1, keep)
    backups = [b for b in list_backups(dest_dir) if reason is None or b["reason"] == reason]
    for old in backups[keep:]:
        old["path"].unlink(missing_ok=True)
    return max(0, len(backups) - keep)


def due(dest_dir: str | Path, now: datetime, interval_hours: float) -> bool:
    """Is a scheduled backup due (none yet, or the newest one is older than the interval)?"""
    if interval_hours <= 0:
        return False
    scheduled = [b for b in list_backups(dest_dir) if b["reason"] in ("scheduled", "manual")]
    return not scheduled or now - scheduled[0]["taken_at"] >= timedelta(hours=interval_hours)


def restore(backup_path: str | Path, data_dir: str | Path, *, force: bool = False) -> dict:
    """Restore a backup as DATA_DIR/lobbydesk.db; returns the row count of every table.

    Refuses to overwrite an existing database unless `force`; then the current
    database is first backed up itself ("pre-restore"). Stop the console first.

    The restored database gets a new feed epoch whose base is its newest event
    (shared/feed.py): its event ids start again below what kiosks have seen, and
    the new epoch tells each kiosk to read from there. A backup older than the
    epoch table gets its first epoch from migration 0016 when the console opens it.
    """
    backup_path, data_dir = Path(backup_path), Path(data_dir)
    if not backup_path.is_file():
        raise BackupFailed(f"no backup at {backup_path}")
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        _check(source, backup_path)
        target_path = data_dir / DATABASE_NAME
        if target_path.exists():
            if not force:
                raise BackupFailed(
                    f"{target_path} exists; stop the console and pass --force to replace it"
                )
            create_from_file(target_path, folder(data_dir), reason="pre-restore")
        data_dir.mkdir(parents=True, exist_ok=True)
        target = connect(target_path)  # WAL, synchronous=FULL, as every connection
        try:
            source.backup(target.conn, pages=-1)
            _new_feed_epoch(target)
            _check(target.conn, target_path)
            counts = table_counts(target)
        finally:
            target.close()
    finally:
        source.close()
    return counts


def _new_feed_epoch(db: sqlite_utils.Database) -> None:
    if "feed_epoch" not in db.table_names():
        return
    with write_transaction(db):
        feed.start_epoch(db, to_iso(datetime.now(UTC)))


def table_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {name: db[name].count for name in sorted(db.table_names())}
