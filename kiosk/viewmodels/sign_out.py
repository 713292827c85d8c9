"""Signing out at the kiosk (S10): scan the pass QR, or type the phone number.

    idle ─begin─▶ entry ─scanned / phone_submit─▶ saving ─on_saved─▶ waiting / offline
    waiting ─on_acked─▶ done ("Goodbye, 张*")
            ─on_dead──▶ failed (token_invalid, token_expired, not_on_site …: see reception)

The scanner is a USB keyboard wedge typing into a focused TextInput; a camera
(kiosk/pass_reader.py), where one exists, feeds its decoded text to the same
`scanned()`.
"""

from __future__ import annotations

from kiosk.viewmodels import phone_entry
from kiosk.viewmodels.contract import ENTRY, FAILED, IDLE, SAVING, FlowModel  # noqa: F401 (its states)
from kiosk.viewmodels.effects import Enqueue
from shared import phones

WAITING = "waiting"
OFFLINE = "offline"
DONE = "done"
# Each state's message, its key named in full (tests/test_word_catalogue.py finds them).
_MESSAGE_KEYS = {SAVING: "signout.saving", WAITING: "signout.waiting", OFFLINE: "signout.offline"}

KIND = "visit.sign_out"
PATH = "/api/v1/visits/sign-out"
MAX_PASS_CHARS = 512

_FAILURES = {
    "token_invalid": "signout.failed.token_invalid",
    "token_expired": "signout.failed.token_expired",
    "not_on_site": "signout.failed.not_on_site",
    "invalid_phone": "signout.failed.invalid_phone",
}


class SignOutViewModel(FlowModel):
    WAITING_STATES = (SAVING, WAITING, OFFLINE)

    def reset(self) -> None:
        super().reset()
        self.digits = ""
        self.error_key: str | None = None
        self.masked_name = ""

    def retry(self) -> None:
        """ "Retry" after a failed sign-out: the scanner and keypad again, nothing kept."""
        if self.state == FAILED:
            self.begin()

    # -- input -------------------------------------------------------------
    def key(self, key: str) -> None:
        if self.state != ENTRY:
            return
        self.error_key = None
        self.digits = phone_entry.press(self.digits, key)

    def scanned(self, text: str) -> Enqueue | None:
        """The scanner (or a camera) read a pass: sign out with it."""
        if self.state != ENTRY or not isinstance(text, str):
            return None
        token = text.strip()
        if not token:
            return None
        if len(token) > MAX_PASS_CHARS:
            self.error_key = "signout.error_not_a_pass"
            return None
        return self._send({"pass": token})

    def phone_submit(self) -> Enqueue | None:
        if self.state != ENTRY:
            return None
        try:
            phone = phones.normalise(self.digits)
        except phones.InvalidPhone:
            self.error_key = "signout.error_phone"
            return None
        return self._send({"phone": phone})

    def _send(self, body: dict) -> Enqueue:
        self.error_key = None
        self.digits = ""
        self.state = SAVING
        return Enqueue(KIND, PATH, body)

    # -- events ------------------------------------------------------------
    def on_saved(self, outbox_id: int) -> None:
        if self.state == SAVING:
            self.outbox_id = outbox_id
            self.state = WAITING if self.online else OFFLINE

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, (WAITING, OFFLINE)):
            return False
        masked = (response or {}).get("masked_name")
        self.masked_name = masked[:20] if isinstance(masked, str) else ""
        self.state = DONE
        return True

    # -- what to show ------------------------------------------------------
    @property
    def phone_display(self) -> str:
        return phones.grouped(self.digits)

    @property
    def message_key(self) -> str | None:
        if self.state == ENTRY:
            return self.error_key
        if self.state == WAITING and not self.online:
            return "signout.offline"
        if self.state == DONE:
            return "signout.goodbye_named" if self.masked_name else "signout.goodbye"
        if self.state == FAILED:
            return _FAILURES.get(self.failure_code or "", "signout.failed.refused")
        return _MESSAGE_KEYS.get(self.state)

    @property
    def message_values(self) -> dict:
        return {"name": self.masked_name} if self.state == DONE and self.masked_name else {}

    @property
    def detail_key(self) -> str | None:
        return {
            FAILED: "signout.see_reception",
            OFFLINE: "signout.offline_detail",
            DONE: "signout.thanks",
        }.get(self.state)

    @property
    def finished(self) -> bool:
        return self.state in (WAITING, OFFLINE, DONE, FAILED)
