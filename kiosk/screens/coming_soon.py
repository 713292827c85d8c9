"""Visitor, parcel and repair flows are not built yet: say so, and offer a person."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

import kiosk.widgets  # noqa: F401

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ComingSoonScreen(Screen):
    service_key = StringProperty("home.visitor")
