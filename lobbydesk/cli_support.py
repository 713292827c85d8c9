"""What the `lobbydesk` commands share (lobbydesk/cli.py, admin_commands.py,
demo_command.py): the data folder argument, the console app and database, the kiosk's
settings. Heavy imports stay inside the functions, so `--help` stays instant."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_DATA_DIR = "./lobbydesk-data"


def add_data_dir(parser) -> None:
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("LOBBYDESK_DATA_DIR", DEFAULT_DATA_DIR),
        help="console data folder (env LOBBYDESK_DATA_DIR; default ./lobbydesk-data)",
    )


def console_app(data_dir: str, **overrides):
    from console import create_app

    return create_app({"DATA_DIR": data_dir, **{k: v for k, v in overrides.items() if v}})


def open_db(data_dir: str):
    from shared.schema import open_building_db

    return open_building_db(Path(data_dir) / "lobbydesk.db")


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def kiosk_settings(console_url: str, data_dir: str, landscape=False, fullscreen=False, font=None):
    from kiosk.config import KioskSettings

    return KioskSettings(
        console_url=console_url,
        data_dir=Path(data_dir),
        orientation="landscape" if landscape else "portrait",
        fullscreen=fullscreen,
        font_path=font,
    )
