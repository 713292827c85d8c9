"""`lobbydesk service install-console`: the console as a systemd service.

A building's console runs on a small PC that nobody technical looks after, so
after a power cut it must come back by itself: an unprivileged system user, a
private data folder, the secret key, and a unit file (from the template in
deploy/console/, see docs/INSTALL_CONSOLE.md) that systemd starts at boot and
restarts after a crash. Every change is said as it is made; `--dry-run` says
what would be done and changes nothing.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lobbydesk import unit_files
from lobbydesk.unit_files import SAFE_NAME as _SAFE_NAME
from lobbydesk.unit_files import SAFE_PATH as _SAFE_PATH
from lobbydesk.unit_files import Say, ServiceError

UNIT_NAME = "lobbydesk-console.service"
TEMPLATE_PACKAGE = unit_files.TEMPLATE_PACKAGE
_CHECKOUT = unit_files.CHECKOUT
_SAFE_HOST = re.compile(r"^[A-Za-z0-9.:-]+$")
# Hidden or private to the service (ProtectHome=, PrivateTmp=, ProtectSystem=strict):
# data or a program there would be invisible or read-only to the service.
_NOT_THERE = ("/home", "/root", "/run/user", "/tmp", "/var/tmp", "/proc", "/sys", "/dev")  # noqa: S108 (refused, not used)
_NOT_DATA = (*_NOT_THERE, "/usr", "/etc", "/boot", "/bin", "/sbin", "/lib")
# Folders shared by many programs: the data folder is made the service user's own
# (its contents too), so it must be a folder of Lobby Desk's own below one of these.
_SHARED = {"/var/lib", "/var/cache", "/var/log", "/var/spool", "/var/opt", "/var/backups"}
_SHARED |= {"/var/www", "/var/mail", "/opt", "/srv", "/mnt", "/media", "/usr/local"}
# What the console keeps at the top of its data folder (an existing folder must show one).
_OURS = ("lobbydesk.db", "secret_key", "backups")


@dataclass(frozen=True)
class ConsoleService:
    executable: str
    user: str = "lobbydesk"
    data_dir: str = "/var/lib/lobbydesk"
    host: str = "127.0.0.1"
    port: int = 8080
    unit_dir: str = "/etc/systemd/system"
    processes: int | None = None  # None: LOBBYDESK_PROCESSES in console.env, else 1

    @property
    def unit_path(self) -> Path:
        return Path(self.unit_dir) / UNIT_NAME


def find_executable() -> str:
    return unit_files.find_executable(
        "Cannot find the installed `lobbydesk` program: install the package first "
        "(docs/INSTALL_CONSOLE.md) and run the one it installed."
    )


def _under(path: str, folders: tuple[str, ...]) -> bool:
    return any(path == folder or path.startswith(folder + "/") for folder in folders)


def check(service: ConsoleService) -> None:
    """Refuse what would give a unit that cannot work, before anything changes."""
    _check_data_dir(service.data_dir)
    if not _SAFE_NAME.match(service.user):
        raise ServiceError(f"--user {service.user!r} is not a valid system user name.")
    if not _SAFE_HOST.match(service.host):
        raise ServiceError(f"--host {service.host!r} is not an address or a host name.")
    if not 1 <= service.port <= 65535:
        raise ServiceError(f"--port {service.port} is not a TCP port (1-65535).")
    for program in (service.executable, os.path.realpath(service.executable)):
        if not _SAFE_PATH.match(program) or _under(program, _NOT_THERE):
            raise ServiceError(
                f"The lobbydesk program is at {program}, which the service cannot run "
                "(home folders are hidden from it). Install it system-wide, e.g. "
                "`sudo env PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/usr/local/bin pipx install ...` "
                "(docs/INSTALL_CONSOLE.md)."
            )


def _check_data_dir(data_dir: str) -> None:
    data = os.path.normpath(data_dir)
    if (
        not _SAFE_PATH.match(data)
        or data.count("/") < 2
        or data in _SHARED
        or _under(data, _NOT_DATA)
    ):
        raise ServiceError(
            f"--data-dir {data_dir!r}: give a folder of its own outside home "
            "folders, /tmp and the system's folders, in letters, digits and . _ - + / "
            "(e.g. /var/lib/lobbydesk)."
        )
    folder = Path(data)
    if folder.is_dir() and any(folder.iterdir()) and not any((folder / n).exists() for n in _OURS):
        raise ServiceError(
            f"--data-dir {data}: that folder holds other things and no Lobby Desk data; "
            "give Lobby Desk a folder of its own (it becomes the service user's)."
        )


def template_text() -> str:
    """The unit template: the checkout's deploy/ or, installed, the wheel's copy."""
    return unit_files.template_text(
        "console",
        UNIT_NAME,
        checkout=_CHECKOUT,
        package=TEMPLATE_PACKAGE,
        missing=f"The unit template {UNIT_NAME} is not in this installation "
        f"(package {TEMPLATE_PACKAGE}); reinstall Lobby Desk from a complete wheel.",
    )


def render_unit(service: ConsoleService, group: str, template: str | None = None) -> str:
    """The template with this installation's values in its [Service] lines."""
    data = os.path.normpath(service.data_dir)
    values = {
        "User": service.user,
        "Group": group,
        "WorkingDirectory": data,
        "ExecStart": f"{service.executable} console --data-dir {data}"
        f" --host {service.host} --port {service.port}"
        + (f" --processes {service.processes}" if service.processes else ""),
        "ReadWritePaths": data,
    }
    if service.port < 1024:  # the one capability a low port needs, and no other
        values["CapabilityBoundingSet"] = values["AmbientCapabilities"] = "CAP_NET_BIND_SERVICE"
    return unit_files.fill_service_section(template or template_text(), values)


