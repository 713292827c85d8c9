"""What every flow's screen shares: `show()` copies a view-model into properties, and
`act()` sends the screen's own actions (kiosk/actions.py) to the app. Screens a scanner
types into (a USB keyboard wedge, or a camera through kiosk/pass_reader.py) are
`ScanningScreen`s."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.uix.screenmanager import Screen

import kiosk.keypad  # (NumericKeypad, LetterPad rules)
import kiosk.widgets  # noqa: F401  (TopBar, StepHeader, PillButton … rules)
from kiosk.actions import Action


def both(session, key: str | None, **values) -> tuple[str, str]:
    """(text in the kiosk's language, the English line under Chinese or "")."""
    if not key:
        return "", ""
    primary = session.text(key, **values)
    english = session.text_in("en", key, **values) if session.language != "en" else ""
    return primary, english


def text_or_empty(session, key: str | None, **values) -> str:
    return session.text(key, **values) if key else ""


class FlowScreen(Screen):
    def show(self, vm, session, now) -> None:
        """Copy what the view-model says into this screen's properties (main thread)."""

    def act(self, action: Action, *args, **options):
        return App.get_running_app().act(action, *args, **options)

    @property
    def is_current(self) -> bool:
        """This screen is the one the person sees."""
        return self.manager is not None and self.manager.current == self.name


class ScanningScreen(FlowScreen):
    """A hidden, focused field (`ids.scan`) the scanner types into, then Enter."""

    SCAN_ACTION: Action  # what a scanned text is handed to

    def scan_ready(self) -> bool:
        """The field takes a scan now (not while an answer is awaited)."""
        return True

    def focus_scanner(self, ready: bool) -> None:
        self.ids.scan.focus = ready and self.is_current

    def on_enter(self, *args) -> None:
        # After the switch: the scanner types into this field from the first character.
        Clock.schedule_once(lambda _dt: setattr(self.ids.scan, "focus", self.scan_ready()), 0)

    def on_pre_leave(self, *args) -> None:
        self.ids.scan.focus = False

    def scanned(self, field) -> None:
        text, field.text = field.text, ""
        self.act(self.SCAN_ACTION, text)
