"""`lobbydesk service install-kiosk`: the unit that boots the lobby PC into the kiosk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lobbydesk import kiosk_service
from lobbydesk.cli import main

LOBBYDESK = str(Path(sys.executable).parent / "lobbydesk")  # the installed program


def _verify(unit: Path) -> subprocess.CompletedProcess:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd (it checks the unit)"
    # --man=no: the unit's Documentation=man:cage(1) is not ours to check
    return subprocess.run(
        [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )


def _install(tmp_path, monkeypatch, *extra) -> int:
    # The checkout (and its .venv) may sit under /tmp or /home in CI; the refusal has its own test.
    monkeypatch.setattr(kiosk_service, "_UNRUNNABLE", ("/root",))
    monkeypatch.setattr(sys, "argv", [LOBBYDESK])
    return main(["service", "install-kiosk", "--unit-dir", str(tmp_path), *extra])


def test_the_generated_kiosk_unit_passes_systemd_verify(tmp_path, monkeypatch, capsys):
    code = _install(tmp_path, monkeypatch, "--console", "http://192.168.1.10:8080", "--landscape")
    assert code == 0, capsys.readouterr().err
    unit = tmp_path / "lobbydesk-kiosk.service"
    checked = _verify(unit)
    assert checked.returncode == 0, checked.stderr
    assert "lobbydesk-kiosk.service" not in checked.stderr  # no warning about our unit
    lines = unit.read_text().splitlines()
    assert (
        f'ExecStart={LOBBYDESK} kiosk --watchdog --compositor "/usr/bin/cage --"'
        " --console http://192.168.1.10:8080 --data-dir /var/lib/lobbydesk-kiosk"
        " --fullscreen --landscape"
    ) in lines
    for line in (
        "User=lobbydesk-kiosk",
        "TTYPath=/dev/tty1",
        "PAMName=login",
        "Conflicts=getty@tty1.service",
        "Restart=on-failure",  # status 0 (the staff's exit) leaves it stopped
        "WantedBy=graphical.target",
    ):
        assert line in lines


def test_a_console_address_systemd_would_misread_is_refused(tmp_path, monkeypatch, capsys):
    code = _install(tmp_path, monkeypatch, "--console", "http://lobby pc:8080/%h")
    assert code == 2
    assert "give the console's address" in capsys.readouterr().err
    assert not (tmp_path / "lobbydesk-kiosk.service").exists()


def test_a_dry_run_says_every_step_and_changes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [LOBBYDESK])
    monkeypatch.setattr(kiosk_service, "_UNRUNNABLE", ("/root",))  # a checkout under /tmp
    code = main(["service", "install-kiosk", "--dry-run", "--console", "http://10.0.0.5:8080",
                 "--user", "lobbydesk-test-nobody", "--data-dir", str(tmp_path / "k")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "Would run: useradd --system" in out
    assert "Would run: systemctl enable lobbydesk-kiosk.service" in out
    assert "Would write /etc/systemd/system/lobbydesk-kiosk.service" in out
    assert "Dry run: nothing was changed." in out
    assert not (tmp_path / "k").exists()
