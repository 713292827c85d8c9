"""Outbox items that must not wait for the worker's retries: a parcel pickup the person
no longer waits for, a ticket rating the console refused for good. Dead-lettered here,
and the flow told as if the console had refused them. A mixin of LobbyKioskApp."""

from __future__ import annotations

import logging
import sqlite3

from kiosk.client import error_code_of
from kiosk.outbox import IN_FLIGHT, READY
from kiosk.viewmodels import parcel as pickup
from kiosk.viewmodels import ticket_status as tstat

log = logging.getLogger("kiosk.app")


class OutboxWithdrawals:
    def withdraw_stale_pickups(self, starting: bool = False) -> None:
        """Only the console checks a pickup code, so a pickup never waits in the outbox:
        one the parcel flow no longer waits for (no answer in time, offline, the
        person gone), or one the console throttled (429), is dead-lettered here
        before the worker sends it. One already on the wire is left to finish."""
        now = self.clock.now()
        states = (READY, IN_FLIGHT) if starting else (READY,)
        for item in [item for state in states for item in self.outbox.items(state)]:
            if item.kind != pickup.KIND:
                continue
            throttled = error_code_of(item.last_error) in pickup.STOP_RETRYING
            if not throttled and not starting and self.parcel.keeps(item.id, now):
                continue
            error = item.last_error if throttled else pickup.WITHDRAWN
            if self._withdraw(item.id, item.state, error or pickup.WITHDRAWN):
                log.warning("parcel pickup %s withdrawn: %s", item.id, error)
                self.sync_dead(item.id, item.kind, error or pickup.WITHDRAWN)

    def withdraw_refused_ratings(self) -> None:
        """A rating the console refused with 409 (not resolved, already rated) is final,
        though the outbox retries any 409 and holds the queue behind it: dead-letter it
        here, and the screen says why."""
        for item in self.outbox.items(READY):
            if item.kind != tstat.KIND:
                continue
            if error_code_of(item.last_error) not in tstat.FINAL_CONFLICTS:
                continue
            if self._withdraw(item.id, item.state, item.last_error or ""):
                log.warning("ticket rating %s withdrawn: %s", item.id, item.last_error)
                self.sync_dead(item.id, item.kind, item.last_error or "")

    def _withdraw(self, item_id: int, state: str, error: str) -> bool:
        try:
            return self.outbox.withdraw(item_id, state, error)
        except sqlite3.Error:
            log.exception("could not withdraw parcel pickup %s", item_id)
            return False
