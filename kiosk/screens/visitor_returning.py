"""A returning visitor: "Welcome back, 张*" — one tap sends "same as last time";
or confirm and pick another unit; no name typed."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.screens.flow_base import both
from kiosk.screens.visitor_base import VisitorScreen
from shared import phones

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class VisitorReturningScreen(VisitorScreen):
    title_text = StringProperty("")
    title_english = StringProperty("")
    detail_text = StringProperty("")
    same_text = StringProperty("")  # "Yes, same as last time: 1201" ("" when not offered)
    yes_text = StringProperty("")

    def show(self, vm, session, now) -> None:
        name = vm.returning_name or ""
        self.title_text, self.title_english = both(session, "visitor.returning.title", name=name)
        # masked (12**): a stranger typing someone's number learns little (visitor_returning.py)
        self.same_text = self._two_lines(session, "visitor.returning.same", unit=vm.last_unit_shown)
        self.same_text = self.same_text if vm.last_unit else ""
        yes_key = "visitor.returning.other_unit" if vm.last_unit else "visitor.returning.yes"
        self.yes_text = self._two_lines(session, yes_key)
        self.detail_text = (
            session.text("visitor.returning.detail", phone=phones.grouped(phones.mask(vm.phone)))
            if vm.phone
            else ""
        )

    @staticmethod
    def _two_lines(session, key: str, **values) -> str:
        primary, english = both(session, key, **values)
        return f"{primary}\n{english}" if english else primary
