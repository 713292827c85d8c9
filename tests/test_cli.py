"""The `lobbydesk` command: every command documented, real processes where it matters."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from lobbydesk.cli import build_parser, main
from shared.schema import open_building_db
from tests.helpers import eventually

LOBBYDESK = [sys.executable, "-m", "lobbydesk"]


def _commands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _commands(sub, (*prefix, name))


@pytest.mark.parametrize("command", [(), *_commands(build_parser())], ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: lobbydesk" in capsys.readouterr().out


def test_every_command_is_in_the_readme():
    readme = Path("README.md").read_text(encoding="utf-8")
    for command in _commands(build_parser()):
        if len(command) == 1 or command[0] in ("admin", "service"):
            assert (
                f"lobbydesk {' '.join(command)}" in readme or f"scripts/{command[-1]}" in readme
            ), command


def test_every_console_setting_is_in_the_readme():
    from console.settings import SETTINGS

    readme = Path("README.md").read_text(encoding="utf-8")
    assert [s.name for s in SETTINGS if f"LOBBYDESK_{s.name}" not in readme] == []


def test_first_admin_is_created_by_the_cli_and_weak_passwords_refused(
    tmp_path, monkeypatch, capsys
):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("12345678\n"))
    args = ["admin", "create-staff", "--data-dir", str(tmp_path), "--username", "admin",
            "--display-name", "管理员", "--role", "admin", "--password-stdin"]  # fmt: skip
    assert main(args) == 2
    assert "most common" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long pass phrase\n"))
    assert main(args) == 0
    staff = open_building_db(tmp_path / "lobbydesk.db")["staff"].get(1)
    assert staff["role"] == "admin" and staff["password_hash"].startswith("$argon2id$")


def test_init_building_creates_units(tmp_path, capsys):
    code = main(["admin", "init-building", "--data-dir", str(tmp_path), "--name", "翠湖花园",
                 "--name-en", "Green Lake", "--floors", "2", "--units-per-floor", "3"])  # fmt: skip
    assert code == 0
    units = [
        r["number"]
        for r in open_building_db(tmp_path / "lobbydesk.db").query("SELECT number FROM units")
    ]
    assert units == ["101", "102", "103", "201", "202", "203"]


def test_the_console_refuses_to_start_without_a_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LOBBYDESK_SECRET_KEY", raising=False)
    assert main(["console", "--data-dir", str(tmp_path)]) == 2
    assert "No secret key" in capsys.readouterr().err


def test_kiosk_pairing_with_a_bad_code_says_why(tmp_path, capsys):
    from console.server import ConsoleServer
    from tests.helpers import make_app

    server = ConsoleServer(make_app(tmp_path / "console")).start_in_background()
    try:
        code = main(
            [
                "kiosk",
                "--console",
                server.url,
                "--pair",
                "ABCDE-FGHJK",
                "--data-dir",
                str(tmp_path / "k"),
            ]
        )
    finally:
        server.stop()
    assert code == 2
    assert "not known" in capsys.readouterr().err


def test_demo_without_a_display_keeps_the_console_running(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    port = _free_port()
    with subprocess.Popen(
        [*LOBBYDESK, "demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as demo:
        try:
            output = _read_until(demo, "No display", timeout=20)
            assert "sign in:  admin / " in output
            assert requests.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
            assert demo.poll() is None  # still serving
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=10)


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_until(process, marker, timeout):
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError("".join(seen))


def test_demo_on_a_busy_port_says_so_in_one_line(tmp_path, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"port {port} is in use" in err and f"--port {port + 1}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def _demo_output(data_dir, *extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    port = _free_port()
    command = [*LOBBYDESK, "demo", "--data-dir", str(data_dir), "--port", str(port), *extra]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as demo:
        try:
            return _read_until(demo, "No display", timeout=30)
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=10)


def test_running_the_demo_again_reuses_its_folder_and_reset_starts_afresh(tmp_path):
    data_dir = tmp_path / "demo"
    first = _demo_output(data_dir)
    password = first.split("sign in:  admin / ")[1].split()[0]
    again = _demo_output(data_dir)
    assert "Traceback" not in again and "RuntimeError" not in again
    assert "the password shown when this demo was made" in again and password not in again
    assert "--reset starts afresh" in again
    fresh = _demo_output(data_dir, "--reset")
    assert "(shown once)" in fresh and password not in fresh


def test_the_demo_mailbox_prints_each_pickup_code(tmp_path):
    """What `lobbydesk demo` points the console's mail at: the code, printed."""
    from lobbydesk.demo_mailbox import DemoMailbox
    from shared import notifications

    lines = []
    mailbox = DemoMailbox(on_message=lines.append).start()
    try:
        notifications.send(  # the way the parcel notices send (shared/parcels/notices.py)
            {"kind": "email", "address": "wang@example.com"},
            mailbox.url,
            title="快递到了 · Parcel arrived",
            text="",
            html='<p>取件码：<b style="letter-spacing:3px">482913</b> · Pickup code</p>',
            image=("qr.png", b"png"),
        )
        eventually(lambda: lines, message="the message was logged")
    finally:
        mailbox.stop()
    [line] = lines
    assert "wang@example.com" in line and "pickup code: 482913" in line
