"""Parcel pickup at the kiosk (S4): scan the QR from the notification e-mail, or
type the unit and the 6-digit code on the keypad.

    idle ─begin─▶ entry ─scanned / submit─▶ saving ─on_saved─▶ sending
    sending ─on_acked─▶ collect (the parcels, and where to collect them)
            ─on_dead──▶ entry (wrong_code, invalid_code_format, unknown_unit: try again)
                        failed (paused, throttled, code used / expired / invalid: see reception)
                        offline (withdrawn: no answer in time, or the kiosk went offline)
    entry ─submit while offline─▶ offline (nothing is queued)

Only the console can check a code, so a pickup never waits in the outbox: when
the kiosk is offline nothing is queued, and an item not answered within
ANSWER_SECONDS (or when the kiosk goes offline, or the person walks away) is
withdrawn by the app (see `keeps()`), so a stale pickup is never released hours
later. Nothing of one resident is kept for the next: `reset()` forgets it all,
and the unit and code leave the view-model once they are in the outbox.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.refusals import Refusal
from kiosk.viewmodels.contract import ENTRY, FAILED, IDLE, OFFLINE, SAVING, FlowModel  # noqa: F401  (this flow's states)
from kiosk.viewmodels.digit_entry import KeypadEntry, TwoFieldEntry
from kiosk.viewmodels.effects import Enqueue

SENDING = "sending"
COLLECT = "collect"
FINISHED = (COLLECT, FAILED, OFFLINE)

UNIT, CODE = "unit", "code"
KIND = "parcel.pickup"
PATH = "/api/v1/parcels/pickup"
CODE_DIGITS = 6
MAX_UNIT_CHARS = 8
MAX_QR_CHARS = 2048
ANSWER_SECONDS = 5.0
WITHDRAWN = "withdrawn"  # the refusal's code when the kiosk gave up (kiosk/outbox_policy.py)
WITHDRAWN_TEXT = "withdrawn at the kiosk: no answer in time"
STOP_RETRYING = ("too_many_attempts",)  # retryable for the outbox, but not worth a wait here

# Refusals the person can correct on the entry screen.
_ENTRY_ERRORS = {
    "invalid_code_format": "parcel.error.code_format",
    "invalid_request": "parcel.error.code_format",
    "unknown_unit": "parcel.error.unknown_unit",
}
# Refusals that end the attempt: (title, what to do next).
_FAILURES = {
    "code_entry_paused": ("parcel.failed.paused", "parcel.failed.paused_detail"),
    "too_many_attempts": ("parcel.failed.throttled", "parcel.failed.throttled_detail"),
    "token_invalid": ("parcel.failed.unusable", "parcel.see_reception"),
    "token_expired": ("parcel.failed.unusable", "parcel.see_reception"),
    "already_collected": ("parcel.failed.unusable", "parcel.see_reception"),
    "code_expired": ("parcel.failed.unusable", "parcel.see_reception"),
    "not_saved": ("parcel.failed.refused", "parcel.see_reception"),
}
_REFUSED = ("parcel.failed.refused", "parcel.see_reception")


class ParcelViewModel(KeypadEntry, FlowModel):
    # -- life cycle --------------------------------------------------------
    def reset(self) -> None:
        """Forget this resident entirely (Done, idle, leaving the flow)."""
        super().reset()
        self.entry = TwoFieldEntry((UNIT, MAX_UNIT_CHARS), (CODE, CODE_DIGITS))
        self.error_key: str | None = None
        self.error_values: dict = {}
        self.sent_at: datetime | None = None
        self.parcels: list[dict] = []
        self.collect_at = ""
        self.messages = {"zh_CN": "", "en": ""}

    # holds_screen: never (the answer comes within seconds, or the pickup is withdrawn)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def busy(self) -> bool:
        return self.state in (SAVING, SENDING)

    # -- input -------------------------------------------------------------
    @property
    def unit_digits(self) -> str:
        return self.entry.digits[UNIT]

    @property
    def code_digits(self) -> str:
        return self.entry.digits[CODE]

    def _clear_error(self) -> None:
        self._error(None)

    def submit(self) -> Enqueue | None:
        """The big button: "Next" on the unit, "Pick up" on the code."""
        if self.state != ENTRY:
            return None
        if not self.unit_digits:
            self.entry.field = UNIT
            self._error("parcel.error.unit_empty")
            return None
        if self.field == UNIT and not self.code_digits:
            self._error(None)
            self.entry.field = CODE
            return None
        if len(self.code_digits) != CODE_DIGITS:
            self.entry.field = CODE
            self._error("parcel.error.code_format")
            return None
        return self._send({"unit": self.unit_digits, "code": self.code_digits})

    def scanned(self, text) -> Enqueue | None:
        """The USB scanner typed the QR's text and Enter."""
        if self.state != ENTRY or not isinstance(text, str):
            return None
        token = text.strip()
        if not token:
            return None
        if len(token) > MAX_QR_CHARS:
            self._error("parcel.error.not_a_code")
            return None
        return self._send({"qr": token})

    def _send(self, body: dict) -> Enqueue | None:
        self._error(None)
        self.entry.clear(CODE)  # the unit stays for a retry; reset() forgets it
        if not self.online:
            # Only the console can check a code: do not queue it for later.
            self.state = OFFLINE
            return None
        self.state = SAVING
        return Enqueue(KIND, PATH, body)

    def _error(self, key: str | None, **values) -> None:
        self.error_key = key
        self.error_values = values

    # -- events ------------------------------------------------------------
    def on_saved(self, outbox_id: int) -> None:
        if self.state == SAVING:
            self.outbox_id = outbox_id
            self.sent_at = self.clock.now()
            self.state = SENDING

    def on_save_failed(self) -> None:
        if self.state == SAVING:
            self._fail("not_saved")

    def keeps(self, outbox_id: int, now: datetime | None = None) -> bool:
        """Should this queued pickup still be sent? Only the one this flow is waiting
        for, while online, for ANSWER_SECONDS; the app withdraws any other."""
        if self.state != SENDING or outbox_id != self.outbox_id or not self.online:
            return False
        return self.elapsed_seconds(now) < ANSWER_SECONDS

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        if self.sent_at is None:
            return 0.0
        return ((now or self.clock.now()) - self.sent_at).total_seconds()

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, (SENDING,)):
            return False
        body = response if isinstance(response, dict) else {}
        found = body.get("parcels") if isinstance(body.get("parcels"), list) else []
        self.parcels = [
            {name: str(p.get(name) or "")[:40] for name in ("carrier", "shelf", "tracking_tail")}
            for p in found
            if isinstance(p, dict)
        ]
        self.collect_at = "shelf" if body.get("collect_at") == "shelf" else "desk"
        self.messages = {
            "zh_CN": body.get("message_zh") if isinstance(body.get("message_zh"), str) else "",
            "en": body.get("message_en") if isinstance(body.get("message_en"), str) else "",
        }
        self.state = COLLECT
        return True

    def on_dead(self, outbox_id: int, refusal: Refusal) -> bool:
        """Refused (dead-lettered) or withdrawn (refusal.code WITHDRAWN)."""
        if not self.is_ours(outbox_id, (SAVING, SENDING)):
            return False
        if refusal.code == WITHDRAWN:
            self.state = OFFLINE
            return True
        code = refusal.code or "refused"
        if code == "wrong_code":
            left = refusal.attempts_left
            self.state, self.entry.field = ENTRY, CODE
            if left is not None:
                self._error("parcel.error.wrong_code_left", n=left)
            else:
                self._error("parcel.error.wrong_code")
        elif code in _ENTRY_ERRORS:
            self.state = ENTRY
            self.entry.field = UNIT if code == "unknown_unit" else CODE
            self._error(_ENTRY_ERRORS[code])
        else:
            self._fail(code)
        self.outbox_id = self.sent_at = None
        return True

    def _fail(self, code: str) -> None:
        self.failure_code = code
        self.state = FAILED

    # -- what to show ------------------------------------------------------
    @property
    def unit_display(self) -> str:
        return self.unit_digits

    @property
    def code_display(self) -> str:
        """Masked: ● per digit typed, ○ for each still to type."""
        typed = len(self.code_digits)
        return "●" * typed + "○" * (CODE_DIGITS - typed)

    @property
    def code_count(self) -> int:
        return len(self.code_digits)

    def result_keys(self) -> tuple[str | None, str | None]:
        """(title key, what-to-do-next key) for the result card."""
        if self.state == SAVING or self.state == SENDING:
            return "parcel.checking", None
        if self.state == OFFLINE:
            return "parcel.offline", "parcel.offline_detail"
        if self.state == FAILED:
            return _FAILURES.get(self.failure_code or "", _REFUSED)
        if self.state == COLLECT:
            key = "parcel.collect.shelf" if self.collect_at == "shelf" else "parcel.collect.desk"
            return "parcel.found", key  # one entry, a form for one parcel and for more
        return None, None

    @property
    def offer_call(self) -> bool:
        """ "Call reception" where it helps: not when the pause already told reception."""
        if self.state == FAILED:
            return self.failure_code != "code_entry_paused"
        return self.state == OFFLINE

    def message(self, language: str) -> str:
        """The console's own sentence (message_zh / message_en), if it sent one."""
        return self.messages.get("en" if language == "en" else "zh_CN", "")

    @property
    def shelves(self) -> str:
        return "、".join(dict.fromkeys(p["shelf"] for p in self.parcels if p["shelf"]))
