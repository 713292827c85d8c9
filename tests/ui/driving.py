"""Driving the real kiosk window: frames, waits, taps, and starting and stopping the app.

Shared by the UI tests (tests/ui/conftest.py) and the kiosk benchmarks
(bench/repair_taps.py). It imports Kivy, so the caller must have called
`kiosk.headless.prepare()` (and set its window size) first: Kivy reads its
environment when first imported.
"""

from __future__ import annotations

from kivy.app import App
from kivy.base import EventLoop
from kivy.tests.common import UnitTestTouch

from kiosk.app import LobbyKioskApp
from tests.helpers import eventually, holds_for


def step(frames: int = 1) -> None:
    """Run the Kivy loop for some frames (layout, kv bindings, Clock callbacks)."""
    for _ in range(frames):
        EventLoop.idle()


def wait_until(predicate, timeout: float = 20.0, message: str = "the kiosk got there"):
    """Step frames (never sleep) until predicate() is true; return its value.

    Raises AssertionError at the deadline rather than returning False, so a call
    without `assert` still fails loudly. The deadline is generous (tests/helpers.py,
    eventually): a passing test returns as soon as the state is there."""
    return eventually(predicate, timeout=timeout, message=message, step=step)


def holds_for_frames(predicate, seconds: float, message: str = "nothing changed") -> bool:
    """A deliberate "nothing happens for `seconds`" check, stepping frames meanwhile
    (tests/helpers.py, holds_for): fails the moment predicate() turns false."""
    return holds_for(predicate, seconds, message=message, step=step)


def tap(widget) -> None:
    """A finger down and up at the widget's centre."""
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    step()
    touch.touch_up()
    step(2)


def screen(app, name: str | None = None):
    """The app's screen called `name`, else the one showing."""
    return app.root.get_screen(name or app.root.current)


class Taps:
    """Taps a person makes, counted as they go; keypad digits are counted apart
    because a number typed is one effort, not one decision a digit."""

    def __init__(self):
        self.taps = 0
        self.digits = 0

    def __call__(self, widget) -> None:
        self.taps += 1
        tap(widget)

    def digit(self, widget) -> None:
        self.digits += 1
        tap(widget)

    def type(self, keypad, digits: str) -> None:
        for digit in digits:
            self.digit(keypad.keys[digit])


def start_app(settings, store, **options) -> LobbyKioskApp:
    """The kiosk app built and running in this process's window, as kiosk/main.py runs
    it but without entering Kivy's own loop (the caller steps frames)."""
    app = LobbyKioskApp(settings, store, **options)
    EventLoop.ensure_window()
    if EventLoop.status != "started":
        EventLoop.start()
    app._run_prepare()
    return app


def stop_app(app: LobbyKioskApp, store) -> None:
    """Stop the app (its sync worker too), take its widgets off the window and close
    its store, so the next app can use the same window."""
    app.dispatch("on_stop")
    if app.root is not None and app.root.parent is not None:
        app.root.parent.remove_widget(app.root)
    App._running_app = None
    store.close()
