"""`lobbydesk service install-kiosk`: the lobby PC boots straight into the kiosk.

A touchscreen PC in the lobby, looked after by nobody technical: after a power
cut it must come back by itself, and if the app dies the lobby must not show a
desktop. This writes the unit from deploy/kiosk/ (cage on tty1 running the
watchdog; docs/INSTALL_KIOSK.md), makes the unprivileged kiosk user and its data
folder, and enables the unit for the next boot. `--dry-run` says what would be
done and changes nothing.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lobbydesk import unit_files
from lobbydesk.unit_files import SAFE_NAME as _SAFE_NAME
from lobbydesk.unit_files import SAFE_PATH as _SAFE_PATH
from lobbydesk.unit_files import ServiceError

UNIT_NAME = "lobbydesk-kiosk.service"
TEMPLATE_PACKAGE = unit_files.TEMPLATE_PACKAGE
COMPOSITOR = "/usr/bin/cage"
DEVICE_GROUPS = ("video", "render", "input")  # the screen, the GPU, the touch panel
_CHECKOUT = unit_files.CHECKOUT
# Everything goes into ExecStart= unquoted (unit_files.SAFE_PATH, SAFE_NAME and these).
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/-]*)?$")
_SAFE_TTY = re.compile(r"^tty[1-9][0-9]?$")


@dataclass(frozen=True)
class KioskService:
    executable: str
    console_url: str
    user: str = "lobbydesk-kiosk"
    data_dir: str = "/var/lib/lobbydesk-kiosk"
    unit_dir: str = "/etc/systemd/system"
    landscape: bool = False
    font: str | None = None
    ca_cert: str | None = None

    @property
    def unit_path(self) -> Path:
        return Path(self.unit_dir) / UNIT_NAME


# Folders the kiosk user cannot run a program from (a per-user pipx install, a scratch copy).
_UNRUNNABLE = ("/root", "/home", "/tmp")  # noqa: S108 (refused, not used)


def find_executable() -> str:
    return unit_files.find_executable(
        "Cannot find the installed `lobbydesk` program: install the package first."
    )


def check(service: KioskService) -> None:
    """Refuse what would give a unit that cannot work, before anything changes."""
    if not _SAFE_URL.match(service.console_url):
        raise ServiceError(
            f"--console {service.console_url!r}: give the console's address, e.g. "
            "http://192.168.1.10:8080 (letters, digits, . - : / only)."
        )
    if not _SAFE_NAME.match(service.user):
        raise ServiceError(f"--user {service.user!r} is not a valid system user name.")
    for label, path in (
        ("--data-dir", service.data_dir),
        ("the lobbydesk program", service.executable),
        ("--font", service.font),
        ("--ca-cert", service.ca_cert),
    ):
        if path is not None and not _SAFE_PATH.match(path):
            raise ServiceError(f"{label} {path!r}: an absolute path in letters, digits, . _ - + /")
    for folder in _UNRUNNABLE:
        if service.executable.startswith(folder + "/"):
            raise ServiceError(
                f"The lobbydesk program is at {service.executable}, which the kiosk user "
                "cannot run. Install it system-wide (docs/INSTALL_KIOSK.md)."
            )


def template_text() -> str:
    """The unit template: the checkout's deploy/ or, installed, the wheel's copy."""
    return unit_files.template_text(
        "kiosk",
        UNIT_NAME,
        checkout=_CHECKOUT,
        package=TEMPLATE_PACKAGE,
        missing=f"The unit template {UNIT_NAME} is not in this installation; reinstall Lobby Desk.",
    )


def exec_start(service: KioskService) -> str:
    data = os.path.normpath(service.data_dir)
    line = (
        f'{service.executable} kiosk --watchdog --compositor "{COMPOSITOR} --"'
        f" --console {service.console_url} --data-dir {data} --fullscreen"
    )
    if service.landscape:
        line += " --landscape"
    if service.font:
        line += f" --font {service.font}"
    if service.ca_cert:
        line += f" --ca-cert {service.ca_cert}"
    return line


def render_unit(service: KioskService, template: str | None = None) -> str:
    """The template with this installation's values in its [Service] lines."""
    values = {
        "User": service.user,
        "WorkingDirectory": os.path.normpath(service.data_dir),
        "ExecStart": exec_start(service),
    }
    return unit_files.fill_service_section(template or template_text(), values)


