"""A repair ticket's progress at the kiosk, and the resident's rating (S5).

    idle ─begin─▶ entry ─scanned QR / number + unit─▶ looking ─answer─▶ found
    looking ─not found, bad QR, offline, throttled─▶ entry (a clear message: what next)
    found by QR ─4★ / 5★──────────────────▶ rating (queued) ─on_acked─▶ thanks
                ─1★–3★ ─▶ (reasons chips) ─submit─▶ rating  ─on_dead──▶ failed
    found by number + unit ─scanned QR─▶ found (checking the QR) ─answer─▶ found by QR

Only the ticket's signed QR rates it: the console refuses a rating by number +
unit (400 rating_needs_qr), since a ticket number is sequential and a unit no
secret. A ticket found by number + unit shows its status and latest update, and
asks the resident to scan the QR on the ticket to rate it (the scanner works on
that screen too). The console throttles number + unit look-ups that miss, per
kiosk (429 too_many_attempts): the resident is told to try later or ask at the desk.

The lookup is a read (QueryWorker, POST /api/v1/tickets/lookup); the rating is a
write through the outbox (POST /api/v1/tickets/rating, idempotent), so it is
kept even when the kiosk goes offline. The QR that found the ticket is kept only
while this resident is at the screen (a number + unit only until the answer):
`reset()` forgets everything, and the QR leaves the view-model once the rating
is queued.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.client import PERMANENT, Result
from kiosk.viewmodels.contract import ENTRY, FAILED, IDLE, SAVING, FlowModel  # noqa: F401  (this flow's states)
from kiosk.viewmodels.digit_entry import KeypadEntry, TwoFieldEntry
from kiosk.viewmodels.effects import Enqueue, Query
from shared import terms
from shared import ticket_catalog as catalog
from shared.errors import LobbyDeskError

LOOKING = "looking"
FOUND = "found"
RATING = "rating"  # queued: saving, waiting, offline
THANKS = "thanks"

# rating states (while RATING; and SAVING)
WAITING = "waiting"
OFFLINE = "offline"

NUMBER, UNIT = "number", "unit"
BY_QR, BY_NUMBER = "qr", "number"  # how the shown ticket was found
KIND = "ticket.rating"
PATH = "/api/v1/tickets/rating"
MAX_NUMBER_CHARS = 9
MAX_UNIT_CHARS = 8
MAX_QR_CHARS = 2048
MAX_TEXT_CHARS = 300  # a staff update as shown on the kiosk
STATUSES = ("new", "assigned", "in_progress", "resolved", "closed")

# 409s the outbox would retry, though they are final for a rating (the app withdraws them)
FINAL_CONFLICTS = ("ticket_already_rated", "ticket_not_resolved")

THROTTLED = "too_many_attempts"  # 429: too many number + unit look-ups missed here

_LOOKUP_ERRORS = {
    "ticket_not_found": "ticket.error.not_found",
    "token_invalid": "ticket.error.bad_qr",
    "token_expired": "ticket.error.expired_qr",
}
# a QR scanned on the screen of a ticket found by number + unit, to rate it
_RESCAN_ERRORS = {
    "token_expired": "ticket.rescan.expired_qr",
}
_RATING_FAILURES = {
    "ticket_already_rated": "ticket.rating.failed.already",
    "ticket_not_resolved": "ticket.rating.failed.not_resolved",
    "ticket_not_found": "ticket.rating.failed.refused",
    "rating_needs_qr": "ticket.rating.failed.needs_qr",
    "not_saved": "ticket.rating.failed.not_saved",
}


def low_rating() -> int:
    return catalog.LOW_RATING


def reasons() -> list[tuple[str, str, str]]:
    """(key, 中文, English) of the reasons offered for a low rating, in order."""
    return [tuple(reason) for reason in catalog.LOW_RATING_REASONS]


def _label(key_path: str, language: str) -> str:
    try:
        return catalog.label(key_path, language)
    except LobbyDeskError:
        return ""


def summary_from(body: dict | None) -> dict | None:
    """The console's resident_summary, checked: only what the kiosk shows."""
    if not isinstance(body, dict):
        return None
    number = body.get("number")
    status = body.get("status")
    if not isinstance(number, str | int) or isinstance(number, bool) or status not in STATUSES:
        return None
    update = body.get("latest_update")
    latest = None
    if isinstance(update, dict) and isinstance(update.get("text"), str):
        at = update.get("at")
        latest = {"text": update["text"][:MAX_TEXT_CHARS], "at": at if isinstance(at, str) else ""}
    rating = body.get("rating")
    return {
        "number": str(number)[: MAX_NUMBER_CHARS + 3],
        "status": status,
        "category": str(body.get("category") or ""),
        "problem": str(body.get("problem") or ""),
        "urgency": str(body.get("urgency") or ""),
        "latest_update": latest,
        "can_rate": body.get("can_rate") is True,
        "rating": rating if isinstance(rating, int) and not isinstance(rating, bool) else None,
    }


