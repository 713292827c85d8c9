"""In-memory rate limits for the console (one process, many threads).

- `TokenBuckets`: per kiosk writes (SECURITY.md 16). A bucket holds `capacity`
  tokens and refills at `rate` tokens a second; each new write takes one. A
  kiosk can send a burst (a resident's report, a call, a rating) at once, and
  an outbox flushed after a day offline drains at `rate` a second.
- `WindowLimit`: at most `limit` events per key in any `window` seconds (a log
  of recent times per key), for public pages keyed by the client's address.
  `wait()` looks without counting, so a caller can count failures only.
- `RefusalTally`: refusals from a flood are audited in aggregate, one row per key
  a minute with the count since the last row, never one row per request.

Times are plain seconds from the caller (the console's clock), so tests can
move them. A clock that steps back refills nothing and never locks anyone out
for longer than the window. Both are thread-safe; state lives as long as the
process (a restart forgets it, which only ever lets requests through).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable

from shared.errors import LobbyDeskError

KIOSK_WRITE_BURST = 60  # new single writes a kiosk may send at once …
KIOSK_WRITES_PER_SECOND = 2  # … then this many a second
# A kiosk back from an outage sends its backlog in batches. Its allowance is what
# a busy lobby queues in a long outage (days of visits, calls and repairs), so a
# real drain goes at once; a hostile token can write no more than this before it
# is paced at the same 2 a second. Single (live) writes have their own bucket, so
# a drain never makes a person at the kiosk wait.
KIOSK_BACKLOG_ALLOWANCE = 10_000


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


class TokenBuckets:
    """One token bucket per key."""

    def __init__(self, capacity: float = KIOSK_WRITE_BURST, rate: float = KIOSK_WRITES_PER_SECOND):
        if capacity < 1 or rate <= 0:
            raise ValueError("a bucket needs a capacity of 1 or more and a positive rate")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key → (tokens, at)

    def take(self, key: Hashable, now: float) -> float:
        """Take one token: 0.0 when taken, else the seconds until one is there (none taken)."""
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def take_up_to(self, key: Hashable, now: float, wanted: int) -> tuple[int, float]:
        """Take as many of `wanted` tokens as there are: (taken, seconds until the
        next one is there when fewer were taken, else 0.0)."""
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.rate)
            taken = min(wanted, int(tokens))
            tokens -= taken
            self._buckets[key] = (tokens, now)
            wait = 0.0 if taken == wanted else (1.0 - tokens) / self.rate
            return taken, wait

    def check(self, key: Hashable, now: float) -> None:
        """Take one token or raise RateLimited with the seconds to wait."""
        wait = self.take(key, now)
        if wait > 0:
            raise RateLimited(wait)


class WindowLimit:
    """At most `limit` events per key in any `window` seconds; at most `max_keys` keys
    are remembered (the idle ones are forgotten first)."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000):
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("a window limit needs limit >= 1, window > 0 and max_keys >= 1")
        self.limit = limit
        self.window = float(window)
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._log: dict[Hashable, list[float]] = {}  # key → recent times, oldest first

    def _recent(self, key: Hashable, now: float) -> list[float]:
        return [t for t in self._log.get(key, ()) if 0.0 <= now - t < self.window]

    def hit(self, key: Hashable, now: float) -> float:
        """Count one event: 0.0 when allowed, else the seconds until the oldest of the
        last `limit` ages out (the refused event is not counted)."""
        with self._lock:
            times = self._recent(key, now)
            self._log.pop(key, None)  # re-inserted last: the dict stays in order of use
            if len(times) >= self.limit:
                self._log[key] = times
                return self.window - (now - times[-self.limit])
            times.append(now)
            self._log[key] = times
            if len(self._log) > self.max_keys:
                self._forget(now)
            return 0.0

    def wait(self, key: Hashable, now: float) -> float:
        """0.0 if one more event would be allowed now, else the seconds until it would;
        nothing is counted."""
        with self._lock:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                return self.window - (now - times[-self.limit])
            return 0.0

    def _forget(self, now: float) -> None:
        for key in [k for k, times in self._log.items() if not self._recent(k, now)]:
            del self._log[key]
        while len(self._log) > self.max_keys:
            del self._log[next(iter(self._log))]  # the least recently used


class RefusalTally:
    """Counts refusals per key; `add()` says when to write an audit row, and with
    which count: the first refusal at once, then at most one row per `every`
    seconds carrying every refusal since the previous row."""

    def __init__(self, every: float = 60.0, max_keys: int = 10_000):
        self.every = float(every)
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._state: dict[Hashable, tuple[int, float]] = {}  # key → (unwritten, last row at)

    def add(self, key: Hashable, now: float) -> int:
        """Count one refusal: the number of refusals to write now, or 0 (not yet)."""
        with self._lock:
            unwritten, last = self._state.pop(key, (0, float("-inf")))
            unwritten += 1
            if not 0.0 <= now - last < self.every:
                self._state[key] = (0, now)
                written = unwritten
            else:
                self._state[key] = (unwritten, last)
                written = 0
            while len(self._state) > self.max_keys:
                del self._state[next(iter(self._state))]
            return written
