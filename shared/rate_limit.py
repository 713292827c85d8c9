"""Rate limits for the console, kept in coordination.db so every console process
serving the building counts together (docs/ARCHITECTURE.md, "Several processes").

- `TokenBuckets`: per kiosk writes (SECURITY.md 16). A bucket holds `capacity`
  tokens and refills at `rate` tokens a second; each new write takes one. A
  kiosk can send a burst (a resident's report, a call, a rating) at once, and
  an outbox flushed after a day offline drains at `rate` a second.
- `WindowLimit`: at most `limit` events per key in any `window` seconds (a row per
  recent event), for public pages keyed by the client's address. `wait()` looks
  without counting, so a caller can count failures only.
- `RefusalTally`: refusals from a flood are audited in aggregate, one row per key
  a minute with the count since the last row, never one row per request.

Each limiter has a `name` (its rows' first column, so limits never share a count)
and works on one `Coordination` (shared/coordination.py): every call is one short
BEGIN IMMEDIATE transaction, so two processes on the same file see each other's
counts at once. Keys are stored as text.

Times are plain seconds from the caller (the console's clock), so tests can move
them. A clock that steps back refills nothing and never locks anyone out for
longer than the window: a recorded time later than "now" counts as "now". Rows
that no longer matter (hits older than their window, buckets that have refilled,
refusal tallies idle for a minute) are swept by the limiter itself, at most once
per SWEEP_EVERY seconds, inside a transaction it is already in: whichever process
is busy cleans up, and no background job needs to know every limit's window.
Losing the file only ever lets requests through.
"""

from __future__ import annotations

import math

from shared.coordination import Coordination
from shared.errors import LobbyDeskError

KIOSK_WRITE_BURST = 60  # new single writes a kiosk may send at once …
KIOSK_WRITES_PER_SECOND = 2  # … then this many a second
# A kiosk back from an outage sends its backlog in batches. Its allowance is what
# a busy lobby queues in a long outage (days of visits, calls and repairs), so a
# real drain goes at once; a hostile token can write no more than this before it
# is paced at the same 2 a second. Single (live) writes have their own bucket, so
# a drain never makes a person at the kiosk wait.
KIOSK_BACKLOG_ALLOWANCE = 10_000
SWEEP_EVERY = 60.0  # seconds between one limiter's sweeps of its stale rows
# A tally still holding unwritten refusals is kept this many `every`s, so a flood
# that pauses still gets its count into the next audit row.
UNWRITTEN_KEPT_FOR = 60


class RateLimited(LobbyDeskError):
    """操作太频繁，请稍后再试 · Too many requests: try again shortly."""

    code = "rate_limited"
    http_status = 429
    # What the person is told; subclasses give their own. {seconds}: the whole
    # seconds to wait, as in Retry-After.
    template = (
        "这台终端发送太频繁，请 {seconds} 秒后再试 · Too many writes from this kiosk: "
        "try again in {seconds} s."
    )

    def __init__(self, retry_after: float, message: str | None = None):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message or self.template.format(seconds=self.retry_after))


class _Sweeping:
    """When this process's limiter last swept its rows (only the cadence is in memory)."""

    def __init__(self, coordination: Coordination, name: str):
        if not name:
            raise ValueError("a limit needs a name")
        self.coordination = coordination
        self.name = name
        self._swept_at = float("-inf")

    def _sweep_if_due(self, conn, now: float) -> None:
        if not 0.0 <= now - self._swept_at < SWEEP_EVERY:  # due, or the clock stepped back
            self._swept_at = now
            self._sweep(conn, now)

    def purge(self, now: float) -> None:
        """Delete this limit's rows that no longer change any answer."""
        with self.coordination.write() as conn:
            self._swept_at = now
            self._sweep(conn, now)

    def _sweep(self, conn, now: float) -> None:
        raise NotImplementedError


class TokenBuckets(_Sweeping):
    """One token bucket per key; no row is a full bucket."""

    def __init__(
        self,
        coordination: Coordination,
        name: str,
        capacity: float = KIOSK_WRITE_BURST,
        rate: float = KIOSK_WRITES_PER_SECOND,
    ):
        if capacity < 1 or rate <= 0:
            raise ValueError("a bucket needs a capacity of 1 or more and a positive rate")
        super().__init__(coordination, name)
        self.capacity = float(capacity)
        self.rate = float(rate)

    def _tokens(self, conn, key: str, now: float) -> float:
        row = conn.execute(
            "SELECT tokens, at FROM limit_buckets WHERE name = ? AND key = ?", (self.name, key)
        ).fetchone()
        if row is None:
            return self.capacity
        tokens, at = row
        return min(self.capacity, tokens + max(0.0, now - at) * self.rate)

    def _store(self, conn, key: str, tokens: float, now: float) -> None:
        conn.execute(
            "INSERT INTO limit_buckets (name, key, tokens, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
            (self.name, key, tokens, now),
        )
        self._sweep_if_due(conn, now)

    def take(self, key, now: float) -> float:
        """Take one token: 0.0 when taken, else the seconds until one is there (none taken)."""
        taken, wait = self.take_up_to(key, now, 1)
        return 0.0 if taken else wait

    def take_up_to(self, key, now: float, wanted: int) -> tuple[int, float]:
        """Take as many of `wanted` tokens as there are: (taken, seconds until the
        next one is there when fewer were taken, else 0.0)."""
        key = str(key)
        with self.coordination.write() as conn:
            tokens = self._tokens(conn, key, now)
            taken = max(0, min(wanted, int(tokens)))
            tokens -= taken
            self._store(conn, key, tokens, now)
        return taken, 0.0 if taken == wanted else (1.0 - tokens) / self.rate

    def check(self, key, now: float) -> None:
        """Take one token or raise RateLimited with the seconds to wait."""
        wait = self.take(key, now)
        if wait > 0:
            raise RateLimited(wait)

    def _sweep(self, conn, now: float) -> None:
        # A bucket that has refilled answers exactly as a missing row does.
        conn.execute(
            "DELETE FROM limit_buckets WHERE name = ? AND at <= ? AND at + (? - tokens) / ? <= ?",
            (self.name, now, self.capacity, self.rate, now),
        )


