"""Backups and restore (SECURITY.md 30): the SQLite backup API, on demand, on a
schedule and before migrations, rotated, and restored for real."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest

from lobbydesk.cli import main
from shared import backup, maintenance, schema, visitors
from shared.db import connect
from shared.schema import open_building_db
from tests.helpers import StaffBrowser, add_staff, building_db


def _integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _counts(path) -> dict:
    db = connect(path)
    try:
        return backup.table_counts(db)
    finally:
        db.close()


def _add_visitors_to_deny_list(db, clock, n, prefix="访客"):
    for i in range(n):
        visitors.add_to_deny_list(
            db, clock, name=f"{prefix}{chr(0x4E00 + i)}", phone="", reason="test", staff_id=None
        )


def test_cli_backup_then_restore_into_a_fresh_folder(app, clock, tmp_path, capsys):
    db = building_db(app)
    add_staff(app)
    _add_visitors_to_deny_list(db, clock, 25)
    data_dir = app.config["DATA_DIR"]
    assert main(["admin", "backup", "--data-dir", data_dir]) == 0
    made = backup.list_backups(backup.folder(data_dir))
    assert len(made) == 1 and made[0]["reason"] == "manual"
    assert "Backed up to" in capsys.readouterr().out
    assert _integrity(made[0]["path"]) == "ok"

    fresh = tmp_path / "restored"
    assert main(["admin", "restore", str(made[0]["path"]), "--data-dir", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert "deny_list: 25" in out and "staff: 1" in out
    restored = fresh / "lobbydesk.db"
    assert _integrity(restored) == "ok"
    original = _counts(f"{data_dir}/lobbydesk.db")
    after = _counts(restored)
    assert after["deny_list"] == original["deny_list"] == 25
    assert after["staff"] == original["staff"] == 1
    reopened = open_building_db(restored)  # the console can start on it
    assert reopened["buildings"].get(1)["name"] == "测试大厦"
    assert reopened.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_backup_is_one_self_contained_file(app, clock):
    path = backup.create_from_file(
        f"{app.config['DATA_DIR']}/lobbydesk.db", backup.folder(app.config["DATA_DIR"])
    )
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not path.with_name(path.name + "-wal").exists()
    assert not list(path.parent.glob("*.partial"))


def test_restore_refuses_to_overwrite_unless_forced_and_keeps_the_old_one(app, clock, capsys):
    data_dir = app.config["DATA_DIR"]
    assert main(["admin", "backup", "--data-dir", data_dir]) == 0
    made = backup.list_backups(backup.folder(data_dir))[0]["path"]
    _add_visitors_to_deny_list(building_db(app), clock, 3)
    assert main(["admin", "restore", str(made), "--data-dir", data_dir]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["admin", "restore", str(made), "--data-dir", data_dir, "--force"]) == 0
    assert _counts(f"{data_dir}/lobbydesk.db")["deny_list"] == 0
    kept = [b for b in backup.list_backups(backup.folder(data_dir)) if b["reason"] == "pre-restore"]
    assert len(kept) == 1 and _counts(kept[0]["path"])["deny_list"] == 3


def test_a_damaged_backup_is_not_restored(tmp_path, capsys):
    bad = tmp_path / "lobbydesk-20261127T090000000000Z-manual.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert main(["admin", "restore", str(bad), "--data-dir", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new" / "lobbydesk.db").exists()


def test_an_uncommitted_write_is_not_in_the_backup(app):
    """The backup API copies a committed snapshot; a file copy could catch this half-done."""
    path = f"{app.config['DATA_DIR']}/lobbydesk.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO deny_list (name, reason, created_at) VALUES ('半', 'x', 'now')")
    try:
        made = backup.create_from_file(path, backup.folder(app.config["DATA_DIR"]))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _integrity(made) == "ok" and _counts(made)["deny_list"] == 0


def test_backups_taken_under_concurrent_writes_restore_cleanly(app, clock, tmp_path):
    """Four threads keep inserting (a deny-list row and its audit row in one
    transaction) while backups are taken; each backup restores to a consistent state."""
    path = f"{app.config['DATA_DIR']}/lobbydesk.db"
    stop = threading.Event()
    errors = []

    def writer(n):
        db = connect(path)
        try:
            i = 0
            while not stop.is_set():
                name = f"{chr(0x4E00 + n)}{chr(0x4E00 + i // 1000)}{chr(0x4E00 + i % 1000)}"
                _add_visitors_to_deny_list(db, clock, 1, prefix=name)
                i += 1
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    made = []
    deadline = time.monotonic() + 30
    try:
        db = connect(path)
        while len(made) < 5 and not errors and time.monotonic() < deadline:
            if db["deny_list"].count >= 20 * (len(made) + 1):
                made.append(
                    backup.create(db, tmp_path / "b", reason="manual", now=clock.advance(seconds=1))
                )
        db.close()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    sizes = []
    for i, taken in enumerate(made):
        target = tmp_path / f"restore-{i}"
        counts = backup.restore(taken, target)
        assert _integrity(target / "lobbydesk.db") == "ok"
        audits = (
            open_building_db(target / "lobbydesk.db")
            .execute("SELECT COUNT(*) FROM audit_log WHERE action = 'deny_list.add'")
            .fetchone()[0]
        )
        assert counts["deny_list"] == audits  # never half a transaction
        sizes.append(counts["deny_list"])
    assert sizes == sorted(sizes) and sizes[-1] >= 100


def test_a_new_migration_backs_up_the_existing_database_first(app, monkeypatch):
    path = f"{app.config['DATA_DIR']}/lobbydesk.db"
    assert backup.list_backups(backup.folder(app.config["DATA_DIR"])) == []  # nothing pending
    extra = schema.migrations._Migration(
        "9999_test_extra", lambda db: db.execute("CREATE TABLE extra (x)")
    )
    monkeypatch.setattr(schema.migrations, "_migrations", [*schema.migrations._migrations, extra])
    db = open_building_db(path)
    assert db["extra"].exists()
    made = backup.list_backups(backup.folder(app.config["DATA_DIR"]))
    assert [b["reason"] for b in made] == ["pre-migration"]
    before = connect(made[0]["path"])
    assert not before["extra"].exists() and before["buildings"].count == 1
    assert "9999_test_extra" not in [m.name for m in schema.migrations.applied(before)]


def test_a_brand_new_database_is_not_backed_up(tmp_path):
    open_building_db(tmp_path / "lobbydesk.db").close()
    assert backup.list_backups(backup.folder(tmp_path)) == []


def test_rotation_keeps_the_newest_of_each_kind(app, clock):
    folder = backup.folder(app.config["DATA_DIR"])
    db = building_db(app)
    for _ in range(5):
        backup.create(db, folder, reason="scheduled", now=clock.advance(hours=1), keep=3)
    backup.create(db, folder, reason="pre-migration", now=clock.advance(hours=1), keep=3)
    kinds = [b["reason"] for b in backup.list_backups(folder)]
    assert kinds.count("scheduled") == 3 and kinds.count("pre-migration") == 1
    newest = backup.list_backups(folder)[1]
    assert newest["taken_at"] == clock.now() - timedelta(hours=1)


def test_the_schedule_backs_up_daily(app, clock):
    db = building_db(app)
    data_dir = app.config["DATA_DIR"]
    assert "backup" in maintenance.run_due(db, clock, data_dir, 24, 14)
    assert "backup" not in maintenance.run_due(db, clock, data_dir, 24, 14)
    clock.advance(hours=23, minutes=59)
    assert "backup" not in maintenance.run_due(db, clock, data_dir, 24, 14)
    clock.advance(minutes=1)
    assert "backup" in maintenance.run_due(db, clock, data_dir, 24, 14)
    assert len(backup.list_backups(backup.folder(data_dir))) == 2
    assert "backup" not in maintenance.run_due(db, clock.advance(days=5) and clock, data_dir, 0, 14)


@pytest.mark.parametrize("role, status", [("admin", 302), ("manager", 403)])
def test_an_admin_backs_up_from_the_console(app, role, status):
    add_staff(app, username="boss", role=role)
    browser = StaffBrowser(app.test_client())
    browser.login("boss")
    assert browser.post("/admin/backups").status_code == status
    made = backup.list_backups(backup.folder(app.config["DATA_DIR"]))
    assert len(made) == (1 if role == "admin" else 0)
    if made:
        assert made[0]["name"] in browser.client.get("/admin/backups").get_data(as_text=True)


def test_restore_refuses_a_file_whose_header_has_no_page_size(tmp_path):
    from shared.backup import BackupFailed, restore

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + bytes(4080))
    with pytest.raises(BackupFailed, match="page size"):
        restore(bad, tmp_path / "data")
    assert not (tmp_path / "data").exists()
