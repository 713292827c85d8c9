"""Repair step 3: the category's common problems as large bilingual chips; an
emergency problem is red and labelled 紧急 (tapping it alerts reception at once)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk import icons, theme
from kiosk.actions import Action
from kiosk.screens.flow_base import FlowScreen
from kiosk.screens.repair_widgets import ChoiceCard, bilingual
from shared import terms

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class RepairProblemScreen(FlowScreen):
    chosen = StringProperty("")
    category_icon = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.chips: dict[str, ChoiceCard] = {}
        self._shown: tuple | None = None

    def _picked(self, chip) -> None:
        from kivy.app import App

        app = App.get_running_app()
        app.act(Action.REPAIR_PICK_PROBLEM, chip.key, app.language)

    def show(self, vm, session, now) -> None:
        language = session.language
        category = vm.category
        if category is None:
            self.chosen, self.category_icon = "", ""
        else:
            name = category.en if language == "en" else category.zh
            unit = session.text("repair.for_unit", unit=vm.unit) if vm.unit else ""
            self.chosen = f"{unit} · {name}" if unit else name
            self.category_icon = icons.glyph(category.icon)
        shown = (category.key if category else None, language)
        if shown == self._shown:
            return
        self._shown = shown
        grid = self.ids.chips
        grid.clear_widgets()
        self.chips = {}
        # the urgency such a problem gets, in the catalogue's word (危急, as on the tickets)
        tag = terms.term("urgency", "emergency", language)
        if language != "en":
            tag = f"{tag} {terms.term('urgency', 'emergency', 'en')}"
        for problem in vm.problems():
            primary, secondary = bilingual(language, problem.zh, problem.en)
            chip = ChoiceCard(
                key=problem.key,
                primary=primary,
                secondary=secondary,
                icon=icons.glyph("warning") if problem.emergency else "",
                tag=tag if problem.emergency else "",
                filled=problem.emergency,
                bg_color=theme.RED if problem.emergency else theme.REPAIR,
            )
            chip.bind(on_release=self._picked)
            self.chips[problem.key] = chip
            grid.add_widget(chip)