class WindowLimit(_Sweeping):
    """At most `limit` events per key in any `window` seconds."""

    def __init__(self, coordination: Coordination, name: str, limit: int, window: float):
        if limit < 1 or window <= 0:
            raise ValueError("a window limit needs limit >= 1 and window > 0")
        super().__init__(coordination, name)
        self.limit = limit
        self.window = float(window)

    def _wait(self, conn, key: str, now: float) -> float:
        """Seconds until the `limit`-th most recent event ages out (0.0: fewer than
        `limit` in the window); times after `now` were clamped first."""
        row = conn.execute(
            "SELECT at FROM limit_hits WHERE name = ? AND key = ? AND at > ? "
            "ORDER BY at DESC LIMIT 1 OFFSET ?",
            (self.name, key, now - self.window, self.limit - 1),
        ).fetchone()
        return 0.0 if row is None else self.window - (now - row[0])

    def hit(self, key, now: float) -> float:
        """Count one event: 0.0 when allowed, else the seconds until the oldest of the
        last `limit` ages out (the refused event is not counted)."""
        key = str(key)
        with self.coordination.write() as conn:
            conn.execute(
                "DELETE FROM limit_hits WHERE name = ? AND key = ? AND at <= ?",
                (self.name, key, now - self.window),
            )
            self._clamp(conn, now, key)
            wait = self._wait(conn, key, now)
            if wait == 0.0:
                conn.execute(
                    "INSERT INTO limit_hits (name, key, at) VALUES (?, ?, ?)",
                    (self.name, key, now),
                )
                self._sweep_if_due(conn, now)
        return wait

    def wait(self, key, now: float) -> float:
        """0.0 if one more event would be allowed now, else the seconds until it would;
        nothing is counted."""
        key = str(key)
        with self.coordination.lock:
            conn = self.coordination.conn
            ahead = conn.execute(
                "SELECT 1 FROM limit_hits WHERE name = ? AND key = ? AND at > ? LIMIT 1",
                (self.name, key, now),
            ).fetchone()
            if ahead:  # rare (the clock stepped back): only then a write
                with self.coordination.write():
                    self._clamp(conn, now, key)
            return self._wait(conn, key, now)

    def _clamp(self, conn, now: float, key: str | None = None) -> None:
        """Times after `now` (a clock stepped back, or another process a moment ahead)
        become `now`: still counted, and aged out within one window from here."""
        if key is None:
            conn.execute(
                "UPDATE limit_hits SET at = ? WHERE name = ? AND at > ?", (now, self.name, now)
            )
        else:
            conn.execute(
                "UPDATE limit_hits SET at = ? WHERE name = ? AND key = ? AND at > ?",
                (now, self.name, key, now),
            )

    def _sweep(self, conn, now: float) -> None:
        self._clamp(conn, now)
        conn.execute(
            "DELETE FROM limit_hits WHERE name = ? AND at <= ?", (self.name, now - self.window)
        )


class RefusalTally(_Sweeping):
    """Counts refusals per key; `add()` says when to write an audit row, and with
    which count: the first refusal at once, then at most one row per `every`
    seconds carrying every refusal since the previous row."""

    def __init__(self, coordination: Coordination, name: str = "refusals", every: float = 60.0):
        super().__init__(coordination, name)
        self.every = float(every)

    def _key(self, key) -> str:
        parts = key if isinstance(key, tuple) else (key,)
        return "/".join([self.name, *map(str, parts)])

    def add(self, key, now: float) -> int:
        """Count one refusal: the number of refusals to write now, or 0 (not yet)."""
        key = self._key(key)
        with self.coordination.write() as conn:
            row = conn.execute(
                "SELECT unwritten, last_at FROM limit_refusals WHERE key = ?", (key,)
            ).fetchone()
            unwritten, last = row or (0, float("-inf"))
            unwritten += 1
            written = unwritten if not 0.0 <= now - last < self.every else 0
            conn.execute(
                "INSERT OR REPLACE INTO limit_refusals (key, unwritten, last_at) VALUES (?, ?, ?)",
                (key, 0, now) if written else (key, unwritten, last),
            )
            self._sweep_if_due(conn, now)
        return written

    def _sweep(self, conn, now: float) -> None:
        # Idle for `every`: the next refusal is written at once, as with no row.
        conn.execute(
            "DELETE FROM limit_refusals WHERE key >= ? AND key < ? AND last_at <= ? "
            "AND (unwritten = 0 OR last_at <= ?)",
            (
                self.name + "/",
                self.name + "0",  # "0" sorts right after "/": every key of this tally
                now - self.every,
                now - self.every * UNWRITTEN_KEPT_FOR,
            ),
        )
