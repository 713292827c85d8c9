"""The kiosk's outbox: an explicit state machine with crash recovery.

    ready ──▶ in_flight ──▶ acked
      ▲           │
      └───────────┘  (no answer, timeout, 5xx, 429: attempts + 1, retry later,
                  │   for as long as it takes: transient is not failure)
                  └────▶ dead  (only a request the console says it will never
                                accept; kept, never deleted, never silent)

What goes next (`next_live`, `next_batch`): a person at the kiosk now is never
stuck behind old items. A live interaction (a help call, a visit, a parcel
pickup, an emergency repair) queued in the last two minutes goes first, alone;
everything else is the backlog, sent oldest first in batches. Order is kept
where it matters: a live item never overtakes an older item about the same
record (a visitor's phone), and within each lane items go in the order queued.

The idempotency key is made once, at enqueue, and sent on every retry, so the
console applies each item exactly once (SECURITY.md 14). `enqueue` commits
before it returns: the UI says "saved" only after that (SECURITY.md 29).
Once acknowledged, an item's body (the only place personal data lives on the
kiosk) is cleared (SECURITY.md 27).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

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

LIVE_KINDS = (
    "escalation.help",
    "visit.register",
    "parcel.pickup",
    "ticket.create",
    "invitation.redeem",  # an invited visitor at the screen (kiosk/viewmodels/invitation.py)
    "resident.link",
)
LIVE_WINDOW = timedelta(minutes=2)  # a person who asked this long ago has usually left
ALONE_KINDS = ("parcel.pickup",)  # answered to a person waiting, with its own 423/429
BATCH_ITEMS = 100
BATCH_BYTES = 512 * 1024
ALONE_BYTES = 32 * 1024  # a repair with its photo travels alone


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
    last_error_code: str | None = None  # the console's error code of last_error, kept as data

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


def is_live(item: OutboxItem) -> bool:
    """Someone is waiting for this at the kiosk (a repair only when it is an emergency)."""
    if item.kind not in LIVE_KINDS:
        return False
    if item.kind != "ticket.create":
        return True
    try:
        return (item.body_json or {}).get("urgency") == "emergency"
    except (ValueError, AttributeError):
        return False


def record_of(item: OutboxItem) -> str | None:
    """The record an item is about, where order between items matters: a visitor's
    visits and sign-outs by phone must reach the console in the order they happened."""
    if not item.kind.startswith("visit."):
        return None
    try:
        phone = (item.body_json or {}).get("phone")
    except (ValueError, AttributeError):
        return None
    return f"phone:{phone}" if isinstance(phone, str) and phone else None


BATCH_PATHS = (
    "/api/v1/escalations",
    "/api/v1/alerts",
    "/api/v1/refused",
    "/api/v1/visits",
    "/api/v1/visits/sign-out",
    "/api/v1/tickets",
    "/api/v1/tickets/rating",
    "/api/v1/invitations/redeem",  # an offline backlog of passes: not counted as a scan flood
)


def travels_alone(item: OutboxItem) -> bool:
    """Sent on its own, not in a batch: a pickup, a large body, a path batches do not
    take, or a body that is not a JSON object (its own answer says what is wrong)."""
    if item.kind in ALONE_KINDS or item.path not in BATCH_PATHS:
        return True
    if len((item.body or "").encode("utf-8")) > ALONE_BYTES:
        return True
    try:
        return not isinstance(item.body_json, dict)
    except ValueError:
        return True


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
            "state = ?, body = NULL, acked_at = ?, response = ?, last_error = NULL,"
            " last_error_code = NULL",
            (ACKED, to_iso(self.clock.now()), json.dumps(response, ensure_ascii=False)),
        )

    # `error` is the failure as told (logs, staff); `code` the console's error code, kept
    # apart so what decides (kiosk/outbox_policy.py, the flows) never parses the text.
    def retry_later(
        self, item_id: int, error: str, retry_at: datetime, code: str | None = None
    ) -> None:
        """A transient failure (no answer, a timeout, a 5xx): counted for the backoff,
        never a reason to give up on what a person asked for."""
        self._move(
            item_id,
            IN_FLIGHT,
            "state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
            " last_error_code = ?",
            (READY, to_iso(retry_at), error[:_MAX_ERROR_CHARS], code),
        )

    def release(self, item_id: int, error: str, retry_at: datetime, code: str | None = None):
        """Back to ready without counting an attempt (e.g. the kiosk is not authorised:
        the item is fine, the kiosk is not)."""
        self._move(
            item_id,
            IN_FLIGHT,
            "state = ?, next_attempt_at = ?, last_error = ?, last_error_code = ?",
            (READY, to_iso(retry_at), error[:_MAX_ERROR_CHARS], code),
        )

    def withdraw(self, item_id: int, from_state: str, error: str, code: str | None = None):
        """Give up on an item before it is sent (→ dead, kept): only if it is still in
        `from_state`, i.e. the sender has not taken it meanwhile. True if withdrawn."""
        with write_transaction(self.db):
            cursor = self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,"
                " last_error_code = ? WHERE id = ? AND state = ?",
                (DEAD, error[:_MAX_ERROR_CHARS], code, item_id, from_state),
            )
        return cursor.rowcount == 1

    def mark_dead(self, item_id: int, error: str, code: str | None = None) -> None:
        """Dead-lettered: kept, with its body, for staff to look at. Never deleted."""
        with write_transaction(self.db):
            item = self.get(item_id)
            if item.state not in (READY, IN_FLIGHT):
                raise OutboxStateError(f"outbox item {item_id} is {item.state}, cannot go dead")
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,"
                " last_error_code = ? WHERE id = ?",
                (DEAD, error[:_MAX_ERROR_CHARS], code, item_id),
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

    def next_live(
        self, now: datetime, longest_wait: float, force: bool = False
    ) -> OutboxItem | None:
        """The oldest due live item queued in the last two minutes (judged both ways
        from now, so a clock that jumped cannot make old items live for ever), unless
        an older item about the same record is still to send."""
        for item in self._live_candidates(now):
            if not force and seconds_until_due(item, now, longest_wait) > 0:
                continue
            if not self._older_about(item):
                return item
        return None

    def _older_about(self, item: OutboxItem) -> bool:
        record = record_of(item)
        if record is None:
            return False
        row = one(
            self.db,
            "SELECT 1 FROM outbox WHERE state IN (?, ?) AND id < ? AND kind LIKE 'visit.%'"
            " AND json_valid(body) AND json_extract(body, '$.phone') = ? LIMIT 1",
            (READY, IN_FLIGHT, item.id, record.removeprefix("phone:")),
        )
        return row is not None

    def next_batch(self, now: datetime, longest_wait: float, force: bool = False):
        """The backlog's next items, oldest first: up to BATCH_ITEMS due items that may
        travel together, stopping at the first that must wait (order is kept). A head
        that must travel alone comes back alone. `force`: the head is due whatever
        its retry time (the console just came back)."""
        batch, size = [], 0
        rows = self.db.query(
            "SELECT * FROM outbox WHERE state = ? ORDER BY id LIMIT ?", (READY, BATCH_ITEMS)
        )
        for row in rows:
            item = OutboxItem(**row)
            due = (force and not batch) or seconds_until_due(item, now, longest_wait) == 0
            if not due:
                break
            if travels_alone(item):
                return batch or [item]
            size += len((item.body or "").encode("utf-8"))
            if batch and size > BATCH_BYTES:
                break
            batch.append(item)
        return batch

    def seconds_until_next(self, now: datetime, longest_wait: float) -> float | None:
        """How long until something can be sent: the backlog's head, or a live item
        that nothing older holds back (only those: an item that is due but must wait
        its turn cannot wake the sender). None when nothing is left to send."""
        head = self.head()
        if head is None:
            return None
        waits = [seconds_until_due(head, now, longest_wait)]
        for item in self._live_candidates(now):
            if not self._older_about(item):
                waits.append(seconds_until_due(item, now, longest_wait))
        return min(waits)

    def _live_candidates(self, now: datetime):
        window = (to_iso(now - LIVE_WINDOW), to_iso(now + LIVE_WINDOW))
        marks = ", ".join("?" for _ in LIVE_KINDS)
        rows = self.db.query(
            f"SELECT * FROM outbox WHERE state = ? AND kind IN ({marks})"  # noqa: S608
            " AND created_at BETWEEN ? AND ? ORDER BY id",
            (READY, *LIVE_KINDS, *window),
        )
        return [item for item in (OutboxItem(**row) for row in rows) if is_live(item)]

    def mark_many_in_flight(self, item_ids: list[int]) -> None:
        self._move_many(item_ids, READY, "state = ?", (IN_FLIGHT,))

    def mark_many_acked(self, answers: list[tuple[int, dict | None]]) -> None:
        """Several answers from one batch, in one transaction."""
        now = to_iso(self.clock.now())
        with write_transaction(self.db):
            for item_id, response in answers:
                self._move(
                    item_id,
                    IN_FLIGHT,
                    "state = ?, body = NULL, acked_at = ?, response = ?, last_error = NULL,"
                    " last_error_code = NULL",
                    (ACKED, now, json.dumps(response, ensure_ascii=False)),
                )

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

    def _move_many(self, item_ids, from_state: str, assignments: str, params: tuple) -> None:
        with write_transaction(self.db):
            for item_id in item_ids:
                self._move(item_id, from_state, assignments, params)

    def _move(self, item_id: int, from_state: str, assignments: str, params: tuple) -> None:
        with write_transaction(self.db):
            cursor = self.db.execute(
                f"UPDATE outbox SET {assignments} WHERE id = ? AND state = ?",  # noqa: S608
                (*params, item_id, from_state),
            )
            if cursor.rowcount != 1:
                self._get_in(item_id, from_state)  # raises with the actual state
