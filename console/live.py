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
        self.closed = False

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def publish(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_for_change(self, seen_version: int, timeout: float) -> int:
        """Block until the version moves past `seen_version`, time runs out, or we close."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._version != seen_version or self.closed, timeout=timeout
            )
            return self._version

    def close(self) -> None:
        """Shutting down: wake every stream and long-poll so their threads end."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()


def init_app(app) -> None:
    app.extensions["lobbydesk.live"] = LiveHub()


def hub(app) -> LiveHub:
    return app.extensions["lobbydesk.live"]
