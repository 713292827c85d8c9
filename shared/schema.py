"""Opening the building database: refusing one a newer version migrated, backing
up before migrating, then applying the named migrations (shared/migrations/).

Callers import the runner and the migration set from here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from shared import db as dbmod
from shared.migrations import migrations

__all__ = [
    "APPLICATION_ID",
    "DatabaseFromNewerVersion",
    "applied_in_file",
    "known_migrations",
    "migrations",
    "open_building_db",
    "refuse_newer",
]

# PRAGMA application_id of a console database ("LbDk"): a restore refuses a file
# without it (or the console's schema), such as a kiosk's kiosk.db.
APPLICATION_ID = 0x4C62446B


class DatabaseFromNewerVersion(RuntimeError):
    """The database has migrations this version does not know: a downgrade. Opening
    it would run old code on a schema it was not written for, so it is refused."""

    def __init__(self, unknown: list[str]):
        from shared.version import __version__

        names = ", ".join(unknown)
        super().__init__(
            f"数据库由更新版本的 Lobby Desk 使用过（含 {__version__} 不认识的迁移 {names}）："
            f"请重新安装那个版本，或恢复 {__version__} 制作的备份 · This database was last "
            f"used by a newer Lobby Desk (it has migration {names} that {__version__} does not "
            f"know). Install that version again or restore a backup made by {__version__}."
        )
        self.unknown = unknown


def applied_in_file(path: str | Path) -> list[str]:
    """The migrations recorded in the database file at `path`, read without writing
    anything to it (empty for a new or foreign file)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return []
    # No -wal file: everything is in the main file, read as immutable so not even an
    # empty -wal/-shm is left beside it. Otherwise the WAL may hold the newest commits.
    wal = Path(f"{path}-wal")
    mode = "ro" if wal.exists() and wal.stat().st_size else "ro&immutable=1"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "_sqlite_migrations" not in tables:  # where sqlite-utils records what it applied
            return []
        query = "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid"
        return [row[0] for row in conn.execute(query, (migrations.name,))]
    finally:
        conn.close()


def refuse_newer(applied: list[str] | set[str]) -> None:
    """DatabaseFromNewerVersion when `applied` holds a migration this version lacks."""
    known = known_migrations()
    unknown = sorted(name for name in applied if name not in known)
    if unknown:
        raise DatabaseFromNewerVersion(unknown)


def open_building_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the console's database and migrate it.

    A database a newer version has migrated is refused before anything touches it
    (a downgrade: DatabaseFromNewerVersion). An existing database is backed up with
    the SQLite backup API before any pending migration touches it (SECURITY.md 30).
    """
    from shared import backup

    refuse_newer(applied_in_file(path))
    db = dbmod.connect(path)
    if migrations.applied(db) and migrations.pending(db):
        backup.create(db, backup.folder(Path(path).parent), reason="pre-migration")
    # BEGIN IMMEDIATE around the lot: a second process starting at the same
    # moment (a CLI command beside the console) waits its turn instead of
    # failing on a read-to-write lock upgrade; each migration is a savepoint.
    with dbmod.write_transaction(db):
        migrations.apply(db)
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    return db


def known_migrations() -> set[str]:
    """The names of every migration this version knows (a restore checks a backup's)."""
    return {migration.name for migration in migrations.pending(sqlite_utils.Database(memory=True))}
