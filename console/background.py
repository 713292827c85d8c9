"""Work the console does on its own: notifications, automatic sign-out, housekeeping
(the daily retention purge and the scheduled backup).

One daemon thread with its own database connection; each job is a plain
function in shared/ that tests call directly with a controlled clock.
"""

from __future__ import annotations

import logging
import threading
import time

from console.db import database_path
from shared import building, maintenance, notifications, parcels, visitors
from shared.db import connect

log = logging.getLogger(__name__)
AUTO_SIGN_OUT_EVERY_SECONDS = 60
HOUSEKEEPING_EVERY_SECONDS = 60


class BackgroundJobs:
    def __init__(self, app):
        self.app = app
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
        interval = self.app.config["NOTIFY_INTERVAL_SECONDS"]
        last_sign_out = 0.0
        last_housekeeping = time.monotonic()  # first round a minute after start
        told_no_building = False
        try:
            while not self._stop.is_set():
                if not building.exists(db):
                    # A service installed before `admin init-building`: say so once in the
                    # journal instead of a traceback from every job every round.
                    if not told_no_building:
                        log.warning("no building yet: run `lobbydesk admin init-building`")
                        told_no_building = True
                    self._stop.wait(interval)
                    continue
                self._guarded(
                    notifications.deliver_due, db, clock, self.app.config.get("NOTIFY_EMAIL_URL")
                )
                self._guarded(
                    parcels.run_jobs,
                    db,
                    clock,
                    self.app.config["SECRET_KEY"],
                    self.app.config.get("NOTIFY_EMAIL_URL"),
                )
                if time.monotonic() - last_sign_out >= AUTO_SIGN_OUT_EVERY_SECONDS:
                    last_sign_out = time.monotonic()
                    if self._guarded(visitors.auto_sign_out, db, clock):
                        from console import live

                        live.hub(self.app).publish()
                if time.monotonic() - last_housekeeping >= HOUSEKEEPING_EVERY_SECONDS:
                    last_housekeeping = time.monotonic()
                    self._guarded(
                        maintenance.run_due,
                        db,
                        clock,
                        self.app.config["DATA_DIR"],
                        self.app.config["BACKUP_INTERVAL_HOURS"],
                        self.app.config["BACKUPS_KEPT"],
                    )
                self._stop.wait(interval)
        finally:
            db.close()

    @staticmethod
    def _guarded(job, *args):
        # A failing job must not kill the thread: log it and try again next round.
        try:
            return job(*args)
        except Exception:
            log.exception("background job %s failed", job.__name__)
            return None
