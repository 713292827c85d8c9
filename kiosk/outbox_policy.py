"""Outbox items that must not wait for the worker's retries: a parcel pickup the person
no longer waits for, a ticket rating the console refused for good. Each is dead-lettered
here and returned, so the app can tell its flow as if the console had refused it.

Plain functions over the outbox, the parcel view-model and the time (no Kivy): the
app calls them on its tick and when a flow ends (kiosk/app.py).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from kiosk.outbox import IN_FLIGHT, READY, Outbox
from kiosk.refusals import Refusal
from kiosk.viewmodels import parcel as pickup
from kiosk.viewmodels import ticket_status as tstat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Withdrawn:
    """One item dead-lettered here: what the sync worker's on_dead would have said."""

    outbox_id: int
    kind: str
    refusal: Refusal


def withdraw_stale_pickups(
    outbox: Outbox, parcel, now: datetime, starting: bool = False
) -> list[Withdrawn]:
    """Only the console checks a pickup code, so a pickup never waits in the outbox:
    one the parcel flow no longer waits for (no answer in time, offline, the person
    gone), or one the console throttled (429), is dead-lettered before the worker
    sends it. One already on the wire is left to finish; at `starting`, nothing is on
    the wire and nobody waits, so every pickup left from before a restart goes."""
    states = (READY, IN_FLIGHT) if starting else (READY,)
    withdrawn = []
    for item in [item for state in states for item in outbox.items(state)]:
        if item.kind != pickup.KIND:
            continue
        throttled = item.last_error_code in pickup.STOP_RETRYING
        if not throttled and not starting and parcel.keeps(item.id, now):
            continue
        if throttled:
            refusal = Refusal.of_item(item)
        else:
            refusal = Refusal(pickup.WITHDRAWN, pickup.WITHDRAWN_TEXT)
        if _withdraw(outbox, item, refusal):
            log.warning("parcel pickup %s withdrawn: %s", item.id, refusal.description)
            withdrawn.append(Withdrawn(item.id, item.kind, refusal))
    return withdrawn


def withdraw_refused_ratings(outbox: Outbox) -> list[Withdrawn]:
    """A rating the console refused with 409 (not resolved, already rated) is final,
    though the outbox retries any 409 and holds the queue behind it: dead-letter it
    here, and the screen says why."""
    withdrawn = []
    for item in outbox.items(READY):
        if item.kind != tstat.KIND or item.last_error_code not in tstat.FINAL_CONFLICTS:
            continue
        refusal = Refusal.of_item(item)
        if _withdraw(outbox, item, refusal):
            log.warning("ticket rating %s withdrawn: %s", item.id, refusal.description)
            withdrawn.append(Withdrawn(item.id, item.kind, refusal))
    return withdrawn


def _withdraw(outbox: Outbox, item, refusal: Refusal) -> bool:
    try:
        return outbox.withdraw(item.id, item.state, refusal.description, refusal.code)
    except sqlite3.Error:
        log.exception("could not withdraw outbox item %s (%s)", item.id, item.kind)
        return False
