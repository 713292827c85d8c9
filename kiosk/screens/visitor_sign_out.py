"""Signing out: scan the pass (USB keyboard-wedge scanner into a focused TextInput),
or type the phone number on the keypad. A camera, where one exists, would feed
decoded text to the same `app.sign_out_action("scanned", text)` (kiosk/pass_reader.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, StringProperty

from kiosk import theme
from kiosk.screens.visitor_base import VisitorScreen, both, text_or_empty
from kiosk.viewmodels import sign_out as so

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorSignOutScreen(VisitorScreen):
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
        self.ids.scan.focus = (
            vm.state == so.ENTRY
            and self.manager is not None
            and (self.manager.current == self.name)
        )

    def on_enter(self, *args) -> None:
        # After the switch: the scanner types into this field from the first character.
        Clock.schedule_once(lambda _dt: setattr(self.ids.scan, "focus", not self.finished), 0)

    def on_pre_leave(self, *args) -> None:
        self.ids.scan.focus = False

    def scanned(self, field) -> None:
        text, field.text = field.text, ""
        from kivy.app import App

        App.get_running_app().sign_out_action("scanned", text)
