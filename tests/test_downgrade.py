"""A downgrade is refused: a database a newer Lobby Desk has migrated is not opened
by this version (its code does not know that schema), the file is left untouched,
and every command says so in one line. The way back is the old backup."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lobbydesk.cli import main
from shared import backup
from shared.schema import DatabaseFromNewerVersion, open_building_db
from shared.version import __version__
from tests.helpers import PASSWORD, make_app

FUTURE = "0021_future_feature"


def _from_a_newer_version(data_dir: Path) -> Path:
    """A real console database, then the row sqlite-utils' migrations library writes
    when it applies a migration (table _sqlite_migrations, set "lobbydesk"), as a
    newer version would have left it."""
    make_app(data_dir)
    return _newer_version_ran(data_dir)


def _newer_version_ran(data_dir: Path) -> Path:
    db = open_building_db(data_dir / "lobbydesk.db")
    db.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
        ("lobbydesk", FUTURE, "2027-01-01 00:00:00+00:00"),
    )
    db.close()
    return data_dir / "lobbydesk.db"


def _fingerprint(data_dir: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file()
    }


def test_opening_a_newer_database_is_refused_and_touches_nothing(tmp_path):
    path = _from_a_newer_version(tmp_path)
    before = _fingerprint(tmp_path)
    with pytest.raises(DatabaseFromNewerVersion) as refused:
        open_building_db(path)
    message = str(refused.value)
    assert (
        f"This database was last used by a newer Lobby Desk (it has migration {FUTURE} that "
        f"{__version__} does not know). Install that version again or restore a backup made "
        f"by {__version__}." in message
    )
    assert f"含 {__version__} 不认识的迁移 {FUTURE}" in message
    assert _fingerprint(tmp_path) == before  # no backup, no migration, no pragma written


def test_the_console_command_refuses_in_one_line_without_a_traceback(tmp_path):
    _from_a_newer_version(tmp_path)
    env = {**os.environ, "LOBBYDESK_SECRET_KEY": "test-" + "x" * 40}
    finished = subprocess.run(
        [sys.executable, "-m", "lobbydesk", "console", "--data-dir", str(tmp_path), "--port", "0"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert finished.returncode != 0
    assert "Traceback" not in finished.stderr
    [line] = [text for text in finished.stderr.splitlines() if FUTURE in text]
    assert "newer Lobby Desk" in line and "数据库由更新版本" in line


ADMIN_COMMANDS = [
    ["create-staff", "--username", "li", "--display-name", "李", "--role", "reception",
     "--password-stdin"],
    ["init-building", "--name", "楼", "--name-en", "Tower"],
    ["end-sessions", "--username", "wangfang"],
    ["export-residents", "OUT.csv"],
    ["import-residents", "IN.csv"],
]  # fmt: skip


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=lambda command: command[0])
def test_admin_commands_refuse_in_one_line(tmp_path, command, capsys, monkeypatch):
    data_dir = tmp_path / "data"
    path = _from_a_newer_version(data_dir)
    before = _fingerprint(data_dir)
    (tmp_path / "IN.csv").write_text("单元,姓名\n101,王\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(PASSWORD + "\n"))
    assert main(["admin", *command, "--data-dir", str(data_dir)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and FUTURE in err and "Install that version again" in err
    assert _fingerprint(data_dir) == before and path.exists()
    assert not (tmp_path / "OUT.csv").exists()


def test_rolling_back_restores_the_old_backup_over_the_newer_database(tmp_path, capsys):
    """The documented way back (docs/UPGRADING.md): the old version's backup, restored
    with `lobbydesk admin restore --force`; the newer database is kept as pre-restore."""
    data_dir = tmp_path / "data"
    make_app(data_dir)
    old_backup = backup.create_from_file(data_dir / "lobbydesk.db", tmp_path / "kept")
    _newer_version_ran(data_dir)
    with pytest.raises(DatabaseFromNewerVersion):
        open_building_db(data_dir / "lobbydesk.db")

    assert main(["admin", "restore", str(old_backup), "--force", "--data-dir", str(data_dir)]) == 0
    open_building_db(data_dir / "lobbydesk.db").close()  # this version opens it again
    [kept] = [b for b in backup.list_backups(data_dir / "backups") if b["reason"] == "pre-restore"]
    with pytest.raises(backup.BackupFailed, match="newer Lobby Desk"):
        backup.check_restorable(kept["path"])  # the newer database, kept, refused here too
