"""Repair step 2: eight large category tiles, each an icon with its name in both languages."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk import icons
from kiosk.actions import Action
from kiosk.screens.flow_base import FlowScreen
from kiosk.screens.repair_widgets import IconTile, bilingual
from kiosk.viewmodels import repair

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class RepairCategoryScreen(FlowScreen):
    chosen = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.tiles: dict[str, IconTile] = {}
        for category in repair.categories():
            tile = IconTile(key=category.key)
            tile.bind(on_release=self._picked)
            self.tiles[category.key] = tile
            self.ids.tiles.add_widget(tile)

    def _picked(self, tile) -> None:

        self.act(Action.REPAIR_PICK_CATEGORY, tile.key)

    def show(self, vm, session, now) -> None:
        language = session.language
        for category in repair.categories():
            tile = self.tiles[category.key]
            tile.icon = icons.glyph(category.icon)
            tile.primary, tile.secondary = bilingual(language, category.zh, category.en)
        self.chosen = session.text("repair.for_unit", unit=vm.unit) if vm.unit else ""
