"""Signing out: scan the pass (USB keyboard-wedge scanner into a focused TextInput),
or type the phone number on the keypad. A camera, where one exists, would feed
decoded text to the same `app.act(Action.SIGN_OUT_SCANNED, text)` (kiosk/pass_reader.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, StringProperty

from kiosk import theme
from kiosk.actions import Action
from kiosk.screens.flow_base import ScanningScreen, both, text_or_empty
from kiosk.viewmodels import sign_out as so

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorSignOutScreen(ScanningScreen):
    SCAN_ACTION = Action.SIGN_OUT_SCANNED

    display = StringProperty("")
    error_text = StringProperty("")
    finished = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    failed = BooleanProperty(False)
    status_text = StringProperty("")
    status_english = StringProperty("")
    detail_text = StringProperty("")
    accent = ColorProperty(theme.MUTED)

    def show(self, vm, session, now) -> None:
        self.display = vm.phone_display
        self.finished = vm.finished or vm.state == so.SAVING
        if self.finished:
            self.error_text = ""
            self.status_text, self.status_english = both(
                session, vm.message_key, **vm.message_values
            )
            self.detail_text = text_or_empty(session, vm.detail_key)
        else:
            self.error_text = text_or_empty(session, vm.message_key)
            self.status_text = self.status_english = self.detail_text = ""
        self.offer_call = self.failed = vm.state == so.FAILED
        self.accent = {so.DONE: theme.GREEN, so.FAILED: theme.RED}.get(vm.state, theme.AMBER)
        self.focus_scanner(vm.state == so.ENTRY)

    def scan_ready(self) -> bool:
        return not self.finished
