"""Home (S1): the greeting and the four tasks as big buttons."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

import kiosk.widgets  # noqa: F401  (TopBar, BigTile rules)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HomeScreen(Screen):
    pass
