"""Visitor registration (S2, S10), as a plain state machine the screens display.

Steps, in order (a returning visitor skips the name):

    phone ─▶ (returning? ─yes─▶) ─▶ unit ─▶ purpose ─submit─▶ outcome
      │        ├─ same as last time ─submit─▶ outcome   (one tap: unit and purpose as before)
      │        └─ no / not found ─▶ name ─▶ unit ─▶ …
      └─ details ─▶ privacy (the full notice) ─back─▶ phone

The phone screen carries a one-line notice (who, what, how long: SECURITY.md 22)
above the first personal field, with the full notice one tap away; reading it
all was two thirds of a walk-in's time (bench/walk_in_klm.py). Going on from
the phone step is the consent. The phone comes before the name so a returning
visitor is recognised first and never types a name again; the console sends
the unit and purpose of the last visit, so "same as last time" is one tap
(reception still confirms the identity: S2). The photo step is
skipped: `visitor_photo_enabled` is off by default and the kiosk has no
camera support yet.

Outcome (after submit):

    saving ─on_saved─▶ waiting (online) / offline ─on_acked─▶ sent
    sent ── visit.confirmed (feed) ──▶ confirmed (directions + pass QR)
         ── visit.denied (feed) ─────▶ denied ("please see reception")
    confirmed / denied ── visit.reopened (feed: reception undid it) ──▶ sent
    failed: the console refused the registration (dead-lettered)

Nothing of one visitor is kept for the next: `reset()` forgets everything, and
once the registration is in the outbox its name and phone leave the
view-model (the outbox holds them until the console acknowledges them).
"""

from __future__ import annotations

import re
from datetime import datetime

from kiosk.viewmodels import phone_entry
from kiosk.viewmodels.contract import StepFlowModel
from kiosk.viewmodels.effects import Enqueue, Query
from kiosk.viewmodels.unit_entry import UNIT, UnitEntry
from kiosk.viewmodels.visitor_name import (  # noqa: F401  (the screens import them from here)
    MAX_FULL_NAME_CHARS,
    PICKER,
    SURNAME_SLOTS,
    TITLES,
    TYPED,
    NameEntry,
)
from kiosk.viewmodels.visitor_returning import ReturningVisitor
from kiosk.viewmodels.visitor_steps import (  # noqa: F401  (the flow's steps and states)
    CONFIRMED,
    DENIED,
    FAILED,
    IDLE,
    NAME,
    OFFLINE,
    OUTCOME,
    PHONE,
    PRIVACY,
    PURPOSE,
    PURPOSES,
    RETURNING,
    SAVING,
    SENT,
    STEPS,
    UNDECIDED,
    WAITING,
)
from shared import phones
from shared.clock import to_iso

KIND = "visit.register"
PATH = "/api/v1/visits"
EVENT_CONFIRMED = "visit.confirmed"
EVENT_DENIED = "visit.denied"
EVENT_REOPENED = "visit.reopened"  # reception undid its decision (shared/visit_undo.py)

MAX_PARTY_SIZE = 10
REMIND_AFTER_SECONDS = 60
HOLD_SCREEN_SECONDS = 300  # the waiting screen outlasts the idle reset, up to this
_CHINESE_MOBILE = re.compile(r"1[3-9]\d{9}")  # complete: no "Next" needed

DEFAULT_SETTINGS = {
    "visit_retention_days": 90,
    "visitor_phone_required": False,
    "visitor_photo_enabled": False,
}

_FAILURES = {
    "unknown_unit": "visitor.failed.unknown_unit",
    "returning_visitor_unknown": "visitor.failed.returning_unknown",
    "phone_required": "visitor.failed.phone_required",
    "invalid_phone": "visitor.failed.invalid",
    "invalid_name": "visitor.failed.invalid",
    "not_saved": "visitor.failed.not_saved",
}
# Each outcome's message, its key named in full (tests/test_word_catalogue.py finds them).
_OUTCOME_KEYS = {
    SAVING: "visitor.outcome.saving",
    WAITING: "visitor.outcome.waiting",
    OFFLINE: "visitor.outcome.offline",
    SENT: "visitor.outcome.sent",
    CONFIRMED: "visitor.outcome.confirmed",
    DENIED: "visitor.outcome.denied",
}


