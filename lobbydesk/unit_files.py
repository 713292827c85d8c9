"""What installing either systemd unit takes alike: `lobbydesk service install-console`
(lobbydesk/service.py) and `install-kiosk` (lobbydesk/kiosk_service.py).

The refusal both raise, finding the installed `lobbydesk` program, reading a unit
template from deploy/ (or the wheel's copy), putting this installation's values in its
[Service] lines, the system user's `useradd`, and writing the unit whole.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from shared.files import write_atomically

TEMPLATE_PACKAGE = "lobbydesk_deploy"  # deploy/ as shipped in the wheel
CHECKOUT = Path(__file__).resolve().parent.parent
# Paths and names go into a unit unquoted: only characters systemd reads literally
# (no spaces, no % specifiers, no quotes).
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/+-]+$")
SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")

Say = Callable[[str], None]


class ServiceError(Exception):
    """The unit cannot be installed as asked; the message says why and what to do."""


def find_executable(not_found: str) -> str:
    """The `lobbydesk` program the admin ran (absolute), else the one on PATH or
    beside this Python. A symlink (e.g. pipx's /usr/local/bin/lobbydesk) is kept as
    it is: it still points at the right place after `pipx upgrade`."""
    ran = Path(sys.argv[0])
    if ran.name == "lobbydesk" and os.access(ran, os.X_OK):
        return os.path.abspath(ran)
    for found in (shutil.which("lobbydesk"), Path(sys.executable).parent / "lobbydesk"):
        if found and os.access(found, os.X_OK):
            return os.path.abspath(found)
    raise ServiceError(not_found)


def template_text(
    folder: str, unit_name: str, *, checkout: Path, package: str, missing: str
) -> str:
    """deploy/<folder>/<unit_name> from the checkout or, installed, from the wheel's copy."""
    in_checkout = checkout / "deploy" / folder / unit_name
    if in_checkout.is_file():
        return in_checkout.read_text(encoding="utf-8")
    try:
        return (files(package) / folder / unit_name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as not_there:
        raise ServiceError(missing) from not_there


def fill_service_section(template: str, values: dict[str, str]) -> str:
    """The template with each `Key=` line of its [Service] section named in values set to
    that value; a key the template lacks is refused (the unit would silently miss it)."""
    lines, section, replaced = [], None, set()
    for line in template.splitlines():
        if line.startswith("["):
            section = line.strip()
        key = line.split("=", 1)[0]
        if section == "[Service]" and "=" in line and key in values and not line.startswith("#"):
            line = f"{key}={values[key]}"
            replaced.add(key)
        lines.append(line)
    if missing := set(values) - replaced:
        raise ServiceError(f"The unit template has no {', '.join(sorted(missing))} line.")
    return "\n".join(lines) + "\n"


def system_user_command(user: str, home: str, comment: str) -> list[str]:
    """`useradd` for an unprivileged system user and its group, with no login and no home made."""
    return [
        "useradd",
        "--system",
        "--user-group",
        "--home-dir",
        os.path.normpath(home),
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "--comment",
        comment,
        user,
    ]


def write_unit_file(path: Path, text: str, dry_run: bool, say: Say) -> bool:
    """Write the unit (never half-written); True when it replaced a different one."""
    before = path.read_text(encoding="utf-8") if path.exists() else None
    if dry_run:
        say(f"Would write {path}:\n\n{text}")
        return before not in (None, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=0o644)
    say(f"Wrote {path}.")
    return before not in (None, text)
