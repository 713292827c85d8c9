"""A resident asks for their page's link again: unit and the last 4 digits of their
mobile, then the console's neutral answer (kiosk/viewmodels/resident_link.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, StringProperty

import kiosk.screens.parcel_pickup  # noqa: F401  (the ParcelField rule)
from kiosk import theme
from kiosk.screens.flow_base import FlowScreen, both, text_or_empty
from kiosk.viewmodels import resident_link as rl

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ACCENTS = {rl.DONE: theme.GREEN, rl.SENT: theme.GREEN, rl.FAILED: theme.RED}


class ResidentLinkScreen(FlowScreen):
    unit_display = StringProperty("")
    phone_display = StringProperty("")
    field = StringProperty(rl.UNIT)
    error_text = StringProperty("")
    finished = BooleanProperty(False)
    offer_call = BooleanProperty(False)
    status_text = StringProperty("")
    status_english = StringProperty("")
    detail_text = StringProperty("")
    accent = ColorProperty(theme.MUTED)

    def show(self, vm, session, now) -> None:
        self.unit_display = vm.entry.digits[rl.UNIT]
        self.phone_display = vm.entry.digits[rl.PHONE]
        self.field = vm.entry.field
        self.finished = vm.finished
        if self.finished:
            self.error_text = ""
            self.status_text, self.status_english = both(session, vm.message_key)
        else:
            self.error_text = text_or_empty(session, vm.message_key)
            self.status_text = self.status_english = ""
        done = vm.state in (rl.SENT, rl.DONE)
        self.detail_text = text_or_empty(session, "rlink.done_detail" if done else None)
        self.offer_call = vm.state == rl.FAILED
        self.accent = ACCENTS.get(vm.state, theme.AMBER)
