"""Exponential backoff with full jitter (AWS architecture blog; Stripe's client).

delay(n) = uniform(0, min(cap, base * 2**n)). The random source is injected so
tests are deterministic with a seeded `random.Random`.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        """The most a delay can be after `attempt` failures (attempt >= 1). The
        exponent is bounded: an item retried for days counts thousands of attempts,
        and 2**1024 does not fit in a float."""
        return min(self.cap, self.base * 2.0 ** min(max(0, attempt - 1), 64))

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempt`-th failure in a row.

        A server's Retry-After wins over our own guess (capped, so a bad header
        cannot park the kiosk for a day).
        """
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after))
        return self.rng.uniform(0, self.ceiling(attempt))
