"""The kiosk's outbox: an explicit state machine with crash recovery.

    ready ──▶ in_flight ──▶ acked
      ▲           │
      └───────────┘  (no answer, timeout, 5xx, 429: attempts + 1, retry later,
                  │   for as long as it takes: transient is not failure)
                  └────▶ dead  (only a request the console says it will never
                                accept; kept, never deleted, never silent)

The idempotency key is made once, at enqueue, and sent on every retry, so the
console applies each item exactly once (SECURITY.md 14). `enqueue` commits
before it returns: the UI says "saved" only after that (SECURITY.md 29).
Once acknowledged, an item's body (the only place personal data lives on the
kiosk) is cleared (SECURITY.md 27).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from kiosk.errors import OutboxStateError
from kiosk.store import KioskStore
from shared.clock import parse_utc, to_iso
from shared.db import one, write_transaction
from shared.tokens import new_idempotency_key

READY = "ready"
IN_FLIGHT = "in_flight"
ACKED = "acked"
DEAD = "dead"
STATES = (READY, IN_FLIGHT, ACKED, DEAD)
_MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    method: str
    path: str
    body: str | None
    idempotency_key: str
    state: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str
    acked_at: str | None
    response: str | None

    @property
    def body_json(self) -> dict | None:
        return None if self.body is None else json.loads(self.body)

    @property
    def response_json(self) -> dict | None:
        return None if self.response is None else json.loads(self.response)


def seconds_until_due(item: OutboxItem, now: datetime, longest_wait: float) -> float:
    """How long the item still waits, judged so that no stored value can park it.

    Retry times are stored in the kiosk's wall-clock time, which jumps (a clock
    corrected by hours, a battery reset to 1970). No retry is ever scheduled
    further ahead than `longest_wait` (the backoff's cap), so a retry time beyond
    that means the clock went back: due now. So is a value that cannot be read.
    """
    try:
        due = parse_utc(item.next_attempt_at)
    except (TypeError, ValueError):
        return 0.0
    wait = (due - now).total_seconds()
    return 0.0 if wait <= 0 or wait > longest_wait else wait


class Outbox:
    def __init__(self, store: KioskStore):
        self.store = store
        self.db = store.db
        self.clock = store.clock

    # -- writing ---------------------------------------------------------
    def enqueue(self, kind: str, path: str, body: dict, method: str = "POST") -> int:
        """Queue one logical operation; durable when this returns."""
        now = to_iso(self.clock.now())
        with write_transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO outbox (kind, method, path, body, idempotency_key, state,"
                " attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    kind,
                    method,
                    path,
                    json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    new_idempotency_key(),
                    READY,
                    now,
                    now,
                ),
            )
        return cursor.lastrowid

    def recover(self) -> int:
        """At start: whatever was in flight when the kiosk stopped goes back to ready.

        The console may or may not have applied it; the same idempotency key
        makes the resend safe either way.
        """
        with write_transaction(self.db):
            cursor = self.db.execute(
                "UPDATE outbox SET state = ? WHERE state = ?", (READY, IN_FLIGHT)
            )
        return cursor.rowcount

    def mark_in_flight(self, item_id: int) -> None:
        self._move(item_id, READY, "state = ?", (IN_FLIGHT,))

    def mark_acked(self, item_id: int, response: dict | None) -> None:
        """The console has it: keep id/kind/state, forget the body."""
        self._move(
            item_id,
            IN_FLIGHT,
            "state = ?, body = NULL, acked_at = ?, response = ?, last_error = NULL",
            (ACKED, to_iso(self.clock.now()), json.dumps(response, ensure_ascii=False)),
        )

    def retry_later(self, item_id: int, error: str, retry_at: datetime) -> None:
        """A transient failure (no answer, a timeout, a 5xx): counted for the backoff,
        never a reason to give up on what a person asked for."""
        self._move(
            item_id,
            IN_FLIGHT,
            "state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?",
            (READY, to_iso(retry_at), error[:_MAX_ERROR_CHARS]),
        )

    def release(self, item_id: int, error: str, retry_at: datetime) -> None:
        """Back to ready without counting an attempt (e.g. the kiosk is not authorised:
        the item is fine, the kiosk is not)."""
        self._move(
            item_id,
            IN_FLIGHT,
            "state = ?, next_attempt_at = ?, last_error = ?",
            (READY, to_iso(retry_at), error[:_MAX_ERROR_CHARS]),
        )

    def withdraw(self, item_id: int, from_state: str, error: str) -> bool:
        """Give up on an item before it is sent (→ dead, kept): only if it is still in
        `from_state`, i.e. the sender has not taken it meanwhile. True if withdrawn."""
        with write_transaction(self.db):
            cursor = self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?"
                " WHERE id = ? AND state = ?",
                (DEAD, error[:_MAX_ERROR_CHARS], item_id, from_state),
            )
        return cursor.rowcount == 1

    def mark_dead(self, item_id: int, error: str) -> None:
        """Dead-lettered: kept, with its body, for staff to look at. Never deleted."""
        with write_transaction(self.db):
            item = self.get(item_id)
            if item.state not in (READY, IN_FLIGHT):
                raise OutboxStateError(f"outbox item {item_id} is {item.state}, cannot go dead")
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                (DEAD, error[:_MAX_ERROR_CHARS], item_id),
            )

    # -- reading ---------------------------------------------------------
    def get(self, item_id: int) -> OutboxItem:
        row = one(self.db, "SELECT * FROM outbox WHERE id = ?", (item_id,))
        if row is None:
            raise OutboxStateError(f"outbox item {item_id} does not exist")
        return OutboxItem(**row)

    def head(self) -> OutboxItem | None:
        """The oldest item still to send (FIFO), due or not."""
        row = one(self.db, "SELECT * FROM outbox WHERE state = ? ORDER BY id LIMIT 1", (READY,))
        return None if row is None else OutboxItem(**row)

    def next_ready(self, now: datetime, longest_wait: float) -> OutboxItem | None:
        """The oldest ready item if it is due. A newer item never overtakes an
        older one that is waiting for its retry time: order is preserved."""
        item = self.head()
        if item is None or seconds_until_due(item, now, longest_wait) > 0:
            return None
        return item

    def depth(self) -> int:
        """Items not yet acknowledged and still to be sent (ready + in flight)."""
        row = one(
            self.db,
            "SELECT COUNT(*) AS n FROM outbox WHERE state IN (?, ?)",
            (READY, IN_FLIGHT),
        )
        return row["n"]

    def items(self, state: str | None = None) -> list[OutboxItem]:
        if state is None:
            rows = self.db.query("SELECT * FROM outbox ORDER BY id")
        else:
            rows = self.db.query("SELECT * FROM outbox WHERE state = ? ORDER BY id", (state,))
        return [OutboxItem(**row) for row in rows]

    # -- internals -------------------------------------------------------
    def _get_in(self, item_id: int, state: str) -> OutboxItem:
        item = self.get(item_id)
        if item.state != state:
            raise OutboxStateError(f"outbox item {item_id} is {item.state}, expected {state}")
        return item

    def _move(self, item_id: int, from_state: str, assignments: str, params: tuple) -> None:
        with write_transaction(self.db):
            cursor = self.db.execute(
                f"UPDATE outbox SET {assignments} WHERE id = ? AND state = ?",  # noqa: S608
                (*params, item_id, from_state),
            )
            if cursor.rowcount != 1:
                self._get_in(item_id, from_state)  # raises with the actual state
