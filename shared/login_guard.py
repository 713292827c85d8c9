"""Throttling password guesses per account (SECURITY.md 3, NIST 800-63B 5.2.2).

Failures are rows in the database, so a restart does not reset them. Per
account name (known or not, so the answer never tells which names exist):

- the first FREE_FAILURES failures in an hour cost nothing;
- after that each failure opens a wait that doubles (1 s, 2 s, 4 s … up to
  MAX_DELAY): a mistyping person barely notices, a guesser gets ~75 an hour;
- HOURLY_LIMIT failures within an hour lock the account until the oldest of
  them is an hour old: never more than 100 guesses per account per hour.

While an account is waiting or locked the password is not checked at all, and
the refused attempt is not counted (it was not a guess). A successful sign-in,
an admin's password reset or unlock clears the count.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

import sqlite_utils

from shared.clock import parse_utc, to_iso
from shared.db import one
from shared.errors import LobbyDeskError
from shared.terms import plural

FREE_FAILURES = 10
HOURLY_LIMIT = 100
MAX_DELAY = timedelta(minutes=1)
WINDOW = timedelta(hours=1)


class SignInPaused(LobbyDeskError):
    """Too many wrong passwords for this username. Wait, then try again."""

    code = "sign_in_paused"
    http_status = 429

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"登录尝试过多，请 {minutes} 分钟后再试 · Too many attempts for this username: "
            f"try again in {plural('minutes', minutes, 'en')}."
        )


def account_key(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode("utf-8")).hexdigest()


def _delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 16)
    return min(timedelta(seconds=2**doublings), MAX_DELAY)


def seconds_to_wait(db: sqlite_utils.Database, clock, username: str) -> int:
    """0 if this account may try a password now, else how long until it may."""
    now = clock.now()
    row = one(
        db,
        "SELECT COUNT(*) AS n, MIN(at) AS oldest, MAX(at) AS newest FROM login_failures"
        " WHERE account_key = ? AND at > ?",
        (account_key(username), to_iso(now - WINDOW)),
    )
    failures = row["n"]
    if failures == 0:
        return 0
    if failures >= HOURLY_LIMIT:
        # the hour's budget is spent: wait until enough failures leave the window
        excess = failures - HOURLY_LIMIT + 1
        nth = one(
            db,
            "SELECT at FROM login_failures WHERE account_key = ? AND at > ?"
            " ORDER BY at LIMIT 1 OFFSET ?",
            (account_key(username), to_iso(now - WINDOW), excess - 1),
        )
        free_at = parse_utc(nth["at"]) + WINDOW
    else:
        free_at = parse_utc(row["newest"]) + _delay_after(failures)
    remaining = (free_at - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


def record_failure(db: sqlite_utils.Database, clock, username: str) -> None:
    db.execute(
        "INSERT INTO login_failures (account_key, at) VALUES (?, ?)",
        (account_key(username), to_iso(clock.now())),
    )


def clear(db: sqlite_utils.Database, username: str) -> None:
    db.execute("DELETE FROM login_failures WHERE account_key = ?", (account_key(username),))


def purge_old(db: sqlite_utils.Database, clock) -> int:
    """Failures older than the window no longer count: drop them."""
    return db.execute(
        "DELETE FROM login_failures WHERE at <= ?", (to_iso(clock.now() - WINDOW),)
    ).rowcount
