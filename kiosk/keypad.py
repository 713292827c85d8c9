"""On-screen keypads: digits (phone, unit) and A–Z letters (surname search, Latin names).

Each dispatches `on_key(key)` with "0"–"9", "+", a lowercase letter, "space",
"back" or "clear"; the screen hands the key to its view-model. Keys are at
least 120 px tall on the numeric pad (gloved, hurried or older hands).
"""

from __future__ import annotations

from pathlib import Path
from string import ascii_uppercase

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LABELS = {"back": "←", "clear": "✕", "space": "空格 Space", "+": "+"}  # glyphs the CJK font has


class KeypadKey(ButtonBehavior, Label):
    key = StringProperty("")


class _Pad(GridLayout):
    key_height = NumericProperty(120)
    __events__ = ("on_key",)

    def _layout(self) -> list[str]:
        """The keys in reading order; each pad below says which."""
        return []

    def on_kv_post(self, base_widget) -> None:
        self.keys: dict[str, KeypadKey] = {}
        for key in self._layout():
            widget = KeypadKey(key=key, text=LABELS.get(key, key.upper()))
            widget.bind(on_release=lambda w: self.dispatch("on_key", w.key))
            self.keys[key] = widget
            self.add_widget(widget)

    def relabel(self) -> None:
        """A configurable key changed (kv may set it after the keys were made)."""
        if not hasattr(self, "keys"):
            return
        widgets = list(reversed(self.children))  # GridLayout keeps children last-first
        self.keys = {}
        for widget, key in zip(widgets, self._layout(), strict=True):
            widget.key, widget.text = key, LABELS.get(key, key.upper())
            self.keys[key] = widget

    def on_key(self, key: str) -> None:
        pass


class NumericKeypad(_Pad):
    """1–9, then [left key] 0 ⌫. The left key is "clear" (unit) or "+" (phone)."""

    left_key = StringProperty("clear")

    def on_left_key(self, *_args) -> None:
        self.relabel()

    def _layout(self) -> list[str]:
        return [*"123456789", self.left_key, "0", "back"]


class LetterPad(_Pad):
    """A–Z in order (easier than QWERTY for people who do not type), then ⌫ and
    "space" (Latin names) or "clear" (surname search)."""

    last_key = StringProperty("clear")

    def on_last_key(self, *_args) -> None:
        self.relabel()

    def _layout(self) -> list[str]:
        return [*ascii_uppercase.lower(), self.last_key, "back"]
