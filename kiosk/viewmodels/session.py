"""The kiosk session: language and idle time, for whoever stands at the screen."""

from __future__ import annotations

from datetime import datetime

from shared import i18n
from shared.clock import SystemClock

SURFACE = "kiosk"


class KioskSession:
    def __init__(self, clock=None, idle_seconds: float = 60):
        self.clock = clock or SystemClock()
        self.idle_seconds = idle_seconds
        self.language = i18n.DEFAULT_LANGUAGE
        self.last_touch: datetime = self.clock.now()

    # -- language (S14: zh_CN by default, English on every screen) ----------
    def text(self, key: str, **values) -> str:
        return i18n.text(SURFACE, key, self.language, **values)

    def text_in(self, language: str, key: str, **values) -> str:
        return i18n.text(SURFACE, key, language, **values)

    def set_language(self, language: str) -> None:
        if language not in i18n.LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        self.language = language

    def toggle_language(self) -> str:
        self.language = i18n.other_language(self.language)
        return self.language

    # -- idle (SECURITY.md 24: clear after <= 60 s without a touch) -----------
    def touched(self, now: datetime | None = None) -> None:
        self.last_touch = now or self.clock.now()

    def idle_for(self, now: datetime | None = None) -> float:
        return ((now or self.clock.now()) - self.last_touch).total_seconds()

    def is_idle(self, now: datetime | None = None) -> bool:
        return self.idle_for(now) >= self.idle_seconds

    def reset(self, now: datetime | None = None) -> None:
        """The next person starts fresh: default language, idle clock restarted."""
        self.language = i18n.DEFAULT_LANGUAGE
        self.touched(now)
