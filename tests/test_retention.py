"""Retention per building (SECURITY.md 25): a daily purge of rows and photo
files past their period, with secure_delete; periods set by managers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shared import maintenance, retention
from shared.clock import to_iso
from shared.db import connect
from shared.tokens import new_idempotency_key
from tests.helpers import StaffBrowser, add_resident, add_staff, building_db, eventually

UNIQUE_NAME = "欧阳娜娜"


def _register(kiosk, clock, name, phone, key=None, created_at=None):
    created_at = created_at or to_iso(clock.now())
    return kiosk.client.post(
        "/api/v1/visits",
        json={"name": name, "phone": phone, "unit": "101", "created_at": created_at},
        headers=kiosk.headers(key or new_idempotency_key()),
    )


def _with_resident(app):
    add_resident(app, "101", "王建国", email="w@example.com")


def test_visits_past_the_period_go_with_every_copy_and_younger_ones_stay(
    app, clock, kiosk, reception
):
    _with_resident(app)
    old_key, young_key, help_key = "k-old-visit-0001", "k-young-visit-001", "k-help-call-00001"
    assert _register(kiosk, clock, UNIQUE_NAME, "13812345678", old_key).status_code == 201
    assert kiosk.call_reception(key=help_key).status_code == 201
    reception.post("/visitors/1/decide", decision="confirm_id")  # a notification + feed event
    clock.advance(days=2)
    young_at = to_iso(clock.now())
    young = _register(kiosk, clock, "李雷", "13900001111", young_key, young_at)
    db = building_db(app)
    assert db["notifications"].count == 1 and db["kiosk_events"].count >= 1

    clock.advance(days=89)  # the first visit is 91 days old, the second 89
    counts = retention.purge(db, clock, data_dir=app.config["DATA_DIR"])
    assert counts["visits"] == 1 and counts["notifications"] == 1
    assert counts["kiosk_events"] == 1 and counts["idempotency_records"] == 1
    assert [v["name"] for v in db.query("SELECT name FROM visits")] == ["李雷"]
    keys = {r["key"] for r in db.query("SELECT key FROM idempotency_records")}
    assert keys == {young_key, help_key}  # kept as long as their records, no longer
    replay = _register(kiosk, clock, "李雷", "13900001111", young_key, young_at)
    assert replay.json == young.json  # the kiosk's retry still gets the original answer
    assert db["escalations"].count == 1  # not personal data; not purged
    audit = list(db.query("SELECT * FROM audit_log WHERE action = 'retention.purge'"))
    assert audit[0]["actor"] == "system" and json.loads(audit[0]["detail"])["visits"] == 1


@pytest.mark.parametrize(("age_days", "kept"), [(89, True), (91, False)])
def test_the_visit_period_edge_with_a_controlled_clock(app, clock, kiosk, age_days, kept):
    _register(kiosk, clock, UNIQUE_NAME, "13812345678")
    clock.advance(days=age_days)
    db = building_db(app)
    retention.purge(db, clock)
    assert (db["visits"].count == 1) is kept


def test_the_period_is_per_building_and_changed_by_a_manager(app, clock, kiosk):
    _register(kiosk, clock, UNIQUE_NAME, "13812345678")
    add_staff(app, username="mona", role="manager")
    manager = StaffBrowser(app.test_client())
    manager.login("mona")
    response = manager.post(
        "/admin/settings/retention", visit_retention_days="30", photo_retention_days="7"
    )
    assert response.status_code == 302
    assert (
        kiosk.client.get("/api/v1/settings", headers=kiosk.headers(False)).json[
            "visit_retention_days"
        ]
        == 30
    )  # the kiosk's privacy notice says so
    db = building_db(app)
    change = next(iter(db.query("SELECT * FROM audit_log WHERE action = 'settings.change'")))
    assert change["actor"] == "staff:1"
    assert json.loads(change["detail"])["visit_retention_days"] == {"from": 90, "to": 30}
    clock.advance(days=31)
    retention.purge(db, clock)
    assert db["visits"].count == 0


@pytest.mark.parametrize("value", ["0", "-5", "abc", "99999", ""])
def test_nonsense_periods_are_refused(app, value):
    add_staff(app, username="mona", role="manager")
    manager = StaffBrowser(app.test_client())
    manager.login("mona")
    manager.post("/admin/settings/retention", visit_retention_days=value, photo_retention_days="30")
    page = manager.client.get("/admin/settings").get_data(as_text=True)
    assert "Not saved" in page and 'value="90"' in page


def test_reception_cannot_change_retention(app, reception):
    response = reception.post(
        "/admin/settings/retention", visit_retention_days="1", photo_retention_days="1"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(("age_days", "kept"), [(29, True), (31, False)])
def test_photo_files_past_their_period_are_deleted(app, clock, age_days, kept):
    folder = retention.photos_folder(app.config["DATA_DIR"])
    (folder / "2026").mkdir(parents=True)
    photo = folder / "2026" / "visit-1.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    taken = (clock.now()).timestamp()
    os.utime(photo, (taken, taken))
    clock.advance(days=age_days)
    counts = retention.purge(building_db(app), clock, data_dir=app.config["DATA_DIR"])
    assert photo.exists() is kept
    assert counts["photos"] == (0 if kept else 1)


def test_removed_deny_list_entries_go_after_the_period_active_ones_stay(app, clock, reception):
    reception.post("/visitors/deny-list", name="赵六", phone="", reason="闹事")
    reception.post("/visitors/deny-list", name="钱七", phone="", reason="闹事")
    reception.post("/visitors/deny-list/1/remove", confirm="yes")
    clock.advance(days=91)
    db = building_db(app)
    retention.purge(db, clock)
    assert [r["name"] for r in db.query("SELECT name FROM deny_list")] == ["钱七"]


def test_deleted_rows_are_overwritten_on_disk(app, clock, kiosk):
    """PRAGMA secure_delete on every connection, and the WAL checkpointed after a purge."""
    db = building_db(app)
    assert db.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert (
        connect(Path(app.config["DATA_DIR"]) / "other.db")
        .conn.execute("PRAGMA secure_delete")
        .fetchone()[0]
        == 1
    )
    _register(kiosk, clock, UNIQUE_NAME, "13812345678")
    files = sorted(Path(app.config["DATA_DIR"]).glob("lobbydesk.db*"))
    assert UNIQUE_NAME.encode() in b"".join(p.read_bytes() for p in files)
    clock.advance(days=91)
    retention.purge(db, clock)
    raw = b"".join(p.read_bytes() for p in Path(app.config["DATA_DIR"]).glob("lobbydesk.db*"))
    assert UNIQUE_NAME.encode() not in raw
    assert b"+8613812345678" not in raw


def test_the_purge_runs_once_a_day(app, clock):
    db = building_db(app)
    data_dir = app.config["DATA_DIR"]
    assert "purge" in maintenance.run_due(db, clock, data_dir, 0, 14)
    assert "purge" not in maintenance.run_due(db, clock, data_dir, 0, 14)
    clock.advance(hours=23)
    assert "purge" not in maintenance.run_due(db, clock, data_dir, 0, 14)
    clock.advance(hours=1)
    assert "purge" in maintenance.run_due(db, clock, data_dir, 0, 14)


def test_the_background_thread_runs_housekeeping(app, monkeypatch):
    from console import background

    calls = []
    monkeypatch.setattr(background, "HOUSEKEEPING_EVERY_SECONDS", 0)
    monkeypatch.setattr(background.maintenance, "run_due", lambda *a: calls.append(a))
    app.config["NOTIFY_INTERVAL_SECONDS"] = 0.01
    jobs = background.BackgroundJobs(app).start()
    try:
        eventually(lambda: calls, message="housekeeping ran")
    finally:
        jobs.stop()
    assert calls[0][2] == app.config["DATA_DIR"] and calls[0][3] == 24


def test_no_building_yet_means_nothing_to_purge(tmp_path, clock):
    from shared.schema import open_building_db

    assert retention.purge(open_building_db(tmp_path / "lobbydesk.db"), clock) == {}


def test_requests_held_from_a_revoked_kiosk_go_after_the_period_decided_or_not(app, clock):
    """Quarantine rows hold visitors' names and phones (and repair photos)."""
    from shared import kiosks, quarantine
    from tests.helpers import KioskCaller, paired_kiosk

    kiosk_id, token = paired_kiosk(app)
    kiosk = KioskCaller(app.test_client(), token)
    db = building_db(app)
    kiosks.revoke(db, clock, kiosk_id, actor="test")
    assert _register(kiosk, clock, UNIQUE_NAME, "13812345678").status_code == 202  # left held
    assert _register(kiosk, clock, "韩梅梅", "13700002222").status_code == 202
    staff_id = add_staff(app, username="mona", role="manager")
    clock.advance(days=1)
    quarantine.accept(db, clock, 2, staff_id=staff_id)  # decided the next day
    clock.advance(days=1)
    assert _register(kiosk, clock, "李雷", "13900001111").status_code == 202

    clock.advance(days=89)  # the first two arrived 91 days ago, the third 89
    counts = retention.purge(db, clock, data_dir=app.config["DATA_DIR"])
    assert counts["quarantine"] == 2
    assert [json.loads(r["body"])["name"] for r in db.query("SELECT body FROM quarantine")] == [
        "李雷"
    ]
    audit = next(iter(db.query("SELECT * FROM audit_log WHERE action = 'retention.purge'")))
    assert json.loads(audit["detail"])["quarantine"] == 2
    raw = b"".join(p.read_bytes() for p in Path(app.config["DATA_DIR"]).glob("lobbydesk.db*"))
    assert UNIQUE_NAME.encode() not in raw and b"13812345678" not in raw


