"""Change notification for staff pages (SSE) and kiosk long-polls.

Each console process has one hub. Several processes can serve one building
(docs/ARCHITECTURE.md, "Several processes"), so a publish does two things: it
wakes this process's waiters at once, and it tells the other processes through
the live signal in coordination.db (console/live_signal.py), whose watcher wakes
their waiters in turn. In a single process this is still ~2 ms event-to-screen
(docs/ARCHITECTURE.md, "Measured choices").

Two kinds of waiter, both woken by `publish()` from any thread or by the watcher:
- a thread blocked in `wait_for_change` (a plain WSGI server, the test client);
- a listener added with `listen(callback)`: the server's event loop, which parks
  idle long-polls and streams without a thread each (console/server.py).
`version` counts this process's wakes (local and remote), not the signal's value.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from console.db import coordination_of
from console.live_signal import SqliteLiveSignal

log = logging.getLogger(__name__)
EARLY_ANSWER_PERCENT = 90  # from here new long-polls are answered at once (see Connections)


class LiveHub:
    def __init__(self, signal: SqliteLiveSignal | None = None) -> None:
        self.signal = signal  # None: this process alone (nothing to tell, nothing to watch)
        self._changed = threading.Condition()
        self._version = 0
        self._listeners: list[Callable[[], None]] = []
        self._waiting = 0
        self.closed = False

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def publish(self) -> None:
        """Something changed: wake this process now, then tell the others."""
        self.wake()
        if self.signal is not None:
            self.signal.announce()

    def wake(self) -> None:
        """Wake this process's waiters and listeners (a local publish, or another
        process's news heard by the watcher)."""
        with self._changed:
            self._version += 1
            self._changed.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    @property
    def waiting(self) -> int:
        """Threads blocked in wait_for_change now (read-only; tests wait for a parked stream)."""
        with self._changed:
            return self._waiting

    def wait_for_change(self, seen_version: int, timeout: float) -> int:
        """Block until the version moves past `seen_version`, time runs out, or we close."""
        with self._changed:
            self._waiting += 1
            try:
                self._changed.wait_for(
                    lambda: self._version != seen_version or self.closed, timeout=timeout
                )
            finally:
                self._waiting -= 1
            return self._version

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from the publishing thread) after every publish and at close.
        It must be quick and thread-safe, e.g. `loop.call_soon_threadsafe(...)`."""
        with self._changed:
            self._listeners.append(callback)

    def watch_other_processes(self) -> None:
        """Start hearing other processes' publishes (where a server starts)."""
        if self.signal is not None:
            self.signal.start(self.wake)

    def stop_watching(self) -> None:
        if self.signal is not None:
            self.signal.stop()

    def unlisten(self, callback: Callable[[], None]) -> None:
        with self._changed:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def close(self) -> None:
        """Shutting down: wake every stream and long-poll so they end."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


@dataclass
class Connections:
    """Open kiosk long-polls and staff event streams, against the configured capacity.

    Counted by the server's event loop (the only writer); read by pages from any
    thread. Near capacity new long-polls are answered at once (empty, with
    Retry-After) so kiosks come back later; writes never wait on these."""

    capacity: int
    warn_percent: int
    feeds: int = 0
    streams: int = 0
    _warned: bool = False

    @property
    def total(self) -> int:
        return self.feeds + self.streams

    @property
    def percent(self) -> int:
        return round(100 * self.total / self.capacity) if self.capacity else 100

    @property
    def warning(self) -> bool:
        return self.total >= self.capacity * self.warn_percent / 100

    @property
    def answer_early(self) -> bool:
        """True when a new long-poll should not wait: near or past capacity."""
        return self.total >= self.capacity * EARLY_ANSWER_PERCENT / 100

    def changed(self) -> None:
        """Log once when crossing the warning level, and once when back well below it."""
        if self.warning and not self._warned:
            self._warned = True
            log.warning(
                "connections at %d%% of capacity: %d kiosk long-polls + %d staff streams of "
                "%d (LOBBYDESK_CONNECTION_CAPACITY); from %d%% long-polls are answered early",
                self.percent,
                self.feeds,
                self.streams,
                self.capacity,
                EARLY_ANSWER_PERCENT,
            )
        elif self._warned and self.total < self.capacity * (self.warn_percent - 10) / 100:
            self._warned = False
            log.info("connections back to %d%% of capacity", self.percent)


def init_app(app) -> None:
    app.extensions["lobbydesk.live"] = LiveHub(SqliteLiveSignal(coordination_of(app)))
    app.extensions["lobbydesk.connections"] = Connections(
        capacity=int(app.config["CONNECTION_CAPACITY"]),
        warn_percent=int(app.config["CONNECTION_WARN_PERCENT"]),
    )


def hub(app) -> LiveHub:
    return app.extensions["lobbydesk.live"]


def connections(app) -> Connections:
    return app.extensions["lobbydesk.connections"]