Run = Callable[..., object]


def ensure_user(service: ConsoleService, dry_run: bool, run: Run, say: Say) -> str:
    """The unprivileged system user (and its group); returns the group's name."""
    try:
        entry = pwd.getpwnam(service.user)
    except KeyError:
        command = unit_files.system_user_command(
            service.user, service.data_dir, "Lobby Desk console"
        )
        say(f"{'Would create' if dry_run else 'Creating'} the system user: {' '.join(command)}")
        if dry_run:
            return service.user
        run(command, check=True)
        entry = pwd.getpwnam(service.user)
    else:
        say(f"System user {service.user!r} exists (uid {entry.pw_uid}).")
    return grp.getgrgid(entry.pw_gid).gr_name


def ensure_data_dir(service: ConsoleService, dry_run: bool, say: Say) -> None:
    """DATA_DIR owned by the user, 0700, with the console's secret key in it."""
    data = Path(os.path.normpath(service.data_dir))
    if dry_run:
        state = f"mode {data.stat().st_mode & 0o777:o}" if data.is_dir() else "missing"
        say(f"Would make {data} ({state}) the user's own, mode 700, with a secret key in it.")
        say(f"Scheduled backups would go to {data / 'backups'} (daily, newest 14 kept).")
        return
    from console import settings  # Flask is imported only when something is installed

    if data.is_dir():
        loose = data.stat().st_mode & 0o077
        if loose:
            say(f"{data} was readable by others (mode {data.stat().st_mode & 0o777:o}): now 700.")
    else:
        say(f"Creating {data} (mode 700).")
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    if not settings.secret_key_path(data).exists():
        say(f"Creating the secret key {settings.secret_key_path(data)}.")
    settings.create_secret_key(data)
    entry = pwd.getpwnam(service.user)
    # Files an admin made as root (e.g. `lobbydesk console --init` run by hand)
    # would stop the service opening its own database.
    os.chown(data, entry.pw_uid, entry.pw_gid)
    for folder, folders, names in os.walk(data):  # never through a symlink, out of the folder
        for name in (*folders, *names):
            os.chown(Path(folder) / name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    say(f"{data} belongs to {service.user}; scheduled backups go to {data / 'backups'}.")


def write_unit(service: ConsoleService, text: str, dry_run: bool, say: Say) -> bool:
    """Write the unit; True when it replaced a different one (a running console
    must then be restarted to take it)."""
    return unit_files.write_unit_file(service.unit_path, text, dry_run, say)


def start(dry_run: bool, changed: bool, run: Run, say: Say) -> None:
    commands = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", UNIT_NAME]]
    if changed:  # `enable --now` leaves a running console on its old settings
        commands.append(["systemctl", "restart", UNIT_NAME])
    for command in commands:
        say(f"{'Would run' if dry_run else 'Running'}: {' '.join(command)}")
        if not dry_run:
            run(command, check=True)


def install_console(
    service: ConsoleService, *, dry_run: bool = False, run: Run = subprocess.run, say: Say = print
) -> None:
    check(service)
    render_unit(service, service.user)  # a broken template stops us before any change
    group = ensure_user(service, dry_run, run, say)
    ensure_data_dir(service, dry_run, say)
    changed = write_unit(service, render_unit(service, group), dry_run, say)
    start(dry_run, changed, run, say)
    if dry_run:
        say("Dry run: nothing was changed.")
    else:
        say(
            f"Done. Check it with: systemctl status {UNIT_NAME.removesuffix('.service')}; "
            f"curl http://{_local(service.host)}:{service.port}/healthz"
        )


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a name, not a bind)


