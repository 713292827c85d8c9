"""Widgets every kiosk screen shares: the top bar and the big touch buttons."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class TopBar(BoxLayout):
    """Building name, online state and the 中文/English switch (on every screen)."""


class BigTile(ButtonBehavior, BoxLayout):
    """A large tile: primary text, a smaller English line under Chinese."""

    primary = StringProperty("")
    secondary = StringProperty("")
    bg_color = ColorProperty("#1F5FAD")
    primary_size = NumericProperty(64)


class PillButton(ButtonBehavior, Label):
    """A rounded, high-contrast text button (touch target >= 96 px)."""

    bg_color = ColorProperty("#1F5FAD")
    fg_color = ColorProperty("#FFFFFF")


class StepHeader(BoxLayout):
    """A step's title, the English line under Chinese, and "step 2 of 5"."""

    title = StringProperty("")
    subtitle = StringProperty("")
    step_text = StringProperty("")


class FieldBox(Label):
    """A large read-only field showing what the keypad typed (or a placeholder)."""

    placeholder = StringProperty("")


class ErrorLabel(Label):
    """A message in red that says what to do next; takes no room when empty."""


class ChoiceChip(PillButton):
    """One of several choices (purpose, 先生/女士, a surname); `selected` fills it."""

    selected = BooleanProperty(False)
