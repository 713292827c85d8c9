"""The home screen's announcement carousel: one notice at a time, both languages.

It only displays: kiosk/viewmodels/broadcast.py decides which notice and when
to move on; the app copies a Slide in with `show()`.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

import kiosk.widgets  # noqa: F401  (WrapLabel)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class AnnouncementCarousel(BoxLayout):
    shown = BooleanProperty(False)
    title_zh = StringProperty("")
    title_en = StringProperty("")
    body_zh = StringProperty("")
    body_en = StringProperty("")
    image_source = StringProperty("")
    position_text = StringProperty("")
    compact = BooleanProperty(False)  # landscape: less height, fewer lines

    def on_touch_down(self, touch):
        """A touch on the notice holds it (someone is reading): the carousel waits."""
        if self.shown and self.collide_point(*touch.pos):
            from kivy.app import App

            broadcast = getattr(App.get_running_app(), "broadcast", None)
            if broadcast is not None:
                broadcast.pause()
        return super().on_touch_down(touch)

    def show(self, slide, picture: str = "") -> None:
        """Copy a view-model Slide (or None: nothing to show) into the widget."""
        if slide is None:
            self.shown = False
            self.title_zh = self.title_en = self.body_zh = self.body_en = ""
            self.image_source = self.position_text = ""
            return
        self.title_zh, self.title_en = slide.title_zh, slide.title_en
        self.body_zh, self.body_en = slide.body_zh, slide.body_en
        self.image_source = picture
        self.position_text = f"{slide.position} / {slide.count}" if slide.count > 1 else ""
        self.shown = True

    @staticmethod
    def clip(text: str, font_px: float, width: float, lines: int) -> str:
        """Cut what will not fit in `lines` lines, with an ellipsis (Kivy's max_lines
        cuts without one, and its `shorten` is for one line only). Estimated from the
        width: a Chinese character is about one em wide, a Latin letter about half."""
        if not text or width <= 0 or font_px <= 0:
            return text
        ems = sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in text) / len(text)
        budget = int(width / (font_px * ems) * lines * 0.85)
        if len(text) <= budget:
            return text
        cut = text[: max(1, budget - 1)]
        if ems < 0.8 and " " in cut:  # mostly Latin: end at a word
            cut = cut[: cut.rfind(" ")]
        return cut.rstrip(" ,.;:，。；：、—-") + "…"

    @staticmethod
    def primary(language: str, zh: str, en: str) -> str:
        return en if language == "en" else zh

    @staticmethod
    def secondary(language: str, title_en: str, body_en: str) -> str:
        """The English under the Chinese; nothing when English is the kiosk's language."""
        if language == "en":
            return ""
        return f"{title_en} — {body_en}" if body_en else title_en
