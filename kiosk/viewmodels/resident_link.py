"""A resident asks at the kiosk for their page's link again (docs/RESIDENT_PAGE.md):
unit and the last 4 digits of their mobile → POST /api/v1/resident-link through the
outbox. The console answers the same neutral words whether or not anyone matched (it
never tells who lives where), and a match gets a fresh link on their own channel.

    idle ─begin─▶ entry ─send─▶ saving ─on_saved─▶ sent (online) / queued (offline)
    sent / queued ─on_acked─▶ done;  ─on_dead─▶ failed
"""

from __future__ import annotations

from kiosk.viewmodels.contract import ENTRY, FAILED, IDLE, SAVING, FlowModel
from kiosk.viewmodels.digit_entry import KeypadEntry, TwoFieldEntry
from kiosk.viewmodels.effects import Enqueue

SENT = "sent"
QUEUED = "queued"
DONE = "done"

KIND = "resident.link"
PATH = "/api/v1/resident-link"
UNIT, PHONE = "unit", "phone"
MAX_UNIT_DIGITS = 8
PHONE_DIGITS = 4


class ResidentLinkViewModel(KeypadEntry, FlowModel):
    WAITING_STATES = (SAVING, SENT, QUEUED)

    def reset(self) -> None:
        super().reset()
        self.entry = TwoFieldEntry((UNIT, MAX_UNIT_DIGITS), (PHONE, PHONE_DIGITS))
        self.error_key: str | None = None

    def send(self):
        """发送链接 · Send link: both fields complete → one outbox item."""
        if self.state != ENTRY:
            return None
        unit, phone = self.entry.digits[UNIT], self.entry.digits[PHONE]
        if not unit:
            self.error_key = "rlink.error_unit"
            self.entry.select(UNIT)
            return None
        if len(phone) != PHONE_DIGITS:
            self.error_key = "rlink.error_phone"
            self.entry.select(PHONE)
            return None
        self.state = SAVING
        self.entry = TwoFieldEntry((UNIT, MAX_UNIT_DIGITS), (PHONE, PHONE_DIGITS))  # not kept
        return Enqueue(KIND, PATH, {"unit": unit, "phone": phone})

    def on_saved(self, outbox_id: int) -> None:
        if self.state == SAVING:
            self.outbox_id = outbox_id
            self.state = SENT if self.online else QUEUED

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, (SENT, QUEUED)):
            return False
        self.state = DONE
        return True

    # -- what to show ------------------------------------------------------
    @property
    def message_key(self) -> str | None:
        if self.state == ENTRY:
            return self.error_key
        return {
            SAVING: "rlink.saving",
            SENT: "rlink.done",  # the answer is neutral anyway: said at once
            DONE: "rlink.done",
            QUEUED: "rlink.queued",
            FAILED: "rlink.failed",
        }.get(self.state)

    @property
    def finished(self) -> bool:
        return self.state not in (IDLE, ENTRY)
