"""In-process change notification for staff pages (SSE) and kiosk long-polls.

The console serves from one process (waitress, threads), so a Condition is
enough: in DESIGN.md's measurements an in-process broadcast across several
gunicorn workers lost events, and one process was ~2 ms event-to-screen.
"""

from __future__ import annotations

import threading


class LiveHub:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._version = 0

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def publish(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_for_change(self, seen_version: int, timeout: float) -> int:
        """Block until the version moves past `seen_version` or time runs out."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != seen_version, timeout=timeout)
            return self._version


def init_app(app) -> None:
    app.extensions["lobbydesk.live"] = LiveHub()


def hub(app) -> LiveHub:
    return app.extensions["lobbydesk.live"]
