"""Several console processes behind one address: `lobbydesk console --processes N`.

The process systemd (or a person) starts becomes a small supervisor:

- it has already opened the database (migrations run once, here, before any
  worker exists) and binds the one listening socket;
- it starts N workers, each `lobbydesk console --listen-fd FD`: a full console
  (uvicorn + Flask, console/server.py) serving on the inherited socket, so the
  kernel hands each new connection to whichever worker accepts it first;
- a worker that exits is started again, after a pause that doubles while it
  keeps dying young (0.5 s, 1 s, 2 s … at most 30 s), so a crash loop costs a
  log line every half minute, not a spinning CPU; each restart is logged;
- SIGTERM or SIGINT stops every worker with SIGTERM (each ends its open
  requests and streams), waits for them, and kills any still running after
  STOP_GRACE_SECONDS;
- a worker asks the kernel for SIGTERM when the supervisor dies
  (PR_SET_PDEATHSIG), so a SIGKILLed supervisor leaves no orphans serving.

Plain subprocess and signal: the venv has no process manager, and gunicorn's
arbiter would bring a WSGI worker model the console does not use (its front is
an ASGI event loop, console/server.py). What several processes must agree on
lives in the database and coordination.db, never in one process's memory.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 30.0
YOUNG_SECONDS = 30.0  # a worker that dies younger than this is crash-looping
STOP_GRACE_SECONDS = 20.0  # below systemd's TimeoutStopSec=30 (deploy/console)
TEND_EVERY_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass
class Worker:
    """One console process in its slot; started again in the same slot when it ends."""

    number: int
    command: list[str]
    listen_fd: int
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    pause: float = FIRST_PAUSE_SECONDS
    restart_at: float | None = None

    def start(self) -> None:
        # our own program (sys.executable -m lobbydesk), arguments we built: no shell
        self.process = subprocess.Popen(self.command, pass_fds=(self.listen_fd,))  # noqa: S603
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("console worker %d started (pid %d)", self.number, self.process.pid)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tend(self, now: float) -> None:
        """Notice an exit and schedule the restart; restart when its pause is over."""
        if self.running:
            return
        if self.restart_at is None:
            lived = now - self.started_at
            if lived >= YOUNG_SECONDS:
                self.pause = FIRST_PAUSE_SECONDS  # it had been fine: no crash loop
            self.restart_at = now + self.pause
            log.warning(
                "console worker %d (pid %d) %s after %.1f s; starting it again in %.1f s",
                self.number,
                self.process.pid,
                exit_reason(self.process.returncode),
                lived,
                self.pause,
            )
            self.pause = min(self.pause * 2, LONGEST_PAUSE_SECONDS)
        elif now >= self.restart_at:
            self.start()


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    """N workers on one listening socket, kept running until SIGTERM or SIGINT."""

    def __init__(self, listener: socket.socket, count: int, worker_args: list[str]):
        self.listener = listener
        fd = listener.fileno()
        command = worker_command(worker_args, fd)
        self.workers = [Worker(number, command, fd) for number in range(1, count + 1)]
        self._stopping = threading.Event()

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        try:
            for worker in self.workers:
                worker.start()
            while not self._stopping.wait(TEND_EVERY_SECONDS):
                now = time.monotonic()
                for worker in self.workers:
                    worker.tend(now)
        finally:
            self.stop_workers()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.listener.close()
        return 0

    def _on_signal(self, signum, _frame) -> None:
        log.info("%s: stopping the console workers", signal.Signals(signum).name)
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()

    def stop_workers(self) -> None:
        running = [worker.process for worker in self.workers if worker.running]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("console worker pid %d did not stop in time: killed", process.pid)
                process.kill()
                process.wait()


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def worker_command(worker_args: list[str], listen_fd: int) -> list[str]:
    """`lobbydesk console …` as a worker: the same settings, the inherited socket."""
    return [
        sys.executable,
        "-m",
        "lobbydesk",
        "console",
        *worker_args,
        "--processes",
        "1",
        "--listen-fd",
        str(listen_fd),
        "--supervisor",
        str(os.getpid()),
    ]


def follow_supervisor(supervisor_pid: int) -> None:
    """In a worker: be sent SIGTERM when the supervisor dies (Linux), and end at once
    if it has already died between our fork and now."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != supervisor_pid:
        raise SystemExit("lobbydesk console: the supervisor has gone; this worker stops")
