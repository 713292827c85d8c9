"""StorageDesk: the kiosk's own storage failing or salvaged, on every screen.

The behaviour lives in StorageNoticeModel (kiosk/viewmodels/storage.py); this
is the glue: it hears storage failures from every kiosk.db connection (the
store's StorageWatch, called on whichever thread met the error) and moves them
onto Kivy's main thread, guards the app's own writes to the store, probes
whether writes work again while they fail, and copies the notice into the app's
`storage_notice` / `storage_notice_en` properties (the top bar shows them).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import TYPE_CHECKING

from kivy.clock import Clock

from kiosk import store as keys
from kiosk.outbox import Outbox
from kiosk.viewmodels.storage import StorageNoticeModel
from shared import i18n

if TYPE_CHECKING:
    from kiosk.app import LobbyKioskApp

log = logging.getLogger(__name__)

PROBE_SECONDS = 5.0  # while writes fail, how often to try one


class StorageDesk:
    def __init__(self, app: LobbyKioskApp):
        self.app = app
        self.model = StorageNoticeModel(app.store.get(keys.STORAGE_INCIDENT))
        self._timer = None

    def start(self) -> None:
        self.app.store.watch.listen(self._heard)
        self.app.bind(language=self._language_changed)
        self._timer = Clock.schedule_interval(self._tick, PROBE_SECONDS)
        self.show()

    def stop(self) -> None:
        self.app.store.watch.listen(None)
        self.app.unbind(language=self._language_changed)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- news from the storage (any thread) ---------------------------------
    def _heard(self, problem: str, message: str) -> None:
        log.error("kiosk storage: %s (%s)", problem, message)
        if threading.current_thread() is threading.main_thread():
            self._failed(problem)  # in order with a success that may follow at once
        else:
            Clock.schedule_once(lambda _dt: self._failed(problem), 0)

    def _failed(self, problem: str) -> None:
        if self.model.on_write_failed(problem):
            self.show()

    def wrote(self) -> None:
        """One of the app's writes went through (main thread)."""
        if self.model.on_write_succeeded():
            self._writes_work_again()
            self.show()

    # -- the app's writes ---------------------------------------------------
    def save(self, **values) -> bool:
        """store.set, guarded: False (and the notice shown) if the storage refused."""
        try:
            self.app.store.set(**values)
        except sqlite3.Error:
            log.exception("could not save %s", ", ".join(values))
            return False
        self.wrote()
        return True

    def on_acked(self, outbox_id: int) -> None:
        if self.model.on_acked(outbox_id):
            self.save(**{keys.STORAGE_INCIDENT: self.model.incident})

    def _tick(self, _dt=None) -> None:
        if self.model.needs_probe:
            try:
                self.app.store.probe_write()
            except sqlite3.Error:
                pass  # still failing: the watch has already said so
            else:
                self.wrote()
        if self.model.incident_over(self.app.clock.now()):
            self.save(**{keys.STORAGE_INCIDENT: None})
            self.show()

    def _writes_work_again(self) -> None:
        """A write the sender made just after sending can have failed, leaving that
        item in flight until the next start: put it back to ready now. Should the
        sender be sending one at this moment, it is sent once more with the same
        idempotency key, which the console answers from its record."""
        try:
            moved = Outbox(self.app.store).recover()
        except sqlite3.Error:
            return
        if moved and self.app.worker is not None:
            self.app.worker.wake()

    # -- display ------------------------------------------------------------
    def _language_changed(self, *_args) -> None:
        self.show()

    def show(self) -> None:
        language = self.app.language
        lines = self.model.messages()
        self.app.storage_notice = "\n".join(
            i18n.text("kiosk", key, language, **values) for key, values in lines
        )
        self.app.storage_notice_en = (
            "\n".join(i18n.text("kiosk", key, "en", **values) for key, values in lines)
            if language != "en"
            else ""
        )
