"""A console installed as a service before `admin init-building` (docs/INSTALL_CONSOLE.md)
says once what to do, instead of a traceback from every background job every round."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers import eventually, holds_for

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _quiet(text: str) -> bool:
    return text.count("no building yet: run") == 1 and "Traceback" not in text


def test_a_console_without_a_building_says_so_once_and_keeps_serving(tmp_path):
    log_path = tmp_path / "console.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOBBYDESK_NOTIFY_INTERVAL_SECONDS": "1"}
    command = [sys.executable, "-m", "lobbydesk", "console", "--init"]
    port = _free_port()
    command += ["--data-dir", str(tmp_path / "data"), "--port", str(port)]
    with log_path.open("w") as log:
        console = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        eventually(
            lambda: "init-building" in log_path.read_text() or console.poll() is not None,
            timeout=60,
            message="the console said what to do",
        )
        assert console.poll() is None, log_path.read_text()
        eventually(lambda: _answers(port), message="the console serves")
        # Deliberately nothing more: several rounds of the background jobs (one a
        # second here) pass with no second warning, no traceback, no exit.
        holds_for(
            lambda: _quiet(log_path.read_text()) and console.poll() is None,
            4,
            message="said once, no traceback, still running",
        )
        text = log_path.read_text()
    finally:
        console.terminate()
        console.wait(timeout=30)
    assert text.count("no building yet: run `lobbydesk admin init-building`") == 1, text
    assert "Traceback" not in text, text
