"""Repair, optional details: where it is (taps), a typed note (a hardware keyboard or
a system input method, where there is one), the urgency, and its own submit.

Photos: this kiosk build has no camera support, so the screen says to bring
photos to the desk; no camera button is shown."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import StringProperty

from kiosk import icons
from kiosk.actions import Action
from kiosk.screens.flow_base import FlowScreen
from kiosk.screens.repair_urgency import summary, within
from kiosk.screens.repair_widgets import ChoiceCard, bilingual
from kiosk.viewmodels import repair

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class RepairDetailsScreen(FlowScreen):
    chosen = StringProperty("")
    urgency = StringProperty(repair.NORMAL)
    normal_detail = StringProperty("")
    urgent_detail = StringProperty("")
    photo_icon = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.places: dict[str, ChoiceCard] = {}
        for key, _zh, _en in repair.PLACES:
            # narrow padding: three to a row in the landscape left pane as well
            chip = ChoiceCard(key=key, primary_size=40, padding=(dp(16), dp(8)), spacing=0)
            chip.bind(on_release=self._toggled)
            self.places[key] = chip
            self.ids.places.add_widget(chip)

    def _toggled(self, chip) -> None:
        self.act(Action.REPAIR_TOGGLE_PLACE, chip.key)

    def show(self, vm, session, now) -> None:
        self.chosen = summary(session, vm)
        self.urgency = vm.urgency
        self.normal_detail = within(session, vm, repair.NORMAL)
        self.urgent_detail = within(session, vm, repair.URGENT)
        self.photo_icon = icons.glyph("camera")
        for key, zh, en in repair.PLACES:
            chip = self.places[key]
            chip.primary, chip.secondary = bilingual(session.language, zh, en)
            chip.selected = key in vm.places
        field = self.ids.note
        if field.text != vm.note:
            self._pushing = True
            try:
                field.text = vm.note
            finally:
                self._pushing = False

    def typed(self, text: str) -> None:
        if not getattr(self, "_pushing", False):
            self.act(Action.REPAIR_SET_NOTE, text, navigate=False)

    def on_pre_leave(self, *args) -> None:
        self.ids.note.focus = False
