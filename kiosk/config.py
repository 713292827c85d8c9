"""Kiosk settings, declared once with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ORIENTATIONS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


@dataclass
class KioskSettings:
    console_url: str
    """Base URL of the reception console, e.g. http://192.168.1.10:8080."""
    data_dir: Path
    """Where kiosk.db (outbox, token, cursor) and kiosk.ini live."""
    orientation: str = "portrait"
    """'portrait' (1080x1920) or 'landscape' (1920x1080)."""
    window_size: tuple[int, int] | None = None
    """Overrides the size the orientation implies (development, tests)."""
    font_path: str | None = None
    """A font with Chinese and Latin glyphs; else LOBBYDESK_FONT, else a system font."""
    idle_seconds: float = 60
    """After this long without a touch the kiosk returns home and forgets input (SECURITY.md 24)."""
    fullscreen: bool = False
    """Fullscreen on the device; windowed for development."""

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.console_url = self.console_url.rstrip("/")
        if self.orientation not in ORIENTATIONS:
            raise ValueError(f"orientation must be one of {', '.join(ORIENTATIONS)}")
        if self.idle_seconds <= 0:
            raise ValueError("idle_seconds must be positive")

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.window_size) if self.window_size else ORIENTATIONS[self.orientation]

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kiosk.db"