# -- the command line ------------------------------------------------------------------------


def add_commands(commands) -> None:
    """`lobbydesk service ...` (called from lobbydesk/cli.py)."""
    service = commands.add_parser("service", help="install Lobby Desk as a systemd service")
    service_commands = service.add_subparsers(title="service commands", metavar="SERVICE_COMMAND")
    console = service_commands.add_parser(
        "install-console",
        help="run the console at boot as an unprivileged user, restarted after a crash (root)",
    )
    console.add_argument("--user", default="lobbydesk", help="system user (default lobbydesk)")
    console.add_argument(
        "--data-dir", default="/var/lib/lobbydesk", help="data folder (default /var/lib/lobbydesk)"
    )
    console.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    console.add_argument(
        "--host",
        default="127.0.0.1",
        help="listen address (default 127.0.0.1; 0.0.0.0 or the PC's address for kiosks on the LAN)",
    )
    console.add_argument(
        "--processes",
        type=int,
        choices=range(1, 65),
        metavar="N",
        help="console processes behind the one address (default: LOBBYDESK_PROCESSES or 1)",
    )
    console.add_argument(
        "--unit-dir", default="/etc/systemd/system", help="where the unit file goes"
    )
    console.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would be done and print the unit; change nothing",
    )
    console.set_defaults(handler=run_install_console)
    from lobbydesk import kiosk_service  # the lobby PC's unit (cage on tty1, watchdog)

    kiosk_service.add_install_kiosk(service_commands, name="install-kiosk")
    service.set_defaults(handler=lambda args: service.print_help() or 2)


def run_install_console(args) -> int:
    if not args.dry_run and os.geteuid() != 0:
        print(
            "lobbydesk service install-console: run it as root (sudo), or add --dry-run "
            "to see what it would do.",
            file=sys.stderr,
        )
        return 2
    try:
        service = ConsoleService(
            executable=find_executable(),
            user=args.user,
            data_dir=args.data_dir,
            host=args.host,
            port=args.port,
            unit_dir=args.unit_dir,
            processes=args.processes,
        )
        install_console(service, dry_run=args.dry_run)
    except ServiceError as error:
        print(f"lobbydesk service install-console: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(
            f"lobbydesk service install-console: `{' '.join(error.cmd)}` failed "
            f"(exit {error.returncode}); see its message above.",
            file=sys.stderr,
        )
        return 1
    return 0
