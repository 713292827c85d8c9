"""Parcel pickup: scan the QR from the notification e-mail (USB keyboard-wedge
scanner into a focused TextInput), or type the unit and the 6-digit code on the
keypad; then the parcels and where to collect them, or what to do next."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty

from kiosk import theme
from kiosk.screens.visitor_base import VisitorScreen, both, text_or_empty
from kiosk.viewmodels import parcel as pv

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ACCENTS = {pv.COLLECT: theme.GREEN, pv.FAILED: theme.RED, pv.OFFLINE: theme.AMBER}


class ParcelPickupScreen(VisitorScreen):
    unit_display = StringProperty("")
    code_display = StringProperty("")
    code_count = NumericProperty(0)
    field = StringProperty(pv.UNIT)
    error_text = StringProperty("")
    finished = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    status_text = StringProperty("")
    status_english = StringProperty("")
    detail_text = StringProperty("")
    parcels_text = StringProperty("")
    accent = ColorProperty(theme.MUTED)

    def show(self, vm, session, now) -> None:
        self.unit_display = vm.unit_display
        self.code_display = vm.code_display
        self.code_count = vm.code_count
        self.field = vm.field
        self.finished = vm.finished or vm.busy
        self.error_text = text_or_empty(session, vm.error_key, **vm.error_values)
        title, detail = vm.result_keys()
        values = {"n": len(vm.parcels)} if vm.state == pv.COLLECT else {}
        self.status_text, self.status_english = both(session, title, **values)
        if vm.state == pv.COLLECT:
            # The count is in the title; the console's own sentence repeats it, so only ours.
            detail_text = session.text(detail, shelves=vm.shelves)
            if session.language != "en":  # Kivy wraps at spaces only: "找到 1\n件" otherwise
                detail_text = detail_text.replace(" ", "\u00a0")
            self.detail_text = detail_text
            self.parcels_text = "\n".join(
                session.text(
                    "parcel.item",
                    carrier=p["carrier"],
                    shelf=p["shelf"] or "—",
                    tail=p["tracking_tail"],
                )
                for p in vm.parcels
            )
        else:
            self.detail_text = text_or_empty(session, detail)
            self.parcels_text = ""
        self.offer_call = vm.offer_call
        self.accent = ACCENTS.get(vm.state, theme.AMBER)
        self.ids.scan.focus = (
            vm.state == pv.ENTRY and self.manager is not None and self.manager.current == self.name
        )

    def on_enter(self, *args) -> None:
        # After the switch: the scanner types into this field from the first character.
        Clock.schedule_once(lambda _dt: setattr(self.ids.scan, "focus", not self.finished), 0)

    def on_pre_leave(self, *args) -> None:
        self.ids.scan.focus = False

    def scanned(self, field) -> None:
        text, field.text = field.text, ""
        App.get_running_app().parcel_action("scanned", text)
