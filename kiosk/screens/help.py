""" "Call reception": shows HelpCallViewModel's state, with the waiting clock."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ColorProperty, StringProperty

from kiosk import theme
from kiosk.screens.flow_base import FlowScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HelpScreen(FlowScreen):
    status_text = StringProperty("")
    status_english = StringProperty("")
    detail_text = StringProperty("")
    elapsed_text = StringProperty("")
    accent = ColorProperty(theme.MUTED)

    def show(self, help_call, session, now) -> None:
        """Copy what the view-model says into the labels (main thread only)."""
        values = help_call.message_values_in(session.language)
        self.status_text = session.text(help_call.message_key, **values)
        self.status_english = (
            session.text_in("en", help_call.message_key, **help_call.message_values_in("en"))
            if session.language != "en"
            else ""
        )
        detail = help_call.detail_key
        self.detail_text = session.text(detail) if detail else ""
        self.elapsed_text = (
            session.text("help.elapsed", seconds=help_call.elapsed_seconds(now))
            if help_call.shows_elapsed
            else ""
        )
        self.accent = theme.STATE_COLOURS.get(help_call.state, theme.MUTED)
