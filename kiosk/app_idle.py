"""The calm idle reset on the window: the countdown bar with "More time" in the last
10 s (kiosk/viewmodels/idle.py decides when; kiosk/screens/idle_countdown.py draws
it above the NavBar). A mixin of LobbyKioskApp (kiosk/app.py)."""

from __future__ import annotations

from kiosk.screen_names import HOME
from shared import i18n


class IdleDesk:
    def more_time(self) -> None:
        """ "还需要时间 · More time" on the countdown bar: a full idle period again."""
        self.idle.more_time(self.clock.now())
        self.show_countdown(None)

    def show_countdown(self, seconds: int | None) -> None:
        if self.countdown is None or self.root is None:
            return
        from kivy.core.window import Window

        def both(key, **values):
            zh = self.t(key, self.language, **values)
            return zh if self.language == "en" else f"{zh} · {self.t(key, 'en', **values)}"

        self.countdown.show(Window, seconds, both)

    def _has_something_to_forget(self) -> bool:
        return (
            self.root.current != HOME
            or self.language != i18n.DEFAULT_LANGUAGE
            or not all(flow.is_reset for flow in self.flows)
        )