def local_time(iso: str) -> str:
    """ "11-27 17:05" in the kiosk's own time zone; "" when unreadable."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    if moment.tzinfo is None:
        return ""
    return moment.astimezone().strftime("%m-%d %H:%M")


class TicketStatusViewModel(KeypadEntry, FlowModel):
    WAITING_STATES = (RATING,)

    # -- life cycle --------------------------------------------------------
    def reset(self) -> None:
        super().reset()  # an answer for the previous resident is ignored
        self.entry = TwoFieldEntry((NUMBER, MAX_NUMBER_CHARS), (UNIT, MAX_UNIT_CHARS))
        self.error_key: str | None = None
        self.offer_call = False
        self.ident: dict | None = None  # {"qr"} or {"number", "unit"}: finding the ticket
        self.found_by: str | None = None  # BY_QR or BY_NUMBER once found
        self.checking_qr = False  # a QR scanned on a ticket found by number + unit
        self.summary: dict | None = None
        self.rating: int | None = None
        self.reasons: list[str] = []
        self.rating_state: str | None = None

    def back(self) -> None:
        """From the ticket back to the entry (a new lookup); from the entry: leave."""
        if self.state == FOUND:
            self.begin()
        else:
            self.reset()

    # -- entry -------------------------------------------------------------
    @property
    def number_digits(self) -> str:
        return self.entry.digits[NUMBER]

    @property
    def unit_digits(self) -> str:
        return self.entry.digits[UNIT]

    def _clear_error(self) -> None:
        self.error_key, self.offer_call = None, False

    def submit(self) -> Query | None:
        """The big button: "Next" on the number, "Look up" on the unit."""
        if self.state != ENTRY:
            return None
        if not self.number_digits:
            self.entry.field = NUMBER
            self.error_key = "ticket.error.number_empty"
            return None
        if self.field == NUMBER and not self.unit_digits:
            self.error_key = None
            self.entry.field = UNIT
            return None
        if not self.unit_digits:
            self.entry.field = UNIT
            self.error_key = "ticket.error.unit_empty"
            return None
        return self._look_up({"number": self.number_digits, "unit": self.unit_digits})

    def scanned(self, text) -> Query | None:
        """The USB scanner typed the ticket QR's text and Enter: on the entry, or on
        a ticket found by number + unit (to rate it)."""
        if not isinstance(text, str):
            return None
        rescan = self.state == FOUND
        if rescan and (not self.scan_to_rate or self.checking_qr):
            return None
        if not rescan and self.state != ENTRY:
            return None
        token = text.strip()
        if not token:
            return None
        if len(token) > MAX_QR_CHARS or any(ch.isspace() for ch in token):
            self.error_key = "ticket.rescan.bad_qr" if rescan else "ticket.error.bad_qr"
            return None
        return self._look_up({"qr": token})

    def _look_up(self, body: dict) -> Query | None:
        self.error_key, self.offer_call = None, False
        if not self.online:
            self.error_key = (
                "ticket.rescan.offline" if self.state == FOUND else "ticket.error.offline"
            )
            self.offer_call = self.state == ENTRY
            return None
        self.ident = body
        if self.state == FOUND:  # the ticket stays on screen while its QR is checked
            self.checking_qr = True
        else:
            self.state = LOOKING
        return Query("lookup_ticket", (dict(body),), "on_lookup", self.generation)

    def on_lookup(self, generation: int, result: Result) -> bool:
        rescan = self.state == FOUND and self.checking_qr
        if generation != self.generation or not (self.state == LOOKING or rescan):
            return False
        self.checking_qr = False
        summary = summary_from(result.body) if result.ok else None
        by_qr = bool(self.ident and "qr" in self.ident)
        if summary is not None:
            self.summary = summary
            self.found_by = BY_QR if by_qr else BY_NUMBER
            if not by_qr:
                self.ident = None  # a number + unit cannot rate: nothing to keep
            self.entry.clear()
            self.error_key, self.offer_call = None, False
            self.state = FOUND
            return True
        self.ident = None
        if rescan:  # the ticket found by number + unit stays; say why the QR did not work
            if result.ok or result.outcome != PERMANENT:
                self.error_key = "ticket.rescan.offline"
            else:
                self.error_key = _RESCAN_ERRORS.get(result.error_code or "", "ticket.rescan.bad_qr")
            return True
        self.state = ENTRY
        if result.ok:  # an answer the kiosk cannot read
            self.error_key, self.offer_call = "ticket.error.offline", True
        elif result.error_code == THROTTLED:  # 429: not "offline", and not worth a retry now
            self.error_key, self.offer_call = "ticket.error.throttled", True
        elif result.outcome == PERMANENT:
            key = _LOOKUP_ERRORS.get(result.error_code or "")
            if key is None:
                key = "ticket.error.bad_qr" if by_qr else "ticket.error.not_found"
            self.error_key = key
            self.offer_call = key == "ticket.error.not_found"
            if key == "ticket.error.not_found":
                self.entry.field = NUMBER
        else:  # no connection, 5xx, not authorised
            self.error_key, self.offer_call = "ticket.error.offline", True
        return True

    # -- rating ------------------------------------------------------------
    @property
    def can_rate(self) -> bool:
        """The five buttons: only for a ticket found by its QR (the console rates by QR only)."""
        return (
            self.state == FOUND
            and self.found_by == BY_QR
            and bool(self.summary and self.summary["can_rate"])
        )

    @property
    def scan_to_rate(self) -> bool:
        """A ticket found by number + unit that could be rated: scan its QR here to rate it."""
        return (
            self.state == FOUND
            and self.found_by == BY_NUMBER
            and bool(self.summary and self.summary["can_rate"])
        )

    @property
    def asks_reasons(self) -> bool:
        return self.can_rate and self.rating is not None and self.rating <= low_rating()

    def rate(self, stars) -> Enqueue | None:
        """One of the five big buttons: 4–5 send at once, 1–3 ask why first."""
        if not self.can_rate or not isinstance(stars, int) or not 1 <= stars <= 5:
            return None
        self.rating = stars
        if stars <= low_rating():
            return None
        self.reasons = []
        return self._send_rating()

    def toggle_reason(self, key: str) -> None:
        if not self.asks_reasons or key not in {r[0] for r in reasons()}:
            return
        if key in self.reasons:
            self.reasons.remove(key)
        else:
            self.reasons.append(key)

    def submit_rating(self) -> Enqueue | None:
        if not self.asks_reasons:
            return None
        return self._send_rating()

    def _send_rating(self) -> Enqueue | None:
        qr = (self.ident or {}).get("qr")
        if not qr or self.rating is None:
            return None
        order = [r[0] for r in reasons()]
        body = {
            "qr": qr,
            "rating": self.rating,
            "reasons": sorted(self.reasons, key=order.index),
        }
        self.state, self.rating_state = RATING, SAVING
        return Enqueue(KIND, PATH, body)

    def on_saved(self, outbox_id: int) -> None:
        if self.state == RATING and self.rating_state == SAVING:
            self.outbox_id = outbox_id
            self.rating_state = WAITING if self.online else OFFLINE
            self.ident = None  # the outbox has it now

    def on_save_failed(self) -> None:
        if self.state == RATING and self.rating_state == SAVING:
            self.state, self.failure_code = FAILED, "not_saved"

    def on_acked(self, outbox_id: int, response: dict | None) -> bool:
        if not self.is_ours(outbox_id, (RATING,)):
            return False
        summary = summary_from(response)
        if summary is not None:
            self.summary = summary
        self.state = THANKS
        return True

    # -- what to show ------------------------------------------------------
    @property
    def number_display(self) -> str:
        return self.number_digits

    @property
    def unit_display(self) -> str:
        return self.unit_digits

    def status_words(self, language: str) -> str:
        """The found ticket's status in one language, from the one catalogue of words
        (shared/terms.py): the kiosk says what the console and the messages say."""
        return terms.term("ticket_status", self.summary["status"], language) if self.summary else ""

    def what(self, language: str) -> str:
        """ "水管/漏水 · 水龙头漏水" for the found ticket."""
        if not self.summary:
            return ""
        category, problem = self.summary["category"], self.summary["problem"]
        parts = [_label(category, language), _label(f"{category}.{problem}", language)]
        return " · ".join(part for part in parts if part)

    @property
    def latest_text(self) -> str:
        update = (self.summary or {}).get("latest_update")
        return update["text"] if update else ""

    @property
    def latest_at(self) -> str:
        update = (self.summary or {}).get("latest_update")
        return local_time(update["at"]) if update else ""

    def rating_note(self) -> tuple[str | None, dict]:
        """(key, values) of the line under the ticket about rating it, if any."""
        if not self.summary or self.state != FOUND:
            return None, {}
        if self.summary["rating"]:
            return "ticket.rate.rated", {"n": self.summary["rating"]}
        if self.found_by == BY_NUMBER:
            return ("ticket.rate.scan" if self.scan_to_rate else "ticket.rate.later_scan"), {}
        if not self.can_rate:
            return "ticket.rate.later", {}
        return None, {}

    def outcome_keys(self) -> tuple[str | None, str | None]:
        """(title, what to do next) once a rating was given."""
        if self.state == RATING:
            if self.rating_state == SAVING or (self.rating_state == WAITING and self.online):
                return "ticket.rating.sending", None
            return "ticket.rating.saved_offline", "ticket.rating.offline_detail"
        if self.state == THANKS:
            return "ticket.rating.thanks", "ticket.rating.thanks_detail"
        if self.state == FAILED:
            return (
                _RATING_FAILURES.get(self.failure_code or "", "ticket.rating.failed.refused"),
                "ticket.rating.failed.next",
            )
        return None, None
