"""Kivy with no screen (the UI tests and the kiosk benchmarks; see docs/KIOSK_HEADLESS.md).

Kivy reads its environment when it is first imported, so call `prepare()` before
any `import kivy`. This module does not import Kivy itself.
"""

from __future__ import annotations

import os
import tempfile


def prepare(home_prefix: str = "lobbydesk-kivy-") -> None:
    """Quiet, argument-free Kivy with a throwaway KIVY_HOME; SDL renders offscreen
    unless a display (e.g. Xvfb) is there. Values already set are kept."""
    environment = {
        "KIVY_NO_ARGS": "1",
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_NO_FILELOG": "1",
        "KIVY_HOME": tempfile.mkdtemp(prefix=home_prefix),
        "KIVY_USE_DEFAULTCONFIG": "1",
        "KIVY_LOG_MODE": "PYTHON",
        "KIVY_WINDOW": "sdl2",
    }
    for name, value in environment.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
