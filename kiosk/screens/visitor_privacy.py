"""Visitor step 1: who collects what, why, and for how long (SECURITY.md 22, 23)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty

from kiosk.screens.visitor_base import VisitorScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorPrivacyScreen(VisitorScreen):
    days = NumericProperty(90)

    def show(self, vm, session, now) -> None:
        self.days = vm.retention_days
