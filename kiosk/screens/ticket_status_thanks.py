"""After a rating: thank you (sent, or saved until the kiosk is back online), or
why it was not accepted and what to do next."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, StringProperty

from kiosk import icons, theme
from kiosk.screens import repair_widgets  # noqa: F401
from kiosk.screens.flow_base import FlowScreen, both
from kiosk.viewmodels import ticket_status as ts

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class TicketStatusThanksScreen(FlowScreen):
    status_text = StringProperty("")
    status_english = StringProperty("")
    detail_text = StringProperty("")
    stars_text = StringProperty("")
    icon = StringProperty("")
    offer_call = BooleanProperty(False)
    accent = ColorProperty(theme.AMBER)

    def show(self, vm, session, now) -> None:
        title, detail = vm.outcome_keys()
        self.status_text, self.status_english = both(session, title)
        primary, english = both(session, detail)
        self.detail_text = f"{primary}\n{english}" if english else primary
        failed = vm.state == ts.FAILED
        self.offer_call = failed
        self.accent = {ts.THANKS: theme.GREEN, ts.FAILED: theme.RED}.get(vm.state, theme.AMBER)
        star = icons.glyph("star")
        self.stars_text = star * vm.rating if (vm.rating and star and not failed) else ""
        self.icon = icons.glyph("check-circle") if vm.state == ts.THANKS else ""
