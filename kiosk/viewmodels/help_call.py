""" "Call reception" (S3, S7): an escalation with a clock, as a state machine.

    idle ─start()─▶ saving ─on_saved()─▶ waiting ─on_acked()─▶ sent
                                                              │
                       escalation.acknowledged (feed) ────────▶ coming
                       escalation.resolved (feed) ────────────▶ resolved
    failed: the outbox gave up on the item (dead-lettered).

The screen shows `message_key` (with `message_values`) and, while someone is
waiting, the seconds since the call was saved.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.refusals import Refusal
from kiosk.viewmodels.contract import FAILED, IDLE, SAVING, WAITING, FlowModel
from shared.clock import to_iso

SENT = "sent"
COMING = "coming"
RESOLVED = "resolved"
# Each state's message, its key named in full (never built from the state's name), so a
# test can find every key the kiosk uses (tests/test_word_catalogue.py).
_MESSAGE_KEYS = {
    IDLE: "help.idle",
    SAVING: "help.saving",
    SENT: "help.sent",
    RESOLVED: "help.resolved",
    FAILED: "help.failed",
}

KIND = "escalation.help"
METHOD = "POST"
PATH = "/api/v1/escalations"

EVENT_ACKNOWLEDGED = "escalation.acknowledged"
EVENT_RESOLVED = "escalation.resolved"


def romanised(name: str) -> str:
    """王芳 → "Wang Fang" (surname, then the given name); Latin names stay as given."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return name
    from kiosk.surnames import lazy_pinyin  # pypinyin, already loaded for the name picker

    surname_len = 2 if len(name) >= 3 and _compound(name[:2]) else 1
    parts = [name[:surname_len], name[surname_len:]]
    words = ["".join(lazy_pinyin(part)).capitalize() for part in parts if part]
    return " ".join(words)


def _compound(first_two: str) -> bool:
    from kiosk.surnames import all_surnames

    return any(s.text == first_two for s in all_surnames())


class HelpCallViewModel(FlowModel):
    # holds_screen: never (the idle reset applies to a help call as to any screen)

    def reset(self) -> None:
        """Forget this call (idle timeout, or back home after it was resolved)."""
        super().reset()
        self.escalation_id: int | None = None
        self.staff_name: str = ""
        self.started_at: datetime | None = None
        self._early_events: dict[int, dict] = {}

    # -- what to queue ---------------------------------------------------
    @property
    def busy(self) -> bool:
        """A call is under way: another tap must not queue a second one."""
        return self.state in (SAVING, WAITING, SENT, COMING)

    def start(self, language: str, screen: str) -> dict | None:
        """The visitor tapped "call reception". Returns what to enqueue, or None
        if a call is already under way."""
        if self.busy:
            return None
        self.reset()
        self.state = SAVING
        self.started_at = self.clock.now()
        return {
            "kind": KIND,
            "method": METHOD,
            "path": PATH,
            "body": {
                "kind": "help",
                "created_at": to_iso(self.started_at),
                "language": language,
                "screen": screen,
            },
        }

    # -- events ----------------------------------------------------------
    def on_saved(self, outbox_id: int) -> None:
        """The outbox committed the call: it will reach reception."""
        if self.state == SAVING:
            self.outbox_id = outbox_id
            self.state = WAITING

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        """The console acknowledged receipt. True if it was this call."""
        if outbox_id != self.outbox_id or self.state != WAITING:
            return False
        self.state = SENT
        escalation_id = (response or {}).get("id")
        self.escalation_id = escalation_id if isinstance(escalation_id, int) else None
        early = self._early_events.pop(self.escalation_id, None)
        if early is not None:
            self.on_feed_event(early)
        self._early_events.clear()
        return True

    def on_dead(self, outbox_id: int, refusal: Refusal | None = None) -> bool:
        if outbox_id != self.outbox_id or not self.busy:
            return False
        self.state = FAILED
        return True

    def on_feed_event(self, event: dict) -> bool:
        """escalation.acknowledged / escalation.resolved from the kiosk's feed."""
        kind = event.get("kind")
        payload = event.get("payload") or {}
        escalation_id = payload.get("escalation_id")
        if kind not in (EVENT_ACKNOWLEDGED, EVENT_RESOLVED) or not isinstance(escalation_id, int):
            return False
        if self.state == WAITING and self.escalation_id is None:
            # The console's answer to our POST was lost but staff already
            # reacted: keep the event until the resend tells us our id.
            self._early_events[escalation_id] = event
            return False
        if escalation_id != self.escalation_id or self.state not in (SENT, COMING):
            return False
        if kind == EVENT_ACKNOWLEDGED:
            self.staff_name = str(payload.get("staff_name") or "")[:40]
            self.state = COMING
        else:
            self.state = RESOLVED
        return True

    # -- what to show ----------------------------------------------------
    @property
    def message_key(self) -> str:
        if self.state == WAITING:
            return "help.waiting_online" if self.online else "help.waiting_offline"
        if self.state == COMING:
            return "help.coming_named" if self.staff_name else "help.coming"
        return _MESSAGE_KEYS[self.state]

    @property
    def message_values(self) -> dict:
        return {"name": self.staff_name} if self.state == COMING and self.staff_name else {}

    def message_values_in(self, language: str) -> dict:
        """The English line gets the name in pinyin (王芳 → Wang Fang): an English
        reader cannot say, or look for, a name in characters."""
        values = self.message_values
        if language == "en" and values:
            values = {"name": romanised(values["name"])}
        return values

    @property
    def detail_key(self) -> str | None:
        """A second line under the status."""
        return {
            WAITING: None if self.online else "help.detail_offline",
            SENT: "help.detail_wait_here",
            COMING: "help.detail_wait_here",
            FAILED: "help.detail_failed",
        }.get(self.state)

    @property
    def shows_elapsed(self) -> bool:
        return self.state in (WAITING, SENT, COMING)

    def elapsed_seconds(self, now: datetime | None = None) -> int:
        if self.started_at is None:
            return 0
        return max(0, int(((now or self.clock.now()) - self.started_at).total_seconds()))
