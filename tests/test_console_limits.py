"""What a revoked kiosk, a full disk, a loose umask or a wrong file can do to the
console (docs/SECURITY.md): bounded, said plainly, private, refused."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

import console.db
from console import create_app
from lobbydesk.cli import main
from shared import backup, kiosks, quarantine
from tests.helpers import KioskCaller, StaffBrowser, add_staff, building_db, make_app, paired_kiosk

CALL = {"kind": "help", "created_at": "2026-11-27T08:59:58+00:00", "screen": "home"}


def _revoked(app):
    kiosk_id, token = paired_kiosk(app, name="被盗 Stolen")
    db = building_db(app)
    kiosks.revoke(db, app.extensions["lobbydesk.clock"], kiosk_id, actor="test")
    db.close()
    return kiosk_id, KioskCaller(app.test_client(), token)


def _held(app) -> int:
    db = building_db(app)
    try:
        return db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    finally:
        db.close()


def _admin(app):
    add_staff(app, username="boss", role="admin", display_name="管理员")
    browser = StaffBrowser(app.test_client())
    assert browser.login("boss").status_code == 302
    return browser


# -- the quarantine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/api/v1/visitors/lookup", '{"phone": "13812345678"}', "application/json"),
        ("/api/v1/tickets/lookup", '{"number": "1", "unit": "101"}', "application/json"),
        ("/api/v1/ping", "{}", "application/json"),
        ("/api/v1/escalations", "not json at all", "text/plain"),
        ("/api/v1/escalations", "{not json", "application/json"),
    ],
)
def test_a_revoked_kiosk_holds_only_json_writes(app, path, body, content_type):
    _kiosk_id, stolen = _revoked(app)
    response = stolen.client.post(
        path, data=body, content_type=content_type, headers=stolen.headers()
    )
    assert response.status_code in (400, 401, 405)
    assert _held(app) == 0


def test_a_revoked_kiosk_body_is_capped_like_a_live_write(app):
    _kiosk_id, stolen = _revoked(app)
    big = '{"kind": "help", "pad": "' + "x" * 300_000 + '"}'
    response = stolen.client.post(
        "/api/v1/escalations", data=big, content_type="application/json", headers=stolen.headers()
    )
    assert response.status_code == 413
    assert _held(app) == 0


def test_a_revoked_kiosk_holds_at_most_its_share_then_429_and_one_alert(app, monkeypatch):
    monkeypatch.setattr(quarantine, "MAX_HELD_PER_KIOSK", 5)
    app.config["KIOSK_WRITE_BURST"] = 1000
    kiosk_id, stolen = _revoked(app)
    answers = [
        stolen.client.post("/api/v1/escalations", json=CALL, headers=stolen.headers()).status_code
        for _ in range(8)
    ]
    assert answers == [202] * 5 + [429] * 3
    refused = stolen.client.post("/api/v1/escalations", json=CALL, headers=stolen.headers())
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "quarantine_full"
    assert _held(app) == 5
    db = building_db(app)
    alerts = db.execute(
        "SELECT count(*) FROM kiosk_alerts WHERE kiosk_id = ? AND kind = 'quarantine_full'",
        (kiosk_id,),
    ).fetchone()[0]
    db.close()
    assert alerts == 1
    page = _admin(app).client.get("/admin/kiosks/").get_data(as_text=True)
    assert "隔离区已满" in page and "Quarantine full" in page


def test_a_revoked_kiosk_is_bounded_in_bytes_too(app, monkeypatch):
    monkeypatch.setattr(quarantine, "MAX_HELD_BYTES_PER_KIOSK", 3000)
    app.config["KIOSK_WRITE_BURST"] = 1000
    _kiosk_id, stolen = _revoked(app)
    call = {**CALL, "screen": "home"}
    body = {"name": "张三", "unit": "101", "created_at": CALL["created_at"], "note": "x" * 1000}
    answers = [
        stolen.client.post("/api/v1/visits", json=body, headers=stolen.headers()).status_code
        for _ in range(4)
    ]
    assert answers == [202, 202, 429, 429]
    assert (
        stolen.client.post("/api/v1/escalations", json=call, headers=stolen.headers()).status_code
        == 202
    )


def test_a_revoked_kiosk_is_rate_limited(app):
    app.config["KIOSK_WRITE_BURST"] = 3
    _kiosk_id, stolen = _revoked(app)
    answers = [
        stolen.client.post("/api/v1/escalations", json=CALL, headers=stolen.headers()).status_code
        for _ in range(5)
    ]
    assert answers[:3] == [202] * 3 and answers[3:] == [429, 429]


def test_the_quarantine_page_pages_and_never_shows_a_photo(app, monkeypatch):
    monkeypatch.setattr(quarantine, "PAGE_SIZE", 3)
    app.config["KIOSK_WRITE_BURST"] = 1000
    _kiosk_id, stolen = _revoked(app)
    photo = "QUJD" * 100_000  # 400 KB of base64: not in any page
    for number in range(7):
        report = {
            "unit": "101",
            "category": "plumbing",
            "description": f"漏水 {number}",
            "photo": photo,
        }
        response = stolen.client.post("/api/v1/tickets", json=report, headers=stolen.headers())
        assert response.status_code == 202
    admin = _admin(app)
    first = admin.client.get("/admin/kiosks/quarantine").get_data(as_text=True)
    assert first.count("data-quarantine-id") == 3 and "QUJDQUJD" not in first
    assert "附照片 · with a photo (292 KB)" in first and "共 7 条" in first
    after = first.split("after=")[1].split('"')[0]
    second = admin.client.get(f"/admin/kiosks/quarantine?after={after}").get_data(as_text=True)
    assert second.count("data-quarantine-id") == 3
    assert "漏水 3" in second and "漏水 0" not in second
    kiosks_page = admin.client.get("/admin/kiosks/").get_data(as_text=True)
    assert "隔离区 · Quarantine (7)" in kiosks_page


# -- private files -----------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0)
    yield
    os.umask(old)


def test_new_data_files_are_private_whatever_the_umask(tmp_path, clock, loose_umask, capsys):
    data = tmp_path / "data"
    from console.settings import create_secret_key

    create_secret_key(data)
    app = make_app(data, clock)
    add_staff(app)  # a write: the WAL and SHM exist
    db = building_db(app)  # keeps the WAL open while we look
    try:
        assert _mode(data) == 0o700
        for name in ("lobbydesk.db", "lobbydesk.db-wal", "lobbydesk.db-shm", "secret_key"):
            assert _mode(data / name) == 0o600, name
        assert main(["admin", "backup", "--data-dir", str(data)]) == 0
        [made] = backup.list_backups(backup.folder(data))
        assert _mode(backup.folder(data)) == 0o700 and _mode(made["path"]) == 0o600
    finally:
        db.close()


def test_existing_loose_files_are_made_private_at_start(tmp_path, clock, loose_umask):
    data = tmp_path / "data"
    make_app(data, clock)
    backup.create_from_file(data / "lobbydesk.db", backup.folder(data))
    for path in [data, backup.folder(data), *data.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    create_app({"TESTING": True, "DATA_DIR": str(data), "SECRET_KEY": "k" * 40, "CLOCK": clock})
    assert _mode(data) == 0o700 and _mode(backup.folder(data)) == 0o700
    for path in data.rglob("*"):
        if path.is_file():
            assert _mode(path) == 0o600, path


# -- a full disk -------------------------------------------------------------------------


class FullDisk:
    """The console's storage full, with a real SQLITE_FULL: each console connection
    may not grow the file (PRAGMA max_page_count), and, as on a real full disk where
    every write must append to the WAL, every write needs room (a temporary trigger
    adds a large filler row). `lift()` frees the disk."""

    def __init__(self, app, monkeypatch):
        self.full = False
        real = console.db.connect

        def connect(path, *args, **kwargs):
            db = real(path, *args, **kwargs)
            if self.full:
                self._limit(db.conn)
            return db

        monkeypatch.setattr(console.db, "connect", connect)
        db = building_db(app)
        db.execute("CREATE TABLE IF NOT EXISTS test_filler (b BLOB)")
        self.tables = [
            name for name in db.table_names() if not name.startswith(("_", "sqlite_", "test_"))
        ]
        db.close()

    def _limit(self, conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        for table in self.tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS full_{event}_{table} BEFORE {event}"
                    f" ON main.{table} BEGIN INSERT INTO test_filler VALUES"
                    " (zeroblob(8000000)); END"
                )

    def fill(self):
        self.full = True

    def lift(self):
        self.full = False


@pytest.fixture
def disk(app, monkeypatch):
    return FullDisk(app, monkeypatch)


FULL_ZH, FULL_EN = "存储空间已满", "storage is full"


def test_on_a_full_disk_pages_still_read_and_writes_say_storage_full(app, clock, disk, reception):
    disk.fill()
    clock.advance(seconds=600)  # the session's idle timer is due for a touch
    assert reception.client.get("/visitors/").status_code == 200
    answer = reception.post("/visitors/deny-list", name="张三", phone="", reason="test")
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert FULL_ZH in page and FULL_EN in page and "Something went wrong" not in page
    assert reception.client.get("/visitors/").status_code == 200


def test_on_a_full_disk_signing_in_says_storage_full(app, disk):
    add_staff(app)
    disk.fill()
    answer = StaffBrowser(app.test_client()).login()
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert FULL_ZH in page and FULL_EN in page


def test_a_kiosk_is_told_to_wait_and_reads_go_on(app, disk, kiosk, clock):
    disk.fill()
    clock.advance(seconds=3600)  # a heartbeat is due: it waits, the read answers
    assert kiosk.client.get("/api/v1/ping", headers=kiosk.headers(False)).status_code == 200
    answer = kiosk.call_reception()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "60"
    assert answer.get_json()["error"]["code"] == "storage_full"
    disk.lift()
    assert kiosk.call_reception().status_code == 201


def test_admins_see_a_banner_while_it_lasts_and_the_wal_is_truncated(app, disk, kiosk):
    admin = _admin(app)
    disk.fill()
    assert kiosk.call_reception().status_code == 503
    wal = Path(app.config["DATA_DIR"]) / "lobbydesk.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert "storage-banner" in admin.client.get("/").get_data(as_text=True)
    disk.lift()
    assert kiosk.call_reception().status_code == 201
    assert "storage-banner" not in admin.client.get("/").get_data(as_text=True)


def _full_target(monkeypatch):
    real = backup._open_target

    def open_target(path):
        conn = real(path)
        conn.execute("PRAGMA max_page_count = 2")  # a disk with room for two pages
        return conn

    monkeypatch.setattr(backup, "_open_target", open_target)


def test_a_backup_on_a_full_disk_fails_plainly_and_leaves_no_partial(app, monkeypatch, capsys):
    data = app.config["DATA_DIR"]
    _full_target(monkeypatch)
    assert main(["admin", "backup", "--data-dir", data]) != 0
    err = capsys.readouterr().err
    assert "disk is full" in err and "存储空间已满" in err and "Traceback" not in err
    assert not list(backup.folder(data).glob("*.partial*"))
    assert backup.list_backups(backup.folder(data)) == []


def test_stale_partials_are_swept(app):
    folder = backup.folder(app.config["DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / "lobbydesk-20260101T000000000000Z-scheduled.partial"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    fresh = folder / "lobbydesk-20260101T000000000001Z-manual.partial"
    fresh.write_bytes(b"being written")
    backup.create_from_file(Path(app.config["DATA_DIR"]) / "lobbydesk.db", folder)
    assert not stale.exists() and fresh.exists()


# -- restore -----------------------------------------------------------------------------


def _good_backup(app) -> Path:
    return backup.create_from_file(
        Path(app.config["DATA_DIR"]) / "lobbydesk.db", backup.folder(app.config["DATA_DIR"])
    )


def _kiosk_store(tmp_path) -> Path:
    from kiosk.store import KioskStore

    store = KioskStore.open(tmp_path / "kiosk" / "kiosk.db")
    store.db.conn.close()
    return tmp_path / "kiosk" / "kiosk.db"


def _truncated(app, tmp_path) -> Path:
    data = _good_backup(app).read_bytes()
    path = tmp_path / "truncated.db"
    path.write_bytes(data[:-100])
    return path


def _other_application(app, tmp_path) -> Path:
    path = tmp_path / "other.db"
    path.write_bytes(_good_backup(app).read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA application_id = 1234")
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda app, tmp: (tmp / "empty.db").write_bytes(b"") and tmp / "empty.db" or tmp / "empty.db", "0 bytes"),
        (lambda app, tmp: _kiosk_store(tmp), "not a Lobby Desk console database"),
        (_truncated, "incomplete"),
        (_other_application, "not a Lobby Desk console database"),
    ],
    ids=["empty", "kiosk-store", "truncated", "other-application"],
)  # fmt: skip
def test_restore_refuses_what_is_not_a_console_backup_and_touches_nothing(
    app, tmp_path, capsys, make, says
):
    candidate = make(app, tmp_path)
    fresh = tmp_path / "restored"
    code = main(["admin", "restore", str(candidate), "--data-dir", str(fresh)])
    assert code != 0
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not fresh.exists()
    data = Path(app.config["DATA_DIR"])
    before = (data / "lobbydesk.db").stat().st_mtime_ns
    assert main(["admin", "restore", str(candidate), "--data-dir", str(data), "--force"]) != 0
    assert (data / "lobbydesk.db").stat().st_mtime_ns == before
    assert not [b for b in backup.list_backups(backup.folder(data)) if b["reason"] == "pre-restore"]


def test_a_console_database_carries_the_lobby_desk_application_id(app):
    from shared.schema import APPLICATION_ID

    db = building_db(app)
    try:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        db.close()