def test_invitations_go_a_period_after_their_last_day_or_revocation(app, clock):
    """An invited visitor's name and phone are kept as long as a visit's, counted from
    the invitation's last day (or its revocation), then overwritten like the rest."""
    from shared import invitations

    db = building_db(app)
    host = add_resident(app, unit="101", name="王建国", clock=clock)

    def invite(name, phone, **fields):
        data = {"name": name, "phone": phone, "kind": "once", "starts_on": "2026-11-27", **fields}
        return invitations.create(db, clock, host_resident_id=host, fields=data, actor="staff:1")

    ended = invite(UNIQUE_NAME, "13812345678")  # its one day: 2026-11-27
    revoked = invite("韩梅梅", "13700002222", kind="window", ends_on="2026-12-20")
    invitations.revoke(db, clock, revoked, actor="staff:1")
    clock.advance(days=2)
    later = invite("李雷", "13900001111", starts_on="2026-11-29")
    clock.advance(days=89)  # 91 days after the first day and the revocation, 89 after the last

    counts = retention.purge(db, clock, data_dir=app.config["DATA_DIR"])
    assert counts["invitations"] == 2
    assert [row["id"] for row in db.query("SELECT id FROM invitations")] == [later]
    assert not list(db.query("SELECT id FROM invitations WHERE id IN (?, ?)", (ended, revoked)))
    raw = b"".join(p.read_bytes() for p in Path(app.config["DATA_DIR"]).glob("lobbydesk.db*"))
    assert UNIQUE_NAME.encode() not in raw and b"13812345678" not in raw
    assert "李雷".encode() in raw  # still inside its period
