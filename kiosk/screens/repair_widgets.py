"""Widgets the repair and ticket screens share: icon tiles and bilingual choice cards.

The Font Awesome icon sits in its own Label (the icon font has no letters, the
CJK font no icons); with no icon font the icon is "" and takes no room.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

import kiosk.keypad
import kiosk.widgets  # noqa: F401  (TopBar, StepHeader, PillButton, FieldBox, ErrorLabel)
from kiosk import theme

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def bilingual(language: str, zh: str, en: str) -> tuple[str, str]:
    """(primary, the English line under Chinese or "") for a catalog name."""
    return (en, "") if language == "en" else (zh, en)


class IconTile(ButtonBehavior, BoxLayout):
    """A category: a big icon over its name (中文, English under it)."""

    key = StringProperty("")
    icon = StringProperty("")
    primary = StringProperty("")
    secondary = StringProperty("")
    bg_color = ColorProperty(theme.REPAIR)


class ChoiceCard(ButtonBehavior, BoxLayout):
    """A large bilingual choice: a problem, an urgency, a place, a reason, a rating.

    `filled` paints it in bg_color (white text); `selected` too; otherwise it is
    white with a coloured outline. `tag` is a red label on the right (紧急)."""

    key = StringProperty("")
    icon = StringProperty("")
    primary = StringProperty("")
    secondary = StringProperty("")
    detail = StringProperty("")
    tag = StringProperty("")
    filled = BooleanProperty(False)
    selected = BooleanProperty(False)
    bg_color = ColorProperty(theme.REPAIR)
    primary_size = NumericProperty(46)
