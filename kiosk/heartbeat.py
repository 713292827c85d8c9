"""The kiosk app's side of its watchdog (kiosk/watchdog.py): a heartbeat, and the
staff's "exit for maintenance".

The heartbeat is written by a Kivy Clock callback, which runs only while the
main loop runs: a UI thread that hangs stops it, and the watchdog then restarts
the app. It is on only when the watchdog asks for it (LOBBYDESK_HEARTBEAT_FILE),
so a kiosk run by hand or under test writes nothing.

Kivy is imported inside the functions: the watchdog imports STAFF_EXIT_CODE
from here without loading Kivy.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

log = logging.getLogger(__name__)

STAFF_EXIT_CODE = 75  # "stopped by staff for maintenance": the watchdog stays stopped
EXIT_KIND = "kiosk.exit"  # the feed event (shared/kiosk_commands.py)
FILE_ENV = "LOBBYDESK_HEARTBEAT_FILE"
INTERVAL_ENV = "LOBBYDESK_HEARTBEAT_SECONDS"
DEFAULT_INTERVAL = 2.0

_staff_exit = {"asked": False}


class Heartbeat:
    """Rewrites one small file, "<pid> <counter>", every `interval` seconds."""

    def __init__(self, path: Path, interval: float = DEFAULT_INTERVAL):
        self.path = Path(path)
        self.interval = interval
        self.count = 0
        self._event = None

    def beat(self, _dt=None) -> None:
        self.count += 1
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(f"{os.getpid()} {self.count}\n", encoding="ascii")
            os.replace(temporary, self.path)  # the watchdog never reads half a file
        except OSError:
            # a full disk must not stop the kiosk; the watchdog sees the beat stop and
            # restarts it, which is the best there is then
            log.exception("could not write the heartbeat %s", self.path)

    def start(self) -> Heartbeat:
        from kivy.clock import Clock

        self.beat()
        self._event = Clock.schedule_interval(self.beat, self.interval)
        return self

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None


def start(app, environ=os.environ) -> Heartbeat | None:
    """From the app's on_start: lock the window down, stop on SIGTERM, and beat when
    the watchdog asked for it (else None)."""
    lock_window()
    stop_on_signals(app)
    path = environ.get(FILE_ENV)
    if not path:
        return None
    try:
        interval = float(environ.get(INTERVAL_ENV) or DEFAULT_INTERVAL)
    except ValueError:
        interval = DEFAULT_INTERVAL
    return Heartbeat(Path(path), max(interval, 0.1)).start()


def lock_window() -> None:
    """No way out for a visitor, and a screen that stays on.

    Escape and F1 are off already (kiosk/main.py, App.open_settings). What is left:
    a close request from the window system (Alt+F4 under a desktop, a compositor
    closing the window), refused here; and Kivy's allow_screensaver, True by
    default, which re-enables the screen saver that SDL turns off."""
    from kivy.core.window import Window

    Window.allow_screensaver = False
    Window.unbind(on_request_close=_refuse_close)  # once, however many apps ran
    Window.bind(on_request_close=_refuse_close)


def stop_on_signals(app) -> None:
    """SIGTERM (systemd, the watchdog) and SIGINT (Ctrl-C) stop the app.

    SDL turns both into a window close request, which lock_window refuses; these
    handlers stop the app instead, on the main thread. Python's table does not know
    SDL set its own (it says SIG_DFL), so what is replaced is SIG_DFL or unknown; a
    handler the host process set from Python (pytest's Ctrl-C) is left alone."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, _frame):
        log.info("%s: stopping the kiosk", signal.Signals(signum).name)
        app.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) in (None, signal.SIG_DFL):
            signal.signal(signum, stop)


def _refuse_close(*_args, **_kwargs) -> bool:
    log.info("a request to close the kiosk window was refused (staff exit from the console)")
    return True


def exit_if_asked(app, event: dict) -> bool:
    """From the app's feed handler: staff asked this kiosk to exit for maintenance.
    The app stops (what is queued stays in the outbox for the next start) and the
    process ends with STAFF_EXIT_CODE (see exit_code)."""
    if not isinstance(event, dict) or event.get("kind") != EXIT_KIND:
        return False
    log.warning("staff asked this kiosk to exit for maintenance (event %s)", event.get("id"))
    _staff_exit["asked"] = True
    _leave_marker()
    app.stop()
    return True


def marker_for(heartbeat_file: Path) -> Path:
    """Where the app notes a staff exit for its watchdog: beside the heartbeat. A
    compositor between them (cage) does not pass the exit code on."""
    return Path(heartbeat_file).with_name("staff-exit")


def _leave_marker(environ=os.environ) -> None:
    path = environ.get(FILE_ENV)
    if path:
        try:
            marker_for(Path(path)).write_text("maintenance\n", encoding="ascii")
        except OSError:
            log.exception("could not leave the staff-exit marker; the exit code still says it")


def exit_code() -> int:
    """What the `lobbydesk kiosk` process returns once the window has closed."""
    return STAFF_EXIT_CODE if _staff_exit["asked"] else 0
