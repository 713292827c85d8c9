"""`lobbydesk demo` on a machine with a display: the console starts, the kiosk
window opens (a real X server: Xvfb), pairs itself and talks to the console."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kiosk_row(path):
    """Read as an onlooker would: read-only, never migrating a database in use."""
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT paired_at, last_seen_at FROM kiosks LIMIT 1").fetchone()
        return dict(row) if row else None
    except sqlite3.OperationalError:
        return None  # still being created


def test_the_demo_opens_a_paired_kiosk_window_that_reaches_the_console(tmp_path):
    assert shutil.which("xvfb-run"), "scripts/bootstrap test installs xvfb"
    data_dir = tmp_path / "demo"
    env = {**os.environ, "KIVY_NO_CONSOLELOG": "1", "KIVY_HOME": str(tmp_path / "kivy")}
    env.pop("SDL_VIDEODRIVER", None)
    command = [
        "xvfb-run", "-a", "-s", "-screen 0 1080x1920x24",
        sys.executable, "-m", "lobbydesk", "demo", "--data-dir", str(data_dir), "--port", str(_free_port()),
    ]  # fmt: skip
    with subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as demo:
        try:
            deadline, kiosk = time.monotonic() + 40, None
            while time.monotonic() < deadline and demo.poll() is None:
                kiosk = _kiosk_row(data_dir / "lobbydesk.db")
                if (
                    kiosk
                    and kiosk["paired_at"]
                    and (kiosk["last_seen_at"] or "") > kiosk["paired_at"]
                ):
                    break
                time.sleep(0.2)
            assert demo.poll() is None, demo.stdout.read()
            assert kiosk and kiosk["paired_at"], "the demo kiosk did not pair"
            assert kiosk["last_seen_at"] > kiosk["paired_at"], (
                "the kiosk window never talked to the console"
            )
            assert (data_dir / "kiosk" / "kiosk.db").exists()
        finally:
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait(timeout=5)
