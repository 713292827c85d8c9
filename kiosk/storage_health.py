"""Noticing when kiosk.db cannot be written: a full disk, an I/O error.

Every connection to kiosk.db (the UI's, the sender's, the feeder's) is a
WatchedConnection: an SQLite error that means "the storage itself is failing"
is reported to the store's StorageWatch before it propagates as usual. The
callers keep their own error handling (a flow says "could not be saved", the
sync threads back off); the watch only lets the screen say why, whichever
thread met the error. Plain Python: no Kivy here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

FULL = "full"  # SQLITE_FULL: "database or disk is full"
IO_ERROR = "io_error"  # SQLITE_IOERR (and the disk going read-only under us)
PROBLEMS = (FULL, IO_ERROR)

# Primary result codes (https://sqlite.org/rescode.html); extended codes keep
# the primary one in the low byte.
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_READONLY = 8


def classify(error: BaseException) -> str | None:
    """FULL or IO_ERROR for an error that says the storage is failing; None for
    anything else (a constraint, a busy lock, a programming error)."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    message = str(error).lower()
    if primary == _SQLITE_FULL or "database or disk is full" in message:
        return FULL
    if primary in (_SQLITE_IOERR, _SQLITE_READONLY) or "disk i/o error" in message:
        return IO_ERROR
    return None


class StorageWatch:
    """Shared by every connection of one kiosk.db; tells one listener (the app)
    about storage failures. Called from any thread: the listener must hand the
    news on to its own thread (the app uses Clock.schedule_once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listener: Callable[[str, str], None] | None = None

    def listen(self, listener: Callable[[str, str], None] | None) -> None:
        with self._lock:
            self._listener = listener

    def failed(self, error: BaseException) -> str | None:
        """Report an error if it is a storage failure; returns its kind (or None)."""
        problem = classify(error)
        if problem is None:
            return None
        with self._lock:
            listener = self._listener
        if listener is not None:
            try:
                listener(problem, str(error))
            except Exception:  # a broken listener must not mask the original error
                log.exception("storage watch listener failed")
        return problem


class WatchedConnection(sqlite3.Connection):
    """A sqlite3 connection that reports storage failures to its `watch`.

    sqlite-utils runs every statement through `conn.execute`, so watching it
    sees every write the outbox, the store and the sync threads make."""

    watch: StorageWatch | None = None

    def execute(self, *args, **kwargs):
        try:
            return super().execute(*args, **kwargs)
        except sqlite3.Error as error:
            if self.watch is not None:
                self.watch.failed(error)
            raise
