"""Repair step 1: the unit on the keypad (checked with the console when it can be),
and the way to an existing ticket's progress and rating."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk import icons
from kiosk.screens import repair_widgets  # noqa: F401  (ChoiceCard)
from kiosk.screens.flow_base import FlowScreen, text_or_empty

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class RepairUnitScreen(FlowScreen):
    display = StringProperty("")
    error_text = StringProperty("")
    checking = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    search_icon = StringProperty("")

    def show(self, vm, session, now) -> None:
        self.display = vm.unit_digits
        self.error_text = text_or_empty(session, vm.error_key, **vm.error_values)
        self.checking = vm.unit_checking
        self.offer_call = vm.offer_call
        self.search_icon = icons.glyph("search")
