"""A console installed as a service before `admin init-building` (docs/INSTALL_CONSOLE.md)
says once what to do, instead of a traceback from every background job every round."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_console_without_a_building_says_so_once_and_keeps_serving(tmp_path):
    log_path = tmp_path / "console.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOBBYDESK_NOTIFY_INTERVAL_SECONDS": "1"}
    command = [sys.executable, "-m", "lobbydesk", "console", "--init"]
    command += ["--data-dir", str(tmp_path / "data"), "--port", str(_free_port())]
    with log_path.open("w") as log:
        console = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while "init-building" not in log_path.read_text() and time.monotonic() < deadline:
            assert console.poll() is None, log_path.read_text()
            time.sleep(0.2)
        time.sleep(4)  # several more rounds of the background jobs
        text = log_path.read_text()
        assert console.poll() is None, text
    finally:
        console.terminate()
        console.wait(timeout=30)
    assert text.count("no building yet: run `lobbydesk admin init-building`") == 1, text
    assert "Traceback" not in text, text
