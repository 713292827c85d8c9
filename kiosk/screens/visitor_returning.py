"""A returning visitor: "Welcome back, 张*?" — one tap confirms, no name typed."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.screens.visitor_base import VisitorScreen, both
from shared import phones

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorReturningScreen(VisitorScreen):
    title_text = StringProperty("")
    title_english = StringProperty("")
    detail_text = StringProperty("")

    def show(self, vm, session, now) -> None:
        name = vm.returning_name or ""
        self.title_text, self.title_english = both(session, "visitor.returning.title", name=name)
        self.detail_text = (
            session.text("visitor.returning.detail", phone=phones.grouped(phones.mask(vm.phone)))
            if vm.phone
            else ""
        )
