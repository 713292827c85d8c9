"""Checking a repair ticket: scan its QR (USB keyboard-wedge scanner into a focused
TextInput, as the parcel pickup does) or type the ticket number and the unit."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk import icons
from kiosk.actions import Action
from kiosk.screens import repair_widgets  # noqa: F401
from kiosk.screens.flow_base import ScanningScreen, text_or_empty
from kiosk.viewmodels import ticket_status as ts

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class TicketStatusScreen(ScanningScreen):
    SCAN_ACTION = Action.TICKET_STATUS_SCANNED

    number_display = StringProperty("")
    unit_display = StringProperty("")
    field = StringProperty(ts.NUMBER)
    error_text = StringProperty("")
    looking = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    qr_icon = StringProperty("")

    def show(self, vm, session, now) -> None:
        self.number_display = vm.number_display
        self.unit_display = vm.unit_display
        self.field = vm.field
        self.looking = vm.state == ts.LOOKING
        self.error_text = text_or_empty(session, vm.error_key)
        if self.error_text and session.language != "en":
            self.error_text += "\n" + session.text_in("en", vm.error_key)
        self.offer_call = vm.offer_call
        self.qr_icon = icons.glyph("qrcode")
        self.focus_scanner(vm.state == ts.ENTRY)

    def scan_ready(self) -> bool:
        return not self.looking
