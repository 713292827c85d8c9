"""Entry points the CLI calls: run the kiosk, pair it with the console.

Kivy reads its environment at import, so `run_kiosk` sets it first and
imports Kivy only afterwards. `pair_kiosk` needs no Kivy at all.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from kiosk.client import ConsoleClient
from kiosk.config import KioskSettings
from kiosk.errors import (
    ConsoleRefused,
    ConsoleUnreachable,
    KioskNotPaired,
    KioskSetupError,
    PairingCodeExpired,
    PairingCodeInvalid,
    PairingCodeUsed,
)
from kiosk.fonts import find_font
from kiosk.salvage import open_kiosk_store
from kiosk.store import STORAGE_INCIDENT
from kiosk.viewmodels.storage import salvage_message
from shared import i18n
from shared.tokens import normalise_pairing_code

__all__ = ["KioskSetupError", "kivy_environment", "pair_kiosk", "run_kiosk"]

_PAIRING_ERRORS = {
    error.code: error for error in (PairingCodeInvalid, PairingCodeUsed, PairingCodeExpired)
}


def kivy_environment(data_dir: Path, offscreen: bool = False) -> dict[str, str]:
    """The environment Kivy must see before its first import (KIVY.md)."""
    env = {
        "KIVY_NO_ARGS": "1",  # our CLI owns the arguments
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_LOG_MODE": "PYTHON",
        "KIVY_HOME": str(Path(data_dir) / "kivy"),
        "KIVY_WINDOW": "sdl2",
    }
    if offscreen:
        env["SDL_VIDEODRIVER"] = "offscreen"
    return env


def run_kiosk(settings: KioskSettings, offscreen: bool = False) -> None:
    """Open the kiosk window and run until it is closed. Blocks."""
    find_font(settings.font_path)  # fail with what to install before a window opens
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for name, value in kivy_environment(settings.data_dir, offscreen).items():
        os.environ.setdefault(name, value)
    store = open_kiosk_store(settings.db_path)  # a damaged kiosk.db is salvaged here
    if not store.token:
        incident = store.get(STORAGE_INCIDENT)
        store.close()
        raise KioskNotPaired(
            "This kiosk is not paired yet. Create a pairing code on the console's kiosk "
            "page, then run `lobbydesk kiosk --console URL --pair CODE`." + salvage_notice(incident)
        )
    from kivy.config import Config

    width, height = settings.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if settings.fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if settings.fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kiosk.app import LobbyKioskApp

    try:
        LobbyKioskApp(settings, store).run()
    finally:
        store.close()


def salvage_notice(incident: dict | None) -> str:
    """For the not-paired message: what the salvage of a damaged kiosk.db found, in
    both languages, and that the recovered items wait for the pairing."""
    if not incident:
        return ""
    key, values = salvage_message(incident)
    lines = [
        i18n.text("kiosk", key, language, **values)
        + " "
        + i18n.text("kiosk", "storage.not_paired", language)
        for language in ("zh_CN", "en")
    ]
    return "\n" + "\n".join(lines)


def pair_kiosk(
    console_url: str, code: str, data_dir: str | Path, device: str | None = None
) -> dict:
    """Exchange a one-time pairing code for this kiosk's token and store it.

    Returns the console's answer without the token. Raises (all KioskSetupError)
    PairingCodeInvalid / PairingCodeUsed / PairingCodeExpired with the console's
    own message, ConsoleUnreachable, or ConsoleRefused.
    """
    client = ConsoleClient(console_url, token=None)
    try:
        result = client.pair(normalise_pairing_code(code), device or platform.node()[:80])
    finally:
        client.close()
    if result.status is None:
        raise ConsoleUnreachable(f"Could not reach the console at {console_url}: {result.message}")
    if not result.ok:
        error = _PAIRING_ERRORS.get(result.error_code or "")
        if error is not None:
            raise error(result.message or None)
        raise ConsoleRefused(f"The console refused the pairing: {result.describe()}")
    answer = result.body or {}
    if not isinstance(answer.get("token"), str) or not answer["token"]:
        raise ConsoleRefused("The console's answer has no token.")
    store = open_kiosk_store(Path(data_dir) / "kiosk.db")
    try:
        store.save_pairing(answer)
    finally:
        store.close()
    return {key: value for key, value in answer.items() if key != "token"}
