"""The calm idle reset (SECURITY.md 24), with no window: when to warn, when to clear.

The kiosk clears itself after `idle_seconds` (60) without a touch, so the next
person never sees the last one's data. Clearing without warning took
reassurance away from people still reading ("reception is on the way"), so:

- the last WARN_SECONDS show a countdown with "还需要时间 · More time"; any
  touch (that button included) restarts the idle clock;
- a screen with news for the person (reception on the way, the visitor's pass,
  a repair's ticket number) stays NEWS_SECONDS (3 min) unless dismissed: they
  are waiting for, or reading, what they came for;
- nothing to forget (home, default language, every flow reset): no countdown.
"""

from __future__ import annotations

import math
from datetime import datetime

WARN_SECONDS = 10
NEWS_SECONDS = 180


def has_news(help_call, visitor, repair, invitation=None) -> bool:
    """A screen the person is reading an answer on (flows' own states, read only)."""
    return (
        help_call.state in ("sent", "coming")
        # an invited visitor's sign-out pass, "please see the desk", or "saved offline"
        or (invitation is not None and invitation.state in ("signed_in", "see_staff", "recorded"))
        or (visitor.step == "outcome" and visitor.state in ("confirmed", "denied"))
        or (repair.step in ("done", "emergency") and repair.state == "sent")
    )


class IdleTimer:
    def __init__(self, session, warn_seconds: float = WARN_SECONDS, news_seconds=NEWS_SECONDS):
        self.session = session
        self.warn_seconds = warn_seconds
        self.news_seconds = news_seconds

    def limit(self, news: bool) -> float:
        return (
            max(self.session.idle_seconds, self.news_seconds)
            if news
            else (self.session.idle_seconds)
        )

    def seconds_left(self, now: datetime, news: bool = False) -> float:
        return self.limit(news) - self.session.idle_for(now)

    def due(self, now: datetime, news: bool = False) -> bool:
        return self.seconds_left(now, news) <= 0

    def countdown(self, now: datetime, news: bool = False) -> int | None:
        """Whole seconds to show (10 … 1) in the last WARN_SECONDS; None otherwise."""
        left = self.seconds_left(now, news)
        if left <= 0 or left > self.warn_seconds:
            return None
        return math.ceil(left)

    def more_time(self, now: datetime) -> None:
        """ "More time" tapped: a full idle period again."""
        self.session.touched(now)
