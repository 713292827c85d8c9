"""The kiosk as an appliance: `lobbydesk kiosk --watchdog` keeps the real kiosk app
running (rendering offscreen, as tests/ui does) against a real console, and the
console's "exit for maintenance" button stops it for good.

The machine is small and shared: every wait is for a condition, with a generous
deadline; nothing here measures speed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.server import ConsoleServer
from kiosk.main import pair_kiosk
from shared import kiosks
from shared.clock import SystemClock
from tests.helpers import StaffBrowser, add_staff, building_db, make_app

START_DEADLINE = 120  # a cold Kivy start on a loaded 2-core machine
STALE_AFTER = 6


@pytest.fixture
def console(tmp_path):
    app = make_app(tmp_path / "console")
    server = ConsoleServer(app).start_in_background()
    yield app, server.url
    server.stop()


@pytest.fixture
def paired(console, tmp_path):
    """A kiosk paired with the console the way an installer does it; (app, url, dir)."""
    app, url = console
    db = building_db(app)
    created = kiosks.create(db, SystemClock(), building_id=1, name="大堂 A", actor="test")
    db.close()
    data_dir = tmp_path / "kiosk"
    pair_kiosk(url, created["pairing_code"], data_dir)
    return app, url, data_dir


class Supervised:
    """A `lobbydesk kiosk --watchdog` process, its output in a file."""

    def __init__(self, url: str, data_dir: Path):
        self.data_dir = data_dir
        self.log_path = data_dir.parent / "watchdog.log"
        env = {
            **os.environ,
            "SDL_VIDEODRIVER": "offscreen",
            "KIVY_NO_CONSOLELOG": "1",
            "KIVY_NO_FILELOG": "1",
        }
        for name in ("DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(name, None)
        command = [
            sys.executable, "-m", "lobbydesk", "kiosk", "--watchdog", "--console", url,
            "--data-dir", str(data_dir), "--heartbeat-interval", "0.5",
            "--stale-after", str(STALE_AFTER), "--first-start-grace", str(START_DEADLINE),
        ]  # fmt: skip
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        self.children: set[int] = set()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def beat(self) -> tuple[int, int] | None:
        try:
            pid, count = (self.data_dir / "heartbeat").read_text().split()
        except (OSError, ValueError):
            return None
        self.children.add(int(pid))
        return int(pid), int(count)

    def kiosk_drawing(self, other_than: int | None = None, timeout=START_DEADLINE) -> int:
        """Wait for a kiosk child (not `other_than`) whose heartbeat goes on; its pid."""
        deadline, first = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the watchdog ended:\n{self.log}"
            beat = self.beat()
            if beat and beat[0] != other_than:
                if first and first[0] == beat[0] and beat[1] > first[1]:
                    return beat[0]
                first = first if first and first[0] == beat[0] else beat
            time.sleep(0.2)
        raise AssertionError(f"no kiosk heartbeat within {timeout} s:\n{self.log}")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and text not in self.log:
            time.sleep(0.2)
        assert text in self.log, self.log

    def exit_code(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.children:  # never leave a kiosk behind, whatever failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.log_file.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0]
    except (OSError, IndexError):
        return "zombie"  # gone between the two looks


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    return not _alive(pid)


@pytest.fixture
def supervised(paired):
    _app, url, data_dir = paired
    watchdog = Supervised(url, data_dir)
    yield watchdog
    watchdog.close()


def test_a_killed_kiosk_is_started_again(supervised):
    first = supervised.kiosk_drawing()
    os.kill(first, signal.SIGKILL)
    second = supervised.kiosk_drawing(other_than=first)
    assert second != first
    assert "was killed by SIGKILL; restart 1 in 1 s" in supervised.log


def test_a_hung_kiosk_is_killed_and_started_again(supervised):
    first = supervised.kiosk_drawing()
    os.kill(first, signal.SIGSTOP)  # the UI thread stops: no more frames, no more beats
    second = supervised.kiosk_drawing(other_than=first)
    assert second != first
    assert _gone(first), "the hung kiosk was left running"
    assert f"stopped drawing (no heartbeat for {STALE_AFTER} s)" in supervised.log


def test_stopping_the_watchdog_stops_the_kiosk(supervised):
    kiosk_pid = supervised.kiosk_drawing()
    supervised.process.send_signal(signal.SIGTERM)  # `systemctl stop`
    assert supervised.exit_code() == 0
    assert _gone(kiosk_pid)
    assert "SIGTERM: the watchdog is stopping" in supervised.log


def test_the_console_button_exits_the_kiosk_and_it_stays_stopped(paired, supervised):
    app, _url, _data_dir = paired
    kiosk_pid = supervised.kiosk_drawing()
    add_staff(app, username="admin", role="admin", display_name="管理员")
    staff = StaffBrowser(app.test_client())
    staff.login("admin")
    page = staff.client.get("/admin/kiosks/").get_data(as_text=True)
    assert "退出应用（维护）… · Exit app for maintenance…" in page
    exit_url = re.search(r'href="(/admin/kiosks/\d+/exit)"', page).group(1)
    confirm = staff.client.get(exit_url).get_data(as_text=True)
    assert "Exit the kiosk app for maintenance?" in confirm
    answer = staff.post(exit_url, confirm="yes")
    assert answer.status_code == 302

    assert supervised.exit_code(timeout=60) == 0  # systemd leaves it stopped
    assert _gone(kiosk_pid)
    assert "exited with code 75: staff stopped it for maintenance" in supervised.log
    assert "restart" not in supervised.log
    db = building_db(app)
    audit = list(
        db.query("SELECT actor, action, target FROM audit_log WHERE action LIKE 'kiosk.exit%'")
    )
    db.close()
    assert audit == [{"actor": "staff:1", "action": "kiosk.exit_requested", "target": "kiosk:1"}]


def test_a_kiosk_that_keeps_failing_is_restarted_ever_more_slowly(console, tmp_path):
    """Not paired: the kiosk exits at once, again and again (no Kivy needed)."""
    _app, url = console
    watchdog = Supervised(url, tmp_path / "unpaired")
    try:
        watchdog.wait_for_log("restart 3 in 4 s")
        assert "exited with code 2; restart 1 in 1 s" in watchdog.log
        assert "restart 2 in 2 s" in watchdog.log
        assert "not paired" in watchdog.log  # the kiosk's own reason, in the same journal
        watchdog.process.send_signal(signal.SIGTERM)  # while it waits to restart
        assert watchdog.exit_code(timeout=30) == 0
    finally:
        watchdog.close()


# -- the console side, without a kiosk window --------------------------------------


def test_only_managers_and_admins_may_exit_a_kiosk_and_must_tick_first(paired):
    app, _url, _data_dir = paired
    for username, role in (("desk", "reception"), ("boss", "manager")):
        add_staff(app, username=username, role=role, display_name=username)
    reception = StaffBrowser(app.test_client())
    reception.login("desk")
    assert reception.client.get("/admin/kiosks/1/exit").status_code == 403
    assert reception.post("/admin/kiosks/1/exit", confirm="yes").status_code == 403

    manager = StaffBrowser(app.test_client())
    manager.login("boss")
    unticked = manager.post("/admin/kiosks/1/exit")
    assert unticked.status_code == 422
    assert "请先勾选确认框" in unticked.get_data(as_text=True)
    assert manager.client.get("/admin/kiosks/99/exit").status_code == 404
    db = building_db(app)
    assert (
        db.execute("SELECT COUNT(*) FROM kiosk_events WHERE kind = 'kiosk.exit'").fetchone()[0] == 0
    )
    db.close()

    assert manager.post("/admin/kiosks/1/exit", confirm="yes").status_code == 302
    db = building_db(app)
    events = list(db.query("SELECT kiosk_id, kind FROM kiosk_events WHERE kind = 'kiosk.exit'"))
    db.close()
    assert events == [{"kiosk_id": 1, "kind": "kiosk.exit"}]
