"""Repair step 4, the last: 一般 Normal or 紧急 Urgent sends the request at once (each
says how soon it will be dealt with); "Add a note or photo" leads to the details."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk import icons
from kiosk.screens import repair_widgets  # noqa: F401  (ChoiceCard)
from kiosk.screens.flow_base import FlowScreen
from kiosk.viewmodels import repair

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def within(session, vm, urgency: str) -> str:
    """ "3 天内处理 · within 3 days" (zh) or "within 3 days" (en)."""
    key, values = vm.expected(urgency)
    text = session.text(key, **values)
    if session.language != "en":
        text = f"{text} · {session.text_in('en', key, **values)}"
    return text


def what(language: str, vm) -> str:
    """ "水管/漏水 · 水龙头漏水" for the chosen problem, in one language."""
    category, problem = vm.category, vm.problem
    if category is None or problem is None:
        return ""
    if language == "en":
        return f"{category.en} · {problem.en}"
    return f"{category.zh} · {problem.zh}"


def summary(session, vm) -> str:
    """ "房号 1201 · 水管/漏水 · 水龙头漏水" for the chosen problem."""
    chosen = what(session.language, vm)
    return session.text("repair.chosen", unit=vm.unit or "—", what=chosen) if chosen else ""


class RepairUrgencyScreen(FlowScreen):
    chosen = StringProperty("")
    normal_detail = StringProperty("")
    urgent_detail = StringProperty("")
    details_icon = StringProperty("")
    normal_icon = StringProperty("")
    urgent_icon = StringProperty("")

    def show(self, vm, session, now) -> None:
        self.chosen = summary(session, vm)
        self.normal_detail = within(session, vm, repair.NORMAL)
        self.urgent_detail = within(session, vm, repair.URGENT)
        self.details_icon = icons.glyph("pencil")
        self.normal_icon = icons.glyph("wrench")
        self.urgent_icon = icons.glyph("clock-o")
