"""What every visitor screen shares: `show()` copies a view-model into properties."""

from __future__ import annotations

from kivy.uix.screenmanager import Screen

import kiosk.keypad  # (NumericKeypad, LetterPad rules)
import kiosk.widgets  # noqa: F401  (TopBar, StepHeader, PillButton … rules)


def both(session, key: str | None, **values) -> tuple[str, str]:
    """(text in the kiosk's language, the English line under Chinese or "")."""
    if not key:
        return "", ""
    primary = session.text(key, **values)
    english = session.text_in("en", key, **values) if session.language != "en" else ""
    return primary, english


def text_or_empty(session, key: str | None, **values) -> str:
    return session.text(key, **values) if key else ""


class VisitorScreen(Screen):
    def show(self, vm, session, now) -> None:
        """Copy what the view-model says into this screen's properties (main thread)."""