def _step(what: str, command: list[str], dry_run: bool) -> None:
    print(f"{'Would run' if dry_run else 'Running'}: {' '.join(command)}  ({what})")
    if not dry_run:
        subprocess.run(command, check=True)  # noqa: S603 (fixed programs, checked values)


def ensure_user(service: KioskService, dry_run: bool) -> None:
    groups = [name for name in DEVICE_GROUPS if _group_exists(name)]
    try:
        pwd.getpwnam(service.user)
    except KeyError:
        command = unit_files.system_user_command(service.user, service.data_dir, "Lobby Desk kiosk")
        _step("the kiosk's own user", command, dry_run)
    if groups:
        _step(
            "the screen and touch panel",
            ["usermod", "-aG", ",".join(groups), service.user],
            dry_run,
        )


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def ensure_data_dir(service: KioskService, dry_run: bool) -> None:
    """The folder for the kiosk's outbox, token and heartbeat: the kiosk user's, 0700."""
    data = Path(os.path.normpath(service.data_dir))
    print(f"{'Would make' if dry_run else 'Making'} {data} the kiosk user's own (mode 700).")
    if dry_run:
        return
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    entry = pwd.getpwnam(service.user)
    for folder, _folders, names in os.walk(data):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in names:
            os.chown(Path(folder) / name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    os.chmod(data, 0o700)


def write_unit(service: KioskService, text: str, dry_run: bool) -> None:
    unit_files.write_unit_file(service.unit_path, text, dry_run, print)


def install_kiosk(service: KioskService, *, dry_run: bool = False, system: bool = True) -> None:
    """Everything, or (system=False: another --unit-dir) only the unit file."""
    check(service)
    text = render_unit(service)  # a broken template stops us before any change
    if system and not dry_run and not os.access(COMPOSITOR, os.X_OK):
        raise ServiceError(f"{COMPOSITOR} is missing: sudo apt-get install cage xwayland")
    if system:
        ensure_user(service, dry_run)
        ensure_data_dir(service, dry_run)
    write_unit(service, text, dry_run)
    if system:
        _step("read the new unit", ["systemctl", "daemon-reload"], dry_run)
        _step("start it at every boot", ["systemctl", "enable", UNIT_NAME], dry_run)
        print(
            "Next: pair the kiosk as its user (docs/INSTALL_KIOSK.md), then reboot, or "
            f"`sudo systemctl start {UNIT_NAME.removesuffix('.service')}`."
        )
    if dry_run:
        print("Dry run: nothing was changed.")


# -- the command line ------------------------------------------------------------------------


def add_install_kiosk(subcommands, name: str = "install-kiosk") -> None:
    """`install-kiosk` under `lobbydesk service` (lobbydesk/service.py adds it)."""
    command = subcommands.add_parser(
        name, help="boot this PC straight into the kiosk (cage on tty1, watchdog) (root)"
    )
    command.add_argument("--console", required=True, metavar="URL", help="the console's address")
    command.add_argument("--user", default="lobbydesk-kiosk", help="default lobbydesk-kiosk")
    command.add_argument(
        "--data-dir", default="/var/lib/lobbydesk-kiosk", help="default /var/lib/lobbydesk-kiosk"
    )
    command.add_argument("--landscape", action="store_true", help="a landscape screen")
    command.add_argument("--font", help="a TTF/TTC font with Chinese and Latin glyphs")
    command.add_argument("--ca-cert", help="the building's CA, for an https console")
    command.add_argument(
        "--unit-dir",
        default="/etc/systemd/system",
        help="where the unit goes; any other folder gets only the file",
    )
    command.add_argument("--dry-run", action="store_true", help="say what would be done")
    command.set_defaults(handler=run_install_kiosk)


def run_install_kiosk(args) -> int:
    system = os.path.normpath(args.unit_dir) == "/etc/systemd/system"
    if system and not args.dry_run and os.geteuid() != 0:
        print("lobbydesk: run it as root (sudo), or add --dry-run.", file=sys.stderr)
        return 2
    try:
        service = KioskService(
            executable=find_executable(),
            console_url=args.console.rstrip("/"),
            user=args.user,
            data_dir=args.data_dir,
            unit_dir=args.unit_dir,
            landscape=args.landscape,
            font=args.font,
            ca_cert=args.ca_cert,
        )
        install_kiosk(service, dry_run=args.dry_run, system=system)
    except ServiceError as error:
        print(f"lobbydesk: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"lobbydesk: {' '.join(error.cmd)} failed ({error.returncode})", file=sys.stderr)
        return 1
    return 0
