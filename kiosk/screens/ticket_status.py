"""Checking a repair ticket: scan its QR (USB keyboard-wedge scanner into a focused
TextInput, as the parcel pickup does) or type the ticket number and the unit."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk import icons
from kiosk.screens import repair_widgets  # noqa: F401
from kiosk.screens.visitor_base import VisitorScreen, text_or_empty
from kiosk.viewmodels import ticket_status as ts

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class TicketStatusScreen(VisitorScreen):
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
        self.ids.scan.focus = (
            vm.state == ts.ENTRY and self.manager is not None and self.manager.current == self.name
        )

    def on_enter(self, *args) -> None:
        # After the switch: the scanner types into this field from the first character.
        Clock.schedule_once(lambda _dt: setattr(self.ids.scan, "focus", not self.looking), 0)

    def on_pre_leave(self, *args) -> None:
        self.ids.scan.focus = False

    def scanned(self, field) -> None:
        text, field.text = field.text, ""
        App.get_running_app().ticket_action("scanned", text)
