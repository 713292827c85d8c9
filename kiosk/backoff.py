"""Exponential backoff with full jitter (AWS architecture blog; Stripe's client), and the
feed's own pacing after failures (`feed_retry_delay`, used by kiosk/sync.py).

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


def feed_retry_delay(backoff: Backoff, probe_interval: float, result, failures: int) -> float:
    """How long the feeder waits after `failures` failures of this kind in a row.

    - No answer (refused, reset, timed out), or 502/503/504 (a console still
      starting, or the proxy in front of it saying it is not there): probe
      again within about a second. Retry-After is not waited out here: this is
      a cheap read, and staff's "on my way" must not sit behind a backoff once
      the console is back (the sender, which writes, still honours it).
    - Another 5xx (the console is up but failed this request): the same probe
      for the first 30 in a row (about 20 s, e.g. while it opens its
      database), then the usual backoff, growing from small again.
    - 429, or our own step failing: the usual backoff, Retry-After honoured.
    Probes are jittered (0.5-1 x the interval) so a building's kiosks do not
    knock in step."""
    starting_tries = 30
    probe = probe_interval * (0.5 + 0.5 * backoff.rng.random())
    if result is None:
        return backoff.delay(failures)
    status = result.status
    if status is None or status in (502, 503, 504):
        return probe
    if status >= 500:
        if failures <= starting_tries:
            return probe
        failures -= starting_tries
    return backoff.delay(failures, result.retry_after)
