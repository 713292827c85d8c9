"""Visitor step 5: purpose chips, party size − / +, and submit."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.screens.flow_base import text_or_empty
from kiosk.screens.visitor_base import VisitorScreen
from shared import phones

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorPurposeScreen(VisitorScreen):
    purpose = StringProperty("visit")
    party_size = NumericProperty(1)
    summary = StringProperty("")
    unit_note = StringProperty("")

    def show(self, vm, session, now) -> None:
        self.purpose = vm.purpose
        self.party_size = vm.party_size
        self.unit_note = text_or_empty(session, vm.unit_note_key)
        if vm.step == "purpose":
            name = vm.returning_name if vm.returning else vm.name
            if vm.phone:  # a skipped phone is left out, not shown as "mobile none"
                self.summary = session.text(
                    "visitor.summary",
                    name=name or "",
                    phone=phones.grouped(phones.mask(vm.phone)),
                    unit=vm.unit or "",
                )
            else:
                self.summary = session.text(
                    "visitor.summary.no_phone", name=name or "", unit=vm.unit or ""
                )
        else:
            self.summary = ""
