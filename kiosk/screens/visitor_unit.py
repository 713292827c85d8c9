"""Visitor step 4: the host unit, checked with the console when it can be."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.flow_base import text_or_empty
from kiosk.screens.visitor_base import VisitorScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorUnitScreen(VisitorScreen):
    display = StringProperty("")
    error_text = StringProperty("")
    checking = BooleanProperty(False)
    offer_call = BooleanProperty(False)

    def show(self, vm, session, now) -> None:
        self.display = vm.unit_digits
        self.error_text = text_or_empty(session, vm.error_key, **vm.error_values)
        self.checking = vm.unit_checking
        self.offer_call = vm.offer_call
