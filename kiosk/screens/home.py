"""Home (S1): the greeting, the building's notices (S9) and the four tasks as big buttons.
An invited visitor scans their pass here: a USB keyboard-wedge scanner types into the
focused, hidden field and presses Enter (kiosk/viewmodels/invitation.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
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

    def on_enter(self, *args) -> None:
        # After the switch: the scanner types into this field from the first character.
        Clock.schedule_once(lambda _dt: setattr(self.ids.scan, "focus", True), 0)

    def on_pre_leave(self, *args) -> None:
        self.ids.scan.focus = False

    def scanned(self, field) -> None:
        text, field.text = field.text, ""
        if text.strip():
            App.get_running_app().invite_scanned(text)
