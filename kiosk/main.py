"""Entry points the CLI calls: run the kiosk, pair it with the console.

Kivy reads its environment at import, so `run_kiosk` sets it first and
imports Kivy only afterwards. `pair_kiosk` needs no Kivy at all.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from kiosk.client import ConsoleClient
from kiosk.config import ORIENTATIONS, KioskSettings
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
    """The environment Kivy must see before its first import (docs/KIOSK_HEADLESS.md)."""
    env = {
        "KIVY_NO_ARGS": "1",  # our CLI owns the arguments
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_LOG_MODE": "PYTHON",
        "KIVY_HOME": str(Path(data_dir) / "kivy"),
        "KIVY_WINDOW": "sdl2",
        # SDL2's own clipboard: Kivy's first choices on Linux run xclip/xsel, which a
        # kiosk lacks, and log a traceback that reads like a crash.
        "KIVY_CLIPBOARD": "sdl2,dummy",
    }
    if offscreen:
        env["SDL_VIDEODRIVER"] = "offscreen"
    return env


class _NoCutBufferAlarm(logging.Filter):
    """Kivy still looks for an X cut buffer (xclip/xsel only) after the clipboard is
    chosen and logs its absence as CRITICAL with tracebacks; the kiosk never uses one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cutbuffer: Unable to find")


def quiet_clipboard_logs() -> None:
    logging.getLogger("kivy").addFilter(_NoCutBufferAlarm())


@dataclass(frozen=True)
class WindowFit:
    width: int
    height: int
    left: int
    top: int
    scale: float


TITLE_BAR = 40  # room for a window manager's title bar above the window


def fit_window(size: tuple[int, int], bounds: tuple[int, int, int, int]) -> WindowFit:
    """Scale the kiosk's size down (never up) to fit the usable screen area
    (x, y, width, height), centred, with its top bar on the screen."""
    x, y, screen_w, screen_h = bounds
    width, height = size
    scale = min(1.0, screen_w / width, (screen_h - TITLE_BAR) / height)
    fitted_w, fitted_h = round(width * scale), round(height * scale)
    left = x + max(0, (screen_w - fitted_w) // 2)
    top = y + TITLE_BAR + max(0, (screen_h - TITLE_BAR - fitted_h) // 2)
    return WindowFit(fitted_w, fitted_h, left, top, round(scale, 3))


def screen_bounds() -> tuple[int, int, int, int] | None:
    """The usable area of the first display, asked of the SDL2 inside Kivy's wheel
    before any window exists; None where it cannot tell (then no fitting)."""
    spec = importlib.util.find_spec("kivy")
    if spec is None or spec.origin is None:
        return None
    libs = sorted(Path(spec.origin).parent.parent.glob("Kivy.libs/libSDL2-2*.so*"))
    if not libs:
        return None
    try:
        sdl = ctypes.CDLL(str(libs[0]))
    except OSError:
        return None

    class Rect(ctypes.Structure):
        _fields_ = [(name, ctypes.c_int) for name in ("x", "y", "w", "h")]

    video = 0x20  # SDL_INIT_VIDEO
    if sdl.SDL_InitSubSystem(video) != 0:
        return None
    try:
        rect = Rect()
        if sdl.SDL_GetDisplayUsableBounds(0, ctypes.byref(rect)) != 0 or rect.w <= 0:
            return None
        return rect.x, rect.y, rect.w, rect.h
    finally:
        sdl.SDL_QuitSubSystem(video)


def _fit_to_screen(settings: KioskSettings) -> WindowFit | None:
    """Shrink the window to the screen (a --size too), and everything in it with Kivy's
    density: the screens are laid out for the kiosk's own 1080x1920 (or 1920x1080)."""
    bounds = screen_bounds()
    fit = fit_window(settings.size, bounds) if bounds else None
    width, height = (fit.width, fit.height) if fit else settings.size
    nominal_w, nominal_h = ORIENTATIONS[settings.orientation]
    density = round(min(1.0, width / nominal_w, height / nominal_h), 3)
    if density < 1:
        os.environ.setdefault("KIVY_METRICS_DENSITY", str(density))
    settings.window_size = (width, height)
    return fit


def run_kiosk(
    settings: KioskSettings, offscreen: bool = False, fit_to_screen: bool = False
) -> None:
    """Open the kiosk window and run until it is closed. Blocks. With fit_to_screen
    (the demo on a laptop), the window is scaled to fit the screen and placed on it."""
    find_font(settings.font_path)  # fail with what to install before a window opens
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for name, value in kivy_environment(settings.data_dir, offscreen).items():
        os.environ.setdefault(name, value)
    quiet_clipboard_logs()
    fit = _fit_to_screen(settings) if fit_to_screen and not settings.fullscreen else None
    if fit is not None:
        print(
            f"kiosk window: {fit.width}x{fit.height} at ({fit.left}, {fit.top}), "
            f"scale {fit.scale:g}",
            flush=True,
        )
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
    if fit is not None:
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", str(fit.left))
        Config.set("graphics", "top", str(fit.top))
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
