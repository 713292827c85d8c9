"""The last 10 s before the idle reset: a bar over every screen with the seconds left
and "还需要时间 · More time" (kiosk/viewmodels/idle.py decides when it shows)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

import kiosk.widgets  # noqa: F401  (PillButton rules)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class IdleCountdown(BoxLayout):
    message = StringProperty("")

    def show(self, window, seconds: int | None, text) -> None:
        """Put the bar on the window with `text(key, **values)`'s message, or take it off."""
        if seconds is None:
            if self.parent is not None:
                self.parent.remove_widget(self)
            return
        self.message = text("idle.countdown", n=seconds)
        if self.parent is None:
            window.add_widget(self)
