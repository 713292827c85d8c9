"""Repair submitted: "saved, it will be sent" until the console acknowledges the
ticket, then its number (large), its QR to photograph, and the expected time."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, ObjectProperty, StringProperty

from kiosk import icons, qr, theme
from kiosk.screens.flow_base import FlowScreen, both, text_or_empty
from kiosk.screens.repair_urgency import what
from kiosk.viewmodels import repair

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ACCENTS = {repair.SENT: theme.GREEN, repair.FAILED: theme.RED}


class RepairDoneScreen(FlowScreen):
    status_text = StringProperty("")
    status_english = StringProperty("")
    status_icon = StringProperty("")
    chosen = StringProperty("")
    number_caption = StringProperty("")
    number = StringProperty("")
    expected_text = StringProperty("")
    detail_text = StringProperty("")
    sent = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    accent = ColorProperty(theme.AMBER)
    qr_texture = ObjectProperty(None, allownone=True)

    def show(self, vm, session, now) -> None:
        if vm.step != repair.DONE:
            self.status_text = self.status_english = self.status_icon = ""
            self.chosen = self.number_caption = self.number = ""
            self.expected_text = self.detail_text = ""
            self.sent = self.offer_call = False
            self._token, self.qr_texture = None, None
            return
        self.status_text, self.status_english = both(session, vm.outcome_key())
        self.detail_text = text_or_empty(session, vm.outcome_detail_key())
        if session.language != "en" and vm.outcome_detail_key():
            self.detail_text += "\n" + session.text_in("en", vm.outcome_detail_key())
        self.sent = vm.state == repair.SENT
        self.offer_call = vm.failed
        self.accent = ACCENTS.get(vm.state, theme.AMBER)
        self.status_icon = icons.glyph("check-circle") if self.sent else ""
        self.chosen = what(session.language, vm)
        self.number_caption = session.text("repair.done.number") if vm.number else ""
        if vm.number and session.language != "en":
            self.number_caption += " · " + session.text_in("en", "repair.done.number")
        self.number = vm.number
        if vm.failed:
            self.expected_text = ""
        else:
            key, values = vm.expected(None if vm.expected_minutes else vm.urgency)
            when = session.text(key, **values)
            self.expected_text = session.text("repair.done.expected", when=when)
            if session.language != "en":
                when_en = session.text_in("en", key, **values)
                self.expected_text += " · " + session.text_in(
                    "en", "repair.done.expected", when=when_en
                )
        token = vm.qr if self.sent else None
        if token != getattr(self, "_token", None):
            self._token = token
            self.qr_texture = qr.pass_texture(token) if token else None
