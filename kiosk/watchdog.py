"""The kiosk's watchdog: run the kiosk app as a child process and keep it running.

`lobbydesk kiosk --watchdog ...` starts `lobbydesk kiosk ...` (without
--watchdog) as its child and restarts it

- when it exits for any reason but the staff's "exit for maintenance"
  (exit code STAFF_EXIT_CODE, sent from the console's kiosks page), and
- when it stops drawing frames: the app rewrites a heartbeat file from a Kivy
  Clock callback (kiosk/heartbeat.py), which runs only while its main loop
  runs. A heartbeat unchanged for `stale_after` seconds (or none within
  `first_start_grace` of a start) means a hung app: SIGTERM, then SIGKILL after
  `kill_grace`, then a new child.

Restarts back off (1 s, 2 s, 4 s ... at most 30 s) so a crash loop does not spin
the CPU; a child that ran well for a while starts the backoff again from 1 s.
Every restart is logged to stderr (the journal under systemd) with its reason.
SIGTERM or SIGINT to the watchdog stops the child the same way and exits 0.
The staff exit also exits 0: the systemd unit (deploy/kiosk/) restarts only on
failure, so the kiosk stays stopped until someone starts it again.

Plain Python: no Kivy here (only the child draws). Staleness is judged on this
process's monotonic clock (when the content last changed), never on file times.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.backoff import Backoff
from kiosk.heartbeat import FILE_ENV, INTERVAL_ENV, STAFF_EXIT_CODE, marker_for

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class WatchdogSettings:
    heartbeat_file: Path
    heartbeat_interval: float = 2.0  # how often the app beats
    stale_after: float = 30.0  # no new beat for this long: the app hangs
    first_start_grace: float = 120.0  # a cold start (fonts, GL, disk cache) may be slow
    kill_grace: float = 10.0  # SIGTERM, then SIGKILL after this
    backoff_cap: float = 30.0
    healthy_after: float = 60.0  # a child alive this long resets the backoff


def _log(message: str) -> None:
    print(f"lobbydesk kiosk watchdog: {message}", file=sys.stderr, flush=True)


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Watchdog:
    def __init__(self, command: list[str], settings: WatchdogSettings, env=None):
        self.command = command
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self.env[FILE_ENV] = str(settings.heartbeat_file)
        self.env[INTERVAL_ENV] = str(settings.heartbeat_interval)
        self.backoff = Backoff(base=1.0, cap=settings.backoff_cap)
        self.stopping: str | bool = False  # the signal's name; a plain flag, never a lock
        self.child: subprocess.Popen | None = None
        self.marker = marker_for(settings.heartbeat_file)

    # -- the loop ------------------------------------------------------------
    def run(self) -> int:
        """Until a staff exit or a stop signal; returns the process's exit code (0)."""
        self._install_signal_handlers()
        failures = 0
        while not self.stopping:
            started = time.monotonic()
            self._start_child()
            reason = self._watch()
            if reason is None:  # staff exit, or we are stopping
                break
            failures = (
                1 if time.monotonic() - started >= self.settings.healthy_after else failures + 1
            )
            delay = self.backoff.ceiling(failures)
            _log(f"the kiosk {reason}; restart {failures} in {delay:.0f} s")
            self._sleep(delay)
        if self.stopping:
            self._stop_child(f"{self.stopping}: the watchdog is stopping")
        return 0

    def _start_child(self) -> None:
        # a beat or a marker from the last child says nothing about this one
        for stale in (self.settings.heartbeat_file, self.marker):
            stale.unlink(missing_ok=True)
        self.settings.heartbeat_file.parent.mkdir(parents=True, exist_ok=True)
        # its own process group: a hung compositor and the app inside it go together
        # (S603: the command is ours: this interpreter, our CLI, the admin's compositor)
        self.child = subprocess.Popen(self.command, env=self.env, process_group=0)  # noqa: S603
        _log(f"started the kiosk (pid {self.child.pid})")

    def _watch(self) -> str | None:
        """Wait while the child is well. None: stop for good; else why to restart."""
        started = last_change = time.monotonic()
        last_beat = None
        while not self._sleep(POLL_SECONDS):
            code = self.child.poll()
            if code == STAFF_EXIT_CODE or (code is not None and self.marker.exists()):
                _log(
                    f"the kiosk {_describe(code)}: staff stopped it for maintenance; staying stopped"
                )
                return None
            if code is not None:
                self._signal(self.child, signal.SIGKILL)  # anything it left in its group
                return _describe(code)
            now, beat = time.monotonic(), self._read_beat()
            if beat is not None and beat != last_beat:
                last_beat, last_change = beat, now
            if last_beat is None and now - started > self.settings.first_start_grace:
                self._stop_child("it sent no heartbeat")
                return (
                    f"sent no heartbeat within {self.settings.first_start_grace:.0f} s of starting"
                )
            if last_beat is not None and now - last_change > self.settings.stale_after:
                self._stop_child("its heartbeat stopped")
                return f"stopped drawing (no heartbeat for {self.settings.stale_after:.0f} s)"
        return None

    def _sleep(self, seconds: float) -> bool:
        """Sleep in short steps; True as soon as a stop was asked for. (An Event would
        deadlock: its set() from a signal handler can need the lock its wait() holds.)"""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        return self.stopping

    def _read_beat(self) -> str | None:
        try:
            return self.settings.heartbeat_file.read_text(encoding="ascii").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    # -- stopping ------------------------------------------------------------
    def _stop_child(self, why: str) -> None:
        """SIGTERM (and SIGCONT, so a stopped process can act on it), then SIGKILL."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        _log(f"stopping the kiosk (pid {child.pid}): {why}")
        for sig in (signal.SIGTERM, signal.SIGCONT):
            self._signal(child, sig)
        try:
            child.wait(self.settings.kill_grace)
        except subprocess.TimeoutExpired:
            _log(f"the kiosk (pid {child.pid}) ignored SIGTERM; SIGKILL")
            self._signal(child, signal.SIGKILL)
            child.wait()

    @staticmethod
    def _signal(child: subprocess.Popen, sig: signal.Signals) -> None:
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass

    def _install_signal_handlers(self) -> None:
        def stop(signum, _frame):  # no printing here: a print may be under way
            self.stopping = signal.Signals(signum).name

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)


def add_arguments(parser) -> None:
    """The watchdog's options on `lobbydesk kiosk`."""
    group = parser.add_argument_group("watchdog (the lobby appliance, docs/INSTALL_KIOSK.md)")
    group.add_argument(
        "--watchdog",
        action="store_true",
        help="run the kiosk as a child process and restart it when it exits or hangs",
    )
    group.add_argument(
        "--compositor",
        metavar="CMD",
        help='start the kiosk inside this command, e.g. "/usr/bin/cage --"',
    )
    group.add_argument(
        "--heartbeat-interval", type=float, default=2.0, metavar="S", help="default 2"
    )
    group.add_argument(
        "--stale-after",
        type=float,
        default=30.0,
        metavar="S",
        help="restart a kiosk whose heartbeat stopped this long ago (default 30)",
    )
    group.add_argument(
        "--first-start-grace",
        type=float,
        default=120.0,
        metavar="S",
        help="how long a starting kiosk may take to its first heartbeat (default 120)",
    )


def run(args) -> int:
    """`lobbydesk kiosk --watchdog ...`: blocks until a staff exit or SIGTERM."""
    settings = WatchdogSettings(
        heartbeat_file=Path(args.data_dir).resolve() / "heartbeat",
        heartbeat_interval=args.heartbeat_interval,
        stale_after=args.stale_after,
        first_start_grace=args.first_start_grace,
    )
    command = shlex.split(args.compositor or "") + kiosk_command(args)
    return Watchdog(command, settings).run()


def kiosk_command(args) -> list[str]:
    """`lobbydesk kiosk ...` as the child runs it: the same options, no --watchdog,
    no --pair (the watchdog pairs first, once)."""
    command = [sys.executable, "-m", "lobbydesk", "kiosk", "--console", args.console]
    command += ["--data-dir", str(Path(args.data_dir).resolve())]
    for flag in ("landscape", "fullscreen"):
        if getattr(args, flag):
            command.append(f"--{flag}")
    for option in ("font", "ca_cert"):
        value = getattr(args, option)
        if value:
            command += [f"--{option.replace('_', '-')}", str(Path(value).resolve())]
    return command
