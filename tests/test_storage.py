"""The building database: durable settings, migrations, append-only audit."""

import sqlite3

import pytest

from shared import audit
from shared import db as dbmod
from shared.clock import FrozenClock, local_time, parse_utc, to_iso
from shared.errors import DatabaseSettingsWrong
from shared.schema import migrations, open_building_db
from tests.helpers import eventually


def test_every_connection_is_durable(tmp_path):
    db = open_building_db(tmp_path / "b.db")
    conn = db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_wrong_settings_are_refused_at_start(tmp_path):
    db = dbmod.connect(tmp_path / "b.db")
    db.conn.execute("PRAGMA synchronous = NORMAL")
    with pytest.raises(DatabaseSettingsWrong, match="synchronous"):
        dbmod.check_settings(db)


def test_migrations_apply_once_and_create_the_mission_schema(tmp_path):
    path = tmp_path / "b.db"
    open_building_db(path).close()
    db = open_building_db(path)  # a second start applies nothing new
    applied = [m.name for m in migrations.applied(db)]
    assert applied[0] == "0001_initial" and len(applied) == len(set(applied))
    for table in (
        "buildings",
        "units",
        "residents",
        "staff",
        "kiosks",
        "visits",
        "parcels",
        "tickets",
        "escalations",
        "announcements",
        "audit_log",
        "idempotency_records",
    ):
        assert db[table].exists(), table
    assert not migrations.pending(db)


def test_foreign_keys_are_enforced(tmp_path):
    db = open_building_db(tmp_path / "b.db")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO units (building_id, number) VALUES (999, '101')")


def test_audit_log_refuses_update_and_delete(tmp_path):
    db = open_building_db(tmp_path / "b.db")
    audit.record(db, FrozenClock(), actor="cli", action="test", detail={"x": 1})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_log")
    assert db["audit_log"].count == 1


def test_a_failed_write_transaction_leaves_nothing(tmp_path):
    db = open_building_db(tmp_path / "b.db")
    with pytest.raises(RuntimeError), dbmod.write_transaction(db):
        db.execute("INSERT INTO buildings (name) VALUES ('half')")
        raise RuntimeError("crash between two writes")
    assert db["buildings"].count == 0


def test_times_are_stored_utc_and_shown_in_the_building_zone():
    stored = to_iso(parse_utc("2026-11-27T17:30:00+08:00"))
    assert stored == "2026-11-27T09:30:00.000000+00:00"
    assert local_time(stored, "Asia/Shanghai") == "2026-11-27 17:30"
    assert local_time(stored, "Europe/London") == "2026-11-27 09:30"
    with pytest.raises(ValueError):
        parse_utc("2026-11-27T09:30:00")  # no zone: refused, never guessed


def test_processes_starting_together_migrate_once_without_failing(tmp_path):
    import subprocess
    import sys

    path, go = tmp_path / "b.db", tmp_path / "go"
    code = (
        "import os, sys, time\nfrom pathlib import Path\nfrom shared.schema import open_building_db\n"
        "Path(sys.argv[1]).touch()\n"  # imported: ready at the line
        "deadline = time.monotonic() + 120\n"
        f"while not os.path.exists({str(go)!r}) and time.monotonic() < deadline: time.sleep(0.001)\n"
        f"open_building_db({str(path)!r})"
    )
    ready = [tmp_path / f"ready-{n}" for n in range(6)]
    starters = [
        subprocess.Popen([sys.executable, "-c", code, str(mark)], stderr=subprocess.PIPE)
        for mark in ready
    ]
    eventually(
        lambda: all(mark.exists() for mark in ready) or any(p.poll() is not None for p in starters),
        timeout=60,
        message="every process imported and waiting at the line",
    )
    go.touch()
    errors = [p.communicate(timeout=60)[1] for p in starters]
    assert [p.returncode for p in starters] == [0] * 6, errors
    db = open_building_db(path)
    assert len(migrations.applied(db)) == len({m.name for m in migrations.applied(db)})
    assert not migrations.pending(db)
