"""Visitor step 3: the name. No pinyin IME on Kivy, so: pick a surname (search it
by pinyin initials on the A–Z pad) plus 先生/女士 — or type a full name with a
hardware keyboard / system input method, or Latin letters on the pad."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from kiosk.actions import Action
from kiosk.screens.flow_base import text_or_empty
from kiosk.screens.visitor_base import VisitorScreen
from kiosk.viewmodels.visitor import SURNAME_SLOTS
from kiosk.widgets import ChoiceChip

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class SurnameChip(ChoiceChip):
    surname = StringProperty("")
    pinyin = StringProperty("")


class VisitorNameScreen(VisitorScreen):
    mode = StringProperty("picker")
    preview = StringProperty("")
    initials = StringProperty("")
    search_text = StringProperty("")
    error_text = StringProperty("")
    surname = StringProperty("")
    title = StringProperty("")
    full_name = StringProperty("")
    choices = ListProperty([])
    active = BooleanProperty(False)

    def on_kv_post(self, base_widget) -> None:
        self.slots: list[SurnameChip] = []
        for _ in range(SURNAME_SLOTS):
            chip = SurnameChip()
            chip.bind(on_release=self._picked)
            self.slots.append(chip)
            self.ids.surnames.add_widget(chip)

    def _picked(self, chip) -> None:
        if chip.surname:
            self.act(Action.VISITOR_PICK_SURNAME, chip.surname)

    def show(self, vm, session, now) -> None:
        self.mode = vm.name_mode
        self.preview = vm.name_preview
        self.initials = vm.initials
        self.search_text = session.text("visitor.name.search", typed=vm.initials.upper() or "—")
        self.error_text = text_or_empty(session, vm.error_key, **vm.error_values)
        self.surname = vm.surname
        self.title = vm.title
        self.full_name = vm.full_name
        choices = vm.surname_choices if vm.step == "name" else []
        for i, chip in enumerate(self.slots):
            surname, pinyin = choices[i] if i < len(choices) else ("", "")
            chip.surname, chip.pinyin = surname, pinyin
            chip.selected = bool(surname) and surname == vm.surname
        field = self.ids.full_name
        if field.text != vm.full_name:
            self._pushing = True
            try:
                field.text = vm.full_name
            finally:
                self._pushing = False

    def typed(self, text: str) -> None:
        """The TextInput changed (hardware keyboard, input method, on-screen letters)."""
        if not getattr(self, "_pushing", False):
            self.act(Action.VISITOR_SET_FULL_NAME, text, navigate=False)

    def on_pre_leave(self, *args) -> None:
        self.ids.full_name.focus = False
