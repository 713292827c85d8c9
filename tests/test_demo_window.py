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

from kiosk.main import TITLE_BAR, fit_window


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


def test_a_portrait_kiosk_fits_a_landscape_laptop_screen_top_bar_included():
    fit = fit_window((1080, 1920), (0, 0, 1920, 1080))
    assert (fit.width, fit.height) == (585, 1040) and fit.scale == 0.542
    assert fit.top == TITLE_BAR and fit.top + fit.height <= 1080  # the top bar is on screen
    assert fit.left == (1920 - 585) // 2


def test_a_window_that_fits_is_never_scaled_up_and_follows_the_screen_origin():
    fit = fit_window((540, 960), (1920, 0, 1920, 1080))  # a second monitor on the right
    assert (fit.width, fit.height, fit.scale) == (540, 960, 1.0)
    assert fit.left == 1920 + (1920 - 540) // 2 and fit.top >= TITLE_BAR


def test_the_demo_opens_a_paired_kiosk_window_that_reaches_the_console(tmp_path):
    """On a 1920x1080 laptop-like screen: the portrait kiosk is scaled to fit, its top on
    the screen, and no clipboard traceback scares the newcomer."""
    assert shutil.which("xvfb-run"), "scripts/bootstrap test installs xvfb"
    data_dir = tmp_path / "demo"
    env = {**os.environ, "KIVY_NO_CONSOLELOG": "1", "KIVY_HOME": str(tmp_path / "kivy")}
    env.pop("SDL_VIDEODRIVER", None)
    command = [
        "xvfb-run", "-a", "-s", "-screen 0 1920x1080x24",
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
            deadline, kiosk = time.monotonic() + 90, None  # generous: the machine may be busy
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
        output = demo.stdout.read()
    assert "kiosk window: 585x1040 at (667, 40)" in output, output
    assert "Traceback" not in output and "xsel" not in output, output
    assert "pickup codes sent to residents are printed here" in output