def settings_from(body: dict | None) -> dict:
    """The visitor settings out of GET /api/v1/settings (or the cached copy), checked."""
    merged = dict(DEFAULT_SETTINGS)
    for key, default in DEFAULT_SETTINGS.items():
        value = (body or {}).get(key)
        if type(value) is type(default) and (not isinstance(value, int) or value > 0):
            merged[key] = value
    return merged


class VisitorViewModel(ReturningVisitor, NameEntry, UnitEntry, StepFlowModel):
    UNIT_EMPTY_ERROR = "visitor.unit.error_empty"
    UNIT_UNKNOWN_ERROR = "visitor.unit.error_unknown"
    STEP_AFTER_UNIT = PURPOSE
    FIRST_STEP = PHONE  # under the one-line notice
    WAITING_STATES = UNDECIDED
    settings_from = staticmethod(settings_from)

    # -- life cycle --------------------------------------------------------
    def reset(self) -> None:
        """Forget this visitor entirely (idle timeout, Done, back out of the flow)."""
        super().reset()
        self._clear_personal()
        self.lookup_pending = False
        self.returning_name: str | None = None
        self.returning = False
        self.submit_after_unit: str | None = None  # "Register" on the unit: the language
        self.last_unit: str | None = None  # the returning visitor's last host unit
        self.last_purpose = PURPOSES[0]
        self.name_mode = PICKER
        self.initials = ""
        self._forget_unit()
        self.purpose = PURPOSES[0]
        self.party_size = 1
        self.visit_id: int | None = None
        self.decided = False
        self.pass_token: str | None = None
        self.directions = {"zh_CN": "", "en": ""}
        self.outcome_unit = ""
        self._early_events: dict[int, dict] = {}

    def _clear_personal(self) -> None:
        self.phone_digits = ""
        self.phone: str | None = None
        self.surname = ""
        self.title = ""
        self.full_name = ""
        self.name: str | None = None

    def holds_screen(self, now: datetime | None = None) -> bool:
        """While reception decides, the waiting screen outlasts the 60 s idle reset
        (it shows nothing personal); the decision then gets a fresh 60 s."""
        return (
            self.step == OUTCOME
            and self.state in UNDECIDED
            and self.state != OFFLINE
            and self.elapsed_seconds(now) < HOLD_SCREEN_SECONDS
        )

    def done(self) -> None:
        self.reset()

    def back(self) -> None:
        self._set_error(None)
        self.offer_call = False
        if self.step == PRIVACY:
            self.step = PHONE  # the full notice was a detail of the phone step
        elif self.step == PHONE:
            self.reset()
        elif self.step in (RETURNING, NAME):
            self.returning, self.returning_name, self.lookup_pending = False, None, False
            self.last_unit = None
            self.step = PHONE
        elif self.step == UNIT:
            self.unit_checking = False
            self.step = RETURNING if self.returning else NAME
        elif self.step == PURPOSE:
            self.step = UNIT

    def _set_error(self, key: str | None, **values) -> None:
        self.error_key = key
        self.error_values = values

    # -- privacy -------------------------------------------------------------
    @property
    def retention_days(self) -> int:
        return self.settings["visit_retention_days"]

    @property
    def phone_required(self) -> bool:
        return self.settings["visitor_phone_required"]

    def show_privacy(self) -> None:
        """ "Details" under the one-line notice: the full notice, then back to the phone."""
        if self.step == PHONE and not self.lookup_pending:
            self._set_error(None)
            self.step = PRIVACY

    def agree(self) -> None:
        if self.step == PRIVACY:
            self.step = PHONE

    # -- phone ---------------------------------------------------------------
    def phone_key(self, key: str) -> None:
        if self.step != PHONE or self.lookup_pending:
            return
        self._set_error(None)
        if self.phone is not None:
            # Once entered the number is only ever shown masked: editing starts afresh.
            self.phone, self.phone_digits = None, ""
            if key in ("back", "clear"):
                return
        self.phone_digits = phone_entry.press(self.phone_digits, key)

    @property
    def phone_display(self) -> str:
        """Digits while typing; masked (138 **** 5678) once entered (SECURITY.md 24)."""
        return phones.grouped(phones.mask(self.phone) if self.phone else self.phone_digits)

    def phone_next(self) -> Query | None:
        if self.step != PHONE or self.lookup_pending:
            return None
        if self.phone is None:
            if not self.phone_digits.strip("+"):
                if self.phone_required:
                    self._set_error("visitor.phone.error_required")
                    return None
                return self._after_phone()
            try:
                self.phone = phones.normalise(self.phone_digits)
            except phones.InvalidPhone:
                self._set_error("visitor.phone.error_invalid")
                return None
            self.phone_digits = ""
        if not self.online:
            return self._after_phone()
        self.lookup_pending = True
        return Query("lookup_visitor", (self.phone,), "on_lookup", self.generation)

    def phone_key_and_go(self, key: str) -> Query | None:
        """A keypad key; the 11th digit of a Chinese mobile goes on by itself (one tap
        less for everyone: the number is complete). Other numbers use "Next"."""
        self.phone_key(key)
        if self.phone is None and _CHINESE_MOBILE.fullmatch(self.phone_digits):
            return self.phone_next()
        return None

    def skip_phone(self) -> Query | None:
        if self.step != PHONE or self.phone_required:
            return None
        self.phone, self.phone_digits = None, ""
        return self.phone_next()

    def _after_phone(self) -> None:
        self.returning, self.returning_name = False, None
        self.step = NAME

    # -- unit (UnitEntry), purpose, party size, submit ---------------------------
    def unit_submit(self, language: str) -> Query | Enqueue | None:
        """ "Register" on the unit step: visiting, one person (the usual case; the purpose
        step is one tap away) — sent as soon as the unit is accepted (follow_up)."""
        if self.step != UNIT:
            return None
        self.submit_after_unit = language
        if self.unit_checking:
            return None  # a second tap while the unit is checked: the answer sends it once
        query = self.unit_next()
        if query is None:
            return self.follow_up()  # accepted at once (offline), or refused: no submit
        return query

    def follow_up(self) -> Enqueue | None:
        """After an answer: the registration "Register" asked for, once the unit is in."""
        if self.step == UNIT and self.unit_checking:
            return None  # still waiting for the unit's answer
        language, self.submit_after_unit = self.submit_after_unit, None
        if language is None or self.step != PURPOSE:
            return None
        return self.submit(language)

    def unit_key(self, key: str) -> None:
        self.submit_after_unit = None  # a new unit: "Register" is asked again
        super().unit_key(key)

    def pick_purpose(self, purpose: str) -> None:
        if self.step == PURPOSE and purpose in PURPOSES:
            self.purpose = purpose

    def change_party(self, delta: int) -> None:
        if self.step == PURPOSE:
            self.party_size = max(1, min(MAX_PARTY_SIZE, self.party_size + delta))

    def submit(self, language: str) -> Enqueue | None:
        """What to queue: the POST /api/v1/visits body (shared.visitors.validate_registration)."""
        if self.step != PURPOSE or self.unit is None:
            return None
        if self.returning and not self.phone:
            return None
        if not self.returning and not self.name:
            return None
        body: dict = {}
        if self.returning:
            body["returning"] = True
        else:
            body["name"] = self.name
        if self.phone:
            body["phone"] = self.phone
        body.update(
            unit=self.unit,
            purpose=self.purpose,
            party_size=self.party_size,
            language=language,
            created_at=to_iso(self.clock.now()),
        )
        self.step = OUTCOME
        self.state = SAVING
        self.saved_at = self.clock.now()
        self.outcome_unit = self.unit
        return Enqueue(KIND, PATH, body)

    # -- outcome events ------------------------------------------------------------
    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, (WAITING, OFFLINE)):
            return False
        self.state = SENT
        visit_id = (response or {}).get("id")
        self.visit_id = visit_id if isinstance(visit_id, int) else None
        early = self._early_events.pop(self.visit_id, None)
        self._early_events.clear()
        if early is not None:
            self.on_feed_event(early)
        return True

    def on_feed_event(self, event: dict) -> bool:
        kind = event.get("kind")
        payload = event.get("payload") or {}
        visit_id = payload.get("visit_id")
        if kind == EVENT_REOPENED:
            return self._reopened(visit_id)
        if kind not in (EVENT_CONFIRMED, EVENT_DENIED) or not isinstance(visit_id, int):
            return False
        if self.state in (WAITING, OFFLINE) and self.visit_id is None:
            # Staff decided before our POST's answer arrived (a lost answer, resent).
            self._early_events[visit_id] = event
            return False
        if visit_id != self.visit_id or self.state != SENT:
            return False
        self.decided = True
        if kind == EVENT_DENIED:
            self.state = DENIED
            return True
        token = payload.get("pass_token")
        self.pass_token = token if isinstance(token, str) and token else None
        self.directions = {
            "zh_CN": str(payload.get("directions_zh") or ""),
            "en": str(payload.get("directions_en") or ""),
        }
        self.outcome_unit = str(payload.get("unit") or self.outcome_unit)[:12]
        self.state = CONFIRMED
        return True

    def _reopened(self, visit_id) -> bool:
        """An undone decision: back to "please wait"; the pass shown no longer works."""
        if visit_id != self.visit_id or self.state not in (CONFIRMED, DENIED):
            return False
        self.state, self.decided, self.pass_token = SENT, False, None
        return True

    # -- what to show --------------------------------------------------------------
    def elapsed_seconds(self, now: datetime | None = None) -> int:
        if self.saved_at is None:
            return 0
        return max(0, int(((now or self.clock.now()) - self.saved_at).total_seconds()))

    def reminded(self, now: datetime | None = None) -> bool:
        """Past 60 s without a decision: the console's queue has turned the row red."""
        return self.state == SENT and self.elapsed_seconds(now) >= REMIND_AFTER_SECONDS

    def outcome_key(self, now: datetime | None = None) -> str:
        if self.state == WAITING and not self.online:
            return "visitor.outcome.offline"
        if self.state == SENT and self.reminded(now):
            return "visitor.outcome.reminded"
        if self.state == FAILED:
            return _FAILURES.get(self.failure_code or "", "visitor.failed.refused")
        return _OUTCOME_KEYS[self.state]

    def outcome_detail_key(self, now: datetime | None = None) -> str | None:
        if self.state == WAITING and not self.online:
            return "visitor.outcome.offline_detail"
        return {
            OFFLINE: "visitor.outcome.offline_detail",
            SENT: "visitor.outcome.wait_here",
            CONFIRMED: "visitor.outcome.pass_hint" if self.pass_token else None,
            DENIED: "visitor.outcome.see_reception",
            FAILED: "visitor.failed.next",
        }.get(self.state)

    @property
    def shows_elapsed(self) -> bool:
        return self.state in (WAITING, SENT)

    @property
    def unit_note_key(self) -> str | None:
        """On the purpose step: the unit could not be checked now (offline)."""
        return "visitor.unit.unchecked" if self.unit and not self.unit_checked else None

    @property
    def step_number(self) -> int:
        """1-based position for "step 2 of 4" (returning visitors see the same count)."""
        order = {PRIVACY: 1, PHONE: 1, RETURNING: 2, NAME: 2, UNIT: 3, PURPOSE: 4}
        return order.get(self.step, 0)
