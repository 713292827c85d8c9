"""Home (S1): the greeting, the building's notices (S9) and the four tasks as big buttons."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

import kiosk.announcement_carousel  # (AnnouncementCarousel rules)
import kiosk.widgets  # noqa: F401  (TopBar, BigTile rules)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HomeScreen(Screen):
    portrait = BooleanProperty(True)
    has_notices = BooleanProperty(False)

    def show_announcement(self, slide, picture: str = "") -> None:
        """The carousel shows this Slide (None: no notices; the greeting takes the room)."""
        self.ids.carousel.show(slide, picture)
