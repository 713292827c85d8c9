"""Parcel pickup: scan the QR from the notification e-mail (USB keyboard-wedge
scanner into a focused TextInput), or type the unit and the 6-digit code on the
keypad; then the parcels and where to collect them, or what to do next."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty

from kiosk import theme
from kiosk.actions import Action
from kiosk.screens.flow_base import ScanningScreen, both, text_or_empty
from kiosk.viewmodels import parcel as pv

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ACCENTS = {pv.COLLECT: theme.GREEN, pv.FAILED: theme.RED, pv.OFFLINE: theme.AMBER}


class ParcelPickupScreen(ScanningScreen):
    SCAN_ACTION = Action.PARCEL_SCANNED

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
        self.focus_scanner(vm.state == pv.ENTRY)

    def scan_ready(self) -> bool:
        return not self.finished
