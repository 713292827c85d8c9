"""Visitor step 1: a one-line privacy notice, then the mobile number on a big keypad,
masked once entered."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.flow_base import text_or_empty
from kiosk.screens.visitor_base import VisitorScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorPhoneScreen(VisitorScreen):
    display = StringProperty("")
    error_text = StringProperty("")
    checking = BooleanProperty(False)
    required = BooleanProperty(False)
    days = NumericProperty(90)

    def show(self, vm, session, now) -> None:
        self.display = vm.phone_display
        self.error_text = text_or_empty(session, vm.error_key, **vm.error_values)
        self.checking = vm.lookup_pending
        self.required = vm.phone_required
        self.days = vm.retention_days
