"""Visitor registration (S2, S10), as a plain state machine the screens display.

Steps, in order (a returning visitor skips the name):

    phone ─▶ (returning? ─yes─▶) ─▶ unit ─▶ purpose ─submit─▶ outcome
      │        ├─ same as last time ─submit─▶ outcome   (one tap: unit and purpose as before)
      │        └─ no / not found ─▶ name ─▶ unit ─▶ …
      └─ details ─▶ privacy (the full notice) ─back─▶ phone

The phone screen carries a one-line notice (who, what, how long: SECURITY 22)
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

from kiosk.client import Result, error_code_of
from kiosk.surnames import MAX_INITIALS, search
from kiosk.viewmodels import phone_entry
from kiosk.viewmodels.effects import Enqueue, Query
from kiosk.viewmodels.unit_entry import MAX_LABEL_CHARS as MAX_UNIT_LABEL
from kiosk.viewmodels.unit_entry import UNIT, UnitEntry
from shared import names, phones
from shared.clock import SystemClock, to_iso

# steps (UNIT is imported with UnitEntry, which runs it)
IDLE = "idle"
PRIVACY = "privacy"
PHONE = "phone"
RETURNING = "returning"
NAME = "name"
PURPOSE = "purpose"
OUTCOME = "outcome"
STEPS = (PRIVACY, PHONE, RETURNING, NAME, UNIT, PURPOSE, OUTCOME)

# outcome states
SAVING = "saving"
WAITING = "waiting"
OFFLINE = "offline"
SENT = "sent"
CONFIRMED = "confirmed"
DENIED = "denied"
FAILED = "failed"
UNDECIDED = (SAVING, WAITING, OFFLINE, SENT)

KIND = "visit.register"
PATH = "/api/v1/visits"
EVENT_CONFIRMED = "visit.confirmed"
EVENT_DENIED = "visit.denied"
EVENT_REOPENED = "visit.reopened"  # reception undid its decision (shared/visit_undo.py)

PURPOSES = ("visit", "delivery", "contractor", "interview", "other")  # shared.visitors.PURPOSES
MAX_PARTY_SIZE = 10
MAX_FULL_NAME_CHARS = 200  # longer input is cut; names.clean refuses > 40 with a message
REMIND_AFTER_SECONDS = 60
HOLD_SCREEN_SECONDS = 300  # the waiting screen outlasts the idle reset, up to this
SURNAME_SLOTS = 24
_CHINESE_MOBILE = re.compile(r"1[3-9]\d{9}")  # complete: no "Next" needed
PICKER, TYPED = "picker", "typed"
TITLES = {"mr": "先生", "ms": "女士"}

DEFAULT_SETTINGS = {
    "visit_retention_days": 90,
    "visitor_phone_required": False,
    "visitor_photo_enabled": False,
}

_NAME_ERRORS = {
    "Please enter a name.": "visitor.name.error_empty",
    f"A name can have at most {names.MAX_NAME_LENGTH} characters.": "visitor.name.error_long",
    "Please use letters only in the name.": "visitor.name.error_letters",
}
_FAILURES = {
    "unknown_unit": "visitor.failed.unknown_unit",
    "returning_visitor_unknown": "visitor.failed.returning_unknown",
    "phone_required": "visitor.failed.phone_required",
    "invalid_phone": "visitor.failed.invalid",
    "invalid_name": "visitor.failed.invalid",
    "not_saved": "visitor.failed.not_saved",
}


def settings_from(body: dict | None) -> dict:
    """The visitor settings out of GET /api/v1/settings (or the cached copy), checked."""
    merged = dict(DEFAULT_SETTINGS)
    for key, default in DEFAULT_SETTINGS.items():
        value = (body or {}).get(key)
        if type(value) is type(default) and (not isinstance(value, int) or value > 0):
            merged[key] = value
    return merged


class VisitorViewModel(UnitEntry):
    UNIT_EMPTY_ERROR = "visitor.unit.error_empty"
    UNIT_UNKNOWN_ERROR = "visitor.unit.error_unknown"
    STEP_AFTER_UNIT = PURPOSE

    def __init__(self, clock=None, settings: dict | None = None):
        self.clock = clock or SystemClock()
        self.online: bool = False
        self.generation = 0
        self.settings = settings_from(settings)
        self.reset()

    # -- life cycle --------------------------------------------------------
    def reset(self) -> None:
        """Forget this visitor entirely (idle timeout, Done, back out of the flow)."""
        self.generation += 1  # answers to earlier queries are now ignored
        self.step = IDLE
        self.error_key: str | None = None
        self.error_values: dict = {}
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
        self.state: str | None = None
        self.outbox_id: int | None = None
        self.visit_id: int | None = None
        self.saved_at: datetime | None = None
        self.decided = False
        self.pass_token: str | None = None
        self.directions = {"zh_CN": "", "en": ""}
        self.outcome_unit = ""
        self.failure_code: str | None = None
        self._early_events: dict[int, dict] = {}

    def _clear_personal(self) -> None:
        self.phone_digits = ""
        self.phone: str | None = None
        self.surname = ""
        self.title = ""
        self.full_name = ""
        self.name: str | None = None

    def begin(self, settings: dict | None = None) -> None:
        """ "Visitor registration" tapped: a fresh flow at the phone, under the one-line notice."""
        self.reset()
        if settings is not None:
            self.settings = settings_from(settings)
        self.step = PHONE

    def apply_settings(self, body: dict | None) -> None:
        self.settings = settings_from(body)

    @property
    def is_reset(self) -> bool:
        return self.step == IDLE

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
        """Digits while typing; masked (138 **** 5678) once entered (SECURITY 24)."""
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

    def on_lookup(self, generation: int, result: Result) -> bool:
        """POST /visitors/lookup answered (or failed: then the visitor types a name)."""
        if generation != self.generation or not self.lookup_pending or self.step != PHONE:
            return False
        self.lookup_pending = False
        body = result.body or {}
        if result.ok and body.get("found") is True and isinstance(body.get("masked_name"), str):
            self.returning_name = body["masked_name"][:20]
            self._remember_last_visit(body)
            self.step = RETURNING
        else:
            self._after_phone()
        return True

    def _remember_last_visit(self, body: dict) -> None:
        unit, purpose = body.get("last_unit"), body.get("last_purpose")
        ok_unit = isinstance(unit, str) and 0 < len(unit) <= MAX_UNIT_LABEL
        self.last_unit = unit if ok_unit else None
        self.last_purpose = purpose if purpose in PURPOSES else PURPOSES[0]

    def same_as_last(self, language: str) -> Enqueue | None:
        """ "Yes, same as last time": the returning visitor, the last unit and purpose, one
        person — sent at once. The console checks the unit again and staff confirm (S2)."""
        if self.step != RETURNING or not self.last_unit or not self.phone:
            return None
        self.returning = True
        self._clear_name()
        self.unit, self.unit_checked = self.last_unit, True
        self.purpose, self.party_size = self.last_purpose, 1
        self.step = PURPOSE
        return self.submit(language)

    def confirm_returning(self, yes: bool) -> None:
        if self.step != RETURNING:
            return
        self.returning = bool(yes)
        if yes:
            self._clear_name()
            self.step = UNIT
        else:
            self.returning_name = None
            self.step = NAME

    # -- name ----------------------------------------------------------------
    def _clear_name(self) -> None:
        self.surname = self.title = self.full_name = self.initials = ""
        self.name = None

    def set_name_mode(self, mode: str) -> None:
        if self.step == NAME and mode in (PICKER, TYPED):
            self.name_mode = mode
            self._set_error(None)

    def letter(self, key: str) -> None:
        """A key of the A–Z pad: search initials (picker) or type a Latin name."""
        if self.step != NAME:
            return
        self._set_error(None)
        if self.name_mode == PICKER:
            if key == "back":
                self.initials = self.initials[:-1]
            elif key in ("clear", "space"):
                self.initials = ""
            elif len(key) == 1 and key.isalpha() and len(self.initials) < MAX_INITIALS:
                self.initials += key.lower()
            return
        if key == "back":
            self.full_name = self.full_name[:-1]
        elif key == "clear":
            self.full_name = ""
        elif key == "space":
            if self.full_name and not self.full_name.endswith(" "):
                self.full_name += " "
        elif len(key) == 1 and key.isalpha():
            # Capitalise each word's first letter: "emily carter" → "Emily Carter".
            starts_word = not self.full_name or self.full_name.endswith(" ")
            self.set_full_name(self.full_name + (key.upper() if starts_word else key.lower()))

    @property
    def surname_choices(self) -> list[tuple[str, str]]:
        """(surname, pinyin) for the picker's slots, most common first."""
        return [(s.text, s.pinyin) for s in search(self.initials, SURNAME_SLOTS)]

    def pick_surname(self, surname: str) -> None:
        if self.step == NAME:
            self._set_error(None)
            self.name_mode = PICKER
            self.surname = surname

    def pick_title(self, title: str) -> None:
        if self.step == NAME and title in TITLES:
            self._set_error(None)
            self.title = title

    def pick_title_and_go(self, title: str) -> None:
        """先生 / 女士 after the surname is the last tap of the name: on to the unit."""
        self.pick_title(title)
        if self.step == NAME and self.name_mode == PICKER and self.surname and self.title:
            self.name_next()

    def set_full_name(self, text: str) -> None:
        """Text from the on-screen letters, a hardware keyboard or a system input method."""
        if self.step != NAME or not isinstance(text, str):
            return
        text = text[:MAX_FULL_NAME_CHARS]
        if text != self.full_name:
            self._set_error(None)
            self.full_name = text
        if text:
            self.name_mode = TYPED

    @property
    def name_preview(self) -> str:
        """张先生 (picker) or the typed name, as it will be stored."""
        if self.name_mode == TYPED:
            return self.full_name
        return self.surname + TITLES.get(self.title, "")

    def name_next(self) -> None:
        if self.step != NAME:
            return
        if self.name_mode == PICKER:
            if not self.surname:
                self._set_error("visitor.name.error_surname")
                return
            if not self.title:
                self._set_error("visitor.name.error_title")
                return
        try:
            self.name = names.clean(self.name_preview)
        except names.InvalidName as error:
            self._set_error(_NAME_ERRORS.get(str(error), "visitor.name.error_invalid"))
            return
        self._set_error(None)
        self.step = UNIT

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
    def on_saved(self, outbox_id: int) -> None:
        if self.state != SAVING:
            return
        self.outbox_id = outbox_id
        self.state = WAITING if self.online else OFFLINE
        self.saved_at = self.clock.now()
        self._clear_personal()  # the outbox has it now, until the console acknowledges

    def on_save_failed(self) -> None:
        if self.state == SAVING:
            self.state = FAILED
            self.failure_code = "not_saved"

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if outbox_id != self.outbox_id or self.state not in (WAITING, OFFLINE):
            return False
        self.state = SENT
        visit_id = (response or {}).get("id")
        self.visit_id = visit_id if isinstance(visit_id, int) else None
        early = self._early_events.pop(self.visit_id, None)
        self._early_events.clear()
        if early is not None:
            self.on_feed_event(early)
        return True

    def on_dead(self, outbox_id: int, error: str = "") -> bool:
        if outbox_id != self.outbox_id or self.state not in UNDECIDED:
            return False
        self.state = FAILED
        self.failure_code = error_code_of(error) or "refused"
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

    def on_online(self, online: bool) -> None:
        self.online = online

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
        return f"visitor.outcome.{self.state}"

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
