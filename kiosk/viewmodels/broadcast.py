"""What the idle screen's carousel and the emergency overlay show (S8, S9). No I/O here.

Announcements come from GET /api/v1/announcements (polled, and fetched at once
when the feed says 'announcements.changed'); they are cached in the kiosk store
so an offline kiosk keeps showing them, and each carries its start and end so
the carousel starts and stops showing it on time even offline. The console's
clock rules: the offset between its `now` and ours is kept and applied.

The emergency comes from the feed ('emergency.started' / 'emergency.ended') and
from GET /api/v1/broadcast (at start and on reconnect). Answers can cross on the
way (a state fetched just before a start, delivered just after the feed's
event), so a state answer older than what the kiosk already knows is ignored:
it carries the console's newest emergency id, and an ended emergency never
comes back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import SystemClock, parse_utc

# kiosk_state keys (kiosk/store.py): no personal data in either
CACHE_KEY = "broadcast_announcements"
EMERGENCY_KEY = "broadcast_emergency"

EVENT_STARTED = "emergency.started"
EVENT_ENDED = "emergency.ended"
EVENT_CHANGED = "announcements.changed"

# What a feed event means for the app.
NOTHING = ""
EMERGENCY = "emergency"
ANNOUNCEMENTS = "announcements"

ROTATE_SECONDS = 8.0  # the least time a notice stays; longer ones stay to be read
ZH_CHARS_PER_SECOND = 250 / 60  # an unhurried reader of Chinese
EN_WORDS_PER_SECOND = 200 / 60
PAUSE_SECONDS = 20.0  # a touch on the notice holds it this long
# Polled this often besides the feed's events: a change shows within 30 s even without one.
POLL_SECONDS = 15.0
KINDS = ("fire", "power", "water", "other")
MAX_ITEMS = 20
_TEXT_LIMITS = {"title_zh": 40, "title_en": 80, "body_zh": 300, "body_en": 300}


def reading_seconds(zh: str, en: str) -> float:
    """How long a notice stays: the slower of reading its Chinese (250 characters a
    minute) and its English (200 words a minute), never under ROTATE_SECONDS."""
    zh_chars = sum(1 for ch in zh if not ch.isspace())
    en_words = len(en.split())
    return max(ROTATE_SECONDS, zh_chars / ZH_CHARS_PER_SECOND, en_words / EN_WORDS_PER_SECOND)


@dataclass(frozen=True)
class Slide:
    """One announcement as the carousel shows it, in both languages."""

    announcement_id: int
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    image: str | None  # the cache key of its picture (a file name stem), or None
    position: int  # 1-based
    count: int


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_utc(value)
    except ValueError:
        return None


def _announcement(item) -> dict | None:
    """One item of the console's answer, checked; None if it is not usable."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        return None
    starts = _time(item.get("starts_at"))
    if starts is None:
        return None
    ends = _time(item.get("ends_at")) if item.get("ends_at") is not None else None
    image = item.get("image")
    if not (isinstance(image, str) and image.isalnum() and len(image) <= 64):
        image = None
    return {
        "id": item["id"],
        **{key: _text(item.get(key), limit) for key, limit in _TEXT_LIMITS.items()},
        "priority": item["priority"] if isinstance(item.get("priority"), int) else 0,
        "starts_at": item["starts_at"],
        "ends_at": item["ends_at"] if ends is not None else None,
        "image": image,
    }


def _emergency(payload) -> dict | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("emergency_id"), int):
        return None
    kind = payload.get("kind") if payload.get("kind") in KINDS else "other"
    return {
        "emergency_id": payload["emergency_id"],
        "kind": kind,
        "title_zh": _text(payload.get("title_zh"), 40),
        "title_en": _text(payload.get("title_en"), 80),
        "instructions_zh": _text(payload.get("instructions_zh"), 500),
        "instructions_en": _text(payload.get("instructions_en"), 500),
        "started_at": payload.get("started_at") if _time(payload.get("started_at")) else None,
    }


