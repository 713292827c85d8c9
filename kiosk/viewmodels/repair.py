"""A repair request at the kiosk (S5, S8), as a plain state machine the screens display.

Steps (a common repair: the unit's digits, then 5 taps to "submitted"):

    unit ─next─▶ category ─tap─▶ problem ─tap─▶ urgency ─一般 / 紧急─▶ done
                                    │              └─ add a note ─▶ details ─submit─▶ done
                                    └─ an emergency problem ─────────────────────────▶ emergency

The unit is checked with the console when it can be (an unknown unit says so,
and what to do next); offline it is accepted and checked on delivery. The
ticket goes through the outbox, so it is never lost: the done screen says
"saved, it will be sent" until the console acknowledges it, then shows the
ticket number and its QR. An emergency problem is queued the moment it is
tapped and the red instructions screen shows at once, before any network.

Outcome states (done and emergency):

    saving ─on_saved─▶ waiting (online) / offline ─on_acked─▶ sent (number + QR)
    failed: the console refused the ticket (dead-lettered), or it could not be saved

Nothing of one resident is kept for the next: `reset()` forgets everything, and
once the ticket is in the outbox its unit and note leave the view-model (the
outbox holds them until the console acknowledges them).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from kiosk.viewmodels.contract import FAILED, IDLE, OFFLINE, SAVING, WAITING, StepFlowModel  # noqa: F401  (this flow's states)
from kiosk.viewmodels.effects import Enqueue
from kiosk.viewmodels.sos import SOS, SosEntry
from kiosk.viewmodels.unit_entry import UNIT, UnitEntry
from shared import ticket_catalog as catalog
from shared.clock import to_iso
from shared.errors import LobbyDeskError

# steps (UNIT, the first, is imported with UnitEntry, which runs it; IDLE with the contract)
CATEGORY = "category"
PROBLEM = "problem"
URGENCY = "urgency"
DETAILS = "details"
DONE = "done"
EMERGENCY = "emergency"
STEPS = (UNIT, CATEGORY, PROBLEM, URGENCY, DETAILS, DONE, EMERGENCY, SOS)
OUTCOMES = (DONE, EMERGENCY)

# outcome states (SAVING, WAITING, OFFLINE and FAILED: the contract's)
SENT = "sent"
UNACKED = (SAVING, WAITING, OFFLINE)

KIND = "ticket.create"
PATH = "/api/v1/tickets"
NORMAL, URGENT = "normal", "urgent"
CHOICES = (NORMAL, URGENT)  # what a resident picks; an emergency problem forces "emergency"
MAX_NOTE_CHARS = 300  # typed text; with the tapped places it stays under MAX_DESCRIPTION
MAX_DESCRIPTION = 500  # shared.tickets.MAX_DESCRIPTION
MAX_NUMBER_CHARS = 12
MAX_QR_CHARS = 2048
HOLD_SCREEN_SECONDS = 300  # the emergency screen outlasts the idle reset, up to this

# "Where is it?" on the details step: built from taps (no pinyin input on the kiosk).
PLACES = (
    ("kitchen", "厨房", "Kitchen"),
    ("bathroom", "卫生间", "Bathroom"),
    ("living_room", "客厅", "Living room"),
    ("bedroom", "卧室", "Bedroom"),
    ("balcony", "阳台", "Balcony"),
    ("corridor", "楼道/走廊", "Corridor"),
)
_PLACE_KEYS = tuple(key for key, _zh, _en in PLACES)

SETTINGS_KEY = "repair_settings"  # kiosk_state: cached from GET /api/v1/settings
DEFAULT_SETTINGS = {
    "ticket_sla_minutes": {"emergency": 15, "urgent": 240, "normal": 4320},
    "desk_phone": "",
}

_FAILURES = {
    "unknown_unit": "repair.failed.unknown_unit",
    "invalid_request": "repair.failed.invalid",
    "not_saved": "repair.failed.not_saved",
}


def settings_from(body: dict | None) -> dict:
    """The repair settings out of GET /api/v1/settings (or the cached copy), checked."""
    body = body if isinstance(body, dict) else {}
    minutes = dict(DEFAULT_SETTINGS["ticket_sla_minutes"])
    given = body.get("ticket_sla_minutes")
    if isinstance(given, dict):
        for urgency in minutes:
            value = given.get(urgency)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                minutes[urgency] = value
    phone = body.get("desk_phone")
    phone = phone.strip()[:40] if isinstance(phone, str) else ""
    return {"ticket_sla_minutes": minutes, "desk_phone": phone}


def categories() -> list:
    """The catalog's categories, in its order."""
    found = catalog.CATEGORIES
    return list(found.values() if isinstance(found, dict) else found)


