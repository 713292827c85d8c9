"""GET /healthz as a monitor (or a person with curl) sees it: no sign-in, JSON,
200 while the console can serve, 503 when it cannot."""

from __future__ import annotations

from pathlib import Path

from shared import backup, maintenance
from shared.version import __version__
from tests.helpers import add_staff, building_db, make_app
from tests.test_console_limits import FullDisk


def _health(app):
    response = app.test_client().get("/healthz")
    assert response.content_type == "application/json"
    return response.status_code, response.get_json()


def test_a_fresh_console_is_ok_without_signing_in_and_shows_no_personal_data(app):
    add_staff(app, username="wangfang", display_name="王芳")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # no session for a probe
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["disk"]["status"] == "ok" and body["checks"]["disk"]["free_bytes"] > 0
    assert body["checks"]["backup"] == {
        "status": "ok",
        "last": None,
        "age_hours": None,
        "interval_hours": 24.0,
    }
    text = response.get_data(as_text=True)
    assert "wangfang" not in text and "王芳" not in text and str(app.config["DATA_DIR"]) not in text


def test_a_disk_below_the_free_space_threshold_is_failing_with_503(tmp_path, clock):
    # The real statvfs of the test's disk, against a threshold no disk reaches.
    app = make_app(tmp_path, clock, HEALTH_MIN_FREE_BYTES=2**62)
    status, body = _health(app)
    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"]["disk"]["status"] == "failing"
    assert 0 < body["checks"]["disk"]["free_bytes"] < 2**62
    assert body["checks"]["database"]["status"] == "ok"


def test_a_write_refused_by_a_full_disk_is_failing_until_a_write_goes_through(
    app, monkeypatch, kiosk
):
    disk = FullDisk(app, monkeypatch)  # a real SQLITE_FULL, as in test_console_limits.py
    disk.fill()
    assert kiosk.call_reception().status_code == 503
    status, body = _health(app)
    assert status == 503 and body["status"] == "failing"
    assert body["checks"]["disk"]["write_refused"] is True
    disk.lift()
    assert kiosk.call_reception().status_code == 201
    status, body = _health(app)
    assert status == 200 and body["status"] == "ok"


def test_an_old_backup_makes_the_console_degraded_until_the_next_one(app, clock):
    db = building_db(app)
    folder = backup.folder(app.config["DATA_DIR"])
    taken = backup.create(db, folder, reason="scheduled", now=clock.now())
    clock.advance(hours=47)
    status, body = _health(app)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["backup"]["age_hours"] == 47.0

    clock.advance(hours=2)  # 49 hours: more than twice the 24-hour interval
    status, body = _health(app)
    assert status == 200 and body["status"] == "degraded"
    assert body["checks"]["backup"]["status"] == "degraded"
    assert body["checks"]["backup"]["last"] == "2026-11-27T09:00:00.000000+00:00"
    assert body["checks"]["backup"]["age_hours"] == 49.0
    assert taken.exists()

    assert "backup" in maintenance.run_due(db, clock, app.config["DATA_DIR"])  # the schedule
    db.close()
    status, body = _health(app)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["backup"]["age_hours"] == 0.0


def test_no_backup_two_intervals_after_the_start_is_degraded(app, clock):
    clock.advance(hours=47)
    assert _health(app)[1]["status"] == "ok"  # the first one is not overdue yet
    clock.advance(hours=2)
    status, body = _health(app)
    assert status == 200 and body["checks"]["backup"]["status"] == "degraded"


def test_scheduled_backups_switched_off_is_degraded(tmp_path, clock):
    app = make_app(tmp_path, clock, BACKUP_INTERVAL_HOURS=0)
    status, body = _health(app)
    assert status == 200 and body["status"] == "degraded"
    assert body["checks"]["backup"]["interval_hours"] == 0


def test_a_database_that_does_not_answer_is_failing_with_503(app):
    database = Path(app.config["DATA_DIR"]) / "lobbydesk.db"
    for leftover in (
        database.with_name("lobbydesk.db-wal"),
        database.with_name("lobbydesk.db-shm"),
    ):
        leftover.unlink(missing_ok=True)
    database.write_bytes(b"this is not an SQLite database" * 200)
    status, body = _health(app)
    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"]["database"] == {"status": "failing"}
