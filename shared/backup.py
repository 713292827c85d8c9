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
from shared.db import PRIVATE_FILE, connect, is_storage_full, private_dir, write_transaction

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
    """Back up an open database into dest_dir; returns the new file (0600).

    Any failure (a full disk above all) raises BackupFailed with the reason in
    words and leaves no .partial file behind; stale ones are swept first."""
    dest_dir = Path(dest_dir)
    private_dir(dest_dir)
    sweep_partials(dest_dir)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    final = dest_dir / f"lobbydesk-{moment.strftime(_STAMP)}Z-{reason}.db"
    partial = final.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    try:
        _write(source, partial)
        _fsync(partial)
        os.replace(partial, final)
        _fsync_dir(dest_dir)
    except (sqlite3.Error, OSError) as error:
        _remove_partial(partial)
        if is_storage_full(error):
            raise BackupFailed(
                f"存储空间已满，备份未完成 · The disk is full: the backup was not made ({dest_dir})."
            ) from error
        raise BackupFailed(f"备份未完成 · The backup was not made: {error}") from error
    except BaseException:
        _remove_partial(partial)
        raise
    rotate(dest_dir, keep=keep, reason=reason)
    return final


def _open_target(path: Path) -> sqlite3.Connection:
    """The backup's file, created 0600 whatever the umask."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    return sqlite3.connect(str(path))


def _write(source, partial: Path) -> None:
    target = _open_target(partial)
    try:
        # pages=-1: one step, one consistent snapshot of the source even while
        # other connections keep writing (WAL readers see a fixed snapshot).
        _conn(source).backup(target, pages=-1)
        target.execute("PRAGMA journal_mode = DELETE")
        _check(target, partial)
    finally:
        target.close()


def _remove_partial(partial: Path) -> None:
    for leftover in (partial, partial.with_name(partial.name + "-journal")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError:
            pass


PARTIAL_STALE_AFTER = timedelta(minutes=15)


def sweep_partials(dest_dir: str | Path, *, older_than: timedelta = PARTIAL_STALE_AFTER) -> int:
    """Remove .partial files a crashed or failed backup left; a backup still being
    written (younger than `older_than`) is left alone. Returns how many went."""
    dest_dir = Path(dest_dir)
    if not dest_dir.is_dir():
        return 0
    cutoff = datetime.now(UTC).timestamp() - older_than.total_seconds()
    removed = 0
    for leftover in dest_dir.glob("lobbydesk-*.partial*"):
        try:
            if leftover.stat().st_mtime <= cutoff:
                leftover.unlink()
                removed += 1
        except OSError:
            pass
    return removed


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
    check_restorable(backup_path)  # before anything in data_dir is touched
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


_HEADER = b"SQLite format 3\x00"


def check_restorable(backup_path: str | Path) -> None:
    """BackupFailed unless the file is a complete Lobby Desk console database of a
    schema this version knows: not empty, an SQLite file of the size its header
    says (not truncated), intact, with the console's application_id (or none, from
    a version before it was set) and only migrations this version knows."""
    from shared.schema import APPLICATION_ID, known_migrations

    path = Path(backup_path)
    _check_complete_sqlite_file(path)
    application_id, applied = _identity(path)
    known = known_migrations()
    if application_id not in (APPLICATION_ID, 0) or not applied or not {"0001_initial"} <= applied:
        raise BackupFailed(
            f"这不是前台控制台的数据库（例如终端的 kiosk.db）· {path.name} is not a Lobby Desk "
            "console database (a kiosk's kiosk.db, for one, is not)."
        )
    if applied - known:
        raise BackupFailed(
            f"备份来自更新的版本 · {path.name} was made by a newer Lobby Desk "
            f"(unknown migrations: {', '.join(sorted(applied - known))}): upgrade first."
        )


def _check_complete_sqlite_file(path: Path) -> None:
    """BackupFailed unless `path` is an SQLite file as long as its header says."""
    if not path.is_file():
        raise BackupFailed(f"找不到备份文件 · No backup at {path}")
    size = path.stat().st_size
    if size < 100:
        raise BackupFailed(
            f"这不是备份：文件为空或过短 · {path.name} is not a backup: {size} bytes."
        )
    with path.open("rb") as file:
        header = file.read(100)
    if not header.startswith(_HEADER):
        raise BackupFailed(f"这不是 SQLite 数据库 · {path.name} is not an SQLite database.")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise BackupFailed(
            f"这不是完整的 SQLite 数据库（页大小无效）· {path.name} is not a sound SQLite "
            f"database (page size {page_size})."
        )
    pages = int.from_bytes(header[28:32], "big")
    header_size_valid = header[24:28] == header[92:96] and pages > 0
    if size % page_size or (header_size_valid and pages * page_size != size):
        raise BackupFailed(
            f"备份不完整（文件被截断）· {path.name} is incomplete: {size:,} bytes where "
            f"{pages * page_size:,} were written."
        )


def _identity(path: Path) -> tuple[int, set[str]]:
    """The file's application_id and the Lobby Desk migrations it records, after an
    integrity check (BackupFailed when it cannot be read)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _check(conn, path)
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        applied = set()
        if "_sqlite_migrations" in tables:
            applied = {
                row[0]
                for row in conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = 'lobbydesk'"
                )
            }
    except sqlite3.DatabaseError as error:
        raise BackupFailed(f"备份无法读取 · {path.name} cannot be read: {error}") from error
    finally:
        conn.close()
    return application_id, applied


def table_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {name: db[name].count for name in sorted(db.table_names())}
