"""Work the console does on its own: notifications, automatic sign-out, housekeeping
(the daily retention purge and the scheduled backup).

One daemon thread with its own database connection; each job is a plain
function in shared/ that tests call directly with a controlled clock.

Several console processes can serve one building; the jobs must run in only one
of them (one mail per notification, one backup). So a process runs a round only
while it holds the "background" lease in coordination.db (shared/leases.py),
renewed before each job; a holder that dies is replaced once its lease runs out
(LEASE_SECONDS), and one that stops lets go at once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from console.db import coordination_of, database_path
from shared import building, leases, maintenance, notifications, parcels, visitors
from shared.db import connect

log = logging.getLogger(__name__)
AUTO_SIGN_OUT_EVERY_SECONDS = 60
HOUSEKEEPING_EVERY_SECONDS = 60
LEASE_NAME = "background"
LEASE_SECONDS = 30  # at least; three rounds when rounds are further apart


class BackgroundJobs:
    def __init__(self, app):
        self.app = app
        self.coord = coordination_of(app)
        self.holder = leases.new_holder()
        self.interval = app.config["NOTIFY_INTERVAL_SECONDS"]
        self.lease_ttl = max(LEASE_SECONDS, 3 * self.interval)
        self.holding = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-jobs", daemon=True)

    def start(self) -> BackgroundJobs:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        db = connect(database_path(self.app))
        clock = self.app.extensions["lobbydesk.clock"]
        self._last_sign_out = 0.0
        self._last_housekeeping = time.monotonic()  # first round a minute after start
        told_no_building = False
        try:
            while not self._stop.is_set():
                if not building.exists(db):
                    # A service installed before `admin init-building`: say so once in the
                    # journal instead of a traceback from every job every round.
                    if not told_no_building:
                        log.warning("no building yet: run `lobbydesk admin init-building`")
                        told_no_building = True
                elif self._hold_lease():
                    self._round(db, clock)
                self._stop.wait(self.interval)
        finally:
            db.close()
            self._let_go()

    def _round(self, db, clock) -> None:
        config = self.app.config
        self._guarded(notifications.deliver_due, db, clock, config.get("NOTIFY_EMAIL_URL"))
        self._guarded(
            parcels.run_jobs, db, clock, config["SECRET_KEY"], config.get("NOTIFY_EMAIL_URL")
        )
        if time.monotonic() - self._last_sign_out >= AUTO_SIGN_OUT_EVERY_SECONDS:
            self._last_sign_out = time.monotonic()
            if self._guarded(visitors.auto_sign_out, db, clock):
                from console import live

                live.hub(self.app).publish()
        if time.monotonic() - self._last_housekeeping >= HOUSEKEEPING_EVERY_SECONDS:
            self._last_housekeeping = time.monotonic()
            self._guarded(
                maintenance.run_due,
                db,
                clock,
                config["DATA_DIR"],
                config["BACKUP_INTERVAL_HOURS"],
                config["BACKUPS_KEPT"],
            )

    def _hold_lease(self) -> bool:
        """Take or renew the lease; False (skip the work) when another process holds it
        or coordination.db is busy past its timeout (we try again next round)."""
        try:
            held = leases.take_or_renew(
                self.coord, LEASE_NAME, self.holder, self.lease_ttl, time.time()
            )
        except sqlite3.Error:
            log.warning("background lease not renewed; trying again next round", exc_info=True)
            held = False
        if held != self.holding:
            log.info("background jobs %s in this process", "run" if held else "no longer run")
        self.holding = held
        return held

    def _let_go(self) -> None:
        if not self.holding:
            return
        try:
            leases.release(self.coord, LEASE_NAME, self.holder)
        except sqlite3.Error:  # it expires on its own within lease_ttl
            log.warning("background lease not released; it expires by itself", exc_info=True)
        self.holding = False

    def _guarded(self, job, *args):
        # Renewed before each job: a round longer than the lease must not overlap
        # another process's round. A failing job must not kill the thread: log it
        # and try again next round.
        if not self._hold_lease():
            return None
        try:
            return job(*args)
        except Exception:
            log.exception("background job %s failed", job.__name__)
            return None
