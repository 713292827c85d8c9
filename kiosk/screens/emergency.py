"""The emergency broadcast (S8): full-screen, over every screen, until staff end it.

Not a Screen in the ScreenManager: nothing a flow or the idle timer does to the
screens can uncover it. It is added to the Window above the app's root and
swallows every touch; the app resets the flows when it opens and closes it.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

import kiosk.widgets  # noqa: F401  (WrapLabel: Chinese line breaking)
from shared import i18n, terms

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

# (Chinese characters + half the English ones, type scale): the longest instructions
# the console accepts (500 + 500) still fit a portrait screen.
TEXT_SCALES = ((250, 1.0), (450, 0.8), (650, 0.66), (float("inf"), 0.55))


class EmergencyOverlay(BoxLayout):
    title_zh = StringProperty("")
    title_en = StringProperty("")
    instructions_zh = StringProperty("")
    instructions_en = StringProperty("")
    paused_text = StringProperty("")
    text_scale = NumericProperty(1.0)  # long instructions (up to 500 + 500) get smaller type

    def show(self, emergency: dict) -> None:
        """Copy the view-model's emergency in: Chinese and English together, always."""
        self.title_zh = terms.term("emergency_kind", emergency["kind"], "zh_CN")
        self.title_en = terms.term("emergency_kind", emergency["kind"], "en")
        self.instructions_zh = emergency["instructions_zh"]
        self.instructions_en = emergency["instructions_en"]
        weight = len(self.instructions_zh) + len(self.instructions_en) / 2
        self.text_scale = next(scale for most, scale in TEXT_SCALES if weight <= most)
        self.paused_text = (
            i18n.text("kiosk", "broadcast.paused", "zh_CN")
            + "\n"
            + i18n.text("kiosk", "broadcast.paused", "en")
        )

    @property
    def is_open(self) -> bool:
        return self.parent is not None

    def open(self) -> None:
        from kivy.core.window import Window

        if self.parent is None:
            Window.add_widget(self)  # last added: drawn on top, first to get touches

    def dismiss(self) -> None:
        if self.parent is not None:
            self.parent.remove_widget(self)

    # Nothing underneath may be used while the emergency is on.
    def on_touch_down(self, touch) -> bool:
        return True

    def on_touch_move(self, touch) -> bool:
        return True

    def on_touch_up(self, touch) -> bool:
        return True
