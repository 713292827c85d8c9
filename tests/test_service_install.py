"""`lobbydesk service install-console`: the unit it writes, the data folder it makes,
and systemd's own check of the unit (`systemd-analyze verify`)."""

from __future__ import annotations

import dataclasses
import grp
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lobbydesk import service
from lobbydesk.cli import main

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name
REPO = Path(__file__).resolve().parent.parent


def verify(unit: Path) -> None:
    """systemd's own reading of the unit: no error and no warning about it."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, (
        "systemd-analyze is missing: install the Debian package `systemd` "
        "(scripts/bootstrap test does)"
    )
    # --man=no: a unit's Documentation=man:… page is not ours to check
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )
    said = (result.stdout + result.stderr).strip()
    # verify exits 0 after an unknown key or a bad value ("…, ignoring"): read what it says.
    assert result.returncode == 0 and unit.name not in said, said


@pytest.fixture
def test_folders(monkeypatch):
    """The test's files live in /tmp and the checkout may sit in a home folder: the
    real service could not see either (PrivateTmp=, ProtectHome=), so the install
    refuses them (tested below on its own). Here they are allowed."""
    monkeypatch.setattr(service, "_NOT_THERE", ("/proc", "/sys", "/dev"))
    monkeypatch.setattr(service, "_NOT_DATA", ("/proc", "/sys", "/dev", "/etc", "/usr"))


def _unit_from(output: str) -> str:
    match = re.search(r"Would write \S+:\n\n(.*?\n)(?=Would run)", output, re.S)
    assert match, output
    return match.group(1)


def test_dry_run_prints_a_unit_systemd_accepts_and_changes_nothing(tmp_path, capsys, test_folders):
    units, data = tmp_path / "units", "/var/lib/lobbydesk-dry-run-test"
    code = main(
        [
            "service",
            "install-console",
            "--dry-run",
            "--unit-dir",
            str(units),
            "--data-dir",
            data,
            "--user",
            "lobbydesk-test",
            "--port",
            "8099",
        ]
    )
    output = capsys.readouterr().out
    assert code == 0
    unit = _unit_from(output)
    program = re.search(r"^ExecStart=(\S+) console --data-dir (\S+) ", unit, re.M)
    assert program and Path(program.group(1)).name == "lobbydesk"
    assert os.access(program.group(1), os.X_OK) and Path(program.group(1)).is_absolute()
    assert program.group(2) == data
    assert "--port 8099" in unit and "--host 127.0.0.1" in unit
    for line in (
        "User=lobbydesk-test",
        "Group=lobbydesk-test",
        "Restart=always",
        f"ReadWritePaths={data}",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "UMask=0077",
        "Environment=LOBBYDESK_BACKUP_INTERVAL_HOURS=24",
        "WantedBy=multi-user.target",
    ):
        assert line in unit.splitlines(), line
    assert "useradd --system --user-group --home-dir /var/lib/lobbydesk-dry-run-test" in output
    assert "Would run: systemctl enable --now lobbydesk-console.service" in output
    assert "Dry run: nothing was changed." in output
    assert not units.exists() and not Path(data).exists()

    written = tmp_path / "lobbydesk-console.service"
    written.write_text(unit)
    verify(written)


def test_install_makes_the_data_folder_private_writes_the_unit_and_starts_it(
    tmp_path, test_folders
):
    data = tmp_path / "srv" / "lobbydesk"
    data.mkdir(parents=True, mode=0o755)
    os.chmod(data, 0o755)  # as a loose umask or an admin's mkdir left it
    console = service.ConsoleService(
        executable=service.find_executable(),
        user=ME,
        data_dir=str(data),
        port=8099,
        unit_dir=str(tmp_path / "units"),
    )
    commands, said = [], []
    service.install_console(
        console, run=lambda command, check: commands.append(command), say=said.append
    )

    assert data.stat().st_mode & 0o777 == 0o700
    secret = data / "secret_key"
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text()) == 64
    assert any("now 700" in line for line in said)
    assert commands == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "lobbydesk-console.service"],
    ]
    unit = (tmp_path / "units" / "lobbydesk-console.service").read_text()
    assert f"User={ME}" in unit and f"Group={MY_GROUP}" in unit
    assert (
        f"ExecStart={console.executable} console --data-dir {data} --host 127.0.0.1 --port 8099"
        in unit
    )
    verify(tmp_path / "units" / "lobbydesk-console.service")

    # Again, on top: the same secret, nothing broken, no needless restart.
    key, commands[:] = secret.read_text(), []
    service.install_console(
        console, run=lambda command, check: commands.append(command), say=said.append
    )
    assert secret.read_text() == key
    assert ["systemctl", "restart", "lobbydesk-console.service"] not in commands
    # Another port: the running console is restarted to take it.
    moved = dataclasses.replace(console, port=8100)
    service.install_console(
        moved, run=lambda command, check: commands.append(command), say=said.append
    )
    assert commands[-1] == ["systemctl", "restart", "lobbydesk-console.service"]
    assert "--port 8100" in (tmp_path / "units" / "lobbydesk-console.service").read_text()


def test_a_missing_data_folder_is_created_private(tmp_path, test_folders):
    data = tmp_path / "new" / "lobbydesk"
    console = service.ConsoleService(
        executable=service.find_executable(), user=ME, data_dir=str(data), unit_dir=str(tmp_path)
    )
    service.install_console(console, run=lambda command, check: None, say=lambda line: None)
    assert data.stat().st_mode & 0o777 == 0o700
    assert data.stat().st_uid == os.getuid()


def test_a_port_below_1024_gets_that_one_capability_and_systemd_accepts_it(tmp_path, test_folders):
    console = service.ConsoleService(executable=service.find_executable(), port=80)
    unit = service.render_unit(console, "lobbydesk")
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" in unit.splitlines()
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in unit.splitlines()
    written = tmp_path / "lobbydesk-console.service"
    written.write_text(unit)
    verify(written)


def test_several_processes_go_on_the_command_line_and_systemd_accepts_it(tmp_path, test_folders):
    console = service.ConsoleService(executable=service.find_executable(), processes=4)
    unit = service.render_unit(console, "lobbydesk")
    [exec_start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert exec_start.endswith(" --processes 4")
    assert "KillMode=mixed" in unit.splitlines()  # the supervisor stops its workers itself
    written = tmp_path / "lobbydesk-console.service"
    written.write_text(unit)
    verify(written)


def test_the_template_in_the_repository_is_what_a_default_install_writes():
    default = service.ConsoleService(executable="/usr/local/bin/lobbydesk")
    template = (REPO / "deploy" / "console" / "lobbydesk-console.service").read_text()
    assert service.render_unit(default, "lobbydesk") == template
    assert "CapabilityBoundingSet=\n" in template  # no capabilities at all by default


@pytest.mark.parametrize(
    "data_dir",
    [
        "/tmp/lobbydesk",
        "/home/admin/lobbydesk",
        "/etc",
        "/var",
        "/var/lib",
        "/srv",
        "rel/dir",
        "/srv/a b",
    ],
)
def test_a_data_folder_the_service_could_not_use_is_refused(data_dir, capsys):
    code = main(["service", "install-console", "--dry-run", "--data-dir", data_dir])
    assert code == 2
    assert "--data-dir" in capsys.readouterr().err


def test_a_program_in_a_home_folder_is_refused_with_what_to_do_instead():
    console = service.ConsoleService(executable="/root/.local/bin/lobbydesk")
    with pytest.raises(service.ServiceError, match="PIPX_HOME=/opt/pipx"):
        service.check(console)


def test_without_root_it_says_to_use_sudo_and_changes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code = main(["service", "install-console", "--unit-dir", str(tmp_path / "units")])
    assert code == 2
    assert "run it as root (sudo)" in capsys.readouterr().err
    assert not (tmp_path / "units").exists()


def test_a_folder_holding_other_things_is_not_taken_over(tmp_path, test_folders, capsys):
    other = tmp_path / "shared-folder"
    other.mkdir()
    (other / "someone-elses.txt").write_text("not Lobby Desk's")
    code = main(["service", "install-console", "--dry-run", "--data-dir", str(other)])
    assert code == 2
    assert "holds other things" in capsys.readouterr().err


def test_an_installation_without_the_unit_template_says_so(
    tmp_path, monkeypatch, capsys, test_folders
):
    # As from a wheel that did not ship deploy/: no checkout around the code.
    monkeypatch.setattr(service, "_CHECKOUT", tmp_path)
    monkeypatch.setattr(service, "TEMPLATE_PACKAGE", "lobbydesk_no_such_package")
    assert main(["service", "install-console", "--dry-run"]) == 2
    assert "reinstall Lobby Desk from a complete wheel" in capsys.readouterr().err
