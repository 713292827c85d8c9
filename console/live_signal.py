"""The live signal between a building's console processes.

Several console processes can serve one building (docs/ARCHITECTURE.md, "Several
processes"); a kiosk write landing on one must wake the staff streams and kiosk
long-polls parked on every other. Each process's LiveHub (console/live.py) wakes
its own waiters at once and, through this module, tells the others:

- `announce()` moves `live_signal.version` in coordination.db (one tiny write);
- one watcher thread per process polls `PRAGMA data_version` (microseconds; it
  moves only when another connection committed to the file) and, when the signal's
  version moved past what this process last saw, calls `on_remote()`.

The interface is announce / start(on_remote) / stop. A PostgreSQL deployment could
replace this SQLite version behind the same three calls with LISTEN/NOTIFY (announce
= NOTIFY, the watcher = a LISTENing connection), with no change to the hub or server.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from shared.coordination import Coordination

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05  # how often the watcher looks; a remote wake waits at most about this


class SqliteLiveSignal:
    def __init__(self, coord: Coordination, poll_seconds: float = POLL_SECONDS):
        self.coord = coord
        self.poll_seconds = poll_seconds
        self._seen_lock = threading.Lock()
        self._seen: int | None = None  # the signal's version this process last acted on
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def announce(self) -> None:
        """Tell the other processes something changed. Never raises: the local wake has
        already happened, and a busy or full coordination.db must not fail the request
        that published (the others then hear it with their next announce)."""
        try:
            with self.coord.write() as conn:
                # fetchall: the statement must finish before COMMIT
                rows = conn.execute(
                    "UPDATE live_signal SET version = version + 1 WHERE id = 1 RETURNING version"
                ).fetchall()
                if not rows:  # the row was deleted by hand: put it back
                    conn.execute("INSERT INTO live_signal (id, version) VALUES (1, 1)")
                version = rows[0][0] if rows else 1
        except sqlite3.Error:
            log.warning(
                "live signal not written; other console processes hear it later", exc_info=True
            )
            return
        with self._seen_lock:
            # Our own move: our watcher must not wake us for it again. A move by another
            # process just before ours is covered too: our local wake came after their
            # commit, so our waiters re-read and see their news.
            self._seen = version

    def start(self, on_remote: Callable[[], None]) -> None:
        """Watch for other processes' announcements on one daemon thread."""
        if self._thread is not None:
            return
        try:
            current = self._read_version()
        except sqlite3.Error:  # the first poll reads it (one needless wake at worst)
            log.warning("live signal unreadable at start; the watcher retries", exc_info=True)
            current = None
        with self._seen_lock:
            self._seen = current
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, args=(on_remote,), name="live-signal", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self, on_remote: Callable[[], None]) -> None:
        last_data_version = None
        failing = False
        while not self._stop.wait(self.poll_seconds):
            try:
                data_version = self.coord.data_version()
                if data_version == last_data_version:
                    continue
                last_data_version = data_version
                moved = self._moved(self._read_version())
                failing = False
            except sqlite3.Error:
                if not failing:  # once per outage, not 20 times a second
                    log.warning("live signal unreadable; retrying", exc_info=True)
                failing = True
                last_data_version = None
                continue
            if moved:
                try:
                    on_remote()
                except Exception:  # the watcher must outlive a bad listener
                    log.exception("waking this process for another's news failed")

    def _moved(self, version: int | None) -> bool:
        with self._seen_lock:
            moved = version != self._seen
            self._seen = version
            return moved

    def _read_version(self) -> int | None:
        rows = self.coord.read("SELECT version FROM live_signal WHERE id = 1")
        return rows[0][0] if rows else None
