"""Widgets every kiosk screen shares: the top bar, the bottom bar (NavBar), the two
panes (portrait: stacked; landscape: side by side), labels that wrap Chinese by
the usual rules, and the big touch buttons."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from shared import text_wrap


class WrapLabel(Label):
    """A Label whose lines break by the Chinese rules (no line starting with 。or ，):
    the text is pre-wrapped with shared.text_wrap at the label's width, measured in
    its own font. `text` stays what the screen set; only the drawn lines change.
    Every kiosk label that wraps (text_size with a width) is one of these."""

    def texture_update(self, *largs):
        core = self._label
        width = self.text_size[0]
        if width and self.text and not self.markup:
            room = width - self.padding[0] - self.padding[2] - 1  # 1 px: rounding
            lines = text_wrap.wrap(self.text, room, lambda s: core.get_extents(s)[0])
            core.text = "\n".join(lines)
        super().texture_update(*largs)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class TopBar(BoxLayout):
    """Building name, online state and the 中文/English switch (on every screen)."""


class BigTile(ButtonBehavior, BoxLayout):
    """A large tile: primary text, a smaller English line under Chinese."""

    primary = StringProperty("")
    secondary = StringProperty("")
    bg_color = ColorProperty("#1F5FAD")
    primary_size = NumericProperty(64)
    secondary_size = NumericProperty(34)


class PillButton(ButtonBehavior, WrapLabel):
    """A rounded, high-contrast text button (touch target >= 96 px)."""

    bg_color = ColorProperty("#1F5FAD")
    fg_color = ColorProperty("#FFFFFF")


class StepHeader(BoxLayout):
    """A step's title, the English line under Chinese, and "step 2 of 5"."""

    title = StringProperty("")
    subtitle = StringProperty("")
    step_text = StringProperty("")


class FieldBox(Label):  # one line, never wrapped
    """A large read-only field showing what the keypad typed (or a placeholder)."""

    placeholder = StringProperty("")


class ErrorLabel(WrapLabel):
    """A message in red that says what to do next, in a slot of fixed height that
    is there when empty too: an error never moves the keypad under a finger."""


class TwoPane(BoxLayout):
    """The body of a step: portrait, the prompt above the keys; landscape, the prompt
    (a PromptColumn) on the left and the keys or choices on the right."""

    portrait = BooleanProperty(True)


class NavBar(BoxLayout):
    """The bottom bar of every screen with one: Back (a BackButton) bottom-left, one
    size everywhere; the other buttons fill the rest, the primary one last (right)."""


class ChoiceChip(PillButton):
    """One of several choices (purpose, 先生/女士, a surname); `selected` fills it."""

    selected = BooleanProperty(False)


class BackButton(PillButton):
    """Back: always the first button of the NavBar, the same size on every screen."""