class BroadcastViewModel:
    def __init__(
        self,
        clock=None,
        cached: dict | None = None,
        cached_emergency: dict | None = None,
        token: str | None = None,
    ):
        """`cached*`: what `cache()` / `emergency_cache()` gave the kiosk store. The
        emergency part is only trusted from the same pairing (`token`): emergency ids
        from another console, or a console set up afresh, mean nothing here."""
        self.clock = clock or SystemClock()
        self.pairing = hashlib.sha256((token or "").encode()).hexdigest()[:16]
        self.announcements: list[dict] = []
        self.skew = timedelta(0)  # the console's clock minus ours, at the last fetch
        self.emergency: dict | None = None
        self.known_latest = 0  # the newest emergency id this kiosk has heard of
        self.ended: set[int] = set()
        self._index = 0
        self._shown_id: int | None = None
        self._shown_since: datetime | None = None
        self._view: tuple | None = None  # (id, position, count) last shown
        if isinstance(cached, dict):
            self.apply_announcements(cached, cached=True)
        if isinstance(cached_emergency, dict) and cached_emergency.get("pairing") == self.pairing:
            self.emergency = _emergency(cached_emergency.get("emergency"))
            latest = cached_emergency.get("known_latest")
            self.known_latest = latest if isinstance(latest, int) else 0
            ended = cached_emergency.get("ended")
            self.ended = (
                {i for i in ended if isinstance(i, int)} if isinstance(ended, list) else set()
            )

    # -- announcements -----------------------------------------------------
    def apply_announcements(self, body, cached: bool = False) -> bool:
        """The console's answer (or the cached copy). True if what is shown may change."""
        if not isinstance(body, dict) or not isinstance(body.get("announcements"), list):
            return False
        items = [a for a in map(_announcement, body["announcements"][:MAX_ITEMS]) if a]
        if cached:
            skew = body.get("skew_seconds")
            self.skew = timedelta(seconds=skew if isinstance(skew, int | float) else 0)
        else:
            console_now = _time(body.get("now"))
            if console_now is not None:
                self.skew = console_now - self.clock.now()
        changed = items != self.announcements
        self.announcements = items
        return changed

    def cache(self) -> dict:
        """What the kiosk store keeps for offline use (no personal data)."""
        return {
            "announcements": self.announcements,
            "skew_seconds": self.skew.total_seconds(),
        }

    def showing(self, now: datetime | None = None) -> list[dict]:
        """Announcements to show now by the console's clock, highest priority first."""
        console_now = (now or self.clock.now()) + self.skew
        return [
            a
            for a in self.announcements
            if parse_utc(a["starts_at"]) <= console_now
            and (a["ends_at"] is None or parse_utc(a["ends_at"]) > console_now)
        ]

    def slide(self, now: datetime | None = None) -> Slide | None:
        now = now or self.clock.now()
        items = self.showing(now)
        if not items:
            self._shown_id = self._view = None
            return None
        if self._shown_id is not None:
            # Keep showing the same announcement when the list changes around it.
            ids = [a["id"] for a in items]
            self._index = ids.index(self._shown_id) if self._shown_id in ids else self._index
        self._index %= len(items)
        item = items[self._index]
        if item["id"] != self._shown_id:
            self._shown_id, self._shown_since = item["id"], now
        self._view = (item["id"], self._index + 1, len(items))
        return Slide(
            announcement_id=item["id"],
            title_zh=item["title_zh"],
            title_en=item["title_en"],
            body_zh=item["body_zh"],
            body_en=item["body_en"],
            image=item["image"],
            position=self._index + 1,
            count=len(items),
        )

    def pause(self, now: datetime | None = None) -> None:
        """Someone touched the notice: keep it for PAUSE_SECONDS from now."""
        self._paused_until = (now or self.clock.now()) + timedelta(seconds=PAUSE_SECONDS)

    def _stay_seconds(self, items: list[dict]) -> float:
        shown = next((a for a in items if a["id"] == self._shown_id), None)
        if shown is None:
            return ROTATE_SECONDS
        return reading_seconds(
            shown["title_zh"] + shown["body_zh"], f"{shown['title_en']} {shown['body_en']}"
        )

    def tick(self, now: datetime | None = None) -> bool:
        """Every second: move to the next announcement once it has been shown long
        enough to read (not while a touch holds it), and notice ones that started
        or ended. True if the carousel should be redrawn."""
        now = now or self.clock.now()
        before = self._view
        items = self.showing(now)
        paused = getattr(self, "_paused_until", None)
        if paused is not None and now < paused:
            self._shown_since = now  # held: its reading time starts again after the pause
        if len(items) > 1 and self._shown_since is not None:
            if (now - self._shown_since).total_seconds() >= self._stay_seconds(items):
                self._index = (self._index + 1) % len(items)
                self._shown_id = None
        self.slide(now)
        return self._view != before

    def images(self) -> dict[str, int]:
        """Picture cache key → announcement id, for every cached announcement with one."""
        return {a["image"]: a["id"] for a in self.announcements if a["image"]}

    # -- the emergency -----------------------------------------------------
    @property
    def in_emergency(self) -> bool:
        return self.emergency is not None

    def on_feed_event(self, event: dict) -> str:
        """A feed event: EMERGENCY (started/ended: show it), ANNOUNCEMENTS (fetch), or NOTHING."""
        kind = event.get("kind") if isinstance(event, dict) else None
        payload = event.get("payload") if isinstance(event, dict) else None
        if kind == EVENT_CHANGED:
            return ANNOUNCEMENTS
        if kind == EVENT_STARTED:
            emergency = _emergency(payload)
            if emergency is None or emergency["emergency_id"] in self.ended:
                return NOTHING
            self.known_latest = max(self.known_latest, emergency["emergency_id"])
            self.emergency = emergency
            return EMERGENCY
        if kind == EVENT_ENDED:
            ended = (payload or {}).get("emergency_id") if isinstance(payload, dict) else None
            if not isinstance(ended, int):
                return NOTHING
            self.ended.add(ended)
            self.known_latest = max(self.known_latest, ended)
            if self.emergency is not None and self.emergency["emergency_id"] == ended:
                self.emergency = None
            return EMERGENCY
        return NOTHING

    def apply_state(self, body) -> bool:
        """GET /api/v1/broadcast's answer. True if the emergency shown changed."""
        if not isinstance(body, dict) or not isinstance(body.get("latest_id"), int):
            return False
        latest = body["latest_id"]
        if latest < self.known_latest:
            return False  # asked before an event we have already seen
        self.known_latest = latest
        before = self.emergency
        current = _emergency(body.get("emergency"))
        if current is None:
            if self.emergency is not None:
                self.ended.add(self.emergency["emergency_id"])
            self.emergency = None
        elif current["emergency_id"] not in self.ended:
            self.emergency = current
        return self.emergency != before

    def emergency_cache(self) -> dict:
        return {
            "pairing": self.pairing,
            "emergency": self.emergency,
            "known_latest": self.known_latest,
            "ended": sorted(self.ended)[-20:],
        }