def duration_key(minutes: int) -> tuple[str, dict]:
    """(translation key, values) for "within 3 days" / "within 4 hours" / "within 15 minutes":
    the entry has a form for one and for other counts (shared.i18n picks it by n)."""
    if minutes >= 1440 and minutes % 1440 == 0:
        return "repair.within.days", {"n": minutes // 1440}
    if minutes >= 60 and minutes % 60 == 0:
        return "repair.within.hours", {"n": minutes // 60}
    return "repair.within.minutes", {"n": minutes}


def clean_note(text: str) -> str:
    """Typed text as it can be sent: control characters dropped (newlines kept), cut."""
    kept = "".join(ch for ch in text if ch == "\n" or not unicodedata.category(ch).startswith("C"))
    return kept[:MAX_NOTE_CHARS]


class RepairViewModel(SosEntry, UnitEntry, StepFlowModel):
    UNIT_EMPTY_ERROR = "repair.unit.error_empty"
    UNIT_UNKNOWN_ERROR = "repair.unit.error_unknown"
    STEP_AFTER_UNIT = CATEGORY
    FIRST_STEP = UNIT  # "Repair" tapped on the home screen
    WAITING_STATES = UNACKED
    settings_from = staticmethod(settings_from)

    # -- life cycle --------------------------------------------------------
    def reset(self) -> None:
        """Forget this resident entirely (idle timeout, Done, leaving the flow)."""
        super().reset()
        self._forget_unit()
        self.category_key: str | None = None
        self.problem_key: str | None = None
        self.urgency = NORMAL
        self.places: list[str] = []
        self.note = ""
        self.number = ""
        self.qr = ""
        self.expected_minutes: int | None = None
        self.hazard: str | None = None
        self.without_unit = False  # the home screen's emergency button: a help call, no ticket

    def holds_screen(self, now: datetime | None = None) -> bool:
        """The emergency instructions stay up past the idle reset (they show nothing
        personal), for HOLD_SCREEN_SECONDS after the alert was saved."""
        return (
            self.step == EMERGENCY
            and self.state != FAILED
            and self.elapsed_seconds(now) < HOLD_SCREEN_SECONDS
        )

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        if self.saved_at is None:
            return 0.0
        return max(0.0, ((now or self.clock.now()) - self.saved_at).total_seconds())

    def back(self) -> None:
        self._set_error(None)
        self.offer_call = False
        if self.step in (UNIT, SOS):
            self.reset()
        elif self.step == CATEGORY:
            self.step = UNIT
        elif self.step == PROBLEM:
            self.step = CATEGORY
        elif self.step == URGENCY:
            self.step = PROBLEM
        elif self.step == DETAILS:
            self.step = URGENCY

    def _set_error(self, key: str | None, **values) -> None:
        self.error_key = key
        self.error_values = values

    # -- 1. the unit (UnitEntry), 2. category, 3. problem --------------------------
    def pick_category(self, key: str) -> None:
        if self.step != CATEGORY:
            return
        try:
            catalog.category(key)
        except LobbyDeskError:
            return
        self.category_key = key
        self.problem_key = None
        self.step = PROBLEM

    @property
    def category(self):
        return catalog.category(self.category_key) if self.category_key else None

    @property
    def problem(self):
        if not (self.category_key and self.problem_key):
            return None
        return catalog.problem(self.category_key, self.problem_key)

    def problems(self) -> list:
        category = self.category
        return list(category.problems) if category else []

    def pick_problem(self, key: str, language: str) -> Enqueue | None:
        """A common problem: on to the urgency, or an emergency, queued at once."""
        if self.step != PROBLEM or not self.category_key:
            return None
        try:
            problem = catalog.problem(self.category_key, key)
        except LobbyDeskError:
            return None
        self.problem_key = key
        if problem.emergency:
            return self._submit("emergency", language)
        self.urgency = NORMAL
        self.step = URGENCY
        return None

    # -- 4. urgency (submits), or the optional details -------------------------
    def submit(self, urgency: str, language: str) -> Enqueue | None:
        """一般 Normal / 紧急 Urgent on the urgency step: sent at once."""
        if self.step != URGENCY or urgency not in CHOICES:
            return None
        return self._submit(urgency, language)

    def add_details(self) -> None:
        if self.step == URGENCY:
            self.step = DETAILS

    def pick_urgency(self, urgency: str) -> None:
        if self.step == DETAILS and urgency in CHOICES:
            self.urgency = urgency

    def toggle_place(self, key: str) -> None:
        if self.step != DETAILS or key not in _PLACE_KEYS:
            return
        if key in self.places:
            self.places.remove(key)
        else:
            self.places.append(key)

    def set_note(self, text) -> None:
        """Text from a hardware keyboard or a system input method (optional)."""
        if self.step == DETAILS and isinstance(text, str):
            self.note = clean_note(text)

    @property
    def description(self) -> str:
        """What the details step sends: the tapped places (both languages), then the note."""
        places = [f"{zh} {en}" for key, zh, en in PLACES if key in self.places]
        parts = []
        if places:
            parts.append("位置 Location: " + "、".join(places))
        if self.note.strip():
            parts.append(self.note.strip())
        return "\n".join(parts)[:MAX_DESCRIPTION]

    def submit_details(self, language: str) -> Enqueue | None:
        if self.step != DETAILS:
            return None
        return self._submit(self.urgency, language)

    def _submit(self, urgency: str, language: str) -> Enqueue | None:
        if not (self.unit and self.category_key and self.problem_key):
            return None
        body = {
            "unit": self.unit,
            "category": self.category_key,
            "problem": self.problem_key,
            "urgency": urgency,
            "language": "en" if language == "en" else "zh_CN",
            "created_at": to_iso(self.clock.now()),
        }
        description = self.description if self.step == DETAILS else ""
        if description:
            body["description"] = description
        self.urgency = urgency
        self.hazard = self.problem.hazard if urgency == "emergency" else None
        self.step = EMERGENCY if urgency == "emergency" else DONE
        self.state = SAVING
        self.saved_at = self.clock.now()
        self._set_error(None)
        return Enqueue(KIND, PATH, body)

    # -- 5. outcome events -------------------------------------------------------
    def _clear_personal(self) -> None:
        self.unit_digits, self.unit, self.note, self.places = "", None, "", []

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, UNACKED):
            return False
        body = response if isinstance(response, dict) else {}
        number = body.get("number")
        self.number = number[:MAX_NUMBER_CHARS] if isinstance(number, str) else ""
        if self.without_unit:  # an escalation's id is no ticket number to show
            self.number = ""
        elif not self.number and isinstance(body.get("id"), int):
            self.number = str(body["id"])
        qr = body.get("qr")
        self.qr = qr if isinstance(qr, str) and 0 < len(qr) <= MAX_QR_CHARS else ""
        minutes = body.get("expected_minutes")
        if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
            self.expected_minutes = minutes
        self.state = SENT
        return True

    # -- what to show --------------------------------------------------------------
    @property
    def step_number(self) -> int:
        return {UNIT: 1, CATEGORY: 2, PROBLEM: 3, URGENCY: 4, DETAILS: 4}.get(self.step, 0)

    def sla_minutes(self, urgency: str) -> int:
        return self.settings["ticket_sla_minutes"].get(urgency, 0)

    def expected(self, urgency: str | None = None) -> tuple[str, dict]:
        """(key, values) of the expected time: the console's answer once acked."""
        if urgency is None and self.expected_minutes:
            return duration_key(self.expected_minutes)
        return duration_key(self.sla_minutes(urgency or self.urgency))

    @property
    def desk_phone(self) -> str:
        return self.settings["desk_phone"]

    def instructions(self, language: str) -> list[str]:
        """The hazard's steps from the catalog, in one language."""
        steps = catalog.EMERGENCY_INSTRUCTIONS.get(self.hazard or "", {})
        found = steps.get("en" if language == "en" else "zh_CN", [])
        return [str(s) for s in found]

    def outcome_key(self) -> str | None:
        if self.step == EMERGENCY:
            return {
                SAVING: "repair.emergency.alerting",
                WAITING: "repair.emergency.alerting" if self.online else "repair.emergency.offline",
                OFFLINE: "repair.emergency.offline",
                SENT: "repair.emergency.alerted",
                FAILED: "repair.emergency.failed",
            }.get(self.state or "")
        if self.step != DONE:
            return None
        if self.state == FAILED:
            return _FAILURES.get(self.failure_code or "", "repair.failed.refused")
        if self.state == SENT:
            is_complaint = self.category is not None and self.category.kind == "complaint"
            return "repair.done.sent_complaint" if is_complaint else "repair.done.sent"
        if self.state == SAVING or (self.state == WAITING and self.online):
            return "repair.done.sending"
        return "repair.done.offline"

    def outcome_detail_key(self) -> str | None:
        if self.step == EMERGENCY:
            return "repair.emergency.call_desk" if self.state != SENT else None
        if self.step != DONE:
            return None
        if self.state == FAILED:
            return "repair.failed.next"
        if self.state == SENT:
            return "repair.done.photo_qr" if self.qr else None
        if self.state == SAVING or (self.state == WAITING and self.online):
            return None
        return "repair.done.offline_detail"

    @property
    def failed(self) -> bool:
        return self.state == FAILED
